"""Where the kernels can run: optional torch/triton imports and device checks.

Nothing here imports torch or triton at module import time.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

_TRUE = {"1", "true", "yes", "on"}


def interpreter_requested() -> bool:
    """True when ``TRITON_INTERPRET`` asks triton to run kernels on the CPU interpreter."""
    return os.environ.get("TRITON_INTERPRET", "").strip().lower() in _TRUE


def _try_import(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def available() -> bool:
    """Whether the Triton kernels can run here.

    Needs torch and triton importable, and either a CUDA device or the triton
    interpreter (``TRITON_INTERPRET=1``, CPU tensors). The numpy references
    (``naive`` functions) run everywhere regardless.
    """
    torch = _try_import("torch")
    if torch is None or _try_import("triton") is None:
        return False
    if interpreter_requested():
        return True
    return bool(torch.cuda.is_available())


def require_torch() -> Any:
    """Import torch, or fail with a message naming the optional dependency."""
    torch = _try_import("torch")
    if torch is None:
        raise ModuleNotFoundError(
            "cadence_kernels: torch is required for the kernels and eager baselines; "
            "install the 'gpu' extra (pip install 'cadence-kernels[gpu]') or use the naive functions"
        )
    return torch


def require_triton() -> None:
    require_torch()
    if _try_import("triton") is None:
        raise ModuleNotFoundError(
            "cadence_kernels: triton is required for the kernels; install the 'gpu' extra "
            "(pip install 'cadence-kernels[gpu]') or use the naive functions"
        )


def check_tensor(name: str, t: object) -> "torch.Tensor":
    """Raise ValueError unless ``t`` is a torch tensor."""
    torch = require_torch()
    if not isinstance(t, torch.Tensor):
        raise ValueError(
            f"{name} must be a torch.Tensor, got {type(t).__name__} "
            "(numpy arrays go to the naive functions)"
        )
    return t


def check_devices(interpreted: bool, **tensors: "torch.Tensor") -> "torch.device":
    """All tensors on one device, and a device the compiled kernels can use.

    ``interpreted`` says whether the kernels were built by the triton interpreter
    (decided once, when the kernel module is first imported).
    """
    items = list(tensors.items())
    device = items[0][1].device
    for name, t in items[1:]:
        if t.device != device:
            raise ValueError(
                f"{name} is on {t.device} but {items[0][0]} is on {device}; "
                "all inputs must be on one device"
            )
    if not interpreted and device.type != "cuda":
        raise ValueError(
            f"inputs are on {device}, but the kernels were compiled for the GPU; "
            "move them to CUDA, or set TRITON_INTERPRET=1 before the first kernel call "
            "to run on the CPU interpreter (slow; for tests)"
        )
    return device


def next_pow2(n: int) -> int:
    return 1 << max(0, (int(n) - 1).bit_length())
