"""Shape and dtype rules of ``warp``, shared by the numpy reference and the launcher."""

from __future__ import annotations

from collections.abc import Sequence

MAX_CHANNELS = 4
IMAGE_DTYPES = ("uint8", "float32")


def check_shapes(image_shape: Sequence[int], flow_shape: Sequence[int]) -> tuple[int, int, int, int]:
    """Return (B, H, W, C) or raise ValueError.

    image: (B, H, W, C) with 1 ≤ C ≤ 4; flow: (B, H, W, 2) displacements (dx, dy).
    """
    if len(image_shape) != 4:
        raise ValueError(f"image must have shape (B, H, W, C), got {tuple(image_shape)}")
    b, h, w, c = (int(v) for v in image_shape)
    if not 1 <= c <= MAX_CHANNELS:
        raise ValueError(f"image must have 1 to {MAX_CHANNELS} channels, got shape {tuple(image_shape)}")
    if b == 0 or h == 0 or w == 0:
        raise ValueError(f"image must not be empty, got shape {tuple(image_shape)}")
    if tuple(int(v) for v in flow_shape) != (b, h, w, 2):
        raise ValueError(
            f"flow must have shape (B, H, W, 2) = {(b, h, w, 2)} to match the image, got {tuple(flow_shape)}"
        )
    return b, h, w, c


def check_dtypes(image_dtype: str, flow_dtype: str) -> None:
    if image_dtype not in IMAGE_DTYPES:
        raise ValueError(f"image must be uint8 or float32, got {image_dtype}")
    if flow_dtype != "float32":
        raise ValueError(f"flow must be float32, got {flow_dtype}")
