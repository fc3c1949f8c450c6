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
this machine's cores, so the policy asks once per pause and only uses the
answer ``smart_turn_delay_s`` later (it runs in the Floor actor's worker thread,
never on the trio loop).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from cadence.errors import InvalidAudioError
from cadence.floor.protocol import RATE

__all__ = ["SmartTurnJudge", "WINDOW_SAMPLES"]

WINDOW_SAMPLES = 8 * RATE  # Smart Turn v3 reads the last 8 s
_PACKAGE = "pipecat.audio.turn.smart_turn.data"
_MODEL = "smart-turn-v3.2-cpu.onnx"


def _load() -> tuple[Any, Any]:
    try:
        import onnxruntime as ort  # type: ignore[import-untyped]
        from pipecat.audio.turn.smart_turn._whisper_features import compute_whisper_log_mel_features
    except ImportError as e:
        raise ImportError(f"the Smart Turn judge needs pipecat-ai==1.14 and onnxruntime "
                          f"(scripts/setup.sh installs both): {e}") from e
    path = resources.files(_PACKAGE).joinpath(_MODEL)
    if not path.is_file():
        raise ImportError(f"the Smart Turn judge needs {_MODEL} from pipecat-ai==1.14 (scripts/setup.sh pins it); "
                          f"the installed pipecat has no {path}")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), sess_options=so, providers=["CPUExecutionProvider"]), \
        compute_whisper_log_mel_features


class SmartTurnJudge:
    """``prob_complete(audio)``: Smart Turn v3.2's P(the turn in ``audio`` is complete)."""

    def __init__(self) -> None:
        self._session, self._log_mel = _load()

    def prob_complete(self, audio: np.ndarray) -> float:
        """audio: 1-D float32 at 16 kHz, the turn up to now (only the last 8 s are read)."""
        a = np.asarray(audio)
        if a.ndim != 1 or a.dtype != np.float32:
            raise InvalidAudioError(f"expected 1-D float32 audio, got {a.dtype} {a.shape}")
        if not np.isfinite(a).all():
            raise InvalidAudioError("audio holds NaN or inf samples")
        a = a[-WINDOW_SAMPLES:]
        if len(a) < WINDOW_SAMPLES:
            a = np.concatenate([np.zeros(WINDOW_SAMPLES - len(a), np.float32), a])
        feats = self._log_mel(a, do_normalize=True)[None].astype(np.float32)
        out = self._session.run(None, {"input_features": feats})[0]
        return float(np.asarray(out).reshape(-1)[0])
