"""Argument types the command-line tools share: a mistake is one clear line from argparse (status 2)
when the command is read, not a traceback, and not after a long run whose output is then lost."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path


def _whole(text: str, lowest: int, name: str) -> int:
    try:
        value = int(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected {name}, got {text!r}") from e
    if value < lowest:
        raise argparse.ArgumentTypeError(f"{name} must be >= {lowest}, got {value}")
    return value


def seed(text: str) -> int:
    """A random seed: an integer >= 0 (numpy's generators take no negative seeds)."""
    return _whole(text, 0, "a seed")


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _whole(text, 1, "a whole number")


def jobs(text: str) -> int:
    """A number of worker processes: an integer >= 1."""
    return _whole(text, 1, "jobs")


def positive(text: str) -> float:
    """A finite number > 0."""
    try:
        value = float(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from e
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def out_file(text: str) -> Path:
    """A file to write once the command has run: its folder is made now if missing, and a path
    that is a folder, or whose folder cannot be made or written, is refused at once (not after
    the run, whose results would then be lost)."""
    path = Path(text)
    if not text:
        raise argparse.ArgumentTypeError("expected a file path, got an empty string")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file path")
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise argparse.ArgumentTypeError(f"cannot make the folder of {text}: {e.strerror or e}") from e
    if not os.access(parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"the folder of {text} is not writable ({parent})")
    return path


def npz_file(text: str) -> Path:
    """An ``.npz`` file to write (numpy adds the suffix to any other name, so a path without it
    would not name the file written)."""
    path = out_file(text)
    if path.suffix != ".npz":
        raise argparse.ArgumentTypeError(f"{text}: weights are written as .npz; name the file so")
    return path
