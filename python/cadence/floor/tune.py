"""``cadence tune floor``: sweep CadencePolicy settings on a labeled split, offline and fast.

    cadence tune floor --corpus DIR/dev [--corpus DIR2/dev ...] [--weights W]
                       [--set name=v1,v2 ...] [--echo-cancel] [--json OUT]

The featurizer and model run once per file (features are cached like training's);
then only the policy's decision logic (``CadencePolicy.decide``) runs per setting,
so a grid of hundreds of settings takes seconds per setting instead of a full
benchmark run; ``--jobs`` processes score settings side by side. Every setting is
scored with the benchmark's own scoring
(``cadence.floor.scoring``); several ``--corpus`` splits are pooled (one score over
all their files), so a setting is not picked for one generator's quirks. Tune on ``dev``; report on ``test`` with ``cadence
bench floor`` (never tune on the split you report). It also prints the model's
own hold/shift separability (``cadence.floor.separability``), which needs no policy.
Settings that ask the judge in pauses (``smart_turn_weight`` > 0) keep each file's mic audio
and ask it as the bench does, each distinct question once per process (the settings of one
file mostly ask about the same turns), so they cost the judge's compute once, not per setting.
Like ``cadence bench floor`` it appends silence to a file that ends inside an answer window
(``bench.tail_frames``, ``bench.padded_input``), so a final turn the bench answers in that
silence is answered here too; such files are featurized afresh on every run (not cached).

Example: ``--set patience=0.3,0.6,0.9 --set fallback_keep=0.9,0.97``. Fields that take
None take numbers here; ``pause_noise_db=-100`` stands for no level test (every frame
passes it), ``pause_background_db=-100`` for no background test, and ``pause_user_db=-100``
for a background test without the user's cap.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import multiprocessing as mp
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from cadence.cores import cores
from cadence.errors import InvalidArgumentError
from cadence.floor import intervals, stop_intervals
from cadence.floor.bench import SURE_MARKS, diff_rows, load_manifest, markdown_table, stop_diff_rows
from cadence.floor.commit_rules import rule_section, rule_summary, tally
from cadence.floor.echo_rule import canceller_excess, excess_over_prediction
from cadence.floor.model import PAUSE, FloorModel, default_persona_weights_path
from cadence.floor.labels import FRAME_S
from cadence.floor.policy import (
    TURN_OUTPUTS,
    CadencePolicy,
    PolicyConfig,
    blind_to_persona,
    first_persona_frame,
    hears_persona,
    with_persona_outputs,
)
from cadence.floor.scoring import FileScore, labels_from_manifest, score_file, summarize, total
from cadence.floor.separability import auc_by_offset, hold_shift_auc
from cadence import cli_args


# the table `cadence tune floor` prints: one row per setting, the benchmark's formatting
TUNE_COLS = (("setting", None), ("median ms", "latency_median_ms"), ("p90 ms", "latency_p90_ms"),
             ("≤500 ms", "answered_500ms_share"), ("precision", "precision"), ("recall", "recall"),
             ("recall, open", "recall_open"),
             ("interrupt./100", "interruptions_per_100_turns"), ("holds cut", "hold_interrupted_share"),
             ("barge-in recall", "bargein_recall"), ("≤150 ms", "bargein_within_150ms_share"),
             ("false /persona-min", "false_bargeins_per_persona_min"),
             ("backch. triggered", "backchannel_trigger_share"), ("stop ≤150 ms", "stop_within_150ms_share"),
             ("backch. paused", "backchannel_pause_share"),
             ("false pauses /persona-min", "false_pauses_per_persona_min"),
             ("of them no user sound", "false_pauses_no_user_per_persona_min"),
             ("spec/turn", "speculate_per_turn"), ("retract share", "retract_share"),
             ("draft ready", "draft_ready_share"), ("draft lead ms", "draft_lead_median_ms"),
             ("answers drafted", "answer_draft_share"), ("answer lead ms", "answer_draft_lead_median_ms"),
             ("nods /100 turns", "nods_per_100_turns"), ("nods in holds", "nod_hold_share"),
             ("nods after a turn end", "nod_after_end_share"), ("holds nodded", "holds_nodded_share"))


def parse_grid(items: list[str]) -> dict[str, list[float]]:
    """``["patience=0.3,0.5", ...]`` → ``{"patience": [0.3, 0.5], ...}`` (names checked)."""
    known = {f.name: f.type for f in fields(PolicyConfig)}
    grid: dict[str, list[float]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or name not in known:
            raise InvalidArgumentError(
                f"--set {item!r}: expected NAME=v1,v2 with NAME one of {sorted(known)}"
            )
        if name in grid:  # a second --set of a field would replace the first's values
            raise InvalidArgumentError(f"--set {name} is given twice; list every value once: {name}=v1,v2")
        cast = int if known[name] in (int, "int") else float  # "float | None" fields: float
        try:
            grid[name] = [cast(v) for v in values.split(",") if v]
        except ValueError as e:
            raise InvalidArgumentError(f"--set {item!r}: {e}") from e
        if not grid[name]:
            raise InvalidArgumentError(f"--set {item!r}: no values (expected NAME=v1,v2)")
        if not all(math.isfinite(v) for v in grid[name]):
            raise InvalidArgumentError(f"--set {item!r}: values must be finite numbers")
        shown = [f"{v:g}" for v in grid[name]]  # how the table names each setting
        if len(set(shown)) < len(shown):
            twice = sorted({t for t in shown if shown.count(t) > 1})
            raise InvalidArgumentError(f"--set {item!r}: {', '.join(twice)} given twice (or values that "
                                       "print alike to 6 digits); list each value once")
    return grid or {"patience": [0.5]}


class Row(NamedTuple):
    """One file as tune scores it (``file_row``)."""

    x: np.ndarray  # features (n, FEATURES)
    probs: np.ndarray  # the networks' outputs per frame
    entry: dict[str, Any]  # the manifest entry (its labels)
    excess: np.ndarray | None = None  # the echo rule's canceller excess per frame
    audio: np.ndarray | None = None  # the mic frames (n, 160) that the judge reads
    # probs with the turn's columns from the pass blind to the persona (turn_sees_persona=0, the
    # default); None: the file has no persona, so that pass gives ``probs`` (a row made by hand
    # for a file with a persona must give it: score_settings refuses such a row without it)
    blind: np.ndarray | None = None
    # the persona networks' outputs (persona_networks=1, the default) in a file with a persona; None
    # without one (a hand-made row for a file with a persona must give them, as for ``blind``)
    persona: np.ndarray | None = None


# (policy, data, labels, judge head file, keep the per-file scores) while score_settings runs: forked
# workers inherit it, unpickled
_SHARED: tuple[CadencePolicy, list[Row], list[Any], str | None, bool] | None = None


class _MemoJudge:
    """A judge that answers each distinct audio once (in this process), then from memory."""

    def __init__(self, judge: Any) -> None:
        self.judge = judge
        self.memo: dict[bytes, float] = {}

    def prob_complete(self, audio: np.ndarray) -> float:
        key = hashlib.blake2b(np.ascontiguousarray(audio).tobytes(), digest_size=16).digest()
        if key not in self.memo:
            self.memo[key] = self.judge.prob_complete(audio)
        return self.memo[key]


_JUDGES: dict[tuple[bool, str | None], _MemoJudge] = {}  # by (judge_head, its file and time): loaded on first use
# a forked worker loads its own judge (ONNX Runtime sessions do not survive a fork well)
os.register_at_fork(after_in_child=_JUDGES.clear)


def _judge(head: bool, head_file: str | None = None) -> _MemoJudge:
    """The judge of a setting: Smart Turn's classifier, or with ``head`` the head in ``head_file``
    (default the packaged one)."""
    # a file is known by its path and when it was written: a head rewritten in place is loaded anew
    key = (head, f"{head_file}@{os.stat(head_file).st_mtime_ns}" if head and head_file else None)
    if key not in _JUDGES:
        from cadence.floor.turn_judge import DEFAULT_HEAD, JudgeHead, SmartTurnJudge

        _JUDGES[key] = _MemoJudge(SmartTurnJudge(JudgeHead.load(head_file or DEFAULT_HEAD) if head else None))
    return _JUDGES[key]


def _check_judge_head(settings: list[dict[str, float]], judge_head: str | None) -> None:
    """A judge head file must load and be read by some setting (judge_head=1)."""
    if judge_head is None:
        return
    from cadence.floor.turn_judge import JudgeHead

    if not any(PolicyConfig(**s).judge_head for s in settings):  # type: ignore[arg-type]
        raise InvalidArgumentError(f"judge head {judge_head}: no setting reads it (set judge_head=1 and "
                                   "smart_turn_weight > 0)")
    JudgeHead.load(judge_head)  # a missing or malformed file fails here, before any scoring


# the fields that shape the judge's answer: a setting that does not ask the judge reads none of them
_JUDGE_FIELDS = PolicyConfig.JUDGE_ONLY | set(PolicyConfig.JUDGE_FLAGS)


def check_settings(settings: list[dict[str, float]]) -> None:
    """Refuse a setting no policy can run (its config's own checks), or one that sets the judge's
    fields without asking the judge: before any file is featurized."""
    for setting in settings:
        config = PolicyConfig(**setting)  # type: ignore[arg-type]
        if not config.asks_judge and PolicyConfig.JUDGE_ONLY & set(setting):
            raise InvalidArgumentError(f"{sorted(PolicyConfig.JUDGE_ONLY & set(setting))} are read only when "
                                       "the judge is asked: set smart_turn_weight > 0 too")


def expand_grid(grid: dict[str, list[float]]) -> list[dict[str, float]]:
    """Every combination of ``grid``'s values, one setting each, in ``itertools.product`` order.

    Where ``smart_turn_weight`` takes 0 beside other values, its settings at 0 (no judge) drop
    the judge's fields, and repeats are dropped: ``smart_turn_weight=0,0.5 judge_veto=0,1`` is
    three settings, the first without a judge (list 0 first: every setting is compared with the
    first). A grid whose settings never ask the judge keeps the fields (``score_settings`` then
    says they are read only with a judge)."""
    names = list(grid)
    settings = [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]
    if not any(v > 0.0 for v in grid.get("smart_turn_weight", [])):
        return settings
    out: list[dict[str, float]] = []
    for s in settings:
        if s.get("smart_turn_weight", 0.0) == 0.0:
            s = {k: v for k, v in s.items() if k not in _JUDGE_FIELDS}
        if s not in out:
            out.append(s)
    return out


def _score_one(setting: dict[str, float]) -> tuple[dict[str, Any], intervals.FileTable | None, np.ndarray | None]:
    assert _SHARED is not None
    pol, data, labels, head_file, keep = _SHARED
    pol.config = PolicyConfig(**setting)  # type: ignore[arg-type]
    pol.judge = (_judge(bool(pol.config.judge_head), head_file)  # type: ignore[assignment]
                 if pol.config.asks_judge else None)
    per_file: list[FileScore] = []
    by_rule: dict[str, Counter[str]] = {}
    unmatched = 0
    for row, lab in zip(data, labels):
        pol.reset()
        probs = row.probs if pol.config.turn_sees_persona or row.blind is None else row.blind
        if pol.config.persona_networks and row.persona is not None:
            probs = with_persona_outputs(probs, row.persona, first_persona_frame(row.x))
        if pol.judge is None:
            decisions = pol.decide(row.x, probs, row.excess)
        else:
            assert row.audio is not None  # score_settings checked it
            decisions = pol.decide_heard(row.audio, row.x, probs, row.excess)
        sc = score_file(decisions, lab)
        per_file.append(sc)
        unmatched += not tally(by_rule, list(pol.commit_rules), sc.commit_outcomes)
    # the per-file counts go back from a worker as a small table, not as every file's score
    table = intervals.FileTable.from_scores(per_file) if keep and per_file else None
    stops = stop_intervals.stop_counts(per_file) if keep and per_file else None
    return {**summarize(total(per_file)), **rule_summary(by_rule, unmatched)}, table, stops


def file_row(split: Path, entry: dict[str, Any], x: np.ndarray, model: FloorModel,
             echo_cancel: bool = False, audio: bool = False,
             persona_model: FloorModel | None = None) -> tuple[Row, int]:
    """One file's (features, network outputs, manifest entry, the echo rule's canceller excess
    [, with ``audio`` its mic frames, for the judge], and in a file with a persona the outputs with
    the turn's columns from the pass blind to it, for ``turn_sees_persona=0``, and with
    ``persona_model`` its outputs, for ``persona_networks=1``) from its cached
    features ``x``, and the frames of silence appended to it: a file that ends inside an answer
    window is featurized again with the bench's silence (``bench.padded_input``)."""
    from cadence._core import EchoCanceller
    from cadence.floor.bench import padded_input, persona_track
    from cadence.floor.features import FloorFeaturizer

    path = str(split / entry["audio"])
    frames, reference, pad = padded_input(path, persona_track(str(split), entry, path), labels_from_manifest(entry))
    if pad and echo_cancel:  # the featurizer's canceller output serves the echo rule too (as in the policy)
        featurizer = FloorFeaturizer(echo_cancel=True)
        x = featurizer.process(frames, reference)
        assert featurizer.cleaned is not None
        excess = excess_over_prediction(frames, featurizer.cleaned)
    else:
        if pad:
            x = FloorFeaturizer().process(frames, reference)
        excess = canceller_excess(EchoCanceller(), frames[: len(x)], None if reference is None else reference[: len(x)])
    model.reset()
    mic = np.asarray(frames[: len(x)], np.float32) if audio else None
    probs = model.process(x)
    blind = None  # without a persona its channels read silent already: the blind pass is the same
    if reference is not None:
        model.reset()
        blind = probs.copy()
        blind[:, TURN_OUTPUTS] = model.process(blind_to_persona(x))[:, TURN_OUTPUTS]
    persona = None
    if reference is not None and persona_model is not None:
        persona_model.reset()
        persona = persona_model.process(x)
    return Row(x, probs, entry, excess, mic, blind, persona), pad


