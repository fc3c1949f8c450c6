"""Floor-model input features: Rust DSP features, Silero VAD, speaker normalisation.

Per 10 ms frame the Rust ``FeatureExtractor`` gives energy, ZCR, f0/voicing,
spectral centroid/tilt and log-mel bands. The floor model must generalise to
voices it has never heard, so every speaker-dependent quantity is normalised to
the *current speaker's running baseline* before it reaches the model:

* energy relative to a running speech level and a running noise floor
  (level changes and microphone gain do not move the features);
* f0 in semitones relative to the running mean voiced pitch, divided by the
  running pitch spread (a low male and a high female voice look alike);
* log-mel bands with running cepstral-mean-style normalisation (channel and
  voice timbre are subtracted);
* a speaking-rate estimate (energy-peak rate over the last ~2 s, relative to the
  running mean rate).

Everything is causal and streaming: ``FloorFeaturizer.process(frames)`` may be
called with any number of frames and gives the same result for any chunking.
"""

from __future__ import annotations

import numpy as np

from cadence._core import FRAME_SAMPLES, EchoCanceller, FeatureExtractor, FloorNormalizer, MicAgc
from cadence.errors import InvalidAudioError

N_MELS = 40
# Bump when what FloorFeaturizer computes changes (Rust or Python): `cadence train
# floor` caches featurized corpora under this version. "2": the echo estimate and
# speaker normalisation moved to Rust, bit-identical to version 1 (the Python code).
# "3": the features and Silero take the mic through a boost-only gain (``MicAgc``): quiet
# speech is found and its quiet bands stay above the spectrum's floor. "4": ``MicAgc`` cold
# start (its envelope set from the first 0.5 s of speech: a quiet mic is raised at once). "5":
# the cold start reads levels held 30 ms (a click at the start no longer turns the AGC off).
FEATURES_VERSION = "5"
# Bump when ``EchoCanceller`` (``FloorFeaturizer(echo_cancel=True)``) changes: cached corpora
# featurized through it are keyed by this too. "2": the frequency-domain Kalman filter with a
# shadow filter (was a two-filter NLMS). "3": the shadow's taps are taken at 0.7 of the main
# filter's error (was 0.5), and whenever the main filter adds energy.
ECHO_CANCEL_VERSION = "3"
# Order of the model input columns (documented, checked by tests).
SCALAR_NAMES = (
    "e_speech",  # rms dB − running speech level, /10
    "e_noise",  # rms dB − running noise floor, /20
    "e_delta",  # rms dB − previous frame, /10
    "zcr",
    "voicing",
    "f0_z",  # (semitones − running mean) / running spread, 0 when unvoiced
    "f0_delta",  # semitone change vs the last voiced frame (clipped), /2
    "voiced_recent",  # decaying trace of voicing (~150 ms)
    "centroid",  # log2(centroid / 1 kHz)
    "tilt",  # spectral slope (dB/octave), (tilt + 8) / 5
    "vad",  # Silero speech probability
    "rate",  # energy-peak rate relative to the speaker's running rate
    "persona",  # level of the persona's own playback (reference), (dB + 40) / 20, clipped
    "echo_excess",  # mic power above the predicted persona echo, dB / 10 (3.0 = no reference)
    # Latched summaries of the last stretch of speech: they stay constant through a
    # pause, so the model need not carry them in its recurrent state.
    "sil_s",  # time since the last active (energy) frame, s / 2, clipped to 1.5
    "run_s",  # duration of the current / last active run, s / 2, clipped to 2
    "vrun_s",  # duration of the last voiced run (final syllable proxy), s / 0.3, clipped to 3
    "last_f0_z",  # f0_z of the last voiced frame
    "f0_slope",  # pitch slope over the last 20 voiced frames, semitones per 100 ms / 2
    "e_final",  # energy of the last 10 active frames − the 40 before them, dB / 10
)
FEATURE_NAMES = SCALAR_NAMES + tuple(f"mel_{i}" for i in range(N_MELS))
N_FEATURES = len(FEATURE_NAMES)


class FloorFeaturizer:
    """Raw 10 ms frames → normalised model inputs (n, N_FEATURES), streaming.

    With ``echo_cancel`` (off by default; floor.md, "An adaptive echo canceller") the
    Rust ``EchoCanceller`` first takes the persona's echo out of the mic, learning the
    echo path from the reference; everything below then reads the cleaned mic except
    the echo estimate, which keeps reading the mic as it came. The Rust ``MicAgc`` raises a quiet mic (Silero misses quiet speech, and the
    quiet bands of the log-mel spectrum sink to its floor), the Rust
    ``FeatureExtractor`` gives the raw features of the raised mic, Silero the
    speech probability (the raised mic clipped to full scale), and the Rust
    ``FloorNormalizer`` the echo estimate (on the mic as it came: the echo path
    must not see the gain) and the speaker normalisation (all with the GIL released). The Python reference of
    the last step is ``cadence.floor.reference``.
    """

    def __init__(self, echo_cancel: bool = False) -> None:
        from cadence.floor.vad import SileroVad

        self.aec = EchoCanceller() if echo_cancel else None
        # the canceller's output of the last successful ``process`` call (echo_cancel only;
        # None after a reset or a refused call): the policy's echo rule reads it instead of
        # running a canceller of its own
        self.cleaned: np.ndarray | None = None
        self.extractor = FeatureExtractor(n_mels=N_MELS)
        self.vad = SileroVad()
        self.agc = MicAgc()
        self.norm = FloorNormalizer(n_mels=N_MELS)

    def reset(self) -> None:
        self.cleaned = None
        if self.aec is not None:
            self.aec.reset()
        self.extractor.reset()
        self.vad.reset()
        self.agc.reset()
        self.norm.reset()

    def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
        """frames: (n, 160) mic; reference: (n, 160) what the persona played (or None)."""
        self.cleaned = None  # an output, not state: a refused call leaves none behind
        # every check before any state changes: a refused call loses nothing (the gain
        # comes first and checks the mic's and the reference's samples before it moves)
        if not isinstance(frames, np.ndarray) or frames.dtype != np.float32 or frames.ndim != 2 \
                or frames.shape[1] != FRAME_SAMPLES:
            what = (f"dtype {frames.dtype}, shape {frames.shape}" if isinstance(frames, np.ndarray)
                    else type(frames).__name__)
            raise InvalidAudioError(f"frames must be a float32 array of shape (n, {FRAME_SAMPLES}), got {what}")
        if reference is not None:
            if not isinstance(reference, np.ndarray) or reference.shape != frames.shape:
                raise InvalidAudioError(
                    f"reference shape {getattr(reference, 'shape', None)} does not match frames {frames.shape}"
                )
            # samples in [-1, 1]; an int16 or bool array cast as it is would read ~90 dB too loud
            if not np.issubdtype(reference.dtype, np.floating):
                raise InvalidAudioError(
                    f"reference must hold float samples (float32, full scale 1.0), got dtype {reference.dtype}"
                )
        ref = None if reference is None else np.ascontiguousarray(reference, np.float32)
        mic = np.ascontiguousarray(frames)
        # (the canceller checks both, and its output is in the range the gain accepts, so no
        # later step can refuse this call after the canceller moved)
        clean = mic if self.aec is None else self.aec.process(mic, ref)
        self.cleaned = None if self.aec is None else clean
        raised = self.agc.process(clean, ref)
        raw = self.extractor.process(raised)
        vad = self.vad.frame_probs(np.clip(raised, -1.0, 1.0)).astype(np.float32, copy=False)
        return self.norm.process(raw, vad, mic, ref)
