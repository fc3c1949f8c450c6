"""Learning from cut-ins (``adapt_step``): a commit the user speaks over soon after makes the
policy wait longer for this speaker; commits let stand take it back."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor.model import CONFIRM, ONSET, OUTPUTS, PAUSE, default_weights_path
from cadence.floor.policy import CadencePolicy

from floor_frames import model_outputs, over_persona_features, user_turn, user_turns

pytestmark = pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
# commit when P(keep) < 0.16 after 50 ms; the timeout at 1.9 s commits while P(keep) < 0.9
STEP: dict[str, Any] = {"ramp": 0.0, "fallback_s": 1.9, "max_silence_s": 3.0, "min_silence_s": 0.05,
                        "commit_keep": 0.16, "early_keep": 0.0}
KEEP = 0.1  # the model is sure every pause is a turn end: logit -2.2


def _turns(*parts: tuple[int, int] | tuple[int, int, float]) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive user turns (``user_turns``), P(keep) = KEEP in a silence unless given."""
    return user_turns(*parts, keep=KEEP)


def _decisions(policy: CadencePolicy, x: np.ndarray, probs: np.ndarray, kind: str = "commit") -> list[float]:
    return [round(d.t, 2) for d in policy.decide(x, probs) if d.kind == kind]


def _commits(policy: CadencePolicy, *parts: tuple[int, int] | tuple[int, int, float]) -> list[float]:
    """Commit times (s) over consecutive user turns (``_turns``)."""
    return _decisions(policy, *_turns(*parts))


def test_off_by_default_every_pause_is_cut() -> None:
    policy = CadencePolicy(0.5, **STEP)
    # three pauses of 0.4 s the user speaks on after: each cut 50 ms in, nothing learnt
    assert _commits(policy, (60, 40), (60, 40), (60, 40)) == [0.65, 1.65, 2.65]
    assert policy.bias == 0.0 and policy.cut_ins == 0


def test_a_cut_in_makes_the_model_rules_wait_and_the_timeout_still_answers() -> None:
    policy = CadencePolicy(0.5, adapt_step=1.0, **STEP)
    # the first pause is cut 50 ms in and the user goes on 0.35 s later: a cut-in. P(keep) 0.1
    # then reads sigmoid(-2.2 + 1) = 0.23 >= 0.16: the second pause is not cut; its silence
    # ends the turn at the timeout, which reads the model's own P(keep)
    assert _commits(policy, (60, 40), (60, 250)) == [0.65, 1.0 + 0.6 + 1.9]
    assert policy.cut_ins == 1 and policy.bias == pytest.approx(1.0)
    # more cut-ins add up to adapt_max: with a bar of 0.3, one cut-in (0.23) still commits, the
    # second (bias 1.5: 0.33) does not
    policy = CadencePolicy(0.5, adapt_step=1.0, adapt_max=1.5, **{**STEP, "commit_keep": 0.3})
    assert _commits(policy, (60, 40), (60, 40), (60, 250)) == [0.65, 1.65, 2.0 + 0.6 + 1.9]
    assert policy.cut_ins == 2 and policy.bias == pytest.approx(1.5)


def test_the_timeout_reads_the_model_own_p_keep() -> None:
    # after a cut-in (bias 1.5) P(keep) 0.8 reads 0.95: past the timeout's 0.9 bar. The timeout
    # reads the model's own 0.8 and commits at 1.9 s, not at max_silence_s (3 s)
    policy = CadencePolicy(0.5, adapt_step=1.5, **STEP)
    assert _commits(policy, (60, 40), (60, 350, 0.8)) == [0.65, 1.0 + 0.6 + 1.9]


