"""Test helper: floor feature frames built by hand (no audio), for policy and head tests."""

from __future__ import annotations

import numpy as np

from cadence.floor.features import FEATURE_NAMES, N_FEATURES
from cadence.floor.model import OUTPUTS, PAUSE, VOICE


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


def model_outputs(n: int) -> np.ndarray:
    """Model outputs of ``n`` frames: all heads 0, the voice head agreeing with the VAD."""
    probs = np.zeros((n, len(OUTPUTS)), np.float32)
    probs[:, VOICE] = 1.0
    return probs


def user_turn(speech: int, silence: int, keep: float) -> tuple[np.ndarray, np.ndarray]:
    """Features and model outputs of ``speech`` frames of user speech then ``silence``, during
    which the model says P(keep) = ``keep`` (no persona playback)."""
    n = speech + silence
    x = np.zeros((n, N_FEATURES), np.float32)
    x[:, FEATURE_NAMES.index("persona")] = -3.0  # no persona playback
    x[:, FEATURE_NAMES.index("echo_excess")] = 3.0
    x[:speech, FEATURE_NAMES.index("vad")] = 0.95
    x[:speech, FEATURE_NAMES.index("e_noise")] = 1.5
    probs = model_outputs(n)
    probs[:speech, 0] = 0.95  # the user holds the floor while speaking
    probs[speech:, 0] = keep
    probs[:, PAUSE] = probs[:, 0]  # no separate pause head: it reads keep
    return x, probs


def user_turns(*parts: tuple[int, int] | tuple[int, int, float], keep: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive ``user_turn`` pieces: (speech frames, silence frames[, P(keep) in that
    silence, else ``keep``])."""
    pieces = [user_turn(part[0], part[1], part[2] if len(part) > 2 else keep) for part in parts]
    return np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])
