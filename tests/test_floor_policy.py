"""CadencePolicy decision logic on hand-made model outputs (no audio, no model)."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor.features import FEATURE_NAMES
from cadence.floor.model import CONFIRM, ONSET, OUTPUTS, PAUSE, VOICE, default_weights_path
from cadence.floor.policy import CadencePolicy, PolicyConfig

from floor_frames import model_outputs, over_persona_features, user_turn, user_turns

pytestmark = pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
# a step threshold: commit when P(keep) < 0.16 after 50 ms, no early path
STEP = {"ramp": 0.0, "fallback_s": 1.9, "max_silence_s": 3.0, "min_silence_s": 0.05,
        "commit_keep": 0.16, "early_keep": 0.0}


_probs = model_outputs
_turn = user_turn


def _commit_silence_s(policy: CadencePolicy, speech: int = 60, silence: int = 400,
                      keep: float = 0.5) -> float | None:
    x, probs = _turn(speech, silence, keep)
    commits = [d.t for d in policy.decide(x, probs) if d.kind == "commit"]
    return round(commits[0] - speech * 0.01, 2) if commits else None


def test_step_threshold_commits_at_fallback_when_unsure() -> None:
    # threshold 0.16; P(keep)=0.5 is "unsure" → the 1.9 s fallback commits
    assert _commit_silence_s(CadencePolicy(0.9, **STEP)) == pytest.approx(1.9, abs=0.011)
    # a model sure the user keeps the floor (0.95 ≥ fallback_keep) waits for max_silence_s
    assert _commit_silence_s(CadencePolicy(0.9, **STEP), keep=0.95) == pytest.approx(3.0, abs=0.011)
    # a model sure the turn ended commits after the minimum silence
    assert _commit_silence_s(CadencePolicy(0.9, **STEP), keep=0.05) == pytest.approx(0.05, abs=0.011)


def _anticipated_s(end200: float, keep: float, **kw: float | None) -> float | None:
    """Commit time after a 0.6 s turn whose last 100 ms the end200 head scores ``end200``
    (P(keep) = ``keep`` in the silence), under a policy that would otherwise wait 1.9 s."""
    policy = CadencePolicy(0.9, **{**STEP, "commit_keep": 0.0, "early_keep": 0.0, "min_silence_s": 0.5,
                                   "anticipate_end200": 0.6, "anticipate_silence_s": 0.04,
                                   "anticipate_keep": 0.3, **kw})
    x, probs = _turn(60, 300, keep)
    probs[50:60, OUTPUTS.index("end200")] = end200
    commits = [d.t for d in policy.decide(x, probs) if d.kind == "commit"]
    return round(commits[0] - 0.6, 2) if commits else None


def test_the_anticipating_path_commits_just_after_a_predicted_turn_end() -> None:
    # the end200 head said "ends within 200 ms" in the last word, the pause head agrees: 40 ms
    assert _anticipated_s(0.8, 0.2) == pytest.approx(0.04, abs=0.011)
    assert _anticipated_s(0.8, 0.2, anticipate_silence_s=0.1) == pytest.approx(0.10, abs=0.011)
    # no predicted end, or a model that thinks the user goes on: the fallback
    assert _anticipated_s(0.5, 0.2) == pytest.approx(1.9, abs=0.011)
    assert _anticipated_s(0.8, 0.4) == pytest.approx(1.9, abs=0.011)
    # the peak is read over the last 25 frames: 240 ms into the silence they still hold the
    # word's last frame; from 250 ms on only silence, so such a start is refused
    assert _anticipated_s(0.8, 0.2, anticipate_silence_s=0.24) == pytest.approx(0.24, abs=0.011)
    assert _anticipated_s(0.8, 0.2, anticipate_end200=None) == pytest.approx(1.9, abs=0.011)  # off
    for name, bad in (("anticipate_end200", 1.5), ("anticipate_end200", float("nan")), ("anticipate_keep", -0.1),
                      ("anticipate_silence_s", 0.0), ("anticipate_silence_s", 0.249), ("anticipate_silence_s", 0.25)):
        with pytest.raises(InvalidArgumentError, match=name):
            PolicyConfig(**{name: bad})


def test_the_anticipating_path_is_the_same_for_any_chunking() -> None:
    # two user turns with a persona turn between: frame by frame and in random chunks, the
    # decisions are those of one call (the window's state lives on the policy)
    cfg = {**STEP, "commit_keep": 0.0, "early_keep": 0.0, "anticipate_end200": 0.6, "anticipate_keep": 0.3}
    x1, p1 = _turn(60, 300, 0.2)
    p1[50:60, OUTPUTS.index("end200")] = 0.9
    xp = over_persona_features(200, [])
    pp = _probs(len(xp))
    x2, p2 = _turn(60, 300, 0.2)
    x, probs = np.concatenate([x1, xp, x2]), np.concatenate([p1, pp, p2])
    whole = [(d.kind, round(d.t, 2)) for d in CadencePolicy(0.9, **cfg).decide(x, probs)]
    for seed in (None, 0, 1, 2, 3):  # None: one frame per call
        policy, chunked, i = CadencePolicy(0.9, **cfg), [], 0
        rng = np.random.default_rng(seed)
        while i < len(x):
            n = 1 if seed is None else int(rng.integers(1, 12))
            chunked += [(d.kind, round(d.t, 2)) for d in policy.decide(x[i:i + n], probs[i:i + n])]
            i += n
        assert chunked == whole, seed
    commits = [t for kind, t in whole if kind == "commit"]
    # the first turn is taken 50 ms into its silence; the second (no predicted end) at the fallback
    assert commits[0] == pytest.approx(0.65, abs=0.011)
    assert commits[1] == pytest.approx((360 + len(xp) + 60) * 0.01 + 1.9, abs=0.011)


def test_ramp_lowers_the_bar_as_the_pause_grows() -> None:
    # threshold rises linearly from 0.16 (5 frames) to 0.9 (190 frames): 0.5 is crossed
    # at 5 + (0.34 / 0.74) · 185 ≈ 90 frames of silence
    bar = {"min_silence_s": 0.05, "commit_keep": 0.16, "early_keep": 0.0, "fallback_s": 1.9}
    t = _commit_silence_s(CadencePolicy(0.9, ramp=1.0, **bar))
    assert t == pytest.approx(0.90, abs=0.02)
    half = _commit_silence_s(CadencePolicy(0.9, ramp=0.5, **bar))
    assert half is not None and t < half < 1.9
    # ramp_start_s 0.6: the bar holds at 0.16 up to 600 ms, then rises to 0.9 at 1.9 s, so 0.5
    # is crossed at 60 + (0.34 / 0.74) · 130 ≈ 120 frames; a start before the wait is the wait
    assert _commit_silence_s(CadencePolicy(0.9, ramp=1.0, ramp_start_s=0.6, **bar)) == pytest.approx(1.20, abs=0.02)
    assert _commit_silence_s(CadencePolicy(0.9, ramp=1.0, ramp_start_s=0.01, **bar)) == t
    # a start at or past the fallback leaves the fallback alone: 0.5 is taken at 1.9 s, 0.95 at the
    # 3 s timeout (``max_silence_s``), as with the ramp off
    for start in (1.9, 2.5):
        assert _commit_silence_s(CadencePolicy(0.9, ramp=1.0, ramp_start_s=start, **bar)) == pytest.approx(1.9, abs=0.011)
        assert _commit_silence_s(CadencePolicy(0.9, ramp=1.0, ramp_start_s=start, **bar), keep=0.95) == \
            pytest.approx(3.0, abs=0.011) == _commit_silence_s(CadencePolicy(0.9, ramp=0.0, **bar), keep=0.95)


def test_a_ramp_from_600_ms_is_the_same_at_every_patience() -> None:
    # a pause the model vetoes (P(keep) 0.6, over commit_keep 0.55) is answered by the ramp: by
    # default from each patience's wait, the later the more patient; with ramp_start_s=0.6 at the
    # same silence whatever the patience, patience 1's (its wait is 600 ms)
    assert [PolicyConfig(patience=p).ramp_start_frames() for p in (0.0, 0.5, 1.0)] == [15, 38, 60]
    assert [PolicyConfig(patience=p, ramp_start_s=0.6).ramp_start_frames() for p in (0.0, 0.5, 1.0)] == [60] * 3
    by_wait = [_commit_silence_s(CadencePolicy(p), keep=0.6) for p in (0.0, 0.5, 1.0)]
    late = {_commit_silence_s(CadencePolicy(p, ramp_start_s=0.6), keep=0.6) for p in (0.0, 0.25, 0.5, 0.75, 1.0)}
    assert by_wait == sorted(by_wait) and by_wait[0] < by_wait[2] < 1.5
    assert late == {by_wait[2]}
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(InvalidArgumentError, match="ramp_start_s"):
            PolicyConfig(ramp_start_s=bad)


def test_no_commit_without_a_turn() -> None:
    # three frames of speech never open a turn (min_run_frames = 5)
    assert _commit_silence_s(CadencePolicy(0.5), speech=3) is None


def test_patience_trades_latency_for_certainty() -> None:
    # more patience: a longer silence wait, and a surer model to skip it
    policies = [CadencePolicy(p) for p in (0.0, 0.5, 1.0)]
    sil = [p.config.min_silence_frames() for p in policies]
    early = [p.config.early_threshold() for p in policies]
    assert sil[0] < sil[1] < sil[2] and early[0] > early[1] > early[2]

    def when(keep: float) -> list[float | None]:  # silence before the commit, per patience
        return [_commit_silence_s(CadencePolicy(p), keep=keep) for p in (0.0, 0.5, 1.0)]

    # a turn end the model is sure of (P(keep) 0.05) is taken after 150 ms up to patience 0.5;
    # a patient persona sits out the pauses inside a sentence: 400 ms at patience 1
    assert when(0.05) == pytest.approx([0.15, 0.15, 0.4], abs=0.011)
    # P(keep) 0.25 is sure enough for patience 0 only; the others wait 375 / 600 ms
    assert when(0.25) == pytest.approx([0.15, 0.38, 0.6], abs=0.011)
    # P(keep) 0.6 ≥ commit_keep: the model vetoes the wait; the ramp to the
    # fallback commits later, the later the more patient
    vetoed = when(0.6)
    assert all(v is not None and v > s / 100 + 0.1 for v, s in zip(vetoed, sil))
    assert vetoed == sorted(vetoed) and vetoed[2] < 1.5


def test_patience_is_checked_wherever_a_config_is_made() -> None:
    from dataclasses import replace

    from cadence.errors import InvalidArgumentError
    from cadence.floor.policy import PolicyConfig

    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(InvalidArgumentError, match="patience"):
            CadencePolicy(bad)
        with pytest.raises(InvalidArgumentError, match="patience"):
            replace(PolicyConfig(), patience=bad)  # the actor's SetPatience path


def _over_persona(user: list[tuple[int, int, float]], n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """The persona talks for all ``n`` frames; the user speaks in [a, b) frames with the
    barge-in head at ``p``."""
    x = over_persona_features(n, [(a, b) for a, b, _p in user])
    probs = _probs(n)
    probs[:, 0] = probs[:, PAUSE] = 0.5
    for a, b, p in user:
        probs[a:b, ONSET] = probs[a:b, CONFIRM] = p  # the early (onset) and later (confirm) heads agree
    return x, probs


def _kinds(policy: CadencePolicy, x: np.ndarray, probs: np.ndarray) -> list[tuple[str, int]]:
    return [(d.kind, round(d.t * 100)) for d in policy.decide(x, probs)]


def test_backchannel_pauses_then_resumes_the_persona() -> None:
    # 30 frames of user speech the heads score 0.4: above the pause bar (0.16), below the
    # barge-in bar (0.8) → pause after 2 frames, resume 15 frames after it ends
    x, probs = _over_persona([(50, 80, 0.4)])
    assert _kinds(CadencePolicy(0.5), x, probs) == [("pause", 52), ("resume", 95)]


def test_real_barge_in_pauses_at_once_and_is_confirmed() -> None:
    # the heads start low and rise: pause at frame 2, barge-in at the 5th frame over 0.8
    x, probs = _over_persona([(50, 60, 0.3), (60, 120, 0.9)])
    assert _kinds(CadencePolicy(0.5), x, probs) == [("pause", 52), ("bargein", 65)]
    # long user speech the head still reads as the user's confirms it too (confirm_speech_s)
    x, probs = _over_persona([(50, 150, 0.4)])
    assert _kinds(CadencePolicy(0.5, confirm_speech_s=0.4), x, probs) == [("pause", 52), ("bargein", 90)]


def test_the_onset_head_pauses_and_the_confirm_head_confirms() -> None:
    # the onset head alone (the first 250 ms look like a barge-in, what follows does not):
    # pause, then resume once the user is silent; never a barge-in
    x, probs = _over_persona([(50, 80, 0.0)])
    probs[50:80, ONSET] = 0.6
    assert _kinds(CadencePolicy(0.5), x, probs) == [("pause", 52), ("resume", 95)]
    # the confirm head alone: no pause stage, a barge-in after its 5 frames
    x, probs = _over_persona([(50, 120, 0.0)])
    probs[50:120, CONFIRM] = 0.9
    assert _kinds(CadencePolicy(0.5), x, probs) == [("bargein", 55)]
    # the network's own barge-in head is not read (the heads are fitted for these calls)
    x, probs = _over_persona([(50, 120, 0.0)])
    probs[50:120, 4] = 0.99
    assert _kinds(CadencePolicy(0.5), x, probs) == []


def test_each_set_of_networks_reads_its_own_bars_unless_they_are_set() -> None:
    # the bars chosen for the persona's networks (session 54) and for the turn's (before them)
    cfg = PolicyConfig()
    assert (cfg.confirm_bar(True), cfg.pause_bar(True)) == (0.8, 0.16)
    assert (cfg.confirm_bar(False), cfg.pause_bar(False)) == (0.7, 0.12)
    set_ = PolicyConfig(bargein_threshold=0.75, pause_threshold=0.3)
    assert {set_.confirm_bar(o) for o in (True, False)} == {0.75} and {set_.pause_bar(o) for o in (True, False)} == {0.3}
    for name in ("bargein_threshold", "pause_threshold"):
        with pytest.raises(InvalidArgumentError, match=name):
            PolicyConfig(**{name: 1.5})
    # heads at 0.14 (under the persona networks' pause bar, over the turn's) pause only a call on
    # the turn's networks; at 0.75 (over the turn's confirm bar, under the persona's) they confirm there
    x, probs = _over_persona([(50, 120, 0.14)])
    assert _kinds(CadencePolicy(0.5), x, probs) == []
    # (paused for the rest of the user's 0.7 s, the pause is confirmed as a barge-in: confirm_speech_s)
    assert _kinds(CadencePolicy(0.5, persona_networks=0), x, probs) == [("pause", 52), ("bargein", 120)]
    assert _kinds(CadencePolicy(0.5, persona_networks=0, pause_threshold=0.16), x, probs) == []
    x, probs = _over_persona([(50, 120, 0.75)])
    assert _kinds(CadencePolicy(0.5), x, probs) == [("pause", 52), ("bargein", 120)]
    assert _kinds(CadencePolicy(0.5, persona_networks=0), x, probs) == [("pause", 52), ("bargein", 55)]
    assert _kinds(CadencePolicy(0.5, persona_networks=0, bargein_threshold=0.8), x, probs) == \
        _kinds(CadencePolicy(0.5), x, probs)
    # the networks a call runs change at a reset only, and the bars with them
    pol = CadencePolicy(0.5)
    pol.config = PolicyConfig(persona_networks=0)
    assert _kinds(pol, x, probs) == [("pause", 52), ("bargein", 120)]
    pol.reset()
    assert _kinds(pol, x, probs) == [("pause", 52), ("bargein", 55)]


def test_background_talk_over_the_persona_does_not_pause_it() -> None:
    # talk the voice head reads as not the user's (babble, a TV) clears the VAD and the
    # echo rule, and even a low onset score would pause the persona: the voice head vetoes
    x, probs = _over_persona([(50, 120, 0.2)])  # just over the pause stage's onset bar (0.16)
    probs[:, VOICE] = 0.1
    assert _kinds(CadencePolicy(0.5), x, probs) == []
    assert _kinds(CadencePolicy(0.5, pause_voice_threshold=0.0), x, probs)[0] == ("pause", 52)
    # the user's own voice with the same low score pauses it at once
    probs[:, VOICE] = 0.9
    assert _kinds(CadencePolicy(0.5), x, probs)[0] == ("pause", 52)
    with pytest.raises(InvalidArgumentError, match="pause_voice_threshold"):
        CadencePolicy(0.5, pause_voice_threshold=1.5)


def test_pause_stage_off_and_echo_alone() -> None:
    x, probs = _over_persona([(50, 60, 0.3), (60, 120, 0.9)])
    # a pause bar at the barge-in's bar turns the pause stage off
    off = PolicyConfig().confirm_bar(True)
    assert _kinds(CadencePolicy(0.5, pause_threshold=off), x, probs) == [("bargein", 65)]
    # the persona's echo alone (no excess over the predicted echo) never pauses it
    x, probs = _over_persona([])
    probs[:, 4] = 0.9
    x[:, FEATURE_NAMES.index("vad")] = 0.95
    assert _kinds(CadencePolicy(0.5), x, probs) == []


def test_the_pause_stage_can_lower_silero_bar_and_only_its_own() -> None:
    # a voice over the persona whose first 14 frames Silero has not risen on yet (0.3): with
    # the default bar the pause waits for Silero; with pause_vad_threshold 0.2 it comes at the
    # onset, and the barge-in (confirm head from frame 60) still waits for Silero's 0.5
    x, probs = _over_persona([(50, 120, 0.4), (60, 120, 0.9)])
    x[50:64, FEATURE_NAMES.index("vad")] = 0.3
    default = _kinds(CadencePolicy(0.5), x, probs)
    assert default == [("pause", 66), ("bargein", 69)]
    assert _kinds(CadencePolicy(0.5, pause_vad_threshold=0.2), x, probs) == [("pause", 52), ("bargein", 69)]
    # user speech while paused confirms a barge-in only past Silero's usual bar: a second of
    # sound Silero reads at 0.3 pauses the persona at once, never confirms, and it resumes
    # 150 ms after the sound ends
    x, probs = _over_persona([(50, 150, 0.4)])
    x[50:150, FEATURE_NAMES.index("vad")] = 0.3
    low = CadencePolicy(0.5, pause_vad_threshold=0.2, confirm_speech_s=0.4)
    assert _kinds(low, x, probs) == [("pause", 52), ("resume", 165)]
    assert _kinds(CadencePolicy(0.5, confirm_speech_s=0.4), x, probs) == []
    # the rest of the speech rule still holds: no excess over the predicted echo, no pause
    x, probs = _over_persona([(50, 120, 0.4), (60, 120, 0.9)])
    x[:, FEATURE_NAMES.index("echo_excess")] = 0.0
    assert _kinds(CadencePolicy(0.5, pause_vad_threshold=0.0), x, probs) == []
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(InvalidArgumentError, match="pause_vad_threshold"):
            CadencePolicy(0.5, pause_vad_threshold=bad)


def test_paused_persona_keeps_the_floor_while_its_playback_is_silent() -> None:
    # live, a paused persona's playback goes silent; the policy must not open a user turn
    # and commit over it before the resume
    x, probs = _over_persona([(50, 70, 0.4)], n=300)
    x[55:, FEATURE_NAMES.index("persona")] = -3.0  # playback paused from frame 55
    x[70:, FEATURE_NAMES.index("echo_excess")] = 3.0
    probs[:, 0] = 0.05  # the model thinks nobody holds the floor
    kinds = _kinds(CadencePolicy(0.5), x, probs)
    assert kinds[:2] == [("pause", 52), ("resume", 85)]
    assert not any(k == "commit" for k, _ in kinds)


def test_one_bargein_while_the_stopped_persona_fades_out() -> None:
    # the persona stops 10 frames after the confirmed barge-in while the user keeps talking:
    # one barge-in, not one per frame until the persona counts as quiet
    x, probs = _over_persona([(50, 150, 0.9)])
    x[65:, FEATURE_NAMES.index("persona")] = -3.0
    kinds = _kinds(CadencePolicy(0.5), x, probs)
    assert kinds[:2] == [("pause", 52), ("bargein", 55)]
    # the user's barge-in turn ends: a draft in the silence, then the answer
    assert [k for k, _ in kinds[2:]] == ["speculate", "commit"]
    # a later persona utterance is armed again
    x2, probs2 = _over_persona([(50, 60, 0.9)])
    both_x, both_p = np.concatenate([x, x2]), np.concatenate([probs, probs2])
    kinds = _kinds(CadencePolicy(0.5), both_x, both_p)
    assert [k for k, _ in kinds if k not in ("speculate", "commit")] == ["pause", "bargein", "pause", "bargein"]


def test_a_draft_survives_the_silence_after_the_turn_end() -> None:
    # speculation near the end of the turn; P(end ≤ 600 ms) then falls in the silence (the
    # end is past) and P(keep) falls slowly: the draft must still be live at the commit
    x, probs = _turn(speech=80, silence=120, keep=0.05)
    probs[70:80, 2] = 0.8
    probs[:80, 0] = 0.95
    probs[80:, 0] = np.linspace(0.9, 0.05, 120)
    kinds = [d.kind for d in CadencePolicy(1.0).decide(x, probs)]
    assert kinds == ["speculate", "commit"]


def test_a_draft_is_retracted_when_the_user_goes_on() -> None:
    x, probs = _turn(speech=150, silence=100, keep=0.05)
    probs[40:50, 2] = 0.8  # a speculation 1 s before the end of the turn
    kinds = [d.kind for d in CadencePolicy(0.5).decide(x, probs)]
    assert kinds[:2] == ["speculate", "retract"] and kinds[-1] == "commit"


def _drafted(keep: float, silence: int = 120, resume: int = 0, **kw: float | None) -> list[tuple[str, float]]:
    """Decisions (kind, seconds into the silence) after a 0.6 s turn whose end the end600 head
    missed (0 throughout), P(keep) = ``keep`` in the silence, the commit waiting 1 s (P(keep) < 0.4); with
    ``resume`` the user speaks again for that many frames after ``silence``."""
    policy = CadencePolicy(0.5, **{**STEP, "commit_keep": 0.4, "min_silence_s": 1.0, **kw})
    x, probs = _turn(60, silence + resume, keep)
    if resume:
        x2, p2 = _turn(resume, 0, 0.95)
        x[60 + silence:], probs[60 + silence:] = x2, p2
    return [(d.kind, round(d.t - 0.6, 2)) for d in policy.decide(x, probs)]


def test_a_draft_is_started_in_the_silence_when_the_end_head_missed_the_end() -> None:
    # off: the end600 head never rose, so the commit finds no draft
    assert _drafted(0.3, silence=150, speculate_keep=None) == [("commit", 1.0)]
    # on: a draft from speculate_silence_s into the silence, while P(keep) < speculate_keep
    got = _drafted(0.3, silence=150, speculate_keep=0.5, speculate_silence_s=0.05)
    assert [k for k, _ in got] == ["speculate", "commit"] and got[1][1] == 1.0
    assert got[0][1] == pytest.approx(0.05, abs=0.011)
    assert _drafted(0.3, silence=150, speculate_keep=0.5, speculate_silence_s=0.2)[0][1] == pytest.approx(
        0.2, abs=0.011)
    # a model that says the user keeps the floor starts none (and does not commit)
    assert _drafted(0.6, silence=150, speculate_keep=0.5) == []
    # the user goes on: the draft is retracted (then one more in the next pause, none here)
    got = _drafted(0.3, silence=40, resume=30, speculate_keep=0.5)
    assert [k for k, _ in got] == ["speculate", "retract"]
    # ... also when the user goes on in the very next frame (the draft was made in a pause)
    for start in (0.02, 0.05, 0.1):  # at any start, the shipped 50 ms too
        assert _drafted(0.3, silence=round(start * 100), resume=50, speculate_keep=0.5,
                        speculate_silence_s=start) == [("speculate", start), ("retract", round(start + 0.01, 2))]
    # never in the frame of a commit (here the early path commits 100 ms in): no head start, no draft
    assert _drafted(0.1, silence=50, speculate_keep=0.5, speculate_silence_s=0.1, early_keep=0.2,
                    early_silence_s=0.1) == [("commit", 0.1)]
    for name, bad in (("speculate_keep", 1.5), ("speculate_keep", float("nan")), ("speculate_silence_s", 0.0),
                      ("speculate_silence_s", float("inf"))):
        with pytest.raises(InvalidArgumentError, match=name):
            PolicyConfig(**{name: bad})  # type: ignore[arg-type]


def test_an_end_head_draft_begun_in_a_pause_is_retracted_by_the_next_speech() -> None:
    # the end head fires 110 ms into a pause (its last word long over): the user's next frame
    # of speech retracts the draft at once, not after 0.6 s more speech
    x, probs = _turn(speech=60, silence=11, keep=0.8)
    x2, p2 = _turn(80, 0, 0.95)
    x, probs = np.concatenate([x, x2]), np.concatenate([probs, p2])
    probs[70, 2] = 0.8
    policy = CadencePolicy(0.5, **{**STEP, "commit_keep": 0.0, "speculate_keep": None})
    assert [(d.kind, round(d.t - 0.6, 2)) for d in policy.decide(x, probs)] == [
        ("speculate", 0.11), ("retract", 0.12)]


def test_a_speculation_carries_the_value_that_started_it() -> None:
    # the end head's draft: P(end <= 600 ms); a draft in the silence: 1 - P(keep)
    x, probs = _turn(speech=80, silence=60, keep=0.25)
    probs[70:80, 2] = 0.8
    policy = CadencePolicy(0.5, **{**STEP, "commit_keep": 0.0, "min_silence_s": 1.0})
    assert [d.kind for d in policy.decide(x, probs)] == ["speculate"]
    assert policy.spec_confidences == [pytest.approx(0.8)]
    probs[70:80, 2] = 0.0
    policy.reset()
    assert [d.kind for d in policy.decide(x, probs)] == ["speculate"]
    assert policy.spec_confidences == [pytest.approx(0.75)]


def test_babble_the_voice_head_rejects_is_silence() -> None:
    """Background talk after the turn: Silero and the energy rule say speech, the voice
    head says it is not the user. With the head's veto the silence counts and the
    persona answers; with the veto off (threshold 0) it waits for ever."""
    x, probs = _turn(60, 300, keep=0.05)
    x[60:, FEATURE_NAMES.index("vad")] = 0.9  # babble
    x[60:, FEATURE_NAMES.index("e_noise")] = 1.0
    probs[60:, VOICE] = 0.1
    commits = [d.t for d in CadencePolicy(0.5).decide(x, probs) if d.kind == "commit"]
    assert commits and commits[0] - 0.6 < 0.5
    deaf = CadencePolicy(0.5, voice_threshold=0.0, max_silence_s=10.0)
    assert not [d for d in deaf.decide(x, probs) if d.kind == "commit"]
    with pytest.raises(InvalidArgumentError, match="voice_threshold"):
        CadencePolicy(0.5, voice_threshold=float("nan"))


def test_the_early_wait_grows_with_patience_above_one_half() -> None:
    frames = [PolicyConfig(patience=p).early_silence_frames() for p in (0.0, 0.25, 0.5, 0.6, 0.75, 0.9, 1.0)]
    assert frames == [15, 15, 15, 20, 28, 35, 40]
    # a set early_silence_s overrides it at every patience
    assert {PolicyConfig(patience=p, early_silence_s=0.1).early_silence_frames() for p in (0.0, 0.5, 1.0)} == {10}
    # the wait is where the early path commits: P(keep) 0.05 at patience 0.75 is taken at 280 ms
    # (its plain wait, 488 ms, comes later), and 150 ms in with the old fixed wait
    assert _commit_silence_s(CadencePolicy(0.75), keep=0.05) == pytest.approx(0.28, abs=0.011)
    assert _commit_silence_s(CadencePolicy(0.75, early_silence_s=0.15), keep=0.05) == pytest.approx(0.15, abs=0.011)


def test_commit_bars_are_checked() -> None:
    for bad in ({"commit_keep": 1.5}, {"early_keep": -0.1}, {"early_keep": float("nan")},
                {"early_silence_s": 0.0}, {"early_silence_s": float("nan")}, {"early_silence_s": float("inf")}):
        with pytest.raises(InvalidArgumentError, match=next(iter(bad))):
            CadencePolicy(0.5, **bad)


def test_decide_refuses_outputs_of_the_wrong_shape() -> None:
    x, probs = _turn(10, 10, keep=0.5)
    with pytest.raises(InvalidArgumentError, match="probs must have shape"):
        CadencePolicy(0.5).decide(x, probs[:, :5])
    with pytest.raises(InvalidArgumentError, match="probs must have shape"):
        CadencePolicy(0.5).decide(x, probs[:5])


def test_in_silence_the_pause_head_decides() -> None:
    """The commit reads the pause head's P(keep) in silence; the keep head only opens turns."""
    x, probs = _turn(60, 300, keep=0.95)
    probs[60:, PAUSE] = 0.05  # the pause head is sure the turn is over
    commits = [d.t for d in CadencePolicy(0.5).decide(x, probs) if d.kind == "commit"]
    assert commits and commits[0] - 0.6 < 0.5
    x, probs = _turn(60, 300, keep=0.05)
    probs[60:, PAUSE] = 0.97  # ... or sure it is a hold: only max_silence_s ends the wait
    commits = [d.t for d in CadencePolicy(0.5).decide(x, probs) if d.kind == "commit"]
    assert commits and commits[0] - 0.6 == pytest.approx(CadencePolicy(0.5).config.max_silence_s, abs=0.011)


