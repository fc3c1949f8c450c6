"""Bounded single-consumer mailboxes with an explicit overflow policy.

A :class:`Mailbox` is what trio's memory channel is, minus what an actor does not
need (many receivers, clones) and plus what it does: an overflow policy chosen per
mailbox and counters for :func:`statistics`. Like ``MemorySendChannel.send``,
``put`` and ``get`` are trio checkpoints, and a waiting receiver is handed the
item directly (no buffer round trip).
"""

from __future__ import annotations

import enum
from collections import OrderedDict, deque
from typing import Any

import msgspec
from outcome import Error, Value
from trio.lowlevel import (
    Abort,
    cancel_shielded_checkpoint,
    checkpoint_if_cancelled,
    current_task,
    reschedule,
    wait_task_rescheduled,
)

from cadence.errors import ActorStoppedError, InvalidArgumentError, MailboxFullError

__all__ = ["Overflow", "MailboxSpec", "Mailbox", "STOP", "THROUGHPUT"]

#: Like Akka's dispatcher "throughput": a ``put`` or ``get`` that does not wait
#: is a cancel point every time but a schedule point (yield to other tasks) only
#: every THROUGHPUT-th time, so a burst moves without a task switch per message
#: while no producer or consumer can hold the loop for longer than that.
THROUGHPUT = 16
_budget = [THROUGHPUT]


class Overflow(enum.Enum):
    """What a full mailbox does with one more message.

    ``BLOCK``: ``send`` waits for room (backpressure); ``try_send`` raises
    :class:`~cadence.errors.MailboxFullError`.
    ``DROP_OLDEST``: the oldest queued message is discarded (stale video frames).
    ``DROP_NEWEST``: the incoming message is discarded.
    ``REJECT``: ``send`` and ``try_send`` raise ``MailboxFullError``.
    Drops and rejections are counted in the actor's statistics.
    """

    BLOCK = "block"
    DROP_OLDEST = "drop_oldest"
    DROP_NEWEST = "drop_newest"
    REJECT = "reject"


class MailboxSpec(msgspec.Struct, frozen=True):
    """Capacity (>= 1 messages) and overflow policy of one actor's mailbox."""

    capacity: int = 64
    overflow: Overflow = Overflow.BLOCK

    def __post_init__(self) -> None:
        if not isinstance(self.capacity, int) or self.capacity < 1:
            raise InvalidArgumentError(f"mailbox capacity must be an int >= 1, got {self.capacity!r}")
        if not isinstance(self.overflow, Overflow):
            raise InvalidArgumentError(f"mailbox overflow must be an Overflow, got {self.overflow!r}")


class _Stop:
    __slots__ = ()

    def __repr__(self) -> str:
        return "STOP"


#: The sentinel ``get`` returns once the mailbox is closed.
STOP: Any = _Stop()


