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
    assert pol.user_level.ready and abs(pol.background_bar() - (12.0 - 4.0)) < 1.0
    assert _pauses(CadencePolicy(0.5), _room(12.0, None)) == []  # without their turn: under the bar
    # reset forgets both levels
    pol.reset()
    assert not pol.background_level.ready and not pol.user_level.ready and pol.background_bar() == -math.inf
