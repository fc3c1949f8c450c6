"""``cadence train judge``: Cadence's own hold/shift head on Smart Turn v3.2's speech encoder.

    cadence train judge --corpus DIR/train [--corpus DIR2/train ...] --out OUT.npz
                        [--weight 1 ...] [--files 200] [--l2 0.01] [--window-s 8]
                        [--check DIR/dev ...]

Smart Turn v3.2 (the ONNX model ``pipecat-ai`` carries) is a Whisper-tiny encoder,
trained on recorded speech, with an attention pool and a small classifier on top,
trained on Pipecat's turn data. On Cadence's synthetic corpora its classifier
separates holds from turn ends poorly (AUC 0.64–0.69), while on a recorded human voice it
does better than Cadence's networks. This fits a logistic regression on the encoder's
pooled 384-d output instead (``turn_judge.EMBEDDING``), against Cadence's labels: one
sample per pause, ``OFFSET_S`` into it — 1 inside a hold longer than that, 0 after a
shift. The audio read is the turn so far, from ``PRE_S`` after the previous turn end
(or the file's start) to the decision point, at most the last 8 s. (The policy hands
the judge the turn from 0.7 s before its first speech, as Pipecat crops it; read that
way, floors/dev gives the packaged head an AUC of 0.807 against 0.797: floor.md.) The encoder stays frozen, so the head is 385 numbers plus the
inputs' mean and scale (a few kB; ``weights/judge_head.npz``).

``--weight K`` (one per ``--corpus``, in order) counts each pause of that corpus K times, so a
few hundred pauses of recorded speech can weigh against thousands of synthetic ones.

``--window-s`` crops each window to its last seconds; the head keeps that length
(``JudgeHead.window_s``) and the policy's judge crops the turn it hands it the same way.
Where a corpus's holds fall late in long turns (the prompt corpora: the window's length alone
separates them, floor.md), a short window keeps the head from learning the turn's length.

``--check`` prints, per labelled split, the hold/shift AUC of Smart Turn's own
classifier and of the head at the same instants.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cadence.cores import cores
from cadence.errors import InvalidArgumentError
from cadence.floor.turn_judge import MAX_WINDOW_S, JudgeHead, SmartTurnJudge, check_window_s
from cadence import cli_args

if TYPE_CHECKING:
    from cadence.floor.bench import CorpusFile
    from cadence.floor.scoring import FileLabels

OFFSET_S = 0.2  # into each pause (the policy asks the judge at smart_turn_at_s = 0.2 s)
PRE_S = 0.1  # the window starts this long after the previous turn end
_RATE = 16000


def pause_windows(labels: FileLabels, n_samples: int,
                  window_s: float = MAX_WINDOW_S) -> list[tuple[int, int, float]]:
    """(first sample, end sample, target) per pause of a file: target 1 in a hold longer than
    ``OFFSET_S`` + 20 ms, 0 after a shift; the window ends ``OFFSET_S`` into the pause and
    starts ``PRE_S`` after the previous shift, at most ``window_s`` (at most 8 s) before its end."""
    check_window_s(window_s)
    pauses = sorted([(t, 0.0) for t in labels.shifts]
                    + [(a, 1.0) for a, b in labels.holds if b - a > OFFSET_S + 0.02])
    prev_shift = -PRE_S
    out: list[tuple[int, int, float]] = []
    for t, y in pauses:
        end = int(round((t + OFFSET_S) * _RATE))
        first = max(int(round((prev_shift + PRE_S) * _RATE)), end - int(round(window_s * _RATE)), 0)
        if end <= n_samples and end - first >= _RATE // 2:
            out.append((first, end, y))
        if y == 0.0:
            prev_shift = t
    return out


def _file_samples(task: tuple[int, CorpusFile, float]) -> tuple[int, list[tuple[float, np.ndarray, float]]]:
    """(the file's index, (Smart Turn's P(complete), embedding, target) per pause of it), each
    read over at most the last ``window_s`` (the task's third item)."""
    from cadence.floor.bench import load_frames

    index, f, window_s = task
    audio = load_frames(f.path).reshape(-1)
    judge = _worker_judge(SmartTurnJudge)
    rows = []
    for first, end, y in pause_windows(f.labels, len(audio), window_s):
        p, emb = judge.judge(audio[first:end])
        rows.append((p, emb, y))
    return index, rows


_JUDGE: Any = None


def _worker_judge(cls: Any) -> Any:
    """One judge (ONNX session) per worker process."""
    global _JUDGE
    if _JUDGE is None:
        _JUDGE = cls()
    return _JUDGE


def split_samples(split: Path, files: int, jobs: int,
                  window_s: float = MAX_WINDOW_S) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Smart Turn's P(complete) (n,), embeddings (n, 384), targets (n,)) over a split's first
    files, each pause read over at most the last ``window_s``."""
    from cadence.floor.bench import load_manifest, map_files

    corpus = load_manifest(str(split), files)  # checked: JSON, labels, audio files
    done = sorted(map_files(_file_samples, [(i, f, window_s) for i, f in enumerate(corpus)], jobs),
                  key=lambda item: item[0])  # file order, whatever order the workers finished in
    rows = [r for _i, per_file in done for r in per_file]
    if not rows:
        raise InvalidArgumentError(f"{split}: no pauses to judge (shift or hold events)")
    return (np.array([r[0] for r in rows], np.float32), np.stack([r[1] for r in rows]).astype(np.float32),
            np.array([r[2] for r in rows], np.float32))


def _check_weights(weights: list[int], corpora: int) -> None:
    if len(weights) != corpora or not all(isinstance(k, int) and k >= 1 for k in weights):
        raise InvalidArgumentError(f"weights (--weight): one whole number >= 1 per corpus ({corpora}), got {weights}")


def fit_judge_head(parts: list[tuple[np.ndarray, np.ndarray]], weights: list[int], l2: float,
                   window_s: float = MAX_WINDOW_S) -> JudgeHead:
    """A head on (embeddings, targets) per corpus, each corpus's pauses counted ``weights[i]``
    times (the inputs' mean and scale too), for windows of ``window_s``."""
    from cadence.floor.heads import fit_head

    _check_weights(weights, len(parts))
    z = np.concatenate([np.tile(emb, (k, 1)) for (emb, _y), k in zip(parts, weights)])
    y = np.concatenate([np.tile(target, k) for (_z, target), k in zip(parts, weights)])
    mean, std = z.mean(axis=0), z.std(axis=0) + 1e-6
    w, b = fit_head((z - mean) / std, y, l2=l2)
    return JudgeHead(mean=mean.astype(np.float32), std=std.astype(np.float32), w=w, b=b, window_s=window_s)


def main(argv: list[str]) -> int:
    from cadence.floor.separability import auc

    ap = argparse.ArgumentParser(prog="cadence train judge", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, type=Path, action="append", help="a labelled split (repeat)")
    ap.add_argument("--out", required=True, type=cli_args.npz_file)
    ap.add_argument("--weight", type=int, action="append", default=None,
                    help="how many times each pause of the matching --corpus counts (one per --corpus; default 1)")
    ap.add_argument("--files", type=int, default=200, help="files used per split")
    ap.add_argument("--l2", type=float, default=0.01, help="ridge on the head's weights (standardised inputs)")
    ap.add_argument("--check", type=Path, action="append", default=[], help="a labelled split to report on")
    ap.add_argument("--window-s", type=float, default=MAX_WINDOW_S,
                    help="the head reads the last this many seconds before the decision point (0.5-8; "
                         "the policy's judge crops the turn so too)")
    ap.add_argument("--jobs", type=cli_args.jobs, default=cores())
    args = ap.parse_args(argv)
    if args.files < 1 or not args.l2 >= 0.0:
        raise InvalidArgumentError("--files must be at least 1 and --l2 at least 0")
    check_window_s(args.window_s)  # these two fail before any audio is read
    weights = args.weight or [1] * len(args.corpus)
    _check_weights(weights, len(args.corpus))
    parts = [split_samples(s.resolve(), args.files, args.jobs, args.window_s)[1:] for s in args.corpus]
    head = fit_judge_head(parts, weights, args.l2, args.window_s)
    head.save(args.out)
    z, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    acc = float(((head.prob_hold(z) >= 0.5) == (y > 0)).mean())
    print(f"wrote {args.out}: {len(y)} pauses ({y.mean():.2f} holds; weights {weights}), "
          f"training accuracy {acc:.3f} (unweighted)")
    for split in args.check:
        p, z, y = split_samples(split.resolve(), 10**9, args.jobs, args.window_s)
        hold = y > 0
        ph = head.prob_hold(z)
        st, hd = auc(list(1 - p[hold]), list(1 - p[~hold])), auc(list(ph[hold]), list(ph[~hold]))
        print(f"  {split}: {len(y)} pauses, hold/shift AUC: Smart Turn {'n/a' if st is None else f'{st:.3f}'}, "
              f"head {'n/a' if hd is None else f'{hd:.3f}'}")
    return 0
