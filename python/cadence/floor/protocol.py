"""The floor-policy protocol shared by the Cadence model and every baseline.

A policy is fed consecutive 10 ms frames of 16 kHz mono audio (``(n, 160)``
float32) in stream order, in chunks of any size, and returns the decisions
those frames produced. A policy is causal: its decisions depend only on the
audio it has seen, never on how the stream was cut into chunks.

A decision's time ``t`` is the END time of the 10 ms frame whose processing
produced it, in seconds from the start of the file (``frame_end_time``).

A policy may also define ``drain()``: wait for work it started off the caller's thread
(``CadencePolicy``'s judge call asked in a file's last frames). ``cadence bench floor`` calls it
after a file's last frames, where present; a policy without one has nothing in flight.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, Protocol

import numpy as np

__all__ = [
    "RATE",
    "FRAME_SAMPLES",
    "FRAME_SECONDS",
    "DecisionKind",
    "DECISION_KINDS",
    "DECISION_KEYS",
    "COMMIT_RULES",
    "decision_lists",
    "Decision",
    "FloorPolicy",
    "frame_end_time",
]

RATE = 16_000
FRAME_SAMPLES = 160
FRAME_SECONDS = FRAME_SAMPLES / RATE

DecisionKind = Literal["commit", "speculate", "retract", "backchannel", "bargein", "pause", "resume"]
# The per-kind time lists of a decisions JSON (``cadence bench floor --json``, read by
# ``cadence score floor``), in the order CadencePolicy emits kinds within one frame, so
# decisions at the same time are rebuilt in that order (a retract before a new
# speculation, both before the commit).
DECISION_KEYS: dict[str, DecisionKind] = {
    "retracts": "retract", "speculates": "speculate", "commits": "commit", "backchannels": "backchannel",
    "pauses": "pause", "bargeins": "bargein", "resumes": "resume",
}
DECISION_KINDS: tuple[str, ...] = tuple(DECISION_KEYS.values())
# The rules by which CadencePolicy takes the floor, the name each commit gets in its
# ``commit_rules`` (and in a bench JSON's per-file ``commit_rules``): the patience wait and
# its veto, the veto under the bar the ramp raised with the silence, the early path, the
# anticipating path, the fallback, the last-resort timeout.
COMMIT_RULES: tuple[str, ...] = ("wait", "ramp", "early", "anticipate", "fallback", "timeout")


class Decision(NamedTuple):
    kind: DecisionKind
    t: float  # seconds from file start: END time of the 10 ms frame whose processing produced it


class FloorPolicy(Protocol):
    name: str

    def reset(self) -> None: ...  # new file/conversation

    def process(self, frames: np.ndarray) -> list[Decision]: ...  # (n, 160) float32, 16 kHz, stream order; sees only the past


def decision_lists(decisions: list[Decision]) -> dict[str, list[float]]:
    """Decisions → ``{"commits": [t, ...], ...}``, one sorted list per :data:`DECISION_KEYS` key."""
    return {key: sorted(d.t for d in decisions if d.kind == kind) for key, kind in DECISION_KEYS.items()}


def frame_end_time(index: int) -> float:
    """End time (s) of the 10 ms frame number ``index`` (0-based) of a stream."""
    return (index + 1) * FRAME_SAMPLES / RATE