def score_settings(
    data: Sequence[Row | tuple[Any, ...]], grid: dict[str, list[float]],
    weights: str | None = None, jobs: int = 1, judge_head: str | None = None, resamples: int = 0,
) -> list[tuple[dict[str, float], dict[str, Any]]]:
    """Score every combination of ``grid`` on rows (``Row``, or a tuple of its fields in order:
    features, probs, manifest entry[, the echo rule's canceller excess[, mic frames[, the blind pass's
    probs[, the persona networks' outputs]]]]). Without
    the excess (``file_row`` gives it) ``echo_rule`` has nothing to read and every setting uses
    the echo estimate alone. Settings that ask the judge (``smart_turn_weight`` > 0) need the
    mic frames too (``file_row(..., audio=True)``).

    ``judge_head``: the head file that settings with ``judge_head=1`` read (default the packaged
    one); at least one setting must read it.

    ``resamples`` > 0: each summary also holds its headline figures' 95 % intervals over that
    many resamples of the files, and of the clips too on a recorded split (``"intervals"``,
    ``"resample_unit"``, ``intervals.py``), and every setting but the
    first its paired difference from the first setting on the same resamples (``"against_first"``);
    where duplex files carry them, the pause stage's figures likewise (``"stop_intervals"``,
    ``"stop_against_first"``, ``stop_intervals.py``; files alone, so not on recorded clips).

    With ``jobs`` > 1 the settings are scored in that many forked processes, which share
    ``data`` without copying it (where fork exists; else one process). Every setting is
    checked before any is scored.
    """
    global _SHARED
    if jobs < 1:
        raise InvalidArgumentError(f"jobs must be >= 1, got {jobs}")
    intervals.check_resamples(resamples)
    rows = [r if isinstance(r, Row) else Row(*r) for r in data]
    settings = expand_grid(grid)
    check_settings(settings)
    for setting in settings:
        if PolicyConfig(**setting).asks_judge and any(row.audio is None for row in rows):  # type: ignore[arg-type]
            raise InvalidArgumentError("smart_turn_weight > 0 asks the judge about the mic audio: "
                                       "score rows made with file_row(..., audio=True)")
    if any(not PolicyConfig(**st).turn_sees_persona for st in settings):  # type: ignore[arg-type]
        for row in rows:
            if row.blind is None and hears_persona(row.x):
                raise InvalidArgumentError(
                    f"{row.entry.get('audio')}: turn_sees_persona=0 reads the pass blind to the persona, "
                    "and this row's file has one: give the row its blind outputs (file_row does)")
    if any(PolicyConfig(**st).persona_networks for st in settings):  # type: ignore[arg-type]
        for row in rows:
            if row.persona is None and hears_persona(row.x):
                raise InvalidArgumentError(
                    f"{row.entry.get('audio')}: persona_networks=1 reads the persona's networks, and this "
                    "row's file has a persona: give the row their outputs (file_row(..., persona_model=...) "
                    "does), or score persona_networks=0")
    _check_judge_head(settings, judge_head)
    labels = [labels_from_manifest(row.entry) for row in rows]
    # one policy; only its config changes per setting
    _SHARED = (CadencePolicy(weights=weights), rows, labels, judge_head, resamples > 0)
    try:
        if jobs > 1 and len(settings) > 1 and "fork" in mp.get_all_start_methods():
            with mp.get_context("fork").Pool(min(jobs, len(settings))) as pool:
                scored = pool.map(_score_one, settings, chunksize=1)
        else:
            scored = [_score_one(s) for s in settings]
    finally:
        _SHARED = None
    summaries = [summary for summary, _, _ in scored]
    if resamples and rows:
        first = next(table for _, table, _ in scored if table is not None)  # cells: files, or files × clips
        drawn = intervals.draw_all([table for _, table, _ in scored if table is not None], resamples)
        # the pause stage's figures, over files alone (as the bench: not on recorded clips)
        stops = stop_intervals.counts_report(
            {str(i): c for i, (_, _, c) in enumerate(scored) if c is not None}, resamples,
            pairs=[(str(i), "0") for i in range(1, len(scored))]) if first.unit == "file" else None
        for i, summary in enumerate(summaries):
            summary["intervals"] = intervals.intervals(drawn[i])
            summary["resample_unit"] = first.unit
            if i:
                summary["against_first"] = intervals.paired(drawn[i], drawn[0])
            if stops is not None:
                summary["stop_intervals"] = stops["policies"][str(i)]
                if i:
                    summary["stop_against_first"] = stops["pairs"][i - 1]["diff"]
    return list(zip(settings, summaries))


