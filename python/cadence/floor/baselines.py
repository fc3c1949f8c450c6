"""Baseline floor policies for ``cadence bench floor``, built from Silero VAD.

* :class:`SilenceBaseline` — what most voice agents do: VAD with hysteresis
  (speech starts at p >= 0.5, ends at p < 0.35), then commit once the silence
  since the end of speech reaches ``ms`` (one commit per speech→silence
  transition). The end of speech is the start of the first 32 ms VAD window
  below 0.35; the commit is emitted at the first 10 ms frame whose end time is
  ``ms`` past it.
* :class:`VadStopClassifyBaseline` — a "Smart-Turn-like" pipeline assembled
  from offline parts: after a 100 ms VAD stop, a logistic regression on a
  dozen hand-made prosodic features of the last 1.5 s of audio (energy and f0
  contours, final voiced-run length; :func:`prosodic_features`, numpy only)
  decides end-of-turn (commit now) or hold; on hold it falls
  back to a 1.5 s silence timeout. It is *not* Smart Turn (no learned audio
  encoder, no transformer): it is the same two-stage shape with a tiny
  classifier, trained here with ``cadence bench floor --fit-baselines``.
"""

from __future__ import annotations

import json
import math
import os
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cadence.errors import InvalidArgumentError, InvalidAudioError
from cadence.floor.protocol import FRAME_SAMPLES, RATE, Decision, frame_end_time
from cadence.floor.vad import WINDOW, SileroVad

__all__ = [
    "SPEECH_ON",
    "SPEECH_OFF",
    "WEIGHTS_PATH",
    "SilenceBaseline",
    "VadStopClassifyBaseline",
    "FEATURE_NAMES",
    "prosodic_features",
    "StopClassifier",
    "fit_classifier",
    "stop_label",
    "collect_stops",
]

SPEECH_ON = 0.5
SPEECH_OFF = 0.35
_EPS = 1e-9
WEIGHTS_PATH = os.path.join(os.path.dirname(__file__), "weights", "vad_classify.json")


class _VadEndpointer:
    """Silero VAD + hysteresis; tracks where the current silence started."""

    def __init__(self) -> None:
        self.vad = SileroVad()
        self.reset()

    def reset(self) -> None:
        self.vad.reset()
        self.frame = 0  # frames processed since reset
        self.in_speech = False
        self.silence_start: float | None = None  # seconds; set while in speech and silent

    def step(self, frame: np.ndarray) -> float:
        """Push one (1, 160) frame; return the end time of that frame."""
        for end, p in self.vad.push(frame):
            if p >= SPEECH_ON:
                self.in_speech = True
                self.silence_start = None
            elif p < SPEECH_OFF and self.in_speech and self.silence_start is None:
                self.silence_start = (end - WINDOW) / RATE
        now = frame_end_time(self.frame)
        self.frame += 1
        return now

    def end_speech(self) -> None:
        self.in_speech = False
        self.silence_start = None


def _check_frames(frames: np.ndarray) -> np.ndarray:
    x = np.asarray(frames)
    if x.ndim != 2 or x.shape[1] != FRAME_SAMPLES or x.dtype != np.float32:
        raise InvalidAudioError(f"expected float32 (n, {FRAME_SAMPLES}) frames, got {x.dtype} {x.shape}")
    return x


class SilenceBaseline:
    """Commit after ``ms`` of VAD silence following speech."""

    def __init__(self, ms: int = 500) -> None:
        if ms <= 0:
            raise InvalidArgumentError(f"silence timeout must be > 0 ms, got {ms}")
        self.ms = ms
        self.name = f"silence-{ms}"
        self._ep = _VadEndpointer()

    def reset(self) -> None:
        self._ep.reset()

    def process(self, frames: np.ndarray) -> list[Decision]:
        x = _check_frames(frames)
        out: list[Decision] = []
        ep = self._ep
        wait = self.ms / 1000.0
        for i in range(x.shape[0]):
            now = ep.step(x[i : i + 1])
            if ep.silence_start is not None and now - ep.silence_start >= wait - _EPS:
                out.append(Decision("commit", now))
                ep.end_speech()
        return out


