"""torch-eager baseline for ``composite`` (what one writes without a kernel).

Slices the clipped rectangle of each stream and runs the same integer arithmetic
as ``naive.py`` with torch ops: exact, but every op is a kernel launch with its
own int32 temporaries, and streams with different offsets are a Python loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._runtime import check_tensor, require_torch
from ._shapes import check_shapes, normalize_offsets
from .naive import clip_box

if TYPE_CHECKING:
    import torch


def composite_eager(
    frame: "torch.Tensor", layer: "torch.Tensor", xy: object, *, inplace: bool = False
) -> "torch.Tensor":
    """Same contract as ``composite_naive``, on torch tensors (any device);
    ``inplace=True`` updates ``frame`` instead of copying it (like the kernel's)."""
    torch = require_torch()
    check_tensor("frame", frame)
    check_tensor("layer", layer)
    if frame.dtype != torch.uint8 or layer.dtype != torch.uint8:
        raise ValueError(f"frame and layer must be uint8, got {frame.dtype} and {layer.dtype}")
    b, hh, ww, h, w = check_shapes(frame.shape, layer.shape)
    offsets = normalize_offsets(xy.cpu().numpy() if isinstance(xy, torch.Tensor) else xy, b)
    out = frame if inplace else frame.clone()
    for s in range(b):
        x, y = int(offsets[s, 0]), int(offsets[s, 1])
        box = clip_box(x, y, h, w, hh, ww)
        if box is None:
            continue
        i0, i1, j0, j1 = box
        src = layer[s if layer.shape[0] > 1 else 0, i0:i1, j0:j1].to(torch.int32)
        region = out[s, y + i0 : y + i1, x + j0 : x + j1]
        v = region.to(torch.int32) * (255 - src[..., 3:4]) + 128
        v = (v + (v >> 8)) >> 8
        region.copy_(torch.clamp(src[..., :3] + v, max=255).to(torch.uint8))
    return out
