"""The environment is the one the figures were measured in: every package ``scripts/setup.sh`` pins
(``scripts/constraints.txt``, passed to pip as ``PIP_CONSTRAINT``) is installed at its pinned version."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.version import Version

CONSTRAINTS = Path(__file__).resolve().parents[1] / "scripts" / "constraints.txt"


def pins() -> dict[str, str]:
    out = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        assert m, f"not a plain name==version pin: {line!r}"
        out[m.group(1)] = m.group(2)
    return out


def test_the_pins_cover_what_moves_the_figures() -> None:
    p = {k.lower().replace("_", "-"): v for k, v in pins().items()}
    for name in ("numpy", "onnxruntime", "silero-vad", "pipecat-ai", "scipy", "soundfile", "torch", "piper-tts"):
        assert name in p, f"{name} is not pinned in {CONSTRAINTS.name}"


def test_every_pinned_package_is_installed_at_its_pin() -> None:
    wrong = []
    for name, version in pins().items():
        try:
            got = metadata.version(name)
        except metadata.PackageNotFoundError:
            got = "not installed"
        if got == "not installed" or Version(got) != Version(version):
            wrong.append(f"{name}: {got}, pinned {version}")
    assert not wrong, ("run scripts/setup.sh, which reinstalls what differs from scripts/constraints.txt: "
                       + "; ".join(wrong))
