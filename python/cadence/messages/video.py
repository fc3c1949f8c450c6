"""Video messages: raw RGB frames in (camera) and out (rendered persona)."""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from cadence.errors import InvalidArgumentError, OversizeError
from cadence.messages._base import MessageBase, check_non_negative

__all__ = ["VideoFrame", "PixelFormat", "MAX_VIDEO_WIDTH", "MAX_VIDEO_HEIGHT"]

PixelFormat = Literal["rgb24"]
#: Largest frame any message may carry (4K UHD); edges may enforce less via check_size.
MAX_VIDEO_WIDTH: Final = 3840
MAX_VIDEO_HEIGHT: Final = 2160
_BYTES_PER_PIXEL: Final = {"rgb24": 3}


class VideoFrame(MessageBase, frozen=True, tag="video.frame", kw_only=True):
    """One packed frame: ``height`` rows of ``width`` pixels, ``format`` ``"rgb24"``."""

    width: int
    height: int
    format: PixelFormat = "rgb24"
    data: bytes
    seq: int

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("seq", self.seq)
        bpp = _BYTES_PER_PIXEL.get(self.format)
        if bpp is None:
            raise InvalidArgumentError(f"unsupported pixel format {self.format!r}")
        if self.width < 1 or self.height < 1:
            raise InvalidArgumentError(
                f"VideoFrame must be at least 1x1, got {self.width}x{self.height}"
            )
        if type(self.data) is not bytes:  # the codec gives bytes; a list or an array is not pixels
            raise InvalidArgumentError(f"VideoFrame data must be bytes, got {type(self.data).__name__}")
        self.check_size()
        expected = self.width * self.height * bpp
        if len(self.data) != expected:
            raise InvalidArgumentError(
                f"{self.width}x{self.height} {self.format} needs {expected} bytes, "
                f"got {len(self.data)}"
            )

    def check_size(
        self, max_width: int = MAX_VIDEO_WIDTH, max_height: int = MAX_VIDEO_HEIGHT
    ) -> None:
        """Raise :class:`OversizeError` if the frame exceeds ``max_width`` x ``max_height``."""
        if self.width > max_width or self.height > max_height:
            raise OversizeError(
                f"VideoFrame {self.width}x{self.height} exceeds the maximum "
                f"{max_width}x{max_height}"
            )

    def array(self) -> npt.NDArray[np.uint8]:
        """A read-only zero-copy uint8 view shaped (height, width, 3)."""
        return np.frombuffer(self.data, dtype=np.uint8).reshape(self.height, self.width, 3)

    @classmethod
    def from_array(
        cls, conversation_id: str, ts_ns: int, seq: int, image: npt.ArrayLike
    ) -> VideoFrame:
        """Build a frame from a uint8 (height, width, 3) RGB image (copied once)."""
        arr = np.asarray(image)
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
            raise InvalidArgumentError(
                f"image must be uint8 (height, width, 3), got {arr.dtype} {arr.shape}"
            )
        h, w = int(arr.shape[0]), int(arr.shape[1])
        return cls(
            conversation_id,
            ts_ns,
            width=w,
            height=h,
            data=np.ascontiguousarray(arr).tobytes(),
            seq=seq,
        )
