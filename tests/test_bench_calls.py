"""``cadence bench calls``: N live Floor actors fed in real time, each frame's state timed from
the moment its audio was complete."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest

from cadence.bench.calls import SYSTEMS, _Quiet, main, most_kept_up, run_point, summarize

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def _audio(n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (0.01 * rng.standard_normal((n, 160))).astype(np.float32), np.zeros((n, 160), np.float32)


@needs_espeak
def test_bench_calls_runs_every_system_on_the_same_schedule(tmp_path) -> None:
    pytest.importorskip("pipecat")  # smart-turn-v3 is Pipecat's stack
    out, md = tmp_path / "c.json", tmp_path / "c.md"
    assert main(["--calls", "1,2", "--seconds", "2", "--rounds", "1", "--json", str(out), "--markdown", str(md)]) == 0
    r = json.loads(out.read_text())
    runs = {(p["system"], p["calls"]): p for p in r["runs"]}
    assert {(s, 1) for s in SYSTEMS} <= set(runs)
    for p in r["runs"]:
        assert p["expected"] == 200 * p["calls"]
        lag = p["lag_ms"]
        assert 0 < lag["p50"] <= lag["p90"] <= lag["p99"] <= p["lag_max_ms"]
        assert p["cpu_cores"] > 0 and p["cpu_us_per_frame"] > 0
    # each frame its own worker call; the runtime's policy hears no one; the others hear the speech
    assert all(p["frames_per_worker_call"] == 1.0 for p in r["runs"] if p["system"] == "cadence-one-at-a-time")
    assert all(p["user_speaking_share"] == 0.0 for p in r["runs"] if p["system"] == "runtime")
    for s in ("cadence", "silence-500", "smart-turn-v3"):
        assert runs[(s, 1)]["user_speaking_share"] > 0.2, s
    assert {(row["system"], row["calls"]) for row in r["rows"]} == {(p["system"], p["calls"]) for p in r["runs"]}
    assert set(r["most_calls_kept_up"]) == set(SYSTEMS)
    assert "most calls kept up" in md.read_text()


def test_most_calls_kept_up_stops_at_the_first_n_that_did_not() -> None:
    rows = [{"system": "a", "calls": n, "keeps_up": ok} for n, ok in ((1, True), (4, True), (8, False), (12, True))]
    assert most_kept_up(rows, "a") == 4
    assert most_kept_up([{"system": "a", "calls": 1, "keeps_up": False}], "a") == 0
    runs = [{"system": "a", "calls": 4, "states": 400, "expected": 400, "lag_ms": {"p50": 5.0, "p99": v},
             "lag_p50_last_second_ms": 5.0, "cpu_cores": 1.0, "cpu_us_per_frame": 900.0,
             "frames_per_worker_call": 1.0} for v in (30.0, 400.0, 45.0)]
    row = summarize(runs, 50.0, 500.0)
    assert row["lag_p99_ms"] == 45.0 and row["lag_p99_range_ms"] == [30.0, 400.0]
    assert row["keeps_up"] and not row["fallen_behind"]
    runs[0]["states"] = 399  # a lost state is never kept up
    assert not summarize(runs, 50.0, 500.0)["keeps_up"] and summarize(runs, 50.0, 500.0)["fallen_behind"]


class _Slow(_Quiet):
    """30 ms of work per worker call, however many frames it takes."""

    def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list:
        time.sleep(0.03)
        return super().process(frames, reference)


def test_lag_counts_the_wait_and_a_slow_actor_catches_up_only_by_taking_frames_together() -> None:
    mic, ref = _audio()
    together = run_point("cadence", 1, 2.0, mic, ref, factory=_Slow)
    # every frame waits for at least one 30 ms call after its audio is complete
    assert together["lag_ms"]["p50"] >= 30.0
    assert together["states"] == together["expected"] == 200
    assert together["frames_per_worker_call"] > 2.0  # ~3 frames arrive during each call
    alone = run_point("cadence-one-at-a-time", 1, 2.0, mic, ref, factory=_Slow)
    # one 30 ms call per 10 ms frame: 6 s of work for 2 s of audio, so the lag only grows
    assert alone["frames_per_worker_call"] == 1.0
    assert alone["lag_max_ms"] > 1000.0
    assert not alone["states"] == alone["expected"] or alone["lag_ms"]["p99"] > 1000.0
    assert together["lag_ms"]["p99"] < alone["lag_ms"]["p99"]


def test_actors_sharing_one_worker_thread_take_turns() -> None:
    """Two slow calls through one shared thread: each waits for the other's 30 ms call too, so each
    of its calls takes the ~6 frames that came meanwhile (~3 with a thread each)."""
    mic, ref = _audio()
    shared = run_point("cadence", 2, 2.0, mic, ref, factory=_Slow, worker_threads=1, aligned=True)
    assert shared["frames_per_worker_call"] > 4.0
    assert shared["lag_ms"]["p50"] >= 30.0


@pytest.mark.parametrize("args", [
    ["--calls", "0"], ["--calls", "4,2"], ["--calls", "x"], ["--systems", "nope"], ["--seconds", "1"],
    ["--budget-ms", "0"], ["--stop-ms", "10"], ["--worker-threads", "-1"], ["--rounds", "0"],
    ["--systems", "cadence,cadence"], ["--audio", "/nonexistent.wav"],
])
def test_bench_calls_refuses_bad_arguments(args: list[str]) -> None:
    with pytest.raises(SystemExit):
        main(args)
