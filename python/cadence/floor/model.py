"""The floor model at run time: causal conv front-end + GRU, evaluated in Rust (no torch).

The networks run in Rust (``cadence._core.FloorNetwork``, averaged in one call by
``FloorEnsemble``, GIL released); the numpy
code here is its reference (``_Member.reference_process``, tested to agree within
1e-5) and gives the heads' inputs when they are fitted (``head_inputs``).

Architecture (trained by ``cadence train floor``, see ``train.py``)::

    x (N_FEATURES) → Linear → tanh                       per frame
      → causal Conv1d (k, dilation d₀) → tanh            ~last syllable of context
      → [causal Conv1d (k, dilation dᵢ) → tanh] + skip   (residual layers)
      → GRU(hidden) → Linear → logits (keep, end200, end600, bc, bargein)
      [GRU state ‖ conv output] → Linear → logit (voice), (pause), (onset), (confirm)  (optional)

The convolutions see a short window of the normalised spectra and prosody
(≈ 130–250 ms), which lets the model recognise *what* was said last — a filler,
"and", a trailing function word — and how it was intoned, without a transcript;
the GRU carries the longer context. Four optional linear heads are fitted on the
frozen network by ``cadence train heads`` (``heads.py``):

* ``voice``: the *user* is speaking in this frame. Unlike Silero VAD it learned to
  ignore background talk (babble), hum and the persona's echo. Without the head
  it reads 1.0 (no opinion: the policy's VAD rule alone decides).
* ``pause``: P(the user keeps the floor), fitted only on frames inside pauses (the
  moments the commit decision is made there), where ``keep`` is fitted on every
  frame. Without the head it reads ``keep``.
* ``onset``: over the persona's voice, the user's speech that has just begun is a
  barge-in (not a backchannel, the echo or background talk), fitted only on the first
  250 ms of such speech: what the pause stage must judge before the persona has to stop
  (150 ms). ``bargein`` is fitted on the whole barge-in and is surer later, weaker
  early. Without the head it reads ``bargein``.
* ``confirm``: the same question, fitted 100–600 ms into such speech, where the policy
  confirms a barge-in. Without the head it reads ``bargein``.

Everything is causal: the convolutions
keep the last ``(k−1)·d`` inputs of the previous call, so any chunking gives
the same output. Weights are a small ``.npz`` committed under
``cadence/floor/weights/``.
"""

from __future__ import annotations

import copy
import threading
import zipfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from cadence._core import FloorEnsemble, FloorNetwork
from cadence.errors import InvalidArgumentError
from cadence.floor.features import N_FEATURES
from cadence.floor.labels import TARGETS

# the model's output columns: the trained heads, then the optional linear heads
HEADS = ("voice", "pause", "onset", "confirm")
OUTPUTS = TARGETS + HEADS
BARGEIN = OUTPUTS.index("bargein")
VOICE = OUTPUTS.index("voice")
PAUSE = OUTPUTS.index("pause")
ONSET = OUTPUTS.index("onset")
CONFIRM = OUTPUTS.index("confirm")

DEFAULT_WEIGHTS = "floor_gru.npz"
_KEYS = ("in_w", "in_b", "w_ih", "b_ih", "w_hh", "b_hh", "out_w", "out_b", "mean", "std")


def default_weights_path() -> Path:
    return Path(str(resources.files("cadence.floor") / "weights" / DEFAULT_WEIGHTS))


# the networks the pause stage and the barge-in read once the persona is heard (``persona_networks``)
PERSONA_WEIGHTS = "floor_persona.npz"


def default_persona_weights_path() -> Path:
    return Path(str(resources.files("cadence.floor") / "weights" / PERSONA_WEIGHTS))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class _CausalConv:
    """One streaming causal Conv1d layer (torch weight layout (out, in, k))."""

    def __init__(self, w: np.ndarray, b: np.ndarray, dilation: int, residual: bool) -> None:
        self.w = w
        self.taps = [np.ascontiguousarray(w[:, :, j].T) for j in range(w.shape[2])]
        self.b, self.d, self.residual = b, int(dilation), residual
        self.span = (w.shape[2] - 1) * self.d
        self.hist = np.zeros((self.span, w.shape[1]), np.float32)

    def reset(self) -> None:
        self.hist[:] = 0.0

    def __deepcopy__(self, memo: dict[int, Any]) -> _CausalConv:
        """The weights shared (never written after construction), the history copied."""
        new = copy.copy(self)
        new.hist = self.hist.copy()
        return new

    def __call__(self, u: np.ndarray) -> np.ndarray:
        n = u.shape[0]
        z = np.concatenate([self.hist, u]) if self.span else u
        y = np.broadcast_to(self.b, (n, self.b.shape[0])).copy()
        for j, tap in enumerate(self.taps):
            y += z[j * self.d : j * self.d + n] @ tap
        if self.span:
            self.hist = z[-self.span :].copy()
        y = np.tanh(y)
        return u + y if self.residual else y


