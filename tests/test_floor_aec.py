"""The adaptive echo canceller (Rust ``EchoCanceller``) on real synthetic speech:
the persona's echo comes back through a low-pass, delayed, attenuated path (as the
corpus simulates it), the user talks over it, and the canceller must remove the
echo, keep the user, and refuse bad input without losing anything."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import signal

from cadence._core import EchoCanceller
from cadence.errors import InvalidArgumentError, InvalidAudioError
from cadence.floor.corpus.voices import frame_db
from cadence.floor.features import FEATURE_NAMES, FloorFeaturizer

from floor_speech import ESPEAK, frames_of, render

needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed")


def _path(x: np.ndarray, delay_s: float, gain_db: float, cutoff_hz: float) -> np.ndarray:
    y = signal.sosfilt(signal.butter(4, cutoff_hz, "lowpass", fs=16000, output="sos"), x)
    d = int(delay_s * 16000)
    return (np.concatenate([np.zeros(d), y[: len(x) - d]]) * 10 ** (gain_db / 20)).astype(np.float32)


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(np.asarray(x, np.float64) ** 2) + 1e-20))


@pytest.fixture(scope="module")
def call() -> dict[str, np.ndarray]:
    """The persona talks for ~9 s; its echo (80 ms, -12 dB, low-passed at 3 kHz) is in the
    mic with a faint noise floor; the user barges in over the persona's last sentence."""
    persona, _ = render([("Well, the weather looks great for the beach tomorrow, so bring a hat.", 0.3),
                         ("We could leave early and take the long road along the coast.", 0.4),
                         ("Then we stop for lunch at the little harbour cafe you liked.", 0.4)],
                        voice="en-gb", lead=0.3, noise_db=-90.0)
    n = len(persona) + 8000
    ref = np.zeros(n, np.float32)
    ref[: len(persona)] = persona
    echo = _path(ref, 0.08, -12.0, 3000.0)
    user_words, _ = render([("wait, hold on, I think it might rain", 0.2)], voice="en-us+m3", lead=0.0,
                           noise_db=-90.0)
    user = np.zeros(n, np.float32)
    at = len(persona) - len(user_words) - 4000
    user[at : at + len(user_words)] = user_words
    noise = (1e-4 * np.random.default_rng(0).standard_normal(n)).astype(np.float32)
    return {"ref": ref, "echo": echo, "user": user, "noise": noise, "mic": echo + user + noise,
            "user_at": np.array(at)}


@needs_espeak
def test_removes_the_echo_and_keeps_the_user(call) -> None:
    ref, echo, user, mic = call["ref"], call["echo"], call["user"], call["mic"]
    aec = EchoCanceller()
    at = int(call["user_at"])
    cut = at // 160
    first = aec.process(frames_of(mic)[:cut], frames_of(ref)[:cut])
    assert aec.erle_db > 15.0
    out = np.concatenate([first, aec.process(frames_of(mic)[cut:], frames_of(ref)[cut:])]).reshape(-1)
    # echo alone, once the filter has had the first 3 s: at least 20 dB of it is gone
    alone = slice(48000, at)
    assert _db(echo[alone]) - _db(out[alone] - call["noise"][alone]) > 20.0
    # over the user's words the echo stays cancelled and the user comes through unchanged
    words = slice(at, at + int(np.count_nonzero(user)))
    residual_echo = out[words] - user[words] - call["noise"][words]
    # (here: the user 11 dB over the echo; 11 dB of echo removed, 22 dB below the user)
    assert _db(echo[words]) - _db(residual_echo) > 10.0
    assert _db(user[words]) - _db(residual_echo) > 20.0
    assert abs(_db(out[words]) - _db(user[words])) < 0.5


@needs_espeak
def test_featurizer_with_the_canceller_stops_hearing_the_echo_as_speech(call) -> None:
    """Silero reads the persona's echo as speech in the raw mic; with the canceller it
    mostly does not, and it still hears the user over the persona."""
    mic, ref = frames_of(call["mic"]), frames_of(call["ref"])
    vad, level = FEATURE_NAMES.index("vad"), FEATURE_NAMES.index("e_noise")
    with_aec = FloorFeaturizer(echo_cancel=True).process(mic, ref)
    without = FloorFeaturizer().process(mic, ref)
    at = int(call["user_at"]) // 160
    alone = slice(300, at)  # echo alone, after 3 s
    # the user's voiced frames (within 20 dB of the user's loudest), not the gaps between words
    user_db = frame_db(call["user"], 16000)
    words = np.nonzero(user_db > user_db.max() - 20.0)[0]
    assert np.mean(without[alone, vad]) > 0.7
    assert np.mean(with_aec[alone, vad]) < 0.4
    assert np.mean(with_aec[words, vad]) > 0.8
    # and the echo's level above the noise floor drops by more than 10 dB (the column is dB / 20)
    assert np.mean(with_aec[alone, level]) < np.mean(without[alone, level]) - 0.5


