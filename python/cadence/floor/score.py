"""``cadence score floor``: score turn-taking decisions made elsewhere.

    cadence score floor --corpus DIR/test --decisions D.json [--json OUT] [--markdown OUT]

``D.json`` has the shape of ``cadence bench floor --json``: ``{"files": [{"audio":
"...", "policy": "...", "commits": [t, ...], "speculates": [...], "retracts":
[...], "backchannels": [...], "bargeins": [...], "pauses": [...], "resumes":
[...]}]}``, times in seconds from the file's start (decisions at the same time
are taken in the order of :data:`KINDS`, CadencePolicy's order within a frame). Only ``audio`` and
``commits`` are required; ``policy`` defaults to ``external``. Any system (another
engine, a recorded session, a human annotator) can be scored with exactly the
benchmark's rules (``cadence.floor.scoring``) and tables, beside Cadence's own
rows when the file also holds them. Every file of the manifest needs an entry
per policy: a missing one is an error, not a file without decisions. RTF is not
known for decisions made elsewhere and is left empty.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Any

from cadence.errors import CadenceError, InvalidArgumentError
from cadence.floor.bench import load_manifest, render_markdown
from cadence.floor.protocol import Decision
from cadence.floor.scoring import FileScore, score_file, summarize

# decision kind per JSON key (the keys `cadence bench floor --json` writes), in the order
# CadencePolicy emits them within one frame: decisions at the same time are scored in
# this order (a retract before a new speculation, both before the commit)
KINDS = {"retracts": "retract", "speculates": "speculate", "commits": "commit", "backchannels": "backchannel",
         "pauses": "pause", "bargeins": "bargein", "resumes": "resume"}


def _times(row: dict[str, Any], key: str, where: str) -> list[float]:
    value = row.get(key, [])
    if not isinstance(value, list):
        raise InvalidArgumentError(f"{where}: {key!r} must be a list of times, got {type(value).__name__}")
    out = []
    for t in value:
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
            raise InvalidArgumentError(f"{where}: {key!r} holds {t!r}; times are finite seconds >= 0")
        out.append(float(t))
    return out


def parse_decisions(doc: Any) -> dict[str, dict[str, list[Decision]]]:
    """``{"files": [...]}`` → {policy: {audio: decisions}}, every field checked."""
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise InvalidArgumentError('decisions must be a JSON object with a "files" list')
    out: dict[str, dict[str, list[Decision]]] = {}
    for i, row in enumerate(doc["files"]):
        where = f"files[{i}]"
        if not isinstance(row, dict) or not isinstance(row.get("audio"), str):
            raise InvalidArgumentError(f"{where}: needs an 'audio' path")
        if "commits" not in row:
            raise InvalidArgumentError(f"{where}: needs 'commits' (an empty list if none)")
        policy = row.get("policy", "external")
        if not isinstance(policy, str) or not policy:
            raise InvalidArgumentError(f"{where}: 'policy' must be a non-empty string")
        per = out.setdefault(policy, {})
        if row["audio"] in per:
            raise InvalidArgumentError(f"{where}: a second entry for {row['audio']!r} under policy {policy!r}")
        per[row["audio"]] = [Decision(kind, t) for key, kind in KINDS.items() for t in _times(row, key, where)]
    if not out:
        raise InvalidArgumentError("decisions: the files list is empty")
    return out


def score_decisions(corpus: str, doc: Any) -> dict[str, Any]:
    """Score ``doc`` (bench JSON shape) on the split ``corpus``; a report like ``run_bench``'s."""
    import soundfile as sf  # type: ignore[import-untyped]

    files = load_manifest(corpus)
    decisions = parse_decisions(doc)
    names = {f.audio for f in files}
    audio_s = sum(sf.info(f.path).duration for f in files)
    summary: dict[str, dict[str, Any]] = {}
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
        total = FileScore()
        for f in files:
            total += score_file(per[f.audio], f.labels)
            row: dict[str, Any] = {"audio": f.audio, "policy": policy}
            for key, kind in KINDS.items():
                row[key] = sorted(d.t for d in per[f.audio] if d.kind == kind)
            rows.append(row)
        summary[policy] = summarize(total, 0.0, audio_s)
        summary[policy]["rtf"] = None  # compute time unknown
    return {"files": rows, "summary": summary,
            "config": {"corpus": os.path.abspath(corpus), "n_files": len(files), "audio_s": audio_s,
                       "seed": None}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cadence score floor", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True, help="split folder with manifest.jsonl")
    ap.add_argument("--decisions", required=True, help="decisions JSON (the shape of bench floor --json)")
    ap.add_argument("--json", dest="json_out", help="write the scored report here")
    ap.add_argument("--markdown", dest="md_out", help="write the tables here")
    args = ap.parse_args(argv)
    try:
        try:
            with open(args.decisions) as f:
                doc = json.load(f)
        except json.JSONDecodeError as e:
            raise InvalidArgumentError(f"{args.decisions}: not JSON: {e}") from e
        report = score_decisions(args.corpus, doc)
        md = render_markdown(report)
        print(md)
        if args.json_out:
            with open(args.json_out, "w") as f:
                json.dump(report, f)
        if args.md_out:
            with open(args.md_out, "w") as f:
                f.write(md)
    except (CadenceError, OSError) as e:
        print(f"cadence score floor: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
