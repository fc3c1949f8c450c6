"""Every message Cadence stages exchange, split by domain, and their wire codec.

All messages are frozen, tagged ``msgspec.Struct``\\ s (tag field ``"type"``)
carrying ``conversation_id`` and ``ts_ns`` (media time, ns). :data:`Message`
is the union of all of them; :func:`encode`/:func:`decode` move them as msgpack.
See ``_base.py`` for the measured wire-layout choice.
"""

from __future__ import annotations

from typing import Final, Union

from cadence.messages._base import MAX_CONVERSATION_ID_CHARS, MAX_TS_NS, MessageBase
from cadence.messages.audio import (
    ALLOWED_FRAME_SAMPLES,
    FRAME_SAMPLES,
    INTERNAL_RATE,
    MAX_CHUNK_CHANNELS,
    MAX_CHUNK_RATE,
    AudioChunk,
    AudioFrame,
    SampleFormat,
)
from cadence.messages.control import (
    EndConversation,
    Error,
    Heartbeat,
    SetPatience,
    StartConversation,
)
from cadence.messages.dialogue import (
    DISCARD_REASONS,
    DiscardReason,
    DraftCommitted,
    DraftDiscarded,
    DraftStarted,
    TextDelta,
)
from cadence.messages.face import BLENDSHAPE_INDEX, BLENDSHAPE_NAMES, FaceParams
from cadence.messages.floor import (
    FLOOR_OWNERS,
    Backchannel,
    BargeIn,
    Commit,
    FloorEvent,
    FloorOwner,
    FloorState,
    PausePlayout,
    ResumePlayout,
    Retract,
    Speculate,
)
from cadence.messages.perception import PerceptionUpdate
from cadence.messages.speech import (
    MAX_SPEECH_RATE,
    STOP_REASONS,
    VISEME_NAMES,
    PhonemeTiming,
    SpeechChunk,
    SpeechEnd,
    SpeechStop,
    StopReason,
    VisemeTiming,
)
from cadence.messages.transcript import TranscriptFinal, TranscriptPartial, WordTiming
from cadence.messages.video import MAX_VIDEO_HEIGHT, MAX_VIDEO_WIDTH, PixelFormat, VideoFrame

#: Every message type, in one place. Adding a message means adding it here.
MESSAGE_TYPES: Final[tuple[type[MessageBase], ...]] = (
    # audio
    AudioFrame,
    AudioChunk,
    # floor
    FloorState,
    Speculate,
    Commit,
    Retract,
    Backchannel,
    BargeIn,
    PausePlayout,
    ResumePlayout,
    # transcripts
    TranscriptPartial,
    TranscriptFinal,
    # perception
    PerceptionUpdate,
    # dialogue
    DraftStarted,
    DraftCommitted,
    DraftDiscarded,
    TextDelta,
    # speech
    SpeechChunk,
    SpeechEnd,
    SpeechStop,
    # face
    FaceParams,
    # video
    VideoFrame,
    # control
    StartConversation,
    EndConversation,
    SetPatience,
    Error,
    Heartbeat,
)

Message = Union[
    AudioFrame,
    AudioChunk,
    FloorState,
    Speculate,
    Commit,
    Retract,
    Backchannel,
    BargeIn,
    PausePlayout,
    ResumePlayout,
    TranscriptPartial,
    TranscriptFinal,
    PerceptionUpdate,
    DraftStarted,
    DraftCommitted,
    DraftDiscarded,
    TextDelta,
    SpeechChunk,
    SpeechEnd,
    SpeechStop,
    FaceParams,
    VideoFrame,
    StartConversation,
    EndConversation,
    SetPatience,
    Error,
    Heartbeat,
]

#: Wire tag → message type.
MESSAGE_TAGS: Final[dict[str, type[MessageBase]]] = {
    t.__struct_config__.tag: t for t in MESSAGE_TYPES  # type: ignore[misc]
}

# The codec builds its decoders from ``Message``, so it is imported after it.
from cadence.messages.codec import (  # noqa: E402
    MAX_JSON_MESSAGE_BYTES,
    MAX_MESSAGE_BYTES,
    decode,
    decode_json,
    encode,
    encode_into,
    encode_json,
)

__all__ = [
    # base and union
    "MessageBase",
    "Message",
    "MESSAGE_TYPES",
    "MESSAGE_TAGS",
    "MAX_CONVERSATION_ID_CHARS",
    "MAX_TS_NS",
    # audio
    "AudioFrame",
    "AudioChunk",
    "SampleFormat",
    "INTERNAL_RATE",
    "FRAME_SAMPLES",
    "ALLOWED_FRAME_SAMPLES",
    "MAX_CHUNK_RATE",
    "MAX_CHUNK_CHANNELS",
    # floor
    "FloorState",
    "FloorOwner",
    "FLOOR_OWNERS",
    "FloorEvent",
    "Speculate",
    "Commit",
    "Retract",
    "Backchannel",
    "BargeIn",
    "PausePlayout",
    "ResumePlayout",
    # transcripts
    "WordTiming",
    "TranscriptPartial",
    "TranscriptFinal",
    # perception
    "PerceptionUpdate",
    # dialogue
    "DraftStarted",
    "DraftCommitted",
    "DraftDiscarded",
    "DiscardReason",
    "DISCARD_REASONS",
    "TextDelta",
    # speech
    "PhonemeTiming",
    "VisemeTiming",
    "VISEME_NAMES",
    "SpeechChunk",
    "SpeechEnd",
    "SpeechStop",
    "StopReason",
    "STOP_REASONS",
    "MAX_SPEECH_RATE",
    # face
    "FaceParams",
    "BLENDSHAPE_NAMES",
    "BLENDSHAPE_INDEX",
    # video
    "VideoFrame",
    "PixelFormat",
    "MAX_VIDEO_WIDTH",
    "MAX_VIDEO_HEIGHT",
    # control
    "StartConversation",
    "EndConversation",
    "SetPatience",
    "Error",
    "Heartbeat",
    # codec
    "encode",
    "encode_into",
    "decode",
    "encode_json",
    "decode_json",
    "MAX_MESSAGE_BYTES",
    "MAX_JSON_MESSAGE_BYTES",
]
