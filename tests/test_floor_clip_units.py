"""On splits of recorded clips the bootstrap draws clips, not files (`FileScore.clip_units`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cadence.errors import InvalidArgumentError
from cadence.floor import bench, intervals
from cadence.floor.intervals import METRICS, Drawn, FileTable, resample_weights
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
    assert labels.clips == ("Rear Left", "Front Left")
    assert labels_from_manifest(_entry(["Rear Left"], voice="espeak:en")).clips is None
    entry = _entry(["Rear Left", "Front Left"])
    entry["events"][1]["t"] += 0.2  # no segment ends near this shift
    assert labels_from_manifest(entry).clips == (None, "Front Left")
    with pytest.raises(InvalidArgumentError, match="one entry per shift"):
        FileLabels((1.0, 2.0), clips=("a",))


def test_a_files_clip_units_sum_to_its_counts() -> None:
    order = ["Rear Left", "Front Left", "Rear Right"]
    labels = labels_from_manifest(_entry(order))
    sc = score_file(_decide(labels, order), labels)
    assert [u[0] for u in sc.clip_units] == [*order, None]
    sums = np.sum([u[1] for u in sc.clip_units], axis=0)
    assert dict(zip(UNIT_COUNTS, sums.tolist())) == {k: getattr(sc, k) for k in UNIT_COUNTS}
    assert sc.interruptions == 2 and sc.commits == 6
    rear = dict((u[0], u) for u in sc.clip_units)["Rear Left"]
    assert rear[1][UNIT_COUNTS.index("interruptions")] == 1 and rear[2] == pytest.approx((0.3,))
    assert sc.clip_units[-1][1][UNIT_COUNTS.index("commits")] == 1  # the spurious commit past the windows
    # a synthetic file keeps no units
    synthetic = labels_from_manifest(_entry(order, voice="piper:joe"))
    assert score_file(_decide(synthetic, order), synthetic).clip_units == []


def test_a_clip_heard_in_every_file_is_drawn_as_one() -> None:
    scores = _scores(12)
    table = FileTable.from_scores(scores)
    assert table.unit == "clip" and table.files == len(CLIPS) + 12  # the clips, and each file's remainder
    by_file = FileTable.from_scores([replace(s, clip_units=[]) for s in scores])
    assert by_file.unit == "file" and by_file.files == 12
    one = np.ones((1, table.files), np.int64)
    # every unit once reads the point figures, whichever the unit
    a, b = Drawn.of(table, one), Drawn.of(by_file, np.ones((1, 12), np.int64))
    for k in METRICS:
        assert a.point[k] == pytest.approx(b.point[k])
    # every file holds the same clips with the same outcome: drawing files cannot move the
    # interruptions, drawing clips can (half the clips are cut into)
    ci_file = intervals.intervals(Drawn.of(by_file, resample_weights(12, 500)))["interruptions_per_100_turns"]
    ci_clip = intervals.intervals(Drawn.of(table, resample_weights(table.files, 500)))["interruptions_per_100_turns"]
    assert ci_file["lo"] == ci_file["hi"] == pytest.approx(50.0)
    assert ci_clip["lo"] < 40.0 and ci_clip["hi"] > 60.0


def test_one_synthetic_file_makes_the_split_resample_files() -> None:
    scores = _scores(3)
    order = list(CLIPS)
    synthetic = labels_from_manifest(_entry(order, voice="piper:joe"))
    table = FileTable.from_scores([*scores, score_file(_decide(synthetic, order), synthetic)])
    assert table.unit == "file" and table.files == 4


def test_the_report_and_its_markdown_say_the_clip_is_the_unit() -> None:
    scores = _scores(6)
    other = _scores(6)  # the same clips and files, another policy
    rep = intervals.report({"cadence@0.5": scores, "silence-500": other}, ["cadence@0.5", "silence-500"],
                           ["silence-500"], ["cadence@0.5"], resamples=200, pairs=[("cadence@0.5", "silence-500")])
    assert rep["unit"] == "clip" and rep["units"] == len(CLIPS) + 6
    text = "\n".join(bench.interval_section(rep, ["cadence@0.5", "silence-500"]))
    assert "intervals over the recorded clips" in text and f"{len(CLIPS) + 6} units" in text
    assert "resamples of the recorded clips for both" in "\n".join(bench.pairs_section(rep))
