"""Framer / OutputFramer / resample: chunk invariance, quality vs scipy, bad input."""

from __future__ import annotations

from math import gcd
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import scipy.signal as ss  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence import errors
from cadence._core import SUPPORTED_RATES, Framer, OutputFramer, resample

IN_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000]
OUT_PAIRS = [(16000, 48000), (22050, 48000), (24000, 48000)]
DOWN_PAIRS = [(r, 16000) for r in IN_RATES if r != 16000]


def sweep(rate: int, seconds: float, f_hi: float) -> npt.NDArray[np.float32]:
    """Log sine sweep 50 Hz → f_hi with 50 ms raised-cosine fades."""
    n = int(rate * seconds)
    t = np.arange(n) / rate
    x = ss.chirp(t, 50.0, seconds, f_hi, method="logarithmic") * 0.5
    m = int(0.05 * rate)
    fade = np.hanning(2 * m)
    x[:m] *= fade[:m]
    x[-m:] *= fade[m:]
    return x.astype(np.float32)


def snr_db(got: np.ndarray, ref: np.ndarray) -> float:
    edge = len(ref) // 20
    a, b = got[edge:-edge].astype(np.float64), ref[edge:-edge]
    return float(10 * np.log10(np.sum(b**2) / max(float(np.sum((a - b) ** 2)), 1e-30)))


def reference(x: np.ndarray, src: int, dst: int, long_filter: bool) -> np.ndarray:
    g = gcd(src, dst)
    up, down = dst // g, src // g
    if not long_filter:
        return ss.resample_poly(x.astype(np.float64), up, down)
    h = ss.firwin(64 * max(up, down) + 1, 1 / max(up, down), window=("kaiser", 10.0))
    return ss.resample_poly(x.astype(np.float64), up, down, window=h)


def chunks(x: npt.NDArray[Any], cuts: list[int]) -> list[npt.NDArray[Any]]:
    edges = sorted({0, len(x), *(c % (len(x) + 1) for c in cuts)})
    return [x[a:b] for a, b in zip(edges, edges[1:])]


def test_supported_rates_exported() -> None:
    assert list(SUPPORTED_RATES) == IN_RATES


@pytest.mark.parametrize(("src", "dst"), DOWN_PAIRS + OUT_PAIRS)
def test_resample_snr_vs_scipy(src: int, dst: int) -> None:
    x = sweep(src, 1.0, 0.9 * min(src, dst) / 2)
    y = resample(x, src, dst)
    ref = reference(x, src, dst, long_filter=False)
    assert y.dtype == np.float32 and y.shape == ref.shape
    assert snr_db(y, ref) >= 60.0  # scipy's default filter (Kaiser β=5)
    assert snr_db(y, reference(x, src, dst, long_filter=True)) >= 90.0


@pytest.mark.parametrize("rate", IN_RATES)
def test_framer_snr_and_alignment(rate: int) -> None:
    x = sweep(rate, 1.0, 0.9 * min(rate, 16000) / 2)
    f = Framer(rate)
    frames = np.concatenate([f.push(x), f.flush()])
    assert frames.shape[1] == 160 and frames.dtype == np.float32
    y = frames.reshape(-1)[f.delay_samples :]
    ref = reference(x, rate, 16000, long_filter=False)
    assert snr_db(y[: len(ref)], ref) >= 60.0
    assert f.pending == 0


@pytest.mark.parametrize(("src", "dst"), OUT_PAIRS)
def test_output_framer_snr(src: int, dst: int) -> None:
    x = sweep(src, 1.0, 0.9 * min(src, dst) / 2)
    of = OutputFramer(src, dst)
    y = np.concatenate([of.push(x), of.flush()])[of.delay_samples :]
    ref = reference(x, src, dst, long_filter=False)
    assert len(y) == len(ref)
    assert snr_db(y, ref) >= 60.0


