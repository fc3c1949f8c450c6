"""``cadence bench model`` end to end: it runs the Rust pass and its numpy reference on the
same features, and they agree."""

from __future__ import annotations

import json
import shutil

import pytest

from cadence.bench.model import CHUNKS, IMPLS, main

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def test_bench_model_compares_rust_with_the_numpy_reference(tmp_path) -> None:
    out, md = tmp_path / "m.json", tmp_path / "m.md"
    assert main(["--repeat", "1", "--json", str(out), "--markdown", str(md)]) == 0
    r = json.loads(out.read_text())
    assert r["frames"] > 1000
    assert r["max_abs_diff_rust_vs_numpy"] <= 1e-5
    cells = {(row["weights"].split()[0], row["impl"], row["chunk_frames"]) for row in r["rows"]}
    assert cells == {(w, i, c) for w in ("turn", "persona") for i in IMPLS for c in CHUNKS}
    assert all(row["us_per_frame"] > 0 for row in r["rows"])
    assert {(s["impl"], s["threads"]) for s in r["scaling"]} == {(i, k) for i in IMPLS for k in (1, 2)}
    assert "FloorEnsemble (Rust)" in md.read_text()


def test_bench_model_refuses_bad_arguments() -> None:
    with pytest.raises(SystemExit):
        main(["--repeat", "0"])
