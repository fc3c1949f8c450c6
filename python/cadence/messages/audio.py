"""Audio messages: the internal 16 kHz float32 ``AudioFrame`` and the raw ``AudioChunk``.

``AudioChunk`` is what a transport receives (any rate, int16 or float32,
interleaved channels). The Framer turns chunks into ``AudioFrame``\\ s: mono,
little-endian float32, 16 kHz, exactly 10 ms (160 samples) or 20 ms (320).
"""

from __future__ import annotations

from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from cadence.errors import InvalidAudioError, UnsupportedRateError
from cadence.messages._base import MessageBase, check_non_negative

__all__ = [
    "AudioFrame",
    "AudioChunk",
    "SampleFormat",
    "INTERNAL_RATE",
    "FRAME_SAMPLES",
    "ALLOWED_FRAME_SAMPLES",
    "MAX_CHUNK_RATE",
    "MAX_CHUNK_CHANNELS",
]

#: Internal sample rate (Hz).
INTERNAL_RATE: Final = 16000
#: Samples in one 10 ms internal frame.
FRAME_SAMPLES: Final = 160
#: Frame lengths an AudioFrame may have: 10 ms and 20 ms at 16 kHz.
ALLOWED_FRAME_SAMPLES: Final = (160, 320)
#: Highest sample rate a transport chunk may declare (Hz).
MAX_CHUNK_RATE: Final = 384000
#: Most interleaved channels a transport chunk may carry.
MAX_CHUNK_CHANNELS: Final = 8
#: The largest sample magnitude a frame may hold (full scale is 1.0): the Rust rings' and the
#: Framer's limit (``cadence._core.MAX_SAMPLE_ABS``), checked here at the edge as well.
MAX_SAMPLE_ABS: Final = 1.0e6

SampleFormat = Literal["s16le", "f32le"]
_F32: Final = np.dtype("<f4")
_DTYPES: Final[dict[str, np.dtype[Any]]] = {"s16le": np.dtype("<i2"), "f32le": _F32}
_NS_PER_S: Final = 1_000_000_000


class AudioFrame(MessageBase, frozen=True, tag="audio.frame", gc=False):
    """One internal audio frame.

    ``pcm`` is little-endian float32, interleaved if ``channels > 1``; internally
    always mono 16 kHz, 10 or 20 ms (checked by :meth:`validate`, not at
    construction, so that the Framer's hot path pays only for a length check).
    """

    seq: int
    pcm: bytes
    rate: int = 16000
    channels: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("seq", self.seq)
        if type(self.pcm) is not bytes:  # the codec gives bytes; an array here would count elements
            raise InvalidAudioError(
                f"AudioFrame pcm must be bytes (little-endian float32), got {type(self.pcm).__name__}"
            )
        if self.rate <= 0:
            raise UnsupportedRateError(f"AudioFrame rate must be > 0, got {self.rate!r}")
        if self.channels < 1:
            raise InvalidAudioError(f"AudioFrame channels must be >= 1, got {self.channels!r}")
        if len(self.pcm) % (4 * self.channels):
            raise InvalidAudioError(
                f"AudioFrame pcm has {len(self.pcm)} bytes, not a whole number of "
                f"{self.channels}-channel float32 samples"
            )

    @property
    def num_samples(self) -> int:
        """Samples per channel."""
        return len(self.pcm) // (4 * self.channels)

    @property
    def duration_ns(self) -> int:
        """Duration of the frame in nanoseconds (rounded down)."""
        return self.num_samples * _NS_PER_S // self.rate

    def samples(self) -> npt.NDArray[np.float32]:
        """A read-only zero-copy float32 view of ``pcm``: shape (n,) mono, (n, channels) else."""
        view = np.frombuffer(self.pcm, dtype=_F32)
        if self.channels == 1:
            return view
        return view.reshape(-1, self.channels)

    def validate(self) -> None:
        """Check the internal-format contract.

        Raises :class:`UnsupportedRateError` if ``rate != 16000``, and
        :class:`InvalidAudioError` if not mono, not 10/20 ms long, or any
        sample is NaN, infinite or beyond :data:`MAX_SAMPLE_ABS` in magnitude.
        """
        if self.rate != INTERNAL_RATE:
            raise UnsupportedRateError(
                f"AudioFrame must be {INTERNAL_RATE} Hz internally, got {self.rate} Hz"
            )
        if self.channels != 1:
            raise InvalidAudioError(f"AudioFrame must be mono, got {self.channels} channels")
        n = self.num_samples
        if n not in ALLOWED_FRAME_SAMPLES:
            raise InvalidAudioError(
                f"AudioFrame must hold {ALLOWED_FRAME_SAMPLES} samples (10/20 ms), got {n}"
            )
        peak = np.abs(self.samples()).max()  # NaN if any sample is NaN (then not <= the limit)
        if not peak <= MAX_SAMPLE_ABS:
            if not np.isfinite(peak) or not np.isfinite(self.samples()).all():
                raise InvalidAudioError("AudioFrame holds NaN or infinite samples")
            raise InvalidAudioError(
                f"AudioFrame sample magnitude {peak:g} exceeds {MAX_SAMPLE_ABS:g} (full scale is 1.0)"
            )

    @classmethod
    def from_samples(
        cls,
        conversation_id: str,
        ts_ns: int,
        seq: int,
        samples: npt.ArrayLike,
        rate: int = INTERNAL_RATE,
        channels: int = 1,
        *,
        validate: bool = True,
    ) -> AudioFrame:
        """Build a frame from float samples (1-D, or (n, channels) interleaved).

        The samples are converted to little-endian float32 and copied once into
        ``pcm``. With ``validate=True`` (default) :meth:`validate` runs too.
        """
        arr = np.asarray(samples)
        if arr.ndim == 2:
            if arr.shape[1] != channels:
                raise InvalidAudioError(
                    f"samples have {arr.shape[1]} columns but channels={channels}"
                )
        elif arr.ndim != 1:
            raise InvalidAudioError(f"samples must be 1-D or 2-D, got {arr.ndim}-D")
        if not np.issubdtype(arr.dtype, np.floating):
            raise InvalidAudioError(f"samples must be floating point, got dtype {arr.dtype}")
        pcm = np.ascontiguousarray(arr, dtype=_F32).tobytes()
        frame = cls(conversation_id, ts_ns, seq, pcm, rate, channels)
        if validate:
            frame.validate()
        return frame


