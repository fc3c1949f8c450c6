"""A second opinion on a pause: Smart Turn v3.2 on the turn's audio so far.

Cadence's floor networks were trained on synthetic speech only, and on a recorded
human voice their hold/shift judgement falls to AUC 0.63 where Smart Turn v3.2
(trained on recorded speech) reaches 0.86 (floor.md, "A recorded human voice").
The policy can mix Smart Turn's P(turn complete) into its own P(keep) once a
pause is under way (``PolicyConfig.smart_turn_weight``); this runs the model.

The model is the ``smart-turn-v3.2-cpu.onnx`` that the ``pipecat-ai`` package
carries (a dependency, pinned by ``scripts/setup.sh``), with Pipecat's own
numpy Whisper log-mel features; the input is the last 8 s of 16 kHz audio,
zero-padded in front, as Pipecat feeds it. One call takes ~100 ms on one of
this machine's cores, so the policy asks once per pause, on its own worker thread,
and only uses the answer ``smart_turn_delay_s`` later (never on the trio loop). The
model is loaded once per process; its session is shared by every judge.

``SmartTurnJudge(head=...)`` reads the encoder's pooled output instead of Smart
Turn's classifier and answers with a ``JudgeHead``: Cadence's own logistic
regression on it, fitted on Cadence's hold/shift labels (``cadence train judge``,
``judge_head.py``; the packaged ``weights/judge_head.npz``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cadence.errors import InvalidArgumentError, InvalidAudioError
from cadence.floor.protocol import RATE

__all__ = ["DEFAULT_HEAD", "EMBEDDING", "MAX_WINDOW_S", "JudgeHead", "SmartTurnJudge", "WINDOW_SAMPLES",
           "check_window_s"]

WINDOW_SAMPLES = 8 * RATE  # Smart Turn v3 reads the last 8 s
_PACKAGE = "pipecat.audio.turn.smart_turn.data"
_MODEL = "smart-turn-v3.2-cpu.onnx"
# the attention-pooled encoder output (384 values) that Smart Turn's classifier reads
EMBEDDING = "sum_1_DequantizeLinear_Output"
EMBEDDING_WIDTH = 384
DEFAULT_HEAD = Path(__file__).parent / "weights" / "judge_head.npz"
MAX_WINDOW_S = WINDOW_SAMPLES / RATE  # the most a head may read (Smart Turn's 8 s)
_MIN_WINDOW_S = 0.5


def check_window_s(window_s: float) -> float:
    """``window_s`` if a judge head may read that much audio before a pause (0.5-8 s)."""
    if not _MIN_WINDOW_S <= window_s <= MAX_WINDOW_S:
        raise InvalidArgumentError(f"a judge head reads 0.5-8 s of audio (Smart Turn reads at most 8 s), "
                                   f"got window_s {window_s}")
    return window_s


def model_path(model_name: str = _MODEL) -> Any:
    """The Smart Turn model file the installed ``pipecat-ai`` carries."""
    path = resources.files(_PACKAGE).joinpath(model_name)
    if not path.is_file():
        raise ImportError(f"the Smart Turn judge needs {model_name} from pipecat-ai==1.14 (scripts/setup.sh pins it); "
                          f"the installed pipecat has no {path}")
    return path


@cache
def _load(model_name: str) -> tuple[Any, Any]:
    """The session (shared: ONNX Runtime runs are thread-safe) and the log-mel function."""
    try:
        import onnx  # type: ignore[import-untyped]
        import onnxruntime as ort  # type: ignore[import-untyped]
        from pipecat.audio.turn.smart_turn._whisper_features import compute_whisper_log_mel_features
    except ImportError as e:
        raise ImportError(f"the Smart Turn judge needs pipecat-ai==1.14, onnx and onnxruntime "
                          f"(scripts/setup.sh installs them): {e}") from e
    path = model_path(model_name)
    model = onnx.load(str(path))
    if not any(EMBEDDING in n.output for n in model.graph.node):
        raise ImportError(f"{path} has no {EMBEDDING} (not the Smart Turn v3.2 graph that pipecat-ai==1.14 carries)")
    model.graph.output.append(onnx.helper.make_tensor_value_info(EMBEDDING, onnx.TensorProto.FLOAT, None))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(model.SerializeToString(), sess_options=so, providers=["CPUExecutionProvider"])
    return session, compute_whisper_log_mel_features


os.register_at_fork(after_in_child=_load.cache_clear)  # a forked child makes its own session


@dataclass(frozen=True)
class JudgeHead:
    """Logistic regression on the standardised encoder output: P(the user keeps the floor)."""

    mean: np.ndarray
    std: np.ndarray
    w: np.ndarray
    b: float
    # the audio it reads: the last window_s of the turn (it was fitted on windows so cropped)
    window_s: float = MAX_WINDOW_S

    def __post_init__(self) -> None:
        check_window_s(self.window_s)
        shapes = {a.shape for a in (self.mean, self.std, self.w)}
        if shapes != {(EMBEDDING_WIDTH,)} or not all(np.isfinite(a).all() for a in (self.mean, self.std, self.w)) \
                or not np.isfinite(self.b) or not (self.std > 0).all():
            raise InvalidArgumentError(f"a judge head needs finite mean, std > 0 and w of shape ({EMBEDDING_WIDTH},) "
                                       f"and a finite bias, got shapes {sorted(shapes)}")

    @classmethod
    def load(cls, path: str | Path = DEFAULT_HEAD) -> JudgeHead:
        try:
            d = np.load(path)
            if not isinstance(d, np.lib.npyio.NpzFile):
                raise ValueError("not an .npz archive")
            with d:  # heads written before window_s read the whole 8 s
                window_s = float(d["window_s"]) if "window_s" in d.files else MAX_WINDOW_S
                return cls(mean=d["mean"], std=d["std"], w=d["w"], b=float(d["b"]), window_s=window_s)
        except (OSError, KeyError, ValueError, TypeError) as e:
            raise InvalidArgumentError(f"{path}: not a judge head (cadence train judge writes one): {e}") from e

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, mean=self.mean, std=self.std, w=self.w, b=np.float32(self.b),
                            window_s=np.float32(self.window_s))

    def prob_hold(self, embedding: np.ndarray) -> np.ndarray:
        """P(hold) of each row of ``embedding`` (…, 384)."""
        logit = ((np.asarray(embedding, np.float32) - self.mean) / self.std) @ self.w + self.b
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logit, -30.0, 30.0))))


class SmartTurnJudge:
    """``prob_complete(audio)``: P(the turn in ``audio`` is complete), from Smart Turn v3.2's
    classifier, or with ``head`` from Cadence's head on its encoder."""

    def __init__(self, head: JudgeHead | None = None) -> None:
        self._session, self._log_mel = _load(_MODEL)
        self.head = head

    def prob_complete(self, audio: np.ndarray) -> float:
        """audio: 1-D float32 at 16 kHz, the turn up to now (only the last 8 s are read; with a
        head, only its last ``window_s``)."""
        if self.head is None:
            return self.judge(audio)[0]
        _p, emb = self.judge(audio[-int(round(self.head.window_s * RATE)):])
        return 1.0 - float(self.head.prob_hold(emb))

    def judge(self, audio: np.ndarray) -> tuple[float, np.ndarray]:
        """(Smart Turn's own P(complete), the pooled encoder output (384,)) of ``audio``."""
        a = np.asarray(audio)
        if a.ndim != 1 or a.dtype != np.float32:
            raise InvalidAudioError(f"expected 1-D float32 audio, got {a.dtype} {a.shape}")
        if not np.isfinite(a).all():
            raise InvalidAudioError("audio holds NaN or inf samples")
        a = a[-WINDOW_SAMPLES:]
        if len(a) < WINDOW_SAMPLES:
            a = np.concatenate([np.zeros(WINDOW_SAMPLES - len(a), np.float32), a])
        feats = self._log_mel(a, do_normalize=True)[None].astype(np.float32)
        out, emb = self._session.run(None, {"input_features": feats})
        return float(np.asarray(out).reshape(-1)[0]), np.asarray(emb, np.float32).reshape(-1)
