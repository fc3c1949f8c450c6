"""How often the floor bench's 95 % intervals hold the truth: a simulation (``cadence bench intervals``).

``intervals.py`` resamples the files of a split, and on a split of recorded clips the files and
the clips both (a two-way, "pigeonhole" bootstrap). Which is right depends on how much a file and
a clip each move a policy's figures, and one split cannot say. This module makes splits whose
truth is known and counts how often each way's interval holds it.

* **A split** (``Design``) has files, and clips heard in them. Each file and each clip has an
  effect, drawn normal with spread ``file_sd`` and ``clip_sd``: on the logit scale for recall
  and on the log scale for interruptions (drawn apart). A turn, one clip in one file, is answered
  with probability ``sigmoid(RECALL_LOGIT + a_file + b_clip)`` and has
  ``Poisson(CUT_RATE · exp(a'_file + b'_clip))`` interruptions.
* **The truth** is the figure over new files and new clips: recall's by Gauss-Hermite quadrature,
  interruptions' in closed form, ``100 · CUT_RATE · exp((file_sd² + clip_sd²) / 2)``.
* **Three ways to draw** the same split, each with ``FileTable.weights`` and the bench's
  interval (``intervals.Drawn``, ``intervals.intervals``: the expanded percentile interval with
  the degrees of freedom ``intervals.dof`` reads, bias-corrected for a ratio's own interval, not
  for a paired difference's): the files alone (what a synthetic split gets), the clips alone, and
  both (what a recorded split gets).
* **Coverage** is the share of simulated splits whose 95 % interval holds the truth: 0.95 if the
  interval is right, lower if it is too sure, higher if too wide. With it, the median width. The
  latency quantiles too: each answered turn has a lognormal latency with its file's and its
  clip's effects (``LATENCY_S``, ``LATENCY_SHARE``, ``LATENCY_TURN_SD``), and the truth is the
  median and p90 over new files, clips and turns.
* **False marks** (``false_marks``): two policies with the same true figures, each reading every
  file and clip a little differently (``PAIR_SHARE`` of the design's spreads), scored on the same split and the same
  resamples, as the bench pairs them. The share of splits on which their difference gets a ✓ or
  ✗: 0.05 if the paired interval is right, more if the marks are the files' or clips' luck.
* **Power** (``marks`` with ``shift``, ``--shift``): the same pair, the first policy better by
  ``shift`` on both scales; the share of splits on which it is marked surely better: how large a
  split a gain needs. ``--design`` simulates another split's shape.

The designs mirror the bench's splits (``DESIGNS``): the alsa voice (12 files, the same 8 clips in
each), the hesitations (21 files of 7 turns, each of 49 clips in 3), the English prompts (30 files
of 12 turns from 200 clips, each in 1 or 2), and a synthetic split (150 files of 6 turns, as test A, no clip twice),
each once where clips move the figures more than files and once the other way round.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from cadence.errors import InvalidArgumentError
from cadence.floor import intervals
from cadence.floor.scoring import UNIT_COUNTS
from cadence import cli_args

RECALL_LOGIT = 2.5  # a typical turn is answered with probability 0.92
CUT_RATE = 0.4  # 40 interruptions per 100 turns, as on the human splits
COVERED = ("recall", "interruptions_per_100_turns")
LATENCIES = ("latency_median_ms", "latency_p90_ms")  # their coverage only (``coverage``)
LATENCY_S = 0.3  # a typical answered turn's latency (the median of its lognormal)
LATENCY_SHARE = 0.5  # a file's and a clip's spread of log latency, as a share of the design's spreads
LATENCY_TURN_SD = 0.5  # each turn's own spread of log latency
_Z90 = 1.2815515655446004  # the standard normal's 90th percentile
WAYS = ("files", "clips", "both")
PAIR_SHARE = 0.5  # how differently two policies read each file and clip, as a share of the spreads (false_marks)


@dataclass(frozen=True)
class Design:
    """A simulated split: ``files`` files of ``turns`` turns; each turn one clip. ``clips`` > 0: the
    clips the turns are dealt from (``_turns``; ``turns == clips``: every clip in every file); 0:
    every turn its own clip, as on a synthetic split."""

    name: str
    files: int
    turns: int
    clips: int
    file_sd: float
    clip_sd: float

    def __post_init__(self) -> None:
        if self.files < 2 or self.turns < 1 or self.clips < 0 \
                or (self.clips and not self.turns <= self.clips <= self.files * self.turns):
            raise InvalidArgumentError(f"a design needs >= 2 files, >= 1 turn each and, with clips, no more turns "
                                       f"per file than clips and no more clips than turns; got {self}")
        if not (self.file_sd >= 0.0 and self.clip_sd >= 0.0 and np.isfinite(self.file_sd + self.clip_sd)):
            raise InvalidArgumentError(f"effect spreads must be finite and >= 0, got {self.file_sd}, {self.clip_sd}")


def _designs() -> tuple[Design, ...]:
    shapes = (("alsa voice: 12 files, the same 8 clips in each", 12, 8, 8),
              ("hesitations: 21 files of 7 turns, each of 49 clips in 3", 21, 7, 49),
              ("English prompts: 30 files of 12 turns, each of 200 clips in 1 or 2", 30, 12, 200),
              ("synthetic: 150 files of 6 turns, no clip twice", 150, 6, 0))
    spreads = ((0.3, 1.0), (1.0, 0.3))  # clips matter more; files matter more
    return tuple(Design(n, f, t, c, fs, cs) for n, f, t, c in shapes for fs, cs in spreads)


DESIGNS = _designs()


def truth(design: Design, shift: float = 0.0, pair_share: float = 0.0) -> dict[str, float]:
    """Recall, interruptions per 100 turns and the median and p90 latency (ms; ``shift`` does not
    move them) over new files, new clips and new turns, of a policy ``shift``
    better on both scales that reads files and clips its own way at ``pair_share`` of the spreads
    (``simulate_splits``)."""
    sd = float(np.hypot(design.file_sd, design.clip_sd)) * float(np.sqrt(1.0 + pair_share * pair_share))
    x, w = np.polynomial.hermite_e.hermegauss(96)  # E[f(Z)], Z ~ N(0, 1) = sum(w f(x)) / sqrt(2 pi)
    recall = float(np.sum(w / (1.0 + np.exp(-(RECALL_LOGIT + shift + sd * x)))) / np.sqrt(2.0 * np.pi))
    lat_sd = float(np.hypot(LATENCY_SHARE * sd, LATENCY_TURN_SD))
    return {"recall": recall,
            "interruptions_per_100_turns": 100.0 * CUT_RATE * float(np.exp(sd * sd / 2.0 - shift)),
            "latency_median_ms": 1e3 * LATENCY_S, "latency_p90_ms": 1e3 * LATENCY_S * float(np.exp(_Z90 * lat_sd))}


def _turns(design: Design) -> tuple[np.ndarray, np.ndarray]:
    """Each turn's file and clip. The clips are dealt round: file f holds clips f·turns … f·turns +
    turns − 1 (mod ``clips``), so every clip is heard, in the floor or the ceiling of
    files·turns/clips files (the hesitations: each clip in 3; the prompts: in 1 or 2), never twice
    in a file (``turns <= clips``).
    The effects are drawn independently per clip, so which clips share a file does not matter."""
    file = np.repeat(np.arange(design.files), design.turns)
    if design.clips == 0:
        return file, np.arange(file.size)
    return file, np.arange(file.size) % design.clips


def simulate_splits(design: Design, rng: np.random.Generator, policies: int = 1,
                    pair_share: float = 0.0, shift: float = 0.0) -> list[intervals.FileTable]:
    """One simulated split as the bench's tables (a cell per file and clip, ``unit`` "file ×
    clip"), one per policy. The policies share the files' and clips' effects; each adds its own
    per file and per clip, with ``pair_share`` of the design's spreads (they read files and clips
    differently, the same on average: their true figures are equal). ``shift``: the first policy
    is better by that much on both scales (recall's logit up, interruptions' log down)."""
    file, clip = _turns(design)
    n_clips = int(clip.max()) + 1

    def effects(file_sd: float, clip_sd: float) -> np.ndarray:  # per turn; one draw for recall, one for cuts
        return rng.normal(0.0, file_sd, (2, design.files))[:, file] + rng.normal(0.0, clip_sd, (2, n_clips))[:, clip]

    shared = effects(design.file_sd, design.clip_sd)
    cells, cell_of = np.unique(file * n_clips + clip, return_inverse=True)
    made = []
    for p in range(policies):
        own = effects(pair_share * design.file_sd, pair_share * design.clip_sd) if pair_share > 0.0 else 0.0
        recall_logit, cut_log = shared + own
        if p == 0 and shift:
            recall_logit, cut_log = recall_logit + shift, cut_log - shift
        answered = (rng.random(file.size) < 1.0 / (1.0 + np.exp(-(RECALL_LOGIT + recall_logit)))).astype(np.int64)
        one = np.ones_like(answered)
        per_turn = {"correct": answered, "commits": one, "answered": answered, "shifts": one,
                    "open_answered": answered, "open_shifts": one, "interruptions": rng.poisson(CUT_RATE * np.exp(cut_log))}
        counts = np.zeros((cells.size, len(UNIT_COUNTS)), np.int64)
        for j, k in enumerate(UNIT_COUNTS):
            np.add.at(counts[:, j], cell_of, per_turn[k])
        made.append((counts, answered.astype(bool)))
    # each answered turn's latency, lognormal with the file's and the clip's effects (drawn after
    # the counts, so adding latencies left the counts' draws as they were)
    lat_shared = effects(LATENCY_SHARE * design.file_sd, LATENCY_SHARE * design.clip_sd)[0]
    tables = []
    for counts, answered in made:
        own_lat = effects(pair_share * LATENCY_SHARE * design.file_sd,
                          pair_share * LATENCY_SHARE * design.clip_sd)[0] if pair_share > 0.0 else 0.0
        lat = LATENCY_S * np.exp(lat_shared + own_lat + rng.normal(0.0, LATENCY_TURN_SD, file.size))
        tables.append(intervals.FileTable.from_cells(counts, lat[answered], cell_of[answered].astype(np.int64),
                                                     cells // n_clips, cells % n_clips, "file × clip"))
    return tables


def simulate_split(design: Design, rng: np.random.Generator) -> intervals.FileTable:
    """One simulated split, one policy."""
    return simulate_splits(design, rng)[0]


def ways(table: intervals.FileTable) -> dict[str, intervals.FileTable]:
    """The same split drawn three ways: the files alone, the clips alone, both."""
    return {"files": replace(table, cell_clip=np.full(table.cells, -1, np.int64), unit="file"),
            "clips": replace(table, cell_file=np.zeros(table.cells, np.int64), unit="clip"),
            "both": table}


def _check(sims: int, resamples: int) -> None:
    if sims < 1:
        raise InvalidArgumentError(f"sims must be >= 1, got {sims}")
    intervals.check_resamples(resamples)
    if resamples == 0:
        raise InvalidArgumentError("the simulation needs resamples (>= 100)")


def coverage(design: Design, sims: int, resamples: int = intervals.RESAMPLES, seed: int = 0,
             level: float = intervals.LEVEL) -> dict[str, dict[str, dict[str, float]]]:
    """Per way and metric (``COVERED`` and ``LATENCIES``): the share of ``sims`` simulated splits
    whose interval holds the truth (``"coverage"``) and the median width (``"width"``)."""
    _check(sims, resamples)
    true = truth(design)
    metrics = (*COVERED, *LATENCIES)
    hits = {w: {m: 0 for m in metrics} for w in WAYS}
    widths: dict[str, dict[str, list[float]]] = {w: {m: [] for m in metrics} for w in WAYS}
    for s in range(sims):
        table = simulate_split(design, np.random.default_rng([seed, s, 2]))  # a tag: [seed, 0] is seed's stream
        for way, t in ways(table).items():
            drawn = intervals.Drawn.of(t, *t.draws(resamples, seed + s))
            got = intervals.intervals(drawn, level)
            for m in metrics:
                lo, hi = got[m]["lo"], got[m]["hi"]
                if lo is None or hi is None:
                    continue
                hits[way][m] += lo <= true[m] <= hi
                widths[way][m].append(hi - lo)
    return {w: {m: {"coverage": hits[w][m] / sims, "width": float(np.median(widths[w][m]))} for m in metrics}
            for w in WAYS}


def marks(design: Design, sims: int, resamples: int = intervals.RESAMPLES, seed: int = 0,
          pair_share: float = PAIR_SHARE, shift: float = 0.0, level: float = intervals.LEVEL) -> dict[str, dict[str, float]]:
    """Per way and metric (``COVERED``): two policies scored on the same simulated splits and
    paired on the same resamples, as the bench pairs them (``simulate_splits``). ``shift`` 0: the
    share of splits on which their paired interval lies wholly on one side of 0, a false mark
    (1 − ``level`` is right; more: the marks are the files' or the clips' luck). ``shift`` > 0:
    the first is better by that much, and this is the share on which it is marked surely better
    (the power to see that gain)."""
    _check(sims, resamples)
    if not (np.isfinite(shift) and shift >= 0.0):
        raise InvalidArgumentError(f"shift must be a finite number >= 0, got {shift}")
    count = {w: {m: 0 for m in COVERED} for w in WAYS}
    for s in range(sims):
        a, b = simulate_splits(design, np.random.default_rng([seed, s, 3]), policies=2, pair_share=pair_share,
                               shift=shift)
        for (way, ta), tb in zip(ways(a).items(), ways(b).values()):
            weights, parts = ta.draws(resamples, seed + s)
            sa, sb = intervals.ratio_samples(ta, weights), intervals.ratio_samples(tb, weights)
            # the paired difference's degrees of freedom as Drawn.dof reads them (ratios only: faster)
            by = None if parts is None else [(intervals.ratio_samples(ta, w), intervals.ratio_samples(tb, w))
                                             for w in parts]
            for m in COVERED:
                df = intervals.dof(ta.files, ta.clips, None if by is None else
                                   (by[0][0][m] - by[0][1][m], by[1][0][m] - by[1][1][m]))
                iv = intervals.bounds(sa[m] - sb[m], level, df)
                if iv is None:
                    continue
                better = iv[0] > 0.0 if intervals.SIGN[m] > 0 else iv[1] < 0.0
                count[way][m] += better if shift else (iv[0] > 0.0 or iv[1] < 0.0)
    return {w: {m: count[w][m] / sims for m in COVERED} for w in WAYS}


def false_marks(design: Design, sims: int, resamples: int = intervals.RESAMPLES, seed: int = 0,
                pair_share: float = PAIR_SHARE, level: float = intervals.LEVEL) -> dict[str, dict[str, float]]:
    """``marks`` of two policies with the same true figures."""
    return marks(design, sims, resamples, seed, pair_share, 0.0, level)


def markdown(results: Sequence[tuple[Design, dict[str, Any], dict[str, Any], dict[str, Any] | None]], sims: int,
             resamples: int, shift: float = 0.0) -> list[str]:
    """The tables: each way's coverage (and median width), its false marks, its latency coverage,
    and with ``shift`` its power to mark a true gain."""
    head_row = ["| split | spread: file, clip | recall: files | clips | both | int./100 turns: files | clips | both |",
                "|---|---|---:|---:|---:|---:|---:|---:|"]
    cov = [f"**Coverage** of the 95 % intervals over {sims} simulated splits per row ({resamples} resamples "
           "each), with the median width in brackets: drawing the files alone, the clips alone, and both "
           "(0.95 is right; lower: too sure).", "", *head_row]
    fm = ["", f"**False marks**: the share of {sims} simulated splits per row on which two policies with the same "
          f"true figure, reading each file and clip differently ({PAIR_SHARE:g} of the row's spreads), get a ✓ or ✗ "
          "(their paired 95 % interval lies wholly on one side of 0; 0.05 is right).", "", *head_row]
    pw = ["", f"**Power**: the share of {sims} simulated splits per row on which a policy better by {shift:g} (recall's "
          "logit up, interruptions' log down; the true gain in brackets) is marked surely better. Only the ways "
          "that are not too sure (false marks near 0.05 or under) can be read.", "", *head_row]
    lat = ["", f"**Latency coverage**: the same splits' answered turns, each with a lognormal latency (median "
           f"{1e3 * LATENCY_S:g} ms; log spreads {LATENCY_SHARE:g} of the row's per file and per clip, "
           f"{LATENCY_TURN_SD:g} per turn), median and p90 with the median width in ms.", "",
           "| split | spread: file, clip | median: files | clips | both | p90: files | clips | both |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for d, c, f, p in results:
        head = f"| {d.name} | {d.file_sd:g}, {d.clip_sd:g} | "
        lat.append(head + " | ".join(f"{c[w][m]['coverage']:.3f} ({c[w][m]['width']:.0f})" for m in LATENCIES
                                     for w in WAYS) + " |")
        cov.append(head + " | ".join(f"{c[w][m]['coverage']:.3f} ({c[w][m]['width']:.{3 if m == 'recall' else 1}f})"
                                     for m in COVERED for w in WAYS) + " |")
        fm.append(head + " | ".join(f"{f[w][m]:.3f}" for m in COVERED for w in WAYS) + " |")
        if p is not None:
            gain = {m: truth(d, shift, PAIR_SHARE)[m] - truth(d, 0.0, PAIR_SHARE)[m] for m in COVERED}
            pw.append(head + " | ".join(f"{p[w][m]:.3f}" + (f" ({gain[m]:+.{3 if m == 'recall' else 1}f})" if w == "both"
                                                             else "") for m in COVERED for w in WAYS) + " |")
    return cov + fm + lat + (pw if shift else [])


def _design(text: str) -> Design:
    """``FILES,TURNS,CLIPS,FILE_SD,CLIP_SD`` (CLIPS 0: every turn its own clip)."""
    parts = text.split(",")
    try:  # argparse shows an ArgumentTypeError's own words (a ValueError only as "invalid value")
        if len(parts) != 5:
            raise InvalidArgumentError(f"--design takes FILES,TURNS,CLIPS,FILE_SD,CLIP_SD, got {text!r}")
        files, turns, clips = (int(x) for x in parts[:3])
        file_sd, clip_sd = float(parts[3]), float(parts[4])
        name = f"{files} files of {turns} turns, " + (f"{clips} clips" if clips else "no clip twice")
        return Design(name, files, turns, clips, file_sd, clip_sd)
    except ValueError as e:  # InvalidArgumentError is one
        raise argparse.ArgumentTypeError(f"--design FILES,TURNS,CLIPS,FILE_SD,CLIP_SD: {e}") from e


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cadence bench intervals", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sims", type=int, default=400, help="simulated splits per design")
    ap.add_argument("--resamples", type=int, default=intervals.RESAMPLES)
    ap.add_argument("--seed", type=cli_args.seed, default=0)
    ap.add_argument("--design", action="append", type=_design, default=None, metavar="FILES,TURNS,CLIPS,FILE_SD,CLIP_SD",
                    help="simulate your own split's shape instead of the bench's (repeat for several; CLIPS 0: "
                         "every turn its own clip, as on a synthetic split)")
    ap.add_argument("--shift", type=float, default=0.0,
                    help="also the power to mark a policy better by this much (logit of recall, log of interruptions): "
                         "how large a split a gain needs")
    ap.add_argument("--markdown", type=cli_args.out_file, default=None, help="also write the tables here")
    args = ap.parse_args(argv)
    if not (np.isfinite(args.shift) and args.shift >= 0.0):
        ap.error(f"--shift must be a finite number >= 0, got {args.shift}")
    designs = args.design or DESIGNS
    results = [(d, coverage(d, args.sims, args.resamples, args.seed),
                false_marks(d, args.sims, args.resamples, args.seed),
                marks(d, args.sims, args.resamples, args.seed, shift=args.shift) if args.shift else None)
               for d in designs]
    text = "\n".join(markdown(results, args.sims, args.resamples, args.shift))
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0
