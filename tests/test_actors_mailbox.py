"""Mailbox overflow policies, statistics, typed mailboxes, pub/sub fan-out."""

from __future__ import annotations

import pytest
import trio

import cadence.actors as actors
from cadence.actors import Actor, MailboxSpec, Overflow, open_actor_system
from cadence.errors import ActorStoppedError, EscalationError, InvalidArgumentError, MailboxFullError


class Recorder(Actor):
    """Records messages; waits on ``gate`` before handling anything."""

    def __init__(self, seen: list, gate: trio.Event | None = None) -> None:
        self.seen = seen
        self.gate = gate

    async def handle(self, msg):
        if self.gate is not None:
            await self.gate.wait()
        self.seen.append(msg)
        return msg


def test_public_surface():
    assert set(actors.__all__) == {n for n in dir(actors) if not n.startswith("_")} - {"annotations"}
    for name in actors.__all__:
        assert getattr(actors, name).__module__.startswith("cadence.actors")


@pytest.mark.parametrize(("overflow", "expected", "dropped"), [
    (Overflow.DROP_OLDEST, [0, 3, 4], 2),   # 0 is in flight, then capacity 2 keeps the newest
    (Overflow.DROP_NEWEST, [0, 1, 2], 2),
])
async def test_drop_policies(autojump_clock, overflow, expected, dropped):
    seen: list[int] = []
    gate = trio.Event()
    async with open_actor_system() as system:
        ref = system.spawn(lambda: Recorder(seen, gate), "r", mailbox=MailboxSpec(2, overflow))
        await ref.send(0)
        await trio.sleep(0.01)  # the actor takes 0 and blocks on the gate
        for i in range(1, 5):
            await ref.send(i)  # never blocks under a drop policy
        st = ref.statistics()
        assert (st.depth, st.peak_depth, st.dropped) == (2, 2, dropped)
        gate.set()
        await trio.sleep(0.01)
        assert seen == expected
        assert ref.statistics().delivered == 3


async def test_block_policy_is_backpressure(autojump_clock):
    seen: list[int] = []
    gate = trio.Event()
    async with open_actor_system() as system:
        ref = system.spawn(lambda: Recorder(seen, gate), "r", mailbox=MailboxSpec(1, Overflow.BLOCK))
        await ref.send(0)
        await trio.sleep(0.01)
        await ref.send(1)  # fills the mailbox
        with pytest.raises(MailboxFullError):
            ref.try_send(2)
        done = trio.Event()

        async def blocked_sender():
            await ref.send(2)
            done.set()

        async with trio.open_nursery() as n:
            n.start_soon(blocked_sender)
            await trio.sleep(1.0)
            assert not done.is_set()
            st = ref.statistics()
            assert (st.blocked_senders, st.depth, st.rejected, st.dropped) == (1, 1, 1, 0)
            gate.set()
        assert done.is_set()
        await trio.sleep(0.01)
        assert seen == [0, 1, 2]
        assert ref.statistics().blocked_senders == 0


async def test_reject_policy(autojump_clock):
    gate = trio.Event()
    async with open_actor_system() as system:
        ref = system.spawn(lambda: Recorder([], gate), "r", mailbox=MailboxSpec(1, Overflow.REJECT))
        await ref.send(0)
        await trio.sleep(0.01)
        await ref.send(1)
        with pytest.raises(MailboxFullError):
            await ref.send(2)
        with pytest.raises(MailboxFullError):
            ref.try_send(3)
        assert ref.statistics().rejected == 2
        gate.set()


async def test_dropped_request_fails_with_mailbox_full(autojump_clock):
    gate = trio.Event()
    async with open_actor_system() as system:
        ref = system.spawn(lambda: Recorder([], gate), "r", mailbox=MailboxSpec(1, Overflow.DROP_OLDEST))
        await ref.send("busy")
        await trio.sleep(0.01)
        async with trio.open_nursery() as n:
            errors: list[BaseException] = []

            async def ask():
                try:
                    await ref.request("q", timeout=5)
                except MailboxFullError as e:
                    errors.append(e)

            n.start_soon(ask)
            await trio.sleep(0.01)
            await ref.send("evicts the request")
        assert len(errors) == 1 and trio.current_time() < 1
        gate.set()


