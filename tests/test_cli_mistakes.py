"""A mistake on the command line is one clear line and status 2 when the command is read: never a
traceback, never after a long run whose output is then lost, and never a write the user did not ask
for (the packaged weights, someone else's README)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cadence.cli import main
from cadence.floor.model import default_weights_path


def _status(argv: list[str]) -> int:
    """main's status, whether argparse exits or main returns it."""
    try:
        return main(argv)
    except SystemExit as e:
        return int(e.code or 0)


@pytest.fixture
def split(tmp_path: Path) -> Path:
    d = tmp_path / "c" / "test"
    d.mkdir(parents=True)
    sf.write(d / "a.wav", np.zeros(16000, np.float32), 16000)
    (d / "manifest.jsonl").write_text(json.dumps({"audio": "a.wav", "events": [{"type": "shift", "t": 0.5}]}) + "\n")
    return d


@pytest.mark.parametrize(("argv", "said"), [
    (["demo", "--seed", "-1"], "a seed must be >= 0"),
    (["corpus", "floor", "--out", "/tmp/x", "--n", "2", "--seed", "-3"], "a seed must be >= 0"),
    (["bench", "floor", "--corpus", "S", "--jobs", "0"], "jobs must be >= 1"),
    (["bench", "floor", "--corpus", "S", "--patience", "0.5,2"], "patience values must be in [0, 1]"),
    (["bench", "floor", "--corpus", "S", "--json", "T/afile/x.json"], "cannot make the folder"),
    (["bench", "floor", "--corpus", "S", "--markdown", "T"], "is a folder"),
    (["bench", "floor", "--fit-baselines", "S"], "--fit-baselines needs --weights-out"),
    (["bench", "ring", "--seconds", "nan"], "expected a finite number > 0"),
    (["train", "floor", "--corpus", "S"], "--out is required"),
    (["train", "floor", "--corpus", "S", "--out", "T/w"], "weights are written as .npz"),
    (["train", "heads", "--weights", "W", "--corpus", "S", "--out", "T/h"], "weights are written as .npz"),
    (["train", "floor", "--corpus", "S", "--out", "T/w.npz", "--batch", "0"], "a whole number must be >= 1"),
    (["train", "floor", "--corpus", "S", "--out", "T/w.npz", "--lr", "nan"], "expected a finite number > 0"),
    (["tune", "floor", "--corpus", "S", "--jobs", "-2"], "jobs must be >= 1"),
])
def test_a_mistake_is_refused_when_the_command_is_read(argv: list[str], said: str, split: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "afile").write_text("")  # a file where a folder would have to be made
    subs = {"S": str(split), "T": str(tmp_path), "W": str(default_weights_path())}
    argv = [subs.get(a, a.replace("T/", f"{tmp_path}/")) for a in argv]
    assert _status(argv) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
    assert not list(tmp_path.glob("w*")) and not list(tmp_path.glob("h*"))


def test_a_policy_named_twice_is_refused(split: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _status(["bench", "floor", "--corpus", str(split), "--policies", "silence-500,silence-500"]) == 2
    assert "a policy is named twice: silence-500" in capsys.readouterr().err
    assert _status(["bench", "floor", "--corpus", str(split), "--policies", "cadence",
                    "--patience", "0.5,0.5"]) == 2
    assert "named twice: cadence@0.5" in capsys.readouterr().err


def test_a_split_that_is_not_one_is_named(split: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = split.parent  # the corpus, not one of its splits
    for argv in (["tune", "floor", "--corpus", str(root)],
                 ["select", "floor", "--split", str(root), "--members", str(default_weights_path())]):
        assert _status(argv) == 2
        err = capsys.readouterr().err
        assert f"no manifest.jsonl in {str(root)!r}" in err and "Traceback" not in err


def test_tune_refuses_a_field_set_twice_or_without_values(split: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cadence.errors import InvalidArgumentError
    from cadence.floor.tune import parse_grid

    with pytest.raises(InvalidArgumentError, match="given twice"):
        parse_grid(["patience=0.2", "patience=0.8"])
    with pytest.raises(InvalidArgumentError, match="no values"):
        parse_grid(["patience="])
    assert parse_grid(["patience=0.2,0.8"]) == {"patience": [0.2, 0.8]}


def test_demo_refuses_an_empty_wav_path_and_settings_out_of_range_before_rendering(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert _status(["demo", "--wav", ""]) == 2
    assert "need a file path, got an empty string" in capsys.readouterr().err
    for argv, said in ((["--patience", "2"], "patience must be in [0, 1]"),
                       (["--judge", "smart-turn", "--smart-turn-weight", "1.5"], "smart_turn_weight must be in [0, 1]")):
        assert _status(["demo", *argv]) == 2
        out = capsys.readouterr()
        assert said in out.err and "Cadence floor demo" not in out.out  # nothing rendered first


def test_a_corpus_is_not_written_over_a_folder_it_did_not_make(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "README.txt").write_text("my notes\n")
    assert _status(["corpus", "floor", "--out", str(tmp_path), "--n", "3", "--splits", "test", "--jobs", "1"]) == 2
    assert "holds a README.txt that no Cadence corpus wrote" in capsys.readouterr().err
    assert (tmp_path / "README.txt").read_text() == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.txt"]


def test_an_output_s_missing_folder_is_made(tmp_path: Path) -> None:
    # the folder is made when the command is read (as the weights' writers did before)
    from cadence.cli_args import out_file

    assert out_file(str(tmp_path / "new" / "deeper" / "x.json")) == tmp_path / "new" / "deeper" / "x.json"
    assert (tmp_path / "new" / "deeper").is_dir()
    w = default_weights_path()
    assert _status(["train", "floor", "--combine", str(w), "--out", str(tmp_path / "n2" / "e.npz")]) == 0
    assert (tmp_path / "n2" / "e.npz").is_file()
