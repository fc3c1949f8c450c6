"""Construction-time validation and the payload helpers (views, from_*, size checks)."""

from __future__ import annotations

import math

import msgspec
import numpy as np
import pytest

from cadence.errors import (
    CadenceError,
    InvalidArgumentError,
    InvalidAudioError,
    MessageDecodeError,
    OversizeError,
    UnsupportedRateError,
)
from cadence.messages import (
    BLENDSHAPE_NAMES,
    AudioChunk,
    AudioFrame,
    Backchannel,
    Commit,
    DraftDiscarded,
    Error,
    FaceParams,
    FloorState,
    Heartbeat,
    PerceptionUpdate,
    PhonemeTiming,
    SetPatience,
    Speculate,
    SpeechChunk,
    SpeechStop,
    StartConversation,
    TextDelta,
    TranscriptFinal,
    TranscriptPartial,
    VideoFrame,
    VisemeTiming,
    WordTiming,
    decode,
    decode_json,
    encode,
    encode_into,
    encode_json,
)


def _floor(**kw: object) -> FloorState:
    args: dict[str, object] = dict(
        p_keep=0.9, p_end_200=0.05, p_end_600=0.1, backchannel=0.2,
        user_speaking=True, persona_speaking=False, owner="user",
    )  # fmt: skip
    args.update(kw)
    return FloorState("conv", 0, **args)  # type: ignore[arg-type]


# --- common fields -------------------------------------------------------------
@pytest.mark.parametrize("cid", ["", "x" * 129])
def test_conversation_id_must_be_1_to_128_chars(cid: str) -> None:
    with pytest.raises(InvalidArgumentError, match="conversation_id"):
        Commit(cid, 0, 1)
    Commit("x" * 128, 0, 1)


def test_ts_ns_must_be_non_negative() -> None:
    with pytest.raises(InvalidArgumentError, match="ts_ns"):
        Heartbeat("c", -1)
    assert Heartbeat("c", 0).ts_ns == 0


def test_ts_ns_must_fit_int64_nanoseconds() -> None:
    # beyond this msgpack cannot carry it: the message would be unencodable
    with pytest.raises(InvalidArgumentError, match="ts_ns"):
        Heartbeat("c", 2**63)
    assert decode(encode(Heartbeat("c", 2**63 - 1))).ts_ns == 2**63 - 1
    with pytest.raises(MessageDecodeError):
        decode_json(b'{"type":"control.heartbeat","conversation_id":"c","ts_ns":1' + b"0" * 25 + b"}")


def test_int_fields_are_plain_ints_or_refused() -> None:
    """A struct built in Python is not type-checked by msgspec: an integer of another type
    (numpy's) is stored as its plain int, so that it neither wraps an actor's clock
    (``np.uint64``) nor fails to encode in every message built from it later
    (``np.int64``); a bool or a non-integer is refused."""
    from fractions import Fraction

    for value in (np.int64(7), np.uint64(7), np.int32(7)):
        frame = AudioFrame("c", value, np.uint16(3), b"\0" * 640, np.int64(16000))
        assert (type(frame.ts_ns), type(frame.seq), type(frame.rate)) == (int, int, int)
        assert decode(encode(frame)) == frame
    for bad in (1.0, np.float32(1), Fraction(1, 3), "5", None, True):
        with pytest.raises(InvalidArgumentError, match="ts_ns must be an integer"):
            Heartbeat("c", bad)
    with pytest.raises(InvalidArgumentError, match="rate must be an integer"):
        AudioFrame("c", 0, 0, b"\0" * 640, 16000.0)
    # ``int | None`` fields too
    stop = SpeechStop(conversation_id="c", ts_ns=0, epoch=np.int64(3), reason="shutdown")
    assert type(stop.epoch) is int and decode(encode(stop)) == stop
    assert SpeechStop(conversation_id="c", ts_ns=0, epoch=None, reason="shutdown").epoch is None
    for bad in (True, 2.5):
        with pytest.raises(InvalidArgumentError, match="epoch must be an integer"):
            SpeechStop(conversation_id="c", ts_ns=0, epoch=bad, reason="shutdown")


