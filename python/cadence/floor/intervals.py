"""How sure a floor benchmark figure is: bootstrap intervals over files (and recorded clips).

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
* **On a split of recorded clips, files and clips are drawn.** ``cadence corpus
  floor-recorded``, ``floor-prompts`` and ``floor-phone`` (``meta.voice`` "recorded:…") build
  each file from a few clips, and the same clip is heard in many files: the alsa split has 8
  clips in each of its 12 files. Turns then share a file (its noise and level) and a clip (the
  same audio), and intervals over the files alone read too sure. There each turn is scored on
  its own (``FileScore.clip_units``), and each resample draws the files and, on their own, the
  clips; a turn counts its file's draws times its clip's (a two-way, "pigeonhole" bootstrap,
  Owen 2007, whose variance errs high; ``FileTable.unit`` "file × clip"). ``cadence bench
  intervals`` (``coverage.py``) checks it on simulated splits: right or wide for recall and
  where clips matter more; a little too sure for interruptions where files matter more, and more
  so with the alsa voice's 12 files and 8 clips.
* **An interval** is a central share of a metric's resamples (``LEVEL`` 0.95), ``None`` where
  no resample defines it (a policy that never commits has no latency). Since session 44 it is
  Hesterberg's *expanded* percentile interval (``tail_percent``): a few units make the resamples
  vary too little and a percentile interval too sure, so each tail leaves out less than 2.5 %,
  read from the figure's degrees of freedom (``dof``): files − 1 on a synthetic split (150
  files: 2.37 % a tail, nearly the plain 2.5 %); on a recorded split Satterthwaite's, from how
  much the files' draws alone and the clips' alone move the figure (the alsa voice, 12 files and
  8 clips: 10–17, 1.0–1.5 % a tail). ``cadence bench intervals`` measured the gain: on splits
  shaped like the alsa voice the interruptions hold the truth 0.828 → 0.895 of the time where
  clips matter more, 0.885 → 0.912 where files do (floor.md, "Intervals widen where few files
  or clips carry a figure"). A ratio's own interval is also bias-corrected (``bias_corrected``,
  ``BIAS_CORRECTED``): 0.902 and 0.932 there, and 0.943–0.945 on the hesitations' and the
  prompts' shapes where files matter more (0.922–0.932 without). Paired differences are not: on
  the synthetic shape the correction raised their false marks.
* **A paired difference** scores two policies on the *same* resamples (they ran
  on the same files), so what the files have in common cancels out: the interval
  of ``a − b`` is much narrower than the two intervals side by side. ``a`` is
  better than ``b`` on a metric with 95 % confidence when that interval lies wholly
  on the better side of 0 (an equal figure, e.g. the same recall, never is).

Resampling is seeded (``seed``), so a report is reproducible to the digit. A limit: where two
policies do not differ, a 95 % mark still comes one time in twenty, so a grid of settings gets
some by chance.
"""

from __future__ import annotations

import math
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
# the metrics whose intervals are bias-corrected (``bias_corrected``): the ratios, whose resamples a
# few units with large counts skew; the latency quantiles keep plain (expanded) tails, and so do
# paired differences (corrected, pairs that do not differ were marked more often on every shape
# simulated: drawing both on the alsa shape 0.7 → 2.5 %, files alone on the synthetic 7.2 → 8.5 %)
BIAS_CORRECTED = frozenset(_RATIOS)
_LATENCY_ROWS = 256  # resamples whose latency quantiles are read at once (memory: rows × answered turns)


