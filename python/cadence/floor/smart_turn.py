"""``smart-turn-v3``: Pipecat's own end-of-turn stack as a floor baseline.

The ``pipecat-ai`` package carries Smart Turn v3.2 (``smart-turn-v3.2-cpu.onnx``,
a Whisper-encoder classifier over the last 8 s of audio) and its own Silero VAD.
This baseline runs both, as Pipecat's ``TurnAnalyzerUserTurnStopStrategy``
does, on the benchmark's frames:

* Pipecat's ``SileroVADAnalyzer`` with its default ``VADParams`` (confidence 0.7,
  start 0.2 s, stop 0.2 s, min volume 0.6 — the stop Pipecat recommends with Smart
  Turn): the user is speaking from the VAD's ``SPEAKING`` state to its ``QUIET`` state;
* when the VAD reports the user stopped, ``LocalSmartTurnAnalyzerV3`` scores the
  turn's audio — from 0.5 s + the VAD's start delay before the turn's first speech
  up to now, at most 8 s — and a probability > 0.5 (Pipecat's rule) ends the turn:
  a commit at that frame;
* otherwise the turn ends after ``stop_secs`` (3 s) of silence counted from the VAD
  stop (Pipecat's ``SmartTurnParams`` default; ``smart-turn-v3-<ms>`` in the bench
  sets another, e.g. ``smart-turn-v3-1000``: past 2 s a turn end counts as missed).

``smart-turn-v3-exact`` runs the same model with the graph's own arithmetic: its
quantize/dequantize pairs computed in float, as written, with no graph optimization. Pipecat's session
(ONNX Runtime at ``ORT_ENABLE_ALL``) fuses them into int8 kernels, whose results depend on
the CPU: on this AVX2 machine (no VNNI) they differ from the graph's arithmetic by a median
0.024 and up to 0.89 in P(complete), and flip 11 of 170 verdicts on 12 files of test D
(floor.md, "Smart Turn's int8 kernels"). The exact variant does not depend on the CPU's
int8 kernels (float kernels may still differ in the last bits between CPUs; not checked).

Pipecat keys its buffers by ``time.monotonic()``; offline the audio runs faster than
real time, so the buffer is kept here by frame time and only the model call
(``_predict_endpoint``: resampling, 8 s crop, Whisper log-mel, ONNX) is Pipecat's.
The decision is stamped at the frame that triggered it: the model's compute (tens of
ms per call on one core, ``call_ms``: the bench reports them) and Pipecat's wait for a final
transcript are not added, so its latencies are a best case.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np

from cadence.errors import InvalidArgumentError, InvalidAudioError
from cadence.floor.protocol import FRAME_SAMPLES, FRAME_SECONDS, RATE, Decision, frame_end_time

__all__ = ["SmartTurnBaseline"]


def _pipecat() -> tuple[Any, Any, Any]:
    """Pipecat's analyzers (imported lazily: pipecat is the ``bench`` extra)."""
    try:
        from loguru import logger

        logger.disable("pipecat")  # its per-call debug lines would flood the bench output
        from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
        from pipecat.audio.vad.silero import SileroVADAnalyzer
        from pipecat.audio.vad.vad_analyzer import VADState
    except ImportError as e:
        raise ImportError(f"smart-turn-v3 needs pipecat-ai (the bench extra): {e}") from e
    return LocalSmartTurnAnalyzerV3, SileroVADAnalyzer, VADState


def _exact_session() -> Any:
    """An ONNX Runtime session of the Smart Turn model pipecat carries, with graph optimization
    off: every QuantizeLinear / DequantizeLinear pair runs as written, in float."""
    import onnxruntime as ort  # type: ignore[import-untyped]

    from cadence.floor.turn_judge import model_path

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(model_path()), sess_options=so, providers=["CPUExecutionProvider"])


