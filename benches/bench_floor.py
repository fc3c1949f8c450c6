"""Run the turn-taking benchmark (same as ``cadence bench floor``).

    cadence corpus floor --out /tmp/floor --n 1000 --seed 1000
    python benches/bench_floor.py --corpus /tmp/floor/test --patience 0.3,0.5,0.7,0.9 \
        --json /tmp/floor.json --markdown benches/results/floor.md
"""

import sys

from cadence.floor.bench import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
