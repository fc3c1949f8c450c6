"""The Rust floor normaliser (echo estimate + speaker normalisation) against its
Python reference, on real synthetic speech, half and full duplex."""

from __future__ import annotations

import numpy as np
import pytest

from cadence._core import FeatureExtractor, FloorNormalizer, MicAgc
from cadence.errors import InvalidArgumentError, InvalidAudioError
from cadence.floor.features import FEATURE_NAMES, N_MELS, FloorFeaturizer
from cadence.floor.reference import ReferenceNormalizer, reference_features, reference_mic_agc

from floor_speech import ESPEAK, frames_of, render
from cadence.floor.vad import SileroVad

needs_espeak = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed")


@pytest.fixture(scope="module")
def duplex() -> tuple[np.ndarray, np.ndarray]:
    """(mic frames, reference frames): the persona talks, its echo comes back
    delayed 60 ms at -18 dB with a little smearing, and the user talks over it
    (one real barge-in) and alone afterwards."""
    persona, _ = render([("Well, the weather looks great for the beach tomorrow.", 0.3),
                         ("We could leave early and take the long road.", 3.0)],
                        voice="en-gb", lead=0.3, noise_db=-90.0)
    user, _ = render([("wait, hold on", 0.8), ("I think it might rain though.", 1.5)],
                     voice="en-us+m3", lead=3.0, noise_db=-90.0)
    n = max(len(persona), len(user)) + 16000
    ref = np.zeros(n, np.float32)
    ref[: len(persona)] = persona
    echo = np.zeros(n, np.float32)
    d = 960  # 60 ms
    echo[d:] = 0.126 * ref[:-d]
    echo[d + 80 :] += 0.05 * ref[: -(d + 80)]
    mic = echo.copy()
    mic[: len(user)] += user
    mic += (1e-3 * np.random.default_rng(1).standard_normal(n)).astype(np.float32)
    return frames_of(mic), frames_of(ref)


@needs_espeak
@pytest.mark.parametrize("with_ref,echo_cancel", [(False, False), (True, False), (True, True)])
def test_rust_normaliser_matches_the_python_reference(duplex, with_ref: bool, echo_cancel: bool) -> None:
    mic, ref = duplex
    reference = ref if with_ref else None
    rust = FloorFeaturizer(echo_cancel).process(mic, reference)
    python = reference_features(mic, reference, echo_cancel)
    assert rust.shape == python.shape == (mic.shape[0], len(FEATURE_NAMES))
    # the same arithmetic in the same order (f64 state, f32 mel state): bit-identical here
    # (only the frame powers may differ in the last bit: numpy sums pairwise)
    np.testing.assert_array_equal(rust, python)
    # and the echo columns do something here: the persona level and the barge-in excess
    if with_ref:
        col = {n: i for i, n in enumerate(FEATURE_NAMES)}
        assert rust[:, col["persona"]].max() > 0.5
        assert rust[:, col["echo_excess"]].min() < 1.0


@needs_espeak
def test_rust_normaliser_is_chunk_invariant(duplex) -> None:
    mic, ref = duplex
    ex = FeatureExtractor(n_mels=N_MELS)
    raw = ex.process(mic)
    vad = np.random.default_rng(0).uniform(0, 1, mic.shape[0]).astype(np.float32)
    whole = FloorNormalizer().process(raw, vad, mic, ref)
    fn = FloorNormalizer()
    parts = [fn.process(raw[a:b], vad[a:b], mic[a:b], ref[a:b])
             for a, b in [(0, 1), (1, 37), (37, 37), (37, 500), (500, mic.shape[0])]]
    np.testing.assert_array_equal(whole, np.concatenate(parts))
    assert list(fn.names) == list(FEATURE_NAMES)


def test_rust_normaliser_refuses_bad_input_and_keeps_its_state() -> None:
    rng = np.random.default_rng(0)
    mic = (0.1 * rng.standard_normal((50, 160))).astype(np.float32)
    raw = FeatureExtractor(n_mels=N_MELS).process(mic)
    vad = np.full(50, 0.9, np.float32)
    fn = FloorNormalizer()
    first = fn.process(raw[:25], vad[:25], mic[:25])
    bad = [
        ((raw[25:], vad[25:], mic[25:].astype(np.float64)), InvalidAudioError, "float32"),
        ((raw[25:], vad[25:], mic[25:26]), InvalidAudioError, "shape"),
        ((raw[26:], vad[25:], mic[25:]), InvalidArgumentError, "raw must have shape"),
        ((raw[25:], vad[25:, None], mic[25:]), InvalidArgumentError, "vad must have shape"),
        ((raw[25:], np.full(25, 1.5, np.float32), mic[25:]), InvalidArgumentError, r"not in \[0, 1\]"),
        ((raw[25:], vad[25:], np.where(np.arange(160) == 3, np.nan, mic[25:]).astype(np.float32)),
         InvalidAudioError, "non-finite"),
    ]
    for args, exc, msg in bad:
        with pytest.raises(exc, match=msg):
            fn.process(*args)
    with pytest.raises(InvalidAudioError, match="does not match"):
        fn.process(raw[25:], vad[25:], mic[25:], mic[:10])
    with pytest.raises(InvalidArgumentError, match="n_mels"):
        FloorNormalizer(n_mels=0)
    # nothing was lost: the rest continues exactly as one whole call
    rest = fn.process(raw[25:], vad[25:], mic[25:])
    np.testing.assert_array_equal(np.concatenate([first, rest]), FloorNormalizer().process(raw, vad, mic))


