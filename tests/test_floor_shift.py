"""``cadence corpus floor-shift``: a labeled split spoken higher, lower, faster or slower; the labels follow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cadence.cli import main as cli
from cadence.errors import InvalidArgumentError
from cadence.floor.corpus.shift import build

RATE = 16000


EVENTS = [{"type": "hold", "start": 0.5, "end": 1.0}, {"type": "shift", "t": 2.0},
          {"type": "backchannel", "start": 2.2, "end": 2.5}]


def _split(root: Path, duplex: tuple[bool, ...] = (False, True)) -> Path:
    """A 220 Hz tone at 1-2 s of a 3 s stereo file (the right channel: half the left, plus
    its own noise), once per entry of ``duplex``."""
    (root / "audio").mkdir(parents=True)
    t = np.arange(3 * RATE) / RATE
    x = np.where((t >= 1.0) & (t < 2.0), 0.3 * np.sin(2 * np.pi * 220 * t), 0.0)
    lines = []
    for k, dup in enumerate(duplex):
        right = 0.5 * x + 0.05 * np.random.default_rng(k).standard_normal(len(x))
        sf.write(root / f"audio/f{k}.wav", np.stack([x, right], axis=1), RATE, subtype="PCM_16")
        meta: dict = {"segments": [[1.0, 2.0, "hello there", "final"]], "turns": [[1.0, 2.0]], "duration": 3.0,
                      "speech_segments": [{"start": 1.0, "end": 2.0, "kind": "final"}], "persona": [[2.1, 2.9]]}
        if dup:
            sf.write(root / f"audio/f{k}.persona.wav", 0.5 * x, RATE, subtype="PCM_16")
            meta.update(duplex=True, persona_audio=f"audio/f{k}.persona.wav")
        lines.append(json.dumps({"audio": f"audio/f{k}.wav", "events": EVENTS, "meta": meta}))
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.parametrize("cents,tempo", [(260.0, 1.0), (-260.0, 1.0), (0.0, 1.13), (260.0, 0.87)])
def test_the_voice_moves_and_the_words_stay_where_the_labels_say(tmp_path: Path, cents: float, tempo: float) -> None:
    src = _split(tmp_path / "src")
    out = tmp_path / "out"
    assert cli(["corpus", "floor-shift", "--src", str(src), "--out", str(out), "--cents", f"{cents:g}",
                "--tempo", f"{tempo:g}"]) == 0
    entries = [json.loads(ln) for ln in (out / "manifest.jsonl").read_text().splitlines()]
    assert [e["audio"] for e in entries] == ["audio/f0.wav"]  # the duplex file is left out
    def moved(v: float) -> float:
        return round(v / tempo, 4)

    assert entries[0]["events"] == [{"type": "hold", "start": moved(0.5), "end": moved(1.0)},
                                    {"type": "shift", "t": moved(2.0)},
                                    {"type": "backchannel", "start": moved(2.2), "end": moved(2.5)}]
    meta = entries[0]["meta"]
    assert meta["speech_segments"] == [{"start": moved(1.0), "end": moved(2.0), "kind": "final"}]
    assert meta["persona"] == [[moved(2.1), moved(2.9)]]
    assert (meta["shift_cents"], meta["shift_tempo"]) == (cents, tempo)
    assert meta["segments"] == [[round(1.0 / tempo, 4), round(2.0 / tempo, 4), "hello there", "final"]]
    assert meta["turns"] == [[round(1.0 / tempo, 4), round(2.0 / tempo, 4)]] and meta["duration"] == round(3.0 / tempo, 4)
    y, rate = sf.read(out / "audio/f0.wav")
    x, _ = sf.read(src / "audio/f0.wav")
    assert rate == RATE and y.shape[1] == 2 and abs(len(y) - len(x) / tempo) <= 2
    # both channels moved in one sox call, so in step: the right less half the left is about its
    # own noise (0.05 RMS; separate calls, whose splices differ with the content, leave ~0.2)
    tone = slice(int(1.2 / tempo * RATE), int(1.8 / tempo * RATE))
    assert np.sqrt(np.mean((y[tone, 1] - 0.5 * y[tone, 0]) ** 2)) < 0.07
    y = y[:, 0]
    mid = y[int(1.2 * RATE): int(1.8 * RATE)]
    freq = np.fft.rfftfreq(len(mid), 1 / RATE)[np.argmax(np.abs(np.fft.rfft(mid)))]
    assert freq == pytest.approx(220 * 2 ** (cents / 1200), abs=3.0)
    # the tone still starts and ends within a frame or two of where the labels say
    db = 10 * np.log10(np.mean(y[: len(y) // 160 * 160].reshape(-1, 160) ** 2, axis=1) + 1e-12)
    on = np.flatnonzero(db > db.max() - 20)
    assert abs(on[0] * 0.01 - 1.0 / tempo) <= 0.02 and abs((on[-1] + 1) * 0.01 - 2.0 / tempo) <= 0.02


def test_bad_arguments_are_refused_and_the_source_is_never_rewritten(tmp_path: Path) -> None:
    src = _split(tmp_path / "src")
    for bad in (1300.0, float("nan")):
        with pytest.raises(InvalidArgumentError, match="--cents"):
            build(src, tmp_path / "out", bad)
    for bad in (0.4, 2.5, float("inf")):
        with pytest.raises(InvalidArgumentError, match="--tempo"):
            build(src, tmp_path / "out", 0.0, bad)
    with pytest.raises(InvalidArgumentError, match="nothing to shift"):
        build(src, tmp_path / "out")
    with pytest.raises(InvalidArgumentError, match="--out must differ"):
        build(src, src, 100.0)
    with pytest.raises(InvalidArgumentError, match="no manifest"):
        build(tmp_path, tmp_path / "out", 100.0)
    only_duplex = _split(tmp_path / "dup", duplex=(True,))
    with pytest.raises(InvalidArgumentError, match="every file is duplex"):
        build(only_duplex, tmp_path / "out2", 100.0)
    assert not (tmp_path / "out").exists() and not (tmp_path / "out2").exists()
