"""Bootstrap intervals over files (`cadence/floor/intervals.py`) and where the reports show them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor import bench, intervals
from cadence.floor.intervals import METRICS, Drawn, FileTable, paired, resample_weights
from cadence.floor.scoring import FileScore, summarize, total
from cadence.floor.tune import against_first_section, score_settings


def _file(rng: np.random.Generator, shifts: int = 6, bad: float = 0.3, slow: float = 0.0,
          miss: float = 0.1) -> FileScore:
    """One file's counts: ``shifts`` turns each missed with chance ``miss``, interruptions drawn with
    chance ``bad`` in six holds, latencies ``slow`` s later."""
    answered = shifts - int(rng.binomial(shifts, miss))
    interruptions = int(rng.binomial(6, bad))
    lat = list(rng.uniform(0.1, 0.6, answered) + slow)
    return FileScore(commits=answered + interruptions, correct=answered, interruptions=interruptions,
                     shifts=shifts, answered=answered, open_shifts=shifts, open_answered=answered, latencies=lat)


def _files(n: int, seed: int, **kw: float) -> list[FileScore]:
    rng = np.random.default_rng(seed)
    return [_file(rng, **kw) for _ in range(n)]


def _drawn(scores: list[FileScore], weights: np.ndarray) -> Drawn:
    return Drawn.of(FileTable.from_scores(scores), weights)


def test_point_figures_are_the_summary_figures() -> None:
    scores = _files(40, 1)
    want = summarize(total(scores))
    drawn = _drawn(scores, resample_weights(40, 200))
    got = intervals.intervals(drawn)
    for k in METRICS:
        assert got[k]["value"] == pytest.approx(want[k], rel=1e-12)
        assert got[k]["lo"] <= got[k]["value"] <= got[k]["hi"]
        # the central share of the resamples an expanded percentile interval keeps over 40 files
        # (39 degrees of freedom), bias-corrected for the ratios, not their whole range
        assert 2.0 < intervals.tail_percent(0.95, 39) < 2.5
        assert (got[k]["lo"], got[k]["hi"]) == _want(drawn, k, 39)
        lo, hi, x = got[k]["lo"], got[k]["hi"], drawn.samples[k]
        assert x.min() <= lo < hi <= x.max() and (lo > x.min() or hi < x.max())


def _want(drawn: Drawn, k: str, df: float) -> tuple[float, ...]:
    """What ``intervals.intervals`` should read: the expanded tails, bias-corrected for a ratio."""
    tail = intervals.tail_percent(0.95, df)
    x = drawn.samples[k][np.isfinite(drawn.samples[k])]
    q = intervals.bias_corrected(x, drawn.point[k], tail) if k in intervals.BIAS_CORRECTED else (tail, 100 - tail)
    return tuple(np.percentile(x, q))


def test_bias_correction_moves_both_ends_towards_where_the_resamples_lie() -> None:
    x = np.arange(1000, dtype=np.float64)
    assert intervals.bias_corrected(x, 499.5, 2.5) == pytest.approx((2.5, 97.5))  # half under: unchanged
    lo, hi = intervals.bias_corrected(x, 299.5, 2.5)  # most resamples over the point: both ends move down
    assert 0 < lo < 2.5 and lo < hi < 97.5
    # pinned: z0 = Φ⁻¹(0.3) = −0.524, z = 1.960; Φ(2·z0 ∓ z) = Φ(−3.009), Φ(0.911)
    assert (lo, hi) == pytest.approx((0.1312, 81.890), abs=1e-3)
    lo2, hi2 = intervals.bias_corrected(x, 699.5, 2.5)
    assert (lo2, hi2) == pytest.approx((100 - hi, 100 - lo))  # the mirror image
    # the point over every resample: the share is held at 1 − 0.5 / n, so the interval sits at the
    # top of the sample and leaves the point out (a point outside all its resamples is rare)
    assert intervals.bias_corrected(x, 1e6, 2.5)[0] > 90
    # ties with the point count half: 100 of 1000 under and 900 tied read a share of 0.55
    assert intervals.bias_corrected(np.r_[np.full(900, 1.0), np.linspace(0.9, 0.99, 100)], 1.0, 2.5) \
        == pytest.approx((4.376, 98.649), abs=1e-3)
    assert intervals.bias_corrected(np.full(50, 1.0), 1.0, 2.5) == pytest.approx((2.5, 97.5))
    # a right-skewed sample lies mostly under its mean: both ends move up; the latencies keep plain tails
    skewed = np.random.default_rng(0).lognormal(0.0, 1.0, 4000)
    plain, bc = intervals.bounds(skewed), intervals.bounds(skewed, point=float(np.exp(0.5)))
    assert plain is not None and bc is not None and bc[0] > plain[0] and bc[1] > plain[1]
    assert intervals.BIAS_CORRECTED == {"precision", "recall", "recall_open", "interruptions_per_100_turns"}


def test_paired_differences_keep_the_expanded_tails() -> None:
    """The bias correction is for a ratio's own interval; a paired difference keeps the expanded
    percentiles (corrected, pairs that do not differ were marked too often: floor.md)."""
    a, b = _files(30, 7), _files(30, 8, bad=0.5)
    w = resample_weights(30, 400, seed=2)
    da, db = _drawn(a, w), _drawn(b, w)
    d = paired(da, db)
    tail = intervals.tail_percent(0.95, 29)
    moved = 0
    for k in METRICS:
        diff = da.samples[k] - db.samples[k]
        diff = diff[np.isfinite(diff)]
        assert (d[k]["lo"], d[k]["hi"]) == pytest.approx(tuple(np.percentile(diff, [tail, 100 - tail])))
        if k in intervals.BIAS_CORRECTED:
            q = intervals.bias_corrected(diff, da.point[k] - db.point[k], tail)
            moved += tuple(np.percentile(diff, q)) != pytest.approx((d[k]["lo"], d[k]["hi"]))
    assert moved  # the correction would have moved at least one: the check above can tell


def test_a_resample_reads_its_latency_quantiles_as_numpy_does_on_the_expanded_sample() -> None:
    scores = _files(25, 2)
    table = FileTable.from_scores(scores)
    weights = resample_weights(25, 30, seed=5)
    samples = intervals.metric_samples(table, weights)
    for r, w in enumerate(weights):
        expanded = np.concatenate([np.repeat(s.latencies, k) for s, k in zip(scores, w)])
        assert samples["latency_median_ms"][r] == pytest.approx(1e3 * np.median(expanded), rel=1e-12)
        assert samples["latency_p90_ms"][r] == pytest.approx(1e3 * np.percentile(expanded, 90), rel=1e-12)
        interruptions = sum(s.interruptions * k for s, k in zip(scores, w))
        assert samples["interruptions_per_100_turns"][r] == pytest.approx(100 * interruptions / (6 * 25))


def test_resampling_is_seeded_and_draws_every_file_count() -> None:
    w = resample_weights(30, 50, seed=3)
    assert w.shape == (50, 30) and (w.sum(axis=1) == 30).all()
    assert (resample_weights(30, 50, seed=3) == w).all() and not (resample_weights(30, 50, seed=4) == w).all()
    for bad in (-1, 1.5, True, "10", 1, 99):  # one resample cannot place a 95 % interval
        with pytest.raises(InvalidArgumentError, match="resamples"):
            intervals.check_resamples(bad)
    intervals.check_resamples(0)
    intervals.check_resamples(100)
    with pytest.raises(InvalidArgumentError):
        resample_weights(0, 10)
    with pytest.raises(InvalidArgumentError, match="no files"):
        FileTable.from_scores([])


def test_a_clear_gain_is_sure_and_a_coin_flip_is_not() -> None:
    weights = resample_weights(60, 1000)
    base = _drawn(_files(60, 7, bad=0.4), weights)
    better = _drawn(_files(60, 8, bad=0.1, slow=-0.05), weights)  # other files' noise, far fewer cut-ins
    same = _drawn(_files(60, 7, bad=0.4), weights)
    d = paired(better, base)
    assert d["interruptions_per_100_turns"]["better"] and not d["interruptions_per_100_turns"]["worse"]
    assert d["interruptions_per_100_turns"]["hi"] < 0 and d["precision"]["lo"] > 0 and d["precision"]["better"]
    assert d["latency_median_ms"]["better"]
    assert paired(base, better)["interruptions_per_100_turns"]["worse"]
    # the same decisions: every difference is exactly 0, neither better nor worse
    for k, v in paired(same, base).items():
        assert (v["diff"], v["lo"], v["hi"], v["better"], v["worse"]) == (0.0, 0.0, 0.0, False, False), k
    assert intervals.not_surely_better(paired(same, base)) == list(METRICS)
    # one interruption fewer in one file of 60 is no sure gain
    nudged = _files(60, 7, bad=0.4)
    k = next(i for i, s in enumerate(nudged) if s.interruptions)
    nudged[k].interruptions -= 1
    nudged[k].commits -= 1
    d = paired(_drawn(nudged, weights), base)
    assert d["interruptions_per_100_turns"]["diff"] < 0 and not d["interruptions_per_100_turns"]["better"]
    assert d["interruptions_per_100_turns"]["lo"] < 0 <= d["interruptions_per_100_turns"]["hi"]


def test_a_figure_the_baseline_leaves_undefined_does_not_count_against_a_contender() -> None:
    # no open shift anywhere: recall over the open shifts is undefined for both, as bench.dominance reads it
    closed = [FileScore(**{**vars(s), "open_shifts": 0, "open_answered": 0}) for s in _files(30, 1, bad=0.5, slow=0.4)]
    better = [FileScore(**{**vars(s), "open_shifts": 0, "open_answered": 0})
              for s in _files(30, 2, bad=0.05, miss=0.0)]
    rep = intervals.report({"silence-500": closed, "cadence@0.5": better}, ["silence-500", "cadence@0.5"],
                           ["silence-500"], ["cadence@0.5"], 300)
    assert rep["against"]["silence-500"]["cadence@0.5"] == []
    assert rep["policies"]["cadence@0.5"]["recall_open"]["value"] is None


def test_undefined_figures_have_no_interval() -> None:
    silent = [FileScore(shifts=3, open_shifts=3) for _ in range(5)]  # never commits
    got = intervals.intervals(_drawn(silent, resample_weights(5, 50)))
    assert got["latency_median_ms"] == {"value": None, "lo": None, "hi": None, "df": 4.0}
    assert got["precision"] == {"value": None, "lo": None, "hi": None, "df": 4.0}
    assert got["recall"] == {"value": 0.0, "lo": 0.0, "hi": 0.0, "df": 4.0}
    d = paired(_drawn(_files(5, 1), resample_weights(5, 50)), _drawn(silent, resample_weights(5, 50)))
    assert d["latency_median_ms"]["diff"] is None and not d["latency_median_ms"]["better"]
    assert d["recall"]["better"]


def test_one_file_has_no_interval_and_no_sure_difference() -> None:
    """Every resample of one file is that file: the interval read zero wide, and a difference
    was marked sure on one file's say."""
    one = _files(1, 1)
    other = _files(1, 2, bad=0.9, slow=0.9)
    w = resample_weights(1, 100)
    got = intervals.intervals(_drawn(one, w))
    assert all(v["lo"] is None and v["hi"] is None for v in got.values())
    assert got["recall"]["value"] is not None
    d = paired(_drawn(one, w), _drawn(other, w))
    assert not any(v["better"] or v["worse"] for v in d.values())
    assert d["precision"]["diff"] is not None and d["precision"]["lo"] is None


