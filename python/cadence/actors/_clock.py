"""Media clocks (monotonic ns per conversation) and the deterministic test clock.

A :class:`MediaClock` reads ``trio.current_time()``, so under
``trio.testing.MockClock(autojump_threshold=0)`` (see :func:`deterministic_clock`)
every sleep, timeout and timestamp in a test is exact and takes no real time.
"""

from __future__ import annotations

import math

import trio
import trio.testing

from cadence.errors import InvalidArgumentError

__all__ = ["MediaClock", "deterministic_clock"]


def deterministic_clock() -> trio.testing.MockClock:
    """A MockClock that jumps to the next deadline as soon as all tasks wait.

    ``trio.run(main, clock=deterministic_clock())``; in pytest-trio tests take
    the ``autojump_clock`` fixture instead.
    """
    return trio.testing.MockClock(autojump_threshold=0)


class MediaClock:
    """Nanoseconds since the conversation started, never going backwards.

    Must be created and read inside ``trio.run`` (it follows the run's clock).
    """

    __slots__ = ("conversation_id", "_origin", "_last")

    def __init__(self, conversation_id: str) -> None:
        if not isinstance(conversation_id, str) or not conversation_id:
            raise InvalidArgumentError(f"conversation_id must be a non-empty str, got {conversation_id!r}")
        self.conversation_id = conversation_id
        self._origin = trio.current_time()
        self._last = 0

    def now_ns(self) -> int:
        t = int(round((trio.current_time() - self._origin) * 1e9))
        if t < self._last:
            return self._last
        self._last = t
        return t

    def to_trio_time(self, ts_ns: int) -> float:
        """The ``trio.current_time()`` value at media time ``ts_ns``."""
        return self._origin + ts_ns / 1e9

    async def sleep_until_ns(self, ts_ns: int) -> None:
        """Sleep until media time ``ts_ns`` (returns at once if it is past)."""
        if not isinstance(ts_ns, int) or isinstance(ts_ns, bool):
            raise InvalidArgumentError(f"ts_ns must be an int, got {ts_ns!r}")
        deadline = self.to_trio_time(ts_ns)
        if math.isfinite(deadline):
            await trio.sleep_until(deadline)

    def __repr__(self) -> str:
        return f"MediaClock({self.conversation_id!r})"
