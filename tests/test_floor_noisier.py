"""``cadence corpus floor-noisier``: a labeled split copied into a louder room, labels intact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cadence.cli import main as cli
from cadence.errors import InvalidArgumentError
from cadence.floor.corpus.noisier import build

RATE = 16000


def _split(root: Path) -> Path:
    """Two files: the user's phrase at 1-2 s (a 0.1-RMS tone) and silence; one is duplex."""
    (root / "audio").mkdir(parents=True)
    t = np.arange(3 * RATE) / RATE
    x = np.where((t >= 1.0) & (t < 2.0), 0.1 * np.sqrt(2) * np.sin(2 * np.pi * 220 * t), 0.0)
    lines = []
    for k in range(2):
        sf.write(root / f"audio/f{k}.wav", x, RATE, subtype="PCM_16")
        meta: dict = {"segments": [[1.0, 2.0, "hello there", "final"]], "snr": "clean", "noise": "pink"}
        if k:
            sf.write(root / "audio/f1.persona.wav", 0.5 * x, RATE, subtype="PCM_16")
            meta.update(duplex=True, persona_audio="audio/f1.persona.wav")
        lines.append(json.dumps({"audio": f"audio/f{k}.wav", "events": [{"type": "shift", "t": 2.0}], "meta": meta}))
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return root


def test_noise_sits_at_the_snr_under_the_users_phrases_and_labels_stay(tmp_path: Path) -> None:
    src = _split(tmp_path / "src")
    assert cli(["corpus", "floor-noisier", "--src", str(src), "--out", str(tmp_path / "out"), "--snr", "6"]) == 0
    entries = [json.loads(ln) for ln in (tmp_path / "out/manifest.jsonl").read_text().splitlines()]
    assert [e["events"] for e in entries] == [[{"type": "shift", "t": 2.0}]] * 2
    assert [(e["meta"]["snr"], e["meta"]["noise"]) for e in entries] == [("6", "pink+white"), ("6", "pink+pink")]
    for e in entries:
        y, rate = sf.read(tmp_path / "out" / e["audio"])
        assert rate == RATE
        added = y - sf.read(src / e["audio"])[0]  # the noise, over the whole file
        assert 20 * np.log10(0.1 / np.sqrt(np.mean(added**2))) == pytest.approx(6.0, abs=0.05)
    persona, _ = sf.read(tmp_path / "out/audio/f1.persona.wav")
    np.testing.assert_array_equal(persona, sf.read(src / "audio/f1.persona.wav")[0])


def test_a_loud_room_is_scaled_not_clipped_and_bad_arguments_are_refused(tmp_path: Path) -> None:
    src = _split(tmp_path / "src")
    build(src, tmp_path / "loud", -20.0)  # noise 10x the phrase: the file is scaled down as a whole
    x = sf.read(src / "audio/f0.wav")[0]
    y = sf.read(tmp_path / "loud/audio/f0.wav")[0]
    assert np.abs(y).max() == pytest.approx(0.99, abs=1e-4) and np.sum(np.abs(y) > 0.985) <= 2  # no clipped run
    meta = json.loads((tmp_path / "loud/manifest.jsonl").read_text().splitlines()[0])["meta"]
    assert meta["snr_db"] == -20.0 and meta["gain_db"] < -10.0  # the scale-down, recorded
    scale = 10 ** (meta["gain_db"] / 20)
    assert float(np.dot(y, x) / np.dot(x, x)) == pytest.approx(scale, rel=0.1)  # the phrase comes back scaled
    assert 20 * np.log10(0.1 / np.sqrt(np.mean((y / scale - x) ** 2))) == pytest.approx(-20.0, abs=0.05)
    with pytest.raises(InvalidArgumentError, match="manifest"):
        build(tmp_path, tmp_path / "x", 5.0)
    with pytest.raises(InvalidArgumentError, match="finite"):
        build(src, tmp_path / "x", float("nan"))
    with pytest.raises(InvalidArgumentError, match="differ"):
        build(src, src, 5.0)
    with pytest.raises(InvalidArgumentError, match="seed"):
        build(src, tmp_path / "x", 5.0, seed=-1)


