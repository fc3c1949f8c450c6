"""numpy reference for ``composite``: premultiplied RGBA layer over an RGB frame.

For each stream b and each layer pixel (i, j) that lands inside the frame at
(y_b + i, x_b + j), with a = alpha and c one of R, G, B::

    out = min(255, layer_c + div255(frame_c * (255 - a)))

where ``div255(v) = round(v / 255)``, computed exactly in integers as
``(v + 128 + ((v + 128) >> 8)) >> 8`` (exact for 0 ≤ v ≤ 255²). All-integer
arithmetic makes the kernel match this reference bit for bit. Pixels outside the
layer, and layer pixels outside the frame, keep the frame's value. ``min`` only
matters for layers that are not validly premultiplied (colour > alpha).

Memory traffic: besides the copy of the frame (B·H·W·3 bytes read and written),
the clipped region is read as uint8, widened to int32 temporaries (the layer's
colour and alpha, the frame crop, two products: ~6 passes of 4-byte arrays per
pixel and channel) and written back; about 60 bytes per composited pixel against
the 10 (4 layer + 3 read + 3 write) the kernel moves.
"""

from __future__ import annotations

import numpy as np

from ._shapes import check_shapes, normalize_offsets


def div255(v: np.ndarray) -> np.ndarray:
    """round(v / 255) for integer 0 ≤ v ≤ 65025, exactly, in integer arithmetic."""
    v = v + 128
    return (v + (v >> 8)) >> 8


def clip_box(x: int, y: int, h: int, w: int, frame_h: int, frame_w: int) -> tuple[int, int, int, int] | None:
    """Layer rows/cols (i0, i1, j0, j1) that land inside the frame, or None."""
    i0, j0 = max(0, -y), max(0, -x)
    i1, j1 = min(h, frame_h - y), min(w, frame_w - x)
    if i0 >= i1 or j0 >= j1:
        return None
    return i0, i1, j0, j1


def composite_naive(frame: np.ndarray, layer: np.ndarray, xy: object) -> np.ndarray:
    """Composite ``layer`` (B|1, h, w, 4) uint8 premultiplied RGBA onto ``frame``
    (B, H, W, 3) uint8 RGB with its top-left corner at ``xy`` = (x, y) or (B, 2).

    Returns a new array; ``frame`` is not modified.
    """
    frame = np.asarray(frame)
    layer = np.asarray(layer)
    if frame.dtype != np.uint8 or layer.dtype != np.uint8:
        raise ValueError(f"frame and layer must be uint8, got {frame.dtype} and {layer.dtype}")
    b, hh, ww, h, w = check_shapes(frame.shape, layer.shape)
    offsets = normalize_offsets(xy, b)
    out = frame.copy()
    for s in range(b):
        x, y = int(offsets[s, 0]), int(offsets[s, 1])
        box = clip_box(x, y, h, w, hh, ww)
        if box is None:
            continue
        i0, i1, j0, j1 = box
        src = layer[s if layer.shape[0] > 1 else 0, i0:i1, j0:j1].astype(np.int32)
        dst = out[s, y + i0 : y + i1, x + j0 : x + j1].astype(np.int32)
        inv = 255 - src[..., 3:4]
        res = np.minimum(src[..., :3] + div255(dst * inv), 255)
        out[s, y + i0 : y + i1, x + j0 : x + j1] = res.astype(np.uint8)
    return out
