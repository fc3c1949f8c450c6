"""The floor-prompts split by kind of pause (floor.md, "A second human voice").

    cadence corpus floor-prompts --out /tmp/floorprm
    cadence bench floor --corpus /tmp/floorprm/prompts --json /tmp/prm.json ...
    python benches/floor_prompts_holds.py --corpus /tmp/floorprm/prompts --json /tmp/prm.json

Prints (1) the pitch movement over the last 300 ms of voiced speech of the final and open
prompts (praat via parselmouth), (2) the shipped model's hold/shift AUC 100 ms into each
pause by kind of hold, and (3) with ``--json``, the share of holds of each kind that each
policy interrupted. A hold's kind is its turn's (``meta.turn_kinds``) and its length
(short < 0.5 s).
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict

import numpy as np

from cadence.floor import bench
from cadence.floor.corpus.prompts import SOUNDS_DIR, TRANSCRIPT, prompt_kind, read_transcript
from cadence.floor.features import FloorFeaturizer
from cadence.floor.model import PAUSE, FloorModel
from cadence.floor.scoring import manifest_entries
from cadence.floor.separability import auc


def pitch_ends() -> dict[str, list[tuple[float, float]]]:
    """Per kind: (end level vs the clip's median, change over the last 300 ms), semitones."""
    import parselmouth  # type: ignore[import-untyped]

    out: dict[str, list[tuple[float, float]]] = {"final": [], "open": []}
    for name, text in read_transcript(TRANSCRIPT).items():
        kind = None if "/" in name else prompt_kind(text)
        path = os.path.join(SOUNDS_DIR, name + ".wav")
        if kind is None or not os.path.isfile(path):
            continue
        f0 = parselmouth.Sound(path).to_pitch(time_step=0.01, pitch_floor=75, pitch_ceiling=500)
        f = f0.selected_array["frequency"]
        voiced = np.flatnonzero(f > 0)
        if len(voiced) < 20:
            continue
        tail = f[max(0, voiced[-1] - 30):voiced[-1] + 1]
        st = 12 * np.log2(tail[tail > 0] / np.median(f[voiced]))
        out[kind].append((float(st[-5:].mean()), float(st[-5:].mean() - st[:5].mean())))
    return out


def hold_kind(entry: dict, ev: dict) -> str:
    turn = next((k for (s, t, _w, _c), k in zip(entry["meta"]["segments"], entry["meta"]["turn_kinds"])
                 if s < ev["start"] < t), "?")
    return f"{turn} {'short' if ev['end'] - ev['start'] < 0.5 else 'long'}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--json", help="a `cadence bench floor --json` report on the same split")
    args = ap.parse_args()
    for kind, rows in pitch_ends().items():
        a = np.array(rows)
        print(f"pitch {kind}: {len(a)} clips, end {a[:, 0].mean():+.2f} st from the median, "
              f"last 300 ms {a[:, 1].mean():+.2f} st, rising {np.mean(a[:, 1] > 0):.2f}")
    entries = manifest_entries(os.path.join(args.corpus, "manifest.jsonl"))
    files = bench.load_manifest(args.corpus)
    model, feat = FloorModel(), FloorFeaturizer()
    shifts: list[float] = []
    holds: dict[str, list[float]] = defaultdict(list)
    for entry, f in zip(entries, files):
        frames, _ref, _pad = bench.padded_input(f.path, f.persona, f.labels)
        feat.reset()
        model.reset()
        p = model.process(feat.process(frames))
        for ev in entry["events"]:
            t0 = ev["t"] if ev["type"] == "shift" else ev["start"]
            i = int(round((t0 + 0.1) / 0.01)) - 1
            if ev["type"] == "shift":
                shifts.append(1 - float(p[i, PAUSE]))
            elif ev["end"] - ev["start"] >= 0.1:
                holds[hold_kind(entry, ev)].append(1 - float(p[i, PAUSE]))
    for kind, v in sorted(holds.items()):
        print(f"AUC +100 ms, {len(shifts)} shifts vs {len(v)} {kind} holds: {auc(shifts, v):.3f}")
    print(f"AUC +100 ms, all holds: {auc(shifts, [x for v in holds.values() for x in v]):.3f}")
    if args.json:
        report = json.load(open(args.json))
        commits = {(r["audio"], r["policy"]): r["commits"] for r in report["files"]}
        for pol in sorted({p for _a, p in commits}):
            cut: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for entry in entries:
                cs = commits[(entry["audio"], pol)]
                for ev in entry["events"]:
                    if ev["type"] == "hold":
                        c = cut[hold_kind(entry, ev)]
                        c[0] += 1
                        c[1] += any(ev["start"] <= x <= ev["end"] for x in cs)
            print(f"{pol:<40}" + "  ".join(f"{k}: {n}/{m} ({n / m:.2f})" for k, (m, n) in sorted(cut.items())))


if __name__ == "__main__":
    main()