def against_first_section(table: dict[str, dict[str, Any]], labels: Sequence[str], resamples: int) -> list[str]:
    """Every setting's difference from the first, with its paired 95 % interval (``score_settings``
    with ``resamples``)."""
    later = [lb for lb in labels[1:] if "against_first" in table[lb]]
    if not later:
        return []
    lines = diff_rows([(lb, table[lb]["against_first"]) for lb in later])
    units = intervals.unit_words(table[labels[0]].get("resample_unit", "file"))
    stops = [(lb, table[lb]["stop_against_first"]) for lb in later if "stop_against_first" in table[lb]]
    return ["", f"Against the first setting ({labels[0]}): each difference with its 95 % interval over "
            f"{resamples} resamples of the {units}, the same for both (paired). {SURE_MARKS}", "", *lines,
            *(["", "The pause stage's figures against the first setting, on the same resamples "
               "(`cadence/floor/stop_intervals.py`):", "", *stop_diff_rows(stops)] if stops else [])]


def _checked_splits(corpora: list[Path]) -> list[Path]:
    """The splits, each checked as ``cadence bench floor`` checks it (``load_manifest``: its
    labels, audio files and lengths; no file listed twice), and none given twice: a split or a
    file counted twice would weigh double in every figure and interval."""
    splits: list[Path] = []
    seen: dict[str, Path] = {}
    for corpus in corpora:
        split = corpus.resolve()
        if split in splits:
            raise InvalidArgumentError(f"--corpus {corpus} is given twice")
        for f in load_manifest(str(split)):
            if f.path in seen:
                raise InvalidArgumentError(f"{f.path} is in both {seen[f.path]} and {split}")
            seen[f.path] = split
        splits.append(split)
    return splits


