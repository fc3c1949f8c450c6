"""Smoke test of ``cadence bench runtime`` (tiny sizes, no Pipecat)."""

from __future__ import annotations

import json

from cadence.bench.runtime import main, run_all


def test_run_all_measures_every_system(tmp_path):
    trace = tmp_path / "t.json"
    res = run_all(5, 40, str(trace), with_pipecat=False)
    systems = [r["system"] for r in res["rows"]]
    assert systems == ["cadence.actors", "cadence.actors (traced)", "trio channels"]
    for r in res["rows"]:
        assert r["paced_frames"] == 5 and r["burst_frames"] == 40
        assert 0 < r["hop_p50_us"] <= r["hop_p99_us"]
        assert r["burst_fps"] > 0
    assert set(res["ratios"]) == {"hop_p50_vs_cadence_actors_traced", "burst_vs_cadence_actors_traced",
                                  "hop_p50_vs_trio_channels", "burst_vs_trio_channels"}
    doc = json.loads(trace.read_text())
    xs = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    assert len(xs) == 9 * (20 + 50)  # 8 stages + sink per frame


def test_main_writes_outputs(tmp_path, capsys):
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    assert main(["--frames", "20", "--paced", "3", "--no-pipecat",
                 "--json", str(out_json), "--markdown", str(out_md)]) == 0
    assert "trio channels" in capsys.readouterr().out
    assert json.loads(out_json.read_text())["stages"] == 8
    assert "| cadence.actors |" in out_md.read_text()
