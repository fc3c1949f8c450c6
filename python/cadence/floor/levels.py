"""Running levels the pause stage keeps per call: a quantile tracked in fixed steps.

``RunningQuantile(q, step_db)`` follows the q-quantile of a stream of levels (dB) without
storing it: each value above the estimate raises it by ``q · step_db``, each other value
lowers it by ``(1 − q) · step_db``, so it settles where a share 1 − q of the values lies
above it; a room that gets louder is followed at up to ``q · step_db`` per value, a quieter
one at up to ``(1 − q) · step_db``. The first value sets it; a value that is not finite is
ignored. ``ready`` says whether enough values have been seen to trust it. It moves only when
fed: a level nobody feeds keeps its last value.
"""

from __future__ import annotations

import math

from cadence.errors import InvalidArgumentError

__all__ = ["RunningQuantile"]


class RunningQuantile:
    def __init__(self, q: float, step_db: float = 0.5, min_count: int = 50) -> None:
        if not 0.0 < q < 1.0 or not step_db > 0.0 or min_count < 1 or not math.isfinite(step_db):
            raise InvalidArgumentError(f"RunningQuantile needs 0 < q < 1, step_db > 0 and min_count >= 1, "
                                       f"got {q}, {step_db}, {min_count}")
        self.q, self.step_db, self.min_count = q, step_db, min_count
        self.value = 0.0
        self.count = 0

    def reset(self) -> None:
        self.value, self.count = 0.0, 0

    @property
    def ready(self) -> bool:
        return self.count >= self.min_count

    def update(self, v: float) -> None:
        if not math.isfinite(v):
            return
        if self.count == 0:
            self.value = v
        else:
            self.value += self.step_db * (self.q if v > self.value else self.q - 1.0)
        self.count += 1
