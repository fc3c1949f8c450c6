"""`cadence corpus floor-recorded`: turns from a recorded human voice (alsa-utils' clips)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf

from cadence.errors import InvalidArgumentError
from cadence.floor.corpus.recorded import CLIPS_DIR, build, clip_runs, file_clips

MFA_DIR = os.path.join(os.path.dirname(__file__), "..", "data", "mfa")

RATE = 48_000


def _tone(s: float, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(s * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def _two_words(first: float = 0.3, gap: float = 0.3, second: float = 0.4) -> np.ndarray:
    """Two tone "words" with a silent gap, a 10 ms click 0.2 s after them, 0.3 s of silence."""
    z = lambda s: np.zeros(int(s * RATE), np.float32)  # noqa: E731
    click = _tone(0.01, 0.3)
    return np.concatenate([z(0.2), _tone(first), z(gap), _tone(second), z(0.2), click, z(0.3)])


def test_clip_runs_finds_the_words_and_drops_a_click() -> None:
    runs = clip_runs(_two_words(), RATE)
    assert len(runs) == 2
    (a, b), (c, d) = runs
    assert (a, b, c, d) == pytest.approx((0.2, 0.5, 0.8, 1.2), abs=0.011)
    # a gap under 150 ms is inside one run
    assert len(clip_runs(_two_words(gap=0.1), RATE)) == 1
    with pytest.raises(InvalidArgumentError, match="no speech"):
        clip_runs(np.zeros(RATE, np.float32), RATE)
    # a breath 34 dB under the words, 0.3 s after them: a run of its own, unless peak_db leaves it out
    breath = np.concatenate([_two_words(), _tone(0.2, 0.3 * 10 ** (-34 / 20)), np.zeros(RATE // 4, np.float32)])
    assert len(clip_runs(breath, RATE)) == 3 and clip_runs(breath, RATE, peak_db=30.0) == runs
    assert len(clip_runs(breath, RATE, peak_db=35.0)) == 3


def test_build_labels_every_turn_from_the_clips(tmp_path) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    for i, name in enumerate(("Front_A", "Rear_B", "Side_C")):  # any name outside alsa's folder
        sf.write(clips / f"{name}.wav", _two_words(first=0.3 + 0.1 * i), RATE)
    split = build(str(tmp_path / "out"), files=4, seed=3, clips_dir=str(clips))
    rows = [json.loads(line) for line in open(os.path.join(split, "manifest.jsonl"))]
    assert len(rows) == 4
    stretched = 0
    for row in rows:
        audio, rate = sf.read(os.path.join(split, row["audio"]))
        assert rate == RATE
        shifts = [e["t"] for e in row["events"] if e["type"] == "shift"]
        holds = [(e["start"], e["end"]) for e in row["events"] if e["type"] == "hold"]
        assert len(shifts) == len(holds) == 3 and sorted(row["meta"]["order"]) == ["Front A", "Rear B", "Side C"]
        for (s, e), t in zip(holds, shifts):
            assert 0.25 <= e - s <= 1.5 and e < t  # the word gap, maybe stretched; the turn ends after it
            assert 0.38 <= t - e <= 0.42  # the second word
        assert all(b - a > 2.5 for a, b in zip(shifts, shifts[1:]))  # a free window after every turn
        stretched += row["meta"]["stretched_pauses"]
        assert sum(e - s >= 0.5 for s, e in holds) == row["meta"]["stretched_pauses"]
    assert 0 < stretched < 12  # about half the turns hesitate
    again = build(str(tmp_path / "again"), files=4, seed=3, clips_dir=str(clips))
    assert open(os.path.join(again, "manifest.jsonl")).read() == open(os.path.join(split, "manifest.jsonl")).read()
    with pytest.raises(InvalidArgumentError, match="alsa-utils"):
        build(str(tmp_path / "none"), clips_dir=str(tmp_path))
    # your own recordings: every WAV of the folder is a turn, whatever its name
    own = tmp_path / "own"
    own.mkdir()
    for name in ("hello there", "see you"):
        sf.write(own / f"{name}.wav", _two_words(), RATE)
    rows = [json.loads(line) for line in open(os.path.join(build(str(tmp_path / "o"), 1, 0, str(own)), "manifest.jsonl"))]
    assert sorted(rows[0]["meta"]["order"]) == ["hello there", "see you"]
    assert rows[0]["meta"]["voice"] == "recorded:own"


def test_the_default_split_is_the_one_earlier_sessions_measured(tmp_path) -> None:
    """--stretch, --per-file and --peak-db left the default build as it was: the same audio
    and labels, byte for byte, as the code of session 38 (b88e375) wrote them."""
    import hashlib

    clips = tmp_path / "clips"
    clips.mkdir()
    for i, name in enumerate(("A", "B", "C")):
        sf.write(clips / f"{name}.wav", _two_words(first=0.3 + 0.1 * i, gap=0.2 + 0.15 * i), RATE)
    split = build(str(tmp_path / "out"), files=3, seed=5, clips_dir=str(clips))
    h = hashlib.sha1()
    for name in ["manifest.jsonl"] + [f"audio/recorded_{k:03d}.wav" for k in range(3)]:
        h.update(open(os.path.join(split, name), "rb").read())
    assert h.hexdigest() == "888d68c9e74cfac88b30a26841dc7d77dfba310d"


def test_pauses_kept_as_spoken_and_turns_spread_over_files(tmp_path) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    for i in range(5):  # FLAC clips are read too
        sf.write(clips / f"c{i}.flac", _two_words(gap=0.2 + 0.1 * i), RATE)
    split = build(str(tmp_path / "out"), files=4, seed=1, clips_dir=str(clips), stretch=0.0, per_file=3)
    rows = [json.loads(line) for line in open(os.path.join(split, "manifest.jsonl"))]
    assert [len(r["meta"]["order"]) for r in rows] == [3, 3, 3, 3]
    seen = [n for r in rows for n in r["meta"]["order"]]
    assert sorted(seen[:5]) == [f"c{i}" for i in range(5)]  # every clip once before any comes again
    assert sorted(seen[5:10]) == [f"c{i}" for i in range(5)] and seen[:5] != seen[5:10]
    for r in rows:
        assert r["meta"]["stretched_pauses"] == 0
        gaps = {n: e["end"] - e["start"] for n, e in zip(r["meta"]["order"], (e for e in r["events"] if e["type"] == "hold"))}
        for n, g in gaps.items():  # each pause as the clip has it
            assert g == pytest.approx(0.2 + 0.1 * int(n[1]), abs=0.011)
    assert file_clips(0, 5, None, 3) == file_clips(0, 5, None, 3) and sorted(file_clips(2, 5, None, 3)) == list(range(5))
    with pytest.raises(InvalidArgumentError, match="stretch"):
        build(str(tmp_path / "x"), clips_dir=str(clips), stretch=1.5)
    with pytest.raises(InvalidArgumentError, match="per-file"):
        build(str(tmp_path / "x"), clips_dir=str(clips), per_file=0)
    with pytest.raises(InvalidArgumentError, match="peak-db"):
        build(str(tmp_path / "x"), clips_dir=str(clips), peak_db=0.0)
    with pytest.raises(InvalidArgumentError, match="more than the 5 clips"):
        build(str(tmp_path / "x"), clips_dir=str(clips), per_file=6)


@pytest.mark.skipif(not os.path.isfile(os.path.join(MFA_DIR, ".complete")),
                    reason="the hesitation clips are not fetched (scripts/setup.sh fetches them)")
def test_real_hesitations_are_labelled_holds(tmp_path) -> None:
    """The Montreal Forced Aligner's clips: "montreal forced um aligner" and its kin hold their
    pauses inside the phrase, and each clip is one turn."""
    split = build(str(tmp_path), files=7, seed=0, clips_dir=MFA_DIR, stretch=0.0, per_file=7, peak_db=30.0)
    rows = [json.loads(line) for line in open(os.path.join(split, "manifest.jsonl"))]
    names = [n for r in rows for n in r["meta"]["order"]]
    assert len(set(names)) == len(names) == 49 and "mfa um" in names
    holds = [e["end"] - e["start"] for r in rows for e in r["events"] if e["type"] == "hold"]
    assert sum(e["type"] == "shift" for r in rows for e in r["events"]) == 49
    assert 55 <= len(holds) <= 75 and max(holds) > 2.0 and sum(h >= 0.5 for h in holds) >= 30
    # the breaths and clicks after "montreal forced aligner" are not his words: "mfa buddy"
    # ("m f a is like buddy", then a lip click 0.2 s later, 39 dB down) ends at the word
    row = next(r for r in rows if "mfa buddy" in r["meta"]["order"])
    seg = next(sg for sg in row["meta"]["segments"] if sg[2] == "mfa buddy")
    assert seg[1] - seg[0] == pytest.approx(1.74 - 0.53, abs=0.02)
    assert rows[0]["meta"]["voice"] == "recorded:mfa"


@pytest.mark.skipif(not os.path.exists(os.path.join(CLIPS_DIR, "Front_Center.wav")),
                    reason="alsa-utils' clips not installed (scripts/setup.sh installs them)")
def test_the_floor_answers_a_recorded_human_voice(tmp_path) -> None:
    """One file of the real split, streamed through the benchmark: patience 0.5 answers at
    least 7 of the 8 turns within 2 s (measured on the 12-file split: 0.979 of 96, floor.md)."""
    from cadence.floor.bench import parse_policies, run_bench

    split = build(str(tmp_path), files=1, seed=0)
    summary = run_bench(split, parse_policies("cadence", [0.5]))["summary"]["cadence@0.5"]
    assert summary["turns"] == 8
    assert summary["recall"] >= 7 / 8, summary
    assert summary["precision"] > 0.5, summary