# --------------------------------------------------------------------------- features
FEATURE_NAMES: tuple[str, ...] = (
    "energy_slope_db_s",  # rms dB regression slope over the last 0.5 s of speech
    "final_energy_drop_db",  # last 100 ms of speech vs loudest frame in the window
    "has_f0",  # any voiced frame in the last 0.5 s
    "f0_slope_st_s",  # f0 regression slope (semitones/s) over voiced frames of the last 0.5 s
    "f0_final_rel_st",  # last voiced f0 vs the window's median f0 (semitones)
    "f0_range_st",  # p90 - p10 of voiced f0 over the window (semitones)
    "final_voiced_run_s",  # length of the last voiced run (final-syllable duration proxy)
    "voiced_fraction",  # voiced frames / frames in the window
    "speech_run_s",  # contiguous speech before the stop
    "pauses",  # energy dips >= 150 ms inside the window
    "final_voicing",  # mean autocorrelation peak over the last 100 ms of speech
    "final_zcr",  # zero-crossing rate over the last 100 ms of speech
)
_F0_MIN, _F0_MAX = 70.0, 400.0
_AC_WIN = 640  # 40 ms analysis window, one per 10 ms frame
_NFFT = 1024


def _frame_f0(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-10-ms-frame (rms_db, f0_hz or 0, voicing strength) from 16 kHz samples."""
    n = x.size // FRAME_SAMPLES
    frames = x[: n * FRAME_SAMPLES].reshape(n, FRAME_SAMPLES)
    rms_db = 10.0 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-10)
    padded = np.concatenate([np.zeros(_AC_WIN - FRAME_SAMPLES, np.float32), x[: n * FRAME_SAMPLES]])
    wins = np.lib.stride_tricks.sliding_window_view(padded, _AC_WIN)[::FRAME_SAMPLES][:n].astype(np.float64)
    wins = wins - wins.mean(axis=1, keepdims=True)
    hann = np.hanning(_AC_WIN)
    spec = np.fft.rfft(wins * hann, _NFFT)
    ac = np.fft.irfft(np.abs(spec) ** 2, _NFFT)
    ac_w = np.fft.irfft(np.abs(np.fft.rfft(hann, _NFFT)) ** 2, _NFFT)
    lo, hi = int(RATE / _F0_MAX), int(RATE / _F0_MIN) + 1
    norm = ac[:, lo:hi] / (ac[:, :1] + 1e-12) / (ac_w[lo:hi] / ac_w[0])
    # octave guard: take the shortest lag within 10 % of the best peak, then climb to its top
    best = norm.max(axis=1, keepdims=True)
    k = np.argmax(norm >= 0.9 * best, axis=1)
    rows = np.arange(n)
    for _ in range(hi - lo):
        nxt = np.minimum(k + 1, hi - lo - 1)
        up = norm[rows, nxt] > norm[rows, k]
        if not up.any():
            break
        k = np.where(up, nxt, k)
    strength = norm[rows, k]
    f0 = RATE / (lo + k)
    voiced = (strength >= 0.45) & (rms_db > rms_db.max() - 35.0)
    return rms_db, np.where(voiced, f0, 0.0), np.clip(strength, 0.0, 1.0)


def _slope(y: np.ndarray, dt: float) -> float:
    if y.size < 3:
        return 0.0
    t = np.arange(y.size) * dt
    t = t - t.mean()
    return float(np.dot(t, y - y.mean()) / (np.dot(t, t) + 1e-12))


def prosodic_features(x: np.ndarray) -> np.ndarray:
    """Features of the audio before a VAD stop (16 kHz samples, ~1.5 s, ending at the stop)."""
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    n = x.size // FRAME_SAMPLES
    if n < 5:
        return np.zeros(len(FEATURE_NAMES))
    dt = FRAME_SAMPLES / RATE
    rms_db, f0, strength = _frame_f0(x)
    speech = rms_db > rms_db.max() - 30.0
    last = int(np.nonzero(speech)[0][-1]) if speech.any() else n - 1
    tail = slice(max(0, last - 9), last + 1)  # last 100 ms of speech
    recent = slice(max(0, last - 49), last + 1)  # last 0.5 s of speech
    sp_recent = rms_db[recent][speech[recent]]
    voiced_recent = f0[recent][f0[recent] > 0]
    st_recent = 12.0 * np.log2(voiced_recent / 100.0) if voiced_recent.size else np.zeros(0)
    voiced_all = f0[f0 > 0]
    st_all = 12.0 * np.log2(voiced_all / 100.0) if voiced_all.size else np.zeros(0)
    # last voiced run
    run = 0
    v = f0 > 0
    i = last
    while i >= 0 and not v[i] and last - i < 10:
        i -= 1
    while i >= 0 and v[i]:
        run += 1
        i -= 1
    # contiguous speech before the stop, and pauses (runs of >= 15 non-speech frames)
    sr = 0
    i = last
    while i >= 0 and speech[i]:
        sr += 1
        i -= 1
    pauses = 0
    gap = 0
    for s in speech[: last + 1]:
        if s:
            pauses += gap >= 15
            gap = 0
        else:
            gap += 1
    tail_x = x[tail.start * FRAME_SAMPLES : tail.stop * FRAME_SAMPLES]
    zcr = float(np.mean(np.abs(np.diff(np.signbit(tail_x).astype(np.int8))))) if tail_x.size > 1 else 0.0
    feats = [
        float(np.clip(_slope(sp_recent, dt), -200.0, 200.0)),
        float(rms_db[tail].mean() - rms_db.max()),
        float(voiced_recent.size > 0),
        float(np.clip(_slope(st_recent, dt), -100.0, 100.0)) if st_recent.size else 0.0,
        float(st_recent[-3:].mean() - np.median(st_all)) if st_recent.size else 0.0,
        float(np.percentile(st_all, 90) - np.percentile(st_all, 10)) if st_all.size else 0.0,
        run * dt,
        float(v.mean()),
        sr * dt,
        float(pauses),
        float(strength[tail].mean()),
        zcr,
    ]
    return np.asarray(feats, dtype=np.float64)


# --------------------------------------------------------------------------- classifier
@dataclass(frozen=True)
class StopClassifier:
    """Standardised logistic regression over :data:`FEATURE_NAMES`."""

    mean: np.ndarray
    std: np.ndarray
    w: np.ndarray
    b: float
    threshold: float = 0.5
    info: dict[str, Any] | None = None

    def prob_end(self, feats: np.ndarray) -> float:
        z = float(np.dot((feats - self.mean) / self.std, self.w) + self.b)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "vad-stop-logreg",
            "features": list(FEATURE_NAMES),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "w": self.w.tolist(),
            "b": self.b,
            "threshold": self.threshold,
            "info": self.info or {},
        }

    def save(self, path: str = WEIGHTS_PATH) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(self.to_json(), f, indent=1)
            f.write("\n")

    @classmethod
    def load(cls, path: str = WEIGHTS_PATH) -> StopClassifier:
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"no vad-classify weights at {path}; train them with "
                "`cadence bench floor --fit-baselines DIR/train`"
            )
        with open(path) as f:
            d = json.load(f)
        if d.get("kind") != "vad-stop-logreg" or d.get("features") != list(FEATURE_NAMES):
            raise InvalidArgumentError(f"{path}: weights are for another feature set; refit them")
        return cls(
            np.asarray(d["mean"]), np.asarray(d["std"]), np.asarray(d["w"]), float(d["b"]),
            float(d["threshold"]), d.get("info"),
        )


def fit_classifier(
    X: np.ndarray, y: np.ndarray, *, l2: float = 1e-2, iters: int = 50, info: dict[str, Any] | None = None
) -> StopClassifier:
    """Class-balanced L2 logistic regression by Newton's method (numpy only)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != y.shape[0] or X.shape[1] != len(FEATURE_NAMES):
        raise InvalidArgumentError(f"bad training data shapes X{X.shape} y{y.shape}")
    pos = y.sum()
    if pos == 0 or pos == y.size:
        raise InvalidArgumentError("training data needs both end-of-turn and hold examples")
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std[std < 1e-9] = 1.0
    Z = np.hstack([(X - mean) / std, np.ones((X.shape[0], 1))])
    sw = np.where(y > 0, 0.5 / pos, 0.5 / (y.size - pos)) * y.size  # balanced weights
    reg = np.full(Z.shape[1], l2)
    reg[-1] = 0.0
    theta = np.zeros(Z.shape[1])
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(Z @ theta, -50, 50)))
        g = Z.T @ (sw * (p - y)) / y.size + reg * theta
        H = (Z * (sw * p * (1 - p))[:, None]).T @ Z / y.size + np.diag(reg) + 1e-9 * np.eye(Z.shape[1])
        step = np.linalg.solve(H, g)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return StopClassifier(mean, std, theta[:-1].copy(), float(theta[-1]), 0.5, info)