def conv_layers(p: dict[str, np.ndarray]) -> list[tuple[int, int]]:
    """(kernel, dilation) of each causal conv layer in exported parameters ``p``."""
    out: list[tuple[int, int]] = []
    while f"conv{len(out)}_w" in p:
        i = len(out)
        out.append((int(p[f"conv{i}_w"].shape[2]), int(p[f"conv{i}_d"])))
    return out


class _Member:
    """One trained network of the ensemble (parameters ``p`` as exported by ``train.export``)."""

    def __init__(self, p: dict[str, np.ndarray], where: str) -> None:
        missing = [k for k in _KEYS if k not in p]
        if missing:
            raise InvalidArgumentError(f"{where}: not a floor model (missing {missing})")
        if p["in_w"].shape[1] != N_FEATURES:
            raise InvalidArgumentError(
                f"{where}: model expects {p['in_w'].shape[1]} features, featurizer gives {N_FEATURES}"
            )
        if p["out_w"].shape[0] != len(TARGETS) or p["out_b"].shape != (len(TARGETS),):
            raise InvalidArgumentError(
                f"{where}: model has {p['out_w'].shape[0]} outputs, expected {len(TARGETS)} {TARGETS}"
            )
        self.mean, self.std = p["mean"], p["std"]
        self.in_w_t, self.in_b = np.ascontiguousarray(p["in_w"].T), p["in_b"]
        self.convs: list[_CausalConv] = []
        for i, (_k, d) in enumerate(conv_layers(p)):
            w = p[f"conv{i}_w"]
            self.convs.append(_CausalConv(w, p[f"conv{i}_b"], d, residual=w.shape[0] == w.shape[1] and i > 0))
        self.w_ih_t, self.b_ih = np.ascontiguousarray(p["w_ih"].T), p["b_ih"]
        self.w_hh_t = np.ascontiguousarray(p["w_hh"].T)
        self.b_hh = p["b_hh"]
        self.out_w_t, self.out_b = np.ascontiguousarray(p["out_w"].T), p["out_b"]
        self.hidden = self.w_hh_t.shape[0]
        self.h = np.zeros(self.hidden, np.float32)
        self.head_width = self.hidden + self.w_ih_t.shape[0]  # GRU state ‖ conv output
        heads: dict[str, tuple[np.ndarray, float]] = {}  # name → (weights, bias)
        for name in HEADS:
            if f"{name}_w" in p or f"{name}_b" in p:
                hw, hb = p.get(f"{name}_w"), p.get(f"{name}_b")
                if hw is None or hb is None or hw.shape != (self.head_width,) or hb.shape != ():
                    raise InvalidArgumentError(
                        f"{where}: {name} head must be {name}_w ({self.head_width},) and a scalar "
                        f"{name}_b, got {None if hw is None else hw.shape} and {None if hb is None else hb.shape}")
                heads[name] = (hw, float(hb))
        self.heads: Mapping[str, tuple[np.ndarray, float]] = heads
        # the forward pass at run time: the same arithmetic in Rust, with the GIL released; ``net``
        # holds the weights (an ensemble shares them), ``run`` this member's own calls
        width = self.w_ih_t.shape[0]
        self.net = FloorNetwork(
            self.mean, self.std, p["in_w"], self.in_b, [c.w for c in self.convs], [c.b for c in self.convs],
            [c.d for c in self.convs], p["w_ih"], self.b_ih, p["w_hh"], self.b_hh, p["out_w"], self.out_b,
            np.array([w for w, _ in self.heads.values()], np.float32).reshape(len(self.heads), self.hidden + width),
            np.array([b for _, b in self.heads.values()], np.float32))
        self.run = FloorEnsemble([self.net])
        # for each OUTPUTS column, the column of [probs ‖ 1] it reads (``_outputs``): a missing pause
        # head reads the keep head, missing onset and confirm heads the barge-in head, a missing
        # voice head 1.0
        src = {name: i for i, name in enumerate(TARGETS + tuple(self.heads))}
        fallback = {"pause": src["keep"], "onset": src["bargein"], "confirm": src["bargein"],
                    "voice": len(src)}
        self.output_columns = np.array([src.get(name, fallback.get(name)) for name in OUTPUTS])

    def freeze(self) -> None:
        """Make the weights read-only: every call's copy shares them, so a write would reach all."""
        arrays = [self.mean, self.std, self.in_w_t, self.in_b, self.w_ih_t, self.b_ih, self.w_hh_t, self.b_hh,
                  self.out_w_t, self.out_b, self.output_columns]
        arrays += [a for c in self.convs for a in (c.w, c.b, *c.taps)]
        arrays += [w for w, _ in self.heads.values()]
        for a in arrays:
            a.flags.writeable = False
        self.heads = MappingProxyType(dict(self.heads))

    def __deepcopy__(self, memo: dict[int, Any]) -> _Member:
        """A member for another call: the weights (numpy and Rust) shared, never written after
        construction; the state (GRU, conv histories, the Rust pass's) copied."""
        new = copy.copy(self)
        new.h = self.h.copy()
        new.convs = [copy.deepcopy(c, memo) for c in self.convs]
        new.run = copy.deepcopy(self.run, memo)
        return new

    def reset(self) -> None:
        self.h = np.zeros(self.hidden, np.float32)
        self.run.reset()
        for c in self.convs:
            c.reset()

    def head_inputs(self, x: np.ndarray) -> np.ndarray:
        """(n, head_width): each frame's GRU state and conv output, what the heads read
        (advances the streaming state like ``process``)."""
        n, hd = x.shape[0], self.hidden
        u = np.tanh(((x - self.mean) / self.std).astype(np.float32) @ self.in_w_t + self.in_b)
        for conv in self.convs:
            u = conv(u)
        gi = u @ self.w_ih_t + self.b_ih  # (n, 3H): r, z, n gates (torch order)
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
        return np.concatenate([hs, u], axis=1)

    def process(self, x: np.ndarray) -> np.ndarray:
        """x: (n, N_FEATURES) → (n, len(OUTPUTS)) probabilities (the Rust forward pass)."""
        return self._outputs(self.run.process(np.ascontiguousarray(x, np.float32)))

    def reference_process(self, x: np.ndarray) -> np.ndarray:
        """``process`` in numpy (the reference the Rust pass is tested against); it advances
        the numpy state of ``head_inputs``, not the Rust one."""
        z = self.head_inputs(x)
        probs = [_sigmoid(z[:, : self.hidden] @ self.out_w_t + self.out_b)]
        probs += [_sigmoid(z @ w + b)[:, None] for w, b in self.heads.values()]
        return self._outputs(np.concatenate(probs, axis=1).astype(np.float32))

    def _outputs(self, probs: np.ndarray) -> np.ndarray:
        """The targets' then the heads' probabilities (n, len(TARGETS) + heads) → ``OUTPUTS``: one
        gather through ``output_columns`` (a column of ones after ``probs`` stands for 1.0)."""
        ones = np.ones((probs.shape[0], 1), np.float32)
        return np.concatenate([probs, ones], axis=1)[:, self.output_columns]


