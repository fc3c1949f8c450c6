"""``cadence bench aec`` on a tiny hand-made split: a persona track (espeak) and a user's
half-duplex file with labelled speech; the bench adds the echo itself, so the truth is known."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf  # type: ignore[import-untyped]

from cadence.bench.aec import main
from cadence.errors import InvalidArgumentError

from floor_speech import ESPEAK, render

RATE = 16000


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if ESPEAK is None:
        pytest.skip("espeak-ng not installed")
    d = tmp_path_factory.mktemp("aec_split")
    persona, spans = render([("Well, the weather looks great for the beach tomorrow, so bring a hat.", 0.3),
                             ("We could leave early and take the long road along the coast.", 0.4),
                             ("Then we stop for lunch at the little harbour cafe you liked.", 0.4),
                             ("And after that we walk back along the cliffs before it gets dark.", 0.3)],
                            voice="en-gb", lead=0.5, noise_db=-90.0)
    user, segs = render([("wait, hold on", 3.0), ("I think it might rain though.", 3.0),
                         ("okay", 2.0), ("sounds good to me", 2.0)], voice="en-us+m3", lead=6.0, noise_db=-70.0)
    sf.write(d / "p.persona.wav", persona, RATE, subtype="FLOAT")
    sf.write(d / "p.wav", persona * 0.0, RATE, subtype="FLOAT")
    sf.write(d / "u.wav", user, RATE, subtype="FLOAT")
    rows = [{"audio": "p.wav", "events": [], "meta": {"duplex": True, "persona_audio": "p.persona.wav",
                                                       "persona": [list(s) for s in spans]}},
            {"audio": "u.wav", "events": [], "meta": {"duplex": False, "segments": [[a, b, "x", "final"] for a, b in segs]}}]
    (d / "manifest.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return d


def test_bench_aec_scores_against_the_truth(split: Path, tmp_path: Path) -> None:
    pytest.importorskip("livekit.rtc", reason="scripts/setup.sh installs livekit (the AEC3 baseline)")
    out = tmp_path / "aec.json"
    assert main(["--corpus", str(split), "--pairs", "2", "--json", str(out), "--markdown", str(tmp_path / "a.md")]) == 0
    s = json.loads(out.read_text())["summary"]
    assert set(s) == {"none", "cadence", "webrtc-aec3"}
    assert s["none"]["erle_after_db"] == pytest.approx(0.0, abs=1e-6)
    assert s["none"]["double_talk_echo_removed_db"] == pytest.approx(0.0, abs=1e-6)
    # the mic alone reads the echo on top of the user; both cancellers take (most of) it away
    assert s["none"]["double_talk_out_over_user_db"] > 0.05
    assert s["cadence"]["erle_after_db"] > 10.0
    assert s["cadence"]["double_talk_echo_removed_db"] > 10.0
    assert abs(s["cadence"]["double_talk_out_over_user_db"]) < s["none"]["double_talk_out_over_user_db"]
    assert s["webrtc-aec3"]["erle_after_db"] > 10.0
    assert s["webrtc-aec3"]["double_talk_echo_removed_db"] is None  # not a linear, zero-delay output
    assert "| cadence |" in (tmp_path / "a.md").read_text()


def test_bench_aec_moves_the_echo_path_when_asked(split: Path, tmp_path: Path) -> None:
    out, md = tmp_path / "move.json", tmp_path / "move.md"
    assert main(["--corpus", str(split), "--pairs", "1", "--methods", "none,cadence", "--move-at", "8",
                 "--json", str(out), "--markdown", str(md)]) == 0
    report = json.loads(out.read_text())
    s, path = report["summary"], report["meta"]["paths"][0]
    assert set(path) == {"first", "moved"} and path["first"] != path["moved"]
    assert s["none"]["erle_after_move_db"] == pytest.approx(0.0, abs=1e-6)
    assert s["cadence"]["erle_after_move_db"] > 1.0  # it learns the new path within 3 s
    assert "3 s after the path moves" in md.read_text() and "moves 8 s into each case" in md.read_text()
    assert main(["--corpus", str(split), "--pairs", "1", "--methods", "none",
                 "--markdown", str(md)]) == 0
    assert "path moves" not in md.read_text()  # no move, no column


def test_bench_aec_refuses_what_it_cannot_score(split: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="--methods"):
        main(["--corpus", str(split), "--methods", "cadence,speex"])
    with pytest.raises(InvalidArgumentError, match="--pairs"):
        main(["--corpus", str(split), "--pairs", "0"])
    with pytest.raises(InvalidArgumentError, match="--move-at"):
        main(["--corpus", str(split), "--move-at", "40"])
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "manifest.jsonl").write_text((split / "manifest.jsonl").read_text().splitlines()[1] + "\n")
    with pytest.raises(InvalidArgumentError, match="duplex"):
        main(["--corpus", str(lone)])


def test_bench_aec_table_reads_dashes_where_no_frame_qualifies() -> None:
    from cadence.bench.aec import markdown

    row = {"erle_first_3s_db": None, "erle_after_db": None, "echo_removed_after_db": None,
           "erle_after_move_db": None, "double_talk_out_over_user_db": 0.1,
           "double_talk_echo_removed_db": None, "us_per_frame": 3.0}
    meta = {"corpus": "c", "pairs": 1, "seed": 0, "move_at": None, "machine": {"cpu": "x", "cores": 2},
            "ideal": {"erle_first_3s_db": None, "erle_after_db": None}}
    text = markdown({"cadence": row}, meta)
    assert "an ERLE of – / – dB" in text and "| cadence | – | – | – | 0.1 | – | 3 |" in text
