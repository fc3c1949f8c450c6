"""How sure a floor benchmark figure is: bootstrap intervals over files (or recorded clips).

A split's headline figures (median and p90 latency, precision, recall, recall over
the open shifts, interruptions per 100 turns) are point estimates from a few
hundred turns. A setting that reads 34.7 interruptions per 100 turns against
another's 35.6 may be better, or the files may just have fallen that way. This
module says which.

* **The unit resampled is the file**, not the turn: a file's turns share a voice,
  a noise, a mic level and a phrasing, so they are not independent (a cluster
  bootstrap). Each resample draws the split's files with replacement and scores
  the drawn files' summed counts exactly as ``scoring.summarize`` does (a ratio of
  sums; a latency quantile of the pooled turns, as ``np.percentile``'s linear
  rule reads the expanded sample), so with every file drawn once it gives the
  point figures of the tables.
* **On a split of recorded clips the unit is the clip.** ``cadence corpus floor-recorded``,
  ``floor-prompts`` and ``floor-phone`` (``meta.voice`` "recorded:…") build each file from a
  few clips, and the same clip is heard in many files: the alsa split has 8 clips in each of
  its 12 files. Files are then far from independent, and intervals over them read too sure.
  There each turn is scored on its own (``FileScore.clip_units``), a clip's turns in every
  file form one unit, and each resample draws clips (``FileTable.unit`` "clip").
* **An interval** is the 2.5th and 97.5th percentile of a metric over the
  resamples (``LEVEL`` 0.95), ``None`` where no resample defines it (a policy that
  never commits has no latency).
* **A paired difference** scores two policies on the *same* resamples (they ran
  on the same files), so what the files have in common cancels out: the interval
  of ``a − b`` is much narrower than the two intervals side by side. ``a`` is
  better than ``b`` on a metric with 95 % confidence when that interval lies wholly
  on the better side of 0 (an equal figure, e.g. the same recall, never is).

Resampling is seeded (``seed``), so a report is reproducible to the digit. Two limits: a
clip's unit still shares its files' noise and gain with other clips (a split of few clips
gives wide intervals, which is what it can say); and where two policies do not differ, a
95 % mark still comes one time in twenty, so a grid of settings gets some by chance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cadence.errors import InvalidArgumentError
from cadence.floor.scoring import UNIT_COUNTS, FileScore

# the metrics on which "beats a baseline" is judged, and which way is better
DOMINANCE_KEYS = (("latency_median_ms", -1), ("latency_p90_ms", -1), ("precision", 1), ("recall", 1),
                  ("recall_open", 1), ("interruptions_per_100_turns", -1))
METRICS = tuple(k for k, _ in DOMINANCE_KEYS)
SIGN = dict(DOMINANCE_KEYS)
LEVEL = 0.95
RESAMPLES = 2000
MIN_RESAMPLES = 100  # fewer cannot place a 95 % interval's ends (2.5 resamples each side at 100)
# the per-unit counts a metric is a ratio of (numerator, denominator, scale)
_COUNTS = UNIT_COUNTS
_RATIOS = {"precision": ("correct", "commits", 1.0), "recall": ("answered", "shifts", 1.0),
           "recall_open": ("open_answered", "open_shifts", 1.0),
           "interruptions_per_100_turns": ("interruptions", "shifts", 100.0)}
_QUANTILES = {"latency_median_ms": 50.0, "latency_p90_ms": 90.0}


@dataclass(frozen=True)
class FileTable:
    """The per-unit counts and latencies of one policy on one split: a row per file, or on
    a split of recorded clips a row per clip (``unit``)."""

    counts: np.ndarray  # (units, len(_COUNTS)) int64
    latencies: np.ndarray  # every answered turn's latency, s, sorted
    latency_file: np.ndarray  # the unit each sorted latency came from
    unit: str = "file"

    @classmethod
    def from_scores(cls, scores: Sequence[FileScore]) -> FileTable:
        """Rows per file; on a split whose every file replays recorded clips
        (``FileScore.clip_units``), rows per clip: a clip's turns in every file it is in
        (plus one row per file for what no clip owns: turns no clip ends, commits past the
        last window), so a clip heard in many files is drawn, or left out, as one."""
        if not scores:
            raise InvalidArgumentError("no files to resample")
        if all(s.clip_units for s in scores):
            return cls._by_clip(scores)
        counts = np.array([[getattr(s, k) for k in _COUNTS] for s in scores], np.int64)
        lat = np.array([x for s in scores for x in s.latencies], np.float64)
        owner = np.array([i for i, s in enumerate(scores) for _ in s.latencies], np.int64)
        return cls._sorted(counts, lat, owner, "file")

    @classmethod
    def _by_clip(cls, scores: Sequence[FileScore]) -> FileTable:
        rows: dict[tuple[str, int], int] = {}
        unit_of = [[rows.setdefault(_row_key(key, f), len(rows)) for key, _c, _l in s.clip_units]
                   for f, s in enumerate(scores)]
        counts = np.zeros((len(rows), len(_COUNTS)), np.int64)
        lat: list[float] = []
        owner: list[int] = []
        for s, units in zip(scores, unit_of):
            for (_key, c, ls), row in zip(s.clip_units, units):
                counts[row] += c
                lat += ls
                owner += [row] * len(ls)
        return cls._sorted(counts, np.array(lat, np.float64), np.array(owner, np.int64), "clip")

    @classmethod
    def _sorted(cls, counts: np.ndarray, lat: np.ndarray, owner: np.ndarray, unit: str) -> FileTable:
        order = np.argsort(lat, kind="stable")
        return cls(counts, lat[order], owner[order], unit)

    @property
    def files(self) -> int:
        """The units resampled (files, or clips: ``unit``)."""
        return int(self.counts.shape[0])


def unit_words(unit: str) -> str:
    """What a table of ``unit`` ("file" or "clip") resamples, in words."""
    return "recorded clips" if unit == "clip" else "files"


def _row_key(clip: str | None, file: int) -> tuple[str, int]:
    """A clip's row is shared by every file it is in; what no clip owns stays its file's."""
    return (clip, -1) if clip is not None else ("", file)


def check_resamples(resamples: Any) -> None:
    """``resamples`` is 0 (no intervals) or a whole number >= ``MIN_RESAMPLES``."""
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) \
            or not (resamples == 0 or resamples >= MIN_RESAMPLES):
        raise InvalidArgumentError(f"resamples must be 0 (no intervals) or a whole number >= {MIN_RESAMPLES}, "
                                   f"got {resamples!r}")


def resample_weights(files: int, resamples: int = RESAMPLES, seed: int = 0) -> np.ndarray:
    """(resamples, files): how many times each file is drawn in each resample (row sums = files)."""
    if files < 1 or resamples < 1:
        raise InvalidArgumentError(f"need at least one file and one resample, got {files} and {resamples}")
    rng = np.random.default_rng(seed)
    return rng.multinomial(files, np.full(files, 1.0 / files), size=resamples).astype(np.int64)


def _quantile(sorted_x: np.ndarray, counts: np.ndarray, q: float) -> float:
    """``np.percentile(expanded, q)`` (linear rule) of the sample holding ``sorted_x[i]``
    ``counts[i]`` times, without expanding it."""
    cum = np.cumsum(counts)
    n = int(cum[-1]) if cum.size else 0
    if n == 0:
        return float("nan")
    h = q / 100.0 * (n - 1)
    lo = int(np.floor(h))
    a = sorted_x[np.searchsorted(cum, lo, side="right")]
    if h == lo:
        return float(a)
    b = sorted_x[np.searchsorted(cum, lo + 1, side="right")]
    return float(a + (h - lo) * (b - a))


def metric_samples(table: FileTable, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric of ``METRICS`` per row of ``weights`` (NaN where a resample leaves it undefined)."""
    if weights.ndim != 2 or weights.shape[1] != table.files:
        raise InvalidArgumentError(f"weights must be (resamples, {table.files}), got {weights.shape}")
    sums = weights @ table.counts  # (resamples, len(_COUNTS))
    col = {k: sums[:, i].astype(np.float64) for i, k in enumerate(_COUNTS)}
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, (num, den, scale) in _RATIOS.items():
            out[name] = np.where(col[den] > 0, scale * col[num] / col[den], np.nan)
    for name, q in _QUANTILES.items():  # row by row: a (resamples, latencies) matrix can be large
        out[name] = 1e3 * np.array([_quantile(table.latencies, w[table.latency_file], q) for w in weights])
    return out


