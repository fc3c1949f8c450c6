"""The environment is the one the figures were measured in: every package ``scripts/setup.sh`` pins
(``scripts/constraints.txt``, passed to pip as ``PIP_CONSTRAINT``) is installed at its pinned version
(``scripts/check_pins.py``, which setup.sh also runs)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

CHECK = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "check_pins.py"))


def test_the_pins_cover_what_moves_the_figures() -> None:
    p = {k.lower().replace("_", "-"): v for k, v in CHECK["pins"]().items()}
    for name in ("numpy", "onnxruntime", "silero-vad", "pipecat-ai", "scipy", "soundfile", "torch", "piper-tts"):
        assert name in p, f"{name} is not pinned in {CHECK['CONSTRAINTS'].name}"


def test_every_pinned_package_is_installed_at_its_pin() -> None:
    wrong = CHECK["differences"]()
    assert not wrong, ("run scripts/setup.sh, which reinstalls what differs from scripts/constraints.txt: "
                       + "; ".join(wrong))


def test_a_pin_the_environment_does_not_meet_is_found(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("# a comment\nnumpy==0.0.1\nno-such-package-here==1.0\n")
    assert [w.split(":")[0] for w in CHECK["differences"](path)] == ["numpy", "no-such-package-here"]
    path.write_text("numpy>=1\n")
    with pytest.raises(ValueError, match="plain name==version"):
        CHECK["pins"](path)
