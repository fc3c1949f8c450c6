"""Test helper: scripted user turns rendered with espeak-ng, with exact labels.

Each phrase is synthesised alone, trimmed by energy and placed on a 16 kHz
timeline, so the end of every phrase (a shift or the start of a hold) is known
to the sample.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from cadence._core import resample

ESPEAK = shutil.which("espeak-ng")
RATE = 16000


def speak(text: str, voice: str = "en-us", speed: int = 170) -> np.ndarray:
    """One phrase at 16 kHz float32, leading/trailing silence trimmed."""
    assert ESPEAK is not None
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "p.wav"
        subprocess.run([ESPEAK, "-v", voice, "-s", str(speed), "-w", str(out), text],
                       check=True, capture_output=True)
        raw = np.frombuffer(out.read_bytes()[44:], dtype="<i2").astype(np.float32) / 32768.0
    x = resample(raw, 22050, RATE)
    db = 10 * np.log10(np.mean(x[: len(x) // 160 * 160].reshape(-1, 160) ** 2, axis=1) + 1e-12)
    keep = np.nonzero(db > db.max() - 40.0)[0]
    return x[keep[0] * 160 : (keep[-1] + 1) * 160].astype(np.float32)


def render(script: list[tuple[str, float]], voice: str = "en-us", lead: float = 0.5,
           noise_db: float = -60.0, seed: int = 0) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """script: (phrase, silence after it). Returns (audio, [(phrase start, phrase end)])."""
    parts = [np.zeros(int(lead * RATE), np.float32)]
    spans = []
    t = lead
    for text, pause in script:
        x = speak(text, voice)
        spans.append((t, t + len(x) / RATE))
        parts += [x, np.zeros(int(pause * RATE), np.float32)]
        t += (len(x) + int(pause * RATE)) / RATE
    audio = np.concatenate(parts)
    rng = np.random.default_rng(seed)
    audio += (10 ** (noise_db / 20) * rng.standard_normal(len(audio))).astype(np.float32)
    return audio, spans


def frames_of(audio: np.ndarray) -> np.ndarray:
    n = len(audio) // 160
    return np.ascontiguousarray(audio[: n * 160].reshape(n, 160))


def fine_tune_args(root: Path, audio: np.ndarray, events: list[dict]) -> list[str]:
    """Arguments for a short `cadence train floor` fine-tune: a corpus at ``root / "c"`` whose train
    and dev splits each hold ``audio`` (16 kHz) with ``events``, and a tiny seeded network to start
    from (``root / "init.npz"``)."""
    import json
    import wave

    import torch

    from cadence.floor.features import N_FEATURES
    from cadence.floor.train import build, export

    for split in ("train", "dev"):
        (root / "c" / split / "audio").mkdir(parents=True)
        with wave.open(str(root / "c" / split / "audio" / "a.wav"), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
            w.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
        (root / "c" / split / "manifest.jsonl").write_text(
            json.dumps({"audio": "audio/a.wav", "events": events}) + "\n")
    torch.manual_seed(0)
    export(build(hidden=8, proj=8, channels=8).eval(), np.zeros(N_FEATURES, np.float32),
           np.ones(N_FEATURES, np.float32), root / "init.npz")
    return ["--corpus", str(root / "c"), "--init", str(root / "init.npz"), "--threads", "1", "--jobs", "1"]
