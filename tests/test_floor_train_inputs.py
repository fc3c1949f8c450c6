"""`cadence train floor`'s input ablations and spectral masks: `--drop-features`,
`--freq-mask` and `--mel-dropout` (floor.md, "Which inputs carry over to new engines")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor.features import FEATURE_NAMES, N_FEATURES, N_MELS
from cadence.floor.train import _dropped_columns, mask_mels

from floor_speech import ESPEAK, fine_tune_args, render

M0 = FEATURE_NAMES.index("mel_0")
MELS = list(range(M0, M0 + N_MELS))


def test_dropped_columns_name_inputs_and_mel_stands_for_every_band() -> None:
    assert _dropped_columns("") == []
    assert _dropped_columns("mel") == MELS
    tilt, f0 = FEATURE_NAMES.index("tilt"), FEATURE_NAMES.index("f0_z")
    assert _dropped_columns(" f0_z, mel ,tilt,mel") == sorted({f0, tilt, *MELS})
    with pytest.raises(InvalidArgumentError, match="'pitch'"):
        _dropped_columns("mel,pitch")


def test_mel_masks_hold_whole_bands_at_the_mean_and_leave_the_rest() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 12, N_FEATURES)).astype(np.float32) + 3.0  # no zeros by chance
    y = x.copy()
    mask_mels(y, np.random.default_rng(1), width=8, dropout=0.0)
    scalars = [i for i in range(N_FEATURES) if i not in MELS]
    np.testing.assert_array_equal(y[:, :, scalars], x[:, :, scalars])
    zero = y[:, :, MELS] == 0.0
    assert (zero == zero[:, :1]).all()  # a band is masked in every frame of its window or none
    per_window = zero[:, 0].sum(1)
    assert per_window.max() <= 16 and per_window.mean() > 4  # two runs of 0..8 bands
    kept = ~zero
    np.testing.assert_array_equal(y[:, :, MELS][kept], x[:, :, MELS][kept])
    # a run is contiguous: no window masks more runs than two
    runs = (np.diff(zero[:, 0].astype(int), axis=1) == 1).sum(1) + zero[:, 0, 0]
    assert runs.max() <= 2

    z = x.copy()
    mask_mels(z, np.random.default_rng(2), width=0, dropout=0.5)
    whole = (z[:, :, MELS] == 0.0).all(axis=(1, 2))
    untouched = (z == x).all(axis=(1, 2))
    assert (whole | untouched).all() and 0.4 < whole.mean() < 0.6
    np.testing.assert_array_equal(z[:, :, scalars], x[:, :, scalars])


def test_the_masks_apply_without_the_mel_warp() -> None:
    pytest.importorskip("torch")
    from cadence.floor.train import WINDOW, _batch

    rng = np.random.default_rng(5)
    n = WINDOW + 20
    data = [(rng.normal(size=(n, N_FEATURES)).astype(np.float32) + 3.0, np.zeros((n, 1), np.float32),
             np.ones(n, np.float32))]
    wins = [(0, 0)] * 64
    plain = _batch(data, wins, np.random.default_rng(0), warp=False)[0].numpy()
    np.testing.assert_array_equal(plain, np.stack([data[0][0][:WINDOW]] * 64))  # --no-augment: as read
    warped = _batch(data, wins, np.random.default_rng(0))[0].numpy()
    assert not np.array_equal(warped[:, :, MELS], plain[:, :, MELS])
    masked = _batch(data, wins, np.random.default_rng(0), mel_dropout=0.5, warp=False)[0].numpy()
    whole = (masked[:, :, MELS] == 0.0).all(axis=(1, 2))
    assert 0 < whole.sum() < 64
    np.testing.assert_array_equal(masked[~whole], plain[~whole])


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed")
def test_dropped_inputs_have_zero_weights_in_the_written_network(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    from cadence.floor.model import FloorModel
    from cadence.floor.train import main as train_main

    audio, spans = render([("I was thinking that maybe we could", 1.0), ("go tomorrow.", 2.0)], voice="en-us")
    events = [{"type": "hold", "start": spans[0][1], "end": spans[1][0]}, {"type": "shift", "t": spans[1][1]}]
    common = fine_tune_args(tmp_path, audio, events) + ["--epochs", "3", "--lr", "3e-2"]
    init = tmp_path / "init.npz"
    dropped = _dropped_columns("mel,tilt")
    # input noise reaches every column of the window, so the weights are held at zero, not left alone
    out = tmp_path / "dropped.npz"
    assert train_main(common + ["--drop-features", "mel,tilt", "--input-noise", "0.5",
                                "--freq-mask", "6", "--mel-dropout", "0.5", "--out", str(out)]) == 0
    with np.load(init) as a, np.load(out) as b:
        assert (b["in_w"][:, dropped] == 0.0).all()
        kept = [i for i in range(N_FEATURES) if i not in dropped]
        assert np.abs(b["in_w"][:, kept] - a["in_w"][:, kept]).max() > 1e-3  # it did train
    # so the written network does not read them at all
    x = np.random.default_rng(3).normal(size=(50, N_FEATURES)).astype(np.float32)
    x2 = x.copy()
    x2[:, dropped] += 5.0
    np.testing.assert_array_equal(FloorModel(out).process(x), FloorModel(out).process(x2))
    # the masks apply under --no-augment (it turns off the mel warp only)
    import cadence.floor.train as train

    calls: list[tuple[int, float]] = []
    real = train.mask_mels

    def counting(xb: np.ndarray, rng: np.random.Generator, width: int, dropout: float) -> None:
        calls.append((width, dropout))
        real(xb, rng, width, dropout)

    monkeypatch.setattr(train, "mask_mels", counting)
    assert train_main(common + ["--no-augment", "--mel-dropout", "0.5", "--out", str(tmp_path / "nw.npz")]) == 0
    assert calls and set(calls) == {(0, 0.5)}
    calls.clear()
    assert train_main(common + ["--no-augment", "--out", str(tmp_path / "plain.npz")]) == 0
    assert not calls
    for bad, match in ((["--freq-mask", str(N_MELS + 1)], "freq-mask"), (["--mel-dropout", "1"], "mel-dropout"),
                       (["--drop-features", "mel_40"], "mel_40")):
        with pytest.raises(InvalidArgumentError, match=match):
            train_main(common + bad + ["--out", str(tmp_path / "x.npz")])