async def test_typed_mailbox_rejects_other_types(autojump_clock):
    class Ints(Actor):
        accepts = (int,)

        async def handle(self, msg):
            return msg

    async with open_actor_system() as system:
        by_class = system.spawn(Ints, "ints")
        by_arg = system.spawn(lambda: Recorder([]), "strs", accepts=(str,))
        with pytest.raises(InvalidArgumentError, match="accepts int"):
            await by_class.send("text")
        with pytest.raises(InvalidArgumentError, match="accepts str"):
            by_arg.try_send(1)
        assert await by_class.request(3, timeout=1) == 3
        assert await by_arg.request("x", timeout=1) == "x"


async def test_a_lambda_or_partial_factory_keeps_the_class_mailbox_and_accepts(autojump_clock):
    """The class attributes hold however the actor is built: read through a partial at
    spawn, from the first instance for a lambda. A message queued before that instance
    existed that the class does not take is refused (its requester gets the error) and
    the actor goes on, with no crash and no restart."""
    import functools

    class Ints(Actor):
        mailbox = MailboxSpec(7, Overflow.REJECT)
        accepts = (int,)

        def __init__(self, add: int) -> None:
            self.add = add

        async def handle(self, msg):
            return msg + self.add

    async with open_actor_system() as system:
        by_partial = system.spawn(functools.partial(Ints, 1), "partial")
        assert by_partial.statistics().capacity == 7
        with pytest.raises(InvalidArgumentError, match="accepts int"):
            by_partial.try_send("text")
        by_lambda = system.spawn(lambda: Ints(2), "lambda")
        by_lambda.try_send("queued before the first instance")  # nothing could screen it yet
        assert await by_lambda.request(3, timeout=1) == 5
        assert by_lambda.statistics().capacity == 7
        with pytest.raises(InvalidArgumentError, match="accepts int"):
            await by_lambda.send("text")
        stats = by_lambda.statistics()
        assert (stats.refused, stats.restarts) == (1, 0)

    async with open_actor_system() as system:
        asked = system.spawn(lambda: Ints(2), "asked")
        with pytest.raises(InvalidArgumentError, match="accepts int"):
            await asked.request("a request queued first", timeout=1)
        assert await asked.request(1, timeout=1) == 3
        assert asked.statistics().restarts == 0


class _SlowInts(Actor):
    """Takes ints only and starts slowly: messages wait before its class is known."""

    accepts = (int,)

    def __init__(self, seen: list) -> None:
        self.seen = seen

    async def on_start(self) -> None:
        await trio.sleep(0.05)

    async def handle(self, msg):
        self.seen.append(msg)


class _SlowInts256(_SlowInts):
    mailbox = MailboxSpec(256, Overflow.BLOCK)


async def test_adopting_a_lambda_actors_class_screens_what_waits_and_keeps_the_order(autojump_clock):
    """Senders blocked on the default 64 slots before the first instance exists: the one whose
    message the class does not take gets the error ``send`` would have raised, the others move
    into the class's larger mailbox ahead of later sends, and a subscription the class rules
    out is dropped instead of raising at the publisher."""

    seen: list = []
    errors: list = []
    async with open_actor_system() as system:
        ref = system.spawn(lambda: _SlowInts256(seen), "ints")
        system.subscribe(ref, str)  # nothing to check it against yet

        async def first() -> None:
            for i in range(64):
                ref.try_send(i)
            await ref.send(64)  # blocked
            try:
                await ref.send("bad")  # blocked, then refused
            except InvalidArgumentError as e:
                errors.append(e)

        async def second() -> None:
            await trio.sleep(0.01)
            await ref.send(1000)

        async with trio.open_nursery() as n:
            n.start_soon(first)
            await trio.sleep(0.001)
            n.start_soon(second)
        assert await system.publish("text") == 0  # the dropped subscription
        await trio.sleep(0.2)
        stats = ref.statistics()
    assert seen == [*range(65), 1000] and len(errors) == 1 and "accepts int" in str(errors[0])
    assert (stats.restarts, stats.capacity) == (0, 256)


