"""`cadence corpus floor-phone`: real turn ends from pyannote-audio's sample telephone call."""

from __future__ import annotations

import json
import os
from importlib import metadata

import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor.corpus import phone
from cadence.floor.corpus.phone import build, read_turns


def test_read_turns_merges_a_speakers_lines_and_drops_a_line_cut_by_the_recording(tmp_path) -> None:
    stm = tmp_path / "call.stm"
    stm.write_text("c 1 A 0.5 1.0 Hello?\n"
                   "c 1 B 1.2 1.6 Hi.\n"
                   "c 1 A 2.0 2.5 Oh.\n"
                   "c 1 A 2.6 3.4 It is me.\n"
                   "c 1 B 3.5 4.0 Good.\n"
                   "c 1 A 4.2 9.97 and then\n")
    turns = read_turns(str(stm), duration_s=10.0)
    assert turns == [("A", 0.5, 1.0, "Hello?"), ("B", 1.2, 1.6, "Hi."),
                     ("A", 2.0, 3.4, "Oh. It is me."), ("B", 3.5, 4.0, "Good.")]
    # a last line that ends well before the recording does is a turn
    assert read_turns(str(stm), duration_s=12.0)[-1] == ("A", 4.2, 9.97, "and then")
    bad = tmp_path / "bad.stm"
    for text, match in (("c 1 A x 1.0 hi\n", "bad.stm:1: start and end must be seconds"),
                        ("c 1 A 2.0 1.0 hi\n", "must end after it starts")):
        bad.write_text(text)
        with pytest.raises(InvalidArgumentError, match=match):
            read_turns(str(bad), duration_s=10.0)


def test_a_missing_pyannote_package_is_a_clear_error(monkeypatch, tmp_path) -> None:
    def missing(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(phone.metadata, "distribution", missing)
    with pytest.raises(InvalidArgumentError, match="pip install --no-deps pyannote-audio"):
        build(str(tmp_path))
    with pytest.raises(InvalidArgumentError, match="--files"):
        build(str(tmp_path), files=0)


def _has_sample() -> bool:
    try:
        phone.sample_paths()
    except InvalidArgumentError:
        return False
    return True


@pytest.mark.skipif(not _has_sample(), reason="pyannote-audio not installed (scripts/setup.sh installs it)")
def test_the_split_holds_the_calls_turn_ends_where_a_silence_timer_finds_them(tmp_path) -> None:
    """Both speakers' files hold their four turns, each followed by the persona's window; an
    independent detector (Silero VAD + 500 ms of silence) answers every turn end of a clean
    file within the benchmark's window, so the labels sit on the audio's real turn ends."""
    from cadence.floor.bench import parse_policies, run_bench

    split = build(str(tmp_path), files=2, seed=0)
    rows = [json.loads(line) for line in open(os.path.join(split, "manifest.jsonl"))]
    assert [r["meta"]["speaker"] for r in rows] == ["Diane", "Sheila"]
    for r in rows:
        shifts = [e["t"] for e in r["events"] if e["type"] == "shift"]
        assert len(shifts) == 4 and all(b - a > 2.5 for a, b in zip(shifts, shifts[1:]))
        assert r["meta"]["segments"][0][2] == "Hello?"
    assert rows[1]["meta"]["segments"][1][2] == "Neither did I."
    summary = run_bench(split, parse_policies("silence-500", []))["summary"]["silence-500"]
    assert summary["turns"] == 8
    assert summary["recall"] >= 7 / 8 and summary["interruptions"] == 0, summary
    again = build(str(tmp_path / "again"), files=2, seed=0)
    assert open(os.path.join(again, "manifest.jsonl")).read() == open(os.path.join(split, "manifest.jsonl")).read()


def _tone_call(tmp_path) -> tuple[str, str]:
    """A 6 s "call" at 16 kHz: A speaks 0.5-1.5 s and 3.0-3.4 s + 3.6-4.2 s (one turn with a
    200 ms pause), B 1.8-2.6 s; its STM transcript."""
    import numpy as np
    import soundfile as sf

    rate = 16_000
    x = np.zeros(6 * rate, np.float32)
    for a, b, hz in ((0.5, 1.5, 220), (1.8, 2.6, 330), (3.0, 3.4, 220), (3.6, 4.2, 220)):
        t = np.arange(int((b - a) * rate)) / rate
        x[int(a * rate):int(a * rate) + len(t)] = 0.3 * np.sin(2 * np.pi * hz * t)
    wav, stm = tmp_path / "call.wav", tmp_path / "call.stm"
    sf.write(wav, x, rate)
    stm.write_text("call 1 A 0.5 1.5 one\ncall 1 B 1.8 2.6 two\ncall 1 A 3.0 3.4 three\ncall 1 A 3.6 4.2 four\n")
    return str(wav), str(stm)


def test_your_own_call_and_transcript_build_the_split(tmp_path) -> None:
    wav, stm = _tone_call(tmp_path)
    split = build(str(tmp_path / "out"), files=2, seed=1, call_wav=wav, stm=stm)
    rows = [json.loads(line) for line in open(os.path.join(split, "manifest.jsonl"))]
    assert [r["meta"]["speaker"] for r in rows] == ["A", "B"]
    a, b = rows
    assert a["meta"]["source"] == "the call call.wav"
    # A: two turns ("one"; "three four" with its 200 ms pause as a hold), B: one turn
    assert [e["type"] for e in a["events"]] == ["shift", "hold", "shift"]
    shift1, hold, shift2 = a["events"]
    assert shift1["t"] == pytest.approx(0.5 + 1.0, abs=0.011)  # LEAD_S, then the 1 s turn
    assert hold["end"] - hold["start"] == pytest.approx(0.2, abs=0.011)
    assert shift2["t"] - shift1["t"] == pytest.approx(2.5 + 1.2, abs=0.011)  # the window, then the turn
    assert [e["type"] for e in b["events"]] == ["shift"]
    with pytest.raises(InvalidArgumentError, match="go together"):
        build(str(tmp_path / "x"), call_wav=wav)
    silent = tmp_path / "silent.stm"
    silent.write_text("call 1 A 4.5 5.5 nothing\ncall 1 B 1.8 2.6 two\n")
    with pytest.raises(InvalidArgumentError, match="A's turn 4.50-5.50 s of the call: no speech"):
        build(str(tmp_path / "y"), call_wav=wav, stm=str(silent))
    empty = tmp_path / "empty.stm"
    empty.write_text(";; a comment line with enough words to split\n")
    with pytest.raises(InvalidArgumentError, match="no transcript lines"):
        build(str(tmp_path / "z"), call_wav=wav, stm=str(empty))
