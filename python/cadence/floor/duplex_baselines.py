"""Baselines that hear the persona's playback: how plain voice agents handle their own voice.

Both take ``reference=`` (the persona's playback, as Cadence's policy does) and commit like
:class:`~cadence.floor.baselines.SilenceBaseline` (Silero VAD, speech from p ≥ 0.5 to p < 0.35,
commit after ``ms`` of silence).

* :class:`HalfDuplexBaseline` (``half-duplex-<ms>``): the mic is muted while the persona is
  audible and for 100 ms after (its echo's tail), as a walkie-talkie agent does. Its own voice
  never reaches the VAD, and neither does a user who talks over it: it never stops for a barge-in.
* :class:`AecVadBaseline` (``aec3-vad-<ms>``): the shape of Pipecat's default pipeline with a
  browser's echo canceller. WebRTC's AEC3 (LiveKit's ``AudioProcessingModule``, as ``cadence
  bench aec`` runs it: echo cancellation only, no noise suppression or high-pass) cleans the mic,
  Silero VAD hears the rest, and ``barge_ms`` of speech over the persona (Pipecat's
  ``VADParams.start_secs``, 0.2 s) interrupts it (a ``bargein``): each stop drops the reply.
  Speech the VAD hears while the persona talks opens no turn unless it interrupted the persona,
  so the persona's own echo is not answered. LiveKit Agents differs: it interrupts after 0.5 s of
  speech by default (``min_interruption_duration``) and can resume after a false interruption;
  ``barge_ms=500`` gives the first, nothing here the second. With ``barge_ms`` at 150 ms or more
  no stop can come within the issue's 150 ms.

The persona is taken to hold the floor while its playback was audible (above −60 dBFS) in the
last 300 ms, as in Cadence's policy.
"""

from __future__ import annotations

import numpy as np

from cadence.errors import InvalidArgumentError, InvalidAudioError
from cadence.floor.baselines import SPEECH_OFF, SPEECH_ON, SilenceBaseline
from cadence.floor.protocol import FRAME_SAMPLES, RATE, Decision, frame_end_time
from cadence.floor.vad import WINDOW, SileroVad

__all__ = ["HalfDuplexBaseline", "AecVadBaseline", "AUDIBLE_DBFS"]

AUDIBLE_DBFS = -60.0
_HOLD_FRAMES = 30  # the persona holds the floor this long after its last audible frame
_TAIL_FRAMES = 10  # the half-duplex mic stays muted this long after it
_AUDIBLE_POWER = 10.0 ** (AUDIBLE_DBFS / 10.0)
_EPS = 1e-9


def _frames(frames: np.ndarray, reference: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(frames)
    if x.ndim != 2 or x.shape[1] != FRAME_SAMPLES or x.dtype != np.float32:
        raise InvalidAudioError(f"expected float32 (n, {FRAME_SAMPLES}) frames, got {x.dtype} {x.shape}")
    if reference is None:
        return x, np.zeros(len(x), bool)
    r = np.asarray(reference, np.float32)
    if r.shape != x.shape:
        raise InvalidAudioError(f"reference must match the frames' shape {x.shape}, got {r.shape}")
    return x, np.mean(r.astype(np.float64) ** 2, axis=1) >= _AUDIBLE_POWER


class HalfDuplexBaseline:
    """Silence endpointing with the mic muted while the persona talks."""

    def __init__(self, ms: int = 500) -> None:
        self._inner = SilenceBaseline(ms)
        self.name = f"half-duplex-{ms}"
        self.reset()

    def reset(self) -> None:
        self._inner.reset()
        self._quiet = 10_000  # frames since the persona was audible

    def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list[Decision]:
        x, audible = _frames(frames, reference)
        x = x.copy()
        for i in range(len(x)):
            self._quiet = 0 if audible[i] else self._quiet + 1
            if self._quiet <= _TAIL_FRAMES:
                x[i] = 0.0
        return self._inner.process(x)


class AecVadBaseline:
    """WebRTC AEC3, Silero VAD, a silence timeout and a VAD barge-in (see the module's text)."""

    def __init__(self, ms: int = 500, barge_ms: int = 200) -> None:
        if ms <= 0 or barge_ms <= 0:
            raise InvalidArgumentError(f"the silence and barge-in times must be > 0 ms, got {ms}, {barge_ms}")
        from livekit.rtc import AudioProcessingModule  # type: ignore[import-untyped]  # noqa: F401 (fail early)

        self.ms, self.barge_ms = ms, barge_ms
        self.name = f"aec3-vad-{ms}"
        self._vad = SileroVad()
        self.reset()

    def reset(self) -> None:
        from livekit.rtc import AudioProcessingModule

        self._apm = AudioProcessingModule(echo_cancellation=True)
        self._vad.reset()
        self._frame = 0
        self._quiet = 10_000
        self._speech = False
        self._speech_since: float | None = None  # start of the current VAD speech run (s)
        self._silence_start: float | None = None  # start of the silence after a user's speech (s)
        self._barged = False  # the user interrupted the persona's current utterance

    def _clean(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        from livekit.rtc import AudioFrame

        to16 = lambda a: (np.clip(a, -1.0, 1.0) * 32767.0).astype(np.int16)  # noqa: E731
        self._apm.process_reverse_stream(AudioFrame(to16(ref).tobytes(), RATE, 1, FRAME_SAMPLES))
        self._apm.set_stream_delay_ms(0)
        frame = AudioFrame(to16(mic).tobytes(), RATE, 1, FRAME_SAMPLES)
        self._apm.process_stream(frame)
        return (np.frombuffer(frame.data, np.int16) / 32767.0).astype(np.float32)

    def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list[Decision]:
        x, audible = _frames(frames, reference)
        ref = np.zeros_like(x) if reference is None else np.asarray(reference, np.float32)
        out: list[Decision] = []
        for i in range(len(x)):
            if audible[i] and self._quiet > _HOLD_FRAMES:
                self._barged = False  # a new utterance of the persona
            self._quiet = 0 if audible[i] else self._quiet + 1
            persona = self._quiet <= _HOLD_FRAMES
            for end, p in self._vad.push(self._clean(x[i], ref[i])[None, :]):
                if p >= SPEECH_ON and not self._speech:
                    self._speech, self._speech_since = True, (end - WINDOW) / RATE
                    self._silence_start = None
                elif p < SPEECH_OFF and self._speech:
                    self._speech, self._speech_since = False, None
                    self._silence_start = (end - WINDOW) / RATE
            now = frame_end_time(self._frame)
            self._frame += 1
            if persona and not self._barged:
                if self._speech and self._speech_since is not None and \
                        now - self._speech_since >= self.barge_ms / 1000.0 - _EPS:
                    self._barged = True
                    out.append(Decision("bargein", now))
                else:
                    self._silence_start = None  # what it heard over the persona opens no turn
                continue
            if self._silence_start is not None and now - self._silence_start >= self.ms / 1000.0 - _EPS:
                out.append(Decision("commit", now))
                self._silence_start = None
        return out
