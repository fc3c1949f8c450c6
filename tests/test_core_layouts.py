"""``cadence._core`` reads every array in its logical order whatever its memory layout, refuses a
view too large to copy before copying it, and a flush with nothing pushed gives nothing."""

from __future__ import annotations

import numpy as np
import pytest

from cadence._core import AudioRing, FeatureExtractor, Framer, MicAgc, OutputFramer, resample
from cadence.errors import InvalidAudioError, OversizeError
from cadence.floor.model import FloorModel, default_weights_path


def _speechy(n: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    t = np.arange(n * 160) / 16000.0
    x = 0.2 * np.sin(2 * np.pi * 170 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.01 * rng.standard_normal(t.size)
    return x.astype(np.float32).reshape(n, 160)


def test_fortran_ordered_and_transposed_frames_read_as_their_values() -> None:
    x = _speechy(60)
    layouts = {"fortran": np.asfortranarray(x), "transposed view": np.ascontiguousarray(x.T).T}
    for name, y in layouts.items():
        assert not y.flags.c_contiguous and np.array_equal(x, y), name
        np.testing.assert_array_equal(FeatureExtractor().process(y), FeatureExtractor().process(x), err_msg=name)
        np.testing.assert_array_equal(MicAgc().process(y), MicAgc().process(x), err_msg=name)


@pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
def test_the_networks_read_fortran_ordered_features_as_their_values() -> None:
    from cadence.floor.model import N_FEATURES

    x = np.random.default_rng(2).standard_normal((30, N_FEATURES)).astype(np.float32)
    # the Rust ensemble itself (FloorModel.process hands it a C-ordered copy)
    np.testing.assert_array_equal(FloorModel().ensemble.process(np.asfortranarray(x)), FloorModel().ensemble.process(x))


def test_a_view_too_large_to_copy_is_refused_before_the_copy() -> None:
    huge = np.broadcast_to(np.float32(0.0), (1 << 45,))  # 128 TiB if copied
    with pytest.raises(OversizeError, match="35184372088832 samples exceeds the maximum of 8"):
        AudioRing(8).write(huge)
    with pytest.raises(OversizeError):
        Framer(16000, 1, 10).push(huge)
    with pytest.raises(OversizeError):
        OutputFramer(24000, 48000, 10).push(huge)
    with pytest.raises(OversizeError):
        resample(huge, 16000, 48000)
    frames = np.broadcast_to(np.float32(0.0), (1 << 25, 160))  # 20 GiB if copied
    with pytest.raises(OversizeError):
        FeatureExtractor().process(frames)
    with pytest.raises(OversizeError):
        MicAgc().process(frames)
    ring = AudioRing(8)  # a small strided view is still taken
    assert ring.write(np.arange(16, dtype=np.float32)[::2] / 16) == 8
    np.testing.assert_array_equal(ring.read(8), np.arange(0, 16, 2, dtype=np.float32) / 16)


def test_a_flush_with_nothing_pushed_gives_nothing() -> None:
    for rate in (8000, 16000, 44100, 48000):
        f = Framer(rate)
        assert f.flush().shape == (0, 160) and f.flush().shape == (0, 160)
    o = OutputFramer(24000)
    assert o.flush().shape == (0,)
    o.push(np.zeros(240, np.float32))
    assert len(o.flush()) > 0  # a stream that had samples still gets its tail


def test_errors_name_what_they_got() -> None:
    with pytest.raises(InvalidAudioError, match="got a float32 scalar, not an array"):
        AudioRing(8).write(np.float32(1.0))  # type: ignore[arg-type]
    with pytest.raises(Exception, match="got a 2-D array of dtype float32"):
        AudioRing(8).read_into(np.zeros((1, 3), np.float32))
