"""``cadence bench floor-loop``: turn-taking in a closed loop, with a persona that talks back.

    cadence bench floor-loop --corpus DIR [--policies cadence,aec3-vad-500,half-duplex-500]
        [--patience 0.5] [--reply-delay-ms 50] [--max-files N] [--jobs J] [--seed S]
        [--resamples N] [--compare A:B ...] [--json OUT] [--markdown OUT]

``cadence bench floor`` plays each file as recorded: in a duplex file the persona talks when
the recording says, whatever the policy decided. Here the persona talks when the policy lets
it (``persona_sim.py``): a commit starts a reply (a piper voice, 1–2 phrases, 50 ms after the
commit), a ``pause`` holds it, a ``resume`` goes on, a ``bargein`` drops it, and the reply's
echo (a path drawn per file) is added to the mic the policy hears, with the playback as its
``reference``. So a policy that cuts the user off talks over the rest of their turn, a reply
that runs long meets the user's next turn, and the persona's own voice comes back through the
mic: the live situation, from labelled files.

The policy hears the stream in chunks of two frames (20 ms, a WebRTC packet); a decision takes
effect from the next chunk. Only simplex files are played (a duplex file's mic already holds a
recorded persona); the report counts those left out.

**Turn-taking** is scored as in ``cadence bench floor`` (``scoring.py``) on the commits that
started a reply; a commit while a reply is pending, playing or paused starts nothing and is
counted apart (``ignored commits``).

**The persona over the user** (per file, summed; the user's speech is ``meta.segments``,
pieces less than 150 ms apart joined):

* a **talk-over** begins where the user starts to speak (not a backchannel) while a reply
  plays (a barge-in), or a reply starts while the user speaks (the persona cut in); it
  **stops** when the playout leaves ``playing`` (paused, dropped or ended); ``stop ≤150 ms``
  is the share stopped within 150 ms of that beginning (the issue's requirement), with the
  median and p90 latency, and ``user began`` the same share over the barge-ins alone;
* **overlap**: seconds the persona played while the user spoke, per minute of playback;
* **self-stops**: ``pause`` and ``bargein`` decisions that silenced a playing reply with no
  user speech in the 600 ms before them (the persona stopped for its own echo, the room's noise
  or nothing), per minute of playback; ``self-yields``: barge-ins that dropped a playing or
  paused reply that way;
* **backchannels yielded to**: the user's backchannels during a reply that got a ``bargein``
  within 1 s (none in the simplex files ``cadence corpus floor`` makes: it puts backchannels in
  its duplex files only, which this bench leaves out; a corpus made elsewhere may have them).

Intervals: the turn-taking figures as ``cadence bench floor`` draws them (``intervals.py``),
the loop's shares and rates as ``stop_intervals.py`` draws the pause stage's, over the files.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from cadence.cores import cores
from cadence.errors import CadenceError, InvalidArgumentError
from cadence.floor import intervals, stop_intervals
from cadence.floor.bench import (
    _available,
    _ci,
    _diff,
    _floats,
    _policy,
    _takes_reference,
    add_interval_args,
    add_weights_args,
    check_interval_args,
    check_weights_args,
    diff_rows,
    interval_section,
    is_cadence,
    load_frames,
    load_manifest,
    map_files,
    markdown_table,
    models_note,
    parse_pairs,
    parse_policies,
    tail_frames,
    weights_config,
    write_outputs,
)
from cadence.floor.persona_sim import EchoPath, Playout, reply_pool
from cadence.floor.protocol import Decision, decision_lists
from cadence.floor.scoring import BARGEIN_TARGET_S, FileLabels, FileScore, score_file, summarize, total
from cadence import cli_args

__all__ = ["run_loop", "main", "LOOP_COUNTS", "LOOP_METRICS", "talk_overs"]

DEFAULT_POLICIES = "cadence,aec3-vad-500,half-duplex-500"
CHUNK_FRAMES = 2
REPLIES = 16
JOIN_S = 0.15  # user speech pieces closer than this are one stretch
SELF_WINDOW_S = 0.6  # a stop with no user speech this long before it is the persona's own
BACKCHANNEL_YIELD_S = 1.0
FRAME_S = 0.01

# per-file counts, and the ratios the report reads from them (numerator, denominator, scale)
LOOP_COUNTS = ("talkovers", "stopped_in_time", "user_talkovers", "user_stopped_in_time", "overlap_s", "self_stops", "self_yields", "persona_min",
               "backchannels", "backchannels_yielded")
LOOP_METRICS = {
    "stop_within_150ms_share": ("stopped_in_time", "talkovers", 1.0),
    "user_stop_within_150ms_share": ("user_stopped_in_time", "user_talkovers", 1.0),
    "overlap_s_per_persona_min": ("overlap_s", "persona_min", 1.0),
    "self_stops_per_persona_min": ("self_stops", "persona_min", 1.0),
    "self_yields_per_persona_min": ("self_yields", "persona_min", 1.0),
    "backchannel_yield_share": ("backchannels_yielded", "backchannels", 1.0),
}
_LOOP_SIGN = {"stop_within_150ms_share": 1, "user_stop_within_150ms_share": 1}  # every other loop figure: lower is better


def user_stretches(meta: Any) -> list[tuple[float, float, str]]:
    """The user's speech (``meta.segments``) as (start, end, kind of its first piece), pieces
    less than ``JOIN_S`` apart joined."""
    segs = sorted((float(s[0]), float(s[1]), str(s[3])) for s in (meta or {}).get("segments", []) if len(s) >= 4)
    out: list[tuple[float, float, str]] = []
    for s, e, k in segs:
        if out and s - out[-1][1] < JOIN_S:
            out[-1] = (out[-1][0], max(out[-1][1], e), out[-1][2])
        else:
            out.append((s, e, k))
    return out


def talk_overs(playing: np.ndarray,
               stretches: Sequence[tuple[float, float, str]]) -> list[tuple[float, float | None, str]]:
    """(beginning, stop latency or None if the reply played to the file's end, who began it) of
    each talk-over: a user stretch (not a backchannel) that begins while the persona plays
    (``"user"``), or a reply that begins inside one (``"reply"``); ``playing``: (frames,) bool,
    the playout's state per 10 ms frame."""
    n = len(playing)
    starts = np.flatnonzero(playing & ~np.concatenate([[False], playing[:-1]]))  # first frames of playing runs
    begins: dict[int, tuple[float, str]] = {}  # by frame: (time, who began it)
    for s, e, kind in stretches:
        if kind == "backchannel":
            continue
        f = _frame(s)
        if 0 <= f < n and playing[f]:
            begins.setdefault(f, (s, "user"))
        for g in starts:
            if s < g * FRAME_S < e:
                begins.setdefault(int(g), (float(g * FRAME_S), "reply"))
    out: list[tuple[float, float | None, str]] = []
    for f in sorted(begins):
        b, who = begins[f]
        rest = np.flatnonzero(~playing[f:])
        out.append((b, None if not len(rest) else max(0.0, (f + int(rest[0])) * FRAME_S - b), who))
    return out


def _frame(t: float) -> int:
    """The 10 ms frame that holds time ``t`` (s)."""
    return int(np.floor(t / FRAME_S + 1e-9))


def _near_user(t: float, stretches: Sequence[tuple[float, float, str]]) -> bool:
    return any(s <= t and e >= t - SELF_WINDOW_S for s, e, _ in stretches)


def loop_counts(decisions: Sequence[tuple[Decision, bool, str]], playing: np.ndarray,
                stretches: Sequence[tuple[float, float, str]]) -> dict[str, float]:
    """One file's ``LOOP_COUNTS`` (and the stop latencies under ``"latencies"``); ``decisions``:
    each with whether it acted on the playout and the playout's state before it. A stop is a
    pause or barge-in that silenced a playing reply (a barge-in after a pause is not a second
    one); a yield, a barge-in that dropped a playing or paused reply."""
    user = np.zeros(len(playing), bool)
    for s, e, _ in stretches:
        user[max(0, _frame(s)) : int(np.ceil(e / FRAME_S - 1e-9))] = True
    overs = talk_overs(playing, stretches)
    lat = [x for _, x, _ in overs if x is not None]
    stops = [d for d, ok, prev in decisions if ok and prev == "playing" and d.kind in ("pause", "bargein")]
    yields = [d for d, ok, prev in decisions if ok and prev in ("playing", "paused") and d.kind == "bargein"]
    barges = [d.t for d in yields]
    bcs = [s for s, _, k in stretches if k == "backchannel" and 0 <= _frame(s) < len(playing) and playing[_frame(s)]]
    return {
        "talkovers": len(overs),
        "stopped_in_time": sum(x <= BARGEIN_TARGET_S + 1e-9 for x in lat),
        "overlap_s": float(np.count_nonzero(user[: len(playing)] & playing)) * FRAME_S,
        "self_stops": sum(not _near_user(d.t, stretches) for d in stops),
        "self_yields": sum(not _near_user(d.t, stretches) for d in yields),
        "persona_min": float(np.count_nonzero(playing)) * FRAME_S / 60.0,
        "backchannels": len(bcs),
        "backchannels_yielded": sum(any(b <= x <= b + BACKCHANNEL_YIELD_S for x in barges) for b in bcs),
        "user_talkovers": sum(k == "user" for _, _, k in overs),
        "user_stopped_in_time": sum(k == "user" and x is not None and x <= BARGEIN_TARGET_S + 1e-9
                                    for _, x, k in overs),
        "latencies": lat,  # type: ignore[dict-item]
        "talkover_list": [[round(b, 3), None if x is None else round(x, 3), k] for b, x, k in overs],  # type: ignore[dict-item]
    }


@functools.lru_cache(maxsize=2)
def _pool(seed: int) -> tuple[np.ndarray, ...]:
    return tuple(reply_pool(REPLIES, seed))


def play_file(policy: Any, frames: np.ndarray, rng: np.random.Generator, replies: Sequence[np.ndarray],
              delay: int) -> tuple[list[tuple[Decision, bool, str]], np.ndarray, dict[str, Any]]:
    """Stream ``frames`` (the user's mic) to a freshly reset ``policy`` with the persona in the
    loop; return every decision with whether it acted on the playout and the playout's state
    before it, the playout's ``playing`` state per frame, and the file's playout tallies and
    echo path."""
    policy.reset()
    echo = EchoPath(rng)
    play = Playout(list(replies), delay, rng.permutation(len(replies)))
    use_ref = _takes_reference(policy)
    n = len(frames)
    playing = np.zeros(n, bool)
    out: list[tuple[Decision, bool, str]] = []
    ignored = 0
    for i in range(0, n, CHUNK_FRAMES):
        k = min(CHUNK_FRAMES, n - i)
        ref = np.empty((k, frames.shape[1]), np.float32)
        mic = np.empty_like(ref)
        for j in range(k):
            ref[j] = play.next_frame(i + j)
            playing[i + j] = play.sounding
            mic[j] = frames[i + j] + echo.push(ref[j])
        np.clip(mic, -1.0, 1.0, out=mic)
        decs = policy.process(mic, reference=ref) if use_ref else policy.process(mic)
        for d in decs:
            prev = play.state
            ok = play.decide(d.kind, i + k - 1)
            ignored += d.kind == "commit" and not ok
            out.append((d, ok, prev))
    tallies = {"replies": play.started, "yielded": play.yielded, "finished": play.finished,
               "ignored_commits": ignored, "echo": echo.meta()}
    return out, playing, tallies


def _run_file(task: tuple[int, str, FileLabels, Any, list[Any], int, int, int]) -> tuple[int, float, dict[str, Any]]:
    index, path, labels, meta, specs, seed, delay, pool_seed = task
    frames = load_frames(path)
    pad = tail_frames(labels, frames.shape[0])
    if pad:
        frames = np.pad(frames, ((0, pad), (0, 0)))
    replies = _pool(pool_seed)
    stretches = user_stretches(meta)
    results: dict[str, Any] = {}
    for spec in specs:
        pol = _policy(spec)
        t0 = time.perf_counter()
        decs, playing, tallies = play_file(pol, frames, np.random.default_rng([seed, index]), replies, delay)
        secs = time.perf_counter() - t0
        kept = [d for d, ok, _ in decs if d.kind != "commit" or ok]
        results[spec.label] = (kept, loop_counts(decs, playing, stretches), tallies, secs)
    return index, len(frames) * FRAME_S, results


def run_loop(corpus: str, specs: list[Any], *, max_files: int | None = None, jobs: int = 1, seed: int = 0,
             delay_ms: float = 50.0, resamples: int = intervals.RESAMPLES,
             pairs: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """Every policy on every simplex file of the split with the persona in the loop; the
    JSON-able report (see the module's text)."""
    if not 0.0 <= delay_ms <= 2000.0:
        raise InvalidArgumentError(f"the reply delay must be 0–2000 ms, got {delay_ms}")
    check_interval_args(resamples, pairs, [s.label for s in specs])
    every = load_manifest(corpus, max_files)
    files = [f for f in every if f.persona is None]
    if not files:
        raise InvalidArgumentError(f"{corpus}: every file is duplex (a recorded persona); nothing to play")
    delay = int(round(delay_ms / 10.0))
    tasks = [(i, f.path, f.labels, f.meta, specs, seed, delay, seed) for i, f in enumerate(files)]
    outs = sorted(map_files(_run_file, tasks, jobs), key=lambda r: r[0])
    per_file: dict[str, list[FileScore]] = {s.label: [] for s in specs}
    counts: dict[str, list[list[float]]] = {s.label: [] for s in specs}
    lats: dict[str, list[float]] = {s.label: [] for s in specs}
    tallies: dict[str, dict[str, int]] = {s.label: {} for s in specs}
    compute = {s.label: 0.0 for s in specs}
    audio_s = 0.0
    rows: list[dict[str, Any]] = []
    for index, dur, results in outs:
        audio_s += dur
        f = files[index]
        for spec in specs:
            kept, c, tl, secs = results[spec.label]
            per_file[spec.label].append(score_file(kept, f.labels))
            counts[spec.label].append([float(c[k]) for k in LOOP_COUNTS])
            lats[spec.label] += c["latencies"]
            for k in ("replies", "yielded", "finished", "ignored_commits"):
                tallies[spec.label][k] = tallies[spec.label].get(k, 0) + int(tl[k])
            compute[spec.label] += secs
            rows.append({"audio": f.audio, "policy": spec.label, **decision_lists(kept), "echo": tl["echo"],
                         "talkovers": c["talkover_list"]})
    summary: dict[str, dict[str, Any]] = {}
    for s in specs:
        total_counts = np.array(counts[s.label], np.float64).reshape(-1, len(LOOP_COUNTS)).sum(axis=0)
        sums = dict(zip(LOOP_COUNTS, total_counts))
        lat = np.array(lats[s.label]) * 1000.0
        loop: dict[str, Any] = {k: (float(v[0]) if np.isfinite(v[0]) else None) for k, v in
                                intervals.ratios(total_counts[None, :], LOOP_COUNTS, LOOP_METRICS).items()}
        loop.update({"talkovers": int(sums["talkovers"]), "persona_min": float(sums["persona_min"]),
                     "stop_median_ms": float(np.median(lat)) if len(lat) else None,
                     "stop_p90_ms": float(np.percentile(lat, 90)) if len(lat) else None,
                     **tallies[s.label]})
        summary[s.label] = {**summarize(total(per_file[s.label]), compute[s.label], audio_s), "loop": loop}
    report: dict[str, Any] = {
        "files": rows, "summary": summary,
        "config": {"corpus": os.path.abspath(corpus), "n_files": len(files), "duplex_left_out": len(every) - len(files),
                   "audio_s": audio_s, "seed": seed, "reply_delay_ms": delay * 10, "chunk_frames": CHUNK_FRAMES,
                   "replies": REPLIES},
    }
    if resamples:
        labels = [s.label for s in specs]
        report["intervals"] = intervals.report(per_file, labels, [lb for lb in labels if not is_cadence(lb)],
                                               [lb for lb in labels if is_cadence(lb)], resamples, seed,
                                               pairs=pairs)
        report["loop_intervals"] = stop_intervals.counts_report(
            {lb: np.array(c, np.float64).reshape(len(c), len(LOOP_COUNTS)) for lb, c in counts.items()},
            resamples, seed, pairs=pairs, columns=LOOP_COUNTS, metrics=LOOP_METRICS)
    return report


_TURN_COLS = (("policy", None), ("median ms", "latency_median_ms"), ("p90 ms", "latency_p90_ms"),
              ("precision", "precision"), ("recall", "recall"), ("interrupt.", "interruptions"),
              ("/100 turns", "interruptions_per_100_turns"), ("spurious", "spurious"))
_LOOP_COLS = (("replies", "replies", "d"), ("ignored commits", "ignored_commits", "d"),
              ("playback min", "persona_min", ".1f"), ("talk-overs", "talkovers", "d"),
              ("stop ≤150 ms", "stop_within_150ms_share", ".3f"),
              ("user began: stop ≤150 ms", "user_stop_within_150ms_share", ".3f"), ("stop median ms", "stop_median_ms", ".0f"),
              ("stop p90 ms", "stop_p90_ms", ".0f"), ("overlap s /playback min", "overlap_s_per_persona_min", ".2f"),
              ("self-stops /playback min", "self_stops_per_persona_min", ".2f"),
              ("self-yields /playback min", "self_yields_per_persona_min", ".2f"),
              ("backch. yielded to", "backchannel_yield_share", ".3f"), ("yielded", "yielded", "d"))


def _cell(v: Any, fmt: str) -> str:
    return "–" if v is None else format(v, fmt)


def render_markdown(report: dict[str, Any]) -> str:
    cfg, summary = report["config"], report["summary"]
    labels = list(summary)
    lines = ["# Floor benchmark in a closed loop (`cadence bench floor-loop`)", "",
             f"Corpus `{cfg['corpus']}`: {cfg['n_files']} simplex files ({cfg['duplex_left_out']} duplex left out), "
             f"{cfg['audio_s'] / 60:.1f} min. The persona answers each commit {cfg['reply_delay_ms']} ms later with one "
             f"of {cfg['replies']} piper replies; its echo goes back into the mic; chunks of {cfg['chunk_frames']} frames; "
             f"seed {cfg['seed']}." + (f" {models_note(cfg)}." if cfg.get("weights") else ""), "",
             "## Turn-taking (commits that started a reply)", "",
             markdown_table(summary, labels, _TURN_COLS), "", "## The persona over the user", "",
             "| policy | " + " | ".join(c for c, _, _ in _LOOP_COLS) + " |",
             "|---" + "|---:" * len(_LOOP_COLS) + "|"]
    for lb in labels:
        lp = summary[lb]["loop"]
        lines.append(f"| {lb} | " + " | ".join(_cell(lp.get(k), f) for _, k, f in _LOOP_COLS) + " |")
    lines += interval_section(report.get("intervals"), labels)
    li = report.get("loop_intervals")
    if li:
        names = list(LOOP_METRICS)
        lines += ["", "The loop's figures with their 95 % intervals over the same resamples of the files "
                  "(`stop_intervals.counts_report`):", "",
                  "| policy | " + " | ".join(names) + " |", "|---" + "|---:" * len(names) + "|"]
        for lb in labels:
            lines.append(f"| {lb} | " + " | ".join(_ci(li["policies"][lb][m], ".3f") for m in names) + " |")
        for pr in li["pairs"]:
            lines.append(f"| {pr['a']} − {pr['b']} | "
                         + " | ".join(_diff(pr["diff"][m], "+.3f", _LOOP_SIGN.get(m, -1)) for m in names) + " |")
    ci = report.get("intervals")
    if ci and ci.get("pairs"):
        lines += ["", "Turn-taking, paired differences:", "", *diff_rows([(f"{p['a']} − {p['b']}", p["diff"])
                                                                             for p in ci["pairs"]])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cadence bench floor-loop", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True, help="split folder with manifest.jsonl")
    ap.add_argument("--policies", default=DEFAULT_POLICIES)
    ap.add_argument("--patience", type=_floats, default=[0.5])
    ap.add_argument("--reply-delay-ms", type=float, default=50.0,
                    help="from a commit to the reply's first sample (the design's speculation hit: 50 ms)")
    ap.add_argument("--max-files", type=int, default=None)
    ap.add_argument("--jobs", type=cli_args.jobs, default=cores())
    ap.add_argument("--seed", type=cli_args.seed, default=0, help="seed of the echo paths, the replies and their order")
    ap.add_argument("--json", dest="json_out", type=cli_args.out_file)
    ap.add_argument("--markdown", dest="md_out", type=cli_args.out_file)
    add_weights_args(ap)
    add_interval_args(ap)
    args = ap.parse_args(argv)
    if args.max_files is not None and args.max_files < 1:
        ap.error("--max-files must be >= 1")
    check_weights_args(ap, args)
    try:
        specs = _available(parse_policies(args.policies, args.patience, args.weights,
                                          persona_weights=args.persona_weights))
        if not specs:
            print("cadence bench floor-loop: no policy available", file=sys.stderr)
            return 2
        t0 = time.perf_counter()
        report = run_loop(args.corpus, specs, max_files=args.max_files, jobs=args.jobs, seed=args.seed,
                          delay_ms=args.reply_delay_ms, resamples=args.resamples, pairs=parse_pairs(args.compare))
        if any(is_cadence(s.label) for s in specs):
            report["config"].update(weights_config(args))
        md = render_markdown(report)
        print(md)
        print(f"({time.perf_counter() - t0:.1f} s wall)")
        write_outputs(report, md, args.json_out, args.md_out)
    except (CadenceError, FileNotFoundError) as e:
        print(f"cadence bench floor-loop: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
