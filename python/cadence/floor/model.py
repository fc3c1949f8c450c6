"""The floor model at run time: a small causal GRU evaluated in numpy (no torch).

Architecture (trained by ``cadence train floor``, see ``train.py``):
``x (N_FEATURES) → Linear → tanh → GRU(hidden) → Linear → 4 logits``
(keep, end200, end600, bc). The input projection is computed for a whole chunk
in one matmul; only the recurrence runs per frame. Weights are a small ``.npz``
committed under ``cadence/floor/weights/``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from cadence.errors import InvalidArgumentError
from cadence.floor.features import N_FEATURES
from cadence.floor.labels import TARGETS

DEFAULT_WEIGHTS = "floor_gru.npz"
_KEYS = ("in_w", "in_b", "w_ih", "b_ih", "w_hh", "b_hh", "out_w", "out_b", "mean", "std")


def default_weights_path() -> Path:
    return Path(str(resources.files("cadence.floor") / "weights" / DEFAULT_WEIGHTS))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class FloorModel:
    """Streaming GRU; ``process(features (n, F)) -> probs (n, 4)``; state kept across calls."""

    def __init__(self, path: str | Path | None = None) -> None:
        path = Path(path) if path is not None else default_weights_path()
        if not path.exists():
            raise InvalidArgumentError(
                f"floor model weights not found at {path}; train them with `cadence train floor`"
            )
        with np.load(path) as z:
            missing = [k for k in _KEYS if k not in z]
            if missing:
                raise InvalidArgumentError(f"{path}: not a floor model (missing {missing})")
            p = {k: z[k].astype(np.float32) for k in _KEYS}
        if p["in_w"].shape[1] != N_FEATURES:
            raise InvalidArgumentError(
                f"{path}: model expects {p['in_w'].shape[1]} features, featurizer gives {N_FEATURES}"
            )
        self.mean, self.std = p["mean"], p["std"]
        self.in_w, self.in_b = p["in_w"], p["in_b"]
        self.w_ih, self.b_ih = p["w_ih"], p["b_ih"]
        self.w_hh_t = np.ascontiguousarray(p["w_hh"].T)
        self.b_hh = p["b_hh"]
        self.out_w, self.out_b = p["out_w"], p["out_b"]
        self.hidden = self.w_hh_t.shape[0]
        self.h = np.zeros(self.hidden, np.float32)

    def reset(self) -> None:
        self.h = np.zeros(self.hidden, np.float32)

    def process(self, x: np.ndarray) -> np.ndarray:
        """x: (n, N_FEATURES) float32 → (n, len(TARGETS)) probabilities."""
        if x.ndim != 2 or x.shape[1] != N_FEATURES:
            raise InvalidArgumentError(f"expected features of shape (n, {N_FEATURES}), got {x.shape}")
        n, hd = x.shape[0], self.hidden
        u = np.tanh(((x - self.mean) / self.std) @ self.in_w.T + self.in_b)
        gi = u @ self.w_ih.T + self.b_ih  # (n, 3H): r, z, n gates (torch order)
        hs = np.empty((n, hd), np.float32)
        h = self.h
        for i in range(n):
            gh = h @ self.w_hh_t + self.b_hh
            g = gi[i]
            r = _sigmoid(g[:hd] + gh[:hd])
            z = _sigmoid(g[hd : 2 * hd] + gh[hd : 2 * hd])
            c = np.tanh(g[2 * hd :] + r * gh[2 * hd :])
            h = (1.0 - z) * c + z * h
            hs[i] = h
        self.h = h
        return _sigmoid(hs @ self.out_w.T + self.out_b).astype(np.float32)


__all__ = ["FloorModel", "TARGETS", "default_weights_path"]
