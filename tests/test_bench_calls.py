"""``cadence bench calls``: N live Floor actors fed in real time, each frame's state timed from
the moment its audio was complete."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest

from cadence.bench.calls import SYSTEMS, _Quiet, main, run_point

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def _audio(n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (0.01 * rng.standard_normal((n, 160))).astype(np.float32), np.zeros((n, 160), np.float32)


def test_bench_calls_runs_every_system_on_the_same_schedule(tmp_path) -> None:
    out, md = tmp_path / "c.json", tmp_path / "c.md"
    assert main(["--calls", "1,2", "--seconds", "2", "--json", str(out), "--markdown", str(md)]) == 0
    r = json.loads(out.read_text())
    points = {(p["system"], p["calls"]): p for p in r["points"]}
    assert set(points) == {(s, n) for s in SYSTEMS for n in (1, 2)} or r["first_behind"]
    for p in r["points"]:
        assert p["expected"] == 200 * p["calls"]
        lag = p["lag_ms"]
        assert 0 < lag["p50"] <= lag["p90"] <= lag["p99"] <= p["lag_max_ms"]
        assert p["cpu_cores"] > 0 and p["cpu_us_per_frame"] > 0
    # each frame its own worker call; the runtime's policy hears no one; the others hear the speech
    assert all(p["frames_per_worker_call"] == 1.0 for p in r["points"] if p["system"] == "cadence-one-at-a-time")
    assert all(p["user_speaking_share"] == 0.0 for p in r["points"] if p["system"] == "runtime")
    for s in ("cadence", "silence-500", "smart-turn-v3"):
        assert points[(s, 1)]["user_speaking_share"] > 0.2, s
    assert set(r["most_calls_kept_up"]) == set(SYSTEMS)
    assert "most calls kept up" in md.read_text()


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


@pytest.mark.parametrize("args", [
    ["--calls", "0"], ["--calls", "4,2"], ["--calls", "x"], ["--systems", "nope"], ["--seconds", "1"],
    ["--budget-ms", "0"], ["--stop-ms", "10"], ["--worker-threads", "-1"],
])
def test_bench_calls_refuses_bad_arguments(args: list[str]) -> None:
    with pytest.raises(SystemExit):
        main(args)
