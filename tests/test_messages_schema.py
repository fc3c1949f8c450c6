"""The shape of the vocabulary: tags, common fields, frozen-ness, public surface."""

from __future__ import annotations

import gc
import re
import types
import typing

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cadence.messages as messages
from cadence.messages import (
    MESSAGE_TAGS,
    MESSAGE_TYPES,
    AudioFrame,
    FaceParams,
    Message,
    MessageBase,
    SpeechChunk,
)
from cadence.messages.strategies import STRATEGIES, message_strategy

_IDS = [cls.__name__ for cls in MESSAGE_TYPES]


def _all_subclasses(cls: type) -> set[type]:
    out: set[type] = set()
    subs: list[type] = cls.__subclasses__()
    for sub in subs:
        out.add(sub)
        out |= _all_subclasses(sub)
    return out


def test_union_is_exactly_the_registered_types() -> None:
    members = typing.get_args(Message)
    assert len(members) == len(set(members)) == len(MESSAGE_TYPES)
    assert set(members) == set(MESSAGE_TYPES)


def test_every_message_class_is_registered() -> None:
    defined = {c for c in _all_subclasses(MessageBase) if c.__module__.startswith("cadence.messages")}
    assert defined == set(MESSAGE_TYPES)


def test_tags_are_unique_short_and_under_type() -> None:
    tags = [cls.__struct_config__.tag for cls in MESSAGE_TYPES]
    assert len(tags) == len(set(tags))
    for cls, tag in zip(MESSAGE_TYPES, tags, strict=True):
        assert isinstance(tag, str) and re.fullmatch(r"[a-z]+\.[a-z_]+", tag), (cls, tag)
        assert cls.__struct_config__.tag_field == "type"
        assert MESSAGE_TAGS[tag] is cls


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=_IDS)
def test_every_message_has_conversation_id_and_ts_ns(cls: type) -> None:
    fields = msgspec.structs.fields(cls)
    by_name = {f.name: f for f in fields}
    assert [f.name for f in fields[:2]] == ["conversation_id", "ts_ns"]
    assert by_name["conversation_id"].type is str
    assert by_name["ts_ns"].type is int
    assert by_name["conversation_id"].required and by_name["ts_ns"].required


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=_IDS)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_messages_are_frozen(cls: type[MessageBase], data: st.DataObject) -> None:
    assert cls.__struct_config__.frozen
    msg = data.draw(message_strategy(cls))
    for field in msgspec.structs.fields(cls):
        with pytest.raises(AttributeError):
            setattr(msg, field.name, getattr(msg, field.name))


def test_every_type_has_a_strategy() -> None:
    assert set(STRATEGIES) == set(MESSAGE_TYPES)


def test_audio_frame_signature_is_fixed() -> None:
    # Another stage's benchmark builds frames positionally: this order is an API.
    fields = msgspec.structs.fields(AudioFrame)
    assert [f.name for f in fields] == ["conversation_id", "ts_ns", "seq", "pcm", "rate", "channels"]
    assert [f.type for f in fields] == [str, int, int, bytes, int, int]
    assert fields[4].default == 16000 and fields[5].default == 1
    frame = AudioFrame("c", 5, 7, bytes(640))
    assert (frame.seq, frame.rate, frame.channels) == (7, 16000, 1)


def test_hot_messages_are_not_gc_tracked() -> None:
    weights = tuple(float(i) / 52 for i in range(52))  # a fresh, GC-tracked tuple
    assert gc.is_tracked(weights)
    assert not gc.is_tracked(FaceParams("c", 0, blendshapes=weights))
    chunk = SpeechChunk("c", 0, epoch=0, seq=0, pcm=bytes(8), rate=24000, phonemes=tuple([]))
    assert not gc.is_tracked(chunk)
    assert not gc.is_tracked(AudioFrame("c", 0, 0, bytes(640)))


def test_public_surface() -> None:
    names = messages.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(messages, name), name
    for cls in MESSAGE_TYPES:
        assert cls.__name__ in names
    # nothing public is left out of __all__ (submodules and typing helpers aside)
    leftover = {
        n
        for n, v in vars(messages).items()
        if not n.startswith("_")
        and n not in names
        and not isinstance(v, types.ModuleType)
        and getattr(v, "__module__", "") not in ("typing", "__future__")
        and n != "annotations"
    }
    assert leftover == set()
