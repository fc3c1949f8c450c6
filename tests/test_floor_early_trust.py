"""The early path earns its place per speaker (``early_trust``): the policy keeps a record of the
pauses where the early path would have fired and stops using it for a speaker whose pauses it
misreads, until turn ends it would have read right bring it back."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor.model import CONFIRM, ONSET, PAUSE, default_weights_path
from cadence.floor.policy import CadencePolicy

from floor_frames import model_outputs, over_persona_features, user_turn, user_turns

pytestmark = pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
# the early path takes P(keep) < 0.2 after 100 ms; the plain wait commits after 1 s while P(keep) < 0.16
EARLY: dict[str, Any] = {"ramp": 0.0, "fallback_s": 1.9, "max_silence_s": 3.0, "min_silence_s": 1.0,
                         "commit_keep": 0.16, "early_keep": 0.2, "early_silence_s": 0.1}
KEEP = 0.1  # the model is sure every pause is a turn end


def _commits(policy: CadencePolicy, *parts: tuple[int, int]) -> list[float]:
    """Commit times (s) over consecutive user turns (speech frames, silence frames)."""
    x, probs = user_turns(*parts, keep=KEEP)
    return [round(d.t, 2) for d in policy.decide(x, probs) if d.kind == "commit"]


# two pauses of 0.4 s the user goes on after, then three turn ends of 2.5 s
SPEAKER = ((60, 40), (60, 40), (60, 250), (60, 250), (60, 250))


def test_off_by_default_the_early_path_cuts_every_pause() -> None:
    assert CadencePolicy(0.5).config.early_trust is None
    assert _commits(CadencePolicy(0.5, **EARLY), *SPEAKER) == [0.7, 1.7, 2.7, 5.8, 8.9]


def test_the_dev_setting_takes_six_hits_after_two_misses() -> None:
    # 0.8 with a prior of 2 (chosen on the dev splits): the first miss, 2 / 3, switches the early
    # path off, and the user goes on after the 2nd pause too (2 / 4). The turn ends the plain wait
    # then takes are hits: the early path comes back after 6 of them, (6 + 2) / (6 + 2 + 2) = 0.8
    policy = CadencePolicy(0.5, early_trust=0.8, **EARLY)
    assert policy.config.early_trust_prior == 2.0
    waits = [2.6 + 1.0 + 3.1 * k for k in range(6)]
    assert _commits(policy, *SPEAKER, *[(60, 250)] * 4) == pytest.approx([0.7, *waits, 2.6 + 3.1 * 6 + 0.1])
    assert (policy.early_hits, policy.early_misses) == (7, 2)


def test_misses_switch_the_early_path_off_and_hits_bring_it_back() -> None:
    policy = CadencePolicy(0.5, early_trust=0.6, early_trust_prior=1.0, **EARLY)
    # 1st pause: taken early (0.7 s) and the user goes on 0.3 s later: a miss, (0 + 1) / (0 + 1 + 1)
    # = 0.5 < 0.6, so the early path is off. 2nd pause: it would fire at 1.7 s but is not used, the
    # plain wait (1 s) is not reached, the user goes on: a 2nd miss. 3rd and 4th: real turn ends,
    # taken by the wait 1 s in and let stand: the early path would have fired in both, 2 hits.
    # (2 + 1) / (2 + 2 + 1) = 0.6: the 5th is taken 100 ms in again, and let stand: a 3rd hit
    assert _commits(policy, *SPEAKER) == [0.7, 2.6 + 1.0, 5.7 + 1.0, 8.9]
    assert (policy.early_hits, policy.early_misses) == (3, 2)
    assert policy.early_trusted()
    # while it is off, the commits are the plain wait's (the rule that fired, not the one that would have)
    assert list(policy.commit_rules) == ["early", "wait", "wait", "early"]
    # a new call forgets the record
    policy.reset()
    assert (policy.early_hits, policy.early_misses) == (0, 0)
    assert _commits(policy, *SPEAKER) == [0.7, 2.6 + 1.0, 5.7 + 1.0, 8.9]


def test_a_larger_prior_takes_more_misses() -> None:
    # prior 2: one miss leaves 2 / 3 >= 0.6, so the 2nd pause is still cut early and the user goes
    # on again; 2 / 4 < 0.6 turns it off for the 3rd, whose hit brings it back: 3 / 5 = 0.6
    policy = CadencePolicy(0.5, early_trust=0.6, early_trust_prior=2.0, **EARLY)
    assert _commits(policy, *SPEAKER, (60, 250)) == [0.7, 1.7, 2.6 + 1.0, 5.8, 8.9, 12.0]
    assert (policy.early_hits, policy.early_misses) == (4, 2)


def test_talk_over_an_early_answer_is_a_miss_and_a_backchannel_is_not() -> None:
    """Live, the persona speaks after its commit: a user who goes on barges in over the answer."""
    x1, p1 = user_turn(60, 15, KEEP)  # taken early, 100 ms into the silence
    pp = model_outputs(200)
    pp[:, 0] = pp[:, PAUSE] = 0.5

    def run(user: list[tuple[int, int]], head: float) -> tuple[list[str], CadencePolicy]:
        policy = CadencePolicy(0.5, early_trust=0.6, early_trust_prior=1.0, **EARLY)
        q = pp.copy()
        for a, b in user:
            q[a:b, ONSET] = q[a:b, CONFIRM] = head
        x = np.concatenate([x1, over_persona_features(200, user)])
        kinds = [d.kind for d in policy.decide(x, np.concatenate([p1, q]))]
        return [k for k in kinds if k != "speculate"], policy

    kinds, policy = run([(20, 120)], 0.9)  # the user talks on 0.25 s after the commit
    assert kinds == ["commit", "pause", "bargein"]
    assert (policy.early_hits, policy.early_misses) == (0, 1) and not policy.early_trusted()
    kinds, policy = run([(20, 40)], 0.4)  # an "mm-hm": the persona pauses and resumes
    assert kinds == ["commit", "pause", "resume"]
    assert (policy.early_hits, policy.early_misses) == (1, 0) and policy.early_trusted()


def test_each_pause_is_counted_once() -> None:
    # a miss takes the early path off; the 2nd pause is one it would have taken (a 2nd miss); the
    # 3rd, at P(keep) 0.5, is not, and the user goes on after it too: it leaves the record alone
    policy = CadencePolicy(0.5, early_trust=0.6, early_trust_prior=1.0, **EARLY)
    assert _commits(policy, (60, 40), (60, 40), (60, 40, 0.5), (60, 40, 0.5)) == [0.7]
    assert (policy.early_hits, policy.early_misses) == (0, 2)


def test_a_pause_it_would_have_taken_counts_whatever_rule_commits_later() -> None:
    # off after a miss; in the 2nd turn's silence P(keep) is 0.1 for 200 ms (the early path would
    # fire at 100 ms), then 0.5: neither the wait nor the early path commits, the fallback does at
    # 1.9 s and the user lets it stand: a hit
    policy = CadencePolicy(0.5, early_trust=0.6, early_trust_prior=1.0, **EARLY)
    x, probs = user_turns((60, 40), (60, 300), keep=KEEP)
    probs[180:, 0] = probs[180:, PAUSE] = 0.5
    assert [round(d.t, 2) for d in policy.decide(x, probs) if d.kind == "commit"] == [0.7, 1.6 + 1.9]
    assert (policy.early_hits, policy.early_misses) == (1, 1)
    assert list(policy.commit_rules) == ["early", "fallback"]


def test_talk_after_a_barge_in_is_not_a_second_miss() -> None:
    policy = CadencePolicy(0.5, early_trust=0.6, early_trust_prior=1.0, **EARLY)
    # a miss takes the early path off; the 2nd pause is one it would have taken, and the plain
    # wait takes it after 1 s
    x1, p1 = user_turns((60, 40), (60, 110), keep=KEEP)
    xp = over_persona_features(200, [(20, 200)])  # the user talks over the answer and on
    pp = model_outputs(len(xp))
    pp[:, 0] = pp[:, PAUSE] = 0.5
    pp[20:200, ONSET] = 0.9  # the persona pauses; 0.7 s of talk confirms the barge-in
    x2, p2 = user_turn(100, 50, 0.5)  # the persona has stopped; the user goes on
    kinds = [d.kind for d in policy.decide(np.concatenate([x1, xp, x2]), np.concatenate([p1, pp, p2]))]
    assert [k for k in kinds if k in ("commit", "bargein")] == ["commit", "commit", "bargein"]
    assert list(policy.commit_rules) == ["early", "wait"]
    # the barge-in over the wait's answer is the 2nd miss; the talk after it is the same one
    assert (policy.early_hits, policy.early_misses) == (0, 2)


def test_pauses_the_early_path_would_not_fire_in_leave_the_record_alone() -> None:
    # P(keep) 0.5 is over the early bar (and the wait's): nothing is taken early or noted
    policy = CadencePolicy(0.5, early_trust=0.9, **EARLY)
    x, probs = user_turns((60, 40), (60, 40), keep=0.5)
    assert not [d for d in policy.decide(x, probs) if d.kind == "commit"]
    assert (policy.early_hits, policy.early_misses) == (0, 0)


def test_trust_zero_is_the_plain_policy() -> None:
    plain = _commits(CadencePolicy(0.5, **EARLY), *SPEAKER)
    assert _commits(CadencePolicy(0.5, early_trust=0.0, **EARLY), *SPEAKER) == plain


def test_trust_settings_are_checked() -> None:
    # at 1 a single miss would switch the early path off for the call
    for bad in ({"early_trust": 1.0}, {"early_trust": 1.5}, {"early_trust": float("nan")},
                {"early_trust_prior": -1.0}, {"early_trust_prior": float("inf")}, {"early_trust_prior": None}):
        with pytest.raises(InvalidArgumentError, match=next(iter(bad))):
            CadencePolicy(0.5, **bad)
    assert np.isclose(CadencePolicy(0.5, early_trust=0.8).config.early_trust_prior, 2.0)
