"""Requests, supervision (restart, one-for-all, window, backoff), crash logs, shutdown."""

from __future__ import annotations

import logging
import math

import pytest
import trio

from cadence.actors import Actor, RestartPolicy, Strategy, open_actor_system
from cadence.errors import (
    ActorError,
    ActorStoppedError,
    EscalationError,
    InvalidArgumentError,
    RequestTimeoutError,
)


class Boom(Exception):
    pass


class Crashy(Actor):
    """Crashes on "crash"; logs its lifecycle into a shared list."""

    def __init__(self, name: str, log: list) -> None:
        self.name, self.log = name, log

    async def on_start(self):
        self.log.append((self.name, "start", trio.current_time()))

    async def on_stop(self):
        self.log.append((self.name, "stop", trio.current_time()))

    async def on_failure(self, exc, msg):
        self.log.append((self.name, "failure", msg))

    async def handle(self, msg):
        if msg == "crash":
            raise Boom("boom")
        if msg == "hang":
            await trio.sleep_forever()
        return msg


def starts(log, name):
    return [t for (n, what, t) in log if n == name and what == "start"]


async def test_request_timeout_is_exact(autojump_clock):
    async with open_actor_system() as system:
        ref = system.spawn(lambda: Crashy("a", []), "a")
        t0 = trio.current_time()
        with pytest.raises(RequestTimeoutError) as info:
            await ref.request("hang", timeout=0.25)
        assert isinstance(info.value, TimeoutError)
        assert trio.current_time() - t0 == pytest.approx(0.25)


async def test_pending_requests_fail_when_target_stops(autojump_clock):
    async with open_actor_system() as system:
        ref = system.spawn(lambda: Crashy("a", []), "a")
        errors: list[BaseException] = []

        async def ask(msg):
            try:
                await ref.request(msg, timeout=100)
            except ActorStoppedError as e:
                errors.append(e)

        async with trio.open_nursery() as n:
            n.start_soon(ask, "hang")    # in flight
            await trio.sleep(0.01)
            n.start_soon(ask, "queued")  # waiting in the mailbox
            await trio.sleep(0.01)
            await ref.stop(timeout=0.5)
        assert len(errors) == 2
        assert trio.current_time() < 1
        with pytest.raises(ActorStoppedError):
            await ref.request("late", timeout=1)
        with pytest.raises(ActorStoppedError):
            system.ref("a")


async def test_crashed_request_raises_actor_error_and_restarts(autojump_clock):
    log: list = []
    async with open_actor_system() as system:
        ref = system.spawn(lambda: Crashy("a", log), "a")
        with pytest.raises(ActorError, match="crashed handling str") as info:
            await ref.request("crash", timeout=1)
        assert isinstance(info.value.__cause__, Boom)
        assert await ref.request("ok", timeout=1) == "ok"  # same ref after the restart
        assert ref.statistics().restarts == 1
        assert ("a", "failure", "crash") in log
        assert len(starts(log, "a")) == 2


class Picky(Actor):
    """Sums ints; refuses negative ones (InvalidArgumentError) before it changes anything."""

    refuses = (InvalidArgumentError,)

    def __init__(self) -> None:
        self.total = 0

    async def handle(self, msg: object) -> int:
        if msg == "crash":
            raise Boom("a bug, not a bad message")
        assert isinstance(msg, int)
        if msg < 0:
            raise InvalidArgumentError(f"negative: {msg}")
        self.total += msg
        return self.total


async def test_a_refused_message_fails_its_request_and_the_actor_keeps_its_state(autojump_clock, caplog):
    caplog.set_level(logging.WARNING, logger="cadence.actors")
    async with open_actor_system() as system:
        ref = system.spawn(Picky, "picky")
        assert await ref.request(2, timeout=1) == 2
        with pytest.raises(InvalidArgumentError, match="negative: -1"):
            await ref.request(-1, timeout=1)
        await ref.send(-5)  # a sent one is logged and counted
        assert await ref.request(3, timeout=1) == 5  # nothing lost, no restart
        st = ref.statistics()
        assert (st.refused, st.restarts) == (2, 0)
        assert any("refused int" in r.getMessage() and "negative: -5" in r.getMessage() for r in caplog.records)
        # any other exception is still a crash: restarted, state gone
        with pytest.raises(ActorError):
            await ref.request("crash", timeout=1)
        assert await ref.request(1, timeout=1) == 1
        assert ref.statistics().restarts == 1


