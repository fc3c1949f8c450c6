"""How well the floor model's outputs separate holds from shifts, policy aside.

The benchmark scores decisions, which mix the model with the policy's thresholds.
This scores the model alone: 100 ms into every pause, how well does 1 − P(keep)
rank turn ends (shifts) above pauses inside a turn (holds)? Reported as the area
under the ROC curve (AUC: 0.5 is chance, 1.0 perfect), so two models can be
compared on the same split without tuning a policy for each. The offset is fixed
(not tuned) and a hold counts only if it lasts past the offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from scipy.stats import rankdata

from cadence.floor.labels import FRAME_S

__all__ = ["auc", "hold_shift_scores", "hold_shift_auc", "auc_by_offset", "OFFSET_S", "CURVE_OFFSETS_S"]

OFFSET_S = 0.1  # how far into the pause the model is read
# ... and over the first 400 ms of a pause: does the verdict firm up or fade as the silence
# goes on? (On the synthetic tests it firms up; on a recorded voice it faded, floor.md.)
CURVE_OFFSETS_S = (0.05, 0.1, 0.2, 0.3, 0.4)


def auc(pos: Iterable[float], neg: Iterable[float]) -> float | None:
    """P(a positive scores above a negative), ties counted half (Mann–Whitney U)."""
    p, n = np.asarray(list(pos), np.float64), np.asarray(list(neg), np.float64)
    if len(p) == 0 or len(n) == 0:
        return None
    r = rankdata(np.concatenate([p, n]))
    return float((r[: len(p)].sum() - len(p) * (len(p) + 1) / 2) / (len(p) * len(n)))


def hold_shift_scores(probs: np.ndarray, entry: dict[str, Any], offset_s: float = OFFSET_S,
                      column: int = 0) -> tuple[list[float], list[float]]:
    """(shift scores, hold scores): 1 − P(keep) read ``offset_s`` into each pause.

    ``probs`` is the model's (frames, outputs) output for the file, ``column`` its P(keep)
    (0: the keep head; ``model.PAUSE``: what the policy reads in pauses);
    frame i covers [i·10 ms, (i+1)·10 ms), so the read is the frame ending at
    pause start + offset.
    """
    shifts: list[float] = []
    holds: list[float] = []
    for ev in entry["events"]:
        if ev["type"] == "shift":
            t0, out = float(ev["t"]), shifts
        elif ev["type"] == "hold" and float(ev["end"]) - float(ev["start"]) >= offset_s:
            t0, out = float(ev["start"]), holds
        else:
            continue
        i = int(round((t0 + offset_s) / FRAME_S)) - 1
        if 0 <= i < len(probs):
            out.append(1.0 - float(probs[i, column]))
    return shifts, holds


def hold_shift_auc(pairs: Iterable[tuple[np.ndarray, dict[str, Any]]],
                   offset_s: float = OFFSET_S, column: int = 0) -> dict[str, Any]:
    """AUC and counts over (probs, manifest entry) pairs of a split."""
    shifts: list[float] = []
    holds: list[float] = []
    for probs, entry in pairs:
        s, h = hold_shift_scores(probs, entry, offset_s, column)
        shifts += s
        holds += h
    return {"auc": auc(shifts, holds), "offset_ms": round(offset_s * 1000), "shifts": len(shifts),
            "holds": len(holds)}


def auc_by_offset(pairs: Sequence[tuple[np.ndarray, dict[str, Any]]],
                  offsets_s: Sequence[float] = CURVE_OFFSETS_S, column: int = 0) -> list[dict[str, Any]]:
    """``hold_shift_auc`` at each offset (a hold counts at an offset only if it lasts past it)."""
    return [hold_shift_auc(pairs, o, column) for o in offsets_s]
