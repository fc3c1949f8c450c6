"""warp: Triton kernel (interpreter on CPU) vs the numpy reference, and both vs the
plain meaning of a backward warp (shifts, midpoints, border clamp).

Kernels run under TRITON_INTERPRET=1 with CPU tensors unless
CADENCE_KERNELS_TEST_DEVICE=cuda (then on the GPU). The variable must be set before
the kernel module is first imported, hence at the top of this module.
"""

from __future__ import annotations

import os

DEVICE = os.environ.get("CADENCE_KERNELS_TEST_DEVICE", "cpu")
if DEVICE == "cpu":
    os.environ["TRITON_INTERPRET"] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cadence_kernels import available  # noqa: E402
from cadence_kernels.warp import warp_naive  # noqa: E402

# Kernel vs naive. Same float32 formula; a GPU may fuse multiply-adds (FMA), so
# allow a few ulps on float images and one step of rounding on uint8 images, on a
# tiny fraction of pixels (interpreter runs match exactly).
ATOL_F32 = 1e-4  # values span [0, 255]
ATOL_U8 = 1
MAX_U8_OFF_BY_ONE = 1e-3
# grid_sample normalises to [-1, 1] and back: ~1e-5 relative error on coordinates.
EAGER_ATOL_F32 = 4e-3
EAGER_MAX_U8_OFF_BY_ONE = 1e-2

needs_kernels = pytest.mark.skipif(not available(), reason="torch+triton (GPU or interpreter) not available")