@needs_espeak
def test_streaming_matches_one_call_and_no_reference_passes_through(call) -> None:
    mic, ref = frames_of(call["mic"]), frames_of(call["ref"])
    whole = EchoCanceller().process(mic, ref)
    aec = EchoCanceller()
    rng = np.random.default_rng(3)
    parts, i = [], 0
    while i < len(mic):
        k = int(rng.integers(1, 12))
        parts.append(aec.process(mic[i : i + k], ref[i : i + k]))
        i += k
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    user = frames_of(call["user"])
    np.testing.assert_array_equal(EchoCanceller().process(user), user)
    np.testing.assert_array_equal(EchoCanceller().process(user, np.zeros_like(user)), user)


def test_refuses_bad_input_and_loses_nothing() -> None:
    rng = np.random.default_rng(1)
    ref = (0.1 * rng.standard_normal((200, 160))).astype(np.float32)
    mic = (0.3 * ref + 0.01 * rng.standard_normal((200, 160))).astype(np.float32)
    aec = EchoCanceller()
    first = aec.process(mic[:100], ref[:100])
    nan_mic = mic[100:].copy()
    nan_mic[3, 4] = np.nan
    inf_ref = ref[100:].copy()
    inf_ref[8, 1] = np.inf
    for frames, reference in [
        (nan_mic, ref[100:]),
        (mic[100:], inf_ref),
        (mic[100:], ref[100:-1]),
        (mic[100:].reshape(-1), None),
        (mic[100:, :80], None),
        (mic[100:].astype(np.float64), ref[100:]),
    ]:
        with pytest.raises(InvalidAudioError):
            aec.process(frames, reference)
    rest = aec.process(mic[100:], ref[100:])
    np.testing.assert_array_equal(np.concatenate([first, rest]), EchoCanceller().process(mic, ref))
    for bad in (0, -1, EchoCanceller.MAX_PARTITIONS + 1, 2**64, 2**200, -(2**200)):
        with pytest.raises(InvalidArgumentError, match="partitions"):
            EchoCanceller(bad)
    assert EchoCanceller(10).partitions == 10
    aec.reset()
    np.testing.assert_array_equal(aec.process(mic, ref), EchoCanceller().process(mic, ref))


def test_the_canceller_is_reachable_from_the_policy_the_bench_and_tune(call, tmp_path) -> None:
    """``CadencePolicy(echo_cancel=True)``, ``cadence bench floor --echo-cancel`` and
    ``cadence tune floor --echo-cancel`` (through ``load_split``) all run it; off by default."""
    from cadence.floor.bench import parse_policies
    from cadence.floor.policy import CadencePolicy
    from cadence.floor.train import load_split

    assert CadencePolicy(0.5).featurizer.aec is None
    policy = CadencePolicy(0.5, echo_cancel=True)
    assert policy.featurizer.aec is not None
    mic, ref = frames_of(call["mic"]), frames_of(call["ref"])
    assert policy.process(mic[:200], reference=ref[:200]) is not None
    assert policy.featurizer.aec.erle_db != 0.0  # the canceller saw the persona's frames
    specs = parse_policies("cadence,silence-500", [0.5], echo_cancel=True)
    assert dict(specs[0].kwargs)["echo_cancel"] is True and specs[1].kwargs == ()
    assert "echo_cancel" not in dict(parse_policies("cadence", [0.5])[0].kwargs)
    # load_split caches the two front ends apart, and the canceller changes a duplex file's features
    import soundfile as sf  # type: ignore[import-untyped]

    split = tmp_path / "dev"
    (split / "audio").mkdir(parents=True)
    sf.write(split / "audio" / "d.wav", call["mic"], 16000, subtype="FLOAT")
    sf.write(split / "audio" / "d.persona.wav", call["ref"], 16000, subtype="FLOAT")
    (split / "manifest.jsonl").write_text(json.dumps({
        "audio": "audio/d.wav", "events": [{"type": "shift", "t": 2.0}],
        "meta": {"duplex": True, "persona_audio": "audio/d.persona.wav"}}) + "\n")
    raw = load_split(split, 1)[0][0]
    cleaned = load_split(split, 1, echo_cancel=True)[0][0]
    assert len(list((tmp_path / ".cache").iterdir())) == 2
    np.testing.assert_array_equal(raw, FloorFeaturizer().process(mic, ref))
    np.testing.assert_array_equal(cleaned, FloorFeaturizer(echo_cancel=True).process(mic, ref))
