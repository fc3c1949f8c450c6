"""Pure-Python reference of the floor normaliser (``cadence._core.FloorNormalizer``).

The run-time path (``FloorFeaturizer``) does the echo estimate and the speaker
normalisation in Rust with the GIL released. This module keeps the same
arithmetic in Python, step by step and easy to read: ``SpeakerNormalizer``
here and ``EchoEstimator`` in ``cadence.floor.echo``. The tests check that the
Rust path gives the same features (``tests/test_floor_rust_features.py``);
change both together.
"""

from __future__ import annotations

import math

import numpy as np

from cadence._core import EchoCanceller, FeatureExtractor
from cadence.floor.echo import EXCESS_MAX, EchoEstimator
from cadence.floor.features import N_FEATURES, N_MELS

__all__ = ["SpeakerNormalizer", "ReferenceNormalizer", "reference_mic_agc", "reference_features"]

# least-squares slope denominators Σ (i − (n−1)/2)² for the last n ≤ 20 voiced frames
_SLOPE_DEN = [sum((i - (n - 1) / 2.0) ** 2 for i in range(n)) for n in range(21)]


class SpeakerNormalizer:
    """Running per-speaker baselines (pitch, energy, timbre, rate); see module doc."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.noise = -70.0
        self.speech = -30.0
        self.n_speech = 0
        self.f0_mean = 0.0
        self.f0_var = 9.0
        self.n_voiced = 0
        self.last_st: float | None = None
        self.prev_rms = -100.0
        self.voiced_trace = 0.0
        self.mel_mean = np.zeros(N_MELS, np.float32)
        self.n_mel = 0
        # speaking rate: energy-peak detector state
        self.env_prev = -100.0
        self.env_rising = False
        self.peak_trace = 0.0  # peaks per frame, decaying (~2 s)
        self.rate_mean = 0.04  # ~4 peaks/s at 100 frames/s
        # latched end-of-speech summaries
        self.sil = 0
        self.run = 0
        self.last_run = 0
        self.vrun = 0
        self.last_vrun = 0
        self.last_f0_z = 0.0
        self.voiced_st: list[float] = []
        self.f0_slope = 0.0
        self.active_e: list[float] = []
        self.e_final = 0.0
        self.out = np.zeros(N_FEATURES, np.float32)

    def step(
        self, raw: np.ndarray, names: dict[str, int], vad: float, ref_db: float = -100.0,
        excess_db: float = 30.0,
    ) -> np.ndarray:
        """Normalise one frame of raw Rust features; returns a view reused per call.

        ``ref_db``/``excess_db`` come from the echo estimator: frames whose energy the
        persona's echo explains do not update the *user's* baselines.
        """
        rms = float(raw[names["rms_db"]])
        zcr = float(raw[names["zcr"]])
        f0 = float(raw[names["f0_hz"]])
        voicing = float(raw[names["voicing"]])
        centroid = float(raw[names["centroid_hz"]])
        tilt = float(raw[names["tilt"]])
        mel = raw[names["mel_0"] : names["mel_0"] + N_MELS]

        # noise floor: fast down, slow up (minimum tracking)
        if rms < self.noise:
            self.noise += 0.3 * (rms - self.noise)
        else:
            self.noise += 0.0005 * (rms - self.noise)
        is_speech = vad >= 0.5 and rms > self.noise + 6.0 and excess_db > 6.0
        if is_speech:
            self.n_speech += 1
            a = max(1.0 / self.n_speech, 0.005)
            self.speech += a * (rms - self.speech)
            self.n_mel += 1
            am = max(1.0 / self.n_mel, 0.003)
            self.mel_mean += am * (mel - self.mel_mean)

        voiced = voicing >= 0.5 and f0 > 0.0 and is_speech
        f0_z = 0.0
        f0_delta = 0.0
        if voiced:
            st = 12.0 * math.log2(f0 / 100.0)
            self.n_voiced += 1
            a = max(1.0 / self.n_voiced, 0.004)
            d = st - self.f0_mean
            self.f0_mean += a * d
            self.f0_var += a * (d * d - self.f0_var)
            spread = math.sqrt(max(self.f0_var, 1.0))
            f0_z = max(-4.0, min(4.0, (st - self.f0_mean) / spread))
            if self.last_st is not None:
                f0_delta = max(-4.0, min(4.0, st - self.last_st)) / 2.0
            self.last_st = st
        self.voiced_trace = 0.85 * self.voiced_trace + (0.15 if voiced else 0.0)

        # syllable-ish energy peaks → speaking rate
        peak = 0.0
        if rms > self.env_prev + 0.5:
            self.env_rising = True
        elif self.env_rising and rms < self.env_prev - 0.5:
            self.env_rising = False
            if self.env_prev > self.noise + 10.0:
                peak = 1.0
        self.env_prev = rms
        self.peak_trace = 0.995 * self.peak_trace + 0.005 * peak
        if is_speech:
            self.rate_mean += 0.002 * (self.peak_trace - self.rate_mean)
        rate = self.peak_trace / max(self.rate_mean, 1e-3) - 1.0

        o = self.out
        o[0] = (rms - self.speech) / 10.0
        o[1] = (rms - self.noise) / 20.0
        o[2] = max(-3.0, min(3.0, (rms - self.prev_rms) / 10.0))
        o[3] = zcr
        o[4] = voicing
        o[5] = f0_z
        o[6] = f0_delta
        o[7] = self.voiced_trace
        o[8] = math.log2(max(centroid, 50.0) / 1000.0)
        o[9] = max(-3.0, min(3.0, (tilt + 8.0) / 5.0))
        o[10] = vad
        o[11] = max(-2.0, min(4.0, rate))
        o[12] = max(-3.0, min(3.0, (ref_db + 40.0) / 20.0))
        o[13] = max(-1.0, min(3.0, excess_db / 10.0))
        self._latch(rms, voiced, f0_z)
        o[14] = min(self.sil / 200.0, 1.5)
        o[15] = min((self.run if self.run else self.last_run) / 200.0, 2.0)
        o[16] = min((self.vrun if self.vrun else self.last_vrun) / 30.0, 3.0)
        o[17] = self.last_f0_z
        o[18] = self.f0_slope
        o[19] = self.e_final
        o[20:] = (mel - self.mel_mean) / 4.0
        self.prev_rms = rms
        return o

    def _latch(self, rms: float, voiced: bool, f0_z: float) -> None:
        active = rms > self.noise + 9.0
        if active:
            self.sil = 0
            self.run += 1
            self.active_e.append(rms)
            if len(self.active_e) > 50:
                del self.active_e[0]
            if len(self.active_e) >= 20:
                e = self.active_e
                self.e_final = max(-3.0, min(3.0, (sum(e[-10:]) / 10 - sum(e[:-10]) / (len(e) - 10)) / 10))
        else:
            self.sil += 1
            if self.run:
                self.last_run, self.run = self.run, 0
        if voiced:
            self.vrun += 1
            self.last_f0_z = f0_z
            st = self.voiced_st
            st.append(f0_z)
            if len(st) > 20:
                del st[0]
            if len(st) >= 5:
                n = len(st)
                xm = (n - 1) / 2.0
                ym = sum(st) / n
                num = sum((i - xm) * (v - ym) for i, v in enumerate(st))
                den = _SLOPE_DEN[n]
                spread = math.sqrt(max(self.f0_var, 1.0))
                # slope in z units per frame → semitones per 100 ms
                self.f0_slope = max(-3.0, min(3.0, num / den * spread * 10.0 / 2.0))
        elif self.vrun:
            self.last_vrun, self.vrun = self.vrun, 0


class ReferenceNormalizer:
    """Python twin of ``cadence._core.FloorNormalizer``: same inputs, same outputs, streaming."""

    def __init__(self) -> None:
        self.names = {n: i for i, n in enumerate(FeatureExtractor(n_mels=N_MELS).names)}
        self.norm, self.echo = SpeakerNormalizer(), EchoEstimator()

    def process(self, raw: np.ndarray, vad: np.ndarray, frames: np.ndarray,
                reference: np.ndarray | None = None) -> np.ndarray:
        mic_pow = np.mean(np.square(frames, dtype=np.float64), axis=1)
        ref_pow = None if reference is None else np.mean(np.square(reference, dtype=np.float64), axis=1)
        out = np.empty((raw.shape[0], N_FEATURES), np.float32)
        for i in range(raw.shape[0]):
            if ref_pow is None:
                ref_db, excess = -100.0, EXCESS_MAX
            else:
                ref_db, excess = self.echo.step(float(mic_pow[i]), float(ref_pow[i]))
            out[i] = self.norm.step(raw[i], self.names, float(vad[i]), ref_db, excess)
        return out


def reference_mic_agc(frames: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """What ``MicAgc().process(frames, reference)`` computes: the envelope of the frame level
    (attack 0.05 of the gap per louder frame, release 0.01 dB per frame within 15 dB below it,
    0.001 dB further below, from -30 dB, at least -80 dB; frozen while a reference frame is
    above -60 dB and 30 frames after; over the first 50 frames whose sustained level — the
    quietest of the frame and the two before it — is more than 12 dB above the noise floor (the
    quietest frame, rising 0.01 dB per frame), the loudest such level instead) and a boost to
    bring it to -20 dBFS, 0 to 30 dB."""

    def db(f: np.ndarray) -> float:
        ms = 0.0
        for v in f.tolist():  # summed in order, like the Rust
            ms += v * v
        return 10.0 * math.log10(ms / f.size + 1e-12)

    out = np.empty_like(frames)
    level, since_persona, noise, heard = -30.0, 30, None, 0
    recent: list[float] = []  # the levels of the two frames before (cold start only)
    for i, f in enumerate(frames):
        since_persona = 0 if reference is not None and db(reference[i]) > -60.0 else since_persona + 1
        d = db(f)
        sustained = min([d, *recent])
        if heard < 50:  # the noise floor and the recent levels matter only until the cold start is over
            noise = d if noise is None else min(noise + 0.01, d)
            recent = [d, *recent][:2]
        if since_persona >= 30 and heard < 50 and noise is not None and sustained > noise + 12.0:
            level = sustained if heard == 0 else max(level, sustained)
            heard += 1
        elif since_persona >= 30:
            if d > level:
                level = level + 0.05 * (d - level)
            else:
                level = max(-80.0, level - (0.01 if d > level - 15.0 else 0.001))
        out[i] = f * np.float32(10.0 ** (min(30.0, max(0.0, -20.0 - level)) / 20.0))
    return out


def reference_features(frames: np.ndarray, reference: np.ndarray | None = None,
                       echo_cancel: bool = False) -> np.ndarray:
    """What ``FloorFeaturizer(echo_cancel).process(frames, reference)`` computes, in Python."""
    from cadence.floor.vad import SileroVad

    # the echo canceller (Rust, tested on its own in test_floor_aec.py) comes first
    clean = EchoCanceller().process(frames, reference) if echo_cancel else frames
    raised = reference_mic_agc(clean, reference)
    raw = FeatureExtractor(n_mels=N_MELS).process(raised)
    vad = SileroVad().frame_probs(np.clip(raised, -1.0, 1.0))
    return ReferenceNormalizer().process(raw, vad, frames, reference)
