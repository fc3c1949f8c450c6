"""``cadence corpus floor-prompts``: which prompts are turn ends, and the labels of a split."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf

from cadence.errors import InvalidArgumentError
from cadence.floor.corpus.prompts import SOUNDS_DIR, TRANSCRIPT, build, main, prompt_kind, read_transcript

RATE = 8000


@pytest.mark.parametrize("text, kind", [
    ("Your call cannot be completed as dialed.", "final"),
    ("Change to which folder?", "final"),
    ("...to remove the participant who most recently joined the conference.", None),  # a piece
    ("Please enter a new extension, followed by pound.", "final"),  # a comma is not a sentence end
    ("To mute or unmute yourself...", "open"),
    ("Press 1 for", "open"),
    ("There are currently", "open"),
    ("I have a caller waiting, who introduces themselves as:", "open"),
    ("Is set to.", None),  # a period after "to": a fragment, not used
    ("To call this number.", None),  # an infinitive alone, spliced before "press 1"
    ("You entered.", None),  # read before digits
    ("Please hold on.", "final"),
    ("press 1 to call this number", None),  # finished, with no mark: not used either way
    ("You are currently caller number", None),
    ("That agent is already logged on.  Please enter your agent number followed by the pound key.", None),
    ("Added.", None),  # one word
    ("[ascending tones]", None),
    ("<beep decending>", None),
    ("", None),
])
def test_prompt_kind_reads_the_transcript(text: str, kind: str | None) -> None:
    assert prompt_kind(text) == kind


@pytest.mark.parametrize("text, kind", [
    ("Vous êtes maintenant en ligne.", "final"),
    ("Ошибка регистрации. Введите номер оператора и нажмите решетку.", None),  # two sentences
    ("Оператор зарегистрирован.", "final"),  # Cyrillic words count
    ("Per accedere alla conferenza...", "open"),
    ("Il numero selezionato è:", "open"),
    ("operatore connesso", None),  # no mark: not used
    ("Attivato.", None),  # one word
    ("Press 1 to.", "final"),  # no English word rules outside English
    ("To call this number.", "final"),  # (English: an infinitive alone, not used)
    ("Press 1 for", None),  # no mark: not used (English: open, on its last word)
    ("You entered.", "final"),  # (English: read before digits, not used)
])
def test_prompt_kind_outside_english_reads_the_punctuation(text: str, kind: str | None) -> None:
    assert prompt_kind(text, "fr") == kind


def _word(s: float, f: float = 220.0) -> np.ndarray:
    t = np.arange(int(s * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32)


def _z(s: float) -> np.ndarray:
    return np.zeros(int(s * RATE), np.float32)


def test_build_labels_final_and_open_turns(tmp_path) -> None:
    sounds = tmp_path / "sounds"
    (sounds / "digits").mkdir(parents=True)
    sf.write(sounds / "done.wav", np.concatenate([_z(0.1), _word(0.4), _z(0.1)]), RATE)  # one run
    # a finished sentence with a 0.2 s pause in it: a hold, stretched in about half the turns
    sf.write(sounds / "paused.wav", np.concatenate([_z(0.1), _word(0.3), _z(0.2), _word(0.3), _z(0.1)]), RATE)
    sf.write(sounds / "open.wav", np.concatenate([_z(0.1), _word(0.3), _z(0.05)]), RATE)
    sf.write(sounds / "digits" / "7.wav", np.concatenate([_z(0.05), _word(0.2, 330.0), _z(0.1)]), RATE)
    sf.write(sounds / "beep.wav", _word(0.2, 1000.0), RATE)
    (tmp_path / "t.txt").write_text("; comment\ndone: That is all.\npaused: Well, that is all.\nopen: To leave the conference...\n"
                                    "digits/7: seven\nbeep: [this is a simple beep tone]\nmissing: Not here.\n"
                                    "inf: To call this number.\n")  # final outside English only
    sf.write(sounds / "inf.wav", np.concatenate([_z(0.1), _word(0.5), _z(0.1)]), RATE)
    split = build(str(tmp_path / "out"), files=3, turns=9, seed=5, sounds=str(sounds), transcript=str(tmp_path / "t.txt"))
    rows = [json.loads(line) for line in open(os.path.join(split, "manifest.jsonl"))]
    opens = stretched = 0
    for row in rows:
        audio, rate = sf.read(os.path.join(split, row["audio"]))
        assert rate == RATE
        kinds, segments = row["meta"]["turn_kinds"], row["meta"]["segments"]
        shifts = [e["t"] for e in row["events"] if e["type"] == "shift"]
        holds = [(e["start"], e["end"]) for e in row["events"] if e["type"] == "hold"]
        assert len(kinds) == len(shifts) == len(segments) == 9 and set(kinds) <= {"final", "open"}
        paused = [seg[2] == "Well, that is all." for seg in segments]
        assert len(holds) == kinds.count("open") + sum(paused)  # "done" is one run
        for kind, seg, t in zip(kinds, segments, shifts):
            assert seg[1] == t
            hold = next((h for h in holds if seg[0] < h[0] < t), None)
            if kind == "open":
                assert seg[2] == "To leave the conference... seven"
                assert 0.3 - 0.02 <= hold[1] - hold[0] <= 1.5 + 0.02  # the drawn pause, edges cut
                assert t - hold[1] == pytest.approx(0.2, abs=0.02)  # "seven" ends the turn
            elif seg[2] == "Well, that is all.":
                assert 0.2 - 0.02 <= hold[1] - hold[0] <= 1.5 + 0.02 and t - hold[1] == pytest.approx(0.3, abs=0.02)
            else:
                assert seg[2] == "That is all." and hold is None and t - seg[0] == pytest.approx(0.4, abs=0.02)
        long_in_final = sum(1 for h in holds for seg, k in zip(segments, kinds)
                            if k == "final" and seg[0] < h[0] < seg[1] and h[1] - h[0] >= 0.45)
        assert long_in_final == row["meta"]["stretched_pauses"]
        stretched += row["meta"]["stretched_pauses"]
        opens += kinds.count("open")
    assert 0 < opens < 27  # about a third of the turns
    assert stretched > 0  # some finished sentences hesitate
    again = build(str(tmp_path / "again"), files=3, turns=9, seed=5, sounds=str(sounds), transcript=str(tmp_path / "t.txt"))
    assert open(os.path.join(again, "manifest.jsonl")).read() == open(os.path.join(split, "manifest.jsonl")).read()
    with pytest.raises(InvalidArgumentError, match="asterisk-core-sounds-en"):
        read_transcript(str(tmp_path / "nope.txt.gz"))
    with pytest.raises(InvalidArgumentError, match="asterisk-core-sounds-en-wav"):
        build(str(tmp_path / "x"), sounds=str(tmp_path / "nope"), transcript=str(tmp_path / "t.txt"))
    (tmp_path / "u.txt").write_text("done: That is all.\n")  # no open prompt, no digit
    with pytest.raises(InvalidArgumentError, match="no open, digit prompts"):
        build(str(tmp_path / "y"), sounds=str(sounds), transcript=str(tmp_path / "u.txt"))
    with pytest.raises(InvalidArgumentError, match="--turns"):
        build(str(tmp_path / "z"), turns=0, sounds=str(sounds), transcript=str(tmp_path / "t.txt"))
    with pytest.raises(InvalidArgumentError, match="--open-share"):
        build(str(tmp_path / "z"), open_share=1.5, sounds=str(sounds), transcript=str(tmp_path / "t.txt"))
    with pytest.raises(InvalidArgumentError, match="--lang"):
        build(str(tmp_path / "z"), lang="../en", sounds=str(sounds), transcript=str(tmp_path / "t.txt"))
    with pytest.raises(InvalidArgumentError, match="asterisk-core-sounds-xx-wav"):
        build(str(tmp_path / "z"), lang="xx", transcript=str(tmp_path / "t.txt"))
    # only finished sentences, in another language's voice label (through the command line)
    assert main(["--out", str(tmp_path / "finals"), "--files", "2", "--turns", "9", "--seed", "5", "--lang", "fr",
                 "--open-share", "0", "--sounds", str(sounds), "--transcript", str(tmp_path / "t.txt")]) == 0
    finals = str(tmp_path / "finals" / "prompts")
    with pytest.raises(InvalidArgumentError, match="asterisk-core-sounds-ru "):
        read_transcript(str(tmp_path / "nope.txt.gz"), "ru")
    texts = set()
    for line in open(os.path.join(finals, "manifest.jsonl")):
        meta = json.loads(line)["meta"]
        assert meta["turn_kinds"] == ["final"] * 9 and meta["voice"] == "recorded:asterisk-june"
        texts |= {seg[2] for seg in meta["segments"]}
    assert "To call this number." in texts  # read with the French rule (English leaves it out)


@pytest.mark.skipif(not (os.path.isfile(TRANSCRIPT) and os.path.isdir(SOUNDS_DIR)),
                    reason="asterisk-core-sounds-en(-wav) not installed (scripts/setup.sh installs them)")
def test_the_packaged_prompts_make_a_split(tmp_path) -> None:
    """The installed prompts: enough of each kind, and a file whose labels sit on its sound."""
    kinds = [prompt_kind(t) for n, t in read_transcript(TRANSCRIPT).items() if "/" not in n]
    assert kinds.count("final") >= 100 and kinds.count("open") >= 20
    split = build(str(tmp_path), files=1, turns=12, seed=0)
    row = json.loads(open(os.path.join(split, "manifest.jsonl")).readline())
    audio, rate = sf.read(os.path.join(split, row["audio"]))
    assert rate == RATE and row["meta"]["turn_kinds"].count("open") >= 1

    def db(a: float, b: float) -> float:
        x = audio[int(a * rate):int(b * rate)]
        return 10 * np.log10(np.mean(x ** 2) + 1e-12)

    speech = np.mean([db(s, e) for s, e, _w, _k in row["meta"]["segments"]])
    for e in row["events"]:
        if e["type"] == "hold":  # a hold is silence between the speaker's words
            assert db(e["start"] + 0.02, e["end"] - 0.02) < speech - 15
        else:  # a shift is where the speech ends
            assert db(e["t"] + 0.02, e["t"] + 0.5) < min(speech - 15, db(e["t"] - 0.15, e["t"]) - 6)
