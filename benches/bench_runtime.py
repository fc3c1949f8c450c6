"""Thin wrapper: ``python benches/bench_runtime.py [--frames N] ...`` = ``cadence bench runtime``."""

import sys

from cadence.bench.runtime import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
