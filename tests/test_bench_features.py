"""``cadence bench features`` end to end: it runs both implementations on the same
frames, and they agree."""

from __future__ import annotations

import json
import shutil

import pytest

from cadence.bench.features import CHUNKS, main

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def test_bench_features_compares_rust_with_the_reference(tmp_path) -> None:
    out, md = tmp_path / "f.json", tmp_path / "f.md"
    assert main(["--repeat", "1", "--json", str(out), "--markdown", str(md)]) == 0
    r = json.loads(out.read_text())
    assert r["frames"] > 1000
    assert r["max_abs_diff_rust_vs_python"] <= 1e-5
    cells = {(row["impl"], row["chunk_frames"]) for row in r["rows"]}
    for chunk in CHUNKS:
        assert ("FloorNormalizer (Rust)", chunk) in cells and ("Python reference", chunk) in cells
    assert "FloorNormalizer (Rust)" in md.read_text()


def test_bench_features_refuses_bad_arguments() -> None:
    with pytest.raises(SystemExit):
        main(["--repeat", "0"])
