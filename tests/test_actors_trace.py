"""Hop tracing to Chrome/Perfetto JSON, media clocks, the stall watchdog."""

from __future__ import annotations

import json
import logging
import time

import pytest
import trio

from cadence.actors import Actor, ActorRef, MediaClock, Tracer, Watchdog, deterministic_clock, open_actor_system


class Forward(Actor):
    def __init__(self, to: ActorRef | None, cost_s: float = 0.0) -> None:
        self.to, self.cost_s = to, cost_s

    async def handle(self, msg):
        await trio.sleep(self.cost_s)
        if self.to is not None:
            await self.to.send(msg)


class Ping:
    pass


async def test_trace_json_is_valid_and_ordered(autojump_clock, tmp_path):
    tracer = Tracer()
    async with open_actor_system(tracer=tracer) as system:
        c = system.spawn(lambda: Forward(None, 0.003), "c")
        b = system.spawn(lambda: Forward(c, 0.002), "b")
        a = system.spawn(lambda: Forward(b, 0.001), "a")
        await a.send(Ping())
        await trio.sleep(1)
    hops = tracer.hops()
    assert [(h.sender, h.receiver, h.message_type) for h in hops] == [
        ("external", "a", "Ping"), ("a", "b", "Ping"), ("b", "c", "Ping")]
    for h in hops:
        assert h.enqueue_ns <= h.dequeue_ns <= h.end_ns
    assert [h.end_ns - h.dequeue_ns for h in hops] == [1_000_000, 2_000_000, 3_000_000]
    path = tmp_path / "trace.json"
    tracer.write(path)
    doc = json.loads(path.read_text())
    events = doc["traceEvents"]
    names = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names == {"external", "a", "b", "c"}
    body = [e for e in events if e["ph"] != "M"]
    assert [e["ts"] for e in body] == sorted(e["ts"] for e in body)
    for e in body:
        assert {"name", "ph", "ts", "pid", "tid"} <= e.keys()
    slices = [e for e in body if e["ph"] == "X"]
    assert [e["dur"] for e in slices] == [1000.0, 2000.0, 3000.0]  # µs
    starts = {e["id"]: e for e in body if e["ph"] == "s"}
    ends = {e["id"]: e for e in body if e["ph"] == "f"}
    assert starts.keys() == ends.keys() == {1, 2, 3}
    for i, x in zip((1, 2, 3), slices):
        assert ends[i]["bp"] == "e" and ends[i]["tid"] == x["tid"] and ends[i]["ts"] == x["ts"]
        assert starts[i]["ts"] <= ends[i]["ts"]
    # the flow from a to b leaves a's track inside a's slice
    a_slice = slices[0]
    assert starts[2]["tid"] == a_slice["tid"]
    assert a_slice["ts"] <= starts[2]["ts"] <= a_slice["ts"] + a_slice["dur"]


async def test_tracing_off_records_nothing(autojump_clock):
    tracer = Tracer()
    async with open_actor_system() as system:
        a = system.spawn(lambda: Forward(None), "a")
        await a.send(Ping())
        assert a._cell.tracer is None
    assert len(tracer) == 0


async def test_media_clock_follows_trio_clock(autojump_clock):
    async with open_actor_system() as system:
        clock = system.media_clock("conv-1")
        assert system.media_clock("conv-1") is clock
        assert system.media_clock("conv-2") is not clock
        assert clock.now_ns() == 0
        await trio.sleep(0.02)
        assert clock.now_ns() == 20_000_000
        await clock.sleep_until_ns(1_000_000_000)
        assert clock.now_ns() == 1_000_000_000
        await clock.sleep_until_ns(10)  # the past: returns at once
        assert clock.now_ns() == 1_000_000_000


def test_deterministic_clock_runs_long_sleeps_instantly():
    async def main() -> int:
        clock = MediaClock("c")
        await trio.sleep(3600)
        return clock.now_ns()

    t0 = time.monotonic()
    assert trio.run(main, clock=deterministic_clock()) == 3600 * 10**9
    assert time.monotonic() - t0 < 1


class Sleeper(Actor):
    async def handle(self, msg):
        time.sleep(0.05)  # blocks the loop: what the watchdog is for


async def test_watchdog_names_the_stalling_actor(caplog):
    caplog.set_level(logging.WARNING, logger="cadence.actors")
    dog = Watchdog(threshold_s=0.02)
    async with open_actor_system(watchdog=dog) as system:
        system.spawn(lambda: Forward(None), "innocent")
        ref = system.spawn(Sleeper, "sleepy")
        await trio.sleep(0.03)
        assert dog.stall_count == 0
        await ref.send(Ping())
        await trio.sleep(0.03)
    assert dog.stall_count == 1
    assert [s.actor for s in dog.stalls] == ["sleepy"]
    assert "test_actors_trace.py" in dog.stalls[0].where
    assert 0.02 < dog.stalls[0].blocked_s < 0.5
    assert "blocked > 20 ms by actor sleepy" in caplog.text


def test_watchdog_rejects_bad_threshold():
    with pytest.raises(ValueError):
        Watchdog(threshold_s=0)
