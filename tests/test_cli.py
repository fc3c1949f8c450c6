"""The ``cadence`` command line: bad input gets one clear line and exit status 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cadence.cli import main


def test_bad_input_is_one_line_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    assert main(["train", "judge", "--corpus", str(missing), "--out", str(tmp_path / "h.npz")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"cadence train judge: error: no manifest.jsonl in {str(missing)!r} "
                           "(pass one split, e.g. DIR/test)")
    assert not (tmp_path / "h.npz").exists()
    assert main(["demo", "--persona", "x.wav"]) == 2
    assert capsys.readouterr().err.strip() == "cadence demo: error: --persona needs --wav"


def test_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "nothing"]) == 2
    assert "unknown command: train nothing" in capsys.readouterr().err


def test_a_malformed_manifest_line_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import soundfile as sf

    sf.write(tmp_path / "a.wav", np.zeros(1600, np.float32), 16000)  # the first line is good; the second is broken
    (tmp_path / "manifest.jsonl").write_text('{"audio": "a.wav", "events": []}\n{not json\n')
    assert main(["train", "judge", "--corpus", str(tmp_path), "--out", str(tmp_path / "h.npz")]) == 2
    assert f"{tmp_path / 'manifest.jsonl'}:2: not JSON" in capsys.readouterr().err


def test_a_missing_judge_head_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "head.npz"
    with pytest.raises(SystemExit) as e:  # argparse's error: one line, status 2
        main(["bench", "floor", "--corpus", str(tmp_path), "--judge-head", str(missing)])
    assert e.value.code == 2
    assert f"--judge-head {missing}: no such file" in capsys.readouterr().err
    missing.write_bytes(b"not an npz")  # there, but not a head: an error, not a policy left out
    assert main(["bench", "floor", "--corpus", str(tmp_path), "--judge-head", str(missing)]) == 2
    assert "not a judge head" in capsys.readouterr().err
