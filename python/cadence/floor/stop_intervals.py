"""How sure the pause stage's figures are: bootstrap intervals over the files that carry them.

The issue asks that the persona's audio stop within 150 ms of a real barge-in. The bench reports
the share that does (``stop_within_150ms_share``), the share of the user's backchannels that
paused the persona (``backchannel_pause_share``) and false pauses per minute of the persona's
speech (``false_pauses_per_persona_min``). They rest on few events (test A: 30 barge-ins in 15
of its 150 files, 49 backchannels in 15), where one barge-in moves a share by 3 points, so each
gets an interval here, as the turn-taking figures do in ``intervals.py``:

* the same resamples: the split's files drawn with replacement (``intervals.resample_weights``,
  the same seed as the turn-taking intervals, so a resample is the same draw of files for both);
* each resample's figure is a ratio of the drawn files' summed counts, as ``scoring.summarize``
  scores it, so with every file drawn once it is the point figure;
* the expanded percentile interval with the bias correction of a single ratio
  (``intervals.bounds``), read from files − 1 degrees of freedom where *files* are those whose
  denominator is not 0 (the files with barge-ins, backchannels or persona speech: those that carry
  the figure, not the whole split);
* a paired difference ``a − b`` of two policies reads the same resamples, without the correction,
  as ``intervals.paired`` does.

On a split of recorded clips (``intervals.FileTable`` "file × clip") the turn-taking intervals
draw the clips too; these draw files alone, which would read too sure there, so the bench gives
none (``bench.add_intervals``). Today's recorded splits hold no persona anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cadence.errors import InvalidArgumentError
from cadence.floor.intervals import LEVEL, bounds, ratios, resample_weights
from cadence.floor.scoring import FileScore, stops_within_target

# per-file counts, and each figure's (numerator, denominator, scale) among them
COUNTS = ("stops_in_time", "bargeins", "backchannels_paused", "backchannels", "false_pauses", "persona_min")
STOP_METRICS = {
    "stop_within_150ms_share": ("stops_in_time", "bargeins", 1.0),
    "backchannel_pause_share": ("backchannels_paused", "backchannels", 1.0),
    "false_pauses_per_persona_min": ("false_pauses", "persona_min", 1.0),
}
SIGN = {"stop_within_150ms_share": 1, "backchannel_pause_share": -1, "false_pauses_per_persona_min": -1}


def stop_counts(scores: Sequence[FileScore]) -> np.ndarray:
    """(files, len(COUNTS)) float64: each file's counts (persona speech in minutes)."""
    return np.array([[
        stops_within_target(s.stop_latencies),
        s.bargeins, s.backchannels_paused, s.backchannels, s.false_pauses, s.persona_s / 60.0,
    ] for s in scores], np.float64).reshape(len(scores), len(COUNTS))


def _samples(counts: np.ndarray, weights: np.ndarray | None, columns: Sequence[str],
             metrics: Mapping[str, tuple[str, str, float]]) -> dict[str, np.ndarray]:
    return ratios(counts.sum(axis=0)[None, :] if weights is None else weights @ counts, columns, metrics)


def _carriers(counts: np.ndarray, name: str, columns: Sequence[str],
              metrics: Mapping[str, tuple[str, str, float]]) -> int:
    """The files whose denominator of ``name`` is not 0."""
    return int(np.count_nonzero(counts[:, list(columns).index(metrics[name][1])] > 0))


def report(per_file: Mapping[str, Sequence[FileScore]], resamples: int, seed: int = 0,
           level: float = LEVEL, pairs: Sequence[tuple[str, str]] = ()) -> dict[str, Any] | None:
    """Each policy's interval of each ``STOP_METRICS`` figure, and each ``(a, b)`` of ``pairs``'
    paired difference; None where no policy's files carry any of them (no duplex files)."""
    return counts_report({lb: stop_counts(s) for lb, s in per_file.items()}, resamples, seed, level, pairs)


def counts_report(counts: Mapping[str, np.ndarray], resamples: int, seed: int = 0,
                  level: float = LEVEL, pairs: Sequence[tuple[str, str]] = (),
                  columns: Sequence[str] = COUNTS,
                  metrics: Mapping[str, tuple[str, str, float]] = STOP_METRICS) -> dict[str, Any] | None:
    """``report`` from each policy's ``stop_counts`` (what ``cadence tune floor``'s workers send back);
    ``columns`` and ``metrics``: other per-file counts and the ratios read from them (the
    closed-loop bench's, ``loop.py``)."""
    if len({len(c) for c in counts.values()}) > 1:
        raise InvalidArgumentError(f"every policy must be scored on the same files, got "
                                   f"{sorted({len(c) for c in counts.values()})} files")
    unknown = sorted({x for pr in pairs for x in pr} - set(counts))
    if unknown:
        raise InvalidArgumentError(f"no policy named {', '.join(map(repr, unknown))} to compare")
    files = len(next(iter(counts.values()))) if counts else 0
    if not files or not any(_carriers(c, m, columns, metrics) for c in counts.values() for m in metrics):
        return None
    w = resample_weights(files, resamples, seed)
    point = {lb: {k: float(v[0]) for k, v in _samples(c, None, columns, metrics).items()} for lb, c in counts.items()}
    drawn = {lb: _samples(c, w, columns, metrics) for lb, c in counts.items()}

    def one(lb: str, name: str) -> dict[str, Any] | None:
        n = _carriers(counts[lb], name, columns, metrics)
        p = point[lb][name]
        if n < 2 or not np.isfinite(p):
            return None
        b = bounds(drawn[lb][name], level, float(n - 1), point=p)
        return None if b is None else {"point": p, "lo": b[0], "hi": b[1], "df": n - 1, "files": n}

    def diff(a: str, b: str, name: str) -> dict[str, Any] | None:
        n = min(_carriers(counts[a], name, columns, metrics), _carriers(counts[b], name, columns, metrics))
        d = point[a][name] - point[b][name]
        if n < 2 or not np.isfinite(d):
            return None
        x = bounds(drawn[a][name] - drawn[b][name], level, float(n - 1))
        return None if x is None else {"point": d, "lo": x[0], "hi": x[1], "df": n - 1}

    return {
        "resamples": resamples, "seed": seed, "level": level,
        "policies": {lb: {m: one(lb, m) for m in metrics} for lb in counts},
        "pairs": [{"a": a, "b": b, "diff": {m: diff(a, b, m) for m in metrics}} for a, b in pairs],
    }