@dataclass(frozen=True)
class FileTable:
    """The counts and latencies of one policy on one split, per cell: a cell per file, or on a
    split of recorded clips a cell per (file, clip) (``unit``)."""

    counts: np.ndarray  # (cells, len(_COUNTS)) int64
    latencies: np.ndarray  # every answered turn's latency, s, sorted
    latency_file: np.ndarray  # the cell each sorted latency came from
    cell_file: np.ndarray  # (cells,): the file of each cell
    cell_clip: np.ndarray  # (cells,): the clip of each cell, -1 for none (a file's own)
    unit: str = "file"

    @classmethod
    def from_scores(cls, scores: Sequence[FileScore]) -> FileTable:
        """A cell per file; on a split whose every file replays recorded clips
        (``FileScore.clip_units``, at least one turn ending with a clip), a cell per turn's clip in each file (plus one per file for
        what no clip owns: turns no clip ends, commits past the last window), so that
        ``weights`` draws files and clips both."""
        if not scores:
            raise InvalidArgumentError("no files to resample")
        if all(s.clip_units for s in scores) and any(k is not None for s in scores for k, _c, _l in s.clip_units):
            return cls._by_clip(scores)
        counts = np.array([[getattr(s, k) for k in _COUNTS] for s in scores], np.int64)
        lat = np.array([x for s in scores for x in s.latencies], np.float64)
        owner = np.array([i for i, s in enumerate(scores) for _ in s.latencies], np.int64)
        files = np.arange(len(scores), dtype=np.int64)
        return cls.from_cells(counts, lat, owner, files, np.full(len(scores), -1, np.int64), "file")

    @classmethod
    def _by_clip(cls, scores: Sequence[FileScore]) -> FileTable:
        clips: dict[str, int] = {}
        cells: dict[tuple[int, int], int] = {}
        for f, s in enumerate(scores):
            for key, _c, _l in s.clip_units:
                c = -1 if key is None else clips.setdefault(key, len(clips))
                cells.setdefault((f, c), len(cells))
        counts = np.zeros((len(cells), len(_COUNTS)), np.int64)
        lat: list[float] = []
        owner: list[int] = []
        for f, s in enumerate(scores):
            for key, n, ls in s.clip_units:
                cell = cells[(f, -1 if key is None else clips[key])]
                counts[cell] += n
                lat += ls
                owner += [cell] * len(ls)
        where = np.array(list(cells), np.int64).reshape(-1, 2)
        return cls.from_cells(counts, np.array(lat, np.float64), np.array(owner, np.int64), where[:, 0],
                              where[:, 1], "file × clip")

    @classmethod
    def from_cells(cls, counts: np.ndarray, lat: np.ndarray, owner: np.ndarray, cell_file: np.ndarray,
                   cell_clip: np.ndarray, unit: str) -> FileTable:
        """A table from each cell's counts, file and clip, and the answered turns' latencies with
        the cell each came from (in any order: sorted here)."""
        order = np.argsort(lat, kind="stable")
        return cls(counts, lat[order], owner[order], cell_file, cell_clip, unit)

    @property
    def cells(self) -> int:
        return int(self.counts.shape[0])

    @property
    def files(self) -> int:
        return int(self.cell_file.max()) + 1 if self.cells else 0

    @property
    def clips(self) -> int:
        return int(self.cell_clip.max()) + 1 if self.cells else 0

    def varies(self, metric: str) -> bool:
        """Whether ``metric`` rests on more than one unit's say: the cells that carry it (a
        non-zero denominator; for the latencies, an answered turn) lie in two files or more,
        and on a split of recorded clips in two clips or more too (of the clips alone where
        the split is one file). One file drawn again and again is that file each time: its
        interval would read zero wide, and a difference "sure" on one file's say."""
        if metric in _RATIOS:
            carriers = self.counts[:, _COUNTS.index(_RATIOS[metric][1])] > 0
        else:
            carriers = np.zeros(self.cells, bool)
            carriers[self.latency_file] = True
        files = len(np.unique(self.cell_file[carriers]))
        if not (self.cell_clip >= 0).any():
            return files >= 2
        clips = len(np.unique(self.cell_clip[carriers & (self.cell_clip >= 0)]))
        return clips >= 2 and (files >= 2 or self.files == 1)

    def layout(self) -> tuple[bytes, bytes]:
        """Two tables with the same layout can share ``weights`` (paired comparisons)."""
        return self.cell_file.tobytes(), self.cell_clip.tobytes()

    def weights(self, resamples: int = RESAMPLES, seed: int = 0) -> np.ndarray:
        """(resamples, cells): how many times each cell counts in each resample. Files are drawn
        with replacement (``resample_weights``), and on a recorded split the clips too, on their
        own (a two-way, "pigeonhole" bootstrap): a cell counts its file's draws times its clip's,
        so both the turns that share a file and those that share a clip move together."""
        return self.draws(resamples, seed)[0]

    def draws(self, resamples: int = RESAMPLES,
              seed: int = 0) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """``weights`` and ``factor_weights`` from one draw (what ``Drawn.of`` takes)."""
        parts = self.factor_weights(resamples, seed)
        if parts is None:
            return resample_weights(self.files, resamples, seed)[:, self.cell_file], None
        return parts[0] * parts[1], parts

    def factor_weights(self, resamples: int = RESAMPLES, seed: int = 0) -> tuple[np.ndarray, np.ndarray] | None:
        """On a recorded split, the two draws ``weights`` multiplies, each (resamples, cells): the
        files' alone and the clips' alone (1 for a cell no clip owns). ``Drawn.of`` reads how
        much each moves a figure (``dof``). None on a split of files alone."""
        if not self.clips:
            return None
        w = resample_weights(self.files, resamples, seed)[:, self.cell_file]
        wc = np.random.default_rng([seed, 1]).multinomial(
            self.clips, np.full(self.clips, 1.0 / self.clips), size=resamples).astype(np.int64)
        return w, np.where(self.cell_clip >= 0, wc[:, np.maximum(self.cell_clip, 0)], 1)