class SmartTurnBaseline:
    """Pipecat VAD stop → Smart Turn v3 → commit, else a 3 s silence timeout."""

    name = "smart-turn-v3"

    def __init__(self, threshold: float = 0.5, stop_s: float | None = None, exact: bool = False) -> None:
        if not 0.0 < threshold < 1.0:
            raise InvalidArgumentError(f"threshold must be in (0, 1), got {threshold}")
        analyzer_cls, self._vad_cls, self._states = _pipecat()
        self.analyzer = analyzer_cls(sample_rate=RATE)
        if exact:  # the graph's own float arithmetic, not the CPU's fused int8 kernels
            self.analyzer._session = _exact_session()
        params = self.analyzer.params
        self.threshold = threshold
        self.stop_s = float(params.stop_secs if stop_s is None else stop_s)
        if not self.stop_s > 0.0:
            raise InvalidArgumentError(f"stop_s must be > 0, got {self.stop_s}")
        self.stop_frames = max(1, int(round(self.stop_s / FRAME_SECONDS)))
        if stop_s is not None:  # a shorter (or longer) timeout than Pipecat's default
            self.name = f"smart-turn-v3-{round(self.stop_s * 1000)}"
        if exact:
            self.name += "-exact"
        self.pre_speech_s = params.pre_speech_ms / 1000.0
        self.max_frames = int(round(params.max_duration_secs / FRAME_SECONDS))
        # Pipecat keeps pre-speech + stop + max duration of audio before a turn
        self._keep_frames = int(round((self.pre_speech_s + self.stop_s + params.max_duration_secs)
                                      / FRAME_SECONDS))
        self.call_ms: deque[float] = deque(maxlen=1000)  # wall ms of each model call since the last reset
        self.reset()

    def reset(self) -> None:
        self.vad = self._vad_cls(sample_rate=RATE)  # fresh model state, volume window, counters
        self.vad.set_sample_rate(RATE)
        self.vad_start_s = self.vad.params.start_secs
        self.frame = 0
        self.speaking = False  # between Pipecat's VADUserStarted/StoppedSpeaking
        self.buffer: deque[tuple[int, np.ndarray]] = deque()  # (frame index, int16 samples)
        self.triggered = False
        self.speech_start: int | None = None  # frame index of the turn's first speech
        self.silence = 0  # frames since the VAD reported the user stopped
        self.call_ms.clear()

    def _clear(self) -> None:
        self.triggered = False
        self.buffer.clear()
        self.speech_start = None
        self.silence = 0

    def prob_complete(self) -> float:
        """Smart Turn's P(turn complete) on the buffered turn audio (Pipecat's segment)."""
        start = (self.speech_start or 0) - int(round((self.pre_speech_s + self.vad_start_s) / FRAME_SECONDS))
        chunks = [c for f, c in self.buffer if f >= start][-self.max_frames:]
        if not chunks:
            return 0.0
        audio = np.concatenate(chunks).astype(np.float32) / 32768.0
        t0 = time.perf_counter()
        result = self.analyzer._predict_endpoint(audio)
        self.call_ms.append((time.perf_counter() - t0) * 1000.0)
        return float(result["probability"])

    def process(self, frames: np.ndarray) -> list[Decision]:
        x = np.asarray(frames)
        if x.ndim != 2 or x.shape[1] != FRAME_SAMPLES or x.dtype != np.float32:
            raise InvalidAudioError(f"expected float32 (n, {FRAME_SAMPLES}) frames, got {x.dtype} {x.shape}")
        if not np.isfinite(x).all():
            raise InvalidAudioError("frames hold NaN or inf samples")
        pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)
        quiet, speaking = self._states.QUIET, self._states.SPEAKING
        out: list[Decision] = []
        for i in range(len(pcm)):
            now = frame_end_time(self.frame)
            state = self.vad._run_analyzer(pcm[i].tobytes())
            if state == speaking and not self.speaking:
                self.speaking = True
            elif state == quiet and self.speaking:
                self.speaking = False
                if self.triggered and self.prob_complete() > self.threshold:
                    out.append(Decision("commit", now))
                    self._clear()
            # the audio frame reaches the turn analyzer after the VAD's event
            self.buffer.append((self.frame, pcm[i]))
            self.frame += 1
            if self.speaking:
                self.silence = 0
                self.triggered = True
                if self.speech_start is None:
                    self.speech_start = self.frame - 1
            elif self.triggered:
                self.silence += 1
                if self.silence >= self.stop_frames:
                    out.append(Decision("commit", now))
                    self._clear()
            # bounded: more than the segment (≤ 8 s) and the pre-speech audio never matter
            while len(self.buffer) > self._keep_frames:
                self.buffer.popleft()
        return out
