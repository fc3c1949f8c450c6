"""Run the floor input-stage benchmark (same as ``cadence bench features``).

    python benches/bench_features.py --markdown benches/results/features.md
"""

import sys

from cadence.bench.features import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