@needs_espeak
def test_featurizer_refuses_bad_calls_before_any_state_changes(duplex) -> None:
    mic, ref = duplex
    f = FloorFeaturizer()
    first = f.process(mic[:300], ref[:300])
    nan_ref = ref[300:].copy()
    nan_ref[5, 7] = np.nan
    bad_mic = mic[300:].copy()
    bad_mic[9, 1] = np.inf
    for frames, reference in [
        (mic[300:].reshape(-1), None),  # 1-D
        (mic[300:].astype(np.float64), ref[300:]),
        (mic[300:], nan_ref),
        (mic[300:], ref[300:-1]),
        (bad_mic, ref[300:]),
        # integer or bool samples would be cast unscaled: an int16 reference read ~90 dB loud
        (mic[300:], (ref[300:] * 32767).astype(np.int16)),
        (mic[300:], ref[300:] > 0),
    ]:
        with pytest.raises(InvalidAudioError):
            f.process(frames, reference)
    rest = f.process(mic[300:], ref[300:])
    np.testing.assert_array_equal(np.concatenate([first, rest]), FloorFeaturizer().process(mic, ref))


@needs_espeak
def test_mic_agc_matches_its_reference_and_is_chunk_invariant(duplex) -> None:
    mic, ref = duplex
    quiet = (mic * 0.01).astype(np.float32)  # -40 dB: the gain is at work
    for x, r in ((mic, None), (quiet, None), (quiet, ref)):
        whole = MicAgc().process(x, r)
        np.testing.assert_array_equal(whole, reference_mic_agc(x, r))
        g = MicAgc()
        spans = [(0, 1), (1, 40), (40, 40), (40, x.shape[0])]
        parts = [g.process(x[a:b], None if r is None else r[a:b]) for a, b in spans]
        np.testing.assert_array_equal(whole, np.concatenate(parts))
    half = quiet.shape[0] // 2
    # raised at once by the cold start: 30 dB, the most it boosts (10.5 dB before it, when
    # the envelope crept down from -30 dBFS)
    assert np.std(MicAgc().process(quiet)[half:]) > 25 * np.std(quiet[half:])
    # while the persona plays the envelope is frozen: its echo does not move the gain
    a, b = MicAgc(), MicAgc()
    a.process(quiet[:100])
    b.process(quiet[:100])
    level = a.level_db
    playing = np.full((300, 160), 0.1, np.float32)
    a.process(quiet[100:400], playing)
    b.process(quiet[100:400])
    assert a.level_db == level != b.level_db


@needs_espeak
def test_a_click_at_the_start_does_not_turn_the_mic_agc_off(duplex) -> None:
    """A 2.5 ms click at half of full scale before quiet speech (-40 dB): the cold start reads
    levels held 30 ms, so the boost is the one without the click (features v4 set the envelope
    to the click's -12 dBFS, and the speech, under the gate, released it at 0.1 dB/s: no boost)."""
    mic, _ref = duplex
    quiet = (mic * 0.01).astype(np.float32)
    clicked = quiet.copy()
    clicked[5, 40:80] = 0.5
    plain, g = MicAgc().process(quiet), MicAgc()
    out = g.process(clicked)
    np.testing.assert_array_equal(out, reference_mic_agc(clicked))
    assert g.level_db < -40.0
    np.testing.assert_array_equal(out[100:], plain[100:])
    assert np.std(out[100:]) > 25 * np.std(quiet[100:])


def test_mic_agc_refuses_bad_input_and_keeps_its_state() -> None:
    x = (1e-3 * np.random.default_rng(0).standard_normal((60, 160))).astype(np.float32)
    g = MicAgc()
    first = g.process(x[:30])
    level = g.level_db
    bad = x[30:].copy()
    bad[3, 3] = np.nan
    for frames, reference, msg in [(bad, None, "non-finite"), (x[30:].astype(np.float64), None, "float32"),
                                   (x[30:].reshape(-1), None, "shape"), (x[30:], bad, "non-finite"),
                                   (x[30:], x[30:40], "does not match")]:
        with pytest.raises(InvalidAudioError, match=msg):
            g.process(frames, reference)
    assert g.level_db == level
    np.testing.assert_array_equal(np.concatenate([first, g.process(x[30:])]), MicAgc().process(x))