def stop_label(stop_t: float, shifts: Sequence[float]) -> int:
    """Training label of a VAD stop at ``stop_t``: 1 if it is a true turn end, else 0."""
    return int(any(t - 0.3 <= stop_t <= t + 0.5 for t in shifts))


# --------------------------------------------------------------------------- policy
class VadStopClassifyBaseline:
    """VAD stop (100 ms) → prosodic classifier → commit, or 1.5 s silence fallback."""

    name = "vad-classify"

    def __init__(
        self,
        classifier: StopClassifier | None = None,
        *,
        stop_s: float = 0.1,
        fallback_s: float = 1.5,
        context_s: float = 1.5,
        collect: bool = False,
    ) -> None:
        self.clf = classifier if classifier is not None or collect else StopClassifier.load()
        self.stop_s = stop_s
        self.fallback_s = fallback_s
        self.context_frames = int(round(context_s * RATE / FRAME_SAMPLES))
        self.collect = collect  # record (stop time, features) instead of classifying
        self.stops: list[tuple[float, np.ndarray]] = []
        self._ep = _VadEndpointer()
        self._hist: deque[np.ndarray] = deque(maxlen=self.context_frames + 64)
        self.reset()

    def reset(self) -> None:
        self._ep.reset()
        self._hist.clear()
        self._decided_for: float | None = None  # silence_start already classified
        self.stops = []

    def _features(self, silence_start: float) -> np.ndarray:
        # frames that end at or before the stop start
        end_frame = int(math.floor(silence_start * RATE / FRAME_SAMPLES + 1e-6))
        back = self._ep.frame - end_frame  # frames after the stop, held in _hist's tail
        hist = list(self._hist)
        upto = len(hist) - back
        frames = hist[max(0, upto - self.context_frames) : max(0, upto)]
        if not frames:
            return np.zeros(len(FEATURE_NAMES))
        return prosodic_features(np.concatenate(frames))

    def process(self, frames: np.ndarray) -> list[Decision]:
        x = _check_frames(frames)
        out: list[Decision] = []
        ep = self._ep
        for i in range(x.shape[0]):
            self._hist.append(x[i].copy())
            now = ep.step(x[i : i + 1])
            ss = ep.silence_start
            if ss is None:
                self._decided_for = None
                continue
            waited = now - ss
            if self._decided_for != ss and waited >= self.stop_s - _EPS:
                self._decided_for = ss
                feats = self._features(ss)
                if self.collect:
                    self.stops.append((ss, feats))
                elif self.clf is not None and self.clf.prob_end(feats) >= self.clf.threshold:
                    out.append(Decision("commit", now))
                    ep.end_speech()
                    self._decided_for = None
                    continue
            if waited >= self.fallback_s - _EPS:
                out.append(Decision("commit", now))
                ep.end_speech()
                self._decided_for = None
        return out


def collect_stops(frames: np.ndarray, shifts: Iterable[float]) -> tuple[np.ndarray, np.ndarray]:
    """Run the VAD-stop stage over one file; return (features, labels) of its stops."""
    pol = VadStopClassifyBaseline(collect=True)
    pol.process(frames)
    sh = list(shifts)
    if not pol.stops:
        return np.zeros((0, len(FEATURE_NAMES))), np.zeros(0)
    X = np.stack([f for _, f in pol.stops])
    y = np.asarray([stop_label(t, sh) for t, _ in pol.stops], dtype=np.float64)
    return X, y
