"""Wire codec: msgpack (the wire and IPC format) and JSON (traces, debugging).

One typed decoder per format is built at import and reused for every call; a
decoder validates while it parses, so a decoded message is already a checked
struct of the right type (its ``__post_init__`` ran too). Anything that is not
a valid Cadence message raises :class:`MessageDecodeError` — no other exception
escapes ``decode``/``decode_json`` for bad bytes, except :class:`OversizeError`
for input over the size limit, which is checked before parsing.
"""

from __future__ import annotations

from typing import Final

import msgspec

from cadence.errors import InvalidArgumentError, MessageDecodeError, OversizeError
from cadence.messages import MESSAGE_TYPES, Message

__all__ = [
    "encode",
    "encode_into",
    "decode",
    "encode_json",
    "decode_json",
    "MAX_MESSAGE_BYTES",
    "MAX_JSON_MESSAGE_BYTES",
]

#: Largest msgpack message accepted (fits a 4K rgb24 VideoFrame, 24.9 MB, plus headers).
MAX_MESSAGE_BYTES: Final = 32 * 1024 * 1024
#: Largest JSON message accepted (base64 makes payload bytes 4/3 larger).
MAX_JSON_MESSAGE_BYTES: Final = 48 * 1024 * 1024

_TYPES: Final = frozenset(MESSAGE_TYPES)
_ENCODER: Final = msgspec.msgpack.Encoder()
_DECODER: Final = msgspec.msgpack.Decoder(Message)
_JSON_ENCODER: Final = msgspec.json.Encoder()
_JSON_DECODER: Final = msgspec.json.Decoder(Message)
# Exceptions a malformed input could provoke besides msgspec's own; caught so
# that callers need to handle exactly one error type.
_DECODE_FAILURES: Final = (
    msgspec.DecodeError,  # also ValidationError (wrong type, bad tag, __post_init__ refusal)
    ValueError,
    TypeError,
    OverflowError,
    RecursionError,
    BufferError,  # a memoryview that is not C-contiguous
)


def _check_message(msg: object) -> None:
    if type(msg) not in _TYPES:
        raise InvalidArgumentError(
            f"not a Cadence message: {type(msg).__module__}.{type(msg).__qualname__}"
        )


def _input_size(data: object, what: str) -> int:
    if type(data) is bytes:
        return len(data)
    if isinstance(data, str):
        if what == "JSON":
            return len(data)
        raise MessageDecodeError("cannot decode msgpack message: got str, expected bytes")
    try:
        return memoryview(data).nbytes  # type: ignore[arg-type]
    except TypeError:
        raise MessageDecodeError(
            f"cannot decode {what} message: expected a bytes-like object, "
            f"got {type(data).__name__}"
        ) from None


# What msgspec raises for a message it cannot encode: an int beyond 64 bits
# (OverflowError), a field of an unsupported type (TypeError).
_ENCODE_FAILURES: Final = (OverflowError, TypeError, msgspec.EncodeError)


def _unencodable(msg: Message, what: str, exc: Exception) -> InvalidArgumentError:
    return InvalidArgumentError(f"cannot encode {type(msg).__name__} as {what}: {exc}")


def _check_size(n: int, max_size: int, what: str) -> None:
    if n > max_size:
        raise OversizeError(f"{what} message of {n} bytes exceeds the maximum of {max_size}")


def encode(msg: Message) -> bytes:
    """Encode a message to msgpack (a map with a ``"type"`` tag).

    Raises :class:`InvalidArgumentError` for an object that is not a Cadence
    message or that msgpack cannot carry (an int field beyond 64 bits, a field
    holding an object msgpack has no form for) and :class:`OversizeError` past
    :data:`MAX_MESSAGE_BYTES`. Field types are not checked here (a struct built in
    Python does not check them either, and this is the hot path): a field of the
    wrong type that msgpack can carry, an int where a str belongs, is refused by the
    receiver's :func:`decode`. :func:`encode_json` checks them.
    """
    _check_message(msg)
    try:
        data = _ENCODER.encode(msg)
    except _ENCODE_FAILURES as exc:
        raise _unencodable(msg, "msgpack", exc) from exc
    _check_size(len(data), MAX_MESSAGE_BYTES, "msgpack")
    return data


def encode_into(msg: Message, buffer: bytearray, offset: int = 0) -> int:
    """Encode ``msg`` into ``buffer`` at ``offset`` (resizing it); return the end offset.

    Lets a sender reuse one buffer per connection instead of allocating per message.
    """
    _check_message(msg)
    try:
        _ENCODER.encode_into(msg, buffer, offset)
    except _ENCODE_FAILURES as exc:
        raise _unencodable(msg, "msgpack", exc) from exc
    end = len(buffer)
    _check_size(end - offset, MAX_MESSAGE_BYTES, "msgpack")
    return end


def decode(data: bytes | bytearray | memoryview, *, max_size: int = MAX_MESSAGE_BYTES) -> Message:
    """Decode one msgpack message.

    Raises :class:`OversizeError` if ``data`` is longer than ``max_size`` bytes and
    :class:`MessageDecodeError` for anything that is not a valid message.
    """
    _check_size(_input_size(data, "msgpack"), max_size, "msgpack")
    try:
        return _DECODER.decode(data)  # type: ignore[no-any-return]
    except _DECODE_FAILURES as exc:
        raise MessageDecodeError(f"cannot decode msgpack message: {exc}") from exc


def encode_json(msg: Message) -> bytes:
    """Encode a message to UTF-8 JSON (bytes fields become base64 strings).

    Off the hot path, so it checks what it wrote reads back as the same message: a field of
    the wrong type (an int for a str, bytes for a str, which JSON would turn into a base64
    string) raises :class:`InvalidArgumentError` here, not at the receiver."""
    _check_message(msg)
    try:
        data = _JSON_ENCODER.encode(msg)
    except _ENCODE_FAILURES as exc:
        raise _unencodable(msg, "JSON", exc) from exc
    _check_size(len(data), MAX_JSON_MESSAGE_BYTES, "JSON")
    try:
        back = _JSON_DECODER.decode(data)
    except _DECODE_FAILURES as exc:
        raise InvalidArgumentError(f"{type(msg).__name__} cannot be written as JSON: {exc}") from exc
    if back != msg:
        raise InvalidArgumentError(f"{type(msg).__name__} does not survive JSON (a field of the wrong type?): "
                                   f"{msg!r} reads back as {back!r}")
    return data


def decode_json(
    data: bytes | bytearray | memoryview | str, *, max_size: int = MAX_JSON_MESSAGE_BYTES
) -> Message:
    """Decode one JSON message; same errors as :func:`decode`.

    A JSON int beyond 64 bits is refused (MessageDecodeError): whatever decodes
    is a valid wire message.
    """
    _check_size(_input_size(data, "JSON"), max_size, "JSON")
    try:
        msg = _JSON_DECODER.decode(data)
    except _DECODE_FAILURES as exc:
        raise MessageDecodeError(f"cannot decode JSON message: {exc}") from exc
    # JSON numbers are unbounded; a message is valid only if the wire format
    # (64-bit msgpack ints) can carry it. Traces and debugging only: the extra
    # encode is affordable here.
    try:
        _ENCODER.encode(msg)
    except _ENCODE_FAILURES as exc:
        raise MessageDecodeError(
            f"cannot decode JSON message: {type(msg).__name__} has a value msgpack cannot carry "
            f"(ints are 64-bit): {exc}"
        ) from exc
    return msg  # type: ignore[no-any-return]