def main(argv: list[str]) -> int:
    from cadence.floor.train import _read_manifest, load_split

    ap = argparse.ArgumentParser(prog="cadence tune floor", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, type=Path, action="append",
                    help="a split folder with manifest.jsonl (repeat to pool several splits)")
    ap.add_argument("--weights", default=None, help="model .npz (default: the packaged one)")
    ap.add_argument("--persona-weights", default=None, metavar="NPZ",
                    help="the networks persona_networks=1 reads (default: the packaged floor_persona.npz)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=v1,v2",
                    help="a PolicyConfig field and the values to try (repeat)")
    ap.add_argument("--jobs", type=cli_args.jobs, default=cores(),
                    help="processes that featurize the files and then score the settings")
    ap.add_argument("--judge-head", default=None, metavar="NPZ",
                    help="the judge head that settings with judge_head=1 read (cadence train judge writes one; "
                         "default the packaged judge_head.npz)")
    ap.add_argument("--json", type=cli_args.out_file, default=None)
    ap.add_argument("--echo-cancel", action="store_true",
                    help="featurize with the adaptive echo canceller (FloorFeaturizer(echo_cancel=True))")
    ap.add_argument("--resamples", type=int, default=intervals.RESAMPLES,
                    help="resamples of the files (on a recorded split, and of the clips) behind the 95 %% intervals of each setting's difference "
                         f"from the first (0: none; else at least {intervals.MIN_RESAMPLES})")
    args = ap.parse_args(argv)
    grid = parse_grid(args.set)
    settings = expand_grid(grid)
    # every check before the files are featurized (minutes on a real split)
    check_settings(settings)
    intervals.check_resamples(args.resamples)
    audio = any(PolicyConfig(**s).asks_judge for s in settings)  # type: ignore[arg-type]
    _check_judge_head(settings, args.judge_head)
    splits = _checked_splits(args.corpus)
    model = FloorModel(args.weights)
    persona_model = (FloorModel(args.persona_weights or default_persona_weights_path())
                     if any(PolicyConfig(**st).persona_networks for st in settings)  # type: ignore[arg-type]
                     else None)
    data: list[Row] = []
    padded = padded_frames = 0
    for split in splits:
        for (x, _y, _w), entry in zip(load_split(split, args.jobs, echo_cancel=args.echo_cancel),
                                      _read_manifest(split)):
            row, pad = file_row(split, entry, x, model, args.echo_cancel, audio, persona_model)
            data.append(row)
            padded, padded_frames = padded + bool(pad), padded_frames + pad
    if padded:
        print(f"{padded} file(s) end inside an answer window: {padded_frames * FRAME_S:.1f} s of silence "
              "appended, as cadence bench floor does")
    rows = score_settings(data, grid, args.weights, args.jobs, args.judge_head, args.resamples)
    # what the default policy reads: the pass blind to the persona in files with one
    pairs = [(row.probs if row.blind is None else row.blind, row.entry) for row in data]
    sep = hold_shift_auc(pairs, column=PAUSE)
    curve = auc_by_offset(pairs, column=PAUSE)
    print(f"model alone: hold/shift AUC of 1 - P(keep) in pauses (the pause head, else keep) "
          f"at +{sep['offset_ms']} ms = "
          f"{'n/a' if sep['auc'] is None else format(sep['auc'], '.3f')} "
          f"({sep['shifts']} shifts, {sep['holds']} holds); by time into the pause: "
          + ", ".join(f"{c['offset_ms']} ms {'n/a' if c['auc'] is None else format(c['auc'], '.3f')}"
                      for c in curve) + "\n")
    table = {" ".join(f"{k}={v:g}" for k, v in setting.items()): s for setting, s in rows}
    print(markdown_table(table, list(table), TUNE_COLS))
    print("\n".join(rule_section(table, list(table))))
    print("\n".join(against_first_section(table, list(table), args.resamples)))
    if args.json:
        args.json.write_text(json.dumps({"weights": args.weights, "judge_head": args.judge_head,
                                         "separability": sep, "separability_by_offset": curve,
                                         "settings": [{"setting": a, "summary": b} for a, b in rows]},
                                        indent=1))
    return 0
