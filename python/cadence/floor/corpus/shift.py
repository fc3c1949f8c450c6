"""``cadence corpus floor-shift``: a copy of a labeled split spoken higher, lower, faster or slower.

    cadence corpus floor-shift --src DIR/split --out DIR2/split [--cents 260] [--tempo 1.13]

Every file goes through sox: ``pitch`` (``--cents``, the length kept) and ``tempo -s``
(``--tempo`` > 1 is faster, the pitch kept), so the same words, pauses and room are heard
from a voice moved up or down, or the whole conversation sped up or slowed down (its
pauses too, unlike the generator's sox tempo, which moves each phrase and leaves the pauses
as drawn). The labels follow: every time in the events and in ``meta`` (``segments``,
``speech_segments``, ``speech``, ``turns`` and ``persona``, as ``[start, end, ...]`` rows or
``{"start", "end"}`` objects; ``duration``) is divided by the tempo. All channels go
through one sox call, so they stay aligned. sox moves a sound by about a
frame (±12 ms measured on tone bursts at ±260 cents), well inside the scoring windows. It
asks one question of a model: do a voice's pitch or pace alone move its verdicts (section "A
dev split that reads like test A" of ``benches/results/floor.md``)? Duplex files (a
persona track) are left out: their echo would move with the user while the persona's
reference did not. ``meta.shift_cents`` and ``meta.shift_tempo`` record the shift.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from cadence.errors import InvalidArgumentError
from cadence.floor.bench import persona_track
from cadence.floor.corpus.voices import sox_effect
from cadence.floor.corpus.copies import source_entries
from cadence.floor.scoring import SEGMENT_KEYS

# meta's lists of spans, every one scoring reads (the user's speech, turns, the persona's speech)
_TIME_LISTS = (*SEGMENT_KEYS, "turns", "persona")


def _scaled(entry: dict[str, Any], tempo: float) -> None:
    """Divide every time of ``entry`` (events, meta's spans and duration) by ``tempo``, in place."""
    for ev in entry.get("events", []):
        for k in ("t", "start", "end"):
            if k in ev:
                ev[k] = round(ev[k] / tempo, 4)
    meta = entry.setdefault("meta", {})
    for key in _TIME_LISTS:
        if isinstance(meta.get(key), list):  # rows [start, end, ...] or {"start", "end", ...}
            meta[key] = [{**r, "start": round(r["start"] / tempo, 4), "end": round(r["end"] / tempo, 4)}
                         if isinstance(r, dict) else [round(r[0] / tempo, 4), round(r[1] / tempo, 4), *r[2:]]
                         for r in meta[key]]
    if isinstance(meta.get("duration"), (int, float)):
        meta["duration"] = round(meta["duration"] / tempo, 4)


def build(src: Path, out: Path, cents: float = 0.0, tempo: float = 1.0) -> tuple[int, int]:
    """Write the shifted copy of split ``src`` to ``out``; returns (files written, duplex files left out)."""
    if not (np.isfinite(cents) and abs(cents) <= 1200.0):
        raise InvalidArgumentError(f"--cents must be a number of cents within ±1200, got {cents}")
    if not (np.isfinite(tempo) and 0.5 <= tempo <= 2.0):
        raise InvalidArgumentError(f"--tempo must be a factor in [0.5, 2], got {tempo}")
    if cents == 0.0 and tempo == 1.0:
        raise InvalidArgumentError("nothing to shift: give --cents (non-zero) or --tempo (not 1)")
    effect = (["pitch", f"{cents:.1f}"] if cents else []) + (["tempo", "-s", f"{tempo:.4f}"] if tempo != 1.0 else [])
    entries = source_entries(src, out)
    lines, duplex = [], 0
    for entry in entries:
        if persona_track(str(src), entry, str(src / entry["audio"])) is not None:
            duplex += 1
            continue
        audio, rate = sf.read(src / entry["audio"], dtype="float32", always_2d=True)
        # sox_effect pads 50 ms on each side; the tempo shortens or stretches the pads too
        pad, n = round(int(0.05 * rate) / tempo), round(len(audio) / tempo)
        y = sox_effect(audio, rate, effect)[pad: pad + n]  # all channels in one sox call
        if abs(len(y) - n) > 0.01 * rate:
            raise InvalidArgumentError(f"{entry['audio']}: sox returned {len(y)} samples, expected {n}")
        scale = min(1.0, 0.99 / max(float(np.abs(y).max()), 1e-9))
        (out / entry["audio"]).parent.mkdir(parents=True, exist_ok=True)
        sf.write(out / entry["audio"], y * scale, rate, subtype="PCM_16")
        _scaled(entry, tempo)
        meta = entry["meta"]
        meta["shift_cents"], meta["shift_tempo"] = float(cents), float(tempo)
        if scale < 1.0:
            meta["gain_db"] = float(meta.get("gain_db", 0.0)) + 20 * np.log10(scale)
        lines.append(json.dumps(entry))
    if not lines:
        raise InvalidArgumentError(f"{src}: every file is duplex (a persona track); nothing to shift")
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.jsonl").write_text("".join(f"{ln}\n" for ln in lines), encoding="utf-8")
    return len(lines), duplex


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence corpus floor-shift", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True, type=Path, help="a split folder with manifest.jsonl")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--cents", type=float, default=0.0, help="pitch shift (100 cents = one semitone)")
    ap.add_argument("--tempo", type=float, default=1.0, help="speed factor, > 1 faster (the pitch kept)")
    args = ap.parse_args(argv)
    n, duplex = build(args.src, args.out, args.cents, args.tempo)
    print(f"wrote {n} files to {args.out} ({args.cents:+g} cents, tempo {args.tempo:g}; "
          f"{duplex} duplex files left out)")
    return 0