def test_the_speaker_adapted_last_resort_is_short_until_the_user_pauses_long_mid_turn() -> None:
    """``max_silence_short_s``: a model sure the user goes on is overruled after 1.8 s, not 3 s,
    until the user has gone on with a turn after a pause of ``long_pause_s`` (1 s) or more."""
    adapted = {**STEP, "max_silence_short_s": 1.8}
    assert _commit_silence_s(CadencePolicy(0.9, **adapted), keep=0.95) == pytest.approx(1.8, abs=0.011)
    assert _commit_silence_s(CadencePolicy(0.9, **STEP), keep=0.95) == pytest.approx(3.0, abs=0.011)

    def commits(policy: CadencePolicy, *parts: tuple[int, int]) -> list[float]:
        x, probs = user_turns(*parts)
        return [round(d.t, 2) for d in policy.decide(x, probs) if d.kind == "commit"]

    # a 1.2 s pause the user speaks on after, then a long silence: the full 3 s from then on
    assert commits(CadencePolicy(0.9, **adapted), (60, 120), (60, 400)) == [0.6 + 1.2 + 0.6 + 3.0]
    # pauses under 1 s do not count: the long silence is overruled at 1.8 s
    assert commits(CadencePolicy(0.9, **adapted), (60, 80), (60, 400)) == [0.6 + 0.8 + 0.6 + 1.8]
    # a silence the policy ended with a commit is not a pause the user went on after
    assert commits(CadencePolicy(0.9, **adapted), (60, 200), (60, 400)) == [0.6 + 1.8, 0.6 + 2.0 + 0.6 + 1.8]
    # "or more": a 1 s pause counts, 0.99 s does not; long_pause_s moves the bar
    assert commits(CadencePolicy(0.9, **adapted), (60, 100), (60, 400)) == [0.6 + 1.0 + 0.6 + 3.0]
    assert commits(CadencePolicy(0.9, **adapted), (60, 99), (60, 400)) == [0.6 + 0.99 + 0.6 + 1.8]
    assert commits(CadencePolicy(0.9, **adapted, long_pause_s=0.6), (60, 70), (60, 400)) == [0.6 + 0.7 + 0.6 + 3.0]
    # a click after a long pause is not the user going on (runs under min_run_frames are not
    # turn speech): the pause is not counted, and the silence after the click is cut at 1.8 s
    assert commits(CadencePolicy(0.9, **adapted), (60, 120), (1, 400)) == [0.6 + 1.2 + 0.01 + 1.8]
    # reset() forgets the speaker
    p = CadencePolicy(0.9, **adapted)
    commits(p, (60, 120), (60, 400))
    p.reset()
    assert _commit_silence_s(p, keep=0.95) == pytest.approx(1.8, abs=0.011)
    for bad in ({"max_silence_short_s": 0.0}, {"max_silence_short_s": 3.5}, {"long_pause_s": 0.0},
                {"long_pause_s": float("inf")}, {"max_silence_short_s": 1.8, "long_pause_s": 1.8}):
        with pytest.raises(InvalidArgumentError, match="max_silence_short_s|long_pause_s"):
            CadencePolicy(0.5, **bad)


