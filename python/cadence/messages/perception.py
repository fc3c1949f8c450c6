"""Perception messages: the rolling description of the user's state."""

from __future__ import annotations

from cadence.errors import InvalidArgumentError
from cadence.messages._base import MessageBase, check_finite, check_span

__all__ = ["PerceptionUpdate"]


class PerceptionUpdate(MessageBase, frozen=True, tag="perception.update", kw_only=True):
    """What the user seems to be doing and feeling, from one source window.

    ``description`` is natural language for the dialogue prompt
    ("speaking slowly, hesitant, looking away"); ``cues`` are the named finite
    scalars it was made from (e.g. ``{"pitch_z": 1.3, "smile": 0.7}``);
    ``window_start_ns..window_end_ns`` is the media span the update describes.
    """

    description: str
    cues: dict[str, float] = {}
    window_start_ns: int
    window_end_ns: int

    def __post_init__(self) -> None:
        super().__post_init__()
        check_span("PerceptionUpdate window", self.window_start_ns, self.window_end_ns)
        for name, value in self.cues.items():
            if not name:
                raise InvalidArgumentError("PerceptionUpdate cue names must be non-empty")
            check_finite(f"cue {name!r}", value)

    def staleness_ns(self, now_ns: int) -> int:
        """How old the newest evidence is at media time ``now_ns``."""
        return now_ns - self.window_end_ns
