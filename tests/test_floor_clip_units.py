"""On splits of recorded clips the bootstrap draws files and clips (`FileScore.clip_units`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor import bench, intervals
from cadence.floor.intervals import METRICS, Drawn, FileTable, paired, resample_weights
from cadence.floor.protocol import Decision
from cadence.floor.scoring import UNIT_COUNTS, FileLabels, labels_from_manifest, score_file

CLIPS = ("Front Left", "Front Right", "Rear Left", "Rear Right")


def _entry(order: list[str], voice: str = "recorded:alsa") -> dict:
    """A file of ``order``'s clips, 2 s each with a 0.3 s hold in the middle and 2 s between."""
    events, segments = [], []
    for k, clip in enumerate(order):
        s = 1.0 + 4.0 * k
        events += [{"type": "hold", "start": s + 0.8, "end": s + 1.1}, {"type": "shift", "t": s + 2.0}]
        segments.append([s, s + 2.0, clip, "final"])
    return {"audio": "a.wav", "events": events, "meta": {"voice": voice, "segments": segments}}


def _decide(labels: FileLabels, order: list[str]) -> list[Decision]:
    """Answer each turn 0.3 s late, and cut into the hold of the 'Rear' clips' turns."""
    out = []
    for t, (s, _e), clip in zip(labels.shifts, labels.holds, order):
        out.append(Decision("commit", t + 0.3))
        if clip.startswith("Rear"):
            out.append(Decision("commit", s + 0.1))
    out.append(Decision("commit", labels.shifts[-1] + 5.0))  # past every window: spurious
    return out


