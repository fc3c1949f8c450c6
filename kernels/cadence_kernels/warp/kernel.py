"""Triton kernel for ``warp`` (see ``naive.py`` for the exact arithmetic).

One program handles BLOCK consecutive output pixels (row-major) of one stream;
the grid is (cdiv(H·W, BLOCK), B). Each pixel reads its (dx, dy), gathers four
taps per channel (neighbouring pixels share them through the cache) and writes C
values: per pixel, 8 bytes of flow plus C·itemsize in (once, ideally) and out.
"""

from __future__ import annotations

import triton  # type: ignore[import-untyped]
import triton.language as tl  # type: ignore[import-untyped]
from triton.runtime.jit import JITFunction  # type: ignore[import-untyped]


@triton.jit
def warp_kernel(
    img_ptr,  # (B, H, W, C) uint8 or float32
    flow_ptr,  # (B, H, W, 2) float32 (dx, dy)
    out_ptr,  # (B, H, W, C) same dtype as img
    H,
    W,
    i_sb,
    i_sh,
    i_sw,
    i_sc,
    f_sb,
    f_sh,
    f_sw,
    f_sc,
    o_sb,
    o_sh,
    o_sw,
    o_sc,
    C: tl.constexpr,
    IS_U8: tl.constexpr,
    BLOCK: tl.constexpr,
):
    pid = tl.program_id(0)
    b = tl.program_id(1).to(tl.int64)
    idx = pid * BLOCK + tl.arange(0, BLOCK)
    mask = idx < H * W
    y = idx // W
    x = idx % W

    fp = flow_ptr + b * f_sb + y * f_sh + x * f_sw
    dx = tl.load(fp, mask=mask, other=0.0)
    dy = tl.load(fp + f_sc, mask=mask, other=0.0)
    dx = tl.where(dx == dx, dx, 0.0)  # NaN → no displacement
    dy = tl.where(dy == dy, dy, 0.0)
    sx = tl.minimum(tl.maximum(x.to(tl.float32) + dx, 0.0), W - 1.0)
    sy = tl.minimum(tl.maximum(y.to(tl.float32) + dy, 0.0), H - 1.0)
    x0f = tl.floor(sx)
    y0f = tl.floor(sy)
    wx = sx - x0f
    wy = sy - y0f
    x0 = x0f.to(tl.int32)
    y0 = y0f.to(tl.int32)
    x1 = tl.minimum(x0 + 1, W - 1)
    y1 = tl.minimum(y0 + 1, H - 1)

    base = img_ptr + b * i_sb
    r0 = base + y0 * i_sh
    r1 = base + y1 * i_sh
    c0 = x0 * i_sw
    c1 = x1 * i_sw
    op = out_ptr + b * o_sb + y * o_sh + x * o_sw
    for c in tl.static_range(C):
        p00 = tl.load(r0 + c0 + c * i_sc, mask=mask, other=0).to(tl.float32)
        p01 = tl.load(r0 + c1 + c * i_sc, mask=mask, other=0).to(tl.float32)
        p10 = tl.load(r1 + c0 + c * i_sc, mask=mask, other=0).to(tl.float32)
        p11 = tl.load(r1 + c1 + c * i_sc, mask=mask, other=0).to(tl.float32)
        top = p00 + (p01 - p00) * wx
        bot = p10 + (p11 - p10) * wx
        v = top + (bot - top) * wy
        if IS_U8:
            v = tl.minimum(tl.maximum(tl.floor(v + 0.5), 0.0), 255.0)
            tl.store(op + c * o_sc, v.to(tl.uint8), mask=mask)
        else:
            tl.store(op + c * o_sc, v, mask=mask)


# Whether ``@triton.jit`` above built interpreter functions (TRITON_INTERPRET was
# set when this module was first imported) rather than GPU-compiled ones.
INTERPRETED: bool = not isinstance(warp_kernel, JITFunction)
