"""Face messages: the parameters the renderer draws one frame from."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from cadence.errors import InvalidArgumentError
from cadence.messages._base import (
    MessageBase,
    as_tuple,
    check_finite,
    check_non_negative,
)
from cadence.messages.speech import VISEME_NAMES

__all__ = ["BLENDSHAPE_NAMES", "BLENDSHAPE_INDEX", "FaceParams"]

#: The 52 ARKit blendshapes, in the fixed order of ``FaceParams.blendshapes``
#: (MediaPipe's face blendshapes use the same names, plus ``_neutral``, minus ``tongueOut``).
BLENDSHAPE_NAMES: Final[tuple[str, ...]] = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight",
    "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight",
    "eyeWideLeft", "eyeWideRight",
    "jawForward", "jawLeft", "jawOpen", "jawRight",
    "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
    "tongueOut",
)  # fmt: skip
#: Name → position in :data:`BLENDSHAPE_NAMES`.
BLENDSHAPE_INDEX: Final[Mapping[str, int]] = {n: i for i, n in enumerate(BLENDSHAPE_NAMES)}
_VISEMES: Final = frozenset(VISEME_NAMES)
_NUM_BLENDSHAPES: Final = len(BLENDSHAPE_NAMES)


class FaceParams(MessageBase, frozen=True, tag="face.params", gc=False, kw_only=True):
    """One frame of face parameters.

    ``blendshapes`` are weights in [0, 1] in :data:`BLENDSHAPE_NAMES` order
    (exactly 52). Head pose ``yaw``/``pitch``/``roll`` are radians in [-π, π];
    gaze ``gaze_x``/``gaze_y`` are in [-1, 1] (right/up positive). ``epoch`` is
    the speech epoch being lip-synced (``None`` while listening) and ``viseme``
    the viseme it follows (``"sil"`` when silent).
    """

    blendshapes: tuple[float, ...]
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    gaze_x: float = 0.0
    gaze_y: float = 0.0
    epoch: int | None = None
    viseme: str = "sil"

    def __post_init__(self) -> None:
        super().__post_init__()
        weights = as_tuple(self, "blendshapes")
        if len(weights) != _NUM_BLENDSHAPES:
            raise InvalidArgumentError(
                f"blendshapes must have {_NUM_BLENDSHAPES} weights, got {len(weights)}"
            )
        for i, w in enumerate(weights):  # a plain loop: ~2x faster than all(<genexpr>)
            if not 0.0 <= w <= 1.0:  # NaN fails too
                raise InvalidArgumentError(
                    f"blendshape {BLENDSHAPE_NAMES[i]!r} must be in [0, 1], got {w!r}"
                )
        for name in ("yaw", "pitch", "roll"):
            angle = getattr(self, name)
            check_finite(name, angle)
            if abs(angle) > math.pi:
                raise InvalidArgumentError(f"{name} must be in [-pi, pi] radians, got {angle!r}")
        for name in ("gaze_x", "gaze_y"):
            g = getattr(self, name)
            if not -1.0 <= g <= 1.0:
                raise InvalidArgumentError(f"{name} must be in [-1, 1], got {g!r}")
        if self.epoch is not None:
            check_non_negative("epoch", self.epoch)
        if self.viseme not in _VISEMES:
            raise InvalidArgumentError(f"unknown viseme {self.viseme!r}; see VISEME_NAMES")

    def weight(self, name: str) -> float:
        """The weight of blendshape ``name``."""
        try:
            return self.blendshapes[BLENDSHAPE_INDEX[name]]
        except KeyError:
            raise InvalidArgumentError(f"unknown blendshape {name!r}") from None

    @staticmethod
    def weights_from_mapping(weights: Mapping[str, float]) -> tuple[float, ...]:
        """A full 52-weight tuple from a name → weight mapping (missing names are 0).

        Unknown names raise :class:`InvalidArgumentError` (drop MediaPipe's
        ``_neutral`` before calling).
        """
        out = [0.0] * _NUM_BLENDSHAPES
        for name, w in weights.items():
            idx = BLENDSHAPE_INDEX.get(name)
            if idx is None:
                raise InvalidArgumentError(f"unknown blendshape {name!r}")
            out[idx] = float(w)
        return tuple(out)
