"""``cadence select floor``: rank ensembles of trained floor networks on dev splits.

    cadence select floor --split DIR/dev [--split DIR2/dev ...] --members A.npz B.npz [...]

Every network in the given weight files (an ensemble file contributes all its members) runs
once per file of each split; then every subset of the networks is scored by the model's own
hold/shift separability (AUC of 1 − P(keep) 100 ms into each pause,
``cadence.floor.separability``), with the subset's probabilities averaged as ``FloorModel``
does at run time. The pick is the subset with the best mean AUC over the splits, where a
subset within ``--tie`` of the best goes to the one with fewer networks (each costs run
time). Write it with ``cadence train floor --combine``. Use dev splits only: selecting on
the split you report is tuning to it. v8 and v9 were chosen on the in-distribution dev splits
(training voices and sentence pools), which rewarded gains that did not carry to test; a
split made with ``cadence corpus floor --voices select --splits dev`` (voices no model and
no test split uses) ranks networks more like test does (benches/results/floor.md). v11 was
chosen on that split together with one that also has unseen phrasing (``--text select``).
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cadence.cores import cores
from cadence.errors import InvalidArgumentError
from cadence.floor.separability import auc, hold_shift_scores
from cadence import cli_args

Split = list[tuple[np.ndarray, dict[str, Any]]]  # per file: (member probs (M, n, heads), entry)


def _pause_scores(split: Split, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(shift scores (m, S), hold scores (m, H)) of each network over a split's pauses."""
    shifts: list[list[float]] = [[] for _ in range(m)]
    holds: list[list[float]] = [[] for _ in range(m)]
    for probs, entry in split:
        for k in range(m):
            s, h = hold_shift_scores(probs[k], entry)
            shifts[k] += s
            holds[k] += h
    return np.asarray(shifts, np.float64), np.asarray(holds, np.float64)


def rank_subsets(splits: Sequence[Split], max_size: int | None = None,
                 tie: float = 0.001) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """All non-empty subsets of the M members, best mean AUC first, and the pick."""
    if not splits or not splits[0]:
        raise InvalidArgumentError("select needs at least one split with files")
    m = splits[0][0][0].shape[0]
    # P(keep) of a subset at a pause = the mean of its networks' P(keep) there, so each
    # network's pause scores are read once and subsets average those, not whole outputs
    scores = [_pause_scores(split, m) for split in splits]
    sizes = range(1, min(m, max_size or m) + 1)
    rows: list[dict[str, Any]] = []
    for sub in (s for k in sizes for s in itertools.combinations(range(m), k)):
        aucs = []
        for shifts, holds in scores:
            a = auc(shifts[list(sub)].mean(0), holds[list(sub)].mean(0))
            if a is None:
                raise InvalidArgumentError("a split has no shift or no hold events to score")
            aucs.append(a)
        rows.append({"members": list(sub), "auc": aucs, "mean": float(np.mean(aucs))})
    rows.sort(key=lambda r: (-r["mean"], len(r["members"])))
    best = rows[0]["mean"]
    pick = min((r for r in rows if r["mean"] >= best - tie), key=lambda r: (len(r["members"]), -r["mean"]))
    return rows, pick


def main(argv: list[str]) -> int:
    from cadence.floor.model import _Member, load_members
    from cadence.floor.train import _read_manifest, load_split

    ap = argparse.ArgumentParser(prog="cadence select floor", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", action="append", required=True, type=Path,
                    help="a dev split folder with manifest.jsonl (repeat)")
    ap.add_argument("--members", nargs="+", required=True, type=Path, metavar="NPZ",
                    help="trained weight files (ensembles contribute each member)")
    ap.add_argument("--max-size", type=int, default=None, help="largest subset to try")
    ap.add_argument("--tie", type=float, default=0.001,
                    help="mean-AUC margin within which fewer networks win")
    ap.add_argument("--jobs", type=cli_args.jobs, default=cores())
    ap.add_argument("--json", type=cli_args.out_file, default=None)
    args = ap.parse_args(argv)
    if args.max_size is not None and args.max_size < 1:
        raise InvalidArgumentError(f"--max-size must be >= 1, got {args.max_size}")
    if not 0.0 <= args.tie < 1.0:
        raise InvalidArgumentError(f"--tie must be in [0, 1), got {args.tie}")
    nets = []
    for path in args.members:
        ms = load_members(path)
        nets += [(str(path) if len(ms) == 1 else f"{path}#{i}", _Member(m, str(path))) for i, m in enumerate(ms)]
    splits: list[Split] = []
    for split_dir in args.split:
        split_dir = split_dir.resolve()
        files: Split = []
        for (x, _y, _w), entry in zip(load_split(split_dir, args.jobs), _read_manifest(split_dir)):
            probs = []
            for _name, net in nets:
                net.reset()
                probs.append(net.process(x))
            files.append((np.stack(probs), entry))
        splits.append(files)
    rows, pick = rank_subsets(splits, args.max_size, args.tie)
    names = [n for n, _ in nets]
    print("networks: " + ", ".join(f"{i} = {n}" for i, n in enumerate(names)))
    print("| networks | " + " | ".join(str(s) for s in args.split) + " | mean |")
    print("|---|" + "---:|" * (len(args.split) + 1))
    for r in rows[:20]:
        mark = " **pick**" if r is pick else ""
        print(f"| {r['members']}{mark} | " + " | ".join(f"{a:.4f}" for a in r["auc"]) + f" | {r['mean']:.4f} |")
    picked = [names[i] for i in pick["members"]]
    print("\npick: " + ", ".join(picked))
    if not any("#" in n for n in picked):
        print("write it with: cadence train floor --combine " + " ".join(picked) + " --out OUT.npz")
    else:  # --combine takes whole files: an ensemble file brings all its members
        print("the pick holds members of ensemble files (FILE#k): pass their single-network "
              "weight files to `cadence train floor --combine`")
    if args.json:
        args.json.write_text(json.dumps({"networks": names, "splits": [str(s) for s in args.split],
                                         "rows": rows, "pick": pick}, indent=1))
    return 0
