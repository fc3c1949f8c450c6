"""Channel and noise for the floor corpus: what happens between mouth and mic.

Noises are returned at unit RMS and zero mean (no DC offset); the caller sets
their level from the SNR. Everything takes an explicit ``numpy`` generator.
"""

from __future__ import annotations

from math import gcd

import numpy as np
from scipy import signal

from cadence.errors import InvalidArgumentError

__all__ = [
    "NOISE_KINDS",
    "noise",
    "room_ir",
    "reverb",
    "telephone",
    "mu_law",
    "lowpass",
    "gain_drift_db",
    "resample",
    "active_rms",
]

NOISE_KINDS = ("white", "pink", "brown", "babble", "hum")


def _unit(x: np.ndarray) -> np.ndarray:
    x = x - x.mean()
    r = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    return (x / r).astype(np.float32) if r > 0 else x.astype(np.float32)


def _colored(n: int, rng: np.random.Generator, exponent: float) -> np.ndarray:
    """Noise with power ∝ 1/f**exponent (pink 1, brown 2), via the spectrum."""
    spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.arange(n // 2 + 1, dtype=np.float64)
    f[0] = 1.0
    spec *= f ** (-exponent / 2)
    spec[:3] = 0  # no DC and no slow wander below a few tenths of a Hz
    return np.fft.irfft(spec, n)


def noise(kind: str, n: int, rate: int, rng: np.random.Generator,
          babble: list[np.ndarray] | None = None) -> np.ndarray:
    """``n`` samples of unit-RMS noise of ``kind`` (see :data:`NOISE_KINDS`).

    ``babble`` is a list of clean speech signals at ``rate`` (other TTS voices)
    overlapped at random offsets.
    """
    if n <= 0:
        raise InvalidArgumentError(f"noise length must be positive, got {n}")
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":
        x = _colored(n, rng, 1.0)
    elif kind == "brown":
        x = _colored(n, rng, 2.0)
        x = signal.sosfilt(signal.butter(2, 25, "highpass", fs=rate, output="sos"), x)
    elif kind == "hum":
        t = np.arange(n) / rate
        f0 = 50.0 if rng.random() < 0.5 else 60.0
        x = np.zeros(n)
        for h in range(1, 8):
            if f0 * h < rate / 2:
                x += rng.uniform(0.1, 1.0) / h * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3))
        x = x / float(np.std(x)) + 0.05 * _unit(_colored(n, rng, 1.0))
    elif kind == "babble":
        if not babble:
            raise InvalidArgumentError("babble noise needs speech signals")
        x = np.zeros(n)
        for s in babble:
            if len(s) == 0:
                continue
            reps = int(np.ceil(n / len(s))) + 1
            loop = np.tile(s, reps)
            off = int(rng.integers(len(s)))
            x += loop[off : off + n] * rng.uniform(0.5, 1.0)
        x = signal.sosfilt(signal.butter(2, [120, min(5000, rate / 2 - 100)], "bandpass", fs=rate,
                                         output="sos"), x)
    else:
        raise InvalidArgumentError(f"unknown noise kind {kind!r}; expected one of {NOISE_KINDS}")
    return _unit(np.asarray(x, dtype=np.float64))


def room_ir(rate: int, rng: np.random.Generator, rt60: float) -> np.ndarray:
    """A synthetic room impulse response: a direct path, then exponentially
    decaying noise (60 dB down after ``rt60`` s)."""
    if not 0.05 <= rt60 <= 2.0:
        raise InvalidArgumentError(f"rt60 must be in [0.05, 2] s, got {rt60}")
    n = int(rt60 * rate)
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    pre = int(rate * rng.uniform(0.002, 0.01))  # first reflections arrive a bit later
    tail[:pre] = 0
    tail *= rng.uniform(0.15, 0.5) / max(1e-9, float(np.sqrt(np.sum(tail**2))))
    ir = np.zeros(n)
    ir[0] = 1.0
    return ir + tail


def reverb(x: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """Convolve and keep the length of ``x`` (the tail past the end is dropped)."""
    return signal.fftconvolve(x, ir)[: len(x)].astype(np.float32)


def telephone(x: np.ndarray, rate: int) -> np.ndarray:
    """300–3400 Hz band, as a narrow-band phone line."""
    hi = min(3400.0, rate / 2 - 200)
    sos = signal.butter(4, [300.0, hi], "bandpass", fs=rate, output="sos")
    return signal.sosfilt(sos, x).astype(np.float32)


def mu_law(x: np.ndarray, mu: float = 255.0) -> np.ndarray:
    """8-bit μ-law encode + decode (the quantization of a G.711 line)."""
    y = np.sign(x) * np.log1p(mu * np.minimum(np.abs(x), 1.0)) / np.log1p(mu)
    q = np.round(y * 127) / 127
    return (np.sign(q) * (np.expm1(np.abs(q) * np.log1p(mu)) / mu)).astype(np.float32)


def lowpass(x: np.ndarray, rate: int, fc: float) -> np.ndarray:
    fc = min(fc, rate / 2 - 100)
    return signal.sosfilt(signal.butter(4, fc, "lowpass", fs=rate, output="sos"), x).astype(np.float32)


def gain_drift_db(n: int, rate: int, rng: np.random.Generator, depth_db: float) -> np.ndarray:
    """A slow gain curve (dB) for ``n`` samples: sum of 2–3 sinusoids with
    periods of 5–30 s, peak deviation about ``depth_db``."""
    t = np.arange(n) / rate
    out = np.zeros(n)
    k = int(rng.integers(2, 4))
    for _ in range(k):
        out += np.sin(2 * np.pi * t / rng.uniform(5, 30) + rng.uniform(0, 6.3))
    m = float(np.max(np.abs(out))) or 1.0
    return (out / m * depth_db).astype(np.float32)


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    if sr_in == sr_out:
        return x.astype(np.float32)
    g = gcd(sr_in, sr_out)
    return signal.resample_poly(x, sr_out // g, sr_in // g, axis=0).astype(np.float32)


def active_rms(x: np.ndarray, rate: int) -> float:
    """RMS over the 10 ms frames within 30 dB of the loudest ones (speech level)."""
    n = max(1, rate // 100)
    k = len(x) // n
    if k == 0:
        return 0.0
    e = np.mean(x[: k * n].reshape(k, n).astype(np.float64) ** 2, axis=1)
    top = np.percentile(e, 99)
    act = e[e > top * 1e-3]
    return float(np.sqrt(np.mean(act))) if len(act) else 0.0
