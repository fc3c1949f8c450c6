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


def _echo_the_estimate_lets_through(n: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames 50-80 over the persona: Silero, energy and the energy-domain excess say "user" and
    the onset and confirm heads read 0.4, but the canceller's excess (0.1 = 1 dB) calls them echo."""
    x = over_persona_features(n, [(50, 80)])
    probs = np.zeros((n, len(OUTPUTS)), np.float32)
    probs[:, VOICE] = 1.0
    probs[:, 0] = probs[:, PAUSE] = 0.5
    probs[50:80, ONSET] = probs[50:80, CONFIRM] = 0.4
    aec = np.full(n, 3.0, np.float32)
    aec[50:80] = 0.1
    return x, probs, aec


@pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
def test_echo_the_energy_estimate_lets_through_no_longer_pauses_the_persona() -> None:
    # frames 50-80: Silero, energy and the energy-domain excess say "user" and the heads agree,
    # but the canceller explains them as the persona's echo (excess 0.1 = 1 dB)
    x, probs, aec = _echo_the_estimate_lets_through()
    n = len(x)
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


@pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
@pytest.mark.parametrize("echo_cancel", [False, True])
def test_process_hands_decide_the_excess_of_its_own_streaming_canceller(monkeypatch, echo_cancel: bool) -> None:
    # with echo_cancel the featurizer's canceller (the same mic, the same reference) stands in
    # for the rule's own: the same numbers, one canceller
    n = RATE * 3
    persona = _speechy(n, 3)
    mic = (0.2 * np.concatenate([np.zeros(480, np.float32), persona[:-480]]) + _speechy(n, 4) * 0.5).astype(np.float32)
    frames, ref = mic.reshape(-1, 160), persona.reshape(-1, 160)
    ref[100:140] = 0.0  # the persona pauses: those chunks may come without a reference
    want = canceller_excess(EchoCanceller(), frames, ref)
    pol = CadencePolicy(0.5, echo_cancel=echo_cancel)
    assert (pol.rule_aec is None) == echo_cancel
    seen: list[np.ndarray] = []
    real = pol.decide
    monkeypatch.setattr(pol, "decide", lambda x, probs, aec=None: seen.append(aec) or real(x, probs, aec))
    for _ in range(2):  # and again after a reset, from the same start
        seen.clear()
        pol.reset()
        rng, i = np.random.default_rng(0), 0
        while i < len(frames):
            j = min(len(frames), i + int(rng.integers(1, 11)))
            r = None if i >= 100 and j <= 140 else ref[i:j]
            pol.process(frames[i:j], r)
            i = j
        np.testing.assert_array_equal(np.concatenate(seen), want)
    # switched off, the canceller still follows the frames, so switching it on later loses nothing
    pol.reset()
    pol.config = PolicyConfig(echo_rule=0)
    pol.process(frames[:150], ref[:150])
    pol.config = PolicyConfig()
    seen.clear()
    pol.process(frames[150:], ref[150:])
    np.testing.assert_array_equal(seen[0], want[150:])


@pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
def test_tune_scores_each_setting_with_the_files_canceller_excess() -> None:
    from cadence.floor.tune import score_settings

    x, probs, aec = _echo_the_estimate_lets_through()
    entry = {"audio": "d.wav", "events": [{"type": "bargein", "t": 0.5}], "meta": {"duplex": True}}
    # the seeing pass of the turn's networks alone: the row has no blind outputs and no persona
    # networks' outputs (the pause stage reads these probs either way)
    grid = {"echo_rule": [0.0, 1.0], "turn_sees_persona": [1.0], "persona_networks": [0.0]}
    rows = dict((s["echo_rule"], r) for s, r in score_settings([(x, probs, entry, aec)], grid))
    assert rows[0.0]["stop_within_150ms_share"] == 1.0  # the echo estimate alone: it pauses at once
    assert rows[1.0]["stop_within_150ms_share"] == 0.0  # the canceller's excess reached decide


def test_the_featurizers_cleaned_output_is_cleared_by_reset_and_by_a_refused_call() -> None:
    from cadence.errors import InvalidAudioError
    from cadence.floor.features import FloorFeaturizer

    f = FloorFeaturizer(echo_cancel=True)
    frames = _speechy(1600, 5).reshape(-1, 160)
    f.process(frames, frames)
    assert f.cleaned is not None and f.cleaned.shape == frames.shape
    with pytest.raises(InvalidAudioError):
        f.process(frames, frames[:3])
    assert f.cleaned is None
    f.process(frames, frames)
    f.reset()
    assert f.cleaned is None
    g = FloorFeaturizer()  # no canceller: nothing to hand over
    g.process(frames)
    assert g.cleaned is None
