"""Fuzzing the decoders: whatever the bytes, only MessageDecodeError comes out."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadence.errors import MessageDecodeError, OversizeError
from cadence.messages import (
    MESSAGE_TAGS,
    MESSAGE_TYPES,
    Commit,
    Message,
    PerceptionUpdate,
    VideoFrame,
    decode,
    decode_json,
    encode,
    encode_json,
)
from cadence.messages.strategies import any_message


def _decode_or_none(data: bytes | bytearray | str, *, json: bool = False) -> Message | None:
    """Decode, tolerating only MessageDecodeError; a success must be a real message."""
    try:
        msg = decode_json(data) if json else decode(data)  # type: ignore[arg-type]
    except MessageDecodeError as exc:
        assert str(exc).startswith("cannot decode")
        return None
    assert type(msg) in MESSAGE_TYPES
    # whatever decoded is a valid message: it round-trips
    assert decode(encode(msg)) == msg
    return msg


@settings(max_examples=4000, deadline=None)
@given(st.binary(max_size=512))
def test_decode_arbitrary_bytes(data: bytes) -> None:
    _decode_or_none(data)


@settings(max_examples=1500, deadline=None)
@given(st.text(max_size=256) | st.binary(max_size=256))
def test_decode_json_arbitrary_input(data: str | bytes) -> None:
    _decode_or_none(data, json=True)


# msgpack-encodable values (msgpack ints span [-2**63, 2**64 - 1])
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats()
    | st.text(max_size=20)
    | st.binary(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def _plausible_maps(draw: st.DrawFn) -> dict:
    """Maps with a real tag and (mostly) real field names but random values."""
    tag = draw(st.sampled_from(sorted(MESSAGE_TAGS)) | st.text(max_size=12))
    cls = MESSAGE_TAGS.get(tag, Commit)
    names = [f.name for f in msgspec.structs.fields(cls)]
    keys = draw(st.lists(st.sampled_from(names) | st.text(max_size=8), max_size=len(names) + 2))
    out = {k: draw(_VALUES) for k in keys}
    out["type"] = tag
    return out


def _check_structured(obj: dict) -> None:
    _decode_or_none(msgspec.msgpack.encode(obj))
    _decode_or_none(msgspec.json.encode(obj), json=True)


# Generating nested values costs more than decoding them: a modest default run,
# and a long one behind the slow marker.
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_plausible_maps())
def test_decode_structured_garbage(obj: dict) -> None:
    _check_structured(obj)


@pytest.mark.slow
@settings(max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_plausible_maps())
def test_decode_structured_garbage_long(obj: dict) -> None:
    _check_structured(obj)


@st.composite
def _mutated(draw: st.DrawFn) -> tuple[bytes, str]:
    msg = draw(any_message())
    as_json = draw(st.booleans())
    data = bytearray(encode_json(msg) if as_json else encode(msg))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("flip", "set", "truncate", "insert", "delete")))
        if not data:
            data += draw(st.binary(min_size=1, max_size=4))
            continue
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[i] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[i : i + draw(st.integers(1, 8))]
    return bytes(data), ("json" if as_json else "msgpack")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_decode_mutated_encodings(case: tuple[bytes, str]) -> None:
    data, fmt = case
    _decode_or_none(data, json=fmt == "json")


@pytest.mark.slow
@settings(max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_decode_mutated_encodings_long(case: tuple[bytes, str]) -> None:
    data, fmt = case
    _decode_or_none(data, json=fmt == "json")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",  # never-used msgpack byte
        b"\x91" * 200_000 + b"\xc0",  # deeply nested arrays
        b"\x81\xa1a" * 100_000 + b"\xc0",  # deeply nested maps
        b"\xdd\xff\xff\xff\xff",  # array claiming 4G items
        b"\xdb\xff\xff\xff\xff",  # str claiming 4 GB
        msgspec.msgpack.encode({"type": "floor.commit", "conversation_id": "c", "ts_ns": 1}),
        msgspec.msgpack.encode({"type": "floor.commit", "conversation_id": "c", "ts_ns": 1, "epoch": -1}),
        msgspec.msgpack.encode({"type": "floor.commit", "conversation_id": "c", "ts_ns": 1, "epoch": 2**64 - 1, "x": 1})[:-1],
        msgspec.msgpack.encode({"type": "floor.commit", "conversation_id": "", "ts_ns": 1, "epoch": 1}),
        msgspec.msgpack.encode({"type": "floor.commit", "conversation_id": "c", "ts_ns": 1.5, "epoch": 1}),
        encode(Commit("c", 1, 2)) + b"\x00",  # trailing bytes
        b"\x83\xa4type\xabfloor.commit\xafconversation_id\xa2\xff\xfe\xa5ts_ns\x01",  # bad UTF-8
    ],
)  # fmt: skip
def test_decode_known_bad_inputs(data: bytes) -> None:
    with pytest.raises(MessageDecodeError):
        decode(data)


def test_decode_rejects_values_validation_refuses() -> None:
    bad = msgspec.msgpack.encode(
        {"type": "floor.state", "conversation_id": "c", "ts_ns": 0, "p_keep": 1.5,
         "p_end_200": 0.1, "p_end_600": 0.2, "backchannel": 0.0, "user_speaking": True,
         "persona_speaking": False, "owner": "user"}
    )  # fmt: skip
    with pytest.raises(MessageDecodeError, match="p_keep"):
        decode(bad)
    nan_cue = msgspec.json.encode(
        {"type": "perception.update", "conversation_id": "c", "ts_ns": 0, "description": "",
         "cues": {"x": 1.0}, "window_start_ns": 5, "window_end_ns": 1}
    )  # fmt: skip
    with pytest.raises(MessageDecodeError, match="window"):
        decode_json(nan_cue)


@pytest.mark.parametrize("data", ["text", 17, None, 1.5, [b"\x00"], object()])
def test_decode_non_bytes_input(data: object) -> None:
    with pytest.raises(MessageDecodeError):
        decode(data)  # type: ignore[arg-type]


@pytest.mark.parametrize("data", [17, None, [b"{}"]])
def test_decode_json_non_text_input(data: object) -> None:
    with pytest.raises(MessageDecodeError):
        decode_json(data)  # type: ignore[arg-type]


def test_oversize_input_is_refused_before_parsing() -> None:
    wire = encode(PerceptionUpdate("c", 0, description="x" * 100, window_start_ns=0, window_end_ns=0))
    assert decode(wire, max_size=len(wire)) is not None
    with pytest.raises(OversizeError):
        decode(wire, max_size=len(wire) - 1)
    with pytest.raises(OversizeError):
        decode(b"\x00" * 1000, max_size=999)  # garbage, but the size check comes first
    text = encode_json(Commit("c", 0, 1))
    with pytest.raises(OversizeError):
        decode_json(text, max_size=len(text) - 1)


def test_largest_legal_frame_fits_the_default_limit() -> None:
    frame = VideoFrame("c", 0, width=3840, height=2160, data=bytes(3840 * 2160 * 3), seq=0)
    assert decode(encode(frame)) == frame
