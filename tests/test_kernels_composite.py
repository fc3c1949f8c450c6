"""composite: Triton kernel (interpreter on CPU) vs the numpy reference, exactly.

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
from cadence_kernels.composite import composite_naive, div255  # noqa: E402

# Integer arithmetic end to end: kernel, eager and naive agree bit for bit.
ATOL_U8 = 0

needs_kernels = pytest.mark.skipif(not available(), reason="torch+triton (GPU or interpreter) not available")


def make_layer(rng: np.random.Generator, b: int, h: int, w: int) -> np.ndarray:
    """Valid premultiplied RGBA (colour ≤ alpha), with fully opaque and fully clear pixels."""
    a = rng.integers(0, 256, (b, h, w, 1)).astype(np.int32)
    a[:, 0, :] = 255
    a[:, -1, :] = 0
    rgb = rng.integers(0, 256, (b, h, w, 3)) * a // 255
    return np.concatenate([rgb, a], axis=-1).astype(np.uint8)


def make_frame(rng: np.random.Generator, b: int, h: int, w: int) -> np.ndarray:
    return rng.integers(0, 256, (b, h, w, 3), dtype=np.uint8)


def scalar_composite(frame: np.ndarray, layer: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Pixel-by-pixel statement of the contract, independent of naive.py."""
    out = frame.copy()
    b, hh, ww, _ = frame.shape
    _, h, w, _ = layer.shape
    for s in range(b):
        x, y = int(offsets[s][0]), int(offsets[s][1])
        lay = layer[s if layer.shape[0] > 1 else 0]
        for i in range(h):
            for j in range(w):
                fy, fx = y + i, x + j
                if not (0 <= fy < hh and 0 <= fx < ww):
                    continue
                a = int(lay[i, j, 3])
                for c in range(3):
                    v = int(lay[i, j, c]) + round(int(frame[s, fy, fx, c]) * (255 - a) / 255)
                    out[s, fy, fx, c] = min(v, 255)
    return out


# Offsets of a 20×31 layer on a 37×53 frame: clipped on each side, at corners,
# fully inside, fully outside.
OFFSETS = np.array(
    [[-5, -7], [40, 30], [10, 3], [-31, 0], [53, 5], [0, 37], [-40, -40], [22, -19]], dtype=np.int64
)


def test_div255_is_exact_rounding() -> None:
    v = np.arange(255 * 255 + 1, dtype=np.int64)
    np.testing.assert_array_equal(div255(v), np.floor(v / 255 + 0.5).astype(np.int64))


def test_naive_matches_scalar_contract() -> None:
    rng = np.random.default_rng(1)
    frame = make_frame(rng, 8, 9, 11)
    layer = make_layer(rng, 8, 4, 6)
    offsets = np.array([[-2, -1], [7, 7], [3, 2], [-6, 0], [11, 0], [0, 9], [9, -3], [-5, 8]])
    np.testing.assert_array_equal(composite_naive(frame, layer, offsets), scalar_composite(frame, layer, offsets))


def test_naive_opaque_replaces_and_clear_keeps() -> None:
    rng = np.random.default_rng(2)
    frame = make_frame(rng, 1, 10, 10)
    layer = np.zeros((1, 3, 4, 4), np.uint8)
    layer[0, 0] = [10, 20, 30, 255]  # opaque row
    out = composite_naive(frame, layer, (2, 5))
    np.testing.assert_array_equal(out[0, 5, 2:6], np.tile([10, 20, 30], (4, 1)))
    np.testing.assert_array_equal(out[0, 6:8], frame[0, 6:8])  # alpha 0, colour 0: unchanged
    np.testing.assert_array_equal(np.delete(out, 5, axis=1), np.delete(frame, 5, axis=1))


@pytest.mark.parametrize(
    "frame_shape,layer_shape,offsets,match",
    [
        ((1, 8, 8, 4), (1, 2, 2, 4), (0, 0), "frame must have shape"),
        ((1, 8, 8, 3), (1, 2, 2, 3), (0, 0), "layer must have shape"),
        ((2, 8, 8, 3), (3, 2, 2, 4), (0, 0), "layer batch"),
        ((1, 8, 8, 3), (1, 0, 2, 4), (0, 0), "layer must not be empty"),
        ((1, 8, 8, 3), (1, 2, 2, 4), (0.5, 1), "offsets must be integers"),
        ((2, 8, 8, 3), (1, 2, 2, 4), [[0, 0]] * 3, "offsets must be"),
        ((1, 8, 8, 3), (1, 2, 2, 4), (1 << 31, 0), "offsets must lie within"),
    ],
)
def test_naive_rejects_bad_input(frame_shape, layer_shape, offsets, match) -> None:
    frame = np.zeros(frame_shape, np.uint8)
    layer = np.zeros(layer_shape, np.uint8)
    with pytest.raises(ValueError, match=match):
        composite_naive(frame, layer, offsets)
    if available():
        import torch

        from cadence_kernels.composite import composite

        with pytest.raises(ValueError, match=match):
            composite(torch.from_numpy(frame).to(DEVICE), torch.from_numpy(layer).to(DEVICE), offsets)


