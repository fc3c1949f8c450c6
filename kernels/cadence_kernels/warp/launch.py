"""Launcher for the ``warp`` kernel: input checks, block size, grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._runtime import check_devices, check_tensor, next_pow2, require_torch, require_triton
from ._shapes import check_dtypes, check_shapes

if TYPE_CHECKING:
    import torch

# In-frame offsets are int32 in the kernel (the batch offset is int64).
_MAX_FRAME_ELEMS = (1 << 31) - 1


def pick_block(n_pixels: int, interpreted: bool) -> tuple[int, int]:
    """(BLOCK, num_warps) for a frame of ``n_pixels`` pixels.

    GPU: 512 pixels per program with 4 warps (4 pixels per thread; each pixel
    issues 4·C dependent gathers, so more programs rather than longer threads keep
    more SMs busy), smaller for tiny frames. Interpreter: cost is per program, so
    take big blocks.
    """
    if interpreted:
        return min(next_pow2(n_pixels), 1 << 14), 1
    block = max(128, min(512, next_pow2(n_pixels // 128)))
    return block, 4 if block >= 256 else 2


def _overlaps(a: "torch.Tensor", b: "torch.Tensor") -> bool:
    a0, b0 = a.data_ptr(), b.data_ptr()
    a1 = a0 + a.untyped_storage().nbytes()
    b1 = b0 + b.untyped_storage().nbytes()
    return a.device == b.device and a0 < b1 and b0 < a1


def warp(
    image: "torch.Tensor",
    flow: "torch.Tensor",
    *,
    out: "torch.Tensor | None" = None,
) -> "torch.Tensor":
    """Backward-warp ``image`` (B, H, W, C) uint8/float32 by ``flow`` (B, H, W, 2)
    float32 pixel displacements (dx, dy), bilinear with border clamp.

    ``out`` (same shape/dtype/device as the image, not overlapping it) avoids the
    allocation on the renderer's per-frame path. Matches ``warp_naive`` to within
    float rounding (see the tests' tolerances).
    """
    require_triton()
    torch = require_torch()
    from .kernel import INTERPRETED, warp_kernel

    check_tensor("image", image)
    check_tensor("flow", flow)
    check_dtypes(str(image.dtype).removeprefix("torch."), str(flow.dtype).removeprefix("torch."))
    b, h, w, c = check_shapes(image.shape, flow.shape)
    check_devices(INTERPRETED, image=image, flow=flow)
    if image.numel() // b > _MAX_FRAME_ELEMS or flow.numel() // b > _MAX_FRAME_ELEMS:
        raise ValueError(f"frame too large for int32 indexing: {tuple(image.shape)}")
    if out is None:
        out = torch.empty_like(image, memory_format=torch.contiguous_format)
    else:
        check_tensor("out", out)
        if out.shape != image.shape or out.dtype != image.dtype or out.device != image.device:
            raise ValueError(
                f"out must match the image: {tuple(image.shape)} {image.dtype} on {image.device}, "
                f"got {tuple(out.shape)} {out.dtype} on {out.device}"
            )
        if _overlaps(out, image) or _overlaps(out, flow):
            raise ValueError("out must not share memory with image or flow (the warp is not in place)")
        if any(st == 0 and n > 1 for st, n in zip(out.stride(), out.shape)):
            raise ValueError("out must not be a broadcast view")
    block, num_warps = pick_block(h * w, INTERPRETED)
    grid = ((h * w + block - 1) // block, b)
    warp_kernel[grid](
        image, flow, out,
        h, w,
        *image.stride(),
        *flow.stride(),
        *out.stride(),
        C=c,
        IS_U8=image.dtype == torch.uint8,
        BLOCK=block,
        num_warps=num_warps,
    )
    return out
