"""An actor that fell behind takes the messages that waited and does their work once
(``Actor.coalesce``: ``take`` each, then one ``flush``)."""

from __future__ import annotations

import pytest
import trio

from cadence.actors import Actor, open_actor_system
from cadence.errors import InvalidArgumentError


class Batcher(Actor):
    """Takes ints (refusing negatives), flushes their sum; the first flush waits on ``gate``."""

    coalesce = (int,)
    coalesce_max = 4
    refuses = (InvalidArgumentError,)

    def __init__(self, log: list, gate: trio.Event) -> None:
        self.log, self.gate, self.taken = log, gate, []

    async def take(self, msg: int) -> None:
        if msg < 0:
            raise InvalidArgumentError(f"negative: {msg}")
        self.taken.append(msg)

    async def flush(self) -> None:
        await self.gate.wait()
        self.log.append(("flush", tuple(self.taken)))
        self.taken = []

    async def handle(self, msg: object) -> object:
        if isinstance(msg, int):
            await self.take(msg)
            await self.flush()
            return None
        self.log.append(("handle", msg))
        return msg


async def test_waiting_messages_are_taken_together_in_order_and_a_bad_one_alone(autojump_clock) -> None:
    log: list = []
    gate = trio.Event()
    replies: list = []
    async with open_actor_system() as system:
        ref = system.spawn(lambda: Batcher(log, gate), "b")
        await ref.send(1)  # handled alone (nothing waits): its flush holds the actor at the gate
        await trio.sleep(0.01)
        for m in (2, -3, 4, 5, 6, 7):  # wait behind it; -3 is refused alone, the rest taken 3 at a time
            await ref.send(m)
        async with trio.open_nursery() as nursery:
            async def ask() -> None:  # a request ends a run of ints: handled after their flush
                replies.append(await ref.request("after", timeout=5.0))
            nursery.start_soon(ask)
            await trio.sleep(0.01)
            gate.set()
        stats = ref.statistics()
    assert log == [("flush", (1,)), ("flush", (2, 4, 5)), ("flush", (6, 7)), ("handle", "after")]
    assert replies == ["after"]
    assert stats.refused == 1 and stats.delivered == 8


@pytest.mark.parametrize("types", [(), (int,)], ids=["no coalesce", "coalesce without take and flush"])
async def test_an_actor_without_its_own_take_and_flush_handles_one_message_at_a_time(autojump_clock, types) -> None:
    """Without ``coalesce``, or naming types but keeping the default ``take`` (which handles the
    message at once) and ``flush`` (nothing left to do), each message is handled alone, in order."""
    seen: list = []
    gate = trio.Event()

    class One(Actor):
        coalesce = types

        async def handle(self, msg: object) -> None:
            await gate.wait()
            seen.append(msg)

    async with open_actor_system() as system:
        ref = system.spawn(One, "one")
        for m in range(5):
            await ref.send(m)
        await trio.sleep(0.01)
        gate.set()
        await trio.sleep(0.01)
    assert seen == [0, 1, 2, 3, 4]


async def test_a_take_that_crashes_loses_only_its_own_message(autojump_clock) -> None:
    """The messages taken before it are flushed; the ones after it stay in the mailbox for the
    restarted actor."""
    log: list = []
    gate = trio.Event()

    class Crashy(Batcher):
        async def take(self, msg: int) -> None:
            if msg == 3:
                raise RuntimeError("boom")
            await super().take(msg)

    async with open_actor_system() as system:
        ref = system.spawn(lambda: Crashy(log, gate), "c")
        await ref.send(0)
        await trio.sleep(0.01)
        for m in (1, 2, 3, 5, 6):
            await ref.send(m)
        gate.set()
        await trio.sleep(0.1)
        await ref.send(7)
        await trio.sleep(0.1)
        stats = ref.statistics()
    assert log == [("flush", (0,)), ("flush", (1, 2)), ("flush", (5, 6)), ("flush", (7,))]
    assert stats.restarts == 1
