"""Every call's FloorModel shares the networks' weights of its file; only its state is its own."""

from __future__ import annotations

import copy
import os

import numpy as np
import pytest

from cadence.floor.features import N_FEATURES
from cadence.floor.model import FloorModel, default_weights_path, load_members


def _features(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.0, (n, N_FEATURES)).astype(np.float32)


def test_models_of_one_file_share_weights_and_keep_their_own_state() -> None:
    a, b = FloorModel(), FloorModel()
    for ma, mb in zip(a.members, b.members):
        assert ma.net is mb.net and ma.w_hh_t is mb.w_hh_t and ma.convs[0].taps[0] is mb.convs[0].taps[0]
        assert ma.h is not mb.h and ma.convs[0].hist is not mb.convs[0].hist
    x, y = _features(120, 0), _features(120, 1)
    want = FloorModel().process(y)
    a.process(x)  # another call's frames move a's state only
    np.testing.assert_array_equal(b.process(y), want)
    # the numpy reference's state is per model too
    ref_b = FloorModel()
    a.members[0].reference_process(x)
    np.testing.assert_array_equal(ref_b.members[0].reference_process(y), FloorModel().members[0].reference_process(y))


def test_a_copy_mid_call_goes_on_alike_and_apart() -> None:
    m = FloorModel()
    x = _features(200, 2)
    m.process(x[:90])
    c = copy.deepcopy(m)
    assert c.members[0].net is m.members[0].net
    np.testing.assert_array_equal(c.process(x[90:150]), m.process(x[90:150]))
    c.process(x[:50])  # the copy's frames do not move the original
    fresh = FloorModel()
    fresh.process(x[:150])
    np.testing.assert_array_equal(m.process(x[150:]), fresh.process(x[150:]))


def test_a_weights_file_written_again_is_loaded_again(tmp_path) -> None:
    path = tmp_path / "w.npz"
    members = load_members(default_weights_path())
    arrays = {f"m{i}/{k}": v for i, m in enumerate(members) for k, v in m.items()}
    np.savez(path, **arrays)
    x = _features(60, 3)
    before = FloorModel(path).process(x)
    stamp = path.stat().st_mtime_ns
    arrays["m0/out_b"] = arrays["m0/out_b"] + 1.0
    np.savez(path, **arrays)  # the same size; and the same mtime, as within a coarse clock's tick:
    os.utime(path, ns=(stamp, stamp))
    after = FloorModel(path).process(x)
    assert np.abs(after - before).max() > 1e-3


def test_the_shared_weights_are_read_only() -> None:
    m = FloorModel().members[0]
    for a in (m.mean, m.w_hh_t, m.convs[0].taps[0], m.output_columns):
        with pytest.raises(ValueError):
            a[...] = 0
    with pytest.raises(TypeError):
        m.heads["voice"] = m.heads["voice"]  # type: ignore[index]