def _bounds(x: np.ndarray, level: float) -> tuple[float, float] | None:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return None
    tail = 50.0 * (1.0 - level)
    lo, hi = np.percentile(x, [tail, 100.0 - tail])
    return float(lo), float(hi)


@dataclass(frozen=True)
class Drawn:
    """One policy's figures: the point ones (every file once) and each resample's."""

    point: dict[str, float]
    samples: dict[str, np.ndarray]

    @classmethod
    def of(cls, table: FileTable, weights: np.ndarray) -> Drawn:
        point = {k: float(v[0]) for k, v in metric_samples(table, np.ones((1, table.files), np.int64)).items()}
        if table.latencies.size:  # as scoring.summarize computes them, to the last digit
            point["latency_median_ms"] = float(np.median(table.latencies) * 1e3)
            point["latency_p90_ms"] = float(np.percentile(table.latencies, 90) * 1e3)
        return cls(point, metric_samples(table, weights))


def _finite(v: float) -> float | None:
    return v if np.isfinite(v) else None


def intervals(drawn: Drawn, level: float = LEVEL) -> dict[str, Any]:
    """Per metric: ``{"value": point figure, "lo", "hi"}`` (``None`` where undefined)."""
    out = {}
    for k in METRICS:
        b = _bounds(drawn.samples[k], level)
        out[k] = {"value": _finite(drawn.point[k]), "lo": b[0] if b else None, "hi": b[1] if b else None}
    return out


