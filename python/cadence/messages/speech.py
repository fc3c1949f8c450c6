"""Speech-output messages: synthesized audio with phoneme/viseme timings, end and stop.

Timings in a ``SpeechChunk`` are offsets in ns from the first sample of the
epoch's speech (sample position / rate), so a phoneme may span chunks and the
Face stage can schedule visemes against playout without knowing chunk sizes.
"""

from __future__ import annotations

from typing import Final, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from cadence.errors import InvalidArgumentError, InvalidAudioError, UnsupportedRateError
from cadence.messages._base import MessageBase, as_tuple, check_non_negative, check_span

__all__ = [
    "VISEME_NAMES",
    "PhonemeTiming",
    "VisemeTiming",
    "SpeechChunk",
    "SpeechEnd",
    "SpeechStop",
    "StopReason",
    "STOP_REASONS",
    "MAX_SPEECH_RATE",
]

#: The 15 viseme classes (Oculus/MPEG-4 style set) used by lip sync, in index order.
VISEME_NAMES: Final[tuple[str, ...]] = (
    "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U",
)  # fmt: skip
_VISEMES: Final = frozenset(VISEME_NAMES)
#: Highest sample rate synthesized speech may declare (Hz).
MAX_SPEECH_RATE: Final = 192000
_F32: Final = np.dtype("<f4")

StopReason = Literal["barge_in", "retracted", "shutdown"]
#: The values of :data:`StopReason`.
STOP_REASONS: Final[frozenset[str]] = frozenset(("barge_in", "retracted", "shutdown"))


class PhonemeTiming(msgspec.Struct, frozen=True, gc=False):
    """One phoneme (IPA or engine symbol) and its span, offsets from the speech start."""

    phoneme: str
    start_ns: int
    end_ns: int

    def __post_init__(self) -> None:
        check_span("PhonemeTiming", self.start_ns, self.end_ns)


class VisemeTiming(msgspec.Struct, frozen=True, gc=False):
    """One viseme (a name in :data:`VISEME_NAMES`) and its span, offsets from the speech start."""

    viseme: str
    start_ns: int
    end_ns: int

    def __post_init__(self) -> None:
        check_span("VisemeTiming", self.start_ns, self.end_ns)
        if self.viseme not in _VISEMES:
            raise InvalidArgumentError(f"unknown viseme {self.viseme!r}; see VISEME_NAMES")


class SpeechChunk(MessageBase, frozen=True, tag="speech.chunk", gc=False, kw_only=True):
    """Synthesized speech of draft ``epoch``: mono little-endian float32 ``pcm`` at ``rate``.

    ``seq`` orders the chunks of one epoch. ``phonemes``/``visemes`` are the
    timings that start within this chunk.
    """

    epoch: int
    seq: int
    pcm: bytes
    rate: int
    phonemes: tuple[PhonemeTiming, ...] = ()
    visemes: tuple[VisemeTiming, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("epoch", self.epoch)
        check_non_negative("seq", self.seq)
        if not 0 < self.rate <= MAX_SPEECH_RATE:
            raise UnsupportedRateError(
                f"SpeechChunk rate must be in 1..{MAX_SPEECH_RATE} Hz, got {self.rate!r}"
            )
        if type(self.pcm) is not bytes:  # the codec gives bytes; an array here would count elements
            raise InvalidAudioError(f"SpeechChunk pcm must be bytes (little-endian float32), got {type(self.pcm).__name__}")
        if len(self.pcm) % 4:
            raise InvalidAudioError(
                f"SpeechChunk pcm has {len(self.pcm)} bytes, not a whole number of float32 samples"
            )
        as_tuple(self, "phonemes")
        as_tuple(self, "visemes")

    @property
    def num_samples(self) -> int:
        return len(self.pcm) // 4

    @property
    def duration_ns(self) -> int:
        """Duration of the chunk in nanoseconds (rounded down)."""
        return self.num_samples * 1_000_000_000 // self.rate

    def samples(self) -> npt.NDArray[np.float32]:
        """A read-only zero-copy float32 view of ``pcm``."""
        return np.frombuffer(self.pcm, dtype=_F32)


class SpeechEnd(MessageBase, frozen=True, tag="speech.end"):
    """The speech of ``epoch`` is complete after ``chunks`` chunks."""

    epoch: int
    chunks: int

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("epoch", self.epoch)
        check_non_negative("chunks", self.chunks)


class SpeechStop(MessageBase, frozen=True, tag="speech.stop", kw_only=True):
    """Stop playout now (barge-in). ``epoch=None`` stops whatever is playing."""

    epoch: int | None = None
    reason: StopReason = "barge_in"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.epoch is not None:
            check_non_negative("epoch", self.epoch)
        if self.reason not in STOP_REASONS:
            raise InvalidArgumentError(
                f"reason must be one of {sorted(STOP_REASONS)}, got {self.reason!r}"
            )
