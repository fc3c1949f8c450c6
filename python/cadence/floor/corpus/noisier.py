"""``cadence corpus floor-noisier``: a copy of a labeled split in a louder room.

    cadence corpus floor-noisier --src DIR/split --out DIR2/split --snr 5 [--seed S]

Every file gets stationary noise (white, pink and brown in turn) at ``--snr`` dB under
the user's speech: the RMS over the user's labelled phrases (``meta.segments``; the
active frames of the whole file where there are none). The labels stay exact (noise
moves no word), so the split checks what the generator's quietest rooms (10 dB) do not
reach: a user who talks little over the room. Each channel gets its own noise, drawn
from the seed, the file's place in the manifest and its path, √channels louder so the
mono mix the engine hears (the Framer averages the channels) sits at ``--snr``. A file the noise would clip is scaled down as a whole
(``meta.gain_db`` follows). Persona tracks (duplex files: ``meta.persona_audio`` or
``x.persona.wav``) are copied unchanged; ``meta.snr``, ``meta.snr_db`` and ``meta.noise``
record what was added.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from cadence.errors import InvalidArgumentError
from cadence.floor.bench import persona_track
from cadence.floor.corpus.augment import active_rms, noise
from cadence.floor.corpus.copies import source_entries
from cadence.floor.labels import segments
from cadence import cli_args

KINDS = ("white", "pink", "brown")


def user_rms(audio: np.ndarray, rate: int, meta: dict[str, Any]) -> float:
    """RMS of the mono mix over the user's phrases (``meta.segments``), else its active frames."""
    mono = audio.mean(axis=1)
    spans = [(int(a * rate), min(len(mono), int(b * rate))) for a, b, _kind, _text in segments({"meta": meta})]
    parts = [mono[a:b] for a, b in spans if b > a]
    if not parts:
        return active_rms(mono, rate)
    return float(np.sqrt(np.mean(np.concatenate(parts).astype(np.float64) ** 2)))


def build(src: Path, out: Path, snr_db: float, seed: int = 0) -> int:
    """Write the noisier copy of split ``src`` to ``out``; returns the number of files."""
    if not np.isfinite(snr_db):
        raise InvalidArgumentError(f"--snr must be a finite number of dB, got {snr_db}")
    if seed < 0:
        raise InvalidArgumentError(f"--seed must be >= 0, got {seed}")
    entries = source_entries(src, out)
    lines = []
    for k, entry in enumerate(entries):
        meta = entry["meta"]
        audio, rate = sf.read(src / entry["audio"], dtype="float64", always_2d=True)
        level = user_rms(audio, rate, meta)
        if not level > 0.0:
            raise InvalidArgumentError(f"{entry['audio']}: silent, no level to set the noise from")
        kind = KINDS[k % len(KINDS)]
        rng = np.random.default_rng([seed, k, zlib.crc32(entry["audio"].encode())])
        amp = level * 10 ** (-snr_db / 20) * np.sqrt(audio.shape[1])  # independent channels average down
        y = audio + np.stack([noise(kind, len(audio), rate, rng) * amp for _ in range(audio.shape[1])], axis=1)
        scale = min(1.0, 0.99 / max(float(np.abs(y).max()), 1e-9))
        (out / entry["audio"]).parent.mkdir(parents=True, exist_ok=True)
        sf.write(out / entry["audio"], y * scale, rate, subtype="PCM_16")
        persona = persona_track(str(src), entry, str(src / entry["audio"]))
        if persona is not None:
            rel = os.path.relpath(persona, src)
            if rel.startswith(os.pardir) or os.path.isabs(rel):
                raise InvalidArgumentError(f"{entry['audio']}: persona track {persona} lies outside --src")
            dest = out / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(persona, dest)
        meta["snr"], meta["snr_db"] = f"{snr_db:g}", snr_db
        meta["noise"] = f"{meta.get('noise', 'none')}+{kind}"
        if scale < 1.0:
            meta["gain_db"] = float(meta.get("gain_db", 0.0)) + 20 * np.log10(scale)
        lines.append(json.dumps(entry))
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.jsonl").write_text("".join(f"{ln}\n" for ln in lines), encoding="utf-8")
    return len(lines)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="cadence corpus floor-noisier", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True, type=Path, help="a split folder with manifest.jsonl")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--snr", required=True, type=float, help="dB of the user's speech over the added noise")
    ap.add_argument("--seed", type=cli_args.seed, default=0)
    args = ap.parse_args(argv)
    n = build(args.src, args.out, args.snr, args.seed)
    print(f"wrote {n} files to {args.out} (noise {args.snr:g} dB under the user's speech)")
    return 0
