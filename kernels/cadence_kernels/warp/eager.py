"""torch-eager baseline for ``warp``: ``torch.nn.functional.grid_sample``.

What one writes without a kernel: build an absolute sampling grid from the
displacements, normalise it to [-1, 1] (``align_corners=True`` maps -1/1 to the
centres of the first/last pixel, so pixel coordinates map exactly), and sample
bilinearly with ``padding_mode="border"``. It needs channels-first float input, so
uint8 frames are converted (and permuted) both ways: several extra full passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._runtime import check_tensor, require_torch
from ._shapes import check_dtypes, check_shapes

if TYPE_CHECKING:
    import torch


def warp_eager(image: "torch.Tensor", flow: "torch.Tensor") -> "torch.Tensor":
    """Same contract as ``warp_naive``, on torch tensors (any device)."""
    torch = require_torch()
    check_tensor("image", image)
    check_tensor("flow", flow)
    check_dtypes(str(image.dtype).removeprefix("torch."), str(flow.dtype).removeprefix("torch."))
    b, h, w, _ = check_shapes(image.shape, flow.shape)
    flow = torch.nan_to_num(flow, nan=0.0)
    xs = torch.arange(w, device=flow.device, dtype=torch.float32)
    ys = torch.arange(h, device=flow.device, dtype=torch.float32)[:, None]
    sx = torch.clamp(xs + flow[..., 0], 0.0, w - 1.0)
    sy = torch.clamp(ys + flow[..., 1], 0.0, h - 1.0)
    grid = torch.stack((sx * (2.0 / max(w - 1, 1)) - 1.0, sy * (2.0 / max(h - 1, 1)) - 1.0), dim=-1)
    src = image.permute(0, 3, 1, 2).to(torch.float32)
    res = torch.nn.functional.grid_sample(
        src, grid, mode="bilinear", padding_mode="border", align_corners=True
    ).permute(0, 2, 3, 1)
    if image.dtype == torch.uint8:
        return torch.clamp(torch.floor(res + 0.5), 0, 255).to(torch.uint8)
    return res.contiguous()
