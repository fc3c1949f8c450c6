"""``cadence bench floor-stops``: the models alone, at Smart Turn's decision points.

    cadence bench floor-stops --corpus DIR/test [--weights W] [--exact] [--jobs J] [--json OUT]

The benchmark scores whole policies, where a model's judgement is mixed with its
timing rules. This compares the two learned judges on equal terms: at every
moment Pipecat's stack asks Smart Turn v3.2 (each VAD stop, as ``smart-turn-v3``
runs it), Smart Turn's P(complete) against Cadence's 1 − P(keep) at the same
frame (the ``pause`` column, what the policy reads in silence; in a file with a persona it is
the networks' pass that hears it, where the policy since session 47 reads a pass blind to it,
``turn_sees_persona``). A stop inside a
hold is labelled *hold*, a stop in a turn end's answer window *shift* (from the turn end,
not the 0.1 s before it that the scorer also credits, since a VAD stop follows the silence's
start, to at most 2 s after it and the user's next turn: ``FileLabels.answer_end``, as the
scorer ends it), other stops are left out; the table gives each model's hold/shift AUC (0.5 chance,
1 perfect), overall and by TTS engine (``meta.voice``'s prefix), the AUC of
the two scores averaged, and of their log-odds mix at weight 0.5 (what the
policy's ``smart_turn_weight=0.5`` option reads in a pause).
"""

from __future__ import annotations

import argparse
import json
from functools import lru_cache
from typing import Any

from cadence.cores import cores
from cadence.floor.bench import CorpusFile, load_manifest, map_files, padded_input
from cadence.floor.policy import mix_log_odds
from cadence.floor.score import meta_group
from cadence.floor.scoring import FileLabels, in_answer_window, in_hold
from cadence.floor.separability import auc
from cadence import cli_args

__all__ = ["stop_label", "stops_of_file", "summarize_stops", "main"]


def stop_label(labels: FileLabels, t: float) -> str | None:
    """"hold" for a stop inside a hold, "shift" for one in a turn end's answer window (from the
    turn end to :meth:`FileLabels.answer_end`: a stop once the user talks again belongs to the
    new turn, not the old one), None otherwise."""
    if in_hold(t, labels.holds):
        return "hold"
    # the scorer's window and slack, opened at the turn end (a VAD stop follows the silence)
    if any(in_answer_window(t, s, labels.answer_end(k), early=0.0) for k, s in enumerate(labels.shifts)):
        return "shift"
    return None


@lru_cache(maxsize=2)
def _judges(weights: str | None, exact: bool = False) -> tuple[Any, Any, Any]:
    """(Smart Turn policy that records its model calls, featurizer, Cadence model), built
    once per process: loading the ONNX sessions and weights per file would dominate."""
    from cadence.floor.features import FloorFeaturizer
    from cadence.floor.model import FloorModel
    from cadence.floor.smart_turn import SmartTurnBaseline

    class Recording(SmartTurnBaseline):
        def reset(self) -> None:
            super().reset()
            self.asked: list[tuple[int, float]] = []  # (frame index, P(complete)) per call

        def prob_complete(self) -> float:
            p = super().prob_complete()
            self.asked.append((self.frame, p))
            return p

    return Recording(exact=exact), FloorFeaturizer(), FloorModel(weights)


def stops_of_file(f: CorpusFile, weights: str | None = None, exact: bool = False) -> list[dict[str, Any]]:
    """Every VAD stop of ``smart-turn-v3`` on one file: time, label, both models' scores."""
    from cadence.floor.model import PAUSE

    smart_turn, featurizer, model = _judges(weights, exact)
    # as the bench hears the file: with its silence appended where it ends inside an answer
    # window (a clip cut tight after its last turn end has that turn's stop in the silence)
    frames, reference, _pad = padded_input(f.path, f.persona, f.labels)
    smart_turn.reset()
    smart_turn.process(frames)
    featurizer.reset()
    model.reset()
    keep = model.process(featurizer.process(frames, reference))[:, PAUSE]
    engine = meta_group(f.meta, "engine")  # the TTS engine, as `score floor --by engine` groups
    out = []
    for frame, p in smart_turn.asked:
        t = (frame + 1) * 0.01  # the decision falls at the end of that frame
        label = stop_label(f.labels, t)
        if label is None:
            continue
        out.append({"audio": f.audio, "t": round(t, 2), "label": label, "smart_turn": p,
                    "cadence": 1.0 - float(keep[frame]), "engine": engine})
    return out


def _row(stops: list[dict[str, Any]]) -> dict[str, Any]:
    def score(s: dict[str, Any], key: str) -> float:
        if key == "mean":
            return (s["smart_turn"] + s["cadence"]) / 2
        if key == "mix":  # 1 − the policy's mixed P(keep) = the mix of the two P(end)s
            return mix_log_odds(s["cadence"], s["smart_turn"], 0.5)
        return float(s[key])

    def scores(key: str, label: str) -> list[float]:
        return [score(s, key) for s in stops if s["label"] == label]

    return {"shifts": sum(s["label"] == "shift" for s in stops), "holds": sum(s["label"] == "hold" for s in stops),
            **{f"auc_{k}": auc(scores(k, "shift"), scores(k, "hold")) for k in ("smart_turn", "cadence", "mean", "mix")}}


def summarize_stops(stops: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """AUCs over all stops ("all") and per engine."""
    out = {"all": _row(stops)}
    for engine in sorted({s["engine"] for s in stops}):
        out[engine] = _row([s for s in stops if s["engine"] == engine])
    return out


def _one(args: tuple[CorpusFile, str | None, bool]) -> list[dict[str, Any]]:
    return stops_of_file(*args)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence bench floor-stops", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, help="a split folder with manifest.jsonl")
    ap.add_argument("--weights", default=None, help="Cadence model .npz (default: the packaged one)")
    ap.add_argument("--exact", action="store_true",
                    help="Smart Turn as smart-turn-v3-exact runs it: its graph's float arithmetic, not the CPU's int8 kernels")
    ap.add_argument("--max-files", type=cli_args.positive_int, default=None)
    ap.add_argument("--jobs", type=cli_args.jobs, default=cores())
    ap.add_argument("--json", type=cli_args.out_file, default=None, help="write every stop and the summary here")
    args = ap.parse_args(argv)
    files = load_manifest(args.corpus, args.max_files)
    per_file = map_files(_one, [(f, args.weights, args.exact) for f in files], args.jobs)  # the bench's process pool
    stops = sorted((s for file_stops in per_file for s in file_stops), key=lambda s: (s["audio"], s["t"]))
    summary = summarize_stops(stops)
    fmt = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
    print(f"{len(files)} files; at smart-turn-v3's VAD stops, hold/shift AUC\n")
    print("| engine | shift / hold stops | Smart Turn | Cadence | mean of the two | log-odds mix, w 0.5 |\n"
          "|---|---|---:|---:|---:|---:|")
    for name, r in summary.items():
        print(f"| {name} | {r['shifts']} / {r['holds']} | {fmt(r['auc_smart_turn'])} | {fmt(r['auc_cadence'])} "
              f"| {fmt(r['auc_mean'])} | {fmt(r['auc_mix'])} |")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "stops": stops}, indent=1))
    return 0
