"""The interval coverage simulation (``cadence bench intervals``, ``coverage.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor import coverage as cv
from cadence.floor import intervals
from cadence.floor.scoring import UNIT_COUNTS

ALSA_CLIPS = cv.Design("alsa-like", 12, 8, 8, 0.3, 1.0)


def test_truth_matches_a_monte_carlo_draw() -> None:
    d = cv.Design("x", 10, 5, 5, 0.6, 0.8)
    rng = np.random.default_rng(1)
    z = rng.normal(0.0, d.file_sd, 1_000_000) + rng.normal(0.0, d.clip_sd, 1_000_000)
    t = cv.truth(d)
    assert t["recall"] == pytest.approx(np.mean(1.0 / (1.0 + np.exp(-(cv.RECALL_LOGIT + z)))), abs=1e-3)
    assert t["interruptions_per_100_turns"] == pytest.approx(100 * cv.CUT_RATE * np.mean(np.exp(z)), rel=0.01)


@pytest.mark.parametrize("design", [ALSA_CLIPS, cv.Design("prompts-like", 6, 4, 30, 0.3, 1.0),
                                    cv.Design("synthetic-like", 5, 3, 0, 1.0, 0.3)])
def test_a_simulated_split_is_the_bench_table_of_its_turns(design: cv.Design) -> None:
    table = cv.simulate_split(design, np.random.default_rng(0))
    col = dict(zip(UNIT_COUNTS, table.counts.sum(axis=0)))
    assert col["shifts"] == col["commits"] == design.files * design.turns
    assert col["answered"] == col["correct"] == col["open_answered"] <= col["shifts"]
    assert table.files == design.files and table.unit == "file × clip"
    # every turn is its own cell unless a clip comes back in the same file (never: drawn without replacement)
    assert table.cells == design.files * design.turns
    if design.clips:
        assert table.clips <= design.clips
    else:
        assert table.clips == design.files * design.turns


def test_the_three_ways_draw_files_clips_or_both() -> None:
    table = cv.simulate_split(ALSA_CLIPS, np.random.default_rng(0))
    ways = cv.ways(table)
    assert ways["both"] is table
    w_files = ways["files"].weights(200, 3)
    w_clips = ways["clips"].weights(200, 3)
    for f in range(table.files):  # over the files alone, a file's cells move together
        cells = table.cell_file == f
        assert (w_files[:, cells] == w_files[:, cells][:, :1]).all()
    for c in range(table.clips):  # over the clips alone, a clip's cells move together
        cells = table.cell_clip == c
        assert (w_clips[:, cells] == w_clips[:, cells][:, :1]).all()
    assert (w_clips.reshape(200, table.files, -1).sum(axis=2) == w_clips[:, :8].sum(axis=1, keepdims=True)).all()
    # both: a cell counts its file's draws times its clip's
    w_both = table.weights(200, 3)
    assert (w_both == w_files * np.random.default_rng([3, 1]).multinomial(
        table.clips, np.full(table.clips, 1 / table.clips), size=200)[:, table.cell_clip]).all()


def test_where_clips_move_the_figures_the_files_alone_read_too_sure() -> None:
    r = cv.coverage(ALSA_CLIPS, sims=80, resamples=300, seed=0)
    for m in cv.COVERED:
        assert r["files"][m]["coverage"] < r["both"][m]["coverage"] - 0.1
        assert r["both"][m]["width"] > r["files"][m]["width"]
    assert r["both"]["recall"]["coverage"] >= 0.85
    assert r["files"]["recall"]["coverage"] <= 0.8


def test_without_shared_clips_both_err_wide() -> None:
    d = cv.Design("synthetic-like", 40, 10, 0, 1.0, 0.3)
    r = cv.coverage(d, sims=40, resamples=200, seed=0)
    for m in cv.COVERED:
        assert r["both"][m]["width"] > r["files"][m]["width"]
        assert r["both"][m]["coverage"] >= r["files"][m]["coverage"]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InvalidArgumentError):
        cv.Design("one file", 1, 4, 4, 0.1, 0.1)
    with pytest.raises(InvalidArgumentError):
        cv.Design("more turns than clips", 4, 9, 8, 0.1, 0.1)
    with pytest.raises(InvalidArgumentError):
        cv.Design("nan spread", 4, 4, 8, float("nan"), 0.1)
    with pytest.raises(InvalidArgumentError):
        cv.coverage(ALSA_CLIPS, sims=0)
    with pytest.raises(InvalidArgumentError):
        cv.coverage(ALSA_CLIPS, sims=2, resamples=0)
    with pytest.raises(InvalidArgumentError):
        cv.coverage(ALSA_CLIPS, sims=2, resamples=50)


def test_the_command_prints_a_table(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path) -> None:
    monkeypatch.setattr(cv, "DESIGNS", (ALSA_CLIPS,))
    out = tmp_path / "cov.md"
    assert cv.main(["--sims", "3", "--resamples", "100", "--markdown", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.count("| alsa-like | 0.3, 1 |") == 2 and "False marks" in text
    assert out.read_text().strip() == text.strip()
    assert intervals.LEVEL == 0.95


def test_two_policies_share_the_split_and_differ_only_by_their_own_reading() -> None:
    a, b = cv.simulate_splits(ALSA_CLIPS, np.random.default_rng(0), policies=2, pair_sd=0.5)
    assert a.layout() == b.layout()
    assert (a.counts[:, UNIT_COUNTS.index("shifts")] == b.counts[:, UNIT_COUNTS.index("shifts")]).all()
    assert not (a.counts == b.counts).all()
    same = cv.simulate_splits(ALSA_CLIPS, np.random.default_rng(0), policies=2, pair_sd=0.0)
    assert same[0].layout() == same[1].layout()


def test_where_clips_move_the_figures_marks_over_the_files_alone_are_luck() -> None:
    r = cv.false_marks(ALSA_CLIPS, sims=80, resamples=300, seed=0)
    for m in cv.COVERED:
        assert r["files"][m] > r["both"][m] + 0.05
        assert r["both"][m] <= 0.1
