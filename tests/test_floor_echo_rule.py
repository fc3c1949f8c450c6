"""The speech rule's echo test with the Kalman canceller beside it (``echo_rule.py``,
``PolicyConfig.echo_rule``): the canceller's excess on real signals, and the decisions it changes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from cadence._core import EchoCanceller
from cadence.errors import InvalidArgumentError
from cadence.floor.echo_rule import canceller_excess, sharpen
from cadence.floor.model import CONFIRM, ONSET, OUTPUTS, PAUSE, VOICE, default_weights_path
from cadence.floor.policy import CadencePolicy, PolicyConfig

from floor_frames import over_persona_features

RATE = 16000


def _speechy(n: int, seed: int) -> np.ndarray:
    """Coloured noise under a syllable-rate envelope with gaps (speech-like for a linear filter)."""
    rng = np.random.default_rng(seed)
    x = signal.lfilter([1.0], [1.0, -0.7], rng.standard_normal(n))
    env = np.clip(np.sin(np.arange(n) * 2 * np.pi * 3.0 / RATE), 0.0, None) ** 0.5
    return (0.05 * x * env).astype(np.float32)


def test_the_canceller_excess_reads_echo_as_echo_and_the_user_above_it() -> None:
    n = RATE * 8
    persona = _speechy(n, 1)
    echo = signal.lfilter(signal.firwin(31, 3000, fs=RATE), [1.0], np.concatenate([np.zeros(640), persona[:-640]]))
    user = np.zeros(n, np.float32)
    user[RATE * 6 : RATE * 7] = 3.0 * _speechy(RATE, 2)  # the user talks over the persona, 6-7 s
    mic = (0.3 * echo + user).astype(np.float32)
    ex = canceller_excess(EchoCanceller(), mic.reshape(-1, 160), persona.reshape(-1, 160))
    assert ex.shape == (n // 160,) and np.isfinite(ex).all()
    loud = np.mean((0.3 * echo).reshape(-1, 160) ** 2, axis=1) > 1e-6
    echo_alone = loud & (np.arange(len(ex)) >= 300) & (np.arange(len(ex)) < 600)  # 3-6 s: learnt, no user
    assert np.median(ex[echo_alone]) < 0.2  # within 2 dB of the echo it predicts
    talk = (np.arange(len(ex)) >= 600) & (np.arange(len(ex)) < 700) & (np.mean(user.reshape(-1, 160) ** 2, axis=1) > 1e-5)
    assert np.mean(ex[talk] > 0.6) > 0.9  # the user stands 6 dB over it
    # no reference: nothing predicted, the excess of every audible frame stays far above the rule's bar
    audible = np.mean(mic.reshape(-1, 160) ** 2, axis=1) > 1e-6  # above -60 dBFS
    assert (canceller_excess(EchoCanceller(), mic.reshape(-1, 160), None)[audible] > 3.0).all()


def test_sharpen_takes_the_smaller_excess() -> None:
    a = np.array([2.0, 0.8, 0.1], np.float32)
    np.testing.assert_array_equal(sharpen(a, np.array([0.2, 1.5, 0.0], np.float32)), np.array([0.2, 0.8, 0.0], np.float32))
    assert sharpen(a, None) is a


@pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
def test_echo_the_energy_estimate_lets_through_no_longer_pauses_the_persona() -> None:
    # frames 50-80: Silero, energy and the energy-domain excess say "user" and the heads agree,
    # but the canceller explains them as the persona's echo (excess 0.1 = 1 dB)
    n = 200
    x = over_persona_features(n, [(50, 80)])
    probs = np.zeros((n, len(OUTPUTS)), np.float32)
    probs[:, VOICE] = 1.0
    probs[:, 0] = probs[:, PAUSE] = 0.5
    probs[50:80, ONSET] = probs[50:80, CONFIRM] = 0.4
    aec = np.full(n, 3.0, np.float32)
    aec[50:80] = 0.1
    kinds = lambda pol, a: [(d.kind, round(d.t * 100)) for d in pol.decide(x, probs, a)]  # noqa: E731
    assert kinds(CadencePolicy(0.5), None) == [("pause", 52), ("resume", 95)]  # the estimate alone
    assert kinds(CadencePolicy(0.5), aec) == []  # the canceller's prediction: echo
    assert kinds(CadencePolicy(0.5, echo_rule=0), aec) == [("pause", 52), ("resume", 95)]
    # the user over the echo (the canceller's excess high too) still pauses it
    assert kinds(CadencePolicy(0.5), np.full(n, 2.5, np.float32)) == [("pause", 52), ("resume", 95)]
    with pytest.raises(InvalidArgumentError, match="aec_excess"):
        CadencePolicy(0.5).decide(x, probs, aec[:10])
    with pytest.raises(InvalidArgumentError, match="echo_rule"):
        PolicyConfig(echo_rule=0.5)
