"""The runtime's limits hold at their edges: an on_stop that hangs cannot hold up a shutdown or an
escalation, long restart runs keep a finite backoff, a publish reaches every subscriber that takes
the type, and the codecs name every bad payload at the edge."""

from __future__ import annotations

import numpy as np
import pytest
import trio

from cadence.actors import Actor, RestartPolicy, Strategy, open_actor_system
from cadence.errors import EscalationError, InvalidArgumentError, InvalidAudioError, MessageDecodeError


class _Crasher(Actor):
    async def handle(self, msg: object) -> None:
        raise RuntimeError("boom")


class _SlowStop(Actor):
    async def handle(self, msg: object) -> None:
        return None

    async def on_stop(self) -> None:
        await trio.sleep(60)


async def test_a_hanging_on_stop_does_not_hold_up_a_restart_or_the_shutdown() -> None:
    t0 = trio.current_time()
    with trio.fail_after(10):
        async with open_actor_system(shutdown_timeout=0.3,
                                     policy=RestartPolicy(strategy=Strategy.ONE_FOR_ALL, max_restarts=10)) as s:
            s.spawn(_SlowStop, "slow")
            crasher = s.spawn(_Crasher, "crasher")
            await trio.sleep(0.05)
            await crasher.send(1)  # restarts both: slow's on_stop runs with no stop asked
            await trio.sleep(0.1)
    assert trio.current_time() - t0 < 2.0  # on_stop bounded by the stop timeout (was 60 s)


async def test_a_hanging_on_stop_does_not_hold_up_an_escalation() -> None:
    t0 = trio.current_time()
    with trio.fail_after(10), pytest.raises(EscalationError, match="crasher"):
        async with open_actor_system(shutdown_timeout=0.3, policy=RestartPolicy(max_restarts=0)) as s:
            s.spawn(_SlowStop, "slow")
            crasher = s.spawn(_Crasher, "crasher")
            await trio.sleep(0.05)
            await crasher.send(1)
            await trio.sleep(30)
    assert trio.current_time() - t0 < 2.0


def test_the_backoff_stays_finite_over_long_restart_runs() -> None:
    assert RestartPolicy(max_restarts=5000, within_s=10.0).delay(5000) == 0.0  # the default: no backoff
    policy = RestartPolicy(max_restarts=5000, within_s=10.0, backoff_s=0.1)
    assert policy.delay(5000) == policy.backoff_max_s  # 2.0 ** 4999 overflowed a float
    assert policy.delay(1) == 0.1
    assert [RestartPolicy(backoff_s=0.1, backoff_factor=2.0, backoff_max_s=1.0).delay(n) for n in (1, 2, 3, 4, 5)] \
        == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0])


class _Ints(Actor):
    accepts = (int,)
    got: list[object] = []

    async def handle(self, msg: object) -> None:
        self.got.append(msg)


class _Any(Actor):
    got: list[object] = []

    async def handle(self, msg: object) -> None:
        self.got.append(msg)


async def test_a_publish_reaches_every_subscriber_that_takes_the_type() -> None:
    _Ints.got, _Any.got = [], []
    async with open_actor_system() as s:
        a = s.spawn(_Ints, "ints")  # the class: its accepts are the cell's
        b = s.spawn(_Any, "any")
        with pytest.raises(InvalidArgumentError, match="accepts int: it can take no str"):
            s.subscribe(a, str)
        s.subscribe(a, object)  # a base class: it gets the ints among them
        s.subscribe(b, object)
        assert await s.publish("x") == 1  # was: InvalidArgumentError, and b got nothing
        assert await s.publish(7) == 2
        await trio.sleep(0.05)
    assert _Ints.got == [7] and _Any.got == ["x", 7]


def test_payloads_and_fields_of_the_wrong_type_are_named_at_the_edge() -> None:
    from cadence.messages import SpeechChunk, StartConversation, TextDelta, VideoFrame, decode, encode, encode_json

    with pytest.raises(InvalidAudioError, match="pcm must be bytes"):
        SpeechChunk(conversation_id="c", ts_ns=0, epoch=1, seq=0, pcm=np.zeros(1600, np.float32), rate=16000)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="data must be bytes"):
        VideoFrame(conversation_id="c", ts_ns=0, seq=0, width=1, height=1, format="rgb24", data=[1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="does not survive JSON|cannot be written as JSON"):
        encode_json(TextDelta("c", 0, epoch=1, text=5))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="does not survive JSON|cannot be written as JSON"):
        encode_json(StartConversation("c", 0, persona=b"x"))  # type: ignore[arg-type]
    ok = TextDelta("c", 0, epoch=1, text="hello")
    assert encode_json(ok)
    strided = memoryview(bytes(encode(ok)) * 2)[::2]
    with pytest.raises(MessageDecodeError):
        decode(strided)


class _Echo(Actor):
    async def handle(self, msg: object) -> object:
        return msg


async def test_an_actor_whose_supervisor_waits_to_restart_stops_at_once() -> None:
    from cadence.errors import ActorStoppedError

    async with open_actor_system(policy=RestartPolicy(backoff_s=3.0, backoff_max_s=3.0), shutdown_timeout=0.2) as s:
        sub = s.spawn_supervisor("sub", RestartPolicy(max_restarts=0))
        crasher = sub.spawn(_Crasher, "c")
        echo = sub.spawn(_Echo, "e")
        await trio.sleep(0.01)
        await crasher.send(1)  # sub escalates; the root waits 3 s before restarting it
        await trio.sleep(0.05)
        t0 = trio.current_time()
        await echo.stop(timeout=0.1)
        assert trio.current_time() - t0 < 0.5  # was: the 3 s backoff
        with pytest.raises(ActorStoppedError):
            await echo.request("x", timeout=0.5)
