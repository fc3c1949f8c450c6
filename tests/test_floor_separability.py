"""The model-only hold/shift separability metric (AUC of 1 − P(keep) into a pause)."""

from __future__ import annotations

import numpy as np
import pytest

from cadence.floor.separability import auc, hold_shift_auc, hold_shift_scores


def test_auc_matches_pair_counting() -> None:
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(1, 1, 40), rng.normal(0, 1, 55)
    pos[:5] = neg[:5]  # some ties
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert auc(pos, neg) == pytest.approx(pairs)
    assert auc([1, 2], [3, 4]) == 0.0 and auc([3, 4], [1, 2]) == 1.0
    assert auc([], [1.0]) is None


def test_scores_are_read_100ms_into_each_pause() -> None:
    probs = np.full((500, 5), 0.9, np.float32)
    probs[109, 0] = 0.2  # the frame ending at 1.00 + 0.10 s: a shift at 1.00 s
    probs[309, 0] = 0.6  # a hold starting at 3.00 s
    entry = {"events": [{"type": "shift", "t": 1.0}, {"type": "hold", "start": 3.0, "end": 3.5},
                        {"type": "hold", "start": 4.0, "end": 4.05},  # shorter than the offset
                        {"type": "backchannel", "start": 2.0, "end": 2.3},
                        {"type": "shift", "t": 9.0}]}  # past the end of the audio
    shifts, holds = hold_shift_scores(probs, entry)
    assert shifts == [pytest.approx(0.8)] and holds == [pytest.approx(0.4)]
    out = hold_shift_auc([(probs, entry), (probs, entry)])
    assert out == {"auc": 1.0, "offset_ms": 100, "shifts": 2, "holds": 2}
    probs[109, 3] = 0.7  # another column (the pause head's) is read when asked for
    assert hold_shift_scores(probs, entry, column=3) == ([pytest.approx(0.3)], [pytest.approx(0.1)])
    assert hold_shift_auc([(probs, entry)], column=3)["auc"] == 1.0


def test_the_auc_by_time_into_the_pause() -> None:
    """A verdict that fades: right 50 ms into each pause, reversed from 200 ms on; a hold too
    short for an offset drops out of it."""
    from cadence.floor.separability import auc_by_offset

    probs = np.full((600, 5), 0.5, np.float32)
    entry = {"events": [{"type": "shift", "t": 1.0}, {"type": "hold", "start": 3.0, "end": 3.5},
                        {"type": "hold", "start": 4.0, "end": 4.15}]}
    for t0, early, late in ((1.0, 0.1, 0.9), (3.0, 0.9, 0.1), (4.0, 0.9, 0.1)):
        i = int(round(t0 * 100))
        probs[i:i + 15, 0] = early
        probs[i + 15:i + 50, 0] = late
    curve = auc_by_offset([(probs, entry)], (0.05, 0.1, 0.2, 0.3))
    assert [c["offset_ms"] for c in curve] == [50, 100, 200, 300]
    assert [c["auc"] for c in curve] == [1.0, 1.0, 0.0, 0.0]
    assert [c["holds"] for c in curve] == [2, 2, 1, 1]
