"""Run the AudioRing / Framer benchmark (same as ``cadence bench ring``).

    python benches/bench_ring.py --markdown benches/results/ring.md
"""

import sys

from cadence.bench.ring import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
