"""``cadence train heads``: fit the floor model's optional linear heads on the frozen networks.

    cadence train heads --weights IN.npz --corpus DIR/train [--corpus DIR2/train ...]
                        --out OUT.npz [--heads voice,pause] [--files 150] [--check DIR/dev]

Each head is a logistic regression on the frame's GRU state and conv output
(``_Member.head_inputs``), fitted per network with the networks frozen, so the five
trained outputs stay bit-identical and a head takes minutes, not a training run.

* ``voice`` (against ``labels.voice_target``: the user's own speech segments, from
  the synthesis timings). The policy's old notion of "the user is speaking" was
  Silero VAD plus an energy rule; Silero fires on any talk, so in background babble
  the silence after a turn never started and the persona never answered.
* ``pause`` (against ``labels.pause_samples``: frames 50–500 ms into each pause, 1 in
  a hold, 0 after a shift). ``keep`` is fitted on every frame, most of them easy
  (speech, long gaps); this head spends its capacity where the commit is decided.

``--check`` prints, on a labelled split, how often the user's speech is detected and
how often a frame without it is taken for speech, by the VAD rule and with the voice
head, per noise kind (files under 25 dB SNR; ``clean`` otherwise), and the hold/shift
AUC 100 ms into each pause of ``keep`` and of the pause head.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from cadence.errors import InvalidArgumentError
from cadence.floor.labels import pause_samples, voice_target
from cadence.floor.model import HEADS, PAUSE, VOICE, FloorModel, _Member, load_members
from cadence.floor.policy import heard_speech
from cadence.floor.separability import hold_shift_auc

L2 = 1e-4  # ridge on the head's weights (the inputs are tanh / GRU states in [-1, 1])
VOICE_STRIDE = 3  # the voice head uses every third frame (neighbours are near copies)


def head_data(member: _Member, data: list[tuple[np.ndarray, dict[str, Any]]],
              heads: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per head, (inputs, targets) of its training frames in each file: one pass of the
    network over every file (state reset per file) serves all ``heads``."""
    zs: dict[str, list[np.ndarray]] = {h: [] for h in heads}
    ys: dict[str, list[np.ndarray]] = {h: [] for h in heads}
    for x, entry in data:
        member.reset()
        z = member.head_inputs(x)
        if "voice" in heads:
            zs["voice"].append(z[::VOICE_STRIDE])
            ys["voice"].append(voice_target(entry, len(x))[::VOICE_STRIDE])
        if "pause" in heads:
            idx, y = pause_samples(entry, len(x))
            zs["pause"].append(z[idx])
            ys["pause"].append(y)
    return {h: (np.concatenate(zs[h]), np.concatenate(ys[h])) for h in heads}


def fit_head(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression (L-BFGS, small ridge): weights (width,), bias."""
    import torch

    if len(np.unique(y)) < 2:
        raise InvalidArgumentError("a head needs training frames of both classes")
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


def check(model: FloorModel, data: list[tuple[np.ndarray, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Voice: per noise group and rule, voice recall and the false-speech share of
    non-voice frames. Pause: hold/shift AUC of 1 − keep and of 1 − pause."""
    counts: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(4))
    outputs = []
    for x, entry in data:
        model.reset()
        probs = model.process(x)
        outputs.append((probs, entry))
        truth = voice_target(entry, len(x)) > 0
        meta = entry.get("meta", {})
        group = str(meta.get("noise")) if float(meta.get("snr_db", 99.0)) < 25.0 else "clean"
        heard = heard_speech(x)
        for rule, pred in (("vad", heard), ("vad+head", heard & (probs[:, VOICE] >= 0.5))):
            counts[(group, rule)] += [(pred & truth).sum(), (~pred & truth).sum(),
                                      (pred & ~truth).sum(), (~pred & ~truth).sum()]
    out: dict[str, dict[str, Any]] = {}
    for (group, rule), (tp, fn, fp, tn) in sorted(counts.items()):
        out[f"voice {group} {rule}"] = {"voice_recall": tp / max(1.0, tp + fn),
                                        "false_speech": fp / max(1.0, fp + tn)}
    out["pause auc"] = {"keep": hold_shift_auc(outputs)["auc"],
                        "pause": hold_shift_auc(outputs, column=PAUSE)["auc"]}
    return out


def _split_data(split: Path, files: int, jobs: int) -> list[tuple[np.ndarray, dict[str, Any]]]:
    from cadence.floor.train import _read_manifest, load_split

    feats = load_split(split, jobs)
    entries = _read_manifest(split)
    if not any(e.get("meta", {}).get("segments") for e in entries):
        raise InvalidArgumentError(f"{split}: no meta.segments (speech timings) to fit the heads on")
    return [(x, e) for (x, _y, _w), e in list(zip(feats, entries))[:files]]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence train heads", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True, type=Path, help="trained floor model (.npz)")
    ap.add_argument("--corpus", required=True, type=Path, action="append",
                    help="a split folder with manifest.jsonl and meta.segments (repeat)")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--heads", default=",".join(HEADS), help=f"which heads to fit (of {','.join(HEADS)})")
    ap.add_argument("--files", type=int, default=150, help="files used per split")
    ap.add_argument("--check", type=Path, default=None, help="a labelled split to report on")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    heads = [h for h in args.heads.split(",") if h]
    if not heads or any(h not in HEADS for h in heads):
        raise InvalidArgumentError(f"--heads {args.heads!r}: expected names from {HEADS}")
    if args.files < 1:
        raise InvalidArgumentError("--files must be at least 1")
    FloorModel(args.weights)  # refuses a file that is not a floor model, with the reason
    members = load_members(args.weights)
    data = [d for split in args.corpus for d in _split_data(split.resolve(), args.files, args.jobs)]
    arrays: dict[str, np.ndarray] = {}
    for k, p in enumerate(members):
        p = dict(p)
        for head, (z, y) in head_data(_Member(p, str(args.weights)), data, heads).items():
            w, b = fit_head(z, y)
            acc = float((((z @ w + b) >= 0) == (y > 0)).mean())
            print(f"member {k}, {head} head: {len(y)} frames, {y.mean():.2f} positive, "
                  f"training accuracy {acc:.3f}", flush=True)
            p[f"{head}_w"], p[f"{head}_b"] = w, np.array(b, np.float32)
        arrays.update({f"m{k}/{n}": v for n, v in p.items()} if len(members) > 1 else p)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)  # type: ignore[arg-type]
    model = FloorModel(args.out)
    print(f"wrote {args.out} ({len(members)} network(s), heads: {', '.join(model.heads)})")
    if args.check:
        for name, r in check(model, _split_data(args.check.resolve(), 10**9, args.jobs)).items():
            print(f"  {name:28s} " + "  ".join(
                f"{k} {'n/a' if v is None else format(v, '.3f')}" for k, v in r.items()))
    return 0