def test_the_early_and_anticipating_paths_read_the_bias() -> None:
    # the early path (P(keep) < 0.2 after 100 ms; the veto waits 1 s): P(keep) 0.1 is taken
    # early, until a cut-in makes it read 0.23
    early = {**STEP, "early_keep": 0.2, "early_silence_s": 0.1, "min_silence_s": 1.0}
    assert _commits(CadencePolicy(0.5, **early), (60, 40), (60, 250)) == [0.7, 1.7]
    assert _commits(CadencePolicy(0.5, adapt_step=1.0, **early), (60, 40), (60, 250)) == [0.7, 1.0 + 0.6 + 1.9]
    # the anticipating path (end200 high in the last word, P(keep) < 0.3 after 40 ms): P(keep)
    # 0.2 reads 0.41 after a cut-in
    ant = {**STEP, "commit_keep": 0.0, "anticipate_end200": 0.6, "anticipate_keep": 0.3,
           "anticipate_silence_s": 0.04}
    x, probs = _turns((60, 40, 0.2), (60, 250, 0.2))
    probs[50:60, OUTPUTS.index("end200")] = probs[150:160, OUTPUTS.index("end200")] = 0.9
    assert _decisions(CadencePolicy(0.5, **ant), x, probs) == [0.64, 1.64]
    assert _decisions(CadencePolicy(0.5, adapt_step=1.0, **ant), x, probs) == [0.64, 1.0 + 0.6 + 1.9]


def test_the_drafts_in_the_silence_read_the_model_own_p_keep() -> None:
    # speculate_keep 0.6: P(keep) 0.5 starts a draft 50 ms into the silence; after a cut-in it
    # reads 0.73, but the draft still starts (the bias delays commits, not drafts)
    cfg = {**STEP, "speculate_keep": 0.6, "speculate_silence_s": 0.05}
    x, probs = _turns((60, 40), (60, 250, 0.5))
    policy = CadencePolicy(0.5, adapt_step=1.0, **cfg)
    assert 1.65 in _decisions(policy, x, probs, "speculate")
    assert policy.cut_ins == 1


def test_only_speech_within_the_window_is_a_cut_in() -> None:
    # the user goes on 1.25 s after the commit (window 1 s): the commit was let stand
    policy = CadencePolicy(0.5, adapt_step=1.0, **STEP)
    assert _commits(policy, (60, 130), (60, 40)) == [0.65, 1.9 + 0.65]
    assert policy.cut_ins == 0 and policy.bias == 0.0
    # a longer window counts it
    policy = CadencePolicy(0.5, adapt_step=1.0, adapt_window_s=1.5, **STEP)
    assert _commits(policy, (60, 130), (60, 40))[0] == 0.65
    assert policy.cut_ins == 1
    # the edge: speech whose first frame is the window's last (100 frames after the commit's) is
    # a cut-in, though its run reaches min_run_frames after the window; one frame later it is not
    for silence, cut in ((104, 1), (105, 0)):
        policy = CadencePolicy(0.5, adapt_step=1.0, **STEP)
        _commits(policy, (60, silence), (60, 40))
        assert policy.cut_ins == cut, silence
    # a click in the window (a run shorter than min_run_frames) is not the user going on
    x, probs = _turns((60, 95), (3, 200))
    policy = CadencePolicy(0.5, adapt_step=1.0, **STEP)
    _decisions(policy, x, probs)
    assert policy.cut_ins == 0 and policy.last_commit == -1


def test_commits_let_stand_take_the_bias_back() -> None:
    policy = CadencePolicy(0.5, adapt_step=1.0, adapt_relax=0.5, **STEP)
    # a cut-in (bias 1), then a turn the timeout answers and the user lets stand (bias 0.5:
    # sigmoid(-2.2 + 0.5) = 0.155 < 0.16), so the third pause is cut 50 ms in again
    got = _commits(policy, (60, 40), (60, 300), (60, 40))
    assert got == [0.65, 1.0 + 0.6 + 1.9, 1.0 + 3.6 + 0.65]
    # the input ends 0.35 s after the third commit: its verdict is still open
    assert policy.bias == pytest.approx(0.5) and policy.last_commit >= 0
    # never below 0
    policy = CadencePolicy(0.5, adapt_step=1.0, adapt_relax=5.0, **STEP)
    _commits(policy, (60, 200), (60, 200))
    assert policy.bias == 0.0


