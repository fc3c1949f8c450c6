"""Speech-recognition messages: partial and final transcripts with word timings."""

from __future__ import annotations

import msgspec

from cadence.messages._base import (
    MessageBase,
    as_tuple,
    check_non_negative,
    check_probability,
    check_span,
)

__all__ = ["WordTiming", "TranscriptPartial", "TranscriptFinal"]


class WordTiming(msgspec.Struct, frozen=True, gc=False):
    """One recognised word; ``start_ns``/``end_ns`` on the conversation's media clock."""

    word: str
    start_ns: int
    end_ns: int
    confidence: float

    def __post_init__(self) -> None:
        check_span("WordTiming", self.start_ns, self.end_ns)
        check_probability("WordTiming.confidence", self.confidence)


class TranscriptPartial(MessageBase, frozen=True, tag="transcript.partial", kw_only=True):
    """The current hypothesis for utterance ``utterance``; may still change."""

    utterance: int
    text: str
    words: tuple[WordTiming, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("utterance", self.utterance)
        as_tuple(self, "words")


class TranscriptFinal(MessageBase, frozen=True, tag="transcript.final", kw_only=True):
    """The settled transcript of utterance ``utterance``, spanning ``start_ns..end_ns``."""

    utterance: int
    text: str
    words: tuple[WordTiming, ...] = ()
    start_ns: int
    end_ns: int
    confidence: float

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("utterance", self.utterance)
        check_span("TranscriptFinal", self.start_ns, self.end_ns)
        check_probability("confidence", self.confidence)
        as_tuple(self, "words")