def test_encode_out_of_range_int_is_a_cadence_error() -> None:
    # an int field beyond msgpack's range: a clear InvalidArgumentError, not OverflowError
    msg = Commit("c", 0, 2**70)
    for enc in (encode, lambda m: encode_into(m, bytearray())):
        with pytest.raises(InvalidArgumentError, match="cannot encode Commit"):
            enc(msg)
    # JSON can spell such an int, but what decode_json accepts must be a valid
    # wire message (msgpack-encodable), so it is refused there
    with pytest.raises(MessageDecodeError, match="64-bit"):
        decode_json(encode_json(msg))


def test_errors_are_cadence_value_errors() -> None:
    for cls in (InvalidArgumentError, InvalidAudioError, MessageDecodeError, OversizeError):
        assert issubclass(cls, CadenceError) and issubclass(cls, ValueError)


# --- audio ---------------------------------------------------------------------
def test_audio_frame_samples_is_a_read_only_zero_copy_view() -> None:
    x = np.linspace(-1, 1, 160, dtype=np.float32)
    frame = AudioFrame.from_samples("c", 0, 0, x)
    view = frame.samples()
    assert view.dtype == np.float32 and view.shape == (160,)
    assert view.base is frame.pcm  # no copy: the array reads the message's bytes
    assert not view.flags.writeable
    with pytest.raises(ValueError):
        view[0] = 1.0
    np.testing.assert_array_equal(view, x)
    assert frame.duration_ns == 10_000_000 and frame.num_samples == 160


def test_audio_frame_from_samples_converts_and_validates() -> None:
    f = AudioFrame.from_samples("c", 1, 2, np.zeros(320, dtype=np.float64))
    assert len(f.pcm) == 320 * 4 and f.duration_ns == 20_000_000
    stereo = AudioFrame.from_samples("c", 0, 0, np.zeros((160, 2), np.float32), channels=2, validate=False)
    assert stereo.samples().shape == (160, 2)
    with pytest.raises(InvalidAudioError, match="NaN"):
        AudioFrame.from_samples("c", 0, 0, np.full(160, np.nan))
    with pytest.raises(InvalidAudioError, match="NaN"):
        AudioFrame.from_samples("c", 0, 0, np.r_[np.zeros(159), np.inf])
    with pytest.raises(InvalidAudioError, match="samples"):
        AudioFrame.from_samples("c", 0, 0, np.zeros(100))
    assert AudioFrame.from_samples("c", 0, 0, np.zeros(100), validate=False).num_samples == 100
    with pytest.raises(UnsupportedRateError):
        AudioFrame.from_samples("c", 0, 0, np.zeros(480), rate=48000)
    with pytest.raises(InvalidAudioError, match="mono"):
        AudioFrame.from_samples("c", 0, 0, np.zeros((160, 2)), channels=2)
    with pytest.raises(InvalidAudioError, match="floating"):
        AudioFrame.from_samples("c", 0, 0, np.zeros(160, np.int16))
    with pytest.raises(InvalidAudioError, match="columns"):
        AudioFrame.from_samples("c", 0, 0, np.zeros((160, 2)))
    with pytest.raises(InvalidAudioError, match="1-D or 2-D"):
        AudioFrame.from_samples("c", 0, 0, np.zeros((2, 2, 40)))