def _scores(files: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(files):
        order = list(rng.permutation(CLIPS))
        labels = labels_from_manifest(_entry(order))
        out.append(score_file(_decide(labels, order), labels))
    return out


def test_recorded_files_name_the_clip_each_turn_ends_with() -> None:
    labels = labels_from_manifest(_entry(["Rear Left", "Front Left"]))
    assert labels.clips == ("recorded:alsa: Rear Left", "recorded:alsa: Front Left")
    # the same words in another recorded voice are another clip (the call's two "Hello?")
    assert labels_from_manifest(_entry(["Rear Left"], voice="recorded:phone-Sheila")).clips \
        == ("recorded:phone-Sheila: Rear Left",)
    assert labels_from_manifest(_entry(["Rear Left"], voice="espeak:en")).clips is None
    entry = _entry(["Rear Left", "Front Left"])
    entry["events"][1]["t"] += 0.2  # no segment ends near this shift
    assert labels_from_manifest(entry).clips == (None, "recorded:alsa: Front Left")
    with pytest.raises(InvalidArgumentError, match="one entry per shift"):
        FileLabels((1.0, 2.0), clips=("a",))


def test_a_files_clip_units_sum_to_its_counts() -> None:
    order = ["Rear Left", "Front Left", "Rear Right"]
    labels = labels_from_manifest(_entry(order))
    sc = score_file(_decide(labels, order), labels)
    assert [u[0] for u in sc.clip_units] == [*(f"recorded:alsa: {c}" for c in order), None]
    sums = np.sum([u[1] for u in sc.clip_units], axis=0)
    assert dict(zip(UNIT_COUNTS, sums.tolist())) == {k: getattr(sc, k) for k in UNIT_COUNTS}
    assert sc.interruptions == 2 and sc.commits == 6
    rear = dict((u[0], u) for u in sc.clip_units)["recorded:alsa: Rear Left"]
    assert rear[1][UNIT_COUNTS.index("interruptions")] == 1 and rear[2] == pytest.approx((0.3,))
    assert sc.clip_units[-1][1][UNIT_COUNTS.index("commits")] == 1  # the spurious commit past the windows
    # a synthetic file keeps no units
    synthetic = labels_from_manifest(_entry(order, voice="piper:joe"))
    assert score_file(_decide(synthetic, order), synthetic).clip_units == []


def test_a_clip_heard_in_every_file_is_drawn_as_one() -> None:
    scores = _scores(12)
    table = FileTable.from_scores(scores)
    assert table.unit == "file × clip" and (table.files, table.clips) == (12, len(CLIPS))
    assert table.cells == 12 * (len(CLIPS) + 1)  # each file's clips, and its remainder
    by_file = FileTable.from_scores([replace(s, clip_units=[]) for s in scores])
    assert by_file.unit == "file" and by_file.files == by_file.cells == 12 and by_file.clips == 0
    # every cell once reads the point figures, whichever the unit
    a = Drawn.of(table, np.ones((1, table.cells), np.int64))
    b = Drawn.of(by_file, np.ones((1, 12), np.int64))
    for k in METRICS:
        assert a.point[k] == pytest.approx(b.point[k])
    # every file holds the same clips with the same outcome: drawing files cannot move the
    # interruptions, drawing clips can (half the clips are cut into)
    ci_file = intervals.intervals(Drawn.of(by_file, by_file.weights(500)))["interruptions_per_100_turns"]
    ci_clip = intervals.intervals(Drawn.of(table, table.weights(500)))["interruptions_per_100_turns"]
    assert ci_file["lo"] == ci_file["hi"] == pytest.approx(50.0)
    assert ci_clip["lo"] < 40.0 and ci_clip["hi"] > 60.0
    assert np.array_equal(by_file.weights(50, seed=3), resample_weights(12, 50, seed=3))  # as before


def test_files_that_differ_move_the_interval_too() -> None:
    """The same clips, but half the files are cut into on every turn (a noisy room): drawing
    the clips alone cannot move that, drawing the files can."""
    scores = []
    for f in range(12):
        order = list(CLIPS)
        labels = labels_from_manifest(_entry(order))
        decisions = [Decision("commit", t + 0.3) for t in labels.shifts]
        if f % 2:
            decisions += [Decision("commit", s + 0.1) for s, _e in labels.holds]
        scores.append(score_file(decisions, labels))
    table = FileTable.from_scores(scores)
    w = table.weights(1000)
    assert w.shape == (1000, table.cells) and (w.sum(axis=1) > 0).all()
    ci = intervals.intervals(Drawn.of(table, w))["interruptions_per_100_turns"]
    assert ci["value"] == pytest.approx(50.0) and ci["lo"] < 30.0 and ci["hi"] > 70.0
    files_only = FileTable.from_scores([replace(s, clip_units=[]) for s in scores])
    ci_files = intervals.intervals(Drawn.of(files_only, files_only.weights(1000)))["interruptions_per_100_turns"]
    assert ci["hi"] - ci["lo"] >= ci_files["hi"] - ci_files["lo"] - 1e-9
    # the clips alone (every cell of one file, as coverage.ways draws them) cannot move it
    clips_only = replace(table, cell_file=np.zeros(table.cells, np.int64), unit="clip")
    ci_clips = intervals.intervals(Drawn.of(clips_only, clips_only.weights(1000)))["interruptions_per_100_turns"]
    assert ci_clips["lo"] == ci_clips["hi"] == pytest.approx(50.0)


def test_a_recorded_split_where_no_turn_ends_a_clip_resamples_files() -> None:
    scores = []
    for _ in range(4):
        entry = _entry(list(CLIPS))
        for e in entry["events"]:
            if e["type"] == "shift":
                e["t"] += 0.2  # no segment ends near any shift: every unit is the file's own
        labels = labels_from_manifest(entry)
        scores.append(score_file([Decision("commit", t + 0.3) for t in labels.shifts], labels))
    assert all(k is None for s in scores for k, _c, _l in s.clip_units)
    table = FileTable.from_scores(scores)
    assert table.unit == "file" and table.files == table.cells == 4 and table.clips == 0
    rep = intervals.report({"a": scores, "b": scores}, ["a", "b"], ["b"], ["a"], resamples=200)
    assert rep["unit"] == "file" and "clips" not in rep
    assert "intervals over the files" in "\n".join(bench.interval_section(rep, ["a", "b"]))


def test_one_synthetic_file_makes_the_split_resample_files() -> None:
    scores = _scores(3)
    order = list(CLIPS)
    synthetic = labels_from_manifest(_entry(order, voice="piper:joe"))
    table = FileTable.from_scores([*scores, score_file(_decide(synthetic, order), synthetic)])
    assert table.unit == "file" and table.files == table.cells == 4


def test_the_report_and_its_markdown_say_files_and_clips_are_drawn() -> None:
    scores = _scores(6)
    other = _scores(6)  # the same clips and files, another policy
    rep = intervals.report({"cadence@0.5": scores, "silence-500": other}, ["cadence@0.5", "silence-500"],
                           ["silence-500"], ["cadence@0.5"], resamples=200, pairs=[("cadence@0.5", "silence-500")])
    assert rep["unit"] == "file × clip" and (rep["files"], rep["clips"]) == (6, len(CLIPS))
    text = "\n".join(bench.interval_section(rep, ["cadence@0.5", "silence-500"]))
    assert "intervals over the files and the recorded clips" in text and f"its {len(CLIPS)} recorded clips" in text
    assert "resamples of the files and recorded clips for both" in "\n".join(bench.pairs_section(rep))
    with pytest.raises(InvalidArgumentError, match="same files"):
        intervals.report({"a": scores, "b": scores[:5]}, ["a", "b"], ["b"], ["a"], resamples=200)


def test_a_recorded_split_reads_satterthwaite_degrees_of_freedom_from_its_two_draws() -> None:
    scores = _scores(12)
    table = FileTable.from_scores(scores)
    parts = table.factor_weights(400, seed=2)
    assert parts is not None
    w_files, w_clips = parts
    assert np.array_equal(w_files * w_clips, table.weights(400, seed=2))  # the same draws, bit for bit
    assert np.array_equal(w_files, resample_weights(12, 400, seed=2)[:, table.cell_file])
    assert (w_clips[:, table.cell_clip < 0] == 1).all()  # what no clip owns moves with its file alone
    by_file = FileTable.from_scores([replace(s, clip_units=[]) for s in scores])
    assert by_file.factor_weights(400) is None
    # the formula: only the files move a figure -> files - 1, only the clips -> clips - 1, both
    # alike -> between the smaller count's and both counts' less two
    ones, zeros = np.array([0.0, 2.0] * 50), np.zeros(100)
    assert intervals.dof(12, 8, (ones, zeros)) == pytest.approx(11.0)
    assert intervals.dof(12, 8, (zeros, ones)) == pytest.approx(7.0)
    assert 7.0 < intervals.dof(12, 8, (ones, ones)) <= 18.0
    assert intervals.dof(12, 8, (zeros, zeros)) == intervals.dof(12, 8) == 7.0  # nothing to read: the fewer
    assert intervals.dof(1, 8) == 7.0  # the clips alone
    # every file holds the same clips with the same outcome: only the clips move the interruptions
    drawn = Drawn.of(table, table.weights(400, seed=2), parts)
    assert drawn.by_files is not None and drawn.by_clips is not None
    k = "interruptions_per_100_turns"
    assert float(np.var(drawn.by_files[k])) == 0.0 and float(np.var(drawn.by_clips[k])) > 0.0
    ci = intervals.intervals(drawn)[k]
    assert ci["df"] == pytest.approx(len(CLIPS) - 1.0)
    plain = intervals.bounds(drawn.samples[k])
    assert plain is not None and ci["lo"] <= plain[0] and ci["hi"] >= plain[1]  # holds the plain percentiles
    # without its draws a recorded split reads the fewer units' degrees of freedom
    assert intervals.intervals(Drawn.of(table, table.weights(400, seed=2)))[k]["df"] == len(CLIPS) - 1.0
    with pytest.raises(InvalidArgumentError, match="factors must be the two draws"):
        Drawn.of(table, table.weights(400, seed=2), (w_files[:10], w_clips[:10]))
    # a paired difference reads its own draws; the same policy twice leaves none to read: the fewer units'
    other = Drawn.of(table, table.weights(400, seed=2), parts)
    assert paired(drawn, other)[k]["df"] == len(CLIPS) - 1.0


def _both_move(files: int = 12, cut_noisy: bool = True) -> list:
    """Files and clips both move the interruptions: the 'Rear Left' turn is cut into in every
    file, and (``cut_noisy``) in every other file both 'Front' turns too (a noisy room)."""
    rng = np.random.default_rng(3)
    out = []
    for f in range(files):
        order = list(rng.permutation(CLIPS))
        labels = labels_from_manifest(_entry(order))
        cut = {"Rear Left"} | ({"Front Left", "Front Right"} if cut_noisy and f % 2 else set())
        decisions = [Decision("commit", t + 0.3) for t in labels.shifts]
        decisions += [Decision("commit", s + 0.1) for (s, _e), c in zip(labels.holds, order) if c in cut]
        out.append(score_file(sorted(decisions, key=lambda d: d.t), labels))
    return out


def test_satterthwaite_degrees_of_freedom_reach_the_report_and_its_pairs() -> None:
    k = "interruptions_per_100_turns"
    a, b = _both_move(), _both_move(cut_noisy=False)
    table = FileTable.from_scores(a)
    fallback = intervals.dof(table.files, table.clips)  # 3: four clips
    drawn = Drawn.of(table, table.weights(400), table.factor_weights(400))
    df = drawn.dof(k)
    assert fallback + 0.5 < df <= table.files + table.clips - 2
    rep = intervals.report({"a": a, "b": b}, ["a", "b"], ["b"], ["a"], resamples=400, pairs=[("a", "b")])
    assert rep["policies"]["a"][k]["df"] == pytest.approx(df)
    tail = intervals.tail_percent(0.95, df)
    lo, hi = np.percentile(drawn.samples[k], intervals.bias_corrected(drawn.samples[k], drawn.point[k], tail))
    assert (rep["policies"]["a"][k]["lo"], rep["policies"]["a"][k]["hi"]) == pytest.approx((lo, hi))
    # a minus b is the noisy files' cuts alone: the files move it more than they move a (df 5.3
    # against 4.0); the fallback would read 3 for both
    pair = rep["pairs"][0]["diff"][k]
    assert pair["df"] > fallback + 1.0 and abs(pair["df"] - df) > 1.0
    assert intervals.draw_all([table, FileTable.from_scores(b)], 400)[0].dof(k) == pytest.approx(df)
    with pytest.raises(InvalidArgumentError, match="same files"):
        intervals.draw_all([table, FileTable.from_scores(a[:6])], 400)