def test_a_figure_one_file_carries_has_no_interval_on_a_larger_split() -> None:
    """Only one of 20 files has open shifts: recall over them is that file's say alone."""
    from dataclasses import replace

    def one_open(files: list[FileScore], answered: int) -> list[FileScore]:
        return [replace(f, open_shifts=3 if i == 0 else 0, open_answered=answered if i == 0 else 0)
                for i, f in enumerate(files)]

    w = resample_weights(20, 200)
    a, b = _drawn(one_open(_files(20, 1), 3), w), _drawn(one_open(_files(20, 1), 2), w)
    got = intervals.intervals(a)
    assert got["recall_open"]["value"] == 1.0 and got["recall_open"]["lo"] is None
    assert got["recall"]["lo"] is not None  # carried by every file
    d = paired(a, b)
    assert d["recall_open"]["diff"] == pytest.approx(1 / 3) and not d["recall_open"]["better"]


def test_on_recorded_clips_a_figure_needs_two_files_and_two_clips() -> None:
    """12 files of 8 clips each; a figure carried by one file's 8 clips is that file's say."""
    from cadence.floor.scoring import UNIT_COUNTS

    cells = [(f, c) for f in range(12) for c in range(8)]

    def table(carriers: set[int]) -> FileTable:
        counts = np.array([[{"correct": 2, "commits": 3, "answered": 1, "shifts": 1, "interruptions": 1,
                             "open_shifts": 2 if f in carriers else 0,
                             "open_answered": 1 + c % 2 if f in carriers else 0}[k] for k in UNIT_COUNTS]
                           for f, c in cells], np.int64)
        return FileTable.from_cells(counts, np.full(len(cells), 0.3), np.arange(len(cells)),
                                    np.array([f for f, _ in cells]), np.array([c for _, c in cells]),
                                    "file × clip")

    assert not table({0}).varies("recall_open") and table({0}).varies("recall")
    assert table({0, 5}).varies("recall_open")
    one_file = FileTable.from_cells(table({0}).counts[:8], np.full(8, 0.3), np.arange(8),
                                    np.zeros(8, np.int64), np.arange(8), "file × clip")
    assert one_file.varies("recall_open")  # a split of one file: its clips are the units


