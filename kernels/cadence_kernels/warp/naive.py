"""numpy reference for ``warp``: backward warp by a dense displacement field.

For every output pixel (y, x) of stream b, with (dx, dy) = flow[b, y, x]::

    sx = clamp(x + dx, 0, W - 1)        sy = clamp(y + dy, 0, H - 1)
    x0 = floor(sx), x1 = min(x0 + 1, W - 1), wx = sx - x0   (same for y)
    top = p[y0, x0] + (p[y0, x1] - p[y0, x0]) * wx
    bot = p[y1, x0] + (p[y1, x1] - p[y1, x0]) * wx
    out = top + (bot - top) * wy

i.e. bilinear sampling with border clamp ("replicate" padding), in float32. A NaN
displacement counts as 0 (the pixel stays put); ±inf clamps to the border. uint8
images are rounded half up (floor(v + 0.5)) and clipped to [0, 255].

Memory traffic: the four fancy-indexed gathers each materialise a (B, H, W, C)
float32 array, and the coordinate/weight arithmetic makes about a dozen more
(B, H, W) float32/int64 temporaries: roughly 16·C + 80 bytes per pixel against the
C·(1 or 4) + 8 + C·(1 or 4) bytes (image in, flow in, image out) the kernel moves.
"""

from __future__ import annotations

import numpy as np

from ._shapes import check_dtypes, check_shapes


def warp_naive(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Warp ``image`` (B, H, W, C) uint8/float32 by ``flow`` (B, H, W, 2) float32
    pixel displacements (dx, dy): out[b, y, x] = image[b, y + dy, x + dx] sampled
    bilinearly with border clamp. Returns a new array of the image's dtype.
    """
    image = np.asarray(image)
    flow = np.asarray(flow)
    check_dtypes(str(image.dtype), str(flow.dtype))
    b, h, w, c = check_shapes(image.shape, flow.shape)
    f32 = np.float32
    flow = np.where(np.isnan(flow), f32(0), flow)
    xs = np.arange(w, dtype=f32)[None, None, :]
    ys = np.arange(h, dtype=f32)[None, :, None]
    sx = np.minimum(np.maximum(xs + flow[..., 0], f32(0)), f32(w - 1))
    sy = np.minimum(np.maximum(ys + flow[..., 1], f32(0)), f32(h - 1))
    x0f = np.floor(sx)
    y0f = np.floor(sy)
    wx = (sx - x0f)[..., None]
    wy = (sy - y0f)[..., None]
    x0 = x0f.astype(np.intp)
    y0 = y0f.astype(np.intp)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    bi = np.arange(b)[:, None, None]
    img = image.astype(f32, copy=False)
    p00, p01 = img[bi, y0, x0], img[bi, y0, x1]
    p10, p11 = img[bi, y1, x0], img[bi, y1, x1]
    top = p00 + (p01 - p00) * wx
    bot = p10 + (p11 - p10) * wx
    out = top + (bot - top) * wy
    if image.dtype == np.uint8:
        return np.clip(np.floor(out + f32(0.5)), 0, 255).astype(np.uint8)
    return out.astype(f32, copy=False)