def unit_words(unit: str) -> str:
    """What a table of ``unit`` ("file", or "file × clip") resamples, in words."""
    return "files and recorded clips" if unit == "file × clip" else "files"


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


def ratio_samples(table: FileTable, weights: np.ndarray) -> dict[str, np.ndarray]:
    """The ratio metrics of ``METRICS`` (precision, the recalls, interruptions per 100 turns) per
    row of ``weights`` (NaN where a resample leaves one undefined)."""
    if weights.ndim != 2 or weights.shape[1] != table.cells:
        raise InvalidArgumentError(f"weights must be (resamples, {table.cells}), got {weights.shape}")
    return ratios(weights @ table.counts, _COUNTS, _RATIOS)


def ratios(sums: np.ndarray, columns: Sequence[str],
           spec: Mapping[str, tuple[str, str, float]]) -> dict[str, np.ndarray]:
    """Each ``spec`` ratio (numerator column, denominator column, scale) of ``sums`` (rows:
    resamples, columns named by ``columns``), NaN where its denominator is 0."""
    col = {k: sums[:, i].astype(np.float64) for i, k in enumerate(columns)}
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, (num, den, scale) in spec.items():
            out[name] = np.where(col[den] > 0, scale * col[num] / col[den], np.nan)
    return out


def latency_samples(table: FileTable, weights: np.ndarray) -> dict[str, np.ndarray]:
    """The latency quantiles of ``METRICS`` (ms) per row of ``weights``: ``np.percentile``'s linear
    rule on the sample holding each sorted latency as many times as its cell is drawn, without
    expanding it (NaN where a resample draws no latency)."""
    x = table.latencies
    if not x.size:
        return {name: np.full(weights.shape[0], np.nan) for name in _QUANTILES}
    out: dict[str, list[np.ndarray]] = {name: [] for name in _QUANTILES}
    for start in range(0, weights.shape[0], _LATENCY_ROWS):  # a (resamples, latencies) matrix can be large
        cum = np.cumsum(weights[start:start + _LATENCY_ROWS, table.latency_file], axis=1)
        n = cum[:, -1]
        for name, q in _QUANTILES.items():
            h = q / 100.0 * (n - 1)
            lo = np.floor(h)
            a = x[np.minimum((cum <= lo[:, None]).sum(axis=1), x.size - 1)]  # searchsorted(cum, lo, "right")
            b = x[np.minimum((cum <= lo[:, None] + 1).sum(axis=1), x.size - 1)]
            out[name].append(np.where(n > 0, 1e3 * (a + (h - lo) * (b - a)), np.nan))
    return {name: np.concatenate(v) for name, v in out.items()}


