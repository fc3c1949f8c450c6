"""The pause stage's level test (``PolicyConfig.pause_noise_db`` / ``pause_speech_db``,
``policy.loud_enough``): talk that stands little over a loud room and under the user's own
level does not pause the persona; the user's voice does, however loud the room."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor.features import FEATURE_NAMES
from cadence.floor.model import CONFIRM, ONSET, OUTPUTS, PAUSE, VOICE, default_weights_path
from cadence.floor.policy import CadencePolicy, PolicyConfig, loud_enough

from floor_frames import over_persona_features

E_SPEECH, E_NOISE = FEATURE_NAMES.index("e_speech"), FEATURE_NAMES.index("e_noise")


def _levels(noise_db: list[float], speech_db: list[float]) -> np.ndarray:
    x = np.zeros((len(noise_db), len(FEATURE_NAMES)), np.float32)
    x[:, E_NOISE] = np.asarray(noise_db) / 20.0
    x[:, E_SPEECH] = np.asarray(speech_db) / 10.0
    return x


def test_loud_enough_is_either_clause() -> None:
    x = _levels([20.0, 10.0, 10.0, 14.5, 13.5], [-8.0, -0.5, -5.0, -9.0, -1.5])
    np.testing.assert_array_equal(loud_enough(x, 14.0, -1.0), [True, True, False, True, False])
    # a stricter room bar keeps only the frames near the user's level
    np.testing.assert_array_equal(loud_enough(x, 30.0, -1.0), [False, True, False, False, False])


def _talk_over_persona(noise_db: float, speech_db: float, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Frames 50-80 of talk over the persona that Silero, the echo test and the heads call a
    user onset, standing ``noise_db`` over the noise floor and ``speech_db`` from the user's level."""
    x = over_persona_features(n, [(50, 80)])
    x[50:80, E_NOISE] = noise_db / 20.0
    x[50:80, E_SPEECH] = speech_db / 10.0
    probs = np.zeros((n, len(OUTPUTS)), np.float32)
    probs[:, VOICE] = 1.0
    probs[:, 0] = probs[:, PAUSE] = 0.5
    probs[50:80, ONSET] = probs[50:80, CONFIRM] = 0.4
    return x, probs


@pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
def test_background_talk_under_the_users_level_does_not_pause_the_persona() -> None:
    kinds = lambda pol, xp: [(d.kind, round(d.t * 100)) for d in pol.decide(*xp)]  # noqa: E731
    paused = [("pause", 52), ("resume", 95)]
    # babble 8 dB over the floor and 5 dB under the user's voice: no pause
    assert kinds(CadencePolicy(0.5), _talk_over_persona(8.0, -5.0)) == []
    assert kinds(CadencePolicy(0.5, pause_noise_db=None), _talk_over_persona(8.0, -5.0)) == paused
    # the user at their own level in a loud room (8 dB over the floor), or well over the floor
    assert kinds(CadencePolicy(0.5), _talk_over_persona(8.0, 0.5)) == paused
    assert kinds(CadencePolicy(0.5), _talk_over_persona(12.0, -8.0)) == paused


def test_level_bars_must_be_finite() -> None:
    assert PolicyConfig(pause_noise_db=None).pause_noise_db is None
    for bad in ({"pause_noise_db": math.nan}, {"pause_speech_db": math.inf}):
        with pytest.raises(InvalidArgumentError, match="pause_noise_db"):
            PolicyConfig(**bad)  # type: ignore[arg-type]


@pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
def test_once_paused_the_users_words_count_at_any_level() -> None:
    # a loud room (8 dB over the floor); the user starts at their own level and goes on 3 dB
    # under it: the level test let the pause start, it must not resume the persona mid-sentence
    x, probs = _talk_over_persona(8.0, 0.5, n=300)
    x[50:200] = over_persona_features(300, [(50, 200)])[50:200]
    x[50:200, E_NOISE] = 0.4
    x[50:60, E_SPEECH] = 0.05
    x[60:200, E_SPEECH] = -0.3
    probs[50:200, ONSET] = probs[50:200, CONFIRM] = 0.4
    decisions = [(d.kind, round(d.t * 100)) for d in CadencePolicy(0.5).decide(x, probs)]
    assert decisions == [(d.kind, round(d.t * 100)) for d in CadencePolicy(0.5, pause_noise_db=None).decide(x, probs)]
    assert decisions[0] == ("pause", 52) and ("bargein", 120) in decisions and "resume" not in [k for k, _ in decisions]