def test_audio_frame_construction_checks_structure() -> None:
    with pytest.raises(InvalidAudioError, match="whole number"):
        AudioFrame("c", 0, 0, b"abc")
    with pytest.raises(InvalidAudioError, match="whole number"):
        AudioFrame("c", 0, 0, bytes(12), channels=2)
    with pytest.raises(UnsupportedRateError):
        AudioFrame("c", 0, 0, bytes(4), rate=0)
    with pytest.raises(InvalidAudioError):
        AudioFrame("c", 0, 0, bytes(4), channels=0)
    with pytest.raises(InvalidArgumentError, match="seq"):
        AudioFrame("c", 0, -1, bytes(4))
    # built in Python, not decoded: an array or a str would pass a length check by its elements
    with pytest.raises(InvalidAudioError, match="pcm must be bytes"):
        AudioFrame("c", 0, 0, np.zeros(640, np.float32))  # type: ignore[arg-type]
    with pytest.raises(InvalidAudioError, match="pcm must be bytes"):
        AudioFrame("c", 0, 0, "x" * 640)  # type: ignore[arg-type]
    with pytest.raises(InvalidAudioError, match="data must be bytes"):
        AudioChunk(conversation_id="c", ts_ns=0, seq=0, data=np.zeros(4, np.int16), rate=16000)  # type: ignore[arg-type]
    # beyond the Rust rings' limit: refused at the edge, before a gap's silence is queued
    from cadence._core import MAX_SAMPLE_ABS
    from cadence.messages.audio import MAX_SAMPLE_ABS as EDGE_MAX

    assert EDGE_MAX == MAX_SAMPLE_ABS
    loud = np.zeros(160, np.float32)
    loud[7] = 2e6
    with pytest.raises(InvalidAudioError, match="magnitude 2e"):
        AudioFrame("c", 0, 0, loud.tobytes()).validate()
    loud[7] = MAX_SAMPLE_ABS
    AudioFrame("c", 0, 0, loud.tobytes()).validate()
    with pytest.raises(InvalidArgumentError, match="conversation_id must be a str, got NoneType"):
        AudioFrame(None, 0, 0, bytes(640))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="ts_ns must be an integer"):
        AudioFrame("c", 1e9, 0, bytes(640))  # type: ignore[arg-type]
    # cheap construction does not scan samples; validate() does
    nan = AudioFrame("c", 0, 0, np.full(160, np.nan, np.float32).tobytes())
    with pytest.raises(InvalidAudioError):
        nan.validate()


def test_audio_chunk_int16_and_float32() -> None:
    pcm = (np.arange(960, dtype=np.int16) - 480).reshape(480, 2)
    chunk = AudioChunk.from_samples("c", 0, 3, pcm, rate=48000)
    assert (chunk.sample_format, chunk.channels, chunk.num_samples) == ("s16le", 2, 480)
    assert chunk.duration_ns == 10_000_000
    view = chunk.samples()
    assert view.base is not None and not view.flags.writeable
    np.testing.assert_array_equal(view, pcm)
    f32 = AudioChunk.from_samples("c", 0, 0, np.ones(441, np.float32), rate=44100)
    assert f32.sample_format == "f32le" and f32.samples().shape == (441, 1)
    with pytest.raises(InvalidAudioError, match="NaN"):
        AudioChunk.from_samples("c", 0, 0, np.array([np.nan], np.float32), rate=8000)
    with pytest.raises(InvalidAudioError, match="int16 or float32"):
        AudioChunk.from_samples("c", 0, 0, np.zeros(4), rate=8000)
    with pytest.raises(InvalidAudioError, match="whole number"):
        AudioChunk("c", 0, seq=0, data=b"\x00\x00\x00", rate=8000, channels=1)
    with pytest.raises(UnsupportedRateError):
        AudioChunk("c", 0, seq=0, data=b"", rate=1_000_000)
    with pytest.raises(InvalidAudioError, match="channels"):
        AudioChunk("c", 0, seq=0, data=b"", rate=8000, channels=9)
    with pytest.raises(InvalidAudioError, match="sample_format"):
        AudioChunk("c", 0, seq=0, data=b"", rate=8000, sample_format="u8")  # type: ignore[arg-type]


# --- floor ---------------------------------------------------------------------
@pytest.mark.parametrize("field", ["p_keep", "p_end_200", "p_end_600", "backchannel"])
@pytest.mark.parametrize("value", [-0.01, 1.01, math.nan, math.inf])
def test_floor_state_probabilities(field: str, value: float) -> None:
    with pytest.raises(InvalidArgumentError, match=field):
        _floor(**{field: value})