def metric_samples(table: FileTable, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric of ``METRICS`` per row of ``weights`` (NaN where a resample leaves it undefined)."""
    return {**ratio_samples(table, weights), **latency_samples(table, weights)}


def tail_percent(level: float = LEVEL, df: float = math.inf) -> float:
    """The percent of resamples left out in each tail of a ``level`` interval read from ``df``
    degrees of freedom: Hesterberg's expanded percentile interval, which leaves out less than
    50 · (1 − level) as few units make the resamples vary too little (by (n − 1) / n) and their
    spread is a t's, not a normal's. With n = df + 1 it reads the normal quantile of
    √(n / (n − 1)) · t(df) (12 files, 11 degrees of freedom: 1.08 % for 2.5 %); with ``df`` inf, 50 · (1 − level)."""
    from scipy import stats

    if not df > 0.0:
        raise InvalidArgumentError(f"degrees of freedom must be > 0, got {df}")
    if math.isinf(df):
        return 50.0 * (1.0 - level)
    q = float(stats.t.ppf(0.5 + level / 2.0, df)) * math.sqrt((df + 1.0) / df)
    return 100.0 * float(stats.norm.sf(q))


def bounds(x: np.ndarray, level: float = LEVEL, df: float = math.inf,
           point: float | None = None) -> tuple[float, float] | None:
    """The ``level`` interval of the finite samples ``x`` (their tails' percentiles, each tail
    ``tail_percent(level, df)``), ``None`` if none. With the ``point`` figure the tails are
    bias-corrected (Efron's BC, ``bias_corrected``): where most resamples fall on one side of
    the point, as a skewed figure's often do, both ends move to the other side."""
    x = x[np.isfinite(x)]
    if x.size == 0:
        return None
    tail = tail_percent(level, df)
    lo_q, hi_q = (tail, 100.0 - tail) if point is None or not math.isfinite(point) \
        else bias_corrected(x, point, tail)
    lo, hi = np.percentile(x, [lo_q, hi_q])
    return float(lo), float(hi)


def bias_corrected(x: np.ndarray, point: float, tail: float) -> tuple[float, float]:
    """Efron's bias-corrected percentiles (percent) for tails of ``tail`` percent: with z0 the
    normal quantile of the share of the resamples ``x`` under ``point`` (ties count half; kept
    within half a resample of 0 and 1), Φ(2·z0 ± z) where Φ(z) = 1 − tail / 100. z0 = 0 (half
    under, half over) leaves the tails as they were."""
    from scipy import stats

    n = x.size
    share = (np.count_nonzero(x < point) + 0.5 * np.count_nonzero(x == point)) / n
    z0 = float(stats.norm.ppf(min(max(share, 0.5 / n), 1.0 - 0.5 / n)))
    z = float(stats.norm.isf(tail / 100.0))
    return 100.0 * float(stats.norm.cdf(2.0 * z0 - z)), 100.0 * float(stats.norm.cdf(2.0 * z0 + z))


def _var(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.var(x)) if x.size > 1 else 0.0


def dof(files: int, clips: int, parts: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """The degrees of freedom a figure's resamples have: files − 1 on a split of files alone. On a
    recorded split, Satterthwaite's: with v_f and v_c how much the figure varies over ``parts``
    (its resamples under the files' draws alone and the clips' alone, ``FileTable.factor_weights``),
    (v_f + v_c)² / (v_f² / (files − 1) + v_c² / (clips − 1)), between the smaller count's and
    both counts' less two. Without ``parts`` (or if neither moves it): the smaller count's less
    one (of the clips alone where there is one file)."""
    if not clips:
        return float(max(files - 1, 1))
    fallback = float(max((clips if files == 1 else min(files, clips)) - 1, 1))
    if parts is None:
        return fallback
    vf, vc = _var(parts[0]), _var(parts[1])
    den = vf * vf / max(files - 1, 1) + vc * vc / max(clips - 1, 1)
    return (vf + vc) ** 2 / den if den > 0.0 else fallback


@dataclass(frozen=True)
class Drawn:
    """One policy's figures: the point ones (every file once), each resample's and, on a recorded
    split, each resample's under the files' and the clips' draws alone (``dof`` reads them)."""

    point: dict[str, float]
    samples: dict[str, np.ndarray]
    files: int = 0
    clips: int = 0
    by_files: dict[str, np.ndarray] | None = None
    by_clips: dict[str, np.ndarray] | None = None
    # the metrics a resample can move (``FileTable.varies``); the others get no interval
    varying: frozenset[str] = frozenset(METRICS)

    @classmethod
    def of(cls, table: FileTable, weights: np.ndarray,
           factors: tuple[np.ndarray, np.ndarray] | None = None) -> Drawn:
        """``weights``: ``FileTable.weights``; ``factors``: its ``factor_weights`` (the same
        resamples and seed), without which a recorded split's intervals read the smaller count's
        degrees of freedom (``dof``)."""
        point = {k: float(v[0]) for k, v in metric_samples(table, np.ones((1, table.cells), np.int64)).items()}
        if table.latencies.size:  # as scoring.summarize computes them, to the last digit
            point["latency_median_ms"] = float(np.median(table.latencies) * 1e3)
            point["latency_p90_ms"] = float(np.percentile(table.latencies, 90) * 1e3)
        if factors is not None and any(f.shape != weights.shape for f in factors):
            raise InvalidArgumentError("factors must be the two draws of the same weights (FileTable.factor_weights)")
        by_f = by_c = None
        if factors is not None and table.clips:
            by_f, by_c = metric_samples(table, factors[0]), metric_samples(table, factors[1])
        return cls(point, metric_samples(table, weights), table.files, table.clips, by_f, by_c,
                   frozenset(k for k in METRICS if table.varies(k)))

    def dof(self, metric: str, other: Drawn | None = None) -> float:
        """``dof`` of ``metric``, or with ``other`` of the paired difference self − other."""
        if self.by_files is None or self.by_clips is None:
            return dof(self.files, self.clips)
        if other is None:
            return dof(self.files, self.clips, (self.by_files[metric], self.by_clips[metric]))
        if other.by_files is None or other.by_clips is None:
            return dof(self.files, self.clips)
        return dof(self.files, self.clips, (self.by_files[metric] - other.by_files[metric],
                                            self.by_clips[metric] - other.by_clips[metric]))


def draw_all(tables: Sequence[FileTable], resamples: int = RESAMPLES, seed: int = 0) -> list[Drawn]:
    """Each table (policies scored on the same files: one layout) drawn on the same resamples, with,
    on a recorded split, the two draws its degrees of freedom are read from."""
    if not tables or len({t.layout() for t in tables}) != 1:
        raise InvalidArgumentError("draw_all needs one or more tables of the same files (and clips)")
    weights, factors = tables[0].draws(resamples, seed)
    return [Drawn.of(t, weights, factors) for t in tables]


def _finite(v: float) -> float | None:
    return v if np.isfinite(v) else None


def intervals(drawn: Drawn, level: float = LEVEL) -> dict[str, Any]:
    """Per metric: ``{"value": point figure, "lo", "hi", "df"}`` (``None`` where undefined; ``df``:
    the degrees of freedom the interval was read with, ``Drawn.dof``)."""
    out = {}
    for k in METRICS:
        df = drawn.dof(k)
        b = bounds(drawn.samples[k], level, df, drawn.point[k] if k in BIAS_CORRECTED else None) \
            if k in drawn.varying else None
        out[k] = {"value": _finite(drawn.point[k]), "lo": b[0] if b else None, "hi": b[1] if b else None, "df": df}
    return out


def paired(a: Drawn, b: Drawn, level: float = LEVEL) -> dict[str, Any]:
    """Per metric, ``a − b`` on the same resamples (``Drawn.of`` with the same weights):
    ``{"diff", "lo", "hi", "better", "worse", "df"}``; ``better``: ``a`` is better with confidence
    ``level`` (the interval lies wholly on the better side of 0), ``worse``: ``b`` is."""
    out = {}
    for k in METRICS:
        if a.samples[k].shape != b.samples[k].shape:
            raise InvalidArgumentError("paired intervals need the same resamples of the same files")
        df = a.dof(k, b)
        # not bias-corrected: it added false marks
        iv = bounds(a.samples[k] - b.samples[k], level, df) if k in a.varying & b.varying else None
        lo, hi = iv if iv else (None, None)
        better = worse = False
        if iv:
            signed = sorted((SIGN[k] * iv[0], SIGN[k] * iv[1]))
            better, worse = signed[0] > 0.0, signed[1] < 0.0
        out[k] = {"diff": _finite(a.point[k] - b.point[k]), "lo": lo, "hi": hi, "better": better, "worse": worse,
                  "df": df}
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
    if len({t.layout() for t in tables.values()}) != 1:
        raise InvalidArgumentError(f"every policy must be scored on the same files, got "
                                   f"{sorted({t.files for t in tables.values()})} files")
    first = next(iter(tables.values()))
    drawn = dict(zip(tables, draw_all(list(tables.values()), resamples, seed)))
    return {
        "resamples": resamples, "seed": seed, "level": level, "unit": first.unit, "files": first.files,
        **({"clips": first.clips} if first.clips else {}),
        "policies": {lb: intervals(drawn[lb], level) for lb in labels},
        "against": {b: {c: not_surely_better(paired(drawn[c], drawn[b], level), drawn[b]) for c in contenders}
                    for b in baselines},
        "pairs": [{"a": a, "b": b, "diff": paired(drawn[a], drawn[b], level)} for a, b in pairs],
    }