def test_the_persona_own_audio_in_a_pause_is_not_the_user_going_on() -> None:
    """Audio heard while the persona plays (its echo, its own backchannel) does not make a
    pause count toward the speaker-adapted last resort."""
    adapted = {**STEP, "max_silence_short_s": 1.8}
    x, probs = user_turns((60, 420))
    persona = over_persona_features(20, [(0, 20)])  # 0.2 s of persona audio that passes the VAD rule
    x[180:200] = persona
    probs[180:200, 0] = 0.95
    policy = CadencePolicy(0.9, **adapted)
    policy.decide(x[:200], probs[:200])
    assert policy.longest_hold == 0


def test_the_users_speech_holds_a_pause_after_the_onset_head_falls() -> None:
    # the onset head reads the first 100 ms as a barge-in and then nothing (it was fitted on
    # speech's first 250 ms); the user talks on for a second: the pause holds and the speech
    # confirms the barge-in (confirm_speech_s). Without pause_hold_voice the persona resumed
    # 150 ms after the onset head fell, over the user's words
    x, probs = _over_persona([(50, 150, 0.3)])
    probs[50:60, ONSET] = 0.6
    probs[60:150, ONSET] = 0.0
    assert _kinds(CadencePolicy(0.5), x, probs) == [("pause", 52), ("bargein", 120)]
    assert _kinds(CadencePolicy(0.5, pause_hold_voice=0), x, probs) == [("pause", 52), ("resume", 75)]
    # a backchannel still resumes: 30 frames of speech, then silence
    x, probs = _over_persona([(50, 80, 0.3)])
    probs[50:60, ONSET] = 0.6
    probs[60:80, ONSET] = 0.0
    assert _kinds(CadencePolicy(0.5), x, probs) == [("pause", 52), ("resume", 95)]
    with pytest.raises(InvalidArgumentError, match="pause_hold_voice"):
        CadencePolicy(0.5, pause_hold_voice=0.5)