async def test_crash_is_logged_with_name_type_traceback(autojump_clock, caplog):
    caplog.set_level(logging.ERROR, logger="cadence.actors")
    async with open_actor_system() as system:
        ref = system.spawn(lambda: Crashy("a", []), "worker-7")
        await ref.send("crash")
        await trio.sleep(0.01)
    recs = [r for r in caplog.records if r.name == "cadence.actors" and "crashed" in r.getMessage()]
    assert len(recs) == 1
    rec = recs[0]
    assert "'worker-7'" in rec.getMessage() and "str" in rec.getMessage()
    assert rec.actor == "worker-7" and rec.message_type == "str"
    assert rec.exc_info is not None and rec.exc_info[0] is Boom
    assert "raise Boom" in caplog.text  # the traceback is in the output


async def test_one_for_one_restarts_only_the_crashed(autojump_clock):
    log: list = []
    async with open_actor_system(policy=RestartPolicy(Strategy.ONE_FOR_ONE)) as system:
        a = system.spawn(lambda: Crashy("a", log), "a")
        system.spawn(lambda: Crashy("b", log), "b")
        await trio.sleep(0.01)
        await a.send("crash")
        await trio.sleep(0.01)
        assert len(starts(log, "a")) == 2 and len(starts(log, "b")) == 1


async def test_one_for_all_restarts_siblings(autojump_clock):
    log: list = []
    policy = RestartPolicy(Strategy.ONE_FOR_ALL, backoff_s=0.5)
    async with open_actor_system() as system:
        sup = system.spawn_supervisor("team", policy)
        a = sup.spawn(lambda: Crashy("a", log), "a")
        b = sup.spawn(lambda: Crashy("b", log), "b")
        other = system.spawn(lambda: Crashy("other", log), "other")
        await trio.sleep(0.01)
        await a.send("crash")
        await trio.sleep(1.0)
        assert len(starts(log, "a")) == 2 and len(starts(log, "b")) == 2
        assert len(starts(log, "other")) == 1
        assert ("b", "stop", pytest.approx(0.01)) in log   # b was stopped at the crash ...
        assert starts(log, "b")[1] == pytest.approx(0.51)  # ... and restarted after the backoff
        assert a.statistics().restarts == b.statistics().restarts == 1
        assert other.statistics().restarts == 0


async def test_backoff_is_exponential_and_exact(autojump_clock):
    log: list = []
    policy = RestartPolicy(max_restarts=5, within_s=100, backoff_s=0.1, backoff_factor=2, backoff_max_s=0.3)
    async with open_actor_system(policy=policy) as system:
        ref = system.spawn(lambda: Crashy("a", log), "a")
        await trio.sleep(0)
        for _ in range(4):
            await ref.send("crash")
            await trio.sleep(1.0)
        t = starts(log, "a")
        # crash k (k = 0..3) happens at k s; restart k follows after its backoff
        assert t[0] == 0
        assert [round(x - k, 9) for k, x in enumerate(t[1:])] == [0.1, 0.2, 0.3, 0.3]


async def test_restart_window_escalates_to_system_run(autojump_clock):
    log: list = []
    policy = RestartPolicy(max_restarts=2, within_s=10)
    with pytest.raises(EscalationError, match="gives up") as info:
        async with open_actor_system(policy=policy) as system:
            ref = system.spawn(lambda: Crashy("a", log), "a")
            for _ in range(3):
                await ref.send("crash")
                await trio.sleep(1)
            await trio.sleep(100)  # cancelled by the escalation
            pytest.fail("escalation did not cancel the system")
    assert isinstance(info.value.__cause__, Boom)
    assert len(starts(log, "a")) == 3
    assert trio.current_time() == pytest.approx(2, abs=0.01)


