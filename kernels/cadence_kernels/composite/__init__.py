"""``composite``: premultiplied RGBA layer over a batch of RGB frames, clipped.

- ``composite_naive`` — numpy reference (``naive.py``)
- ``composite`` — Triton kernel launcher (``launch.py``, kernel in ``kernel.py``)
- ``composite_eager`` — torch-eager baseline (``eager.py``)
"""

from __future__ import annotations

from .eager import composite_eager
from .launch import composite, pick_block
from .naive import composite_naive, div255

__all__ = ["composite", "composite_naive", "composite_eager", "div255", "pick_block"]