def test_floor_state_owner_and_events() -> None:
    assert _floor(p_keep=0.0, owner="none").owner == "none"
    with pytest.raises(InvalidArgumentError, match="owner"):
        _floor(owner="bob")
    with pytest.raises(InvalidArgumentError, match="epoch"):
        Speculate("c", 0, -1, 0.5)
    with pytest.raises(InvalidArgumentError, match="confidence"):
        Speculate("c", 0, 1, 2.0)
    with pytest.raises(InvalidArgumentError, match="score"):
        Backchannel("c", 0, -0.5)


# --- transcripts, perception, dialogue -----------------------------------------
def test_transcripts() -> None:
    w = WordTiming("hi", 10, 20, 0.9)
    part = TranscriptPartial("c", 0, utterance=1, text="hi", words=[w])  # type: ignore[arg-type]
    assert part.words == (w,)
    with pytest.raises(InvalidArgumentError, match="start_ns <= end_ns"):
        WordTiming("hi", 20, 10, 0.9)
    with pytest.raises(InvalidArgumentError, match="confidence"):
        WordTiming("hi", 0, 10, 1.5)
    with pytest.raises(InvalidArgumentError):
        TranscriptFinal("c", 0, utterance=0, text="", start_ns=5, end_ns=4, confidence=1.0)


def test_perception_update() -> None:
    up = PerceptionUpdate(
        "c", 300, description="calm", cues={"pitch_z": 0.3}, window_start_ns=0, window_end_ns=100
    )
    assert up.staleness_ns(400) == 300
    with pytest.raises(InvalidArgumentError, match="finite"):
        PerceptionUpdate("c", 0, description="", cues={"x": math.nan}, window_start_ns=0, window_end_ns=0)
    with pytest.raises(InvalidArgumentError, match="non-empty"):
        PerceptionUpdate("c", 0, description="", cues={"": 1.0}, window_start_ns=0, window_end_ns=0)
    with pytest.raises(InvalidArgumentError, match="window"):
        PerceptionUpdate("c", 0, description="", window_start_ns=2, window_end_ns=1)


def test_dialogue_messages() -> None:
    assert TextDelta("c", 0, 3, "Hel").final is False
    with pytest.raises(InvalidArgumentError, match="reason"):
        DraftDiscarded("c", 0, 1, "bored")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="seq"):
        TextDelta("c", 0, 1, "x", seq=-1)


# --- speech and face -----------------------------------------------------------
def test_speech_chunk() -> None:
    pcm = np.zeros(240, np.float32).tobytes()
    chunk = SpeechChunk(
        "c", 0, epoch=2, seq=0, pcm=pcm, rate=24000,
        phonemes=[PhonemeTiming("h", 0, 5)], visemes=[VisemeTiming("aa", 0, 5)],  # type: ignore[arg-type]
    )  # fmt: skip
    assert chunk.duration_ns == 10_000_000 and chunk.samples().base is chunk.pcm
    assert type(chunk.phonemes) is tuple and type(chunk.visemes) is tuple
    with pytest.raises(InvalidArgumentError, match="viseme"):
        VisemeTiming("zz", 0, 1)
    with pytest.raises(InvalidAudioError):
        SpeechChunk("c", 0, epoch=0, seq=0, pcm=b"\x00", rate=24000)
    with pytest.raises(UnsupportedRateError):
        SpeechChunk("c", 0, epoch=0, seq=0, pcm=b"", rate=0)
    assert SpeechStop("c", 0).epoch is None
    with pytest.raises(InvalidArgumentError, match="reason"):
        SpeechStop("c", 0, reason="tired")  # type: ignore[arg-type]


