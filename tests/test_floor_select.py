"""`cadence select floor`: ranking ensembles of trained networks by dev hold/shift AUC."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor.select import main, rank_subsets

# one file: 4 shifts and 4 holds; P(keep) is read at frame round((t + 0.1) / 0.01) - 1
_SHIFTS = [1.0, 3.0, 5.0, 7.0]
_HOLDS = [(2.0, 2.5), (4.0, 4.5), (6.0, 6.5), (8.0, 8.5)]
_ENTRY = {"audio": "a.wav", "events": [{"type": "shift", "t": t} for t in _SHIFTS]
          + [{"type": "hold", "start": s, "end": e} for s, e in _HOLDS]}


def _member(shift_keep: list[float], hold_keep: list[float]) -> np.ndarray:
    p = np.full((1000, 5), 0.5, np.float32)
    for t, k in zip(_SHIFTS, shift_keep):
        p[round((t + 0.1) / 0.01) - 1, 0] = k
    for (s, _e), k in zip(_HOLDS, hold_keep):
        p[round((s + 0.1) / 0.01) - 1, 0] = k
    return p


def _split(*members: np.ndarray) -> list:
    return [(np.stack(members), _ENTRY)]


def test_perfect_member_alone_is_picked_over_a_worse_pair() -> None:
    perfect = _member([0.1, 0.1, 0.1, 0.1], [0.9, 0.9, 0.9, 0.9])
    noisy = _member([0.9, 0.1, 0.9, 0.1], [0.1, 0.9, 0.1, 0.9])  # AUC 0.5
    rows, pick = rank_subsets([_split(noisy, perfect)])
    assert pick["members"] == [1] and pick["auc"] == [1.0]
    assert rows[0]["mean"] == 1.0
    assert {tuple(r["members"]) for r in rows} == {(0,), (1,), (0, 1)}
    assert [r["mean"] for r in rows] == sorted((r["mean"] for r in rows), reverse=True)


def test_members_that_err_differently_are_averaged_and_ties_go_to_fewer() -> None:
    # each member confuses a different shift with a hold; their average separates all pairs
    a = _member([0.8, 0.1, 0.1, 0.1], [0.7, 0.7, 0.7, 0.7])
    b = _member([0.1, 0.8, 0.1, 0.1], [0.7, 0.7, 0.7, 0.7])
    rows, pick = rank_subsets([_split(a, b)])
    assert pick["members"] == [0, 1] and pick["mean"] == 1.0
    assert max(r["mean"] for r in rows if len(r["members"]) == 1) < 1.0
    same = _member([0.1, 0.1, 0.1, 0.1], [0.9, 0.9, 0.9, 0.9])
    _rows, pick = rank_subsets([_split(same, same.copy())])  # equal AUC: one network is enough
    assert pick["members"] == [0]
    _rows, pick = rank_subsets([_split(a, b)], max_size=1)
    assert len(pick["members"]) == 1
    # a single network strictly below the best pair, but within the margin, wins
    rows, pick = rank_subsets([_split(a, b)], tie=0.3)
    assert rows[0]["members"] == [0, 1] and len(pick["members"]) == 1 and pick["mean"] < 1.0
    _rows, pick = rank_subsets([_split(a, b)], tie=0.1)
    assert pick["members"] == [0, 1]


def test_mean_over_several_splits() -> None:
    good = _member([0.1] * 4, [0.9] * 4)
    bad = _member([0.9, 0.1, 0.9, 0.1], [0.1, 0.9, 0.1, 0.9])
    rows, pick = rank_subsets([_split(good, bad), _split(bad, good)])
    assert all(len(r["auc"]) == 2 for r in rows)
    assert pick["members"] == [0, 1]  # the only subset good on both splits
    with pytest.raises(InvalidArgumentError):
        rank_subsets([])
    no_holds = {"audio": "a.wav", "events": [{"type": "shift", "t": 1.0}]}
    with pytest.raises(InvalidArgumentError, match="no shift or no hold"):
        rank_subsets([[(np.stack([good]), no_holds)]])


def test_cli_refuses_bad_arguments(tmp_path) -> None:
    with pytest.raises(InvalidArgumentError, match="not found"):
        main(["--split", str(tmp_path), "--members", str(tmp_path / "missing.npz")])
    with pytest.raises(InvalidArgumentError, match="--max-size"):
        main(["--split", str(tmp_path), "--members", "x.npz", "--max-size", "0"])
    with pytest.raises(InvalidArgumentError, match="--tie"):
        main(["--split", str(tmp_path), "--members", "x.npz", "--tie", "nan"])


def test_cli_runs_every_network_of_every_file(tmp_path, monkeypatch, capsys) -> None:
    pytest.importorskip("torch")
    import json

    import torch

    import cadence.floor.train as train
    from cadence.floor.features import N_FEATURES
    from cadence.floor.model import FloorModel, save_ensemble

    mean, std = np.zeros(N_FEATURES, np.float32), np.ones(N_FEATURES, np.float32)
    paths = []
    for seed in (0, 1, 2):
        torch.manual_seed(seed)
        paths.append(tmp_path / f"w{seed}.npz")
        train.export(train.build(hidden=8, proj=8).eval(), mean, std, paths[-1])
    save_ensemble(paths[1:], tmp_path / "ens.npz")
    x = np.random.default_rng(0).normal(size=(1000, N_FEATURES)).astype(np.float32)
    monkeypatch.setattr(train, "load_split", lambda d, jobs: [(x, None, None)])
    monkeypatch.setattr(train, "_read_manifest", lambda d: [_ENTRY])
    out = tmp_path / "sel.json"
    assert main(["--split", str(tmp_path), "--members", str(paths[0]), str(tmp_path / "ens.npz"),
                 "--json", str(out)]) == 0
    got = json.loads(out.read_text())
    assert got["networks"] == [str(paths[0]), f"{tmp_path / 'ens.npz'}#0", f"{tmp_path / 'ens.npz'}#1"]
    assert len(got["rows"]) == 7  # every non-empty subset of three networks
    # the scores are those of the averaged networks, as FloorModel runs them
    from cadence.floor.separability import hold_shift_auc

    whole = next(r for r in got["rows"] if r["members"] == [1, 2])
    assert whole["auc"][0] == pytest.approx(hold_shift_auc([(FloorModel(tmp_path / "ens.npz").process(x), _ENTRY)])["auc"])
    printed = capsys.readouterr().out
    assert "pick:" in printed and ("--combine" in printed or "ensemble files" in printed)