def test_a_reply_that_starts_over_the_user_yields_at_once() -> None:
    # the policy commits in a pause (frame 75), the user goes on from frame 100, and the reply's
    # playback starts at frame 110, over the user's speech: it yields in its first audible frame
    x, probs = user_turns((60, 40, 0.05), (80, 60))
    x[110:, FEATURE_NAMES.index("persona")] = 1.0
    assert _kinds(CadencePolicy(0.5), x, probs) == [("speculate", 65), ("commit", 75), ("bargein", 111)]
    # without it the utterance's open window pauses it, and the user's speech confirms the barge-in
    assert _kinds(CadencePolicy(0.5, yield_over_user=0), x, probs)[2:] == [("pause", 112), ("bargein", 180)]
    assert _kinds(CadencePolicy(0.5, yield_over_user=0, pause_open_s=0), x, probs)[2:] == []
    # playback no commit asked for (or resuming after a gap inside an utterance) does not yield
    x, probs = user_turns((60, 40, 0.95), (80, 60))
    x[110:, FEATURE_NAMES.index("persona")] = 1.0
    assert _kinds(CadencePolicy(0.5), x, probs) == [("pause", 112), ("bargein", 180)]
    # playback that starts in the user's silence after a commit is the persona's turn: nothing to yield
    x, probs = user_turns((60, 140, 0.05))
    x[100:, FEATURE_NAMES.index("persona")] = 1.0
    assert [k for k, _ in _kinds(CadencePolicy(0.5), x, probs)] == ["speculate", "commit"]
    with pytest.raises(InvalidArgumentError, match="yield_over_user"):
        CadencePolicy(0.5, yield_over_user=2)


def test_the_first_300_ms_of_an_utterance_pause_on_the_users_speech_alone() -> None:
    def heard_over_persona(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        # the persona's playback starts at frame 40; the user speaks in [a, b) and the onset
        # and confirm heads read nothing
        x, probs = _over_persona([(a, b, 0.0)])
        x[:40, FEATURE_NAMES.index("persona")] = -3.0
        return x, probs

    x, probs = heard_over_persona(50, 80)  # 100 ms into the utterance: the window is open
    assert _kinds(CadencePolicy(0.5), x, probs) == [("pause", 52), ("resume", 95)]
    assert _kinds(CadencePolicy(0.5, pause_open_s=0.0), x, probs) == []
    x, probs = heard_over_persona(100, 130)  # 600 ms in: the onset head decides again
    assert _kinds(CadencePolicy(0.5), x, probs) == []
    assert _kinds(CadencePolicy(0.5, pause_open_s=1.0), x, probs) == [("pause", 102), ("resume", 145)]
    for bad in (-0.1, 6.0, float("nan")):
        with pytest.raises(InvalidArgumentError, match="pause_open_s"):
            CadencePolicy(0.5, pause_open_s=bad)
