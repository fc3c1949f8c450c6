"""The event-loop stall watchdog.

A daemon-free helper thread posts a heartbeat onto the trio loop
(``TrioToken.run_sync_soon``) and checks it is acknowledged. A heartbeat left
pending for longer than ``threshold_s`` means synchronous code is holding the loop:
the thread then looks at the loop thread's Python stack (``sys._current_frames``)
for an actor's incarnation frame, so the stall names the actor (and the code
line) really running, even if handlers interleave. The hot path pays nothing.
Stalls are logged on logger ``cadence.actors`` and counted.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from types import FrameType
from typing import Any

import msgspec
import trio

from cadence.errors import InvalidArgumentError

__all__ = ["Stall", "Watchdog"]

log = logging.getLogger("cadence.actors")

#: frame of a running actor incarnation -> actor name (registered by the runtime)
actor_frames: dict[FrameType, str] = {}


class Stall(msgspec.Struct, frozen=True):
    """One detected stall: which actor (None if none was running), where, how long."""

    actor: str | None
    where: str
    blocked_s: float


class Watchdog:
    """Detects the trio loop being blocked longer than ``threshold_s``."""

    def __init__(self, threshold_s: float = 0.020, max_kept: int = 100) -> None:
        if not (isinstance(threshold_s, (int, float)) and threshold_s > 0):
            raise InvalidArgumentError(f"watchdog threshold_s must be > 0, got {threshold_s!r}")
        self.threshold_s = float(threshold_s)
        self._interval = self.threshold_s / 4
        self._max_kept = max_kept
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._token: Any = None
        self._loop_thread_id = 0
        self._pending: float | None = None  # monotonic time the pending beat was posted
        self._current: tuple[str | None, str] | None = None  # stall being reported
        self.stall_count = 0
        self.stalls: list[Stall] = []

    # -- lifecycle (called from the trio thread) ---------------------------------
    def start(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._loop_thread_id = threading.get_ident()
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="cadence-watchdog")
        self._thread.start()

    async def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            await trio.to_thread.run_sync(thread.join)

    # -- the loop side ---------------------------------------------------------------
    def _ack(self) -> None:
        with self._lock:
            sent, self._pending = self._pending, None
            current, self._current = self._current, None
        if current is not None and sent is not None:
            stall = Stall(current[0], current[1], time.monotonic() - sent)
            self.stalls.append(stall)
            del self.stalls[: -self._max_kept]
            log.warning("event loop was blocked %.1f ms (actor %s at %s)",
                        stall.blocked_s * 1e3, stall.actor, stall.where)

    # -- the watchdog thread -----------------------------------------------------------
    def _watch(self) -> None:
        while not self._stop.wait(self._interval):
            now = time.monotonic()
            with self._lock:
                pending, reported = self._pending, self._current is not None
            if pending is None:
                with self._lock:
                    self._pending = now
                try:
                    self._token.run_sync_soon(self._ack)
                except trio.RunFinishedError:
                    return
            elif not reported and now - pending > self.threshold_s:
                actor, where = self._blame()
                with self._lock:
                    if self._pending is None:  # acknowledged meanwhile
                        continue
                    self._current = (actor, where)
                    self.stall_count += 1
                log.warning("event loop blocked > %.0f ms by actor %s at %s",
                            self.threshold_s * 1e3, actor, where)

    def _blame(self) -> tuple[str | None, str]:
        frame = sys._current_frames().get(self._loop_thread_id)
        if frame is None:
            return None, "?"
        top = traceback.extract_stack(frame, limit=1)
        where = f"{top[-1].filename}:{top[-1].lineno} in {top[-1].name}" if top else "?"
        f: FrameType | None = frame
        while f is not None:
            name = actor_frames.get(f)
            if name is not None:
                return name, where
            f = f.f_back
        return None, where