def test_a_source_path_outside_the_split_is_refused_and_the_source_kept(tmp_path: Path) -> None:
    """An absolute audio path, or one that climbs out, was joined to --out as the source file
    itself: the noisy or shifted copy was written over the source. Both tools refuse it, and
    check the source as the benchmark does before anything is written."""
    from cadence.floor.corpus.shift import build as shift

    src = _split(tmp_path / "src")
    lines = (src / "manifest.jsonl").read_text().splitlines()
    before = (src / "audio/f0.wav").read_bytes()
    for audio in (str(src / "audio/f0.wav"), "../src/audio/f0.wav"):
        entry = {**json.loads(lines[0]), "audio": audio}
        (src / "manifest.jsonl").write_text(json.dumps(entry) + "\n")
        with pytest.raises(InvalidArgumentError, match="lies outside the split"):
            build(src, tmp_path / "noisy", 5.0)
        with pytest.raises(InvalidArgumentError, match="lies outside the split"):
            shift(src, tmp_path / "shifted", tempo=1.5)
        assert (src / "audio/f0.wav").read_bytes() == before
    assert not (tmp_path / "noisy").exists() and not (tmp_path / "shifted").exists()
    (src / "manifest.jsonl").write_text(json.dumps({**json.loads(lines[0]), "audio": "audio/nope.wav"}) + "\n")
    with pytest.raises(InvalidArgumentError, match="audio file not found"):
        build(src, tmp_path / "noisy", 5.0)
    (src / "manifest.jsonl").write_text(lines[0] + "\n")
    (tmp_path / "a_file").write_text("")
    with pytest.raises(InvalidArgumentError, match="not a folder"):
        build(src, tmp_path / "a_file", 5.0)
    # a null meta is none, and object-shaped segments are read as the scorer reads them
    entry = {**json.loads(lines[0]), "meta": None}
    (src / "manifest.jsonl").write_text(json.dumps(entry) + "\n")
    assert build(src, tmp_path / "null", 5.0) == 1
    entry["meta"] = {"segments": [{"start": 1.0, "end": 2.0, "text": "hello there", "kind": "final"}]}
    (src / "manifest.jsonl").write_text(json.dumps(entry) + "\n")
    assert build(src, tmp_path / "objects", 6.0) == 1
    added = sf.read(tmp_path / "objects/audio/f0.wav")[0] - sf.read(src / "audio/f0.wav")[0]
    assert 20 * np.log10(0.1 / np.sqrt(np.mean(added**2))) == pytest.approx(6.0, abs=0.05)


def test_stereo_sibling_personas_no_segments_and_silence(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    t = np.arange(2 * RATE) / RATE
    x = 0.1 * np.sqrt(2) * np.sin(2 * np.pi * 220 * t)
    sf.write(src / "sub/a.wav", np.stack([x, 0.5 * x], axis=1), RATE, subtype="PCM_16")  # stereo, no segments
    sf.write(src / "sub/a.persona.wav", 0.3 * x, RATE, subtype="PCM_16")  # a sibling persona track
    (src / "manifest.jsonl").write_text(json.dumps({"audio": "sub/a.wav", "events": []}) + "\n\n")
    build(src, tmp_path / "out", 10.0)
    y = sf.read(tmp_path / "out/sub/a.wav")[0]
    assert y.shape == (2 * RATE, 2)
    added = y - sf.read(src / "sub/a.wav")[0]
    assert abs(np.corrcoef(added[:, 0], added[:, 1])[0, 1]) < 0.05  # each channel its own noise
    level = np.sqrt(np.mean(((x + 0.5 * x) / 2) ** 2))  # the mono mix's active level
    mono_noise = added.mean(axis=1)  # what the engine hears: the Framer averages the channels
    assert 20 * np.log10(level / np.sqrt(np.mean(mono_noise**2))) == pytest.approx(10.0, abs=0.2)
    assert (tmp_path / "out/sub/a.persona.wav").is_file()
    sf.write(src / "sub/a.wav", np.zeros((RATE, 2)), RATE, subtype="PCM_16")
    with pytest.raises(InvalidArgumentError, match="silent"):
        build(src, tmp_path / "out2", 10.0)