def load_members(path: Path) -> list[dict[str, np.ndarray]]:
    """The parameter sets in a weights file: one, or ``m0/…``, ``m1/…`` for an ensemble."""
    if not Path(path).is_file():
        raise InvalidArgumentError(
            f"floor model weights not found at {path}; train them with `cadence train floor`"
        )
    try:
        with np.load(path) as z:
            p = {k: z[k].astype(np.float32) for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, AttributeError) as e:
        raise InvalidArgumentError(f"{path}: not a floor model ({e})") from e
    if "m0/in_w" not in p:
        return [p]
    out: list[dict[str, np.ndarray]] = []
    while f"m{len(out)}/in_w" in p:
        pre = f"m{len(out)}/"
        out.append({k[len(pre):]: v for k, v in p.items() if k.startswith(pre)})
    return out


def save_ensemble(paths: list[Path], out: Path) -> None:
    """Combine single-model weight files into one ensemble file (probabilities averaged)."""
    arrays: dict[str, np.ndarray] = {}
    members = [(m, str(path)) for path in paths for m in load_members(path)]
    for i, (m, where) in enumerate(members):
        _Member(m, where)  # validate before writing
        arrays.update({f"m{i}/{k}": v for k, v in m.items()})
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)  # type: ignore[arg-type]


