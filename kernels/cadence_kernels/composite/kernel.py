"""Triton kernel for ``composite`` (see ``naive.py`` for the exact arithmetic).

One program handles BLOCK consecutive layer pixels (row-major over the layer) of
one stream; the grid is (cdiv(h·w, BLOCK), B). Only the layer's rectangle is
touched, in place, so the traffic is 4 + 3 + 3 bytes per composited pixel.
"""

from __future__ import annotations

import triton  # type: ignore[import-untyped]
import triton.language as tl  # type: ignore[import-untyped]
from triton.runtime.jit import JITFunction  # type: ignore[import-untyped]


@triton.jit
def _div255(v):
    v = v + 128
    return (v + (v >> 8)) >> 8


@triton.jit
def composite_kernel(
    frame_ptr,  # (B, H, W, 3) uint8, updated in place
    layer_ptr,  # (B|1, h, w, 4) uint8 premultiplied RGBA
    xy_ptr,  # (B, 2) int32: x (column), y (row) of the layer's top-left corner
    H,
    W,
    h,
    w,
    f_sb,
    f_sh,
    f_sw,
    f_sc,
    l_sb,  # 0 when one layer is shared by every stream
    l_sh,
    l_sw,
    l_sc,
    BLOCK: tl.constexpr,
):
    pid = tl.program_id(0)
    b = tl.program_id(1)
    ox = tl.load(xy_ptr + b * 2)
    oy = tl.load(xy_ptr + b * 2 + 1)

    idx = pid * BLOCK + tl.arange(0, BLOCK)
    i = idx // w
    j = idx % w
    fy = i + oy
    fx = j + ox
    mask = (idx < h * w) & (fy >= 0) & (fy < H) & (fx >= 0) & (fx < W)

    lp = layer_ptr + b.to(tl.int64) * l_sb + i * l_sh + j * l_sw
    fp = frame_ptr + b.to(tl.int64) * f_sb + fy * f_sh + fx * f_sw
    inv = 255 - tl.load(lp + 3 * l_sc, mask=mask, other=255).to(tl.int32)
    for c in tl.static_range(3):
        src = tl.load(lp + c * l_sc, mask=mask, other=0).to(tl.int32)
        dst = tl.load(fp + c * f_sc, mask=mask, other=0).to(tl.int32)
        res = tl.minimum(src + _div255(dst * inv), 255)
        tl.store(fp + c * f_sc, res.to(tl.uint8), mask=mask)


# Whether ``@triton.jit`` above built interpreter functions (TRITON_INTERPRET was
# set when this module was first imported) rather than GPU-compiled ones.
INTERPRETED: bool = not isinstance(composite_kernel, JITFunction)