def test_face_params() -> None:
    weights = FaceParams.weights_from_mapping({"jawOpen": 0.7, "eyeBlinkLeft": 1.0})
    face = FaceParams("c", 0, blendshapes=weights, yaw=0.1, epoch=3, viseme="aa")
    assert len(BLENDSHAPE_NAMES) == len(set(BLENDSHAPE_NAMES)) == 52
    assert face.weight("jawOpen") == 0.7 and face.weight("mouthClose") == 0.0
    with pytest.raises(InvalidArgumentError, match="unknown blendshape"):
        face.weight("_neutral")
    with pytest.raises(InvalidArgumentError, match="unknown blendshape"):
        FaceParams.weights_from_mapping({"_neutral": 1.0})
    with pytest.raises(InvalidArgumentError, match="52"):
        FaceParams("c", 0, blendshapes=(0.0,) * 51)
    bad = list(weights)
    bad[BLENDSHAPE_NAMES.index("jawOpen")] = 1.5
    with pytest.raises(InvalidArgumentError, match="jawOpen"):
        FaceParams("c", 0, blendshapes=tuple(bad))
    with pytest.raises(InvalidArgumentError, match="yaw"):
        FaceParams("c", 0, blendshapes=weights, yaw=4.0)
    with pytest.raises(InvalidArgumentError, match="pitch"):
        FaceParams("c", 0, blendshapes=weights, pitch=math.nan)
    with pytest.raises(InvalidArgumentError, match="gaze_y"):
        FaceParams("c", 0, blendshapes=weights, gaze_y=-1.5)
    with pytest.raises(InvalidArgumentError, match="viseme"):
        FaceParams("c", 0, blendshapes=weights, viseme="xx")


# --- video ---------------------------------------------------------------------
def test_video_frame_views_and_sizes() -> None:
    img = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    frame = VideoFrame.from_array("c", 0, 1, img)
    assert (frame.width, frame.height, frame.format) == (6, 4, "rgb24")
    arr = frame.array()
    assert arr.base is not None and not arr.flags.writeable
    np.testing.assert_array_equal(arr, img)
    frame.check_size(6, 4)
    with pytest.raises(OversizeError, match="6x4"):
        frame.check_size(max_width=5)
    with pytest.raises(OversizeError):
        VideoFrame("c", 0, width=3841, height=1, data=bytes(3841 * 3), seq=0)
    with pytest.raises(InvalidArgumentError, match="needs 72 bytes"):
        VideoFrame("c", 0, width=6, height=4, data=bytes(71), seq=0)
    with pytest.raises(InvalidArgumentError, match="1x1"):
        VideoFrame("c", 0, width=0, height=4, data=b"", seq=0)
    with pytest.raises(InvalidArgumentError, match="uint8"):
        VideoFrame.from_array("c", 0, 0, np.zeros((4, 4, 4), np.uint8))
    # an oversize frame arriving over the wire is refused by the decoder as well
    wire = msgspec.msgpack.encode(
        {"type": "video.frame", "conversation_id": "c", "ts_ns": 0, "width": 5000, "height": 1,
         "data": bytes(15000), "seq": 0}
    )  # fmt: skip
    with pytest.raises(MessageDecodeError, match="exceeds"):
        decode(wire)


# --- control and encode --------------------------------------------------------
def test_control_messages() -> None:
    with pytest.raises(InvalidArgumentError, match="persona"):
        StartConversation("c", 0, "")
    with pytest.raises(InvalidArgumentError, match="patience"):
        SetPatience("c", 0, 1.2)
    with pytest.raises(InvalidArgumentError, match="stage"):
        Error("c", 0, "", "E1", "boom")


def test_encode_refuses_non_messages() -> None:
    class Other(msgspec.Struct):
        x: int

    for obj in (Other(1), {"type": "floor.commit"}, None, WordTiming("a", 0, 1, 1.0)):
        with pytest.raises(InvalidArgumentError, match="not a Cadence message"):
            encode(obj)  # type: ignore[arg-type]


def test_repr_abbreviates_payloads() -> None:
    frame = AudioFrame("c", 0, 0, bytes(640))
    assert "pcm=<640 bytes>" in repr(frame) and len(repr(frame)) < 120
    assert "pcm=b'\\x00\\x00\\x00\\x00'" in repr(AudioFrame("c", 0, 0, bytes(4)))
