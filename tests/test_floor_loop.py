"""The closed-loop bench (`cadence bench floor-loop`): the simulated persona's playout and echo,
the talk-over scoring, the duplex baselines, and a run end to end on a tiny espeak corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError, InvalidAudioError
from cadence.floor.persona_sim import EchoPath, Playout
from cadence.floor.protocol import Decision

pytest.importorskip("onnxruntime")
sf = pytest.importorskip("soundfile")

from cadence.floor import bench, loop  # noqa: E402
from cadence.floor.duplex_baselines import AecVadBaseline, HalfDuplexBaseline  # noqa: E402

from floor_speech import frames_of, render, speak  # noqa: E402

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
RATE = 16000


def _clip(frames: int, value: float = 0.1) -> np.ndarray:
    return np.full(frames * 160, value, np.float32)


def test_playout_follows_the_decisions() -> None:
    play = Playout([_clip(5), _clip(3, 0.2)], delay=2)
    assert not play.next_frame(0).any() and play.state == "idle"
    assert play.decide("commit", 0) and play.state == "pending"
    assert not play.decide("commit", 0)  # a second commit starts nothing
    assert not play.next_frame(1).any() and not play.next_frame(2).any()  # frames 1–2: the delay
    assert play.next_frame(3)[0] == pytest.approx(0.1) and play.sounding
    assert play.decide("pause", 3) and not play.next_frame(4).any() and not play.sounding
    assert not play.decide("pause", 4) and play.decide("resume", 4)
    for f in range(5, 9):  # the reply goes on where it stopped: 4 frames left
        assert play.next_frame(f)[0] == pytest.approx(0.1)
    assert play.state == "idle" and play.finished == 1
    assert play.decide("commit", 9) and play.decide("bargein", 9) and play.yielded == 1
    assert not play.next_frame(13).any() and play.started == 2
    assert not play.decide("bargein", 13) and not play.decide("resume", 13)
    with pytest.raises(InvalidArgumentError):
        Playout([], 1)
    with pytest.raises(InvalidArgumentError):
        Playout([_clip(1)], -1)
    with pytest.raises(InvalidArgumentError, match="whole"):
        Playout([np.zeros(100, np.float32)], 1)


def test_playout_takes_the_replies_in_the_given_order() -> None:
    play = Playout([_clip(1, 0.1), _clip(1, 0.2), _clip(1, 0.3)], delay=0, order=np.array([2, 0, 1]))
    got = []
    for f in range(0, 9, 3):
        play.decide("commit", f)
        got.append(round(float(play.next_frame(f + 1)[0]), 2))
    assert got == [0.3, 0.1, 0.2]


def test_echo_path_delays_and_attenuates() -> None:
    echo = EchoPath(np.random.default_rng(3))
    played = np.zeros(160 * 20, np.float32)
    played[:1600] = np.sin(2 * np.pi * 300 * np.arange(1600) / RATE).astype(np.float32)
    out = np.concatenate([echo.push(played[i : i + 160]) for i in range(0, len(played), 160)])
    d = int(echo.delay_s * RATE)
    assert np.abs(out[: d - 5]).max() == 0.0  # nothing before the path's delay
    level = 20 * np.log10(np.sqrt(np.mean(out[d + 400 : d + 1400] ** 2)) / np.sqrt(0.5))
    assert level == pytest.approx(echo.gain_db, abs=1.0)  # 300 Hz passes the low-pass
    assert set(echo.meta()) == {"delay_s", "gain_db", "cutoff_hz"}


def test_talk_overs_begin_on_the_user_or_the_reply_and_end_where_playback_stops() -> None:
    playing = np.zeros(500, bool)
    playing[100:200] = True  # a reply, 1.0–2.0 s
    playing[300:400] = True  # another, 3.0–4.0 s
    stretches = [(1.5, 1.8, "final"),  # the user starts over the first reply: stops at 2.0
                 (1.2, 1.3, "backchannel"),  # a backchannel: no talk-over
                 (2.9, 3.5, "continuation")]  # the second reply starts inside the user's speech
    overs = loop.talk_overs(playing, stretches)
    assert [(b, round(x, 3), k) for b, x, k in overs] == [(1.5, 0.5, "user"), (3.0, 1.0, "reply")]
    playing[450:] = True
    assert loop.talk_overs(playing, [(4.6, 4.8, "final")]) == [(4.6, None, "user")]  # plays to the end


def test_a_reply_starting_off_the_10_ms_grid_is_timed_from_its_own_frame() -> None:
    playing = np.zeros(100, bool)
    playing[29:60] = True  # 0.29 / 0.01 is 28.999…: the frame must still be 29
    assert loop.talk_overs(playing, [(0.2, 1.0, "final")]) == [(pytest.approx(0.29), pytest.approx(0.31), "reply")]


def test_loop_counts_self_stops_and_backchannels() -> None:
    playing = np.zeros(600, bool)
    playing[100:300] = True
    stretches = [(1.5, 1.9, "bargein"), (2.2, 2.5, "backchannel")]
    decs = [(Decision("pause", 1.2), True, "playing"),  # no user speech in the 600 ms before: the persona's own
            (Decision("bargein", 1.25), True, "paused"),  # drops that paused reply: a self-yield, not a second stop
            (Decision("bargein", 1.6), True, "playing"),  # the user's
            (Decision("bargein", 2.4), True, "playing"),  # yields to the backchannel
            (Decision("bargein", 0.5), True, "pending"),  # a reply not yet audible: neither
            (Decision("pause", 5.0), False, "idle")]  # acted on nothing: not counted
    c = loop.loop_counts(decs, playing, stretches)
    assert c["self_stops"] == 1 and c["self_yields"] == 1
    assert c["backchannels"] == 1 and c["backchannels_yielded"] == 1
    assert c["persona_min"] == pytest.approx(2.0 / 60.0)
    assert c["overlap_s"] == pytest.approx(0.4 + 0.3)
    assert c["talkovers"] == 1 and c["stopped_in_time"] == 0  # the stretch began at 1.5, playing until 3.0
    assert c["user_talkovers"] == 1 and c["user_stopped_in_time"] == 0


class _Scripted:
    """A policy that commits in frame 10 and barges in in frame 30, and records the reference."""

    name = "scripted"

    def reset(self) -> None:
        self.frame, self.heard = 0, []

    def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list[Decision]:
        out = []
        for i in range(len(frames)):
            assert reference is not None
            self.heard.append(bool(np.any(reference[i])))
            if self.frame in (10, 30):
                out.append(Decision("commit" if self.frame == 10 else "bargein", (self.frame + 1) / 100))
            self.frame += 1
        return out


def test_play_file_acts_from_the_next_chunk_after_the_delay() -> None:
    pol = _Scripted()
    frames = np.zeros((60, 160), np.float32)
    decs, playing, tallies = loop.play_file(pol, frames, np.random.default_rng(0), [_clip(100)], delay=5)
    # the commit in frame 10 (chunk 10–11) starts the reply 1 + 5 frames after the chunk
    assert np.flatnonzero(playing).tolist() == list(range(17, 32))  # the barge-in in frame 30: silent from 32
    assert pol.heard == playing.tolist()  # the policy's reference is what played
    assert [(d.kind, ok, prev) for d, ok, prev in decs] == [("commit", True, "idle"), ("bargein", True, "playing")]
    assert tallies["replies"] == 1 and tallies["yielded"] == 1 and tallies["ignored_commits"] == 0


def test_counts_report_reads_other_columns() -> None:
    from cadence.floor.stop_intervals import counts_report

    # per file: talk-overs, stopped in time, the user's, stopped in time, overlap s, self-stops,
    # self-yields, playback min, backchannels, yielded to
    rows = [[4, 3, 2, 1, 1.0, 0, 0, 1.0, 0, 0], [2, 1, 2, 2, 0.5, 1, 0, 1.0, 0, 0]] * 3
    counts = {"a": np.array(rows, np.float64)}
    rep = counts_report(counts, 200, columns=loop.LOOP_COUNTS, metrics=loop.LOOP_METRICS)
    assert rep is not None
    got = rep["policies"]["a"]["stop_within_150ms_share"]
    assert got["point"] == pytest.approx(4 / 6) and got["lo"] <= got["point"] <= got["hi"] and got["files"] == 6
    assert rep["policies"]["a"]["self_stops_per_persona_min"]["point"] == pytest.approx(0.5)
    assert rep["policies"]["a"]["backchannel_yield_share"] is None  # no file has a backchannel


@needs_espeak
def test_half_duplex_hears_nothing_while_the_persona_talks() -> None:
    audio, spans = render([("I would like a table for two.", 2.0)])
    x = frames_of(audio)
    loud = np.full_like(x, 0.05)
    free = HalfDuplexBaseline(500)
    assert [d.kind for d in free.process(x)] == ["commit"]
    muted = HalfDuplexBaseline(500)
    assert muted.process(x, reference=loud) == []  # the persona talked throughout: the mic was off
    with pytest.raises(InvalidAudioError):
        muted.process(x, reference=loud[:-1])


@needs_espeak
def test_aec3_vad_interrupts_for_the_user_not_for_its_own_echo() -> None:
    persona = np.tile(speak("Let me tell you about our opening hours and the menu today."), 3)[: 6 * RATE]
    ref = frames_of(persona)
    echo = np.concatenate([np.zeros(480, np.float32), persona[:-480]]) * 0.1  # −20 dB, 30 ms late
    mic = echo.copy()
    user = speak("No, wait, stop.")
    start = 4 * RATE
    mic[start : start + len(user)] += user[: len(mic) - start]
    base = AecVadBaseline(500)
    decs = [d for i in range(0, len(ref), 2) for d in base.process(frames_of(mic)[i : i + 2], reference=ref[i : i + 2])]
    barges = [d.t for d in decs if d.kind == "bargein"]
    assert len(barges) == 1 and 4.0 + 0.2 <= barges[0] <= 4.0 + 0.5  # 200 ms of the user's speech, not the echo
    base.reset()
    alone = [d for i in range(0, len(ref), 2) for d in base.process(frames_of(echo)[i : i + 2], reference=ref[i : i + 2])]
    assert alone == []  # its own echo neither interrupts it nor opens a turn


@pytest.fixture(scope="module")
def loop_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    d = tmp_path_factory.mktemp("floor_loop")
    lines = []
    for i, voice in enumerate(["en-us", "en-gb"]):
        # turn ends 1.2 s apart: a reply of a few seconds meets the next turn
        script = [("Could you book me a table for tonight?", 1.2), ("For four people, at eight.", 1.2),
                  ("And a quiet corner, please.", 3.0)]
        audio, spans = render(script, voice=voice, seed=i)
        sf.write(d / f"f{i}.wav", audio, RATE, subtype="PCM_16")
        events = [{"type": "shift", "t": round(e, 4)} for _, e in spans]
        segments = [[round(s, 4), round(e, 4), text, "final"] for (s, e), (text, _) in zip(spans, script)]
        lines.append(json.dumps({"audio": f"f{i}.wav", "events": events, "meta": {"segments": segments}}))
    sf.write(d / "dup.wav", np.zeros(RATE, np.float32), RATE)
    sf.write(d / "dup.persona.wav", np.zeros(RATE, np.float32), RATE)  # a duplex file: left out
    lines.append(json.dumps({"audio": "dup.wav", "events": []}))
    (d / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return d


@needs_espeak
def test_run_loop_end_to_end(loop_corpus: Path, tmp_path: Path) -> None:
    pytest.importorskip("piper")
    specs = bench.parse_policies("cadence,aec3-vad-500,half-duplex-500", [0.5])
    rep = loop.run_loop(str(loop_corpus), specs, jobs=1, resamples=0)
    assert rep["config"]["n_files"] == 2 and rep["config"]["duplex_left_out"] == 1
    s = rep["summary"]
    for lb in ("cadence@0.5", "aec3-vad-500", "half-duplex-500"):
        lp = s[lb]["loop"]
        assert lp["replies"] >= 2 and lp["persona_min"] > 0
        assert s[lb]["recall"] is not None
    # half duplex never stops for the user: its replies run over the next turns
    hd = s["half-duplex-500"]["loop"]
    assert hd["talkovers"] >= 1 and hd["yielded"] == 0 and hd["stop_median_ms"] > 150
    assert s["aec3-vad-500"]["loop"]["stop_median_ms"] >= 200  # it waits for 200 ms of speech
    from cadence.floor.intervals import MIN_RESAMPLES

    again = loop.run_loop(str(loop_corpus), specs, jobs=1, resamples=MIN_RESAMPLES,
                          pairs=[("cadence@0.5", "half-duplex-500")])
    assert again["files"] == rep["files"]  # the same seed plays the same conversation
    li = again["loop_intervals"]["policies"]["half-duplex-500"]["stop_within_150ms_share"]
    assert li is not None and li["point"] == pytest.approx(hd["stop_within_150ms_share"])
    assert "cadence@0.5 − half-duplex-500" in loop.render_markdown(again)
    out = tmp_path / "loop.json"
    md = tmp_path / "loop.md"
    assert loop.main(["--corpus", str(loop_corpus), "--policies", "half-duplex-500", "--jobs", "1",
                      "--resamples", "0", "--json", str(out), "--markdown", str(md)]) == 0
    doc = json.loads(out.read_text())
    assert {"files", "summary", "config"} <= set(doc) and "talk-overs" in md.read_text()
    with pytest.raises(InvalidArgumentError, match="reply delay"):
        loop.run_loop(str(loop_corpus), specs, delay_ms=-5)


@needs_espeak
def test_floor_loop_runs_the_model_file_it_is_given(loop_corpus: Path, tmp_path: Path, capsys: Any) -> None:
    pytest.importorskip("piper")
    from cadence.floor.model import default_weights_path

    # a model that always hears the user keep the floor: it answers only by the fallback, later
    z = dict(np.load(default_weights_path()))
    for k in [k for k in z if k.endswith("/out_b")]:
        z[k] = z[k].copy()
        z[k][0] = 30.0  # keep
    w = tmp_path / "keeps.npz"
    np.savez(w, **z)
    args = ["--corpus", str(loop_corpus), "--policies", "cadence", "--jobs", "1", "--max-files", "1",
            "--resamples", "0"]
    assert loop.main([*args, "--weights", str(w), "--json", str(tmp_path / "keeps.json")]) == 0
    keeps = json.loads((tmp_path / "keeps.json").read_text())
    assert keeps["config"]["weights"].startswith(str(w))
    assert "floor_persona.npz" in keeps["config"]["persona_weights"]  # not replaced by --weights
    assert loop.main([*args, "--json", str(tmp_path / "packaged.json")]) == 0
    packaged = json.loads((tmp_path / "packaged.json").read_text())
    assert str(default_weights_path()) in packaged["config"]["weights"]
    first = [f["commits"][0] for f in (keeps["files"][0], packaged["files"][0])]
    assert first[0] > first[1] + 0.3  # the given model, not the packaged one, decided
    with pytest.raises(SystemExit):
        loop.main([*args, "--weights", str(tmp_path / "missing.npz")])
    assert "no such file" in capsys.readouterr().err


def test_the_duplex_baselines_are_named_policies_of_both_benches() -> None:
    for name, cls in (("half-duplex-300", HalfDuplexBaseline), ("aec3-vad-650", AecVadBaseline)):
        pol = bench.make_policy(bench.PolicySpec(name, name))
        assert isinstance(pol, cls) and pol.name == name
    with pytest.raises(InvalidArgumentError, match="half-duplex-<ms>"):
        bench.make_policy(bench.PolicySpec("full-duplex-5", "full-duplex-5"))
    with pytest.raises(InvalidArgumentError):
        AecVadBaseline(0)


@needs_espeak
def test_floor_loop_runs_the_persona_networks_it_is_given(loop_corpus: Path, tmp_path: Path,
                                                          capsys: Any) -> None:
    pytest.importorskip("piper")
    from cadence.floor.model import default_persona_weights_path

    # persona networks deaf to the user over the persona's voice: no barge-in, no onset, no voice
    z = dict(np.load(default_persona_weights_path()))
    for k in [k for k in z if k.endswith(("/onset_b", "/confirm_b", "/voice_b"))]:
        z[k] = np.array(-30.0, np.float32)
    for k in [k for k in z if k.endswith("/out_b")]:
        z[k] = z[k].copy()
        z[k][4] = -30.0  # bargein
    w = tmp_path / "deaf.npz"
    np.savez(w, **z)
    args = ["--corpus", str(loop_corpus), "--policies", "cadence", "--jobs", "1", "--resamples", "0"]
    assert loop.main([*args, "--persona-weights", str(w), "--json", str(tmp_path / "deaf.json")]) == 0
    deaf = json.loads((tmp_path / "deaf.json").read_text())
    assert deaf["config"]["persona_weights"].startswith(str(w))
    assert "floor_gru.npz" in deaf["config"]["weights"]  # the turn's networks stay the packaged ones
    assert loop.main([*args, "--json", str(tmp_path / "packaged.json")]) == 0
    packaged = json.loads((tmp_path / "packaged.json").read_text())
    d, p = deaf["summary"]["cadence@0.5"]["loop"], packaged["summary"]["cadence@0.5"]["loop"]
    # the packaged persona networks stop the reply when the user goes on over it; deaf ones never do
    assert p["talkovers"] > 0 and p["yielded"] > 0 and p["stop_within_150ms_share"] == 1.0
    assert d["yielded"] == 0 and d["stop_within_150ms_share"] == 0.0
    junk = tmp_path / "junk.npz"
    np.savez(junk, a=np.zeros(3))
    for bad, why in ((tmp_path / "missing.npz", "no such file"), (junk, "--persona-weights")):
        with pytest.raises(SystemExit):
            loop.main([*args, "--persona-weights", str(bad)])
        assert why in capsys.readouterr().err
