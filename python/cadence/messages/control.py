"""Control messages: conversation lifecycle, tuning, errors and liveness."""

from __future__ import annotations

from cadence.messages._base import (
    MessageBase,
    check_non_empty,
    check_non_negative,
    check_probability,
)

__all__ = ["StartConversation", "EndConversation", "SetPatience", "Error", "Heartbeat"]


class StartConversation(MessageBase, frozen=True, tag="control.start"):
    """Start the conversation with the named persona."""

    persona: str

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_empty("persona", self.persona)


class EndConversation(MessageBase, frozen=True, tag="control.end"):
    """End the conversation; ``reason`` is free text for logs."""

    reason: str = ""


class SetPatience(MessageBase, frozen=True, tag="control.patience"):
    """How long the persona waits before taking the floor: 0 = eager (a 150 ms silence
    wait), 1 = very patient (600 ms); see ``cadence.floor.policy``."""

    patience: float

    def __post_init__(self) -> None:
        super().__post_init__()
        check_probability("patience", self.patience)


class Error(MessageBase, frozen=True, tag="control.error"):
    """A stage reports a failure: ``stage`` (e.g. "floor"), a stable ``code``, a message."""

    stage: str
    code: str
    message: str

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_empty("stage", self.stage)
        check_non_empty("code", self.code)


class Heartbeat(MessageBase, frozen=True, tag="control.heartbeat"):
    """Liveness ping from ``sender`` (an actor address or client id); ``seq`` counts up."""

    sender: str = ""
    seq: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("seq", self.seq)
