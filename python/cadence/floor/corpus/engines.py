"""The versions of the voice engines a corpus is rendered with, for its README.txt.

The same command renders other audio under other engine versions (a fresh machine's Debian
voice packages are not pinned; session 59's A moved its median by 20 ms on a render made
afresh), so a corpus says which it was made with.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess

__all__ = ["DEBIAN_PACKAGES", "PYTHON_PACKAGES", "engine_versions", "versions_line"]

# the Debian packages scripts/setup.sh installs for the corpus voices (APT_PACKAGES, UNSEEN_PACKAGES)
DEBIAN_PACKAGES = ("espeak-ng", "libespeak-ng1", "flite", "festival", "festvox-kdlpc16k", "festvox-us-slt-hts",
                   "sox", "mbrola", "festvox-rablpc16k", "festvox-don", "rhvoice", "libttspico-utils")
PYTHON_PACKAGES = ("piper-tts", "hibari-tts", "onnxruntime", "numpy", "scipy")


def engine_versions() -> dict[str, str]:
    """Installed version of each engine package this machine has (those it lacks are left out)."""
    out: dict[str, str] = {}
    if shutil.which("dpkg-query"):
        try:
            r = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Status} ${Version}\n", *DEBIAN_PACKAGES],
                               capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.SubprocessError):
            r = None
        for line in (r.stdout.splitlines() if r is not None else []):
            parts = line.split()  # "espeak-ng install ok installed 1.52.0+dfsg-5"
            if len(parts) == 5 and parts[1:4] == ["install", "ok", "installed"]:
                out[parts[0]] = parts[4]
    for name in PYTHON_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def versions_line() -> str:
    """``rendered with: espeak-ng 1.52.0+dfsg-5, flite ..., piper-tts ...`` (one line)."""
    v = engine_versions()
    return "rendered with: " + (", ".join(f"{k} {x}" for k, x in v.items()) if v else "(no engine version found)")
