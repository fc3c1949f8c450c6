"""``cadence train heads``: fit the floor model's optional linear heads on the frozen networks.

    cadence train heads --weights IN.npz --corpus DIR/train [--corpus DIR2/train ...]
                        --out OUT.npz [--heads voice,pause,onset,confirm] [--files 150] [--check DIR/dev] [--echo-cancel]

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
* ``onset`` (against ``onset_samples``: the frames heard as user speech in the first
  250 ms of each barge-in, 1, and of each backchannel, 0, plus every third frame heard
  as user speech near the persona's voice outside those, 0: echo, noise, other talk).
  The policy's pause stage reads it, and must decide within 150 ms; ``bargein`` was
  fitted on whole barge-ins and says little in their first 100 ms.
* ``confirm`` (against ``onset_samples`` with ``CONFIRM_WINDOW``: the same, 100–600 ms
  into each barge-in and backchannel). The policy confirms a barge-in with it: the window where a backchannel
  has ended or is ending and a barge-in goes on.

``--check`` prints, on a labelled split, how often the user's speech is detected and
how often a frame without it is taken for speech, by the VAD rule and with the voice
head, per noise kind (files under 25 dB SNR; ``clean`` otherwise), the hold/shift
AUC 100 ms into each pause of ``keep`` and of the pause head, and the barge-in/backchannel
AUC of ``bargein`` and of the onset head (100 ms after their start) and of the confirm
head (500 ms).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from cadence.cores import cores
from cadence.errors import InvalidArgumentError
from cadence.floor.labels import FRAME_S, pause_samples, voice_target
from cadence.floor.model import BARGEIN, CONFIRM, HEADS, ONSET, PAUSE, VOICE, FloorModel, _Member, load_members
from cadence.floor.policy import _PERSONA, heard_speech
from cadence.floor.separability import auc, hold_shift_auc
from cadence import cli_args

L2 = 1e-4  # ridge on the head's weights (the inputs are tanh / GRU states in [-1, 1])
VOICE_STRIDE = 3  # the voice head uses every third frame (neighbours are near copies)
# the windows (frames after the start of a barge-in or backchannel) the heads are fitted on
ONSET_WINDOW = (0, 25)  # onset: the first 250 ms, before the persona must have stopped
CONFIRM_WINDOW = (10, 60)  # confirm: 100-600 ms, where the barge-in is confirmed


def _onset_starts(entry: dict[str, Any]) -> list[tuple[float, bool]]:
    """(start s, is a barge-in) of each barge-in and backchannel of a manifest entry."""
    return [(float(e["t"]), True) if e["type"] == "bargein" else (float(e["start"]), False)
            for e in entry.get("events", []) if e.get("type") in ("bargein", "backchannel")]


def onset_samples(x: np.ndarray, entry: dict[str, Any],
                  window: tuple[int, int] = ONSET_WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """(frame indices, targets) for the onset head (and, with ``CONFIRM_WINDOW``, the
    confirm head): the frames the policy hears as user speech (``heard_speech`` with the
    energy-domain echo estimate; the policy's echo rule hears a few fewer over the persona) in
    ``window`` (frames after the start) of each barge-in (1) and backchannel (0), and every
    third such frame within 300 ms of the persona's voice and away from both (0: the echo,
    noise, talk that is not the user's)."""
    heard = heard_speech(x)
    n = len(x)
    persona = x[:, _PERSONA] > -1.0  # the reference above -60 dB, as the policy reads it
    near = np.convolve(persona.astype(np.float32), np.ones(31, np.float32))[:n] > 0
    busy = np.zeros(n, bool)
    idx: list[np.ndarray] = []
    y: list[np.ndarray] = []
    for t, barge in _onset_starts(entry):
        f = int(round(t / FRAME_S))
        busy[max(0, f - 20) : f + 150] = True
        win = np.arange(max(0, f + window[0]), min(f + window[1], n))
        win = win[heard[win]]
        idx.append(win)
        y.append(np.full(len(win), float(barge), np.float32))
    other = np.flatnonzero(heard & near & ~busy)[::VOICE_STRIDE]
    idx.append(other)
    y.append(np.zeros(len(other), np.float32))
    return np.concatenate(idx).astype(np.int64), np.concatenate(y)


def onset_auc(outputs: list[tuple[np.ndarray, np.ndarray, dict[str, Any]]], column: int,
              within_s: float = 0.1) -> float | None:
    """Barge-ins against backchannels: AUC of the highest ``column`` value over the frames
    heard as user speech in the first ``within_s`` of each ((x, probs, entry) per file)."""
    pos: list[float] = []
    neg: list[float] = []
    for x, probs, entry in outputs:
        heard = heard_speech(x)
        for t, barge in _onset_starts(entry):
            f = int(round(t / FRAME_S))
            g = slice(max(0, f), f + int(round(within_s / FRAME_S)) + 1)
            v = float(np.where(heard[g], probs[g, column], 0.0).max(initial=0.0))
            (pos if barge else neg).append(v)
    return auc(pos, neg)


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
        for head, window in (("onset", ONSET_WINDOW), ("confirm", CONFIRM_WINDOW)):
            if head in heads:
                idx, y = onset_samples(x, entry, window)
                zs[head].append(z[idx])
                ys[head].append(y)
    return {h: (np.concatenate(zs[h]), np.concatenate(ys[h])) for h in heads}


def fit_head(z: np.ndarray, y: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    """Logistic regression (L-BFGS, ridge ``l2`` on the weights): weights (width,), bias."""
    import torch

    if len(np.unique(y)) < 2:
        raise InvalidArgumentError("a head needs training frames of both classes")
    zt, yt = torch.from_numpy(np.ascontiguousarray(z, np.float32)), torch.from_numpy(y.astype(np.float32))
    torch.manual_seed(0)  # the same start, so the same data gives the same head
    lin = torch.nn.Linear(z.shape[1], 1)
    opt = torch.optim.LBFGS(lin.parameters(), max_iter=300, line_search_fn="strong_wolfe")

    def closure() -> Any:
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(lin(zt)[:, 0], yt)
        loss = loss + l2 * (lin.weight**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return lin.weight.detach().numpy()[0].astype(np.float32), float(lin.bias.detach()[0])


def check(model: FloorModel, data: list[tuple[np.ndarray, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Voice: per noise group and rule, voice recall and the false-speech share of
    non-voice frames. Pause: hold/shift AUC of 1 − keep and of 1 − pause. Onset:
    barge-in/backchannel AUC of bargein and of onset 100 ms after their start, of bargein
    and of confirm 500 ms after it."""
    counts: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(4))
    outputs = []
    for x, entry in data:
        model.reset()
        probs = model.process(x)
        outputs.append((x, probs, entry))
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
    pauses = [(p, e) for _x, p, e in outputs]
    out["pause auc"] = {"keep": hold_shift_auc(pauses)["auc"],
                        "pause": hold_shift_auc(pauses, column=PAUSE)["auc"]}
    out["onset auc"] = {"bargein": onset_auc(outputs, BARGEIN), "onset": onset_auc(outputs, ONSET)}
    out["confirm auc"] = {"bargein": onset_auc(outputs, BARGEIN, 0.5), "confirm": onset_auc(outputs, CONFIRM, 0.5)}
    return out


def _split_data(split: Path, files: int, jobs: int,
                echo_cancel: bool = False) -> list[tuple[np.ndarray, dict[str, Any]]]:
    from cadence.floor.train import _read_manifest, load_split

    feats = load_split(split, jobs, echo_cancel=echo_cancel)
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
    ap.add_argument("--out", required=True, type=cli_args.npz_file)
    ap.add_argument("--heads", default="voice,pause",
                    help=f"which heads to fit (of {','.join(HEADS)}; onset and confirm need duplex files)")
    ap.add_argument("--files", type=int, default=150, help="files used per split")
    ap.add_argument("--check", type=Path, default=None, help="a labelled split to report on")
    ap.add_argument("--jobs", type=cli_args.jobs, default=cores())
    ap.add_argument("--echo-cancel", action="store_true",
                    help="featurize through the adaptive echo canceller (FloorFeaturizer(echo_cancel=True)), "
                         "for a model run with CadencePolicy(echo_cancel=True)")
    args = ap.parse_args(argv)
    heads = [h for h in args.heads.split(",") if h]
    if not heads or any(h not in HEADS for h in heads):
        raise InvalidArgumentError(f"--heads {args.heads!r}: expected names from {HEADS}")
    if args.files < 1:
        raise InvalidArgumentError("--files must be at least 1")
    FloorModel(args.weights)  # refuses a file that is not a floor model, with the reason
    members = load_members(args.weights)
    data = [d for split in args.corpus
            for d in _split_data(split.resolve(), args.files, args.jobs, args.echo_cancel)]
    arrays: dict[str, np.ndarray] = {}
    for k, p in enumerate(members):
        p = dict(p)
        for head, (z, y) in head_data(_Member(p, str(args.weights)), data, heads).items():
            if len(np.unique(y)) < 2:
                duplex = head in ("onset", "confirm")
                why = " (barge-ins and backchannels over the persona: duplex files)" if duplex else ""
                raise InvalidArgumentError(f"the {head} head needs training frames of both classes in --corpus{why}")
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
        check_data = _split_data(args.check.resolve(), 10**9, args.jobs, args.echo_cancel)
        for name, r in check(model, check_data).items():
            print(f"  {name:28s} " + "  ".join(
                f"{k} {'n/a' if v is None else format(v, '.3f')}" for k, v in r.items()))
    return 0
