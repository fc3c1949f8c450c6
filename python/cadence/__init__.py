"""Cadence: a real-time engine for live, face-to-face conversation with an AI persona."""

from __future__ import annotations

from cadence import errors
from cadence.errors import CadenceError

__version__ = "0.1.0"

__all__ = ["CadenceError", "errors", "__version__"]