def paired(a: Drawn, b: Drawn, level: float = LEVEL) -> dict[str, Any]:
    """Per metric, ``a − b`` on the same resamples (``Drawn.of`` with the same weights):
    ``{"diff", "lo", "hi", "better", "worse"}``; ``better``: ``a`` is better with confidence
    ``level`` (the interval lies wholly on the better side of 0), ``worse``: ``b`` is."""
    out = {}
    for k in METRICS:
        if a.samples[k].shape != b.samples[k].shape:
            raise InvalidArgumentError("paired intervals need the same resamples of the same files")
        bounds = _bounds(a.samples[k] - b.samples[k], level)
        lo, hi = bounds if bounds else (None, None)
        better = worse = False
        if bounds:
            signed = sorted((SIGN[k] * bounds[0], SIGN[k] * bounds[1]))
            better, worse = signed[0] > 0.0, signed[1] < 0.0
        out[k] = {"diff": _finite(a.point[k] - b.point[k]), "lo": lo, "hi": hi, "better": better, "worse": worse}
    return out


def not_surely_better(diffs: Mapping[str, Any], b: Drawn | None = None) -> list[str]:
    """The metrics of a ``paired`` result on which ``a`` is not better with confidence (empty:
    it beats ``b`` on every one). With ``b``: a metric ``b`` leaves undefined (no latency, no
    open shift) does not count, as in ``bench.dominance``."""
    return [k for k in METRICS if not diffs[k]["better"] and not (b is not None and not np.isfinite(b.point[k]))]


def check_pairs(pairs: Sequence[tuple[str, str]], labels: Sequence[str]) -> None:
    """Every policy of ``pairs`` is one of ``labels``."""
    unknown = sorted({p for pair in pairs for p in pair} - set(labels))
    if unknown:
        raise InvalidArgumentError(f"no policy {unknown[0]!r} to compare in this run; its policies: {', '.join(labels)}")


def report(per_file: Mapping[str, Sequence[FileScore]], labels: Sequence[str], baselines: Sequence[str],
           contenders: Sequence[str], resamples: int = RESAMPLES, seed: int = 0,
           level: float = LEVEL, pairs: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """The JSON-able interval report of a bench run: every policy's intervals, for each
    baseline the metrics on which each contender is not better with confidence (paired), and
    for each ``(a, b)`` of ``pairs`` the whole paired difference ``a − b``."""
    check_pairs(pairs, labels)
    tables = {lb: FileTable.from_scores(per_file[lb]) for lb in labels}
    files = {t.files for t in tables.values()}
    if len(files) != 1:
        raise InvalidArgumentError(f"every policy must be scored on the same files, got {sorted(files)} files")
    weights = resample_weights(files.pop(), resamples, seed)
    drawn = {lb: Drawn.of(t, weights) for lb, t in tables.items()}
    return {
        "resamples": resamples, "seed": seed, "level": level, "unit": next(iter(tables.values())).unit,
        "units": next(iter(tables.values())).files,
        "policies": {lb: intervals(drawn[lb], level) for lb in labels},
        "against": {b: {c: not_surely_better(paired(drawn[c], drawn[b], level), drawn[b]) for c in contenders}
                    for b in baselines},
        "pairs": [{"a": a, "b": b, "diff": paired(drawn[a], drawn[b], level)} for a, b in pairs],
    }