@settings(max_examples=25, deadline=None)
@given(
    rate=st.sampled_from(IN_RATES),
    stereo=st.booleans(),
    int16=st.booleans(),
    cuts=st.lists(st.integers(0, 5000), max_size=12),
)
def test_framer_chunking_is_bit_identical(rate: int, stereo: bool, int16: bool, cuts: list[int]) -> None:
    rng = np.random.default_rng(rate)
    channels = 2 if stereo else 1
    n = 4000 * channels
    x = (rng.standard_normal(n) * 8000).astype(np.int16) if int16 else (rng.standard_normal(n) * 0.3).astype(np.float32)
    whole = Framer(rate, channels)
    expected = np.concatenate([whole.push(x), whole.flush()])
    split = Framer(rate, channels)
    # Cut on sample boundaries (whole stereo pairs) so every piece is valid.
    parts = chunks(x.reshape(-1, channels), cuts)
    got = np.concatenate([split.push(p.reshape(-1)) for p in parts] + [split.flush()])
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=15, deadline=None)
@given(pair=st.sampled_from(OUT_PAIRS), cuts=st.lists(st.integers(0, 3000), max_size=10))
def test_output_framer_chunking_is_bit_identical(pair: tuple[int, int], cuts: list[int]) -> None:
    x = (np.random.default_rng(1).standard_normal(3000) * 0.3).astype(np.float32)
    whole = OutputFramer(*pair)
    expected = np.concatenate([whole.push(x), whole.flush()])
    split = OutputFramer(*pair)
    got = np.concatenate([split.push(p) for p in chunks(x, cuts)] + [split.flush()])
    np.testing.assert_array_equal(got, expected)


def test_remainder_is_carried_and_flush_pads() -> None:
    f = Framer(16000)
    x = np.arange(1, 401, dtype=np.float32) / 400
    assert f.push(x[:100]).shape == (0, 160)
    assert f.pending == 100
    out = f.push(x[100:])
    assert out.shape == (2, 160) and f.pending == 80
    np.testing.assert_array_equal(out.reshape(-1), x[:320])
    last = f.flush()
    assert last.shape == (1, 160) and f.pending == 0
    np.testing.assert_array_equal(last[0, :80], x[320:])
    assert not last[0, 80:].any()


def test_stereo_downmix_layouts_and_int16() -> None:
    left = np.full(480, 0.5, dtype=np.float32)
    right = np.full(480, -0.25, dtype=np.float32)
    two_d = np.stack([left, right], axis=1)
    a = Framer(16000, channels=2).push(two_d)
    b = Framer(16000, channels=2).push(two_d.reshape(-1))
    c = Framer(16000, channels=2).push(np.asfortranarray(two_d))  # non-contiguous order
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert np.all(a == 0.125)
    pcm = (two_d * 32768).astype(np.int16)
    np.testing.assert_array_equal(Framer(16000, channels=2).push(pcm), a)


@pytest.mark.parametrize(
    ("chunk", "exc", "match"),
    [
        (np.array([0.1, np.nan, 0.2, 0.3], dtype=np.float32), errors.InvalidAudioError, "index 1"),
        (np.array([0.1, 0.2, np.inf, 0.3], dtype=np.float32), errors.InvalidAudioError, "index 2"),
        # finite, but so far beyond full scale that the downmix overflowed to inf
        (np.array([0.1, 0.2, 3e38, 3e38], dtype=np.float32), errors.InvalidAudioError, "index 2"),
        (np.zeros(4, dtype=np.float64), errors.InvalidAudioError, "float64"),
        (np.zeros(4, dtype=np.int32), errors.InvalidAudioError, "int32"),
        (np.zeros((2, 3), dtype=np.float32), errors.InvalidAudioError, "shape"),
        (np.zeros((2, 2, 2), dtype=np.float32), errors.InvalidAudioError, "3-D"),
        (np.zeros(5, dtype=np.float32), errors.InvalidAudioError, "multiple of 2"),
        (np.zeros(2 * 1001, dtype=np.int16), errors.OversizeError, "1001"),
        ([0.0, 0.0], errors.InvalidAudioError, "numpy"),
    ],
)
def test_bad_chunks_raise_and_leave_state(chunk: object, exc: type[Exception], match: str) -> None:
    f = Framer(48000, channels=2, max_chunk_samples=1000)
    good = np.random.default_rng(0).standard_normal(1000).astype(np.float32) * 0.1
    f.push(good[:700])
    pending = f.pending
    with pytest.raises(exc, match=match):
        f.push(chunk)  # type: ignore[arg-type]
    assert f.pending == pending
    # The stream continues exactly as if the bad chunk never came.
    ref = Framer(48000, channels=2, max_chunk_samples=1000)
    ref.push(good[:700])
    np.testing.assert_array_equal(
        np.concatenate([f.push(good[700:]), f.flush()]),
        np.concatenate([ref.push(good[700:]), ref.flush()]),
    )