@needs_espeak
def test_mic_agc_lets_silero_hear_quiet_speech() -> None:
    """Speech at about -70 dBFS (the rendering's -20 dBFS, 50 dB down, in -80 dB noise): Silero
    alone misses 40 % of it, through the gain 5 % (measured: 0.60 and 0.95 found), and it
    still does not fire in the pauses."""
    audio, spans = render([("I think we should go tomorrow morning.", 1.5),
                           ("Then again the weather might turn.", 1.5)] * 2, lead=1.0, noise_db=-100.0)
    noise = 10 ** (-80 / 20) * np.random.default_rng(0).standard_normal(len(audio))
    x = frames_of((audio * 10 ** (-50 / 20) + noise).astype(np.float32))
    t = (np.arange(x.shape[0]) + 1) * 0.01
    inside = np.zeros(x.shape[0], bool)
    outside = np.ones(x.shape[0], bool)
    for a, b in spans:
        inside |= (t >= a + 0.1) & (t <= b - 0.1)
        outside &= (t < a - 0.2) | (t > b + 0.4)
    plain = SileroVad().frame_probs(x) >= 0.5
    gained = SileroVad().frame_probs(np.clip(MicAgc().process(x), -1, 1)) >= 0.5
    assert plain[inside].mean() < 0.7 < 0.9 < gained[inside].mean(), (plain[inside].mean(), gained[inside].mean())
    assert gained[outside].mean() < 0.05


# Column sums of FloorNormalizer's output on fixed synthetic inputs (no FFT, no VAD
# model: only the normaliser's own arithmetic). A change here changes the model's
# inputs: retrain or bump FEATURES_VERSION (training caches are keyed by it), then
# update these numbers.
# (versions 3, 4 and 5 changed MicAgc, ahead of the extractor and Silero, not the normaliser:
# the sums stand)
GOLDEN_VERSION = "5"
GOLDEN = [
    -3679.63, 3857.197, 4.023, 444.371, 1568.203, 0.716, -0.496, 25.0,
    1557.79, 0.983, 1931.074, 7260.016, 1602.985, 637.128, 290.4, 2345.1,
    267.067, -370.455, 21.024, -8.962, -847.946, -1441.456, -690.608, -1585.291,
    -614.676, -1638.427, -928.35, -808.91, -976.501, -1002.406, -951.861, -749.275,
    -248.84, -1149.278, -635.046, -537.717, -439.392, -748.386, -1636.263, -924.3,
    -917.62, -774.556, -1483.751, -485.023, -1169.015, -715.997, -870.053, -941.911,
    -1220.226, -720.046, -1412.647, -1067.542, -1108.462, -658.753, -1033.926, -1218.722,
    -1702.199, -366.893, -751.147, -600.183,
]


def _golden_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(12345)
    n = 3000
    t = np.arange(n)
    talk = (t // 120) % 3 != 2
    raw = np.zeros((n, 6 + N_MELS), np.float32)
    raw[:, 0] = np.where(talk, -28 + 6 * np.sin(t / 9.0), -65) + rng.normal(0, 1, n)  # rms_db
    raw[:, 1] = rng.uniform(0, 0.3, n)
    voiced = talk & (rng.uniform(size=n) < 0.8)
    raw[:, 2] = np.where(voiced, 140 * 2 ** (np.sin(t / 40.0) / 4), 0)  # f0_hz
    raw[:, 3] = np.where(voiced, rng.uniform(0.6, 1, n), rng.uniform(0, 0.4, n))
    raw[:, 4] = rng.uniform(300, 3000, n)
    raw[:, 5] = rng.normal(-8, 2, n)
    raw[:, 6:] = rng.normal(-5, 2, (n, N_MELS)) + np.where(talk, 3, 0)[:, None]
    vad = np.clip(np.where(talk, 0.9, 0.1) + rng.normal(0, 0.05, n), 0, 1).astype(np.float32)
    mic = (rng.normal(0, 1, (n, 160)) * 0.05 * np.where(talk, 1, 0.01)[:, None]).astype(np.float32)
    ref = np.roll(mic, 4, axis=0) * np.float32(3.0)
    return raw, vad, mic, ref


def test_normaliser_output_is_pinned_to_the_features_version() -> None:
    from cadence.floor.features import FEATURES_VERSION

    raw, vad, mic, ref = _golden_inputs()
    out = FloorNormalizer().process(raw, vad, mic, ref)
    assert FEATURES_VERSION == GOLDEN_VERSION, "FEATURES_VERSION changed: update GOLDEN with it"
    np.testing.assert_allclose(out.sum(0, dtype=np.float64), GOLDEN, rtol=1e-6, atol=2e-3,
                               err_msg="the floor model's inputs changed: bump FEATURES_VERSION")
    # the Python reference agrees on these inputs too
    np.testing.assert_array_equal(out, ReferenceNormalizer().process(raw, vad, mic, ref))