def test_the_report_compares_contenders_with_baselines_on_the_same_files() -> None:
    per_file = {"silence-500": _files(30, 1, bad=0.5, slow=0.4, miss=0.3), "cadence@0.5": _files(30, 2, bad=0.1, miss=0.0),
                "cadence@1": _files(30, 1, bad=0.5, slow=0.4, miss=0.3)}
    rep = intervals.report(per_file, list(per_file), ["silence-500"], ["cadence@0.5", "cadence@1"], 300)
    assert rep["resamples"] == 300 and rep["unit"] == "file" and set(rep["policies"]) == set(per_file)
    assert rep["against"]["silence-500"]["cadence@0.5"] == []  # surely better on all six
    assert rep["against"]["silence-500"]["cadence@1"] == list(METRICS)  # the same figures
    with pytest.raises(InvalidArgumentError, match="same files"):
        intervals.report({"a": _files(3, 1), "b": _files(4, 1)}, ["a", "b"], ["a"], ["b"])
    # the bench's table: the sure winners, else the closest setting and what may be chance
    summary = {lb: summarize(total(fs)) for lb, fs in per_file.items()}
    text = "\n".join(bench.dominance_section(summary, list(per_file), rep))
    assert "| silence-500 | cadence@0.5 |  | cadence@0.5 |  |" in text and "95 % confidence" in text
    rep["against"]["silence-500"]["cadence@0.5"] = ["recall"]
    text = "\n".join(bench.dominance_section(summary, list(per_file), rep))
    assert "| silence-500 | cadence@0.5 |  | – | cadence@0.5: recall |" in text
    section = "\n".join(bench.interval_section(rep, list(per_file)))
    lo, hi = (rep["policies"]["cadence@0.5"]["precision"][k] for k in ("lo", "hi"))
    assert f"({lo:.3f}–{hi:.3f})" in section and "300 resamples" in section
    assert bench.interval_section(None, list(per_file)) == []