def test_bad_construction() -> None:
    for rate in (11000, 0, -16000, 192000, 2**32 + 16000, 2**100, 2**127, 2**300, -(2**300)):
        # the message names the rate given, not a clamped stand-in
        with pytest.raises(errors.UnsupportedRateError, match=f"rate {rate} Hz"):
            Framer(rate)
    with pytest.raises(errors.UnsupportedRateError, match="rate -48000 Hz"):
        OutputFramer(24000, -48000)
    with pytest.raises(errors.UnsupportedRateError, match="rate -1 Hz"):
        resample(np.zeros(4, dtype=np.float32), -1, 16000)
    with pytest.raises(errors.UnsupportedRateError):
        OutputFramer(16000, 44000)
    with pytest.raises(errors.InvalidArgumentError):
        Framer(16000, channels=3)
    with pytest.raises(errors.InvalidArgumentError):
        Framer(16000, max_chunk_samples=0)
    with pytest.raises(errors.UnsupportedRateError):
        resample(np.zeros(10, dtype=np.float32), 16000, 12345)
    with pytest.raises(errors.InvalidAudioError):
        resample(np.array([np.nan], dtype=np.float32), 16000, 48000)
    with pytest.raises(errors.InvalidAudioError, match="index 1"):
        resample(np.array([0.0, 1e30], dtype=np.float32), 16000, 48000)
    with pytest.raises(errors.InvalidAudioError, match="index 1"):
        OutputFramer(24000).push(np.array([0.0, -1e30], dtype=np.float32))


def test_output_framer_int16_matches_float() -> None:
    pcm = (np.random.default_rng(3).standard_normal(2400) * 4000).astype(np.int16)
    a = OutputFramer(24000).push(pcm)
    b = OutputFramer(24000).push(pcm.astype(np.float32) / 32768)
    np.testing.assert_array_equal(a, b)
    assert len(a) == 4800  # streaming output: ceil(n * L / M), the delay stays inside


def test_ints_of_any_size_are_clear_errors_named_as_given() -> None:
    """Ints past i128 (and past Python's 4300-digit str limit) are the range checks' errors,
    naming the int as given; an int subclass and an ``__index__`` object read as their int."""
    from cadence._core import AudioRing, FloorNormalizer

    x = np.zeros(16, dtype=np.float32)
    for huge in (2**127, -(2**127) - 1, 2**300, -(2**300)):
        for call in (lambda: OutputFramer(huge), lambda: OutputFramer(16000, huge), lambda: resample(x, 16000, huge)):
            with pytest.raises(errors.UnsupportedRateError, match=f"rate {huge} Hz"):
                call()
        with pytest.raises(errors.InvalidArgumentError, match=f"channels must be 1 or 2, got {huge}"):
            Framer(16000, huge)
        with pytest.raises(errors.InvalidArgumentError, match="n_mels"):
            FloorNormalizer(huge)
    with pytest.raises(errors.InvalidArgumentError, match="max_chunk_samples must be >= 0"):
        Framer(16000, 1, -(2**300))
    with pytest.raises(errors.OversizeError, match=f"input: {2**70} samples exceeds the maximum of 8"):
        AudioRing(8).read_exact(2**70)  # named as given, not as the saturated usize
    with pytest.raises(errors.UnsupportedRateError, match="rate an int of 16610 bits Hz"):
        Framer(10**5000)  # past the digit limit for int -> str: named by its size
    with pytest.raises(errors.UnsupportedRateError, match="rate a negative int of 16610 bits Hz"):
        Framer(-(10**5000))

    class Loud(int):
        def __str__(self) -> str:
            return "loud"

    class Four:
        def __index__(self) -> int:
            return 4

    with pytest.raises(errors.UnsupportedRateError, match=f"rate {2**200} Hz"):
        Framer(Loud(2**200))  # its int, not its own text
    assert AudioRing(Four()).capacity == 4  # type: ignore[arg-type]
    for bad in (16000.0, "16000"):
        with pytest.raises(TypeError):
            Framer(bad)  # type: ignore[arg-type]