def make_image(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    if dtype is np.uint8:
        return rng.integers(0, 256, shape, dtype=np.uint8)
    return (rng.random(shape) * 255).astype(np.float32)


def make_flow(rng: np.random.Generator, b: int, h: int, w: int, scale: float = 4.0) -> np.ndarray:
    """Smooth-ish random displacements reaching past every border, plus NaN/inf entries."""
    flow = rng.normal(0.0, scale, (b, h, w, 2)).astype(np.float32)
    flow[:, 0, :, 1] -= 3 * scale  # top row samples above the image
    flow[:, :, -1, 0] += 3 * scale  # right column samples past the image
    flow[0, 0, 0, 0] = np.nan
    flow[0, -1, -1, 1] = np.nan
    flow[-1, -1, 0, 1] = np.inf
    flow[-1, 0, -1, 0] = -np.inf
    return flow


def assert_close(out: np.ndarray, ref: np.ndarray, atol_f32: float, max_u8_frac: float) -> None:
    assert out.dtype == ref.dtype and out.shape == ref.shape
    if ref.dtype == np.uint8:
        diff = np.abs(out.astype(np.int16) - ref.astype(np.int16))
        assert diff.max() <= ATOL_U8
        assert (diff > 0).mean() <= max_u8_frac
    else:
        np.testing.assert_allclose(out, ref, atol=atol_f32, rtol=0)


# --- the reference means what it says -----------------------------------------
def test_naive_zero_flow_is_identity() -> None:
    img = make_image(np.random.default_rng(0), (2, 7, 9, 3), np.uint8)
    np.testing.assert_array_equal(warp_naive(img, np.zeros((2, 7, 9, 2), np.float32)), img)


def test_naive_integer_shift_clamps_to_border() -> None:
    img = make_image(np.random.default_rng(1), (1, 6, 10, 2), np.float32)
    flow = np.zeros((1, 6, 10, 2), np.float32)
    flow[..., 0] = 3.0  # out[x] = img[min(x + 3, 9)]
    flow[..., 1] = -2.0  # out[y] = img[max(y - 2, 0)]
    cols = np.minimum(np.arange(10) + 3, 9)
    rows = np.maximum(np.arange(6) - 2, 0)
    np.testing.assert_array_equal(warp_naive(img, flow), img[:, rows][:, :, cols])


def test_naive_half_pixel_is_midpoint_and_nan_stays() -> None:
    img = np.arange(12, dtype=np.float32).reshape(1, 3, 4, 1) * 10
    flow = np.zeros((1, 3, 4, 2), np.float32)
    flow[..., 0] = 0.5
    flow[0, 1, 1, 0] = np.nan
    out = warp_naive(img, flow)[0, :, :, 0]
    expect = img[0, :, :, 0] + 5.0
    expect[:, -1] = img[0, :, -1, 0]  # clamped at the right border
    expect[1, 1] = img[0, 1, 1, 0]  # NaN displacement: pixel stays
    np.testing.assert_array_equal(out, expect)


def test_naive_rounds_uint8_half_up() -> None:
    img = np.array([[[[0], [1], [2], [255]]]], np.uint8)  # (1, 1, 4, 1)
    flow = np.full((1, 1, 4, 2), 0.0, np.float32)
    flow[..., 0] = 0.5
    np.testing.assert_array_equal(warp_naive(img, flow)[0, 0, :, 0], [1, 2, 129, 255])


@pytest.mark.parametrize(
    "image_shape,flow_shape,image_dtype,flow_dtype,match",
    [
        ((1, 4, 4), (1, 4, 4, 2), np.uint8, np.float32, "image must have shape"),
        ((1, 4, 4, 5), (1, 4, 4, 2), np.uint8, np.float32, "1 to 4 channels"),
        ((1, 4, 4, 3), (1, 4, 5, 2), np.uint8, np.float32, "flow must have shape"),
        ((2, 4, 4, 3), (1, 4, 4, 2), np.uint8, np.float32, "flow must have shape"),
        ((1, 0, 4, 3), (1, 0, 4, 2), np.uint8, np.float32, "must not be empty"),
        ((1, 4, 4, 3), (1, 4, 4, 2), np.int16, np.float32, "uint8 or float32"),
        ((1, 4, 4, 3), (1, 4, 4, 2), np.uint8, np.float64, "flow must be float32"),
    ],
)
def test_rejects_bad_input(image_shape, flow_shape, image_dtype, flow_dtype, match) -> None:
    img = np.zeros(image_shape, image_dtype)
    flow = np.zeros(flow_shape, flow_dtype)
    with pytest.raises(ValueError, match=match):
        warp_naive(img, flow)
    if available():
        import torch

        from cadence_kernels.warp import warp

        with pytest.raises(ValueError, match=match):
            warp(torch.from_numpy(img).to(DEVICE), torch.from_numpy(flow).to(DEVICE))


# --- kernel and eager baseline vs the reference -----------------------------------
@needs_kernels
class TestKernel:
    @pytest.fixture(autouse=True)
    def _imports(self) -> None:
        import torch

        from cadence_kernels.warp import warp, warp_eager

        self.torch = torch
        self.warp = warp
        self.eager = warp_eager

    def t(self, a: np.ndarray):
        return self.torch.from_numpy(np.ascontiguousarray(a)).to(DEVICE)

    @pytest.mark.parametrize("dtype", [np.uint8, np.float32])
    @pytest.mark.parametrize("shape", [(2, 37, 53, 3), (1, 1, 7, 1), (3, 5, 1, 4), (1, 29, 31, 2)])
    def test_matches_naive_irregular(self, shape: tuple[int, int, int, int], dtype: type) -> None:
        rng = np.random.default_rng(sum(shape))
        b, h, w, _ = shape
        img = make_image(rng, shape, dtype)
        flow = make_flow(rng, b, h, w)
        out = self.warp(self.t(img), self.t(flow)).cpu().numpy()
        assert_close(out, warp_naive(img, flow), ATOL_F32, MAX_U8_OFF_BY_ONE)

    def test_strided_inputs_and_out(self) -> None:
        rng = np.random.default_rng(7)
        big = make_image(rng, (2, 23, 41, 4), np.uint8)
        flow_big = make_flow(rng, 2, 23, 41 * 2)
        img_t = self.t(big)[..., 1:4]  # channel slice: non-contiguous
        flow_t = self.t(flow_big)[:, :, ::2]  # every other column: non-contiguous
        out = self.torch.full((2, 23, 41, 3), 7, dtype=self.torch.uint8, device=DEVICE)
        got = self.warp(img_t, flow_t, out=out)
        assert got is out
        ref = warp_naive(big[..., 1:4], flow_big[:, :, ::2])
        assert_close(out.cpu().numpy(), ref, ATOL_F32, MAX_U8_OFF_BY_ONE)

    @pytest.mark.parametrize("dtype", [np.uint8, np.float32])
    def test_eager_matches_naive(self, dtype: type) -> None:
        rng = np.random.default_rng(8)
        img = make_image(rng, (2, 37, 53, 3), dtype)
        flow = make_flow(rng, 2, 37, 53)
        out = self.eager(self.t(img), self.t(flow)).cpu().numpy()
        assert_close(out, warp_naive(img, flow), EAGER_ATOL_F32, EAGER_MAX_U8_OFF_BY_ONE)

    def test_rejects_bad_out_and_numpy(self) -> None:
        img = self.t(np.zeros((1, 6, 6, 3), np.uint8))
        flow = self.t(np.zeros((1, 6, 6, 2), np.float32))
        with pytest.raises(ValueError, match="torch.Tensor"):
            self.warp(img.cpu().numpy(), flow)
        with pytest.raises(ValueError, match="out must match"):
            self.warp(img, flow, out=self.torch.empty((1, 6, 6, 3), dtype=self.torch.float32, device=DEVICE))
        with pytest.raises(ValueError, match="share memory"):
            self.warp(img, flow, out=img)
