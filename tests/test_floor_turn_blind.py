"""``turn_sees_persona=0``: the turn's outputs come from a pass of the networks blind to the persona."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from cadence.errors import InvalidArgumentError
from cadence.floor.features import FEATURE_NAMES, FloorFeaturizer
from cadence.floor.model import OUTPUTS, FloorModel, default_weights_path
from cadence.floor.policy import TURN_OUTPUTS, CadencePolicy, PolicyConfig, blind_to_persona
from cadence.floor.scoring import labels_from_manifest, score_file, summarize
from cadence.floor.tune import file_row, score_settings

from floor_speech import ESPEAK, frames_of, render

pytestmark = [pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed"),
              pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")]


def _call() -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]:
    """A user's turn (a hold, a turn end), then a persona reply whose echo is in the mic, then the
    user's next short turn: mic frames, the persona's playback frames, the user's phrase spans."""
    audio, spans = render([("So what I wanted to say is", 0.8), ("we should leave now.", 2.2),
                           ("Yes, that works.", 2.0)])
    persona, _ = render([("Sure, I can book that for you right away.", 0.2)], voice="en-gb", lead=0.0)
    ref = np.zeros_like(audio)
    start = int((spans[1][1] + 0.4) * 16000)
    m = min(len(persona), len(ref) - start)
    ref[start : start + m] = persona[:m]
    echo = np.concatenate([np.zeros(480, np.float32), ref[:-480]]) * 0.1
    return frames_of(audio + echo), frames_of(ref), spans


def test_blind_features_read_as_no_reference() -> None:
    mic, ref, _ = _call()
    without = FloorFeaturizer().process(mic)
    with_ref = FloorFeaturizer().process(mic, ref)
    cols = [FEATURE_NAMES.index("persona"), FEATURE_NAMES.index("echo_excess")]
    assert not np.array_equal(with_ref[:, cols], without[:, cols])  # the persona is heard
    blind = blind_to_persona(with_ref)
    assert np.array_equal(blind[:, cols], without[:, cols])  # as if no reference were given
    rest = [i for i in range(len(FEATURE_NAMES)) if i not in cols]
    assert np.array_equal(blind[:, rest], with_ref[:, rest])
    assert not np.shares_memory(blind, with_ref)


def test_the_turn_columns_come_from_the_blind_pass_streamed() -> None:
    mic, ref, _ = _call()
    pol = CadencePolicy(0.5, persona_networks=0)  # the default blind pass; the turn's networks alone
    x = pol.featurizer.process(mic, ref)
    seen = FloorModel().process(x)
    blind = FloorModel().process(blind_to_persona(x))
    pol.reset()
    got = np.concatenate([pol.probs(x[i : i + 3]) for i in range(0, len(x), 3)])
    turn = list(TURN_OUTPUTS)
    rest = [i for i in range(len(OUTPUTS)) if i not in turn]
    assert sorted(OUTPUTS[i] for i in turn) == sorted(("keep", "end200", "end600", "bc", "pause"))
    np.testing.assert_allclose(got[:, turn], blind[:, turn], atol=1e-5)
    np.testing.assert_allclose(got[:, rest], seen[:, rest], atol=1e-5)
    # the persona's voice does move the turn's outputs (else the option would change nothing)
    assert np.abs(seen[:, turn] - blind[:, turn]).max() > 0.05
    # a reset starts both passes afresh
    pol.reset()
    np.testing.assert_allclose(pol.probs(x), got, atol=1e-5)
    # the setting is read at each reset: the seeing pass alone
    pol.config = PolicyConfig(turn_sees_persona=1, persona_networks=0)
    pol.reset()
    np.testing.assert_allclose(pol.probs(x), seen, atol=1e-5)


def test_without_a_persona_both_settings_decide_alike() -> None:
    mic, _ref, _ = _call()
    a, b = CadencePolicy(0.5, turn_sees_persona=1), CadencePolicy(0.5, turn_sees_persona=0)
    da, db = [], []
    for i in range(0, len(mic), 4):
        da += a.process(mic[i : i + 4])
        db += b.process(mic[i : i + 4])
    assert [(d.kind, d.t) for d in da] == [(d.kind, d.t) for d in db] and da


def test_tune_scores_what_the_stream_decides(tmp_path: Path) -> None:
    mic, ref, spans = _call()
    sf.write(tmp_path / "x.wav", mic.reshape(-1), 16000, subtype="FLOAT")
    sf.write(tmp_path / "x.persona.wav", ref.reshape(-1), 16000, subtype="FLOAT")
    entry = {"audio": "x.wav", "events": [{"type": "hold", "start": spans[0][1], "end": spans[1][0]},
                                          {"type": "shift", "t": spans[1][1]}, {"type": "shift", "t": spans[2][1]}]}
    x = FloorFeaturizer().process(mic, ref)
    row, pad = file_row(tmp_path, entry, x, FloorModel())
    assert row.blind is not None and not np.array_equal(row.blind, row.probs)
    (tmp_path / "x.persona.wav").unlink()  # without a persona there is no second pass to keep
    assert file_row(tmp_path, entry, FloorFeaturizer().process(mic), FloorModel())[0].blind is None
    scored = score_settings([row], {"turn_sees_persona": [1.0, 0.0], "persona_networks": [0.0]})
    assert scored[0][1] != scored[1][1]  # the two passes decide differently on this call
    # a row made by hand for a file with a persona must carry the blind outputs
    with pytest.raises(InvalidArgumentError, match="blind"):
        score_settings([(row.x, row.probs, row.entry)], {"turn_sees_persona": [0.0], "persona_networks": [0.0]})
    score_settings([(row.x, row.probs, row.entry)], {"turn_sees_persona": [1.0], "persona_networks": [0.0]})
    assert_tune_matches_stream(scored, mic, ref, pad, entry)


def assert_tune_matches_stream(scored: list[tuple[dict[str, float], dict[str, Any]]], mic: np.ndarray,
                               ref: np.ndarray, pad: int, entry: dict[str, Any]) -> None:
    """Each setting tune scored decides, streamed in 5-frame chunks with the file's padding, as tune said."""
    frames = np.pad(mic, ((0, pad), (0, 0)))
    reference = np.pad(ref, ((0, pad), (0, 0)))
    for setting, summary in scored:
        pol = CadencePolicy(0.5, **setting)  # type: ignore[arg-type]
        streamed = []
        for i in range(0, len(frames), 5):
            streamed += pol.process(frames[i : i + 5], reference[i : i + 5])
        summary = dict(summary)
        summary.pop("commits_by_rule")
        summary.pop("commit_rules_unmatched_files")
        assert summary == summarize(score_file(streamed, labels_from_manifest(entry)))