async def test_screening_frees_room_for_blocked_senders_and_publish_goes_on(autojump_clock):
    """With an explicit mailbox nothing is resized: the room the refused messages leave must
    take the blocked sender's message (it waited forever). A publish blocked on that actor
    meanwhile is refused for it alone; the next subscriber still gets the message."""

    ints: list = []
    strs: list = []
    async with open_actor_system() as system:
        ref = system.spawn(lambda: _SlowInts(ints), "ints", mailbox=MailboxSpec(2, Overflow.BLOCK))
        other = system.spawn(lambda: Recorder(strs), "strs")
        system.subscribe(ref, str)
        system.subscribe(other, str)
        ref.try_send("a")
        ref.try_send("b")
        sent: list = []
        with trio.fail_after(5):  # the sender waited forever
            async with trio.open_nursery() as n:
                async def send() -> None:
                    await ref.send(42)

                async def publish() -> None:
                    sent.append(await system.publish("hello"))

                n.start_soon(send)
                n.start_soon(publish)
        await trio.sleep(0.1)
    assert ints == [42] and strs == ["hello"] and sent == [1]


async def test_a_malformed_accepts_under_a_lambda_fails_every_start(autojump_clock):
    class Bad(Actor):
        accepts = (int, "str")

        async def handle(self, msg):
            return msg

    with pytest.raises(EscalationError, match="accepts must be a non-empty tuple of types"):
        async with open_actor_system() as system:
            system.spawn(lambda: Bad(), "bad")
            await trio.sleep(30)


async def test_pubsub_fans_out_by_type_with_each_policy(autojump_clock):
    class Base:
        pass

    class Sub(Base):
        pass

    a, b, c = [], [], []
    gate = trio.Event()
    async with open_actor_system() as system:
        ra = system.spawn(lambda: Recorder(a), "a")
        rb = system.spawn(lambda: Recorder(b), "b")
        rc = system.spawn(lambda: Recorder(c, gate), "c", mailbox=MailboxSpec(1, Overflow.DROP_NEWEST))
        system.subscribe(ra, Base)
        system.subscribe(rb, Sub)
        system.subscribe(rc, Sub)
        m1, m2, m3 = Sub(), Base(), Sub()
        assert await system.publish(m1) == 3
        assert await system.publish(m2) == 1
        await trio.sleep(0.01)
        assert await system.publish(m3) == 3   # c is busy with m1: m3 is queued
        assert await system.publish(Sub()) == 3  # ... and this one dropped (drop newest)
        gate.set()
        await trio.sleep(0.01)
        assert a[:3] == [m1, m2, m3] and len(a) == 4
        assert b[:2] == [m1, m3]
        assert c == [m1, m3]
        assert rc.statistics().dropped == 1
        await rb.stop()
        assert await system.publish(Sub()) == 2  # stopped subscribers are dropped
        with pytest.raises(ActorStoppedError):
            await rb.send(Sub())


async def test_tight_send_loop_still_yields_to_other_tasks(autojump_clock):
    from cadence.actors._mailbox import THROUGHPUT

    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await trio.sleep(0)

    gate = trio.Event()
    async with open_actor_system() as system:
        ref = system.spawn(lambda: Recorder([], gate), "r", mailbox=MailboxSpec(4, Overflow.DROP_OLDEST))
        async with trio.open_nursery() as n:
            n.start_soon(ticker)
            await trio.sleep(0)
            start = ticks
            for i in range(50 * THROUGHPUT):
                await ref.send(i)  # never waits (drop policy), yet yields every THROUGHPUT sends
            assert ticks - start >= 45
            n.cancel_scope.cancel()
        gate.set()


def test_actor_without_handle_cannot_be_instantiated() -> None:
    from cadence.actors import Actor

    class NoHandle(Actor):
        pass

    with pytest.raises(TypeError, match="handle"):
        NoHandle()  # type: ignore[abstract]
