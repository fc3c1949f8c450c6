"""Hypothesis strategies for every message type (needs the ``test`` extra).

Used by Cadence's own tests and offered to stages that want to fuzz their
actors with valid traffic: ``message_strategy(FloorState)`` or
``any_message()``. Strategies only produce messages that pass validation.
Scalar fields are derived from their annotations and names; fields coupled to
others (payload length vs. format, spans, fixed-length weights) have their own.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable
from typing import Any, Literal

import msgspec
from hypothesis import strategies as st

from cadence.messages import (
    BLENDSHAPE_NAMES,
    MAX_CHUNK_CHANNELS,
    MAX_CHUNK_RATE,
    MAX_SPEECH_RATE,
    MESSAGE_TYPES,
    VISEME_NAMES,
    AudioChunk,
    AudioFrame,
    Error,
    FaceParams,
    MessageBase,
    PerceptionUpdate,
    PhonemeTiming,
    SampleFormat,
    SpeechChunk,
    SpeechStop,
    StartConversation,
    TranscriptFinal,
    TranscriptPartial,
    VideoFrame,
    VisemeTiming,
    WordTiming,
)

__all__ = ["message_strategy", "any_message", "STRATEGIES"]

U63 = st.integers(min_value=0, max_value=2**63 - 1)
PROB = st.floats(min_value=0.0, max_value=1.0)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
TEXT = st.text(max_size=40)
NON_EMPTY = st.text(min_size=1, max_size=40)
CONVERSATION_ID = st.text(min_size=1, max_size=128)
EPOCH_OR_NONE = st.none() | U63

# Field name → strategy, for scalar fields whose name implies a range.
_BY_NAME: dict[str, st.SearchStrategy[Any]] = {
    "conversation_id": CONVERSATION_ID,
    "p_keep": PROB,
    "p_end_200": PROB,
    "p_end_600": PROB,
    "backchannel": PROB,
    "confidence": PROB,
    "score": PROB,
    "patience": PROB,
}


def _span(max_ns: int = 2**62) -> st.SearchStrategy[tuple[int, int]]:
    bound = st.integers(min_value=0, max_value=max_ns)
    return st.tuples(bound, bound).map(lambda p: (min(p), max(p)))


def _by_type(owner: str, name: str, tp: Any) -> st.SearchStrategy[Any]:
    if name in _BY_NAME:
        return _BY_NAME[name]
    if tp is bool:
        return st.booleans()
    if tp is int:
        return U63
    if tp is float:
        return FINITE
    if tp is str:
        return TEXT
    if tp is bytes:
        return st.binary(max_size=64)
    if typing.get_origin(tp) is Literal:
        return st.sampled_from(typing.get_args(tp))
    raise TypeError(f"no strategy for {owner}.{name}: {tp!r}; add one to cadence.messages.strategies")


def _generic(cls: type[MessageBase], **overrides: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    kwargs = {
        f.name: overrides[f.name] if f.name in overrides else _by_type(cls.__name__, f.name, f.type)
        for f in msgspec.structs.fields(cls)
    }
    return st.builds(cls, **kwargs)


@st.composite
def _audio_frame(draw: st.DrawFn) -> AudioFrame:
    channels = draw(st.integers(1, 2))
    n = draw(st.sampled_from((0, 1, 160, 320)) | st.integers(0, 400))
    pcm = draw(st.binary(min_size=4 * channels * n, max_size=4 * channels * n))
    return AudioFrame(
        draw(CONVERSATION_ID), draw(U63), draw(U63), pcm, draw(st.integers(1, 192000)), channels
    )


@st.composite
def _audio_chunk(draw: st.DrawFn) -> AudioChunk:
    fmt: SampleFormat = draw(st.sampled_from(("s16le", "f32le")))
    channels = draw(st.integers(1, MAX_CHUNK_CHANNELS))
    size = (2 if fmt == "s16le" else 4) * channels * draw(st.integers(0, 64))
    return AudioChunk(
        draw(CONVERSATION_ID),
        draw(U63),
        seq=draw(U63),
        data=draw(st.binary(min_size=size, max_size=size)),
        rate=draw(st.integers(1, MAX_CHUNK_RATE)),
        channels=channels,
        sample_format=fmt,
    )


def _word() -> st.SearchStrategy[WordTiming]:
    return st.builds(lambda w, s, c: WordTiming(w, s[0], s[1], c), TEXT, _span(), PROB)


@st.composite
def _transcript_final(draw: st.DrawFn) -> TranscriptFinal:
    start, end = draw(_span())
    return TranscriptFinal(
        draw(CONVERSATION_ID),
        draw(U63),
        utterance=draw(U63),
        text=draw(TEXT),
        words=tuple(draw(st.lists(_word(), max_size=5))),
        start_ns=start,
        end_ns=end,
        confidence=draw(PROB),
    )


@st.composite
def _perception(draw: st.DrawFn) -> PerceptionUpdate:
    start, end = draw(_span())
    return PerceptionUpdate(
        draw(CONVERSATION_ID),
        draw(U63),
        description=draw(st.text(max_size=200)),
        cues=draw(st.dictionaries(NON_EMPTY, FINITE, max_size=6)),
        window_start_ns=start,
        window_end_ns=end,
    )


@st.composite
def _speech_chunk(draw: st.DrawFn) -> SpeechChunk:
    n = draw(st.integers(0, 128))
    phonemes = draw(
        st.lists(st.builds(lambda p, s: PhonemeTiming(p, *s), NON_EMPTY, _span()), max_size=4)
    )
    visemes = draw(
        st.lists(
            st.builds(lambda v, s: VisemeTiming(v, *s), st.sampled_from(VISEME_NAMES), _span()),
            max_size=4,
        )
    )
    return SpeechChunk(
        draw(CONVERSATION_ID),
        draw(U63),
        epoch=draw(U63),
        seq=draw(U63),
        pcm=draw(st.binary(min_size=4 * n, max_size=4 * n)),
        rate=draw(st.integers(1, MAX_SPEECH_RATE)),
        phonemes=tuple(phonemes),
        visemes=tuple(visemes),
    )


@st.composite
def _face(draw: st.DrawFn) -> FaceParams:
    angle = st.floats(min_value=-math.pi, max_value=math.pi)
    unit = st.floats(min_value=-1.0, max_value=1.0)
    n = len(BLENDSHAPE_NAMES)
    return FaceParams(
        draw(CONVERSATION_ID),
        draw(U63),
        # a list on purpose: construction must freeze it into a tuple
        blendshapes=draw(st.lists(PROB, min_size=n, max_size=n)),  # type: ignore[arg-type]
        yaw=draw(angle),
        pitch=draw(angle),
        roll=draw(angle),
        gaze_x=draw(unit),
        gaze_y=draw(unit),
        epoch=draw(EPOCH_OR_NONE),
        viseme=draw(st.sampled_from(VISEME_NAMES)),
    )


@st.composite
def _video(draw: st.DrawFn) -> VideoFrame:
    w, h = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    return VideoFrame(
        draw(CONVERSATION_ID),
        draw(U63),
        width=w,
        height=h,
        data=draw(st.binary(min_size=w * h * 3, max_size=w * h * 3)),
        seq=draw(U63),
    )


#: Message type → a strategy producing valid instances of it.
STRATEGIES: dict[type[MessageBase], st.SearchStrategy[Any]] = {
    AudioFrame: _audio_frame(),
    AudioChunk: _audio_chunk(),
    TranscriptPartial: _generic(
        TranscriptPartial, words=st.lists(_word(), max_size=5).map(tuple)
    ),
    TranscriptFinal: _transcript_final(),
    PerceptionUpdate: _perception(),
    SpeechChunk: _speech_chunk(),
    SpeechStop: _generic(SpeechStop, epoch=EPOCH_OR_NONE),
    FaceParams: _face(),
    VideoFrame: _video(),
    StartConversation: _generic(StartConversation, persona=NON_EMPTY),
    Error: _generic(Error, stage=NON_EMPTY, code=NON_EMPTY),
}
for _cls in MESSAGE_TYPES:
    if _cls not in STRATEGIES:
        STRATEGIES[_cls] = _generic(_cls)


def message_strategy(cls: type[MessageBase]) -> st.SearchStrategy[Any]:
    """A strategy for valid instances of message type ``cls``."""
    return STRATEGIES[cls]


def any_message(
    types: Callable[[type[MessageBase]], bool] = lambda cls: True,
) -> st.SearchStrategy[Any]:
    """A strategy over every message type (optionally filtered by ``types``)."""
    return st.one_of([STRATEGIES[c] for c in MESSAGE_TYPES if types(c)])
