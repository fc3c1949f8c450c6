"""``cadence bench policy`` end to end: the whole Floor stage of one call, fed as the live
actor feeds it, beside the silence and Smart Turn baselines, with Cadence's cost split."""

from __future__ import annotations

import json
import shutil

import pytest

from cadence.bench.features import test_audio as espeak_call
from cadence.bench.policy import CHUNK, POLICIES, _feed, main
from cadence.floor.policy import CadencePolicy

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def test_bench_policy_costs_each_policy_and_splits_cadences(tmp_path) -> None:
    out, md = tmp_path / "p.json", tmp_path / "p.md"
    assert main(["--repeat", "1", "--json", str(out), "--markdown", str(md)]) == 0
    r = json.loads(out.read_text())
    assert r["frames"] > 1000 and r["chunk_frames"] == CHUNK == 2
    rows = {row["policy"]: row for row in r["rows"]}
    assert list(rows) == list(POLICIES)
    # every policy heard the turns of the clip and decided something; only Cadence reads the playback
    assert all(row["decisions"] > 0 and row["us_per_frame"] > 0 for row in rows.values())
    assert [row["reads_reference"] for row in rows.values()] == [True, False, False]
    assert all(row["mb_per_call"] is None or row["mb_per_call"] >= 0 for row in rows.values())
    stages = r["cadence_stages_us_per_frame"]
    assert len(stages) == 3 and all(v > 0 for k, v in stages.items() if "rest" not in k)
    assert sum(stages.values()) == pytest.approx(rows["cadence"]["us_per_frame"])
    assert [c["calls"] for c in r["calls_at_once"]] == [1, 2]
    assert all(c["frames_per_s"] > 100 for c in r["calls_at_once"])  # each faster than real time
    assert "calls per core" in md.read_text()
    paced = r["paced"]  # the same frames fed back to back and one per 10 ms: both cost something
    assert paced["frames"] == 600
    assert paced["back_to_back_us_per_frame"] > 0 and paced["paced_us_per_frame"] > 0
    assert "one frame per 10 ms" in md.read_text()


def test_feed_decides_as_one_call_on_the_whole_audio() -> None:
    """The bench's 2-frame feed is the live path: it decides what one call on all frames decides."""
    mic, ref = espeak_call(None)  # espeak-ng speech with pauses, the persona's echo in the mic
    fed, whole = CadencePolicy(), CadencePolicy()
    got = _feed(fed, mic, ref, True)
    whole.reset()
    want = whole.process(mic, ref)
    assert got == want
    assert any(d.kind == "commit" for d in want), [d.kind for d in want]


def test_bench_policy_refuses_bad_arguments() -> None:
    with pytest.raises(SystemExit):
        main(["--repeat", "0"])
