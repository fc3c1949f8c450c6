"""Cadence's hold/shift head on Smart Turn v3.2's encoder (``cadence train judge``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor.judge_head import OFFSET_S, PRE_S, pause_windows
from cadence.floor.policy import CadencePolicy, PolicyConfig
from cadence.floor.scoring import labels_from_manifest
from cadence.floor.turn_judge import DEFAULT_HEAD, EMBEDDING_WIDTH, JudgeHead

R = 16000


def test_pause_windows_follow_the_labels() -> None:
    entry = {"events": [
        {"type": "hold", "start": 1.0, "end": 1.5},
        {"type": "hold", "start": 2.0, "end": 2.15},  # too short to be judged 0.2 s in
        {"type": "shift", "t": 3.0},
        {"type": "backchannel", "start": 3.5, "end": 3.8},
        {"type": "shift", "t": 14.0},
        {"type": "hold", "start": 14.9, "end": 16.0},  # the next turn: starts after the shift
    ]}
    got = pause_windows(labels_from_manifest(entry), 20 * R)
    ends = [round(b / R, 3) for _a, b, _y in got]
    starts = [round(a / R, 3) for a, _b, _y in got]
    assert ends == [1.2, 3.2, 14.2, 15.1]
    assert starts == [0.0, 0.0, 6.2, 14.1]
    assert [y for *_x, y in got] == [1.0, 0.0, 0.0, 1.0]
    # a pause past the end of the audio, or with under 0.5 s of audio before it, is left out
    assert pause_windows(labels_from_manifest(entry), int(3.1 * R)) == got[:1]
    assert pause_windows(labels_from_manifest({"events": [{"type": "shift", "t": 0.1}]}), R) == []
    # a head fitted on shorter windows reads the last window_s before each decision point
    short = pause_windows(labels_from_manifest(entry), 20 * R, window_s=3.0)
    assert [(round(a / R, 3), round(b / R, 3)) for a, b, _y in short] == [(0.0, 1.2), (0.2, 3.2), (11.2, 14.2),
                                                                            (14.1, 15.1)]
    for bad in (0.4, 8.5):
        with pytest.raises(InvalidArgumentError, match="window_s"):
            pause_windows(labels_from_manifest(entry), 20 * R, window_s=bad)


def _head(rng: np.random.Generator) -> JudgeHead:
    return JudgeHead(mean=rng.standard_normal(EMBEDDING_WIDTH).astype(np.float32),
                     std=np.full(EMBEDDING_WIDTH, 2.0, np.float32),
                     w=rng.standard_normal(EMBEDDING_WIDTH).astype(np.float32), b=0.25)


def test_head_round_trips_and_refuses_bad_weights(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    head = _head(rng)
    head.save(tmp_path / "h.npz")
    back = JudgeHead.load(tmp_path / "h.npz")
    z = rng.standard_normal((5, EMBEDDING_WIDTH)).astype(np.float32)
    expect = 1.0 / (1.0 + np.exp(-(((z - head.mean) / 2.0) @ head.w + 0.25)))
    np.testing.assert_allclose(back.prob_hold(z), expect, rtol=1e-5)
    with pytest.raises(InvalidArgumentError, match="shape"):
        JudgeHead(mean=head.mean[:10], std=head.std, w=head.w, b=0.0)
    with pytest.raises(InvalidArgumentError):
        JudgeHead(mean=head.mean, std=np.zeros(EMBEDDING_WIDTH, np.float32), w=head.w, b=0.0)
    with pytest.raises(InvalidArgumentError):
        JudgeHead(mean=head.mean, std=head.std, w=head.w, b=float("nan"))
    assert back.window_s == 8.0
    JudgeHead(head.mean, head.std, head.w, 0.25, window_s=3.0).save(tmp_path / "h3.npz")
    assert JudgeHead.load(tmp_path / "h3.npz").window_s == 3.0
    np.savez(tmp_path / "old.npz", mean=head.mean, std=head.std, w=head.w, b=np.float32(0.25))
    assert JudgeHead.load(tmp_path / "old.npz").window_s == 8.0  # written before window_s: the whole 8 s
    with pytest.raises(InvalidArgumentError, match="window_s"):
        JudgeHead(mean=head.mean, std=head.std, w=head.w, b=0.0, window_s=9.0)
    np.savez(tmp_path / "bad.npz", mean=head.mean)
    with pytest.raises(InvalidArgumentError, match="not a judge head"):
        JudgeHead.load(tmp_path / "bad.npz")
    with pytest.raises(InvalidArgumentError, match="not a judge head"):
        JudgeHead.load(tmp_path / "missing.npz")
    np.save(tmp_path / "plain.npy", head.w)
    with pytest.raises(InvalidArgumentError, match="not a judge head"):
        JudgeHead.load(tmp_path / "plain.npy")
    np.savez(tmp_path / "b.npz", mean=head.mean, std=head.std, w=head.w, b=np.ones(3))
    with pytest.raises(InvalidArgumentError, match="not a judge head"):
        JudgeHead.load(tmp_path / "b.npz")


def test_a_weighted_corpus_counts_more() -> None:
    """Two corpora that disagree on the same inputs: the head sides with the one weighted up."""
    pytest.importorskip("torch")
    from cadence.floor.judge_head import fit_judge_head

    rng = np.random.default_rng(1)
    z = np.zeros((200, EMBEDDING_WIDTH), np.float32)
    z[:, 0] = rng.standard_normal(200)
    y = (z[:, 0] > 0).astype(np.float32)  # one corpus: the first input up means a hold
    parts = [(z, y), (z[:100], 1.0 - y[:100])]  # a smaller one that reads it the other way
    side = [fit_judge_head(parts, k, l2=0.01, window_s=3.0) for k in ([1, 1], [1, 3])]
    assert side[0].w[0] > 0 > side[1].w[0] and side[1].window_s == 3.0
    for bad in ([1], [1, 0]):
        with pytest.raises(InvalidArgumentError, match="weights"):
            fit_judge_head(parts, bad, l2=0.01)


def test_packaged_head_loads() -> None:
    head = JudgeHead.load(DEFAULT_HEAD)
    assert head.w.shape == (EMBEDDING_WIDTH,) and DEFAULT_HEAD.stat().st_size < 20_000


def test_judge_head_setting_is_checked() -> None:
    with pytest.raises(InvalidArgumentError, match="judge_head"):
        PolicyConfig(judge_head=0.5)
    assert PolicyConfig(judge_head=1.0, smart_turn_weight=0.5).judge_head == 1.0


def test_policy_asks_cadences_head() -> None:
    pytest.importorskip("pipecat")
    from floor_speech import ESPEAK, speak

    if ESPEAK is None:
        pytest.skip("espeak-ng not installed")
    from cadence.floor.turn_judge import SmartTurnJudge

    plain, headed = SmartTurnJudge(), SmartTurnJudge(JudgeHead.load())
    audio = speak("I would like a table for two, please.")
    p, emb = headed.judge(audio)
    assert emb.shape == (EMBEDDING_WIDTH,) and np.isfinite(emb).all()
    assert p == pytest.approx(plain.prob_complete(audio), abs=1e-6)  # the classifier is untouched
    assert headed.prob_complete(audio) == pytest.approx(1.0 - float(headed.head.prob_hold(emb)), abs=1e-6)  # type: ignore[union-attr]
    # a head fitted on the last 1 s reads only that: the rest of the turn changes nothing
    head = headed.head
    assert head is not None
    short = SmartTurnJudge(JudgeHead(head.mean, head.std, head.w, head.b, window_s=1.0))
    longer = np.concatenate([speak("Well, let me think about it for a moment."), audio])
    assert short.prob_complete(longer) == pytest.approx(short.prob_complete(audio[-R:]), abs=1e-6)
    assert short.prob_complete(longer) == pytest.approx(1.0 - float(head.prob_hold(headed.judge(audio[-R:])[1])),
                                                        abs=1e-6)
    assert headed.prob_complete(longer) != pytest.approx(headed.prob_complete(audio), abs=1e-6)  # 8 s: it does
    policy = CadencePolicy(0.5, smart_turn_weight=0.35, judge_head=1)
    assert policy.judge is not None and policy.judge.head is not None
    assert policy.name == "cadence+judge-head(p=0.5,w=0.35)"
    assert CadencePolicy(0.5, smart_turn_weight=0.35, judge_head=1, judge_veto=1).name == \
        "cadence+judge-head(p=0.5,w=0.35,veto)"
    assert CadencePolicy(0.5, smart_turn_weight=0.35).judge.head is None  # type: ignore[union-attr]


def test_add_log_odds_keeps_the_first_opinion_s_confidence() -> None:
    from cadence.floor.policy import add_log_odds, mix_log_odds

    assert add_log_odds(0.3, 0.9, 0.0) == pytest.approx(0.3)
    assert add_log_odds(0.95, 0.5, 1.0) == pytest.approx(0.95)  # an unsure judge moves nothing
    assert mix_log_odds(0.95, 0.5, 0.5) < 0.85  # where a mix pulls towards it
    assert add_log_odds(0.5, 0.8, 1.0) == pytest.approx(0.8)
    assert add_log_odds(0.6, 0.2, 0.5) < 0.6 < add_log_odds(0.6, 0.8, 0.5)
    assert 0.0 < add_log_odds(0.0, 1.0, 1.0) < 1.0  # clipped, no log(0)


def _commit_s(keep: float, p_complete: float | None, judge_head: int, judge_veto: int = 0) -> float | None:
    """Commit time after a 0.6 s turn that Cadence scores ``keep`` in the silence, with a
    scripted judge answering ``p_complete`` (None: no judge)."""
    pytest.importorskip("pipecat")
    from test_floor_policy import STEP, _turn
    from test_floor_turn_judge import _hybrid_commit_s

    if p_complete is not None:  # the turn-judge tests' scripted turn and judge
        return _hybrid_commit_s(p_complete, weight=0.5, keep=keep, judge_head=judge_head, judge_veto=judge_veto)[0]
    x, probs = _turn(60, 400, keep=keep)
    commits = [d.t for d in CadencePolicy(0.9, **STEP).decide(x, probs) if d.kind == "commit"]
    return round(commits[0] - 0.6, 2) if commits else None


def test_the_head_is_added_as_evidence_not_mixed() -> None:
    alone = _commit_s(0.95, None, 0)
    # an unsure head leaves a sure P(keep) as it is; Smart Turn's mix pulls it under the fallback bar
    assert _commit_s(0.95, 0.5, 1) == alone
    assert _commit_s(0.95, 0.5, 0) is not None and alone is not None and _commit_s(0.95, 0.5, 0) < alone
    # a sure "complete" from the head commits once its answer is in (asked at 0.2 s, used at 0.3 s)
    assert _commit_s(0.6, 0.999, 1) == pytest.approx(0.30, abs=0.011)
    # as a veto it lowers nothing: Cadence's own 0.6 waits for the 1.9 s fallback
    assert _commit_s(0.6, 0.999, 1, judge_veto=1) == pytest.approx(1.9, abs=0.011) == _commit_s(0.6, None, 0)
    with pytest.raises(InvalidArgumentError, match="smart_turn_weight"):
        PolicyConfig(judge_head=1.0)  # the head needs a weight to be heard