def test_tune_shows_each_setting_against_the_first() -> None:
    pytest.importorskip("soundfile")
    from floor_speech import ESPEAK, frames_of, render

    if ESPEAK is None:
        pytest.skip("espeak-ng not installed")
    from cadence.floor.features import FloorFeaturizer
    from cadence.floor.model import FloorModel

    audio, spans = render([("I think that", 0.7), ("it will rain tomorrow.", 2.0), ("Okay?", 2.0)])
    entry = {"audio": "x.wav", "events": [
        {"type": "hold", "start": spans[0][1], "end": spans[1][0]},
        {"type": "shift", "t": spans[1][1]}, {"type": "shift", "t": spans[2][1]}]}
    x = FloorFeaturizer().process(frames_of(audio))
    data = [(x, FloorModel().process(x), entry)] * 3
    plain = score_settings(data, {"patience": [0.0, 1.0, 0.0]}, jobs=1)
    rows = score_settings(data, {"patience": [0.0, 1.0, 0.0]}, jobs=2, resamples=100)
    assert [r[1]["latency_median_ms"] for r in rows] == [r[1]["latency_median_ms"] for r in plain]
    assert "against_first" not in rows[0][1] and "intervals" in rows[0][1] and "intervals" not in plain[0][1]
    slower = rows[1][1]["against_first"]["latency_median_ms"]
    assert slower["diff"] == pytest.approx(rows[1][1]["latency_median_ms"] - rows[0][1]["latency_median_ms"])
    assert slower["diff"] > 0 and not slower["better"]
    assert not any(v["better"] or v["worse"] or v["diff"] for v in rows[2][1]["against_first"].values())
    table = {f"patience={s['patience']:g}#{i}": m for i, (s, m) in enumerate(rows)}
    text = "\n".join(against_first_section(table, list(table), 100))
    assert "Against the first setting (patience=0#0)" in text and "| patience=1#1 | +" in text
    assert rows[0][1]["resample_unit"] == "file" and "resamples of the files" in text
    assert "stop_intervals" not in rows[0][1]  # no barge-ins, backchannels or persona: nothing to read
    # a barge-in label (no persona plays here, so no policy stops it): the pause stage's figures
    # get intervals and paired differences from the first setting, on the same resamples
    barged = {**entry, "events": [*entry["events"], {"type": "bargein", "t": spans[2][0]}]}
    rows_b = score_settings([(x, p, barged) for x, p, _e in data], {"patience": [0.0, 1.0]}, jobs=1, resamples=100)
    stop = rows_b[0][1]["stop_intervals"]["stop_within_150ms_share"]
    assert stop is not None and stop["files"] == 3 and stop["point"] == rows_b[0][1]["stop_within_150ms_share"]
    d = rows_b[1][1]["stop_against_first"]["stop_within_150ms_share"]
    assert d["point"] == d["lo"] == d["hi"] == 0.0 and "stop_against_first" not in rows_b[0][1]
    table_b = {f"patience={s['patience']:g}": m for s, m in rows_b}
    text_b = "\n".join(against_first_section(table_b, list(table_b), 100))
    assert "The pause stage's figures against the first setting" in text_b
    assert "| patience=1 | +0.000 (+0.000 … +0.000) |" in text_b
    # the same files as recorded clips: the two turn ends are two clips heard in all three files
    recorded = {**entry, "meta": {"voice": "recorded:test", "segments": [
        [spans[0][0], spans[1][1], "I think that it will rain tomorrow.", "final"], [*spans[2], "Okay?", "final"]]}}
    rows = score_settings([(x, p, recorded) for x, p, _e in data], {"patience": [0.0, 1.0]}, jobs=1, resamples=100)
    assert rows[0][1]["resample_unit"] == "file × clip"
    assert "stop_intervals" not in rows[0][1]
    table = {f"patience={s['patience']:g}": m for s, m in rows}
    assert "resamples of the files and recorded clips" in "\n".join(against_first_section(table, list(table), 100))
    assert against_first_section({k: v for k, v in table.items() if "#0" in k}, ["patience=0#0"], 100) == []
    with pytest.raises(InvalidArgumentError, match="resamples"):
        score_settings(data, {"patience": [0.5]}, resamples=-1)