class AudioChunk(MessageBase, frozen=True, tag="audio.chunk", gc=False, kw_only=True):
    """Raw audio as a transport receives it, before the Framer.

    ``data`` holds interleaved little-endian samples in ``sample_format``
    (``"s16le"`` int16 or ``"f32le"`` float32) at any ``rate`` up to 384 kHz.
    """

    seq: int
    data: bytes
    rate: int
    channels: int = 1
    sample_format: SampleFormat = "s16le"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("seq", self.seq)
        if not 0 < self.rate <= MAX_CHUNK_RATE:
            raise UnsupportedRateError(
                f"AudioChunk rate must be in 1..{MAX_CHUNK_RATE} Hz, got {self.rate!r}"
            )
        if not 1 <= self.channels <= MAX_CHUNK_CHANNELS:
            raise InvalidAudioError(
                f"AudioChunk channels must be in 1..{MAX_CHUNK_CHANNELS}, got {self.channels!r}"
            )
        if type(self.data) is not bytes:  # the codec gives bytes; an array here would count elements
            raise InvalidAudioError(f"AudioChunk data must be bytes, got {type(self.data).__name__}")
        dtype = _DTYPES.get(self.sample_format)
        if dtype is None:
            raise InvalidAudioError(f"unknown AudioChunk sample_format {self.sample_format!r}")
        if len(self.data) % (dtype.itemsize * self.channels):
            raise InvalidAudioError(
                f"AudioChunk data has {len(self.data)} bytes, not a whole number of "
                f"{self.channels}-channel {self.sample_format} samples"
            )

    @property
    def num_samples(self) -> int:
        """Samples per channel."""
        return len(self.data) // (_DTYPES[self.sample_format].itemsize * self.channels)

    @property
    def duration_ns(self) -> int:
        """Duration of the chunk in nanoseconds (rounded down)."""
        return self.num_samples * _NS_PER_S // self.rate

    def samples(self) -> npt.NDArray[np.int16] | npt.NDArray[np.float32]:
        """A read-only zero-copy view of ``data``, always shaped (n, channels)."""
        view = np.frombuffer(self.data, dtype=_DTYPES[self.sample_format])
        return view.reshape(-1, self.channels)

    @classmethod
    def from_samples(
        cls,
        conversation_id: str,
        ts_ns: int,
        seq: int,
        samples: npt.ArrayLike,
        rate: int,
    ) -> AudioChunk:
        """Build a chunk from int16 or float32 samples, 1-D (mono) or (n, channels).

        The dtype picks the format: int16 → ``"s16le"``, float32 → ``"f32le"``;
        float samples must be finite.
        """
        arr = np.asarray(samples)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        elif arr.ndim != 2:
            raise InvalidAudioError(f"samples must be 1-D or 2-D, got {arr.ndim}-D")
        fmt: SampleFormat
        if arr.dtype == np.int16:
            fmt = "s16le"
        elif arr.dtype == np.float32:
            fmt = "f32le"
            if not np.isfinite(arr).all():
                raise InvalidAudioError("AudioChunk samples hold NaN or infinite values")
        else:
            raise InvalidAudioError(f"samples must be int16 or float32, got dtype {arr.dtype}")
        data = np.ascontiguousarray(arr, dtype=_DTYPES[fmt]).tobytes()
        return cls(
            conversation_id,
            ts_ns,
            seq=seq,
            data=data,
            rate=rate,
            channels=int(arr.shape[1]),
            sample_format=fmt,
        )
