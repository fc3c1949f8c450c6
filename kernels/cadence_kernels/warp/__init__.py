"""``warp``: per-pixel backward warp by a dense displacement field, bilinear, border clamp.

- ``warp_naive`` — numpy reference (``naive.py``)
- ``warp`` — Triton kernel launcher (``launch.py``, kernel in ``kernel.py``)
- ``warp_eager`` — torch-eager baseline via ``grid_sample`` (``eager.py``)
"""

from __future__ import annotations

from .eager import warp_eager
from .launch import pick_block, warp
from .naive import warp_naive

__all__ = ["warp", "warp_naive", "warp_eager", "pick_block"]
