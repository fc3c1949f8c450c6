"""``cadence train voice``: fit the floor model's voice head on the frozen networks.

    cadence train voice --weights IN.npz --corpus DIR/train [--corpus DIR2/train ...]
                        --out OUT.npz [--files 150] [--stride 3] [--check DIR/dev]

The policy's old notion of "the user is speaking" was Silero VAD plus an energy
rule. Silero fires on any talk, so in background babble the silence after a turn
never started and the persona never answered (most of the open shifts missed on
the dev splits). The voice head fixes that without retraining: per network, a
logistic regression on the frame's GRU state and conv output (``_Member.head_inputs``)
against ``labels.voice_target`` (the user's own speech segments, from the synthesis
timings). The networks stay frozen, so the other five outputs are bit-identical;
the head adds ``voice_w`` / ``voice_b`` to each member of the written file.

``--check`` prints, on a labelled split, how often the user's speech is detected
and how often a frame without it is taken for speech, by the VAD rule and by the
head, per noise kind (files under 25 dB SNR; ``clean`` otherwise).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from cadence.errors import InvalidArgumentError
from cadence.floor.labels import voice_target
from cadence.floor.model import VOICE, FloorModel, _Member, load_members
from cadence.floor.policy import heard_speech

L2 = 1e-4  # ridge on the head's weights (the inputs are tanh / GRU states in [-1, 1])


def head_data(member: _Member, data: list[tuple[np.ndarray, dict[str, Any]]],
              stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) of every ``stride``-th frame of each file, state reset per file."""
    zs, ys = [], []
    for x, entry in data:
        member.reset()
        zs.append(member.head_inputs(x)[::stride])
        ys.append(voice_target(entry, len(x))[::stride])
    return np.concatenate(zs), np.concatenate(ys)


def fit_head(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression (L-BFGS, small ridge): weights (width,), bias."""
    import torch

    if len(np.unique(y)) < 2:
        raise InvalidArgumentError("the voice head needs frames with and without user speech")
    zt, yt = torch.from_numpy(np.ascontiguousarray(z, np.float32)), torch.from_numpy(y.astype(np.float32))
    lin = torch.nn.Linear(z.shape[1], 1)
    opt = torch.optim.LBFGS(lin.parameters(), max_iter=300, line_search_fn="strong_wolfe")

    def closure() -> Any:
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(lin(zt)[:, 0], yt)
        loss = loss + L2 * (lin.weight**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return lin.weight.detach().numpy()[0].astype(np.float32), float(lin.bias.detach()[0])


def check(model: FloorModel, data: list[tuple[np.ndarray, dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Per noise group and rule: voice recall and the false-speech share of non-voice frames."""
    counts: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(4))
    for x, entry in data:
        model.reset()
        truth = voice_target(entry, len(x)) > 0
        meta = entry.get("meta", {})
        group = str(meta.get("noise")) if float(meta.get("snr_db", 99.0)) < 25.0 else "clean"
        heard = heard_speech(x)
        for rule, pred in (("vad", heard), ("vad+head", heard & (model.process(x)[:, VOICE] >= 0.5))):
            counts[(group, rule)] += [(pred & truth).sum(), (~pred & truth).sum(),
                                      (pred & ~truth).sum(), (~pred & ~truth).sum()]
    out: dict[str, dict[str, float]] = {}
    for (group, rule), (tp, fn, fp, tn) in sorted(counts.items()):
        out[f"{group} {rule}"] = {"voice_recall": tp / max(1.0, tp + fn), "false_speech": fp / max(1.0, fp + tn)}
    return out


def _split_data(split: Path, files: int, jobs: int) -> list[tuple[np.ndarray, dict[str, Any]]]:
    from cadence.floor.train import _read_manifest, load_split

    feats = load_split(split, jobs)
    entries = _read_manifest(split)
    if not any(e.get("meta", {}).get("segments") for e in entries):
        raise InvalidArgumentError(f"{split}: no meta.segments (speech timings) to fit the voice head on")
    return [(x, e) for (x, _y, _w), e in list(zip(feats, entries))[:files]]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence train voice", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True, type=Path, help="trained floor model (.npz)")
    ap.add_argument("--corpus", required=True, type=Path, action="append",
                    help="a split folder with manifest.jsonl and meta.segments (repeat)")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--files", type=int, default=150, help="files used per split")
    ap.add_argument("--stride", type=int, default=3, help="use every k-th frame")
    ap.add_argument("--check", type=Path, default=None, help="a labelled split to report on")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    if args.files < 1 or args.stride < 1:
        raise InvalidArgumentError("--files and --stride must be at least 1")
    FloorModel(args.weights)  # refuses a file that is not a floor model, with the reason
    members = load_members(args.weights)
    data = [d for split in args.corpus for d in _split_data(split.resolve(), args.files, args.jobs)]
    arrays: dict[str, np.ndarray] = {}
    for k, p in enumerate(members):
        z, y = head_data(_Member(p, str(args.weights)), data, args.stride)
        w, b = fit_head(z, y)
        acc = float((((z @ w + b) >= 0) == (y > 0)).mean())
        print(f"member {k}: {len(y)} frames, {y.mean():.2f} voiced, training accuracy {acc:.3f}", flush=True)
        p = {**p, "voice_w": w, "voice_b": np.array(b, np.float32)}
        arrays.update({f"m{k}/{n}": v for n, v in p.items()} if len(members) > 1 else p)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)  # type: ignore[arg-type]
    model = FloorModel(args.out)
    print(f"wrote {args.out} ({len(members)} network(s) with a voice head)")
    if args.check:
        for name, r in check(model, _split_data(args.check.resolve(), 10**9, args.jobs)).items():
            print(f"  {name:22s} voice recall {r['voice_recall']:.3f}  false speech {r['false_speech']:.3f}")
    return 0
