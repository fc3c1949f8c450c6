"""Which installed packages differ from their pins in ``scripts/constraints.txt`` (missing, or at
another version). ``scripts/setup.sh`` reinstalls when any does; ``tests/test_setup_pins.py`` fails.
Prints one line per difference; exits 1 if there is any (or ``packaging`` is missing), else 0."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

CONSTRAINTS = Path(__file__).resolve().parent / "constraints.txt"


def pins(path: Path = CONSTRAINTS) -> dict[str, str]:
    """name -> version of every ``name==version`` line (comments and blank lines skipped)."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if not m:
            raise ValueError(f"{path}: not a plain name==version pin: {line!r}")
        out[m.group(1)] = m.group(2)
    return out


def differences(path: Path = CONSTRAINTS) -> list[str]:
    from packaging.version import Version

    wrong = []
    for name, version in pins(path).items():
        try:
            got = metadata.version(name)
        except metadata.PackageNotFoundError:
            got = "not installed"
        if got == "not installed" or Version(got) != Version(version):
            wrong.append(f"{name}: {got}, pinned {version}")
    return wrong


if __name__ == "__main__":
    try:
        found = differences(Path(sys.argv[1]) if len(sys.argv) > 1 else CONSTRAINTS)
    except ImportError as e:  # no packaging yet: a fresh environment
        found = [f"packaging: {e}"]
    print("\n".join(found))
    sys.exit(1 if found else 0)
