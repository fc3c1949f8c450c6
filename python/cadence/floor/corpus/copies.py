"""What a derived copy of a split (``floor-noisier``, ``floor-shift``) reads from its source."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cadence.errors import InvalidArgumentError
from cadence.floor.bench import load_manifest
from cadence.floor.scoring import manifest_entries


def source_entries(src: Path, out: Path) -> list[dict[str, Any]]:
    """The entries of split ``src``, checked before anything is written.

    Each is checked as ``cadence bench floor`` checks it (``load_manifest``: its labels, its
    audio file, no file listed twice). Its ``audio`` path must lie inside ``src``, so that
    its copy lands inside ``out``: an absolute path or one that climbs out would be written
    over the source file itself. A ``meta`` of null is read as none; one that is not an
    object cannot record the copy's changes and is refused.
    """
    manifest = src / "manifest.jsonl"
    if not manifest.is_file():
        raise InvalidArgumentError(f"{src}: no manifest.jsonl (expected a split folder)")
    if out.resolve() == src.resolve():
        raise InvalidArgumentError("--out must differ from --src (the source split is read, never rewritten)")
    if out.exists() and not out.is_dir():
        raise InvalidArgumentError(f"--out {out} is a file, not a folder")
    load_manifest(str(src))
    entries = manifest_entries(manifest)
    for entry in entries:
        rel = entry["audio"]
        if os.path.isabs(rel) or os.path.normpath(rel).split(os.sep)[0] == os.pardir:
            raise InvalidArgumentError(
                f"{manifest}: {rel!r} lies outside the split; its copy would not land inside --out "
                "(give audio paths relative to the split, inside it)")
        if entry.get("meta") is None:
            entry["meta"] = {}
        elif not isinstance(entry["meta"], dict):
            raise InvalidArgumentError(f"{manifest}: {rel!r}: meta is not an object, so the copy "
                                       "cannot record what it changed")
    return entries
