"""The pause stage's background test (``PolicyConfig.pause_background_db`` / ``pause_user_db``,
``levels.RunningQuantile``): talk over the persona that stands little over the room's own
background talk does not pause it; the user at their own level does, however loud the room."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor.features import FEATURE_NAMES
from cadence.floor.levels import RunningQuantile
from cadence.floor.model import CONFIRM, ONSET, OUTPUTS, PAUSE, VOICE, default_weights_path
from cadence.floor.policy import CadencePolicy, PolicyConfig

from floor_frames import over_persona_features

E_NOISE, PERSONA = FEATURE_NAMES.index("e_noise"), FEATURE_NAMES.index("persona")
needs_weights = pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_running_quantile_settles_on_the_quantile_and_follows_a_change(q: float) -> None:
    rng = np.random.default_rng(0)
    rq = RunningQuantile(q, step_db=0.5, min_count=50)
    assert not rq.ready
    for v in rng.uniform(0.0, 20.0, 4000):
        rq.update(float(v))
    assert rq.ready and abs(rq.value - 20.0 * q) < 1.5, rq.value
    for v in rng.uniform(30.0, 50.0, 4000):  # the room gets 30 dB louder
        rq.update(float(v))
    assert abs(rq.value - (30.0 + 20.0 * q)) < 1.5, rq.value
    rq.reset()
    assert not rq.ready and rq.count == 0


def test_running_quantile_refuses_bad_settings() -> None:
    for bad in ((0.0, 0.5, 50), (1.0, 0.5, 50), (0.5, 0.0, 50), (0.5, math.nan, 50), (0.5, 0.5, 0)):
        with pytest.raises(InvalidArgumentError, match="RunningQuantile"):
            RunningQuantile(*bad)


def test_background_bars_must_be_finite() -> None:
    assert PolicyConfig(pause_background_db=None).pause_background_db is None
    for bad in ({"pause_background_db": math.nan}, {"pause_user_db": -math.inf}):
        with pytest.raises(InvalidArgumentError, match="pause_background_db"):
            PolicyConfig(**bad)  # type: ignore[arg-type]


def _room(talk_db: float, user_first_db: float | None, n: int = 420) -> tuple[np.ndarray, np.ndarray]:
    """The persona speaks from frame 150 on; frames 160-300 are background talk 18 dB over the
    noise floor that the voice head calls not the user's (too little onset to pause anything);
    frames 350-380 are talk at ``talk_db`` that the heads call a user onset. With
    ``user_first_db`` the user first says a turn of their own (frames 20-120, persona silent)."""
    x = over_persona_features(n, [(160, 300), (350, 380)] + ([(20, 120)] if user_first_db is not None else []))
    x[:150, PERSONA] = -3.0  # the persona is silent before frame 150
    x[160:300, E_NOISE] = 18.0 / 20.0
    x[350:380, E_NOISE] = talk_db / 20.0
    probs = np.zeros((n, len(OUTPUTS)), np.float32)
    probs[:, 0] = probs[:, PAUSE] = 0.95  # P(keep): the user's turn does not end
    probs[:, VOICE] = 1.0
    probs[160:300, VOICE] = 0.3  # background talk: not the user's voice, but enough for the pause bar
    probs[160:300, ONSET] = 0.05
    probs[350:380, ONSET] = probs[350:380, CONFIRM] = 0.4
    if user_first_db is not None:
        x[20:120, E_NOISE] = user_first_db / 20.0
    return x, probs


def _pauses(pol: CadencePolicy, xp: tuple[np.ndarray, np.ndarray]) -> list[int]:
    return [round(d.t * 100) for d in pol.decide(*xp) if d.kind == "pause"]


@needs_weights
def test_talk_little_over_the_background_does_not_pause_the_persona() -> None:
    # 21 dB: over the room's noise floor (the level test passes it) but only 3 dB over the
    # background talk's median: no pause; with the test off it pauses the persona
    assert _pauses(CadencePolicy(0.5), _room(21.0, None)) == []
    assert _pauses(CadencePolicy(0.5, pause_background_db=None), _room(21.0, None)) == [352]
    # well over the background talk: a pause
    pol = CadencePolicy(0.5)
    assert _pauses(pol, _room(30.0, None)) == [352]
    assert abs(pol.background_level.value - 18.0) < 1.0 and not pol.user_level.ready


@needs_weights
def test_the_users_own_level_caps_the_bar() -> None:
    # a quiet talker (12 dB over the floor in their own turn) in a room whose background talk
    # is louder than they are: they still pause the persona at their own level
    pol = CadencePolicy(0.5)
    assert _pauses(pol, _room(12.0, user_first_db=12.0)) == [352]
    assert pol.user_level.ready and abs(pol.background_bar() - (12.0 - 8.0)) < 1.0
    assert _pauses(CadencePolicy(0.5), _room(12.0, None)) == []  # without their turn: under the bar
    # reset forgets both levels
    pol.reset()
    assert not pol.background_level.ready and not pol.user_level.ready and pol.background_bar() == -math.inf


def _over_persona(n: int, spans: list[tuple[int, int]], level_db: float, voice: float,
                  onset: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """The persona speaks all through; talk the speech rule hears in ``spans`` at ``level_db``
    over the floor, with the voice head at ``voice`` and the onset head at ``onset``."""
    x = over_persona_features(n, spans)
    probs = np.zeros((n, len(OUTPUTS)), np.float32)
    probs[:, 0] = probs[:, PAUSE] = 0.95
    probs[:, VOICE] = 1.0
    for a, b in spans:
        x[a:b, E_NOISE] = level_db / 20.0
        probs[a:b, VOICE] = voice
        probs[a:b, ONSET] = probs[a:b, CONFIRM] = onset
    return x, probs


@needs_weights
def test_the_background_level_is_fed_only_by_talk_the_voice_head_calls_not_the_users() -> None:
    pol = CadencePolicy(0.5)
    pol.decide(*_over_persona(200, [(20, 69)], 18.0, voice=0.3))
    assert pol.background_level.count == 49 and pol.background_bar() == -math.inf  # not yet trusted
    pol.decide(*_over_persona(10, [(0, 1)], 18.0, voice=0.3))
    assert pol.background_level.ready and pol.background_bar() > -math.inf
    # the user's level is read inside speech runs the turn logic counts (5 frames or more)
    pol = CadencePolicy(0.5)
    x, probs = _over_persona(300, [(20, 24), (40, 44), (60, 64)], 12.0, voice=0.9)
    x[:, PERSONA] = -3.0  # the persona silent: three 40 ms bursts, too short to count
    pol.decide(x, probs)
    assert pol.user_level.count == 0
    x, probs = _over_persona(300, [(20, 90)], 12.0, voice=0.9)
    x[:, PERSONA] = -3.0
    pol.decide(x, probs)
    assert pol.user_level.count == 70 - 4  # from the 5th frame of the run
    # frames the turn logic does not count (P(keep) under 0.1) break the run
    pol = CadencePolicy(0.5)
    probs[50:, 0] = probs[50:, PAUSE] = 0.05
    pol.decide(x, probs)
    assert pol.user_level.count == 30 - 4
    # a run going when the persona starts is not carried over its turn: after it, a 3-frame
    # burst is too short again
    pol = CadencePolicy(0.5)
    x, probs = _over_persona(300, [(20, 45), (169, 172)], 12.0, voice=0.9)
    x[:40, PERSONA] = x[140:, PERSONA] = -3.0
    pol.decide(x, probs)
    assert pol.user_level.count == 20 - 4
    # the user's voice over the persona feeds neither level
    pol = CadencePolicy(0.5)
    pol.decide(*_over_persona(200, [(20, 120)], 18.0, voice=0.9))
    assert pol.background_level.count == 0 and pol.user_level.count == 0


@needs_weights
def test_a_paused_persona_learns_nothing_and_the_users_words_count_at_any_level() -> None:
    # background talk (frames 20-120), then a barge-in well over it (200-215) that pauses the
    # persona, then the user goes on under the background bar (215-330)
    x, probs = _over_persona(400, [(20, 120), (200, 330)], 18.0, voice=0.3)
    x[200:215, E_NOISE] = 30.0 / 20.0
    probs[200:330, VOICE] = 0.9
    probs[200:330, ONSET] = 0.4
    probs[200:330, CONFIRM] = 0.4
    probs[215:330, VOICE] = 0.3  # under voice_threshold: as background talk would be, were it not paused
    pol = CadencePolicy(0.5)
    decisions = [(d.kind, round(d.t * 100)) for d in pol.decide(x, probs)]
    # paused at once; the user's words under the bar confirm the barge-in, no resume
    assert decisions == [("pause", 202), ("bargein", 270)]
    # only the 100 frames before the pause fed the background: not the paused ones, nor
    # those after the barge-in, though the persona's reference goes on
    assert pol.background_level.count == 100
    assert decisions == [(d.kind, round(d.t * 100)) for d in CadencePolicy(0.5, pause_background_db=None).decide(x, probs)]


@needs_weights
@pytest.mark.parametrize("user_first_db", [None, 12.0])
@pytest.mark.parametrize("talk_db", [12.0, 21.0, 30.0])
def test_minus_100_turns_the_test_off(talk_db: float, user_first_db: float | None) -> None:
    xp = _room(talk_db, user_first_db)
    off = [(d.kind, d.t) for d in CadencePolicy(0.5, pause_background_db=None).decide(*xp)]
    assert [(d.kind, d.t) for d in CadencePolicy(0.5, pause_background_db=-100.0).decide(*xp)] == off


def test_a_level_that_is_not_finite_is_ignored() -> None:
    rq = RunningQuantile(0.5, min_count=1)
    rq.update(math.nan)
    assert rq.count == 0
    rq.update(10.0)
    rq.update(math.inf)
    assert rq.count == 1 and rq.value == 10.0
