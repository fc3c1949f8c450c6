"""Run the echo-cancellation benchmark (same as ``cadence bench aec``).

    cadence corpus floor --out /tmp/floor --n 1000 --seed 1000
    python benches/bench_aec.py --corpus /tmp/floor/test --pairs 24 --markdown benches/results/aec.md
"""

import sys

from cadence.bench.aec import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
