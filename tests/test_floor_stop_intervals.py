"""Intervals of the pause stage's figures (``cadence.floor.stop_intervals``)."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.floor import stop_intervals
from cadence.floor.bench import stop_interval_lines
from cadence.floor.scoring import FileScore, summarize, total


def _files(rng: np.random.Generator, n: int, late_share: float, duplex_every: int = 2) -> list[FileScore]:
    """n files; every ``duplex_every``-th has persona speech, most of those barge-ins, some of
    them backchannels (so the three figures rest on different files)."""
    out = []
    for i in range(n):
        if i % duplex_every:
            out.append(FileScore(shifts=3))
            continue
        k = i // duplex_every
        b = int(rng.integers(1, 4)) if k % 4 else 0
        lat = [float(x) for x in np.where(rng.random(b) < late_share, 0.3, 0.05)]
        bc = int(rng.integers(1, 5)) if k % 3 else 0
        out.append(FileScore(shifts=3, bargeins=b, stop_latencies=lat, backchannels=bc,
                             backchannels_paused=int(rng.integers(0, bc + 1)),
                             false_pauses=int(rng.integers(0, 4)), persona_s=float(rng.uniform(20, 60))))
    return out


def test_point_figures_are_the_summary_s_and_the_intervals_hold_them() -> None:
    rng = np.random.default_rng(0)
    files = _files(rng, 40, 0.1)
    r = stop_intervals.report({"a": files}, resamples=500, seed=3)
    assert r is not None
    s = summarize(total(files))
    for name, c in r["policies"]["a"].items():
        assert c is not None
        assert c["point"] == pytest.approx(s[name], abs=1e-12)
        assert c["lo"] <= c["point"] <= c["hi"] and c["lo"] < c["hi"]
    # the files that carry each figure, not the split's 40
    carriers = {"stop_within_150ms_share": sum(f.bargeins > 0 for f in files),
                "backchannel_pause_share": sum(f.backchannels > 0 for f in files),
                "false_pauses_per_persona_min": sum(f.persona_s > 0 for f in files)}
    assert len(set(carriers.values())) == 3
    for name, c in r["policies"]["a"].items():
        assert c["files"] == carriers[name] and c["df"] == carriers[name] - 1
    # seeded: the same report twice
    assert stop_intervals.report({"a": files}, resamples=500, seed=3) == r


def test_a_policy_against_itself_differs_by_nothing_and_a_clear_gain_is_sure() -> None:
    rng = np.random.default_rng(1)
    slow = _files(rng, 60, 0.5)
    fast = [FileScore(**{**vars(f), "stop_latencies": [0.05] * len(f.stop_latencies)}) for f in slow]
    r = stop_intervals.report({"slow": slow, "fast": fast}, resamples=500, seed=0,
                              pairs=[("slow", "slow"), ("fast", "slow")])
    assert r is not None
    same, gain = (p["diff"]["stop_within_150ms_share"] for p in r["pairs"])
    assert same["point"] == same["lo"] == same["hi"] == 0.0
    assert r["policies"]["fast"]["stop_within_150ms_share"]["point"] == 1.0
    assert gain["lo"] > 0.0  # every late stop made timely, in every file: sure
    assert r["pairs"][1]["diff"]["backchannel_pause_share"]["point"] == 0.0


def test_few_files_widen_the_interval_and_none_without_duplex_files() -> None:
    rng = np.random.default_rng(2)
    many = _files(rng, 200, 0.2)
    r_many = stop_intervals.report({"a": many}, resamples=1000, seed=0)
    r_few = stop_intervals.report({"a": many[:16]}, resamples=1000, seed=0)
    assert r_many is not None and r_few is not None
    width = lambda r: r["policies"]["a"]["stop_within_150ms_share"]["hi"] - r["policies"]["a"]["stop_within_150ms_share"]["lo"]  # noqa: E731
    assert width(r_few) > 2 * width(r_many)
    assert stop_intervals.report({"a": [FileScore(shifts=2)] * 5}, resamples=200) is None
    one = _files(rng, 2, 0.2)  # a single file carries the figures: no interval
    r_one = stop_intervals.report({"a": one}, resamples=200)
    assert r_one is not None and r_one["policies"]["a"]["stop_within_150ms_share"] is None


def test_the_bench_prints_them_under_its_stop_table() -> None:
    rng = np.random.default_rng(4)
    files = _files(rng, 30, 0.2)
    r = stop_intervals.report({"cadence@0.5": files, "silence-500": files}, resamples=300,
                              pairs=[("cadence@0.5", "silence-500")])
    lines = stop_interval_lines(r, ["cadence@0.5", "silence-500"])
    c = r["policies"]["cadence@0.5"]["stop_within_150ms_share"]
    row = next(x for x in lines if x.startswith("| cadence@0.5 |"))
    n = sum(f.bargeins > 0 for f in files)
    assert f"{c['point']:.3f} ({c['lo']:.3f}–{c['hi']:.3f}; {n} files)" in row
    assert "| cadence@0.5 − silence-500 | +0.000 (+0.000 … +0.000) | +0.000 (+0.000 … +0.000) |" in "\n".join(lines)
    assert any(x.startswith("With 95 % intervals over 300 resamples") for x in lines)
    assert stop_interval_lines(None, ["cadence@0.5"]) == []


def test_the_intervals_are_the_turn_taking_resamples_read_as_documented() -> None:
    """Recomputed by another path: the turn-taking intervals' own weights (``FileTable.draws``, the
    same seed), the carriers' degrees of freedom, the bias correction for a single figure only."""
    from cadence.floor import intervals

    rng = np.random.default_rng(5)
    a, b = _files(rng, 50, 0.3), _files(rng, 50, 0.1)
    r = stop_intervals.report({"a": a, "b": b}, resamples=400, seed=7, pairs=[("a", "b")])
    assert r is not None
    w, _parts = intervals.FileTable.from_scores(a).draws(400, 7)

    def samples(files: list[FileScore]) -> tuple[np.ndarray, float, int]:
        num = np.array([sum(lat <= 0.15 for lat in f.stop_latencies) for f in files], float)
        den = np.array([f.bargeins for f in files], float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (w @ num) / (w @ den), num.sum() / den.sum(), int((den > 0).sum())

    xa, pa, na = samples(a)
    xb, pb, nb = samples(b)
    got = r["policies"]["a"]["stop_within_150ms_share"]
    assert (got["lo"], got["hi"]) == intervals.bounds(xa, df=float(na - 1), point=pa)
    d = r["pairs"][0]["diff"]["stop_within_150ms_share"]
    assert (d["lo"], d["hi"]) == intervals.bounds(xa - xb, df=float(min(na, nb) - 1))
    assert d["point"] == pytest.approx(pa - pb)


def test_the_bench_reports_them_on_files_and_not_on_recorded_clips() -> None:
    from cadence.errors import InvalidArgumentError
    from cadence.floor.bench import add_intervals

    rng = np.random.default_rng(6)
    files = _files(rng, 20, 0.2)
    per_file = {"cadence@0.5": files, "silence-500": [FileScore(**vars(f)) for f in files]}
    report: dict = {}
    add_intervals(report, per_file, 200, pairs=[("cadence@0.5", "silence-500")])
    assert report["stop_intervals"]["pairs"][0]["a"] == "cadence@0.5"
    units = [("clip-a", (1, 1, 1, 1, 1, 1, 0), (0.2,)), ("clip-b", (0, 1, 0, 1, 0, 1, 1), ())]
    recorded = [FileScore(**{**vars(f), "clip_units": units}) for f in files]
    report = {}
    add_intervals(report, {"cadence@0.5": recorded}, 200)
    assert report["intervals"]["unit"] == "file × clip" and "stop_intervals" not in report
    with pytest.raises(InvalidArgumentError, match="same files"):
        stop_intervals.report({"a": files, "b": files[:5]}, resamples=200)
    with pytest.raises(InvalidArgumentError, match="'c'"):
        stop_intervals.report({"a": files}, resamples=200, pairs=[("a", "c")])