def test_talk_over_the_answer_is_a_cut_in() -> None:
    """Live, the persona speaks after its commit: a user who goes on barges in over it."""
    policy = CadencePolicy(0.5, adapt_step=1.0, **STEP)
    x1, p1 = user_turn(60, 10, KEEP)  # committed 50 ms into the silence (frame 65)
    xp = over_persona_features(200, [(20, 120)])  # the user talks 0.25 s after the commit
    pp = model_outputs(len(xp))
    pp[:, 0] = pp[:, PAUSE] = 0.5
    pp[20:120, ONSET] = pp[20:120, CONFIRM] = 0.9
    kinds = [(d.kind, round(d.t, 2)) for d in policy.decide(np.concatenate([x1, xp]), np.concatenate([p1, pp]))]
    assert [k for k, _t in kinds] == ["commit", "pause", "bargein"]
    assert policy.cut_ins == 1
    # a backchannel that pauses the persona and lets it resume is not a cut-in
    policy = CadencePolicy(0.5, adapt_step=1.0, **STEP)
    pp[20:120, ONSET] = pp[20:120, CONFIRM] = 0.0
    pp[20:40, ONSET] = pp[20:40, CONFIRM] = 0.4
    xp = over_persona_features(200, [(20, 40)])
    kinds = [(d.kind, round(d.t, 2)) for d in policy.decide(np.concatenate([x1, xp]), np.concatenate([p1, pp]))]
    assert [k for k, _t in kinds] == ["commit", "pause", "resume"]
    assert policy.cut_ins == 0 and policy.bias == 0.0 and policy.last_commit == -1  # judged: let stand
    # a barge-in that starts 0.86 s after the commit and is confirmed after the window (0.7 s of
    # speech while paused): the verdict waits for it while the persona is paused
    policy = CadencePolicy(0.5, adapt_step=1.0, **STEP)
    xp = over_persona_features(300, [(81, 200)])
    pp = model_outputs(len(xp))
    pp[:, 0] = pp[:, PAUSE] = 0.5
    pp[81:200, ONSET] = pp[81:200, CONFIRM] = 0.4  # pauses the persona, never confirms by the head
    kinds = [(d.kind, round(d.t, 2)) for d in policy.decide(np.concatenate([x1, xp]), np.concatenate([p1, pp]))]
    assert [k for k, _t in kinds] == ["commit", "pause", "bargein"]
    assert kinds[2][1] - kinds[0][1] > 1.0 and policy.cut_ins == 1


def test_a_late_barge_in_is_not_a_cut_in() -> None:
    """A barge-in that starts after the window does not count, even when a few frames of user
    speech (short of a run) came just before the persona began: the verdict is not held by them."""
    x1, p1 = user_turn(60, 10, KEEP)  # committed at 0.65 s
    for lead in (0, 3):  # 3 frames of user speech as the answer starts
        xs, ps = user_turn(lead, 0, KEEP)
        xp = over_persona_features(400, [(210, 320)])  # the user talks over the answer ~2.8 s in
        pp = model_outputs(len(xp))
        pp[:, 0] = pp[:, PAUSE] = 0.5
        pp[210:320, ONSET] = pp[210:320, CONFIRM] = 0.9
        policy = CadencePolicy(0.5, adapt_step=1.0, **STEP)
        kinds = [d.kind for d in policy.decide(np.concatenate([x1, xs, xp]), np.concatenate([p1, ps, pp]))]
        assert kinds == ["commit", "pause", "bargein"], lead
        assert policy.cut_ins == 0 and policy.bias == 0.0 and policy.last_commit == -1, lead


def test_any_chunking_and_reset() -> None:
    x, probs = _turns((60, 40), (60, 250), (60, 40), (60, 150))
    cfg: dict[str, Any] = {**STEP, "adapt_step": 1.0, "adapt_relax": 0.5}
    whole = [(d.kind, round(d.t, 2)) for d in CadencePolicy(0.5, **cfg).decide(x, probs)]
    for seed in (0, 1, 2):
        policy, chunked, i = CadencePolicy(0.5, **cfg), [], 0
        rng = np.random.default_rng(seed)
        while i < len(x):
            n = int(rng.integers(1, 12))
            chunked += [(d.kind, round(d.t, 2)) for d in policy.decide(x[i:i + n], probs[i:i + n])]
            i += n
        assert chunked == whole, seed
    policy = CadencePolicy(0.5, **cfg)
    policy.decide(x, probs)
    assert policy.bias > 0.0
    policy.reset()  # a new call: a new speaker
    assert policy.bias == 0.0 and policy.cut_ins == 0 and policy.last_commit == -1


@pytest.mark.parametrize("bad", [{"adapt_step": -1.0}, {"adapt_relax": float("nan")}, {"adapt_max": float("inf")},
                                 {"adapt_window_s": 0.0}, {"adapt_window_s": float("nan")}])
def test_bad_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError, match="adapt_"):
        CadencePolicy(0.5, **bad)
