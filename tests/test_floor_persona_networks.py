"""``persona_networks=1``: the barge-in output and the voice, onset and confirm heads come from the
persona's own networks once the persona is heard; the turn keeps its networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cadence.errors import InvalidArgumentError
from cadence.floor.features import FloorFeaturizer
from cadence.floor.model import OUTPUTS, FloorModel, default_persona_weights_path, default_weights_path
from cadence.floor.policy import (
    PERSONA_OUTPUTS,
    TURN_OUTPUTS,
    CadencePolicy,
    PolicyConfig,
    blind_to_persona,
    first_persona_frame,
)
from cadence.floor.tune import file_row, score_settings

from floor_speech import ESPEAK
from test_floor_turn_blind import _call, assert_tune_matches_stream

pytestmark = [pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed"),
              pytest.mark.skipif(not default_persona_weights_path().exists(), reason="no persona networks")]


def test_the_persona_networks_are_other_networks_with_the_same_outputs() -> None:
    turn, persona = FloorModel(), FloorModel(default_persona_weights_path())
    assert persona.heads == turn.heads and len(persona.members) == len(turn.members)
    assert default_persona_weights_path().read_bytes() != default_weights_path().read_bytes()
    assert sorted(OUTPUTS[i] for i in PERSONA_OUTPUTS) == sorted(("bargein", "voice", "onset", "confirm"))
    assert not set(PERSONA_OUTPUTS) & set(TURN_OUTPUTS) and len(PERSONA_OUTPUTS) + len(TURN_OUTPUTS) == len(OUTPUTS)


def test_streamed_the_persona_columns_switch_at_the_persona_s_first_frame() -> None:
    mic, ref, _ = _call()
    pol = CadencePolicy(0.5)  # the defaults: blind turn, the persona's networks
    x = pol.featurizer.process(mic, ref)
    k = first_persona_frame(x)
    assert 0 < k < len(x)
    turn_seen = FloorModel().process(x)
    turn_blind = FloorModel().process(blind_to_persona(x))
    persona = FloorModel(default_persona_weights_path()).process(x)
    pol.reset()
    got = np.concatenate([pol.probs(x[i : i + 7]) for i in range(0, len(x), 7)])  # k falls inside a chunk
    cols = list(PERSONA_OUTPUTS)
    np.testing.assert_allclose(got[:, TURN_OUTPUTS], turn_blind[:, TURN_OUTPUTS], atol=1e-5)
    np.testing.assert_allclose(got[:k, cols], turn_seen[:k, cols], atol=1e-5)  # before: the turn's networks
    np.testing.assert_allclose(got[k:, cols], persona[k:, cols], atol=1e-5)  # from its first sound on
    assert np.abs(persona[k:, cols] - turn_seen[k:, cols]).max() > 0.05  # other networks, other outputs
    # any chunking, empty chunks included, gives the same outputs
    pol.reset()
    again = [pol.probs(x[:0])] + [pol.probs(x[i : i + 1]) for i in range(len(x))] + [pol.probs(x[:0])]
    np.testing.assert_allclose(np.concatenate(again), got, atol=1e-5)
    # the setting is read at each reset: 0 gives the turn's networks' own outputs
    pol.config = PolicyConfig(persona_networks=0)
    pol.reset()
    np.testing.assert_allclose(pol.probs(x)[:, cols], turn_seen[:, cols], atol=1e-5)


def test_without_a_persona_the_persona_networks_change_nothing() -> None:
    mic, _ref, _ = _call()
    a, b = CadencePolicy(0.5, persona_networks=0), CadencePolicy(0.5)
    da, db = [], []
    for i in range(0, len(mic), 4):
        da += a.process(mic[i : i + 4])
        db += b.process(mic[i : i + 4])
    assert [(d.kind, d.t) for d in da] == [(d.kind, d.t) for d in db] and da
    assert not b.persona_heard


def test_a_setting_switched_on_before_a_call_loads_the_networks() -> None:
    mic, ref, _ = _call()
    on = CadencePolicy(0.5)
    x = on.featurizer.process(mic, ref)
    off = CadencePolicy(0.5, persona_networks=0)
    assert off.persona_model is None
    off.config = PolicyConfig()  # the default: on
    off.reset()
    assert off.persona_model is not None
    np.testing.assert_allclose(off.probs(x), on.probs(x), atol=1e-6)


@pytest.mark.parametrize("switch", [{"persona_networks": 0.0}, {"turn_sees_persona": 1.0},
                                    {"persona_networks": 0.0, "turn_sees_persona": 1.0}])
def test_a_setting_switched_within_a_call_takes_effect_at_the_next_reset(switch: dict[str, float]) -> None:
    mic, ref, _ = _call()
    pol = CadencePolicy(0.5)
    x = pol.featurizer.process(mic, ref)
    k = first_persona_frame(x)
    whole = pol.probs(x)  # the defaults, the whole call
    pol.reset()
    first = pol.probs(x[: k + 50])  # past the persona's first sound: the seeing pass is no longer run
    pol.config = PolicyConfig(**switch)
    np.testing.assert_allclose(np.concatenate([first, pol.probs(x[k + 50 :])]), whole, atol=1e-6)
    pol.reset()  # the next call runs the new setting from its first frame
    fresh = CadencePolicy(0.5, **switch)
    np.testing.assert_allclose(pol.probs(x), fresh.probs(x), atol=1e-6)


def test_the_setting_is_checked_and_off_loads_nothing() -> None:
    with pytest.raises(InvalidArgumentError, match="persona_networks"):
        PolicyConfig(persona_networks=0.5)
    assert CadencePolicy(0.5, persona_networks=0).persona_model is None
    with pytest.raises(InvalidArgumentError):
        CadencePolicy(0.5, persona_weights="/nonexistent/floor_persona.npz")


def test_tune_scores_what_the_stream_decides_with_the_persona_networks(tmp_path: Path) -> None:
    mic, ref, spans = _call()
    sf.write(tmp_path / "x.wav", mic.reshape(-1), 16000, subtype="FLOAT")
    sf.write(tmp_path / "x.persona.wav", ref.reshape(-1), 16000, subtype="FLOAT")
    entry = {"audio": "x.wav", "events": [{"type": "hold", "start": spans[0][1], "end": spans[1][0]},
                                          {"type": "shift", "t": spans[1][1]}, {"type": "shift", "t": spans[2][1]},
                                          {"type": "bargein", "t": spans[2][0]}]}
    x = FloorFeaturizer().process(mic, ref)
    persona_model = FloorModel(default_persona_weights_path())
    row, pad = file_row(tmp_path, entry, x, FloorModel(), persona_model=persona_model)
    assert row.persona is not None and row.persona.shape == row.probs.shape
    # a row without the persona networks' outputs is refused where a setting reads them
    bare = row._replace(persona=None)
    with pytest.raises(InvalidArgumentError, match="persona_networks"):
        score_settings([bare], {"persona_networks": [1.0]})
    score_settings([bare], {"persona_networks": [0.0]})
    scored = score_settings([row], {"persona_networks": [1.0, 0.0], "turn_sees_persona": [0.0, 1.0]})
    by = {(st["persona_networks"], st["turn_sees_persona"]): summ for st, summ in scored}
    # the persona's networks stop the persona sooner on this call's barge-in
    assert by[(1.0, 0.0)]["stop_latency_median_ms"] < by[(0.0, 0.0)]["stop_latency_median_ms"]
    assert_tune_matches_stream(scored, mic, ref, pad, entry)
