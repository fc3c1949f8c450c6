"""The interval coverage simulation (``cadence bench intervals``, ``coverage.py``)."""

from __future__ import annotations

import argparse
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


@pytest.mark.parametrize("design", [ALSA_CLIPS, cv.Design("prompts-like", 6, 4, 20, 0.3, 1.0),
                                    cv.Design("synthetic-like", 5, 3, 0, 1.0, 0.3)])
def test_a_simulated_split_is_the_bench_table_of_its_turns(design: cv.Design) -> None:
    table = cv.simulate_split(design, np.random.default_rng(0))
    col = dict(zip(UNIT_COUNTS, table.counts.sum(axis=0)))
    assert col["shifts"] == col["commits"] == design.files * design.turns
    assert col["answered"] == col["correct"] == col["open_answered"] <= col["shifts"]
    assert table.files == design.files and table.unit == "file × clip"
    # every turn is its own cell unless a clip comes back in the same file (never: dealt round, turns <= clips)
    assert table.cells == design.files * design.turns
    if design.clips:  # every clip dealt, each in about files * turns / clips files
        assert table.clips == design.clips
        per_clip = np.bincount(table.cell_clip)
        assert per_clip.max() - per_clip.min() <= 1
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
    # each resample draws 12 files and 8 clips in all
    first_cell = [int(np.flatnonzero(table.cell_file == f)[0]) for f in range(table.files)]
    assert (w_files[:, first_cell].sum(axis=1) == 12).all()
    first_of_clip = [int(np.flatnonzero(table.cell_clip == c)[0]) for c in range(table.clips)]
    assert (w_clips[:, first_of_clip].sum(axis=1) == 8).all()
    assert (w_files[:, first_cell] != 1).any() and (w_clips[:, first_of_clip] != 1).any()
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
    assert r["files"]["recall"]["coverage"] <= 0.87  # 0.84 here (the expanded interval over 12 files)


def test_the_expanded_interval_holds_the_truth_more_often_where_units_are_few(monkeypatch: pytest.MonkeyPatch) -> None:
    m = "interruptions_per_100_turns"
    new = cv.coverage(ALSA_CLIPS, sims=60, resamples=300, seed=1)
    monkeypatch.setattr(intervals, "tail_percent", lambda level=0.95, df=0.0: 50.0 * (1.0 - level))  # plain
    plain = cv.coverage(ALSA_CLIPS, sims=60, resamples=300, seed=1)
    for way in ("files", "both"):  # the same splits and resamples: only the tails differ
        assert new[way][m]["coverage"] > plain[way][m]["coverage"]
        assert new[way][m]["width"] > 1.08 * plain[way][m]["width"]


def test_without_shared_clips_the_files_are_close_to_right_and_both_err_wide() -> None:
    d = cv.Design("synthetic-like", 40, 10, 0, 1.0, 0.3)
    r = cv.coverage(d, sims=60, resamples=200, seed=0)
    for m in cv.COVERED:
        assert r["files"][m]["coverage"] >= 0.85
        assert r["both"][m]["coverage"] >= 0.95
        assert r["both"][m]["width"] > r["files"][m]["width"]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InvalidArgumentError):
        cv.Design("one file", 1, 4, 4, 0.1, 0.1)
    with pytest.raises(InvalidArgumentError):
        cv.Design("more turns than clips", 4, 9, 8, 0.1, 0.1)
    with pytest.raises(InvalidArgumentError):
        cv.Design("nan spread", 4, 4, 8, float("nan"), 0.1)
    with pytest.raises(InvalidArgumentError):
        cv.Design("clips never heard", 2, 4, 9, 0.1, 0.1)
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
    assert text.count("| alsa-like | 0.3, 1 |") == 3 and "False marks" in text and "Latency coverage" in text
    assert out.read_text().strip() == text.strip()
    assert intervals.LEVEL == 0.95


def test_two_policies_share_the_split_and_differ_only_by_their_own_reading() -> None:
    a, b = cv.simulate_splits(ALSA_CLIPS, np.random.default_rng(0), policies=2, pair_share=0.5)
    assert a.layout() == b.layout()
    assert (a.counts[:, UNIT_COUNTS.index("shifts")] == b.counts[:, UNIT_COUNTS.index("shifts")]).all()
    assert not (a.counts == b.counts).all()
    # files that differ a lot, read the same way by both: their per-file recalls move together
    loud = cv.Design("files differ", 40, 8, 8, 3.0, 0.0)
    a, b = cv.simulate_splits(loud, np.random.default_rng(1), policies=2, pair_share=0.0)
    col = UNIT_COUNTS.index("answered")

    def per_file(t: intervals.FileTable) -> np.ndarray:
        return np.bincount(t.cell_file, weights=t.counts[:, col], minlength=loud.files)

    assert np.corrcoef(per_file(a), per_file(b))[0, 1] > 0.8
    # each reading its own way, as much as the files differ: they move together less
    a, b = cv.simulate_splits(loud, np.random.default_rng(1), policies=2, pair_share=1.0)
    assert np.corrcoef(per_file(a), per_file(b))[0, 1] < 0.8


