"""AudioRing binding: dtype/shape checks, policies, stats, two Python threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from cadence import errors
from cadence._core import AudioRing


def test_write_read_roundtrip_and_stats() -> None:
    ring = AudioRing(8)
    assert (ring.capacity, ring.available, ring.free, ring.overrun) == (8, 0, 8, "error")
    assert ring.write(np.arange(5, dtype=np.float32)) == 5
    assert ring.peek(2).tolist() == [0.0, 1.0]
    assert ring.read(3).tolist() == [0.0, 1.0, 2.0]
    assert ring.write(np.arange(10, 15, dtype=np.float32)) == 5  # wraps around
    out = np.full(10, -1.0, dtype=np.float32)
    assert ring.read_into(out) == 7
    assert out[:7].tolist() == [3.0, 4.0, 10.0, 11.0, 12.0, 13.0, 14.0]
    assert ring.stats() == {
        "capacity": 8, "fill": 0, "peak_fill": 7, "total_written": 10, "total_read": 10,
        "overrun_events": 0, "overrun_samples": 0, "underrun_events": 1,
    }


def test_int16_is_scaled_and_noncontiguous_is_copied() -> None:
    ring = AudioRing(16)
    ring.write(np.array([-32768, 16384, 0], dtype=np.int16))
    assert ring.read(3).tolist() == [-1.0, 0.5, 0.0]
    strided = np.arange(12, dtype=np.float32)[::3]
    assert not strided.flags.c_contiguous
    ring.write(strided)
    assert ring.read(10).tolist() == [0.0, 3.0, 6.0, 9.0]


def test_error_policy_rejects_whole_write() -> None:
    ring = AudioRing(4)
    ring.write(np.ones(3, dtype=np.float32))
    with pytest.raises(errors.RingOverrunError):
        ring.write(np.ones(2, dtype=np.float32))
    assert ring.available == 3
    assert ring.stats()["overrun_events"] == 1 and ring.stats()["overrun_samples"] == 2


def test_overwrite_policy_drops_oldest() -> None:
    ring = AudioRing(4, overrun="overwrite")
    ring.write(np.array([1, 2, 3], dtype=np.float32))
    ring.write(np.array([4, 5, 6], dtype=np.float32))
    assert ring.read(4).tolist() == [3.0, 4.0, 5.0, 6.0]
    assert ring.stats()["overrun_samples"] == 2


def test_read_exact_returns_none_on_underrun() -> None:
    ring = AudioRing(320)
    ring.write(np.ones(100, dtype=np.float32))
    assert ring.read_exact(160) is None
    assert ring.available == 100 and ring.stats()["underrun_events"] == 1
    ring.write(np.ones(60, dtype=np.float32))
    frame = ring.read_exact(160)
    assert frame is not None and frame.shape == (160,) and frame.dtype == np.float32


@pytest.mark.parametrize(
    ("samples", "exc"),
    [
        (np.array([0.0, np.nan], dtype=np.float32), errors.InvalidAudioError),
        (np.array([np.inf], dtype=np.float32), errors.InvalidAudioError),
        (np.array([0.0, 3e38], dtype=np.float32), errors.InvalidAudioError),
        (np.zeros(3, dtype=np.float64), errors.InvalidAudioError),
        (np.zeros((2, 2), dtype=np.float32), errors.InvalidAudioError),
        ([0.0, 1.0], errors.InvalidAudioError),
        (np.zeros(9, dtype=np.float32), errors.OversizeError),
    ],
)
def test_bad_writes_raise_and_write_nothing(samples: object, exc: type[Exception]) -> None:
    ring = AudioRing(8)
    ring.write(np.ones(2, dtype=np.float32))
    with pytest.raises(exc):
        ring.write(samples)  # type: ignore[arg-type]
    assert ring.available == 2 and ring.stats()["total_written"] == 2


def test_bad_arguments() -> None:
    with pytest.raises(errors.InvalidArgumentError):
        AudioRing(0)
    with pytest.raises(errors.InvalidArgumentError):
        AudioRing(8, overrun="drop")  # type: ignore[arg-type]
    ring = AudioRing(8)
    with pytest.raises(errors.InvalidArgumentError):
        ring.read_into(np.zeros(4, dtype=np.float64))
    ro = np.zeros(4, dtype=np.float32)
    ro.flags.writeable = False
    with pytest.raises(errors.InvalidArgumentError):
        ring.read_into(ro)
    with pytest.raises(errors.InvalidArgumentError):
        ring.read(-1)
    with pytest.raises(errors.OversizeError):
        ring.read_exact(9)
    # ints beyond 64 bits: CadenceErrors too, not OverflowError
    for huge in (2**64, 2**100, 2**127, 2**200):  # past i128 too: no OverflowError
        with pytest.raises(errors.InvalidArgumentError, match="capacity"):
            AudioRing(huge)
        with pytest.raises(errors.OversizeError):
            ring.read_exact(huge)
        with pytest.raises(errors.InvalidArgumentError, match=">= 0"):
            ring.read(-huge)
    ring.write(np.ones(3, dtype=np.float32))
    assert len(ring.peek(2**63)) == 3 and len(ring.read(2**64)) == 3  # "up to n"
    assert ring.skip(2**100) == 0 and ring.skip(2**200) == 0 and len(ring.read(2**200)) == 0


@pytest.mark.parametrize("overrun", ["error", "overwrite"])
def test_two_python_threads_sequence_intact(overrun: str) -> None:
    total = 200_000
    ring = AudioRing(4096, overrun=overrun)  # type: ignore[arg-type]
    received: list[np.ndarray] = []
    done = threading.Event()

    def writer() -> None:
        pos, size = 0, 1
        while pos < total:
            size = size * 7 % 1500 + 1
            n = min(size, total - pos)
            try:
                pos += ring.write(np.arange(pos, pos + n, dtype=np.float32))
            except errors.RingOverrunError:
                pass
        done.set()

    def reader() -> None:
        out = np.empty(1000, dtype=np.float32)
        while True:
            k = ring.read_into(out)
            if k:
                received.append(out[:k].copy())
            elif done.is_set() and ring.available == 0:
                return

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    got = np.concatenate(received).astype(np.int64)
    stats = ring.stats()
    assert stats["total_written"] == total and stats["total_read"] == got.size
    assert got[-1] == total - 1
    if overrun == "error":
        np.testing.assert_array_equal(got, np.arange(total))
    else:
        assert np.all(np.diff(got) > 0), "samples out of order"
        assert got.size + stats["overrun_samples"] == total
