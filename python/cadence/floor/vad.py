"""Silero VAD (the ONNX model carried by the ``silero-vad`` package) on 10 ms frames.

Only the package's data file is used: ``silero_vad/__init__.py`` imports
torch, so the model path is found with ``importlib.util.find_spec`` (which does
not execute the package) and run with onnxruntime on one thread.

Feeding follows the package's own ``OnnxWrapper.__call__``: windows of 512
samples at 16 kHz, each prefixed by the last 64 samples of the previous input
(zeros at the start), with the recurrent ``state`` (2, 1, 128) carried over.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from typing import Any

import numpy as np

from cadence.errors import InvalidAudioError
from cadence.floor.protocol import FRAME_SAMPLES, RATE

__all__ = ["WINDOW", "CONTEXT", "model_path", "SileroVad", "SileroVAD"]

WINDOW = 512  # samples at 16 kHz = 32 ms
CONTEXT = 64


def model_path() -> str:
    """Path of ``silero_vad.onnx`` inside the installed ``silero-vad`` package."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("silero-vad is not installed (pip install --no-deps silero-vad)")
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "silero_vad.onnx")
    if not os.path.exists(path):
        raise FileNotFoundError(f"silero_vad.onnx not found at {path}")
    return path


@lru_cache(maxsize=1)
def _session() -> Any:
    import onnxruntime as ort  # type: ignore[import-untyped]

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model_path(), sess_options=opts, providers=["CPUExecutionProvider"])


class SileroVad:
    """Streaming Silero VAD: push 10 ms frames, get one speech probability per 32 ms window.

    ``push(frames)`` returns ``(end_sample, prob)`` pairs for each window that
    the frames completed; ``end_sample`` counts samples from the stream start
    (the window covers ``[end_sample - 512, end_sample)``). Chunk-invariant.
    """

    def __init__(self) -> None:
        self._sess = _session()
        self._sr = np.array(RATE, dtype=np.int64)
        self._buf = np.zeros(CONTEXT + WINDOW, dtype=np.float32)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._buf[:] = 0.0
        self._fill = 0  # samples of the current window in _buf[CONTEXT:]
        self._samples = 0  # samples pushed since reset
        self._last = 0.0  # probability of the latest completed window

    def window_prob(self, window: np.ndarray) -> float:
        """Run one full 512-sample window (with the carried context) and return its probability."""
        self._buf[CONTEXT:] = window
        out, self._state = self._sess.run(
            None, {"input": self._buf[None, :], "state": self._state, "sr": self._sr}
        )
        self._buf[:CONTEXT] = self._buf[-CONTEXT:]
        return float(out[0, 0])

    def push(self, frames: np.ndarray) -> list[tuple[int, float]]:
        x = np.asarray(frames)
        if x.dtype != np.float32 or x.ndim != 2 or x.shape[1] != FRAME_SAMPLES:
            raise InvalidAudioError(
                f"SileroVad.push expects float32 (n, {FRAME_SAMPLES}) frames, got {x.dtype} {x.shape}"
            )
        flat = x.reshape(-1)
        if not np.isfinite(flat).all():
            raise InvalidAudioError("SileroVad.push: audio contains NaN or inf")
        out: list[tuple[int, float]] = []
        i = 0
        n = flat.size
        while i < n:
            take = min(WINDOW - self._fill, n - i)
            self._buf[CONTEXT + self._fill : CONTEXT + self._fill + take] = flat[i : i + take]
            self._fill += take
            i += take
            self._samples += take
            if self._fill == WINDOW:
                self._last = self.window_prob(self._buf[CONTEXT:].copy())
                out.append((self._samples, self._last))
                self._fill = 0
        return out

    def frame_probs(self, frames: np.ndarray) -> np.ndarray:
        """One probability per 10 ms frame: that of the latest window completed by the
        end of the frame (0 before the first window). Chunk-invariant and causal."""
        prev = self._last
        start = self._samples
        wins = self.push(frames)  # validates the frames
        n = np.asarray(frames).shape[0]
        out = np.empty(n, dtype=np.float32)
        cur, w = prev, 0
        for i in range(n):
            end = start + (i + 1) * FRAME_SAMPLES
            while w < len(wins) and wins[w][0] <= end:
                cur = wins[w][1]
                w += 1
            out[i] = cur
        return out
