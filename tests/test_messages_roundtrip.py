"""Every message type survives msgpack and JSON round trips unchanged."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadence.messages import (
    MESSAGE_TYPES,
    AudioFrame,
    FaceParams,
    decode,
    decode_json,
    encode,
    encode_into,
    encode_json,
)
from cadence.messages.strategies import any_message, message_strategy

_IDS = [cls.__name__ for cls in MESSAGE_TYPES]


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=_IDS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_msgpack_roundtrip_every_type(cls: type, data: st.DataObject) -> None:
    msg = data.draw(message_strategy(cls))
    wire = encode(msg)
    back = decode(wire)
    assert type(back) is cls
    assert back == msg
    # the tag on the wire is the class's tag, under the "type" key
    assert msgspec.msgpack.decode(wire)["type"] == cls.__struct_config__.tag


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=_IDS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_json_roundtrip_every_type(cls: type, data: st.DataObject) -> None:
    msg = data.draw(message_strategy(cls))
    text = encode_json(msg)
    back = decode_json(text)
    assert type(back) is cls
    assert back == msg
    assert decode_json(text.decode("utf-8")) == msg  # str input works too
    assert msgspec.json.decode(text)["type"] == cls.__struct_config__.tag


@settings(max_examples=200, deadline=None)
@given(msgs=st.lists(any_message(), min_size=1, max_size=8))
def test_encode_into_reused_buffer(msgs: list) -> None:
    buf = bytearray()
    for msg in msgs:
        end = encode_into(msg, buf)
        assert end == len(buf)
        assert bytes(buf) == encode(msg)
        assert decode(memoryview(buf)) == msg
        assert decode(bytearray(buf)) == msg


def test_audio_frame_positional_roundtrip_keeps_bytes() -> None:
    frame = AudioFrame("conv", 10_000_000, 1, bytes(range(256)) * 2 + bytes(128))
    back = decode(encode(frame))
    assert isinstance(back, AudioFrame)
    assert back.pcm == frame.pcm and back.rate == 16000 and back.channels == 1


def test_decoded_sequences_are_tuples() -> None:
    msg = FaceParams("conv", 0, blendshapes=[0.5] * 52)  # type: ignore[arg-type]
    assert type(msg.blendshapes) is tuple
    assert type(decode(encode(msg)).blendshapes) is tuple  # type: ignore[union-attr]