def test_naive_rejects_float_frame() -> None:
    with pytest.raises(ValueError, match="uint8"):
        composite_naive(np.zeros((1, 4, 4, 3), np.float32), np.zeros((1, 2, 2, 4), np.uint8), (0, 0))


@needs_kernels
class TestKernel:
    @pytest.fixture(autouse=True)
    def _imports(self) -> None:
        import torch

        from cadence_kernels.composite import composite, composite_eager

        self.torch = torch
        self.composite = composite
        self.eager = composite_eager

    def t(self, a: np.ndarray):
        return self.torch.from_numpy(np.ascontiguousarray(a)).to(DEVICE)

    @pytest.mark.parametrize("shared_layer", [False, True])
    def test_matches_naive_irregular(self, shared_layer: bool) -> None:
        rng = np.random.default_rng(3)
        b = len(OFFSETS)
        frame = make_frame(rng, b, 37, 53)
        layer = make_layer(rng, 1 if shared_layer else b, 20, 31)
        ref = composite_naive(frame, layer, OFFSETS)
        out = self.composite(self.t(frame), self.t(layer), OFFSETS).cpu().numpy()
        np.testing.assert_allclose(out, ref, atol=ATOL_U8, rtol=0)
        assert (ref != frame).any()  # the layer did land somewhere

    def test_offset_forms_and_inplace(self) -> None:
        rng = np.random.default_rng(4)
        frame = make_frame(rng, 2, 19, 23)
        layer = make_layer(rng, 2, 7, 5)
        ref = composite_naive(frame, layer, (20, -3))
        ft = self.t(frame)
        out = self.composite(ft, self.t(layer), (20, -3))
        np.testing.assert_array_equal(ft.cpu().numpy(), frame)  # not in place by default
        np.testing.assert_array_equal(out.cpu().numpy(), ref)
        xy = self.torch.tensor([20, -3], dtype=self.torch.int32, device=DEVICE)
        same = self.composite(ft, self.t(layer), xy, inplace=True)
        assert same is ft
        np.testing.assert_array_equal(ft.cpu().numpy(), ref)

    def test_strided_frame_view_in_place(self) -> None:
        rng = np.random.default_rng(5)
        big = make_frame(rng, 2, 40, 60)
        layer = make_layer(rng, 2, 9, 13)
        bt = self.t(big)
        view = bt[:, 3:30, 5:50]  # non-contiguous (B, 27, 45, 3) view
        ref = composite_naive(big[:, 3:30, 5:50], layer, [[-4, 20], [40, -2]])
        self.composite(view, self.t(layer), [[-4, 20], [40, -2]], inplace=True)
        got = bt.cpu().numpy()
        np.testing.assert_array_equal(got[:, 3:30, 5:50], ref)
        outside = np.ones(big.shape, bool)
        outside[:, 3:30, 5:50] = False
        np.testing.assert_array_equal(got[outside], big[outside])

    def test_eager_matches_naive(self) -> None:
        rng = np.random.default_rng(6)
        frame = make_frame(rng, len(OFFSETS), 37, 53)
        layer = make_layer(rng, len(OFFSETS), 20, 31)
        out = self.eager(self.t(frame), self.t(layer), OFFSETS).cpu().numpy()
        np.testing.assert_array_equal(out, composite_naive(frame, layer, OFFSETS))

    def test_rejects_numpy_and_bad_dtypes(self) -> None:
        frame = np.zeros((1, 8, 8, 3), np.uint8)
        layer = np.zeros((1, 2, 2, 4), np.uint8)
        with pytest.raises(ValueError, match="torch.Tensor"):
            self.composite(frame, self.t(layer), (0, 0))
        with pytest.raises(ValueError, match="uint8"):
            self.composite(self.t(frame).float(), self.t(layer), (0, 0))
        xy = self.torch.tensor([0.0, 1.0])
        with pytest.raises(ValueError, match="integers|int32"):
            self.composite(self.t(frame), self.t(layer), xy)
        broadcast = self.t(frame).expand(3, 8, 8, 3)
        with pytest.raises(ValueError, match="broadcast"):
            self.composite(broadcast, self.t(layer), (0, 0), inplace=True)

    def test_device_rules(self) -> None:
        from cadence_kernels._runtime import check_devices

        a = self.torch.zeros(2)
        with pytest.raises(ValueError, match="compiled for the GPU"):
            check_devices(False, frame=a, layer=a)
        if self.torch.cuda.is_available():
            with pytest.raises(ValueError, match="one device"):
                check_devices(True, frame=a, layer=a.cuda())