def _two_quiet_files(folder: Path) -> None:
    """A split of two 1 s silent files, a turn end at 0.5 s in each."""
    import soundfile as sf

    from cadence.floor.protocol import RATE

    for name in ("a.wav", "b.wav"):
        sf.write(folder / name, np.zeros(RATE, np.float32), RATE, subtype="PCM_16")
    (folder / "manifest.jsonl").write_text("\n".join(
        f'{{"audio": "{n}", "events": [{{"type": "shift", "t": 0.5}}]}}' for n in ("a.wav", "b.wav")))


def test_bench_report_holds_intervals_unless_asked_not_to(tmp_path: Path) -> None:
    _two_quiet_files(tmp_path)
    specs = bench.parse_policies("silence-200,silence-500", None)
    rep = bench.run_bench(str(tmp_path), specs, jobs=1, resamples=100)
    assert rep["intervals"]["resamples"] == 100 and set(rep["intervals"]["policies"]) == {"silence-200", "silence-500"}
    for lb in ("silence-200", "silence-500"):
        for k in METRICS:
            assert rep["intervals"]["policies"][lb][k]["value"] == rep["summary"][lb][k]
    assert "## How sure" in bench.render_markdown(rep)
    assert "intervals" not in bench.run_bench(str(tmp_path), specs, jobs=1, resamples=0)
    with pytest.raises(InvalidArgumentError, match="resamples"):  # before the run
        bench.run_bench(str(tmp_path / "missing"), specs, resamples=-2)


