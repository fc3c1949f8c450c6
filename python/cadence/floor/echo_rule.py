"""The speech rule's echo test, sharpened by the adaptive echo canceller.

While the persona talks, a frame counts as the user's speech only if the mic's power
stands 6 dB above the persona's predicted echo (``policy.heard_speech``, the
``echo_excess`` feature). That prediction is energy-domain (``FloorNormalizer``: one
broadband gain at one lag), and frames of echo alone read more than 6 dB above it 18 %
of the time (floor.md, "False pauses with no user near them"): the persona pauses for
its own voice.

Here the Kalman ``EchoCanceller`` runs beside the featurizer on the mic as it came, and
the rule reads the smaller of the two excesses: the energy-domain one and the mic's power
over the canceller's own echo prediction (mic − its output). Where the canceller has not
learnt the path (the start of a call, a moved path, the persona silent), its prediction
is small, its excess large, and the energy-domain one stands. The floor networks still
read the features they were trained on; only the rule's test changes
(``PolicyConfig.echo_rule``, on by default).
"""

from __future__ import annotations

import numpy as np

from cadence._core import EchoCanceller

#: mean square added to both powers: -100 dBFS, so digital silence reads 0 dB
_FLOOR = 1e-10


def canceller_excess(aec: EchoCanceller, frames: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    """(n,) the mic's power over ``aec``'s echo prediction per frame, dB / 10 (the scale of
    the ``echo_excess`` feature); ``aec`` advances over the frames (streaming)."""
    mic = np.ascontiguousarray(frames, np.float32)
    ref = None if reference is None else np.ascontiguousarray(reference, np.float32)
    return excess_over_prediction(mic, aec.process(mic, ref))


def excess_over_prediction(mic: np.ndarray, cleaned: np.ndarray) -> np.ndarray:
    """(n,) ``canceller_excess`` from a canceller's output ``cleaned`` of the (n, 160) ``mic``
    (its echo prediction is mic − cleaned): a featurizer that already runs the canceller
    (``FloorFeaturizer(echo_cancel=True)``) hands over its output instead of running a second one."""
    echo = mic - cleaned
    # np.mean's own sum and division, without its per-call overhead (the same bits)
    n = float(mic.shape[1])
    p_mic = np.add.reduce(np.square(mic, dtype=np.float64), axis=1) / n
    p_echo = np.add.reduce(np.square(echo, dtype=np.float64), axis=1) / n
    return np.log10((p_mic + _FLOOR) / (p_echo + _FLOOR)).astype(np.float32)


def sharpen(excess: np.ndarray, aec_excess: np.ndarray | None) -> np.ndarray:
    """The rule's excess: the smaller of the two (``excess`` itself without the canceller's)."""
    return excess if aec_excess is None else np.fmin(excess, aec_excess)  # a NaN loses to a number
