"""Test helper: floor feature frames built by hand (no audio), for policy and head tests."""

from __future__ import annotations

import numpy as np

from cadence.floor.features import FEATURE_NAMES, N_FEATURES


def over_persona_features(n: int, user: list[tuple[int, int]]) -> np.ndarray:
    """Features of ``n`` frames of the persona speaking (only its echo in the mic), with user
    speech the policy hears (Silero, energy and echo excess high) in the ``user`` frame spans."""
    x = np.zeros((n, N_FEATURES), np.float32)
    x[:, FEATURE_NAMES.index("persona")] = 1.0
    for a, b in user:
        x[a:b, FEATURE_NAMES.index("vad")] = 0.95
        x[a:b, FEATURE_NAMES.index("e_noise")] = 1.5
        x[a:b, FEATURE_NAMES.index("echo_excess")] = 2.0
    return x
