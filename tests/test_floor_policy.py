"""CadencePolicy decision logic on hand-made model outputs (no audio, no model)."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.floor.features import FEATURE_NAMES, N_FEATURES
from cadence.floor.model import default_weights_path
from cadence.floor.policy import CadencePolicy

pytestmark = pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights")
STEP = {"ramp": 0.0, "fallback_s": 1.9, "max_silence_s": 3.0, "min_silence_s": 0.05}


def _turn(speech: int, silence: int, keep: float) -> tuple[np.ndarray, np.ndarray]:
    """Features of `speech` frames of user speech then `silence`, during which the model
    says P(keep) = keep."""
    n = speech + silence
    x = np.zeros((n, N_FEATURES), np.float32)
    x[:, FEATURE_NAMES.index("persona")] = -3.0  # no persona playback
    x[:, FEATURE_NAMES.index("echo_excess")] = 3.0
    x[:speech, FEATURE_NAMES.index("vad")] = 0.95
    x[:speech, FEATURE_NAMES.index("e_noise")] = 1.5
    probs = np.zeros((n, 5), np.float32)
    probs[:speech, 0] = 0.95  # the user holds the floor while speaking
    probs[speech:, 0] = keep
    return x, probs


def _commit_silence_s(policy: CadencePolicy, speech: int = 60, silence: int = 400,
                      keep: float = 0.5) -> float | None:
    x, probs = _turn(speech, silence, keep)
    commits = [d.t for d in policy.decide(x, probs) if d.kind == "commit"]
    return round(commits[0] - speech * 0.01, 2) if commits else None


def test_step_threshold_commits_at_fallback_when_unsure() -> None:
    # patience 0.9: threshold 0.16; P(keep)=0.5 is "unsure" → the 1.9 s fallback commits
    assert _commit_silence_s(CadencePolicy(0.9, **STEP)) == pytest.approx(1.9, abs=0.011)
    # a model sure the user keeps the floor (0.95 ≥ fallback_keep) waits for max_silence_s
    assert _commit_silence_s(CadencePolicy(0.9, **STEP), keep=0.95) == pytest.approx(3.0, abs=0.011)
    # a model sure the turn ended commits after the minimum silence
    assert _commit_silence_s(CadencePolicy(0.9, **STEP), keep=0.05) == pytest.approx(0.05, abs=0.011)


def test_ramp_lowers_the_bar_as_the_pause_grows() -> None:
    # threshold rises linearly from 0.16 (5 frames) to 0.9 (190 frames): 0.5 is crossed
    # at 5 + (0.34 / 0.74) · 185 ≈ 90 frames of silence
    t = _commit_silence_s(CadencePolicy(0.9, ramp=1.0, fallback_s=1.9, min_silence_s=0.05))
    assert t == pytest.approx(0.90, abs=0.02)
    half = _commit_silence_s(CadencePolicy(0.9, ramp=0.5, fallback_s=1.9, min_silence_s=0.05))
    assert half is not None and t < half < 1.9


def test_no_commit_without_a_turn() -> None:
    # three frames of speech never open a turn (min_run_frames = 5)
    assert _commit_silence_s(CadencePolicy(0.5), speech=3) is None


def test_patience_trades_latency_for_certainty() -> None:
    # more patience: a lower P(keep) bar and a longer minimum silence
    policies = [CadencePolicy(p) for p in (0.0, 0.5, 1.0)]
    thr = [p.config.commit_threshold() for p in policies]
    sil = [p.config.min_silence_frames() for p in policies]
    assert thr[0] > thr[1] > thr[2] and sil[0] < sil[1] < sil[2]
    sure = [_commit_silence_s(p, keep=0.05) for p in policies]
    assert sure == sorted(sure) and sure[0] < 0.05 and sure[2] == pytest.approx(0.35, abs=0.011)


def test_patience_is_checked_wherever_a_config_is_made() -> None:
    from dataclasses import replace

    from cadence.errors import InvalidArgumentError
    from cadence.floor.policy import PolicyConfig

    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(InvalidArgumentError, match="patience"):
            CadencePolicy(bad)
        with pytest.raises(InvalidArgumentError, match="patience"):
            replace(PolicyConfig(), patience=bad)  # the actor's SetPatience path
