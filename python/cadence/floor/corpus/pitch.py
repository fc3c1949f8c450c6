"""``cadence corpus floor-pitch``: a copy of a labeled split spoken higher or lower.

    cadence corpus floor-pitch --src DIR/split --out DIR2/split --cents 260

Every file goes through sox's ``pitch`` effect (``--cents``, the length kept), so the
same words, pauses and room are heard from a voice moved up or down. The labels are
kept: sox moves a sound by about a frame (±12 ms measured on tone bursts at ±260
cents), well inside the scoring windows. It asks one question of a model: does the
voice's pitch and spectrum alone move its verdicts (section "A dev split that reads
like test A" of ``benches/results/floor.md``)? Duplex files (a persona track) are left
out: their echo would move with the user while the persona's reference did not.
``meta.pitch_cents`` records the shift.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import soundfile as sf

from cadence.errors import InvalidArgumentError
from cadence.floor.bench import persona_track
from cadence.floor.corpus.voices import sox_effect


def build(src: Path, out: Path, cents: float) -> tuple[int, int]:
    """Write the shifted copy of split ``src`` to ``out``; returns (files written, duplex files left out)."""
    manifest = src / "manifest.jsonl"
    if not manifest.is_file():
        raise InvalidArgumentError(f"{src}: no manifest.jsonl (expected a split folder)")
    if not (np.isfinite(cents) and 0.0 < abs(cents) <= 1200.0):
        raise InvalidArgumentError(f"--cents must be a non-zero number of cents within ±1200, got {cents}")
    if out.resolve() == src.resolve():
        raise InvalidArgumentError("--out must differ from --src (the source split is read, never rewritten)")
    entries = [json.loads(ln) for ln in manifest.read_text().splitlines() if ln.strip()]
    lines, duplex = [], 0
    for entry in entries:
        if persona_track(str(src), entry, str(src / entry["audio"])) is not None:
            duplex += 1
            continue
        audio, rate = sf.read(src / entry["audio"], dtype="float32", always_2d=True)
        pad = int(0.05 * rate)  # sox_effect's own padding, cut off again
        y = np.stack([sox_effect(audio[:, c], rate, ["pitch", f"{cents:.1f}"])[pad: pad + len(audio)]
                      for c in range(audio.shape[1])], axis=1)
        if y.shape != audio.shape:
            raise InvalidArgumentError(f"{entry['audio']}: sox returned {len(y)} samples for {len(audio)}")
        scale = min(1.0, 0.99 / max(float(np.abs(y).max()), 1e-9))
        (out / entry["audio"]).parent.mkdir(parents=True, exist_ok=True)
        sf.write(out / entry["audio"], y * scale, rate, subtype="PCM_16")
        meta = entry.setdefault("meta", {})
        meta["pitch_cents"] = float(cents)
        if scale < 1.0:
            meta["gain_db"] = float(meta.get("gain_db", 0.0)) + 20 * np.log10(scale)
        lines.append(json.dumps(entry))
    if not lines:
        raise InvalidArgumentError(f"{src}: every file is duplex (a persona track); nothing to shift")
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.jsonl").write_text("".join(f"{ln}\n" for ln in lines))
    return len(lines), duplex


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence corpus floor-pitch", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True, type=Path, help="a split folder with manifest.jsonl")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--cents", required=True, type=float, help="pitch shift (100 cents = one semitone)")
    args = ap.parse_args(argv)
    n, duplex = build(args.src, args.out, args.cents)
    print(f"wrote {n} files to {args.out} ({args.cents:+g} cents; {duplex} duplex files left out)")
    return 0
