"""Offline policy tuning (`cadence tune floor`) scores exactly what streaming would decide."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cadence.errors import InvalidArgumentError
from cadence.floor.features import FloorFeaturizer
from cadence.floor.model import FloorModel, default_weights_path
from cadence.floor.policy import CadencePolicy
from cadence.floor.scoring import labels_from_manifest, score_file, summarize
from cadence.floor.bench import markdown_table
from cadence.floor.commit_rules import rule_summary, tally
from cadence.floor.tune import TUNE_COLS, Row, expand_grid, file_row, parse_grid, score_settings

from floor_speech import ESPEAK, frames_of, render


def test_parse_grid_checks_names_and_values() -> None:
    assert parse_grid(["patience=0.2,0.8", "min_run_frames=3,5"]) == {
        "patience": [0.2, 0.8], "min_run_frames": [3, 5]}
    assert parse_grid([]) == {"patience": [0.5]}
    with pytest.raises(InvalidArgumentError, match="NAME"):
        parse_grid(["no_such_knob=1"])
    with pytest.raises(InvalidArgumentError):
        parse_grid(["patience=abc"])
    for bad in ("fallback_s=nan", "commit_keep=0.5,inf"):
        with pytest.raises(InvalidArgumentError, match="finite"):
            parse_grid([bad])
    # the table names a setting by its values to 6 digits: two that print alike would share a row
    for bad in ("patience=0.3,0.3", "patience=0.3,0.30000001,0.7"):
        with pytest.raises(InvalidArgumentError, match="0.3 given twice"):
            parse_grid([bad])


def test_tune_checks_its_splits_and_arguments_before_featurizing(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """As ``cadence bench floor`` checks them, and before minutes of featurizing: labels past
    the audio's end, an empty manifest, a split given twice, a bad --resamples, the judge's
    fields without the judge. Each is one error line, and nothing was featurized."""
    from cadence.floor.tune import main

    split = tmp_path / "s"
    (split / "audio").mkdir(parents=True)
    sf.write(split / "audio/a.wav", np.zeros(3 * 16000, np.float32), 16000, subtype="PCM_16")
    entry = {"audio": "audio/a.wav", "events": [{"type": "shift", "t": 1361}]}  # ms, not s
    (split / "manifest.jsonl").write_text(json.dumps(entry) + "\n")
    cases = [([], "lies past the end of its audio")]
    for args, why in cases:
        with pytest.raises(InvalidArgumentError, match=why):
            main(["--corpus", str(split), "--jobs", "1", *args])
    entry["events"] = [{"type": "shift", "t": 1.361}]
    (split / "manifest.jsonl").write_text(json.dumps(entry) + "\n")
    for args, why in [(["--corpus", f"{split}/."], "given twice"),
                      (["--resamples", "50"], "resamples must be"),
                      (["--set", "smart_turn_delay_s=0.2"], "read only when the judge is asked")]:
        with pytest.raises(InvalidArgumentError, match=why):
            main(["--corpus", str(split), "--jobs", "1", *args])
    (split / "manifest.jsonl").write_text("")
    with pytest.raises(InvalidArgumentError, match="empty manifest"):
        main(["--corpus", str(split), "--jobs", "1"])
    assert "featurized" not in capsys.readouterr().out and not (tmp_path / ".cache").exists()


def test_the_feature_cache_follows_the_audio_not_only_the_manifest(tmp_path: Path) -> None:
    """A file rendered again under the same manifest read its old features from the cache."""
    import os

    from cadence.floor.train import load_split

    split = tmp_path / "s"
    (split / "audio").mkdir(parents=True)
    rng = np.random.default_rng(0)
    sf.write(split / "audio/a.wav", 0.1 * rng.standard_normal(16000), 16000, subtype="PCM_16")
    (split / "manifest.jsonl").write_text(json.dumps({"audio": "audio/a.wav", "events": []}) + "\n")
    ((first, _y, _w),) = load_split(split, 1)
    ((cached, _y, _w),) = load_split(split, 1)
    np.testing.assert_array_equal(first, cached)
    sf.write(split / "audio/a.wav", 0.01 * rng.standard_normal(16000), 16000, subtype="PCM_16")
    os.utime(split / "audio/a.wav", ns=(1, 1))  # even with an older stamp
    ((again, _y, _w),) = load_split(split, 1)
    assert not np.array_equal(first, again)


def test_table_cells_show_undefined_metrics_as_a_dash() -> None:
    empty = summarize(score_file([], labels_from_manifest({"audio": "a.wav", "events": []})))
    assert all(k in empty for _, k in TUNE_COLS[1:])
    row = markdown_table({"patience=1": empty}, ["patience=1"], TUNE_COLS).splitlines()[2]
    cells = [c.strip() for c in row.strip("|").split("|")]
    col = {key: i for i, (_name, key) in enumerate(TUNE_COLS)}
    assert cells[0] == "patience=1" and len(cells) == len(TUNE_COLS)
    # no commits, no turns: no latency, no precision, no share answered
    assert cells[col["latency_median_ms"]] == cells[col["precision"]] == "–"
    assert cells[col["answered_500ms_share"]] == "–"
    full = {**empty, "precision": 0.5, "interruptions_per_100_turns": 12.34, "answered_500ms_share": 0.25}
    cells = [c.strip() for c in markdown_table({"x": full}, ["x"], TUNE_COLS).splitlines()[2].strip("|").split("|")]
    assert cells[col["precision"]] == "0.500" and cells[col["interruptions_per_100_turns"]] == "12.3"
    assert cells[col["answered_500ms_share"]] == "0.250"


def _file_row(tmp_path: Path, audio: np.ndarray, events: list[dict]) -> tuple[Row, np.ndarray]:
    """Tune's row of ``audio`` saved as a file (with the judge's audio), and the frames a
    stream of it hears (the bench's silence appended)."""
    sf.write(tmp_path / "x.wav", audio, 16000, subtype="FLOAT")
    entry = {"audio": "x.wav", "events": events}
    x = FloorFeaturizer().process(frames_of(audio))
    row, pad = file_row(tmp_path, entry, x, FloorModel(), audio=True)
    frames = row.audio
    assert frames is not None
    assert np.array_equal(frames[: len(x)], frames_of(audio)) and len(frames) == len(x) + pad
    return row, frames


def test_a_grid_without_the_judge_drops_the_judges_fields() -> None:
    # beside settings that ask the judge, smart_turn_weight=0 is one setting (the control, first)
    grid = {"patience": [0.5], "smart_turn_weight": [0.0, 0.5], "judge_head": [0.0, 1.0], "judge_release": [1.0]}
    assert expand_grid(grid) == [
        {"patience": 0.5, "smart_turn_weight": 0.0},
        {"patience": 0.5, "smart_turn_weight": 0.5, "judge_head": 0.0, "judge_release": 1.0},
        {"patience": 0.5, "smart_turn_weight": 0.5, "judge_head": 1.0, "judge_release": 1.0}]
    # every field that is not the judge's stays, in product order
    assert expand_grid({"smart_turn_weight": [0.0, 0.5], "patience": [0.2, 0.4], "smart_turn_at_s": [0.2]}) == [
        {"smart_turn_weight": 0.0, "patience": 0.2}, {"smart_turn_weight": 0.0, "patience": 0.4},
        {"smart_turn_weight": 0.5, "patience": 0.2, "smart_turn_at_s": 0.2},
        {"smart_turn_weight": 0.5, "patience": 0.4, "smart_turn_at_s": 0.2}]
    # a grid that never asks the judge keeps them (score_settings says they are read only with it)
    assert expand_grid({"smart_turn_weight": [0.0], "judge_veto": [0.0, 1.0]}) == [
        {"smart_turn_weight": 0.0, "judge_veto": 0.0}, {"smart_turn_weight": 0.0, "judge_veto": 1.0}]


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed")
@pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
def test_offline_decisions_equal_streaming_decisions(tmp_path: Path) -> None:
    audio, spans = render([("So what I wanted to say is", 1.0), ("we should leave now.", 2.0)])
    row, frames = _file_row(tmp_path, audio, [{"type": "hold", "start": spans[0][1], "end": spans[1][0]},
                                              {"type": "shift", "t": spans[1][1]}])
    entry = row.entry
    rows = score_settings([row], {"patience": [0.3, 0.9], "max_silence_s": [1.5]})
    assert [r[0] for r in rows] == [{"patience": 0.3, "max_silence_s": 1.5},
                                     {"patience": 0.9, "max_silence_s": 1.5}]
    for setting, summary in rows:
        pol = CadencePolicy(setting["patience"], max_silence_s=1.5)
        streamed = []
        for i in range(0, len(frames), 7):
            streamed += pol.process(frames[i : i + 7])
        labels = labels_from_manifest(entry)
        rules = summary.pop("commits_by_rule")
        sc = score_file(streamed, labels)
        assert summary.pop("commit_rules_unmatched_files") == 0
        assert summary == summarize(sc)
        assert summary["turns"] == 1 and summary["commits"] >= 1
        # the same rule behind each commit, offline and streamed
        counts: dict = {}
        assert tally(counts, list(pol.commit_rules), sc.commit_outcomes)
        assert rule_summary(counts)["commits_by_rule"] == rules


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed")
@pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
def test_settings_scored_in_processes_equal_one_process() -> None:
    audio, spans = render([("I think that", 0.7), ("it will rain tomorrow.", 2.0), ("Okay?", 2.0)])
    entry = {"audio": "x.wav", "events": [
        {"type": "hold", "start": spans[0][1], "end": spans[1][0]},
        {"type": "shift", "t": spans[1][1]}, {"type": "shift", "t": spans[2][1]}]}
    x = FloorFeaturizer().process(frames_of(audio))
    data = [(x, FloorModel().process(x), entry)]
    grid = {"patience": [0.0, 0.5, 1.0], "commit_keep": [0.3, 0.8]}
    one = score_settings(data, grid, jobs=1)
    assert score_settings(data, grid, jobs=2) == one and len(one) == 6
    assert len({r[1]["latency_median_ms"] for r in one}) > 1  # the settings do differ
    with pytest.raises(InvalidArgumentError, match="jobs"):
        score_settings(data, grid, jobs=0)
    with pytest.raises(InvalidArgumentError, match="commit_keep"):  # checked before any scoring
        score_settings(data, {"patience": [0.5], "commit_keep": [0.5, 2.0]}, jobs=2)
    # the judge reads the mic audio, which these rows lack: an error, not rows identical to
    # smart_turn_weight=0; and a judge's setting without the judge would score the same rows
    with pytest.raises(InvalidArgumentError, match="audio=True"):
        score_settings(data, {"patience": [0.5], "smart_turn_weight": [0.0, 0.5]}, jobs=1)
    with pytest.raises(InvalidArgumentError, match="smart_turn_at_s"):
        score_settings(data, {"patience": [0.5], "smart_turn_at_s": [0.2, 0.4]}, jobs=1)


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed")
@pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
def test_judge_settings_score_what_streaming_decides(tmp_path: Path) -> None:
    pytest.importorskip("pipecat")
    from cadence.floor import tune, turn_judge

    audio, spans = render([("So what I wanted to say is", 1.2), ("we should leave now.", 1.0),
                           ("Is that fine?", 2.0)])
    row, frames = _file_row(tmp_path, audio, [{"type": "hold", "start": spans[0][1], "end": spans[1][0]},
                                              {"type": "shift", "t": spans[1][1]}, {"type": "shift", "t": spans[2][1]}])
    entry = row.entry
    judge = {"smart_turn_weight": 0.5, "judge_head": 0.0, "judge_veto": 0.0}  # Smart Turn's classifier, mixed
    grid = {"patience": [0.0, 1.0], **{k: [v] for k, v in judge.items()}}
    rows = score_settings([row], grid, jobs=1)
    asked = len(tune._JUDGES[(False, None)].memo)
    assert score_settings([row], grid, jobs=1) == rows and len(tune._JUDGES[(False, None)].memo) == asked
    tune._JUDGES.clear()
    turn_judge._load.cache_clear()  # no judge in this process: the forked workers load and ask their own
    assert score_settings([row], grid, jobs=2) == rows
    # the judge moved the decisions here: tune does not score them as if it were not asked
    alone = score_settings([row], {"patience": grid["patience"]}, jobs=1)
    assert [summary for _, summary in alone] != [summary for _, summary in rows]
    for setting, summary in rows:
        pol = CadencePolicy(setting["patience"], **judge)
        streamed = []
        for i in range(0, len(frames), 7):
            streamed += pol.process(frames[i : i + 7])
        summary.pop("commits_by_rule")
        summary.pop("commit_rules_unmatched_files")
        assert summary == summarize(score_file(streamed, labels_from_manifest(entry)))
    assert asked >= 2  # the judge was asked in more than one pause; the second run from memory


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed")
@pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
def test_a_judge_head_file_is_read_where_judge_head_is_set(tmp_path: Path) -> None:
    """``--judge-head``: tune, the bench's specs and the policy read the head file given, and
    refuse one that no setting would read."""
    pytest.importorskip("pipecat")
    from cadence.floor import bench
    from cadence.floor.turn_judge import JudgeHead

    audio, spans = render([("So what I wanted to say is", 1.2), ("we should leave now.", 1.0),
                           ("Is that fine?", 2.0)])
    row, frames = _file_row(tmp_path, audio, [{"type": "hold", "start": spans[0][1], "end": spans[1][0]},
                                              {"type": "shift", "t": spans[1][1]}, {"type": "shift", "t": spans[2][1]}])
    packaged = JudgeHead.load()
    files = {}
    for name, bias in (("sure_end", -30.0), ("sure_hold", 30.0)):  # it answers the same in every pause
        files[name] = str(tmp_path / f"{name}.npz")
        JudgeHead(packaged.mean, packaged.std, np.zeros_like(packaged.w), bias, window_s=2.0).save(Path(files[name]))
    # asked 50 ms into each pause, its answer counts as the 150 ms wait ends
    judge = {"smart_turn_weight": 1.0, "judge_head": 1.0, "judge_veto": 1.0, "smart_turn_at_s": 0.05}
    grid = {"patience": [0.0], **{k: [v] for k, v in judge.items()}}
    off = score_settings([row], {"patience": [0.0]})[0][1]
    end = score_settings([row], grid, judge_head=files["sure_end"])[0][1]
    held = score_settings([row], grid, judge_head=files["sure_hold"])[0][1]
    assert end == off  # a veto that never vetoes
    assert held["commits_by_rule"].keys() == {"fallback"} != end["commits_by_rule"].keys()  # held to the fallback
    pol = CadencePolicy(0.0, judge_head_file=files["sure_hold"], **judge)
    assert pol.judge is not None and pol.judge.head is not None and pol.judge.head.window_s == 2.0
    streamed = []
    for i in range(0, len(frames), 7):
        streamed += pol.process(frames[i : i + 7])
    for key in ("commits_by_rule", "commit_rules_unmatched_files"):
        held.pop(key)
    assert held == summarize(score_file(streamed, labels_from_manifest(row.entry)))
    # in forked workers too; and a head rewritten in place is read anew, not from memory
    two = {**grid, "patience": [0.0, 0.5]}
    assert score_settings([row], two, judge_head=files["sure_hold"], jobs=2)[0][1] == \
        score_settings([row], grid, judge_head=files["sure_hold"])[0][1]
    JudgeHead(packaged.mean, packaged.std, np.zeros_like(packaged.w), -30.0, window_s=2.0).save(
        Path(files["sure_hold"]))
    assert score_settings([row], grid, judge_head=files["sure_hold"])[0][1] == end
    # a head file no setting reads is an error, not a silent no-op
    with pytest.raises(InvalidArgumentError, match="no setting reads it"):
        score_settings([row], {"patience": [0.5]}, judge_head=files["sure_hold"])
    with pytest.raises(InvalidArgumentError, match="judge_head=1"):
        CadencePolicy(0.5, judge_head_file=files["sure_hold"])
    with pytest.raises(InvalidArgumentError, match="not a judge head"):
        score_settings([row], grid, judge_head=str(tmp_path / "missing.npz"))
    specs = bench.parse_policies("cadence,cadence/smart_turn_weight=1/judge_head=1,cadence/smart_turn_weight=1",
                                 [0.5], judge_head=files["sure_hold"])
    assert [dict(s.kwargs).get("judge_head_file") for s in specs] == [None, files["sure_hold"], None]
    with pytest.raises(InvalidArgumentError, match="no policy reads it"):
        bench.parse_policies("cadence,cadence/smart_turn_weight=1", [0.5], judge_head=files["sure_hold"])
