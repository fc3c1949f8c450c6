"""Launcher for the ``composite`` kernel: input checks, block size, grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._runtime import check_devices, check_tensor, next_pow2, require_torch, require_triton
from ._shapes import MAX_ABS_OFFSET, check_shapes, normalize_offsets

if TYPE_CHECKING:
    import torch

# Frames beyond this many elements would overflow the kernel's int32 in-frame offsets.
_MAX_FRAME_ELEMS = (1 << 31) - 1


def pick_block(n_pixels: int, interpreted: bool) -> tuple[int, int]:
    """(BLOCK, num_warps) for a layer of ``n_pixels`` pixels.

    GPU: 1024 pixels per program with 4 warps (8 pixels per thread: enough bytes in
    flight per SM for a memory-bound op), smaller for small layers so that a mouth
    patch still spreads over several SMs. Interpreter: the cost is per program, so
    take big blocks.
    """
    if interpreted:
        return min(next_pow2(n_pixels), 1 << 14), 1
    block = max(128, min(1024, next_pow2(n_pixels // 64)))
    return block, 4 if block >= 512 else 2


def _offsets_tensor(xy: object, batch: int, device: "torch.device") -> "torch.Tensor":
    torch = require_torch()
    if isinstance(xy, torch.Tensor) and xy.device.type != "cpu":
        # Already on the GPU (the renderer's hot path): check what can be checked
        # without a device sync; values are trusted to lie within ±MAX_ABS_OFFSET.
        if xy.dtype not in (torch.int32, torch.int64):
            raise ValueError(f"offsets tensor must be int32 or int64, got {xy.dtype}")
        if tuple(xy.shape) not in ((2,), (batch, 2)):
            raise ValueError(f"offsets must have shape (2,) or ({batch}, 2), got {tuple(xy.shape)}")
        if xy.device != device:
            raise ValueError(f"offsets are on {xy.device} but frame is on {device}")
        return xy.to(torch.int32).expand(batch, 2).contiguous()
    if isinstance(xy, torch.Tensor):
        xy = xy.numpy()
    return torch.from_numpy(normalize_offsets(xy, batch)).to(device)


def composite(
    frame: "torch.Tensor",
    layer: "torch.Tensor",
    xy: object,
    *,
    inplace: bool = False,
) -> "torch.Tensor":
    """Composite ``layer`` (B|1, h, w, 4) uint8 premultiplied RGBA onto ``frame``
    (B, H, W, 3) uint8 RGB at ``xy``: (x, y) for all streams, or (B, 2) integers
    (host array or device tensor), clipped at the frame's borders.

    Returns a new frame, or ``frame`` itself updated when ``inplace=True`` (no
    allocation: the renderer's path). Matches ``composite_naive`` exactly.
    """
    require_triton()
    torch = require_torch()
    from .kernel import INTERPRETED, composite_kernel

    check_tensor("frame", frame)
    check_tensor("layer", layer)
    if frame.dtype != torch.uint8 or layer.dtype != torch.uint8:
        raise ValueError(f"frame and layer must be uint8, got {frame.dtype} and {layer.dtype}")
    b, hh, ww, h, w = check_shapes(frame.shape, layer.shape)
    device = check_devices(INTERPRETED, frame=frame, layer=layer)
    if frame.numel() > _MAX_FRAME_ELEMS or layer.numel() > _MAX_FRAME_ELEMS:
        raise ValueError(f"frame/layer too large for int32 indexing: {tuple(frame.shape)}, {tuple(layer.shape)}")
    if h * w > MAX_ABS_OFFSET:
        raise ValueError(f"layer of {h}×{w} pixels is too large")
    offsets = _offsets_tensor(xy, b, device)

    if inplace and any(st == 0 and n > 1 for st, n in zip(frame.stride(), frame.shape)):
        raise ValueError("inplace composite needs a frame whose pixels do not alias (got a broadcast view)")
    out = frame if inplace else frame.clone()
    if layer.shape[0] == 1 and b > 1:
        layer_sb = 0
    else:
        layer_sb = layer.stride(0)
    block, num_warps = pick_block(h * w, INTERPRETED)
    grid = ((h * w + block - 1) // block, b)
    composite_kernel[grid](
        out, layer, offsets,
        hh, ww, h, w,
        *out.stride(),
        layer_sb, layer.stride(1), layer.stride(2), layer.stride(3),
        BLOCK=block,
        num_warps=num_warps,
    )
    return out
