"""Floor (turn-taking) messages: the per-frame ``FloorState`` and the floor events.

``FloorState`` is emitted every 10 ms frame. The events drive speculation:
``Speculate`` opens a draft epoch, ``Commit`` lets its speech play, ``Retract``
discards it (the user kept talking), ``Backchannel`` asks for a short "mm-hm",
``BargeIn`` means the user started talking over the persona. Barge-in is two
stage: ``PausePlayout`` silences the persona at the first sign of the user
speaking over it (within the 150 ms budget), then ``BargeIn`` confirms the
interruption or ``ResumePlayout`` resumes the paused speech (it was a
backchannel, a cough, noise).
"""

from __future__ import annotations

from typing import Final, Literal, Union

from cadence.errors import InvalidArgumentError
from cadence.messages._base import MessageBase, check_non_negative, check_probability

__all__ = [
    "FloorOwner",
    "FLOOR_OWNERS",
    "FloorState",
    "Speculate",
    "Commit",
    "Retract",
    "Backchannel",
    "BargeIn",
    "PausePlayout",
    "ResumePlayout",
    "FloorEvent",
]

FloorOwner = Literal["user", "persona", "none"]
#: The values of :data:`FloorOwner`.
FLOOR_OWNERS: Final[frozenset[str]] = frozenset(("user", "persona", "none"))


class FloorState(MessageBase, frozen=True, tag="floor.state", gc=False, kw_only=True):
    """The floor prediction after one 10 ms frame (``ts_ns`` = the frame's end: the media time
    up to which the Floor stage has heard the mic when it sends it; the Floor actor sends one per
    ``AudioFrame``, from its last 10 ms).

    Probabilities are in [0, 1]: ``p_keep`` that the user keeps the floor,
    ``p_end_200``/``p_end_600`` that the user's turn ends within 200/600 ms,
    ``backchannel`` a score that a backchannel fits now.
    """

    p_keep: float
    p_end_200: float
    p_end_600: float
    backchannel: float
    user_speaking: bool
    persona_speaking: bool
    owner: FloorOwner

    def __post_init__(self) -> None:
        super().__post_init__()
        check_probability("p_keep", self.p_keep)
        check_probability("p_end_200", self.p_end_200)
        check_probability("p_end_600", self.p_end_600)
        check_probability("backchannel", self.backchannel)
        if self.owner not in FLOOR_OWNERS:
            raise InvalidArgumentError(
                f"owner must be one of {sorted(FLOOR_OWNERS)}, got {self.owner!r}"
            )


class Speculate(MessageBase, frozen=True, tag="floor.speculate"):
    """Start drafting a reply under ``epoch`` (the turn end is likely, not certain)."""

    epoch: int
    confidence: float

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("epoch", self.epoch)
        check_probability("confidence", self.confidence)


class Commit(MessageBase, frozen=True, tag="floor.commit"):
    """The turn has ended: the draft of ``epoch`` may be spoken."""

    epoch: int

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("epoch", self.epoch)


class Retract(MessageBase, frozen=True, tag="floor.retract"):
    """The user kept the floor: discard everything tagged with ``epoch``."""

    epoch: int

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("epoch", self.epoch)


class Backchannel(MessageBase, frozen=True, tag="floor.backchannel"):
    """A backchannel ("mm-hm", a nod) fits now, with this score in [0, 1]."""

    score: float

    def __post_init__(self) -> None:
        super().__post_init__()
        check_probability("score", self.score)


class BargeIn(MessageBase, frozen=True, tag="floor.barge_in"):
    """The user started speaking over the persona: its speech must stop."""


class PausePlayout(MessageBase, frozen=True, tag="floor.pause_playout"):
    """The user may be talking over the persona: pause its playout now, keeping the
    position (a ``BargeIn`` or a ``ResumePlayout`` follows)."""


class ResumePlayout(MessageBase, frozen=True, tag="floor.resume_playout"):
    """The sound that paused the persona was not an interruption: resume its playout."""


FloorEvent = Union[Speculate, Commit, Retract, Backchannel, BargeIn, PausePlayout, ResumePlayout]
