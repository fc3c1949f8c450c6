"""Triton kernels for the Cadence face renderer, each beside its numpy reference.

One folder per op (``composite/``, ``warp/``); in each, ``naive.py`` is the numpy
reference, ``kernel.py`` the ``@triton.jit`` kernel, ``launch.py`` the launcher that
checks inputs and picks block sizes, ``eager.py`` a torch-eager baseline.

torch and triton are optional: importing this package, and every ``naive`` function,
needs numpy only. The kernels and eager baselines import torch/triton on first use.
"""

from __future__ import annotations

from . import composite, warp
from ._runtime import available, interpreter_requested

__all__ = ["available", "interpreter_requested", "composite", "warp"]