# weights files loaded in this process: ``_file_key`` → pristine members, never run;
# the last _LOADED_MAX files (a training run that writes new weights does not pile them up)
_LOADED: dict[tuple[str, tuple[tuple[str, int, int], ...]], list[_Member]] = {}
_LOADED_MAX = 8
_LOADED_LOCK = threading.Lock()  # policies are built in worker threads, side by side


def _file_key(path: Path) -> tuple[str, tuple[tuple[str, int, int], ...]] | None:
    """A weights file's identity by content: its resolved path and each array's name, CRC and
    size from the npz's directory (cheap, and a rewrite within the clock's tick still differs);
    None where it cannot be read (``load_members`` then says what is wrong)."""
    try:
        with zipfile.ZipFile(path) as z:
            return str(path.resolve()), tuple((i.filename, i.CRC, i.file_size) for i in z.infolist())
    except (OSError, zipfile.BadZipFile):
        return None


def _loaded(path: Path) -> list[_Member]:
    """The members of a weights file, loaded and checked once per process and file content (a file
    written again with other weights is loaded again); callers copy them (``_Member.__deepcopy__``)."""
    key = _file_key(path)
    with _LOADED_LOCK:
        if key is not None and key in _LOADED:
            _LOADED[key] = _LOADED.pop(key)  # the newest again
            return _LOADED[key]
        members = [_Member(p, str(path)) for p in load_members(path)]
        if len({tuple(m.heads) for m in members}) > 1:
            raise InvalidArgumentError(f"{path}: the ensemble members do not all have the same heads")
        for m in members:
            m.freeze()
        if key is not None:
            _LOADED[key] = members
            while len(_LOADED) > _LOADED_MAX:
                del _LOADED[next(iter(_LOADED))]  # the oldest
        return members


class FloorModel:
    """Streaming model; ``process(features (n, F)) -> probs (n, len(OUTPUTS))``; state kept
    across calls.

    A weights file holds one network or an ensemble (``save_ensemble``) whose members'
    probabilities are averaged: members trained with different seeds make different
    errors, so the average separates holds from shifts better than any one of them.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        path = Path(path) if path is not None else default_weights_path()
        # each call's model shares the networks' weights with every other model of the same file
        # (``_loaded``): only the call's state is its own
        self.members = [copy.deepcopy(m) for m in _loaded(path)]
        # the members' networks averaged in one Rust call (the weights shared, the state the ensemble's)
        self.ensemble = FloorEnsemble([m.net for m in self.members])

    @property
    def heads(self) -> tuple[str, ...]:
        """The optional heads (``HEADS``) the networks carry."""
        return tuple(n for n in HEADS if n in self.members[0].heads)

    @property
    def receptive_frames(self) -> int:
        """Frames of input the convolutional front-end sees at once."""
        return max(1 + sum(c.span for c in m.convs) for m in self.members)

    def reset(self) -> None:
        self.ensemble.reset()
        for m in self.members:
            m.reset()

    def process(self, x: np.ndarray) -> np.ndarray:
        """x: (n, N_FEATURES) float32 → (n, len(OUTPUTS)) probabilities (columns ``OUTPUTS``)."""
        if x.ndim != 2 or x.shape[1] != N_FEATURES:
            raise InvalidArgumentError(f"expected features of shape (n, {N_FEATURES}), got {x.shape}")
        # the members carry the same heads in the same order, so averaging before the columns
        # are laid out is the same
        return self.members[0]._outputs(self.ensemble.process(np.ascontiguousarray(x, np.float32)))


__all__ = ["BARGEIN", "CONFIRM", "FloorModel", "HEADS", "ONSET", "OUTPUTS", "PAUSE", "PERSONA_WEIGHTS", "TARGETS", "VOICE",
           "default_weights_path", "load_members", "save_ensemble"]
