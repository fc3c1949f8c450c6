"""Shape rules of ``composite``, shared by the numpy reference and the launcher."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Offsets are kept well inside int32 so that ``offset + layer index`` cannot wrap.
MAX_ABS_OFFSET = 1 << 30


def check_shapes(frame_shape: Sequence[int], layer_shape: Sequence[int]) -> tuple[int, int, int, int, int]:
    """Return (B, H, W, h, w) or raise ValueError.

    frame: (B, H, W, 3) RGB; layer: (B or 1, h, w, 4) premultiplied RGBA.
    """
    if len(frame_shape) != 4 or frame_shape[3] != 3:
        raise ValueError(f"frame must have shape (B, H, W, 3) (RGB), got {tuple(frame_shape)}")
    if len(layer_shape) != 4 or layer_shape[3] != 4:
        raise ValueError(
            f"layer must have shape (B, h, w, 4) (premultiplied RGBA), got {tuple(layer_shape)}"
        )
    b, hh, ww, _ = (int(v) for v in frame_shape)
    lb, h, w, _ = (int(v) for v in layer_shape)
    if b == 0 or hh == 0 or ww == 0:
        raise ValueError(f"frame must not be empty, got shape {tuple(frame_shape)}")
    if h == 0 or w == 0:
        raise ValueError(f"layer must not be empty, got shape {tuple(layer_shape)}")
    if lb not in (1, b):
        raise ValueError(f"layer batch {lb} must be 1 (shared) or equal the frame batch {b}")
    return b, hh, ww, h, w


def normalize_offsets(xy: object, batch: int) -> np.ndarray:
    """(x, y) for every stream, or a (B, 2) integer array → (B, 2) int32 array.

    x is the column and y the row of the layer's top-left corner in the frame; it may
    lie outside the frame (the layer is clipped).
    """
    arr = np.asarray(xy)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"offsets must be integers (x, y), got {xy!r} (dtype {arr.dtype})")
    if arr.shape == (2,):
        arr = np.broadcast_to(arr, (batch, 2))
    if arr.shape != (batch, 2):
        raise ValueError(f"offsets must be (x, y) or have shape ({batch}, 2), got shape {arr.shape}")
    if np.any(np.abs(arr.astype(np.int64)) > MAX_ABS_OFFSET):
        raise ValueError(f"offsets must lie within ±{MAX_ABS_OFFSET}, got {arr.tolist()}")
    return np.ascontiguousarray(arr, dtype=np.int32)