async def test_crashes_outside_the_window_do_not_escalate(autojump_clock):
    policy = RestartPolicy(max_restarts=2, within_s=1)
    async with open_actor_system(policy=policy) as system:
        ref = system.spawn(lambda: Crashy("a", []), "a")
        for _ in range(5):
            await ref.send("crash")
            await trio.sleep(2)
        assert ref.statistics().restarts == 5


async def test_child_supervisor_escalation_restarts_its_subtree(autojump_clock):
    log: list = []
    async with open_actor_system(policy=RestartPolicy(max_restarts=5)) as system:
        sub = system.spawn_supervisor("sub", RestartPolicy(max_restarts=0))
        a = sub.spawn(lambda: Crashy("a", log), "a")
        sub.spawn(lambda: Crashy("b", log), "b")
        await trio.sleep(0.01)
        await a.send("crash")       # sub gives up at once; the root restarts sub
        await trio.sleep(0.01)
        assert len(starts(log, "a")) == 2 and len(starts(log, "b")) == 2
        assert sub.restarts == 1
        assert await a.request("still here", timeout=1) == "still here"


async def test_clean_bounded_shutdown_with_stuck_actor(autojump_clock):
    log: list = []
    async with open_actor_system(shutdown_timeout=0.5) as system:
        stuck = system.spawn(lambda: Crashy("stuck", log), "stuck")
        idle = system.spawn(lambda: Crashy("idle", log), "idle")
        await stuck.send("hang")
        await trio.sleep(0.01)
        t0 = trio.current_time()
    assert trio.current_time() - t0 == pytest.approx(0.5)
    assert ("stuck", "stop", pytest.approx(t0 + 0.5)) in log
    assert ("idle", "stop", pytest.approx(t0)) in log
    assert stuck.stopped and idle.stopped


class StopsItself(Actor):
    """Awaits the stop of itself (or of its supervisor) inside its handler."""

    def __init__(self, log: list, target: str = "self") -> None:
        self.log, self.target = log, target

    async def handle(self, msg):
        if self.target == "self":
            await self.ref.stop(timeout=0.5)
        else:
            await self.system.supervisor(self.target).stop(timeout=0.5)
        self.log.append(("handler returned", trio.current_time()))
        return "bye"

    async def on_stop(self):
        self.log.append(("stop", trio.current_time()))


@pytest.mark.parametrize("target", ["self", "sup"])
async def test_stopping_itself_from_its_handler_does_not_deadlock(autojump_clock, target):
    # Waiting for its own end from inside its handler used to wait forever
    # (shielded), so the actor never stopped and shutdown hung.
    log: list = []
    with trio.fail_after(5):
        async with open_actor_system(shutdown_timeout=0.5) as system:
            sup = system.spawn_supervisor("sup")
            ref = sup.spawn(lambda: StopsItself(log, target), "me")
            t0 = trio.current_time()
            assert await ref.request("go", timeout=1) == "bye"
            await trio.sleep(0.01)
            assert ref.stopped
    assert log == [("handler returned", t0), ("stop", t0)]


@pytest.mark.parametrize("bad", [math.nan, -1.0, "1", None])
async def test_bad_timeouts_are_invalid_argument_errors(autojump_clock, bad):
    async with open_actor_system() as system:
        ref = system.spawn(lambda: Crashy("a", []), "a")
        with pytest.raises(InvalidArgumentError, match="timeout"):
            await ref.request("x", timeout=bad)
        with pytest.raises(InvalidArgumentError, match="timeout"):
            await ref.stop(timeout=bad)  # NaN used to mean "no deadline at all"
        with pytest.raises(InvalidArgumentError, match="timeout"):
            ref.stop_nowait(timeout=bad)
        with pytest.raises(InvalidArgumentError, match="timeout"):
            await system.spawn_supervisor("sup").stop(timeout=bad)
        with pytest.raises(InvalidArgumentError, match="timeout"):
            await system.shutdown(timeout=bad)
        assert not ref.stopped
        assert await ref.request("x", timeout=1) == "x"
