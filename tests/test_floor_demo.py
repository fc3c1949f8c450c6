"""``cadence demo``'s floor part: a rendered conversation and a user's own WAV."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf

from cadence.errors import InvalidArgumentError
from cadence.floor import demo
from cadence.floor.model import default_weights_path

from floor_speech import ESPEAK, render

pytestmark = [
    pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed"),
    pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights"),
]


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite not installed")
def test_rendered_conversation_scores_cadence_and_the_silence_agent(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.run(["--seed", "21"]) == 0
    out = capsys.readouterr().out
    assert "truth  user's turn ends" in out and "floor  COMMIT" in out
    assert "truth  user barges in" in out and "floor  pause persona playout" in out
    rows = [line.split() for line in out.splitlines() if "Cadence (patience" in line or "800 ms silence" in line]
    assert len(rows) == 2
    # seed 21 has 8 user turns; both agents are scored on all of them
    assert rows[0][-7] == rows[1][-7] == "8"
    # answers with a draft begun before them: Cadence speculates, the silence agent never does
    answered, drafted = int(rows[0][-6]), int(rows[0][-5])
    assert 1 <= drafted <= answered and rows[1][-5] == "0"


def test_own_wav_prints_the_decisions(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    audio, spans = render([("Could you book a table for two tonight?", 1.5)])
    path = tmp_path / "me.wav"
    sf.write(path, np.clip(audio, -1, 1), 16000)
    assert demo.run(["--wav", str(path), "--patience", "0.3"]) == 0
    out = capsys.readouterr().out
    commits = [float(line.split()[0]) for line in out.splitlines() if "COMMIT" in line]
    assert len(commits) == 1 and spans[0][1] - 0.1 <= commits[0] <= spans[0][1] + 1.5
    assert "on this conversation" not in out  # no labels, no score


def test_own_wav_with_each_judge(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pipecat")
    audio, spans = render([("Could you book a table for two tonight?", 3.5)])
    path = tmp_path / "me.wav"
    sf.write(path, np.clip(audio, -1, 1), 16000)
    for judge in demo.JUDGES:  # each answers the one turn once
        assert demo.run(["--wav", str(path), "--judge", judge]) == 0
        commits = [float(line.split()[0]) for line in capsys.readouterr().out.splitlines() if "COMMIT" in line]
        assert len(commits) == 1 and spans[0][1] - 0.1 <= commits[0] <= spans[0][1] + 3.1, judge
    with pytest.raises(InvalidArgumentError, match="smart_turn_weight"):
        demo.run(["--wav", str(path), "--judge", "veto", "--smart-turn-weight", "2"])
    with pytest.raises(InvalidArgumentError, match="--judge veto"):
        demo.run(["--wav", str(path), "--smart-turn-weight", "0.5"])  # the default has no judge to weigh
    with pytest.raises(SystemExit):
        demo.run(["--wav", str(path), "--judge", "oracle"])
    # a head file of one's own (cadence train judge): read only by a judge that reads a head
    from cadence.floor.turn_judge import JudgeHead

    packaged = JudgeHead.load()
    JudgeHead(packaged.mean, packaged.std, np.zeros_like(packaged.w), 30.0, window_s=2.0).save(tmp_path / "h.npz")
    assert demo.run(["--wav", str(path), "--judge", "veto", "--judge-head", str(tmp_path / "h.npz")]) == 0
    assert sum("COMMIT" in line for line in capsys.readouterr().out.splitlines()) == 1
    with pytest.raises(InvalidArgumentError, match="--judge veto or head"):
        demo.run(["--wav", str(path), "--judge", "smart-turn", "--judge-head", str(tmp_path / "h.npz")])
    with pytest.raises(InvalidArgumentError, match="not a judge head"):
        demo.run(["--wav", str(path), "--judge", "veto", "--judge-head", str(tmp_path / "none.npz")])


def test_persona_needs_a_wav() -> None:
    with pytest.raises(InvalidArgumentError, match="--persona needs --wav"):
        demo.run(["--persona", "x.wav"])


@pytest.mark.skipif(shutil.which("flite") is None, reason="flite not installed")
def test_the_floor_actor_stops_the_persona_within_150_ms_of_each_barge_in(tmp_path) -> None:
    """The product requirement at the actor's boundary: the demo's duplex conversation (its
    playback through the actor's reference ring) streamed through a FloorActor; every labelled
    barge-in is met by a PausePlayout or BargeIn stamped, in media time, within 150 ms of it,
    and every PausePlayout is closed by a ResumePlayout or a BargeIn."""
    import trio

    from cadence.messages import BargeIn, PausePlayout, ResumePlayout

    inp = demo._render(21, str(tmp_path))
    assert inp.entry is not None
    barge_ins = [e["t"] for e in inp.entry["events"] if e["type"] == "bargein"]
    assert len(barge_ins) >= 3
    got = trio.run(demo._stream, inp, 0.5, False, False)
    stops = [t for t, m in got if isinstance(m, (PausePlayout, BargeIn))]
    for b in barge_ins:
        first = min((t for t in stops if t >= b - 0.01), default=None)
        assert first is not None and first - b <= 0.150, (b, first)
    kinds = [type(m) for _t, m in sorted(got, key=lambda x: x[0]) if isinstance(m, (PausePlayout, ResumePlayout, BargeIn))]
    for k, nxt in zip(kinds, kinds[1:] + [None]):
        if k is PausePlayout:
            assert nxt in (ResumePlayout, BargeIn)