def test_where_clips_move_the_figures_marks_over_the_files_alone_are_luck() -> None:
    r = cv.false_marks(ALSA_CLIPS, sims=80, resamples=300, seed=0)
    for m in cv.COVERED:
        assert r["files"][m] > r["both"][m] + 0.05
        assert r["both"][m] <= 0.1
    # the policies' own readings are what the files alone miss (0.36 here, 0.09 with pair_share 0,
    # which would still pass the lines above; that the two share their resamples is checked below)
    assert r["files"]["interruptions_per_100_turns"] >= 0.3


def test_false_marks_pair_both_policies_on_the_same_resamples(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[np.ndarray] = []
    real = intervals.ratio_samples

    def spy(table: intervals.FileTable, weights: np.ndarray) -> dict[str, np.ndarray]:
        seen.append(weights)
        return real(table, weights)

    monkeypatch.setattr(intervals, "ratio_samples", spy)
    cv.false_marks(ALSA_CLIPS, sims=2, resamples=100, seed=0)
    # per split and policy: the files alone once; the clips alone and both once, and once under
    # each of their two draws alone (the degrees of freedom, intervals.dof)
    assert len(seen) == 2 * 2 * (1 + 3 + 3)
    for a, b in zip(seen[::2], seen[1::2]):
        assert a is b


def test_the_data_and_the_draws_take_their_own_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """numpy reads the seed [k, 0] as k: a split drawn from [seed, s] would replay the stream of
    sim s's file draws (``weights`` seeds them with seed + s, its clip draws with [seed + s, 1])."""
    entropies: list[object] = []
    real = cv.simulate_splits

    def spy(design: cv.Design, rng: np.random.Generator, *args: object, **kw: object) -> list[intervals.FileTable]:
        entropies.append(rng.bit_generator.seed_seq.entropy)  # type: ignore[attr-defined]
        return real(design, rng, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(cv, "simulate_splits", spy)
    cv.coverage(ALSA_CLIPS, sims=3, resamples=100, seed=5)
    cv.false_marks(ALSA_CLIPS, sims=3, resamples=100, seed=5)
    assert entropies == [[5, 0, 2], [5, 1, 2], [5, 2, 2], [5, 0, 3], [5, 1, 3], [5, 2, 3]]


def test_a_true_gain_is_marked_more_often_the_larger_it_is() -> None:
    d = cv.Design("synthetic-like", 60, 6, 0, 0.5, 0.5)
    t0, t1 = cv.truth(d), cv.truth(d, 0.4)
    assert t1["recall"] > t0["recall"]
    assert t1["interruptions_per_100_turns"] == pytest.approx(t0["interruptions_per_100_turns"] * np.exp(-0.4))
    small = cv.marks(d, sims=30, resamples=200, seed=0, shift=0.1)
    large = cv.marks(d, sims=30, resamples=200, seed=0, shift=0.6)
    for m in cv.COVERED:
        assert large["files"][m] > small["files"][m] + 0.3 and large["both"][m] > small["both"][m]
    with pytest.raises(InvalidArgumentError):
        cv.marks(d, sims=5, resamples=100, shift=-0.1)


def test_power_counts_only_marks_for_the_better_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    d = cv.Design("synthetic-like", 60, 6, 0, 0.5, 0.5)
    real = cv.simulate_splits

    def swapped(*args: object, **kw: object) -> list[intervals.FileTable]:
        return real(*args, **kw)[::-1]  # type: ignore[arg-type]

    monkeypatch.setattr(cv, "simulate_splits", swapped)
    r = cv.marks(d, sims=30, resamples=200, seed=0, shift=0.6)  # the first is now the worse one
    for w in cv.WAYS:
        for m in cv.COVERED:
            assert r[w][m] <= 0.05


def test_the_true_gain_counts_each_policys_own_reading() -> None:
    d = cv.Design("x", 10, 5, 5, 0.6, 0.8)
    rng = np.random.default_rng(2)
    n = 1_000_000
    own = cv.PAIR_SHARE
    z = (rng.normal(0.0, d.file_sd, n) + rng.normal(0.0, d.clip_sd, n)
         + rng.normal(0.0, own * d.file_sd, n) + rng.normal(0.0, own * d.clip_sd, n))
    t = cv.truth(d, 0.3, own)
    assert t["interruptions_per_100_turns"] == pytest.approx(100 * cv.CUT_RATE * np.mean(np.exp(z - 0.3)), rel=0.01)
    assert t["recall"] == pytest.approx(np.mean(1.0 / (1.0 + np.exp(-(cv.RECALL_LOGIT + 0.3 + z)))), abs=1e-3)


def test_the_command_takes_your_own_split_and_a_gain(capsys: pytest.CaptureFixture[str]) -> None:
    assert cv.main(["--sims", "3", "--resamples", "100", "--design", "10,4,8,0.3,1", "--shift", "0.5"]) == 0
    text = capsys.readouterr().out
    assert text.count("| 10 files of 4 turns, 8 clips | 0.3, 1 |") == 4 and "**Power**" in text
    for bad in ("10,4,8,0.3", "10,4,x,0.3,1", "1,4,8,0.3,1"):
        with pytest.raises(argparse.ArgumentTypeError):
            cv._design(bad)
    with pytest.raises(SystemExit):
        cv.main(["--sims", "3", "--design", "1,4,8,0.3,1"])
    assert ">= 2 files" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cv.main(["--sims", "3", "--shift", "-1"])
    assert "--shift must be" in capsys.readouterr().err


def _expanded(table: intervals.FileTable, w: np.ndarray) -> dict[str, np.ndarray]:
    """np.percentile of each row's sample, the turns' latencies repeated as their cells are drawn
    (what ``intervals.latency_samples`` reads without expanding it)."""
    out: dict[str, list[float]] = {k: [] for k in cv.LATENCIES}
    for row in w:
        x = np.repeat(table.latencies, row[table.latency_file])
        for k, q in zip(cv.LATENCIES, (50, 90)):
            out[k].append(1e3 * np.percentile(x, q) if x.size else np.nan)
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("design", [ALSA_CLIPS, cv.Design("synthetic-like", 12, 5, 0, 1.0, 0.3)])
def test_latency_quantiles_are_the_expanded_samples_ones(design: cv.Design) -> None:
    table = cv.simulate_split(design, np.random.default_rng(4))
    assert table.latencies.size == table.counts[:, UNIT_COUNTS.index("answered")].sum()
    assert (np.diff(table.latencies) >= 0).all()
    w = table.weights(50, 7)
    fast = intervals.latency_samples(table, w)
    slow = _expanded(table, w)
    for k in cv.LATENCIES:
        np.testing.assert_allclose(fast[k], slow[k], rtol=1e-12)
    empty = intervals.latency_samples(cv.ways(table)["files"], np.zeros((3, table.cells), np.int64))
    assert np.isnan(empty["latency_median_ms"]).all()


def test_the_latency_truth_matches_a_monte_carlo_draw() -> None:
    d = cv.Design("x", 10, 5, 5, 0.6, 0.8)
    rng = np.random.default_rng(3)
    n = 1_000_000
    z = (rng.normal(0.0, cv.LATENCY_SHARE * d.file_sd, n) + rng.normal(0.0, cv.LATENCY_SHARE * d.clip_sd, n)
         + rng.normal(0.0, cv.LATENCY_TURN_SD, n))
    lat = 1e3 * cv.LATENCY_S * np.exp(z)
    t = cv.truth(d)
    assert t["latency_median_ms"] == pytest.approx(np.median(lat), rel=0.01)
    assert t["latency_p90_ms"] == pytest.approx(np.percentile(lat, 90), rel=0.01)
    r = cv.coverage(ALSA_CLIPS, sims=20, resamples=200, seed=0)
    assert set(r["both"]) == {*cv.COVERED, *cv.LATENCIES}
    assert r["both"]["latency_p90_ms"]["width"] > r["files"]["latency_p90_ms"]["width"]


def test_latency_quantiles_match_the_expanded_samples_on_small_random_tables() -> None:
    rng = np.random.default_rng(9)
    for _ in range(300):
        n_lat, cells = int(rng.integers(1, 7)), int(rng.integers(1, 4))
        lat = np.sort(rng.choice([0.1, 0.2, 0.3, 0.5], n_lat))
        table = intervals.FileTable(np.zeros((cells, len(UNIT_COUNTS)), np.int64), lat,
                                    rng.integers(0, cells, n_lat), np.arange(cells), np.full(cells, -1), "file")
        w = rng.integers(0, 3, (5, cells))
        fast, slow = intervals.latency_samples(table, w), _expanded(table, w)
        for k in cv.LATENCIES:  # NaN where a row draws no latency
            np.testing.assert_allclose(fast[k], slow[k], rtol=1e-12)
    none = intervals.latency_samples(table, np.zeros((2, cells), np.int64))
    assert all(np.isnan(v).all() for v in none.values())


@pytest.mark.parametrize("pair_share", [0.0, 0.5])
def test_simulated_latencies_have_the_true_median_and_p90(pair_share: float) -> None:
    d = cv.Design("file-heavy", 20, 6, 6, 1.0, 0.3)
    lat = np.concatenate([cv.simulate_splits(d, np.random.default_rng([k, 1]), policies=2,
                                             pair_share=pair_share)[1].latencies for k in range(300)])
    t = cv.truth(d, 0.0, pair_share)
    assert 1e3 * np.median(lat) == pytest.approx(t["latency_median_ms"], rel=0.03)
    assert 1e3 * np.percentile(lat, 90) == pytest.approx(t["latency_p90_ms"], rel=0.03)


def test_each_latency_stays_with_its_turns_cell() -> None:
    d = cv.Design("files far apart", 8, 6, 6, 20.0, 0.0)  # each file's latencies in a block of their own
    table = cv.simulate_split(d, np.random.default_rng(5))
    files = table.cell_file[table.latency_file]
    assert np.count_nonzero(np.diff(files)) == len(set(files.tolist())) - 1