def test_pairs_are_compared_on_request() -> None:
    per_file = {"silence-500": _files(30, 1, bad=0.5, slow=0.4, miss=0.3), "cadence@0.5": _files(30, 2, bad=0.1)}
    rep = intervals.report(per_file, list(per_file), ["silence-500"], ["cadence@0.5"], 300,
                           pairs=[("cadence@0.5", "silence-500")])
    (pair,) = rep["pairs"]
    assert (pair["a"], pair["b"]) == ("cadence@0.5", "silence-500")
    d = pair["diff"]["interruptions_per_100_turns"]
    assert d["better"] and d["lo"] <= d["diff"] <= d["hi"] < 0
    text = "\n".join(bench.pairs_section(rep))
    row = next(ln for ln in text.splitlines() if ln.startswith("| cadence@0.5 − silence-500 |"))
    assert row.count("✓") == 6 and f"{d['diff']:+.1f} ({d['lo']:+.1f} … {d['hi']:+.1f}) ✓" in row
    assert bench.pairs_section(intervals.report(per_file, list(per_file), [], [], 50)) == []
    with pytest.raises(InvalidArgumentError, match="no policy 'cadence@1'"):
        intervals.report(per_file, list(per_file), [], [], 50, pairs=[("cadence@1", "silence-500")])
    assert bench.parse_pairs(["cadence@0.5:silence-500", "a/b=1@0.5:c"]) == [
        ("cadence@0.5", "silence-500"), ("a/b=1@0.5", "c")]
    for bad in ("cadence@0.5", ":b", "a:"):
        with pytest.raises(InvalidArgumentError, match="A:B"):
            bench.parse_pairs([bad])


def test_bench_and_score_compare_the_policies_they_ran(tmp_path: Path) -> None:
    import json

    from cadence.floor import score

    _two_quiet_files(tmp_path)
    specs = bench.parse_policies("silence-200,silence-500", None)
    with pytest.raises(InvalidArgumentError, match="no policy 'silence-800' to compare in this run"):  # before the run
        bench.run_bench(str(tmp_path), specs, pairs=[("silence-800", "silence-200")])
    with pytest.raises(InvalidArgumentError, match="resamples > 0"):
        bench.run_bench(str(tmp_path), specs, resamples=0, pairs=[("silence-500", "silence-200")])
    rep = bench.run_bench(str(tmp_path), specs, jobs=1, resamples=100, pairs=[("silence-500", "silence-200")])
    assert [(p["a"], p["b"]) for p in rep["intervals"]["pairs"]] == [("silence-500", "silence-200")]
    out = tmp_path / "d.json"
    out.write_text(json.dumps(rep))
    md = tmp_path / "s.md"
    assert score.main(["--corpus", str(tmp_path), "--decisions", str(out), "--resamples", "100",
                       "--compare", "silence-500:silence-200", "--markdown", str(md)]) == 0
    assert "| silence-500 − silence-200 |" in md.read_text()
    assert score.main(["--corpus", str(tmp_path), "--decisions", str(out), "--compare", "nope:silence-200"]) == 2


def test_the_expanded_percentile_leaves_out_less_the_fewer_the_degrees_of_freedom() -> None:
    assert intervals.tail_percent(0.95) == pytest.approx(2.5)
    tails = [intervals.tail_percent(0.95, df) for df in (3, 7, 11, 39, 149, 10**6)]
    assert tails == sorted(tails) and tails[-1] == pytest.approx(2.5, abs=1e-3)
    # 12 files: the normal quantile of sqrt(12/11) * t(11)'s 97.5th percentile, 2.299
    assert intervals.tail_percent(0.95, 11) == pytest.approx(1.0757, abs=1e-3)
    assert intervals.tail_percent(0.9, 11) > intervals.tail_percent(0.95, 11)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(InvalidArgumentError, match="degrees of freedom"):
            intervals.tail_percent(0.95, bad)
    x = np.arange(1001, dtype=np.float64)
    assert intervals.bounds(x) == pytest.approx((25.0, 975.0))
    lo, hi = intervals.bounds(x, 0.95, 11)
    assert lo == pytest.approx(10.757, abs=0.01) and hi == pytest.approx(1000 - 10.757, abs=0.01)


def test_a_split_of_files_reads_files_less_one_degrees_of_freedom() -> None:
    scores = _files(12, 4)
    drawn = _drawn(scores, resample_weights(12, 300))
    assert (drawn.files, drawn.clips, drawn.by_files) == (12, 0, None)
    got = intervals.intervals(drawn)
    for k in METRICS:
        assert got[k]["df"] == drawn.dof(k) == 11.0
        assert (got[k]["lo"], got[k]["hi"]) == _want(drawn, k, 11)
    d = paired(drawn, _drawn(_files(12, 5), resample_weights(12, 300)))
    assert all(d[k]["df"] == 11.0 for k in METRICS)
    assert intervals.dof(1, 0) == 1.0  # one file: no fewer than one