class Mailbox:
    """A bounded FIFO with one consumer task and any number of producers."""

    __slots__ = (
        "owner", "capacity", "overflow", "on_discard", "closed",
        "peak", "delivered", "dropped", "rejected",
        "_buf", "_getter", "_putters",
    )

    def __init__(self, owner: str, spec: MailboxSpec, on_discard: Any = None) -> None:
        self.owner = owner
        self.capacity = spec.capacity
        self.overflow = spec.overflow
        #: called with each message a drop policy discards (to fail its request)
        self.on_discard = on_discard
        self.closed = False
        self.peak = 0
        self.delivered = 0
        self.dropped = 0
        self.rejected = 0
        self._buf: deque[Any] = deque()
        self._getter: Any = None
        self._putters: OrderedDict[Any, Any] = OrderedDict()

    # -- introspection --------------------------------------------------------
    @property
    def depth(self) -> int:
        return len(self._buf) - (1 if self._buf and self._buf[0] is STOP else 0)

    @property
    def blocked_senders(self) -> int:
        return len(self._putters)

    # -- producers --------------------------------------------------------------
    def _offer(self, item: Any) -> bool:
        """Apply the policy without waiting; False means "full, caller must block"."""
        if self.closed:
            raise ActorStoppedError(f"actor {self.owner!r} has stopped")
        getter = self._getter
        if getter is not None:
            self._getter = None
            reschedule(getter, Value(item))
            return True
        buf = self._buf
        n = len(buf)
        if n < self.capacity:
            buf.append(item)
            if n >= self.peak:
                self.peak = n + 1
            return True
        overflow = self.overflow
        if overflow is Overflow.BLOCK:
            return False
        if overflow is Overflow.DROP_OLDEST:
            old = buf.popleft()
            buf.append(item)
            self._discard(old)
            return True
        if overflow is Overflow.DROP_NEWEST:
            self._discard(item)
            return True
        self.rejected += 1
        raise MailboxFullError(f"mailbox of {self.owner!r} is full ({self.capacity}, policy reject)")

    def _discard(self, item: Any) -> None:
        self.dropped += 1
        if self.on_discard is not None:
            self.on_discard(item)

    def put_nowait(self, item: Any) -> None:
        """Deliver now or apply the drop/reject policy; never waits."""
        if not self._offer(item):
            self.rejected += 1
            raise MailboxFullError(f"mailbox of {self.owner!r} is full ({self.capacity}, policy block)")

    async def put(self, item: Any) -> None:
        """Deliver, waiting for room when the policy is ``BLOCK``. A checkpoint."""
        await checkpoint_if_cancelled()
        if self._offer(item):
            _budget[0] -= 1
            if _budget[0] <= 0:
                _budget[0] = THROUGHPUT
                await cancel_shielded_checkpoint()
            return
        task = current_task()
        self._putters[task] = item

        def abort(_: Any) -> Abort:
            self._putters.pop(task, None)
            return Abort.SUCCEEDED

        await wait_task_rescheduled(abort)

    def screen(self, keep: Any, refused: Any) -> None:
        """Drop every waiting message ``keep(item)`` is false for: one in the buffer goes to
        ``refused(item)``, which returns the error its blocked sender, if it was one, gets
        raised in place of being let in."""
        for item in [m for m in self._buf if m is not STOP and not keep(m)]:
            self._buf.remove(item)
            refused(item)
        for task, item in list(self._putters.items()):
            if not keep(item):
                del self._putters[task]
                reschedule(task, Error(refused(item)))
        self._admit_waiting()  # the room the refused ones left

    def resize(self, capacity: int, overflow: Overflow) -> None:
        """A new capacity and policy; blocked senders move in, in order, while there is room."""
        self.capacity, self.overflow = capacity, overflow
        self._admit_waiting()

    def _admit_waiting(self) -> None:
        """Blocked senders' messages into the buffer, in order, while it has room."""
        buf = self._buf
        while self._putters and len(buf) < self.capacity:
            task, waiting = self._putters.popitem(last=False)
            buf.append(waiting)
            reschedule(task, Value(None))
        self.peak = max(self.peak, len(buf))

    # -- the consumer -------------------------------------------------------------
    async def get(self) -> Any:
        """The next message, or :data:`STOP` once closed. A checkpoint."""
        await checkpoint_if_cancelled()
        buf = self._buf
        if buf:
            item = buf.popleft()
            if self._putters:
                task, waiting = self._putters.popitem(last=False)
                buf.append(waiting)
                reschedule(task, Value(None))
            _budget[0] -= 1
            if _budget[0] <= 0:
                _budget[0] = THROUGHPUT
                await cancel_shielded_checkpoint()
            return item
        self._getter = current_task()

        def abort(_: Any) -> Abort:
            self._getter = None
            return Abort.SUCCEEDED

        return await wait_task_rescheduled(abort)

    def take_ready(self, types: tuple[type, ...], limit: int) -> list[Any]:
        """Up to ``limit`` messages already waiting at the head whose type is one of ``types``,
        in order (never waits; the first of another type ends the run). Blocked senders move in."""
        buf, out = self._buf, list[Any]()
        while buf and len(out) < limit and type(buf[0]) in types:
            out.append(buf.popleft())
            if self._putters:
                task, waiting = self._putters.popitem(last=False)
                buf.append(waiting)
                reschedule(task, Value(None))
        return out

    def close(self) -> list[Any]:
        """Refuse new messages, wake the consumer with STOP, fail blocked senders.

        Returns the messages still queued (never delivered).
        """
        if self.closed:
            return []
        self.closed = True
        left = [m for m in self._buf if m is not STOP]
        self._buf.clear()
        self._buf.append(STOP)
        getter, self._getter = self._getter, None
        if getter is not None:
            self._buf.clear()
            reschedule(getter, Value(STOP))
        putters, self._putters = self._putters, OrderedDict()
        for task, item in putters.items():
            left.append(item)
            reschedule(task, Error(ActorStoppedError(f"actor {self.owner!r} stopped while a send waited")))
        return left

