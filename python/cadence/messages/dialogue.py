"""Dialogue messages: speculative drafts and the text they produce, tagged by epoch.

A draft lives under one speculation epoch (opened by ``floor.Speculate``).
Everything the draft produces carries that epoch, so discarding the epoch drops
all of it downstream without cancelling tasks.
"""

from __future__ import annotations

from typing import Final, Literal

from cadence.errors import InvalidArgumentError
from cadence.messages._base import MessageBase, check_non_negative

__all__ = [
    "DraftStarted",
    "DraftCommitted",
    "DraftDiscarded",
    "DiscardReason",
    "DISCARD_REASONS",
    "TextDelta",
]

DiscardReason = Literal["retracted", "superseded", "barge_in", "guardrail", "error"]
#: The values of :data:`DiscardReason`.
DISCARD_REASONS: Final[frozenset[str]] = frozenset(
    ("retracted", "superseded", "barge_in", "guardrail", "error")
)


class DraftStarted(MessageBase, frozen=True, tag="dialogue.draft_started", kw_only=True):
    """The LLM started a draft under ``epoch``, answering ``prompt_text``."""

    epoch: int
    prompt_text: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("epoch", self.epoch)


class DraftCommitted(MessageBase, frozen=True, tag="dialogue.draft_committed"):
    """The draft of ``epoch`` is committed: its text may be voiced."""

    epoch: int

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("epoch", self.epoch)


class DraftDiscarded(MessageBase, frozen=True, tag="dialogue.draft_discarded"):
    """The draft of ``epoch`` was dropped; everything tagged with it is void."""

    epoch: int
    reason: DiscardReason = "retracted"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("epoch", self.epoch)
        if self.reason not in DISCARD_REASONS:
            raise InvalidArgumentError(
                f"reason must be one of {sorted(DISCARD_REASONS)}, got {self.reason!r}"
            )


class TextDelta(MessageBase, frozen=True, tag="dialogue.text"):
    """A piece of reply text of draft ``epoch``; ``final`` marks the draft's last piece.

    ``seq`` orders the deltas of one epoch (0, 1, 2, ...).
    """

    epoch: int
    text: str
    final: bool = False
    seq: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("epoch", self.epoch)
        check_non_negative("seq", self.seq)
