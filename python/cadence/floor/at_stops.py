"""``cadence bench floor-stops``: the models alone, at Smart Turn's decision points.

    cadence bench floor-stops --corpus DIR/test [--weights W] [--jobs J] [--json OUT]

The benchmark scores whole policies, where a model's judgement is mixed with its
timing rules. This compares the two learned judges on equal terms: at every
moment Pipecat's stack asks Smart Turn v3.2 (each VAD stop, as ``smart-turn-v3``
runs it), Smart Turn's P(complete) against Cadence's 1 − P(keep) at the same
frame (the ``pause`` column, what the policy reads in silence). A stop inside a
hold is labelled *hold*, a stop at most 2 s after a turn end *shift*, other
stops are left out; the table gives each model's hold/shift AUC (0.5 chance,
1 perfect), overall and by TTS engine (``meta.voice``'s prefix), and the AUC of
the two scores averaged (would a hybrid help?).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
from pathlib import Path
from typing import Any

import numpy as np

from cadence.errors import InvalidArgumentError
from cadence.floor.bench import CorpusFile, load_frames, load_manifest
from cadence.floor.scoring import LATE_S
from cadence.floor.separability import auc

__all__ = ["stops_of_file", "summarize_stops", "main"]


def stops_of_file(f: CorpusFile, weights: str | None = None) -> list[dict[str, Any]]:
    """Every VAD stop of ``smart-turn-v3`` on one file: time, label, both models' scores."""
    from cadence.floor.features import FloorFeaturizer
    from cadence.floor.model import PAUSE, FloorModel
    from cadence.floor.smart_turn import SmartTurnBaseline

    frames = load_frames(f.path)
    reference = load_frames(f.persona)[: len(frames)] if f.persona else None
    if reference is not None and len(reference) < len(frames):
        reference = np.concatenate([reference, np.zeros((len(frames) - len(reference), frames.shape[1]),
                                                        np.float32)])
    asked: list[tuple[int, float]] = []

    class Recording(SmartTurnBaseline):
        def prob_complete(self) -> float:
            p = super().prob_complete()
            asked.append((self.frame, p))
            return p

    Recording().process(frames)
    keep = FloorModel(weights).process(FloorFeaturizer().process(frames, reference))[:, PAUSE]
    out = []
    for frame, p in asked:
        t = (frame + 1) * 0.01  # the decision falls at the end of that frame
        if any(s <= t <= e for s, e in f.labels.holds):
            label = "hold"
        elif any(0.0 <= t - s <= LATE_S for s in f.labels.shifts):
            label = "shift"
        else:
            continue
        voice = f.meta.get("voice") if isinstance(f.meta, dict) else None
        out.append({"t": round(t, 2), "label": label, "smart_turn": p, "cadence": 1.0 - float(keep[frame]),
                    "engine": voice.split(":", 1)[0] if isinstance(voice, str) else "(none)"})
    return out


def _row(stops: list[dict[str, Any]]) -> dict[str, Any]:
    def scores(key: str, label: str) -> list[float]:
        return [s[key] if key != "mean" else (s["smart_turn"] + s["cadence"]) / 2 for s in stops
                if s["label"] == label]

    return {"shifts": sum(s["label"] == "shift" for s in stops), "holds": sum(s["label"] == "hold" for s in stops),
            **{f"auc_{k}": auc(scores(k, "shift"), scores(k, "hold")) for k in ("smart_turn", "cadence", "mean")}}


def summarize_stops(stops: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """AUCs over all stops ("all") and per engine."""
    out = {"all": _row(stops)}
    for engine in sorted({s["engine"] for s in stops}):
        out[engine] = _row([s for s in stops if s["engine"] == engine])
    return out


def _one(args: tuple[CorpusFile, str | None]) -> list[dict[str, Any]]:
    return stops_of_file(*args)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence bench floor-stops", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, help="a split folder with manifest.jsonl")
    ap.add_argument("--weights", default=None, help="Cadence model .npz (default: the packaged one)")
    ap.add_argument("--max-files", type=int, default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="write every stop and the summary here")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        raise InvalidArgumentError(f"--jobs must be >= 1, got {args.jobs}")
    files = load_manifest(args.corpus, args.max_files)
    tasks = [(f, args.weights) for f in files]
    if args.jobs > 1:
        with mp.get_context("spawn").Pool(min(args.jobs, len(tasks))) as pool:  # onnxruntime: no fork
            per_file = pool.map(_one, tasks, chunksize=1)
    else:
        per_file = [_one(t) for t in tasks]
    stops = [s for file_stops in per_file for s in file_stops]
    summary = summarize_stops(stops)
    fmt = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
    print(f"{len(files)} files; at smart-turn-v3's VAD stops, hold/shift AUC\n")
    print("| engine | shift / hold stops | Smart Turn | Cadence | mean of the two |\n|---|---|---:|---:|---:|")
    for name, r in summary.items():
        print(f"| {name} | {r['shifts']} / {r['holds']} | {fmt(r['auc_smart_turn'])} | {fmt(r['auc_cadence'])} "
              f"| {fmt(r['auc_mean'])} |")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "stops": stops}, indent=1))
    return 0
