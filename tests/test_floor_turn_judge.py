"""The Smart Turn judge (turn_judge.py) and the policy's use of it in pauses."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pytest
import trio

from cadence.errors import InvalidArgumentError, InvalidAudioError
from cadence.floor.model import default_weights_path
from cadence.floor.policy import CadencePolicy, mix_log_odds
from cadence.floor.protocol import Decision

from floor_speech import ESPEAK, speak
from test_floor_policy import STEP, _turn

pytest.importorskip("pipecat")
pytestmark = pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")

from cadence.floor.turn_judge import WINDOW_SAMPLES, SmartTurnJudge  # noqa: E402


@pytest.fixture(scope="module")
def judge() -> SmartTurnJudge:
    return SmartTurnJudge()


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed")
def test_judge_is_pipecats_smart_turn(judge: SmartTurnJudge) -> None:
    from cadence.floor.smart_turn import SmartTurnBaseline

    pipecat = SmartTurnBaseline().analyzer
    done = speak("I would like a table for two, please.")
    unfinished = speak("I would like a table for")
    long = np.concatenate([done] * 4)  # over 8 s: only the end is read
    assert len(long) > WINDOW_SAMPLES
    for audio in (done, unfinished, long):
        assert judge.prob_complete(audio) == pytest.approx(pipecat._predict_endpoint(audio)["probability"], abs=1e-6)
    # (no claim on espeak's prosody: Smart Turn judges these TTS turns poorly, floor.md)
    assert 0.0 <= judge.prob_complete(unfinished) <= 1.0


def test_judge_refuses_bad_audio(judge: SmartTurnJudge) -> None:
    with pytest.raises(InvalidAudioError):
        judge.prob_complete(np.zeros((2, 160), np.float32))
    with pytest.raises(InvalidAudioError):
        judge.prob_complete(np.zeros(1600, np.float64))
    bad = np.zeros(1600, np.float32)
    bad[3] = np.nan
    with pytest.raises(InvalidAudioError, match="NaN"):
        judge.prob_complete(bad)


def testmix_log_odds() -> None:
    assert mix_log_odds(0.3, 0.9, 0.0) == pytest.approx(0.3)
    assert mix_log_odds(0.3, 0.9, 1.0) == pytest.approx(0.9)
    assert mix_log_odds(0.3, 0.7, 0.5) == pytest.approx(0.5)
    assert 0.0 < mix_log_odds(0.0, 1.0, 0.5) < 1.0  # clipped, no log(0)


class _Fake:
    """A judge that answers ``p`` and keeps the audio it was asked about."""

    def __init__(self, p: float) -> None:
        self.p = p
        self.asked: list[np.ndarray] = []

    def prob_complete(self, audio: np.ndarray) -> float:
        self.asked.append(audio.copy())
        return self.p


_SPEECH = 60  # frames of the scripted turn


def _script(fake: _Fake, weight: float = 1.0, lead: int = 0, keep: float = 0.5,
            **kw: float) -> tuple[CadencePolicy, np.ndarray, np.ndarray, np.ndarray]:
    """A policy judged by ``fake``, and a 0.6 s turn (``lead`` frames of silence before it)
    and 4 s of silence that Cadence scores ``keep``: the policy, features, model outputs
    and the audio the judge could read (frame k holds k/1e4; ``decide_heard`` reads it)."""
    policy = CadencePolicy(0.9, **{**STEP, "smart_turn_weight": weight, **kw})
    policy.judge = fake  # type: ignore[assignment]
    x, probs = _turn(_SPEECH, 400, keep=keep)  # Cadence alone unsure (0.5): the 1.9 s fallback
    x, probs = (np.concatenate([np.repeat(v[-1:], lead, axis=0), v]) for v in (x, probs))  # a silent lead
    audio = (np.arange(len(x), dtype=np.float32)[:, None] / 1e4).repeat(160, axis=1)
    return policy, x, probs, audio


def _scripted(p_complete: float, weight: float = 1.0, lead: int = 0, keep: float = 0.5,
              **kw: float) -> tuple[list[Decision], _Fake, np.ndarray]:
    """The decisions over ``_script``'s turn and silence under a judge that answers
    ``p_complete``; the judge and the audio it could read."""
    fake = _Fake(p_complete)
    policy, x, probs, audio = _script(fake, weight, lead, keep, **kw)
    return policy.decide_heard(audio, x, probs), fake, audio


def _in_two(policy: CadencePolicy, x: np.ndarray, probs: np.ndarray, audio: np.ndarray,
            split: int) -> tuple[list[Decision], Callable[[], list[Decision]]]:
    """The decisions over the first ``split`` frames, and a call that decides the rest."""
    def rest() -> list[Decision]:
        return policy.decide_heard(audio[split:], x[split:], probs[split:])
    return policy.decide_heard(audio[:split], x[:split], probs[:split]), rest


def _hybrid_commit_s(p_complete: float, weight: float = 1.0, lead: int = 0, keep: float = 0.5,
                     **kw: float) -> tuple[float | None, _Fake, np.ndarray]:
    """Commit time after the end of the scripted turn (``_scripted``), the judge and the audio."""
    decisions, fake, audio = _scripted(p_complete, weight, lead, keep, **kw)
    commits = [d.t for d in decisions if d.kind == "commit"]
    return (round(commits[0] - (lead + _SPEECH) * 0.01, 2) if commits else None), fake, audio


def test_policy_asks_once_per_pause_and_waits_for_the_answer() -> None:
    # the judge is asked at 200 ms of silence; its answer counts 100 ms later (its compute)
    t, fake, audio = _hybrid_commit_s(1.0)
    assert t == pytest.approx(0.30, abs=0.011)
    assert len(fake.asked) == 1
    # it read the turn: from its first speech frame (0: no audio before it) up to the asking frame
    assert np.array_equal(fake.asked[0], audio[:80].reshape(-1))
    assert _hybrid_commit_s(1.0, smart_turn_delay_s=0.0)[0] == pytest.approx(0.20, abs=0.011)
    assert _hybrid_commit_s(1.0, smart_turn_at_s=0.5)[0] == pytest.approx(0.60, abs=0.011)


class _Held(_Fake):
    """A judge whose call does not return until ``go`` is set (at most 5 s)."""

    def __init__(self, p: float) -> None:
        super().__init__(p)
        self.go = threading.Event()
        self.started = threading.Event()
        self.threads: list[threading.Thread] = []

    def prob_complete(self, audio: np.ndarray) -> float:
        self.threads.append(threading.current_thread())
        self.started.set()
        assert self.go.wait(5.0), "the policy waited for the judge before its answer was due"
        return super().prob_complete(audio)


def test_the_judge_thinks_while_the_frames_go_on() -> None:
    # asked at frame 80 (200 ms of silence), due at frame 90: the frames before are decided
    # while the call runs on the policy's own thread, as live frames arrive during the call
    fake = _Held(1.0)
    policy, *turn = _script(fake)
    early, rest = _in_two(policy, *turn, split=89)  # the call is still held here
    assert fake.started.wait(5.0) and fake.threads[0] is not threading.current_thread()
    assert not fake.asked and not any(d.kind == "commit" for d in early)
    fake.go.set()
    late = rest()  # frame 90 waits for the answer, then reads it
    assert [round(d.t - _SPEECH * 0.01, 2) for d in late if d.kind == "commit"][:1] == [0.30]
    assert len(fake.asked) == 1 and len(policy.call_ms) == 1  # its time is kept


def test_live_frames_do_not_wait_for_a_late_answer() -> None:
    # wait_for_judge False (the Floor actor): past the due frame (90) the frames are decided
    # without the answer, and it counts from the first frame after the call is done
    fake = _Held(1.0)
    policy, *turn = _script(fake)
    policy.wait_for_judge = False
    early, rest = _in_two(policy, *turn, split=95)  # returns although the call is still held
    assert fake.started.is_set() and not fake.asked and policy.judged is None
    assert policy.late_answers == 1 and not any(d.kind == "commit" for d in early)
    fake.go.set()
    policy.drain()  # the call is done before frame 95 is decided
    late = rest()
    assert [round(d.t - _SPEECH * 0.01, 2) for d in late if d.kind == "commit"][:1] == [0.36]
    assert policy.late_answers == 1 and len(fake.asked) == 1


def test_the_floor_actor_does_not_wait_for_the_judge() -> None:
    from cadence.floor.actor import FloorActor

    for wait in (False, True):  # live: no wait; a file fed fast: wait
        actor = FloorActor("c", patience=0.5, wait_for_judge=wait)
        trio.run(actor.on_start)  # the policy is built when the actor starts
        assert actor.policy.wait_for_judge is wait
    assert CadencePolicy(0.5).wait_for_judge is True  # bench and tune: every run decides alike


def test_one_long_call_reads_the_audio_a_stream_reads() -> None:
    # a 10 s turn and 3 s of silence: asked 200 ms into the pause (frame 1020) the judge reads
    # the ring's 8.7 s before it intact, whether the frames come in one call or 7 at a time
    def asked(step: int) -> tuple[list[np.ndarray], np.ndarray]:
        fake = _Fake(1.0)
        policy = CadencePolicy(0.9, **{**STEP, "smart_turn_weight": 1.0})
        policy.judge = fake  # type: ignore[assignment]
        x, probs = _turn(1000, 300, keep=0.5)
        audio = (np.arange(len(x), dtype=np.float32)[:, None] / 1e4).repeat(160, axis=1)
        for i in range(0, len(x), step):
            policy.decide_heard(audio[i : i + step], x[i : i + step], probs[i : i + step])
        return fake.asked, audio
    (one, audio), (seven, _) = asked(10**6), asked(7)
    assert len(one) == 1 and np.array_equal(one[0], seven[0])
    assert np.array_equal(one[0], audio[1020 - 870 : 1020].reshape(-1))


def test_drain_waits_for_a_call_whose_answer_is_not_due() -> None:
    fake = _Held(1.0)
    policy, *turn = _script(fake)
    _in_two(policy, *turn, split=85)  # asked at frame 80, due at 90
    threading.Timer(0.2, fake.go.set).start()  # the call ends 0.2 s from now
    policy.drain()
    assert len(fake.asked) == 1 and len(policy.call_ms) == 1 and policy.judged is None


def test_a_judge_that_fails_fails_where_its_answer_is_read() -> None:
    fake = _Fake(1.0)
    fake.prob_complete = lambda audio: 1 / 0  # type: ignore[method-assign]
    _, rest = _in_two(*_script(fake), split=89)  # asked at frame 80: the error waits in the answer
    with pytest.raises(ZeroDivisionError):
        rest()


def test_judge_moves_the_decision_both_ways() -> None:
    # "incomplete" at full weight: P(keep) ≈ 1 ≥ fallback_keep, only max_silence_s commits
    assert _hybrid_commit_s(0.0)[0] == pytest.approx(3.0, abs=0.011)
    # weight 0.5, Cadence unsure (0.5): the judge's 0.99 "complete" gives P(keep) 0.09 < 0.16 (0.9: 0.25)
    assert _hybrid_commit_s(0.99, weight=0.5)[0] == pytest.approx(0.30, abs=0.011)
    assert _hybrid_commit_s(0.9, weight=0.5)[0] == pytest.approx(1.9, abs=0.011)
    # a judge as unsure as Cadence changes nothing: the fallback at 1.9 s
    assert _hybrid_commit_s(0.5, weight=0.5)[0] == pytest.approx(1.9, abs=0.011)


def test_the_veto_only_holds_the_floor() -> None:
    # a sure "complete" would commit at 0.3 s in a mix; as a veto it leaves Cadence's fallback at 1.9 s
    assert _hybrid_commit_s(0.99, weight=0.5)[0] == pytest.approx(0.30, abs=0.011)
    assert _hybrid_commit_s(0.99, weight=0.5, judge_veto=1)[0] == pytest.approx(1.9, abs=0.011)
    # Cadence sure of a turn end (0.1 < commit_keep), asked at once: the wait commits as the pause
    # begins; a sure "incomplete" holds it off, in a veto only up to the fallback (Cadence's own 0.1)
    at_once = {"keep": 0.1, "smart_turn_at_s": 0.05, "smart_turn_delay_s": 0.0}
    assert _hybrid_commit_s(0.99, **at_once)[0] == pytest.approx(0.05, abs=0.011)
    assert _hybrid_commit_s(0.0, judge_veto=1, **at_once)[0] == pytest.approx(1.9, abs=0.011)
    assert _hybrid_commit_s(0.0, **at_once)[0] == pytest.approx(3.0, abs=0.011)  # the mix: the timeout
    for bad in (0.5, 2.0):
        with pytest.raises(InvalidArgumentError, match="judge_veto"):
            CadencePolicy(0.5, smart_turn_weight=0.5, judge_veto=bad)
    with pytest.raises(InvalidArgumentError, match="judge_veto=1 needs smart_turn_weight"):
        CadencePolicy(0.5, judge_veto=1)


def test_the_veto_holds_off_drafts_in_the_silence() -> None:
    # Cadence sure of a turn end (0.1 < speculate_keep), the judge asked and answering at 50 ms
    def drafts(p_complete: float, **kw: float) -> list[float]:
        decisions = _scripted(p_complete, keep=0.1, smart_turn_at_s=0.05, smart_turn_delay_s=0.0,
                              fallback_s=2.5, commit_keep=0.0, **kw)[0]
        return [round(d.t - _SPEECH * 0.01, 2) for d in decisions if d.kind == "speculate"]
    assert drafts(0.99, judge_veto=1) == [0.05]  # a "complete" lowers nothing: the draft as without a judge
    assert drafts(0.0, judge_veto=1) == []  # a sure "incomplete" holds it off
    assert drafts(0.0) == []  # as the mix does


def test_the_release_only_lets_go_at_the_fallback() -> None:
    # Cadence sure the user goes on (0.95 >= fallback_keep), the judge too: the 3 s timeout
    assert _hybrid_commit_s(0.0, weight=0.5, keep=0.95, judge_release=1)[0] == pytest.approx(3.0, abs=0.011)
    # a sure "complete" mixed in commits once it is read (0.3 s: the mix's 0.12 < commit_keep); as a
    # release it lets go at the fallback (1.9 s: min(0.95, 0.12) < fallback_keep), and a plainer
    # "complete" too (the mix's 0.30)
    assert _hybrid_commit_s(0.999, weight=0.5, keep=0.95)[0] == pytest.approx(0.30, abs=0.011)
    assert _hybrid_commit_s(0.999, weight=0.5, keep=0.95, judge_release=1)[0] == pytest.approx(1.9, abs=0.011)
    assert _hybrid_commit_s(0.99, weight=0.5, keep=0.95, judge_release=1)[0] == pytest.approx(1.9, abs=0.011)
    # an unsure judge (0.5) at weight 0.25 leaves the mix at 0.901 >= fallback_keep: the timeout
    assert _hybrid_commit_s(0.5, weight=0.25, keep=0.95, judge_release=1)[0] == pytest.approx(3.0, abs=0.011)
    # the smaller of the two: Cadence unsure (0.5 < fallback_keep), a sure "incomplete" (the mix's
    # 0.99) does not hold the fallback off
    assert _hybrid_commit_s(0.0, weight=0.5, judge_release=1)[0] == pytest.approx(1.9, abs=0.011)
    # an "incomplete" never holds the floor in a release: Cadence's own wait commits as without a judge
    at_once = {"keep": 0.1, "smart_turn_at_s": 0.05, "smart_turn_delay_s": 0.0}
    assert _hybrid_commit_s(0.0, **at_once)[0] == pytest.approx(3.0, abs=0.011)  # the mix: the timeout
    assert _hybrid_commit_s(0.0, judge_release=1, **at_once)[0] == pytest.approx(0.05, abs=0.011)
    for bad in (0.5, 2.0):
        with pytest.raises(InvalidArgumentError, match="judge_release"):
            CadencePolicy(0.5, smart_turn_weight=0.5, judge_release=bad)
    with pytest.raises(InvalidArgumentError, match="judge_release=1 needs smart_turn_weight"):
        CadencePolicy(0.5, judge_release=1)
    with pytest.raises(InvalidArgumentError, match="exclude each other"):
        CadencePolicy(0.5, smart_turn_weight=0.5, judge_veto=1, judge_release=1)
    assert CadencePolicy(0.5, smart_turn_weight=0.5, judge_release=1).name == "cadence+smart-turn(p=0.5,w=0.5,release)"


def test_the_release_leaves_drafts_in_the_silence_alone() -> None:
    # Cadence sure of a turn end (0.1 < speculate_keep): a sure "incomplete" holds off the draft
    # in a mix, not in a release
    def drafts(p_complete: float, **kw: float) -> list[float]:
        decisions = _scripted(p_complete, keep=0.1, smart_turn_at_s=0.05, smart_turn_delay_s=0.0,
                              fallback_s=2.5, commit_keep=0.0, **kw)[0]
        return [round(d.t - _SPEECH * 0.01, 2) for d in decisions if d.kind == "speculate"]
    assert drafts(0.0) == []
    assert drafts(0.0, judge_release=1) == [0.05]


def test_hybrid_needs_the_audio_and_a_valid_weight() -> None:
    policy = CadencePolicy(0.5, smart_turn_weight=0.5)
    policy.judge = _Fake(1.0)  # type: ignore[assignment]
    x, probs = _turn(60, 100, keep=0.5)
    with pytest.raises(InvalidArgumentError, match="needs the audio"):
        policy.decide(x, probs)
    with pytest.raises(InvalidArgumentError, match="frames must have one row per feature frame"):
        policy.decide_heard(np.zeros((len(x) - 1, 160), np.float32), x, probs)  # checked before any step
    assert policy.frame == 0
    for bad in (-0.1, 1.5):
        with pytest.raises(InvalidArgumentError, match="smart_turn_weight"):
            CadencePolicy(0.5, smart_turn_weight=bad)
    with pytest.raises(InvalidArgumentError, match="smart_turn_at_s"):
        CadencePolicy(0.5, smart_turn_weight=0.5, smart_turn_at_s=0.0)
    assert CadencePolicy(0.5).judge is None  # the default asks nobody


def test_a_pipecat_without_the_model_gets_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from cadence.floor import turn_judge

    monkeypatch.setattr(turn_judge, "_MODEL", "no-such-model.onnx")
    with pytest.raises(ImportError, match="no-such-model.onnx"):
        turn_judge.SmartTurnJudge()


def test_judge_reads_from_0_7_s_before_the_turn() -> None:
    lead = 100  # a second of silence before the user speaks
    t, fake, audio = _hybrid_commit_s(1.0, lead=lead)
    assert t == pytest.approx(0.30, abs=0.011)
    # speech began at frame 100; asked at 200 ms of silence (frame 179): frames 30 … 179
    assert np.array_equal(fake.asked[0], audio[lead - 70 : lead + 80].reshape(-1))
    # one chunk longer than the judge's 8.7 s ring (960 frames): its end is kept in order
    t, fake, audio = _hybrid_commit_s(1.0, lead=500)
    assert t == pytest.approx(0.30, abs=0.011)
    assert np.array_equal(fake.asked[0], audio[430:580].reshape(-1))
