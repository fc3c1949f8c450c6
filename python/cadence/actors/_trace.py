"""Hop tracing: who sent what to whom, when it was queued, picked up and done.

Tracing is off unless a :class:`Tracer` is given to the actor system; then every
send is wrapped in an envelope stamped with the sender and the enqueue time, and
the receiving loop records one :class:`Hop` per handled message. With tracing off
the hot path pays one ``is None`` test per send.

:meth:`Tracer.to_chrome` renders the hops in the Chrome trace event format that
ui.perfetto.dev and chrome://tracing open: one track (thread) per actor, a
complete ``"X"`` event per handler run, and a flow (``"s"`` → ``"f"``) from the
enqueue on the sender's track to the dequeue on the receiver's.
"""

from __future__ import annotations

import json
import os
from collections import deque
from contextvars import ContextVar
from typing import Any

import msgspec
import trio

from cadence.errors import InvalidArgumentError

__all__ = ["Hop", "Tracer", "EXTERNAL"]

#: The sender name of messages sent from outside any actor.
EXTERNAL = "external"

#: Name of the actor whose task is running (set once per actor task).
current_actor: ContextVar[str] = ContextVar("cadence_current_actor", default=EXTERNAL)


class Hop(msgspec.Struct, frozen=True, gc=False):
    """One message delivery. Times are ns on the trio clock."""

    sender: str
    receiver: str
    message_type: str
    enqueue_ns: int
    dequeue_ns: int
    end_ns: int


def _now_ns() -> int:
    return int(trio.current_time() * 1e9)


class Tracer:
    """Records hops in a bounded buffer (the newest ``max_hops`` are kept)."""

    def __init__(self, max_hops: int = 100_000) -> None:
        if not isinstance(max_hops, int) or max_hops < 1:
            raise InvalidArgumentError(f"max_hops must be an int >= 1, got {max_hops!r}")
        self._hops: deque[tuple[str, str, str, int, int, int]] = deque(maxlen=max_hops)
        self.now_ns = _now_ns

    def record(self, sender: str, receiver: str, message_type: str,
               enqueue_ns: int, dequeue_ns: int, end_ns: int) -> None:
        self._hops.append((sender, receiver, message_type, enqueue_ns, dequeue_ns, end_ns))

    def hops(self) -> list[Hop]:
        return [Hop(*h) for h in self._hops]

    def clear(self) -> None:
        self._hops.clear()

    def __len__(self) -> int:
        return len(self._hops)

    def to_chrome(self) -> dict[str, Any]:
        """The trace as a Chrome/Perfetto trace-event JSON object."""
        hops = list(self._hops)
        tids: dict[str, int] = {}

        def tid(name: str) -> int:
            t = tids.get(name)
            if t is None:
                t = tids[name] = len(tids) + 1
            return t

        origin = min((h[3] for h in hops), default=0)

        def us(ns: int) -> float:
            return (ns - origin) / 1000.0

        events: list[dict[str, Any]] = []
        for i, (sender, receiver, mtype, enq, deq, end) in enumerate(hops, 1):
            s_tid, r_tid = tid(sender), tid(receiver)
            events.append({"name": mtype, "cat": "hop", "ph": "s", "id": i,
                           "ts": us(enq), "pid": 1, "tid": s_tid})
            events.append({"name": mtype, "cat": "actor", "ph": "X", "ts": us(deq),
                           "dur": (end - deq) / 1000.0, "pid": 1, "tid": r_tid,
                           "args": {"sender": sender, "receiver": receiver,
                                    "enqueue_ns": enq, "dequeue_ns": deq, "end_ns": end,
                                    "queue_ns": deq - enq}})
            events.append({"name": mtype, "cat": "hop", "ph": "f", "bp": "e", "id": i,
                           "ts": us(deq), "pid": 1, "tid": r_tid})
        events.sort(key=lambda e: e["ts"])  # stable: s before X before f at equal ts
        meta: list[dict[str, Any]] = [
            {"name": "process_name", "ph": "M", "pid": 1, "tid": 0, "args": {"name": "cadence actors"}}
        ]
        meta += [{"name": "thread_name", "ph": "M", "pid": 1, "tid": t, "args": {"name": n}}
                 for n, t in tids.items()]
        return {"traceEvents": meta + events, "displayTimeUnit": "ns"}

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_chrome` as JSON to ``path``."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_chrome(), f)
