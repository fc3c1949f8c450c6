"""The Rust floor normaliser (echo estimate + speaker normalisation) against its
Python reference, on real synthetic speech, half and full duplex."""

from __future__ import annotations

import numpy as np
import pytest

from cadence._core import FeatureExtractor, FloorNormalizer
from cadence.errors import InvalidArgumentError, InvalidAudioError
from cadence.floor.features import FEATURE_NAMES, N_MELS, FloorFeaturizer
from cadence.floor.reference import reference_features

from floor_speech import ESPEAK, frames_of, render

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
@pytest.mark.parametrize("with_ref", [False, True])
def test_rust_normaliser_matches_the_python_reference(duplex, with_ref: bool) -> None:
    mic, ref = duplex
    reference = ref if with_ref else None
    rust = FloorFeaturizer().process(mic, reference)
    python = reference_features(mic, reference)
    assert rust.shape == python.shape == (mic.shape[0], len(FEATURE_NAMES))
    # the same arithmetic in the same order (f64 state, f32 mel state): equal to f32 rounding
    np.testing.assert_allclose(rust, python, rtol=0, atol=1e-5)
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
