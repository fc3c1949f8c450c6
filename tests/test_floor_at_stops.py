"""``cadence bench floor-stops``: both models scored at Smart Turn's decision points."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pipecat")
import soundfile as sf  # noqa: E402

from cadence.floor import at_stops  # noqa: E402
from cadence.floor.bench import load_manifest  # noqa: E402
from cadence.floor.model import default_weights_path  # noqa: E402

from floor_speech import ESPEAK, RATE, render  # noqa: E402

pytestmark = [pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed"),
              pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")]


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("stops")
    audio, spans = render([("I went to the store and bought some", 0.8), ("milk and bread.", 2.5),
                           ("What do you think?", 3.0)])
    sf.write(d / "a.wav", audio, RATE, subtype="PCM_16")
    events = [{"type": "hold", "start": spans[0][1], "end": spans[1][0]},
              {"type": "shift", "t": spans[1][1]}, {"type": "shift", "t": spans[2][1]}]
    (d / "manifest.jsonl").write_text(json.dumps({"audio": "a.wav", "events": events,
                                                  "meta": {"voice": "espeak:en-us"}}) + "\n")
    return d


def test_stops_are_labelled_and_scored_by_both_models(split: Path) -> None:
    (f,) = load_manifest(str(split))
    stops = at_stops.stops_of_file(f)
    labels = [s["label"] for s in stops]
    assert labels.count("shift") == 2 and labels.count("hold") == 1  # one VAD stop per pause here
    for s in stops:
        assert 0.0 <= s["smart_turn"] <= 1.0 and 0.0 <= s["cadence"] <= 1.0 and s["engine"] == "espeak"
    hold = next(s for s in stops if s["label"] == "hold")
    assert f.labels.holds[0][0] <= hold["t"] <= f.labels.holds[0][1]
    summary = at_stops.summarize_stops(stops)
    assert set(summary) == {"all", "espeak"} and summary["all"]["shifts"] == 2
    for key in ("auc_smart_turn", "auc_cadence", "auc_mean", "auc_mix"):
        assert summary["all"][key] in (0.0, 0.5, 1.0)  # one hold against two shifts


def test_cli_writes_the_table_and_json(split: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.json"
    assert at_stops.main(["--corpus", str(split), "--jobs", "1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| all | 2 / 1 |" in text and "| espeak | 2 / 1 |" in text
    doc = json.loads(out.read_text())
    assert len(doc["stops"]) == 3 and doc["summary"]["all"]["holds"] == 1
    with pytest.raises(SystemExit):  # argparse's one line (cli_args.jobs)
        at_stops.main(["--corpus", str(split), "--jobs", "0"])
    # Smart Turn with its graph's own arithmetic: the same stops, its own scores
    assert at_stops.main(["--corpus", str(split), "--jobs", "1", "--exact", "--json", str(out)]) == 0
    exact = json.loads(out.read_text())["stops"]
    assert [(s["t"], s["label"], s["cadence"]) for s in exact] == [(s["t"], s["label"], s["cadence"])
                                                                   for s in doc["stops"]]
    assert all(0.0 <= s["smart_turn"] <= 1.0 for s in exact)


def test_a_clip_cut_tight_after_its_last_turn_end_keeps_that_stop(tmp_path: Path) -> None:
    """The stops are Smart Turn's as the bench runs it, with the silence the bench appends
    where a file ends inside an answer window: without it the last turn's stop never came."""
    audio, spans = render([("What do you think?", 0.15)])
    sf.write(tmp_path / "a.wav", audio, RATE, subtype="PCM_16")
    (tmp_path / "manifest.jsonl").write_text(json.dumps(
        {"audio": "a.wav", "events": [{"type": "shift", "t": spans[0][1]}]}) + "\n")
    (f,) = load_manifest(str(tmp_path))
    assert [s["label"] for s in at_stops.stops_of_file(f)] == ["shift"]


def test_summary_aucs_rank_shifts_above_holds() -> None:
    stops = [{"label": "shift", "smart_turn": 0.9, "cadence": 0.2, "engine": "a"},
             {"label": "hold", "smart_turn": 0.1, "cadence": 0.8, "engine": "a"},
             {"label": "shift", "smart_turn": 0.6, "cadence": 0.7, "engine": "b"},
             {"label": "hold", "smart_turn": 0.7, "cadence": 0.1, "engine": "b"}]
    s = at_stops.summarize_stops(stops)
    assert s["a"]["auc_smart_turn"] == 1.0 and s["a"]["auc_cadence"] == 0.0
    assert s["b"]["auc_smart_turn"] == 0.0 and s["b"]["auc_cadence"] == 1.0
    assert s["all"]["auc_smart_turn"] == 0.75 and s["all"]["auc_cadence"] == 0.5
    assert s["all"]["auc_mean"] == 1.0  # averaged, each pair of shifts ranks above both holds
    assert s["all"]["auc_mix"] == 1.0  # log-odds: shifts 0.60, 0.65 against holds 0.40, 0.34
    assert s["a"]["auc_mix"] == 1.0 and s["b"]["auc_mix"] == 1.0


def test_a_stop_once_the_user_talks_again_is_not_the_earlier_turns_end() -> None:
    from cadence.floor.scoring import FileLabels

    # turn ends at 2.0; the user's next turn starts at 2.8 and ends at 5.0 (a hold 3.5–4.0 in it)
    labels = FileLabels(shifts=(2.0, 5.0), holds=((3.5, 4.0),), turn_starts=(0.0, 2.8))
    assert at_stops.stop_label(labels, 2.3) == "shift"
    assert at_stops.stop_label(labels, 3.0) is None  # in the new turn's speech: neither
    assert at_stops.stop_label(labels, 3.7) == "hold"
    assert at_stops.stop_label(labels, 5.4) == "shift" and at_stops.stop_label(labels, 7.5) is None
    assert at_stops.stop_label(labels, 1.95) is None  # before the turn end
    assert at_stops.stop_label(labels, 280 * 0.01) == "shift"  # 2.8000000000000003: the scorer's edge slack
    # without labelled starts the next window's opening cuts it (two shifts 1 s apart)
    labels = FileLabels(shifts=(2.0, 3.0))
    assert at_stops.stop_label(labels, 2.5) == "shift" and at_stops.stop_label(labels, 4.5) == "shift"
