"""``cadence score floor``: score turn-taking decisions made elsewhere.

    cadence score floor --corpus DIR/test --decisions D.json [--by KEY] [--json OUT] [--markdown OUT]

``D.json`` has the shape of ``cadence bench floor --json``: ``{"files": [{"audio":
"...", "policy": "...", "commits": [t, ...], "speculates": [...], "retracts":
[...], "backchannels": [...], "bargeins": [...], "pauses": [...], "resumes":
[...]}]}``, times in seconds from the file's start (decisions at the same time
are taken in the order of ``DECISION_KEYS``, CadencePolicy's order within a frame;
times after the audio ends are refused; other keys are ignored). Only ``audio`` and
``commits`` are required; ``policy`` defaults to ``external``. ``audio`` is the manifest's
path, or another path to the same file (``./a.wav``, its absolute path). An optional
``commit_rules`` list names the rule behind each commit, in the commits' order
(Cadence's bench JSON has it): the report then counts the commits per rule (a
policy's files without it are counted as not matched). Any system (another
engine, a recorded session, a human annotator) can be scored with exactly the
benchmark's rules (``cadence.floor.scoring``) and tables, beside Cadence's own
rows when the file also holds them. Every file of the manifest needs an entry
per policy: a missing one is an error, not a file without decisions. RTF is not
known for decisions made elsewhere and is left empty. ``--by KEY`` adds a table per
value of a manifest ``meta`` key (e.g. ``noise``, ``snr``, ``voice``, ``duplex``), or
of several keys at once (``--by noise,snr``): where a policy fails, not only how often. Where
the split has barge-ins the table also gives their count and the share the persona stopped for
within 150 ms (the first ``pause`` or ``bargein`` decision).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

from cadence.errors import CadenceError, InvalidArgumentError
from cadence.floor import intervals
from cadence.floor.bench import (
    CorpusFile,
    _fmt,
    add_interval_args,
    add_intervals,
    coarse_files,
    ignored_counts,
    load_manifest,
    meta_ignored,
    parse_pairs,
    render_markdown,
    tail_frames,
    write_outputs,
)
from cadence.floor.commit_rules import rule_summary, tally
from cadence.floor.labels import FRAME_S
from cadence.floor.protocol import DECISION_KEYS, Decision, decision_lists
from cadence.floor.scoring import FileScore, score_file, summarize, total
from cadence import cli_args

# a decision may follow the end of the audio by the resampler's flushed tail and one frame
END_SLACK_S = 0.1
_ROW_KEYS = frozenset({"audio", "policy", "commit_rules", *DECISION_KEYS})  # the keys a metric reads


def _times(row: dict[str, Any], key: str, where: str) -> list[float]:
    value = row.get(key, [])
    if not isinstance(value, list):
        raise InvalidArgumentError(f"{where}: {key!r} must be a list of times, got {type(value).__name__}")
    out = []
    for t in value:
        ok = isinstance(t, (int, float)) and not isinstance(t, bool)
        try:
            ok = ok and math.isfinite(t) and t >= 0
        except OverflowError:  # a JSON integer too large for a float
            ok = False
        if not ok:
            raise InvalidArgumentError(f"{where}: {key!r} holds {t!r}; times are finite seconds >= 0")
        out.append(float(t))
    return out


def _unencodable(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate, which no UTF-8 output can print."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def parse_decisions(doc: Any, ignored: Counter[str] | None = None) -> dict[str, dict[str, list[Decision]]]:
    """``{"files": [...]}`` → {policy: {audio: decisions}}, every field checked. Keys of a row
    that no metric reads (another tool's, or a misspelt one) are counted in ``ignored``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise InvalidArgumentError('decisions must be a JSON object with a "files" list')
    out: dict[str, dict[str, list[Decision]]] = {}
    for i, row in enumerate(doc["files"]):
        where = f"files[{i}]"
        if not isinstance(row, dict) or not isinstance(row.get("audio"), str):
            raise InvalidArgumentError(f"{where}: needs an 'audio' path")
        if "commits" not in row:
            raise InvalidArgumentError(f"{where}: needs 'commits' (an empty list if none)")
        if ignored is not None:
            ignored.update(k for k in row if k not in _ROW_KEYS)
        policy = row.get("policy", "external")
        if not isinstance(policy, str) or not policy:
            raise InvalidArgumentError(f"{where}: 'policy' must be a non-empty string")
        if "|" in policy or not policy.isprintable() or _unencodable(policy):
            # it names a row of the markdown tables: a '|' or a line break would shift their columns
            raise InvalidArgumentError(f"{where}: 'policy' {policy!r} must be printable text without '|'")
        per = out.setdefault(policy, {})
        if row["audio"] in per:
            raise InvalidArgumentError(f"{where}: a second entry for {row['audio']!r} under policy {policy!r}")
        per[row["audio"]] = [Decision(kind, t) for key, kind in DECISION_KEYS.items() for t in _times(row, key, where)]
        if "commit_rules" in row:
            rules = row["commit_rules"]
            if not (isinstance(rules, list) and all(isinstance(r, str) and r for r in rules)
                    and len(rules) == len(row["commits"])):
                raise InvalidArgumentError(f"{where}: 'commit_rules' must name the rule of each commit "
                                           "(a list of non-empty strings, one per commit)")
    if not out:
        raise InvalidArgumentError("decisions: the files list is empty")
    return out


def _manifest_name(audio: str, files: Sequence[CorpusFile]) -> str | None:
    """The manifest's name for a file a decisions row names as written, or by another path to the
    same file (``./a.wav``, ``dir/../a.wav``, its absolute path); None when it names none."""
    norm = os.path.normpath(audio)
    for f in files:
        if audio == f.audio or norm == os.path.normpath(f.audio) or (
                os.path.isabs(audio) and norm == os.path.normpath(f.path)):
            return f.audio
    return None


def _as_in_manifest(per: dict[str, list[Decision]], files: Sequence[CorpusFile], policy: str
                    ) -> dict[str, list[Decision]]:
    """``per`` keyed by the manifest's names (a name no file has is kept, and refused later)."""
    out: dict[str, list[Decision]] = {}
    for audio, decisions in per.items():
        name = _manifest_name(audio, files) or audio
        if name in out:
            raise InvalidArgumentError(f"policy {policy!r}: {audio!r} names {name!r}, which has an entry already")
        out[name] = decisions
    return out


def meta_group(meta: Any, key: str) -> str:
    """The group of a manifest entry by ``meta[key]`` (as text; "(none)" when absent).
    ``key`` may name several keys, ``"noise,snr"``: the group is their values joined
    by "/" (``"babble/10"``). ``engine`` is derived when absent: the TTS engine of
    ``meta.voice`` (``"flite:rms"`` → ``"flite"``)."""
    out = []
    for k in key.split(","):
        value = meta.get(k) if isinstance(meta, dict) else None
        if value is None and k == "engine" and isinstance(meta, dict) and isinstance(meta.get("voice"), str):
            value = meta["voice"].split(":", 1)[0]
        out.append("(none)" if value is None else (value if isinstance(value, str) else json.dumps(value)))
    return "/".join(out)


def score_decisions(corpus: str, doc: Any, by: str | None = None,
                    resamples: int = intervals.RESAMPLES, pairs: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """Score ``doc`` (bench JSON shape) on the split ``corpus``; a report like ``run_bench``'s,
    with its intervals over ``resamples`` resamples of the files (0: none).
    With ``by`` (a ``meta`` key such as ``noise``, ``snr``, ``voice`` or ``duplex``) the
    report also holds one summary per policy per value of that key (``report["by"]``)."""

    intervals.check_resamples(resamples)
    files = load_manifest(corpus)
    by_group: dict[str, dict[str, FileScore]] = {}
    ignored_keys: Counter[str] = Counter()
    decisions = parse_decisions(doc, ignored_keys)
    # the rule behind each commit, where the decisions name them (Cadence's, ``commit_rules``)
    # (in the commits' time order, as the scoring reads them)
    rule_lists = {(r.get("policy", "external"), r["audio"]):
                  [rule for _t, rule in sorted(zip(r["commits"], r["commit_rules"]), key=lambda p: p[0])]
                  for r in doc["files"] if "commit_rules" in r}
    decisions = {policy: _as_in_manifest(per, files, policy) for policy, per in decisions.items()}
    rule_lists = {(policy, _manifest_name(audio, files) or audio): rules for (policy, audio), rules in rule_lists.items()}
    names = {f.audio for f in files}
    durations = {}
    for f in files:  # the length load_manifest read from each header
        # the silence the bench appends to a file that ends inside an answer window counts
        # (``bench.tail_frames``): its decisions there are the bench's own
        pad = tail_frames(f.labels, math.ceil(f.seconds / FRAME_S))
        durations[f.audio] = f.seconds + pad * FRAME_S
    audio_s = sum(durations.values())
    summary: dict[str, dict[str, Any]] = {}
    per_file: dict[str, list[FileScore]] = {}
    rows: list[dict[str, Any]] = []
    for policy, per in decisions.items():
        unknown = sorted(set(per) - names)
        if unknown:
            raise InvalidArgumentError(f"policy {policy!r}: {len(unknown)} files not in the manifest, "
                                       f"e.g. {unknown[0]!r}")
        missing = sorted(names - set(per))
        if missing:
            raise InvalidArgumentError(f"policy {policy!r}: no entry for {len(missing)} files of the manifest, "
                                       f"e.g. {missing[0]!r}")
        per_file[policy] = []
        by_rule: dict[str, Counter[str]] = {}
        named = unmatched = 0
        for f in files:
            late = [d for d in per[f.audio] if d.t > durations[f.audio] + END_SLACK_S]
            if late:
                raise InvalidArgumentError(
                    f"policy {policy!r}, {f.audio!r}: a {late[0].kind} at {late[0].t:g} s, after the "
                    f"{durations[f.audio]:.2f} s audio ends (times are seconds, not milliseconds)")
            sc = score_file(per[f.audio], f.labels)
            per_file[policy].append(sc)
            if by:
                by_group.setdefault(meta_group(f.meta, by), {}).setdefault(policy, FileScore()).__iadd__(sc)
            row = {"audio": f.audio, "policy": policy, **decision_lists(per[f.audio])}
            rules = rule_lists.get((policy, f.audio))
            if rules is not None:
                named += 1
                row["commit_rules"] = rules
                unmatched += not tally(by_rule, rules, sc.commit_outcomes)
            rows.append(row)
        summary[policy] = summarize(total(per_file[policy]), 0.0, audio_s)
        if named:  # the files of this policy that name no rules are not counted either
            summary[policy].update(rule_summary(by_rule, unmatched + len(files) - named))
        summary[policy]["rtf"] = summary[policy]["compute_s"] = None  # compute time unknown
    report: dict[str, Any] = {
        "files": rows, "summary": summary,
        "config": {"corpus": os.path.abspath(corpus), "n_files": len(files), "audio_s": audio_s, "seed": None,
                   "ignored_events": ignored_counts(files), "coarse_audio": coarse_files(files),
                   "meta_ignored": meta_ignored(files), "ignored_decision_keys": dict(sorted(ignored_keys.items()))}}
    add_intervals(report, per_file, resamples, pairs=pairs)
    if by:
        report["by"] = {"key": by, "groups": {g: {p: summarize(sc) for p, sc in per_pol.items()}
                                              for g, per_pol in sorted(by_group.items())}}
    return report


_BY_COLS = (("turns", "turns"), ("median ms", "latency_median_ms"), ("p90 ms", "latency_p90_ms"),
            ("precision", "precision"), ("recall", "recall"), ("recall, open", "recall_open"),
            ("/100 turns", "interruptions_per_100_turns"))


# where the split has barge-ins: how many, and the share the persona stopped for within 150 ms
_BY_STOP_COLS = (("barge-ins", "bargeins"), ("stop ≤150 ms", "stop_within_150ms_share"))


def by_section(report: dict[str, Any]) -> list[str]:
    """The per-group table of a report made with ``by`` (with the barge-in stops where the split has barge-ins)."""
    if "by" not in report:
        return []
    key, groups = report["by"]["key"], report["by"]["groups"]
    duplex = any(s.get("bargeins") for per in groups.values() for s in per.values())
    cols = _BY_COLS + (_BY_STOP_COLS if duplex else ())
    lines = ["", f"## By meta.{key}", "",
             "| " + " | ".join([key, "policy", *(c for c, _ in cols)]) + " |",
             "|---|---" + "|---:" * len(cols) + "|"]
    for group, per in groups.items():
        for policy, s in per.items():
            cells = [group, policy] + [_fmt(k, s[k]) for _, k in cols]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cadence score floor", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True, help="split folder with manifest.jsonl")
    ap.add_argument("--decisions", required=True, help="decisions JSON (the shape of bench floor --json)")
    ap.add_argument("--json", dest="json_out", type=cli_args.out_file, help="write the scored report here")
    ap.add_argument("--markdown", dest="md_out", type=cli_args.out_file, help="write the tables here")
    ap.add_argument("--by", metavar="KEY", help="also break the scores down by this meta key (noise, snr, voice, engine, ...; "
                         "several: noise,snr)")
    add_interval_args(ap)
    args = ap.parse_args(argv)
    try:
        try:
            with open(args.decisions, encoding="utf-8") as f:
                doc = json.load(f)
        except (ValueError, RecursionError) as e:  # not JSON, not UTF-8, nested past the parser's depth
            raise InvalidArgumentError(f"{args.decisions}: not JSON: {e}") from e
        report = score_decisions(args.corpus, doc, args.by, args.resamples, parse_pairs(args.compare))
        md = render_markdown(report) + "\n".join(by_section(report)) + ("\n" if args.by else "")
        print(md)
        write_outputs(report, md, args.json_out, args.md_out)
    except (CadenceError, OSError) as e:
        print(f"cadence score floor: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
