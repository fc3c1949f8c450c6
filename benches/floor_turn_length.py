"""How far the judge's window length alone tells holds from turn ends (floor.md, "A judge head
fitted with human voices, without the turn's length").

    python benches/floor_turn_length.py --corpus /tmp/prmtest_it/prompts --corpus /tmp/floors/dev \
        [--files 1000] [--window-s 8 --window-s 3]

For each split and window, over the pauses ``cadence train judge`` reads (``pause_windows``:
from 0.1 s after the previous turn end to 200 ms into the pause, at most the window): the
hold/shift AUC of the window's length (long = hold; 0.5 = no cue), the median length before a
hold and before a turn end, and the share of windows at the full length. No model is run.
"""

from __future__ import annotations

import argparse

import numpy as np
import soundfile as sf  # type: ignore[import-untyped]

from cadence.floor.bench import load_manifest
from cadence.floor.judge_head import pause_windows
from cadence.floor.protocol import RATE
from cadence.floor.separability import auc


def lengths(split: str, files: int, window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(window lengths in s, targets: 1 hold, 0 turn end) over a split's first ``files``."""
    out: list[tuple[float, float]] = []
    for f in load_manifest(split, files):
        info = sf.info(f.path)
        n = info.frames * RATE // info.samplerate  # the 16 kHz length bench reads
        out += [((end - first) / RATE, y) for first, end, y in pause_windows(f.labels, n, window_s)]
    arr = np.array(out, np.float64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", action="append", required=True, help="a labelled split (repeat)")
    ap.add_argument("--files", type=int, default=1000, help="files read per split")
    ap.add_argument("--window-s", type=float, action="append", default=None, help="window (repeat; default 8 and 3)")
    args = ap.parse_args()
    print("| split | window s | pauses | holds | length AUC (long = hold) | median s before a hold | "
          "before a turn end | full windows |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for split in args.corpus:
        for w in args.window_s or [8.0, 3.0]:
            length, y = lengths(split, args.files, w)
            hold = y > 0
            a = auc(list(length[hold]), list(length[~hold]))
            print(f"| {split} | {w:g} | {len(y)} | {int(hold.sum())} | {'n/a' if a is None else f'{a:.3f}'} | "
                  f"{np.median(length[hold]):.2f} | {np.median(length[~hold]):.2f} | "
                  f"{np.mean(length >= w - 1e-3):.3f} |")


if __name__ == "__main__":
    main()
