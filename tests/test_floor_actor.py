"""The Floor actor in a real actor system: frames in, floor events out."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import trio

from cadence.actors import Actor, MailboxSpec, Overflow, open_actor_system
from cadence.errors import InvalidAudioError, InvalidArgumentError
from cadence.floor.model import default_weights_path
from cadence.messages import AudioFrame, Commit, FloorState, Retract, SetPatience, Speculate

from floor_speech import ESPEAK, frames_of, render

pytestmark = [
    pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed"),
    pytest.mark.skipif(not default_weights_path().exists(), reason="no trained weights"),
]
CID = "conv-1"


class Collector(Actor):
    mailbox = MailboxSpec(capacity=100_000, overflow=Overflow.BLOCK)

    def __init__(self, sink: list) -> None:
        self.sink = sink

    async def handle(self, msg: object) -> None:
        self.sink.append(msg)


def _frames(audio: np.ndarray, t0_ns: int = 1_000_000_000) -> list[AudioFrame]:
    return [AudioFrame.from_samples(CID, t0_ns + i * 10_000_000, i, f) for i, f in enumerate(frames_of(audio))]


async def test_floor_actor_publishes_commit_near_turn_end() -> None:
    from cadence.floor.actor import FloorActor

    audio, spans = render([("I would like a cup of coffee.", 2.0)])
    got: list = []
    async with open_actor_system(shutdown_timeout=2.0) as system:
        floor = system.spawn(lambda: FloorActor(CID, patience=0.5), "floor")
        sink = system.spawn(lambda: Collector(got), "sink")
        for t in (Commit, Speculate, Retract, FloorState):
            system.subscribe(sink, t)
        for fr in _frames(audio):
            await floor.send(fr)
        await floor.request(SetPatience(CID, 0, 0.6), timeout=10.0)  # flushes the mailbox
        await trio.sleep(0.05)
    commits = [m for m in got if isinstance(m, Commit)]
    states = [m for m in got if isinstance(m, FloorState)]
    assert len(states) == len(frames_of(audio))
    assert states == sorted(states, key=lambda s: s.ts_ns)
    assert len(commits) == 1
    end_ns = 1_000_000_000 + int(spans[0][1] * 1e9)
    assert -100_000_000 <= commits[0].ts_ns - end_ns <= 1_000_000_000
    epochs = [m.epoch for m in got if isinstance(m, (Speculate, Commit, Retract))]
    assert epochs == sorted(epochs) and epochs[-1] == commits[0].epoch >= 1


async def test_floor_actor_rejects_bad_frames_at_the_edge() -> None:
    from cadence.floor.actor import FloorActor

    async with open_actor_system(shutdown_timeout=2.0) as system:
        floor = system.spawn(lambda: FloorActor(CID), "floor")
        wrong_conv = AudioFrame.from_samples("other", 0, 0, np.zeros(160, np.float32))
        with pytest.raises(Exception) as ei:
            await floor.request(wrong_conv, timeout=5.0)
        assert isinstance(ei.value.__cause__ or ei.value, InvalidArgumentError)
        bad_len = AudioFrame(CID, 0, 0, np.zeros(100, np.float32).tobytes())
        with pytest.raises(Exception) as ei:
            await floor.request(bad_len, timeout=5.0)
        assert isinstance(ei.value.__cause__ or ei.value, InvalidAudioError)


async def test_a_message_the_floor_does_not_take_is_refused_and_a_frame_past_the_clock_too() -> None:
    """Spawned by a lambda, as every caller does: another message type is refused at the
    send, not handled (it crashed the actor, and four in 5 s took the system down), and a
    frame that ends past the latest media time is refused before the clock moves."""
    from cadence.floor.actor import FloorActor
    from cadence.messages import Heartbeat
    from cadence.messages._base import MAX_TS_NS

    async with open_actor_system(shutdown_timeout=2.0) as system:
        floor = system.spawn(lambda: FloorActor(CID), "floor")
        for _ in range(4):
            with pytest.raises(InvalidArgumentError, match="accepts AudioFrame, SetPatience"):
                await floor.request(Heartbeat(CID, 0), timeout=5.0)
        last = AudioFrame.from_samples(CID, MAX_TS_NS - 5_000_000, 0, np.zeros(160, np.float32))
        with pytest.raises(Exception) as ei:
            await floor.request(last, timeout=5.0)
        assert "ends past the latest media time" in str(ei.value.__cause__ or ei.value)
        first = AudioFrame.from_samples(CID, 0, 0, np.zeros(160, np.float32))
        await floor.request(first, timeout=20.0)
        stats = floor.statistics()
        # the last frame, and the first Heartbeat if it was queued before the actor was built
        assert (stats.capacity, stats.restarts) == (256, 0) and stats.refused in (1, 2)


async def _run_floor(frames: list[AudioFrame], bad: list[AudioFrame] = (),
                     policy_factory: Any = None) -> tuple[list, list]:
    """Send ``frames`` (then try each of ``bad`` after the first 10) to a FloorActor; the
    messages it published and the errors the bad ones raised."""
    from cadence.floor.actor import FloorActor

    got: list = []
    errors: list = []
    async with open_actor_system(shutdown_timeout=2.0) as system:
        floor = system.spawn(lambda: FloorActor(CID, patience=0.5, policy_factory=policy_factory), "floor")
        sink = system.spawn(lambda: Collector(got), "sink")
        for t in (Commit, FloorState):
            system.subscribe(sink, t)
        for i, fr in enumerate(frames):
            if i == 10:
                for b in bad:
                    with pytest.raises(Exception) as ei:
                        await floor.request(b, timeout=5.0)
                    errors.append(ei.value.__cause__ or ei.value)
            await floor.send(fr)
        await floor.request(SetPatience(CID, 0, 0.5), timeout=20.0)
        await trio.sleep(0.05)
    return got, errors


async def test_a_gap_in_the_mic_stream_is_heard_as_silence_on_the_mic_clock() -> None:
    """Frames lost in the silence after a turn: the floor hears zeros for them, so the commit
    and every state keep their media time; a gap longer than MAX_FILL_S is skipped past it,
    and the states after it are stamped with the frames' own times."""
    from cadence.floor.actor import MAX_FILL_S

    audio, spans = render([("I would like a cup of coffee.", 2.0)])
    frames = _frames(audio)
    end = int(spans[0][1] / 0.01)
    lost = set(range(end + 3, end + 20))  # 170 ms, before the persona would answer
    zeroed = [AudioFrame.from_samples(CID, f.ts_ns, f.seq, np.zeros(160, np.float32)) if i in lost else f
              for i, f in enumerate(frames)]
    full, _ = await _run_floor(zeroed)
    holed, _ = await _run_floor([f for i, f in enumerate(frames) if i not in lost])
    commits = [m for m in full if isinstance(m, Commit)]
    assert len(commits) == 1 and [m for m in holed if isinstance(m, Commit)] == commits
    # one state per batch: the frame after the gap brings the 17 zero frames with it
    states = {m.ts_ns: m for m in full if isinstance(m, FloorState)}
    got = [m for m in holed if isinstance(m, FloorState)]
    assert len(got) == len(states) - len(lost)
    # the same values at the same media times (to float32 rounding: batches differ in size)
    for m in got:
        ref = states[m.ts_ns]
        assert (m.user_speaking, m.persona_speaking, m.owner) == (ref.user_speaking, ref.persona_speaking, ref.owner)
        assert [m.p_keep, m.p_end_200, m.p_end_600, m.backchannel] == pytest.approx(
            [ref.p_keep, ref.p_end_200, ref.p_end_600, ref.backchannel], abs=1e-5)
    # 8 s without frames, then 0.5 s more: 5 s of it heard, the rest skipped
    late_t0 = frames[-1].ts_ns + 10_000_000 + 8_000_000_000
    late = [AudioFrame.from_samples(CID, late_t0 + i * 10_000_000, len(frames) + i, np.zeros(160, np.float32))
            for i in range(50)]
    got, _ = await _run_floor(frames + late)
    states = [m.ts_ns for m in got if isinstance(m, FloorState)]
    assert len(states) == len(frames) + 1 + 50  # the 5 s of silence heard in one batch
    assert states[len(frames)] == frames[-1].ts_ns + 10_000_000 + int(MAX_FILL_S * 1e9)
    assert states[-50:] == [f.ts_ns + 10_000_000 for f in late]


async def test_a_duplicate_or_reordered_frame_is_refused_and_loses_nothing() -> None:
    audio, _ = render([("I would like a cup of coffee.", 2.0)])
    frames = _frames(audio)
    dup = frames[9]
    early = AudioFrame.from_samples(CID, frames[10].ts_ns - 5_000_000, 10, np.zeros(160, np.float32))
    full, _ = await _run_floor(frames)
    got, errors = await _run_floor(frames, bad=[dup, early])
    assert len(errors) == 2 and all(isinstance(e, InvalidArgumentError) for e in errors)
    assert all("out-of-order" in str(e) for e in errors)
    assert [m for m in got if isinstance(m, (Commit, FloorState))] == [m for m in full if isinstance(m, (Commit, FloorState))]


async def test_the_smart_turn_judge_runs_off_the_trio_thread() -> None:
    pytest.importorskip("pipecat")
    import threading

    from cadence.floor.policy import CadencePolicy

    audio, spans = render([("I would like a cup of coffee.", 3.5)])
    threads: list[int] = []
    policies: list[CadencePolicy] = []

    def hybrid(p: float) -> CadencePolicy:
        policy = CadencePolicy(p, smart_turn_weight=0.5, early_keep=0.0)  # no commit before the judge is asked
        assert policy.judge is not None
        ask = policy.judge.prob_complete

        def watched(a: np.ndarray) -> float:
            threads.append(threading.get_ident())
            return ask(a)

        policy.judge.prob_complete = watched  # type: ignore[method-assign]
        policies.append(policy)
        return policy

    got, _ = await _run_floor(_frames(audio), policy_factory=hybrid)
    commits = [m for m in got if isinstance(m, Commit)]
    assert len(commits) == 1
    end_ns = 1_000_000_000 + int(spans[0][1] * 1e9)
    assert -100_000_000 <= commits[0].ts_ns - end_ns <= 3_100_000_000
    assert threads and threading.get_ident() not in threads  # asked, never on the trio loop's thread
    policies[0].drain()  # a call still in flight (the frames may have been decided in a burst) ends
    assert len(policies[0].call_ms) == len(threads)


async def test_the_policy_is_built_off_the_trio_loop() -> None:
    import threading
    import time

    from cadence.actors import Watchdog
    from cadence.floor.actor import FloorActor
    from cadence.floor.policy import CadencePolicy

    built: list[int] = []

    def slow(p: float) -> CadencePolicy:  # a build as slow as a cold disk's: the loop must not wait for it
        built.append(threading.get_ident())
        time.sleep(0.6)
        return CadencePolicy(p)

    audio, _ = render([("Hello there.", 1.0)])
    dog = Watchdog(0.3)
    got: list = []
    async with open_actor_system(shutdown_timeout=5.0, watchdog=dog) as system:
        floor = system.spawn(lambda: FloorActor(CID, patience=0.5, policy_factory=slow), "floor")
        sink = system.spawn(lambda: Collector(got), "sink")
        system.subscribe(sink, FloorState)
        for fr in _frames(audio):  # sent while the policy is built: they wait in the mailbox
            await floor.send(fr)
        await floor.request(SetPatience(CID, 0, 0.6), timeout=10.0)
        await trio.sleep(0.05)
    assert built and threading.get_ident() not in built
    assert dog.stall_count == 0, dog.stalls
    assert len([m for m in got if isinstance(m, FloorState)]) == len(frames_of(audio))  # none lost


async def test_each_speculate_carries_its_own_confidence() -> None:
    """Two drafts decided in one chunk (a silence draft, the user goes on, the end head drafts
    again) each publish the value that started them, not the chunk's last."""
    from cadence.floor.actor import FloorActor
    from cadence.floor.policy import CadencePolicy
    from cadence.floor.protocol import Decision

    class Scripted(CadencePolicy):
        fired = False

        def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list[Decision]:
            out = super().process(frames, reference)
            if self.frame >= 3 and not self.fired:  # the chunk with the third frame (frames may come together)
                self.fired = True
                self.spec_confidences = [0.7, 0.9]
                t = self.frame * 0.01
                return [Decision("speculate", t), Decision("retract", t), Decision("speculate", t)]
            return [d for d in out if d.kind not in ("speculate", "retract")]

    got: list = []
    async with open_actor_system(shutdown_timeout=2.0) as system:
        floor = system.spawn(lambda: FloorActor(CID, patience=0.5, policy_factory=lambda p: Scripted(p)), "floor")
        sink = system.spawn(lambda: Collector(got), "sink")
        for t in (Speculate, Retract):
            system.subscribe(sink, t)
        for fr in _frames(np.zeros(16000 // 10, np.float32))[:5]:
            await floor.send(fr)
        await floor.request(SetPatience(CID, 0, 0.5), timeout=10.0)
        await trio.sleep(0.05)
    specs = [m for m in got if isinstance(m, Speculate)]
    assert [m.confidence for m in specs] == [pytest.approx(0.7), pytest.approx(0.9)]
    assert [m.epoch for m in specs] == [1, 2]


async def test_frames_that_waited_are_decided_together_and_publish_what_one_by_one_would() -> None:
    """A Floor actor that fell behind (its policy is slow here) takes the frames that waited in
    one worker call; it publishes the same events and states, in the same order, as an actor
    that handled each frame before the next arrived."""
    import time as _time

    from cadence.floor.actor import FloorActor
    from cadence.floor.policy import CadencePolicy
    from cadence.messages import Backchannel

    calls: list[int] = []

    class Slow(CadencePolicy):
        def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list:
            calls.append(len(frames))
            _time.sleep(0.003)
            return super().process(frames, reference)

    audio, _ = render([("Could you book a table for two?", 1.2), ("Yes, at eight.", 1.2)])
    kinds = (Commit, Speculate, Retract, Backchannel, FloorState)

    async def run(one_by_one: bool) -> list:
        got: list = []
        async with open_actor_system(shutdown_timeout=2.0) as system:
            floor = system.spawn(lambda: FloorActor(CID, patience=0.5, policy_factory=lambda p: Slow(p)), "floor")
            sink = system.spawn(lambda: Collector(got), "sink")
            for t in kinds:
                system.subscribe(sink, t)
            for fr in _frames(audio):
                if one_by_one:
                    await floor.request(fr, timeout=10.0)  # handled before the next is sent
                else:
                    await floor.send(fr)
            await floor.request(SetPatience(CID, 0, 0.5), timeout=30.0)  # flushes the mailbox
            await trio.sleep(0.05)
        return got

    alone = await run(True)
    calls_alone = len(calls)
    calls.clear()
    together = await run(False)
    n = len(_frames(audio))
    assert calls_alone == n and len(calls) < n  # the burst was taken in fewer calls
    assert together == alone
    assert any(isinstance(m, Commit) for m in alone)
    assert len([m for m in together if isinstance(m, FloorState)]) == n  # one state per frame still



async def test_gaps_in_frames_taken_together_never_overflow_the_backlog() -> None:
    """Frames 4 s apart that wait together hold 12 s of silence between them, more than the
    actor's 10 s backlog: it decides on what waits before taking more."""
    import time as _time

    from cadence.floor.actor import FloorActor
    from cadence.floor.policy import CadencePolicy

    class Slow(CadencePolicy):
        def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list:
            _time.sleep(0.05)
            return super().process(frames, reference)

    got: list = []
    frame = np.zeros(160, np.float32)
    async with open_actor_system(shutdown_timeout=5.0) as system:
        floor = system.spawn(lambda: FloorActor(CID, policy_factory=lambda p: Slow(p)), "floor")
        sink = system.spawn(lambda: Collector(got), "sink")
        system.subscribe(sink, FloorState)
        for i in range(5):
            await floor.send(AudioFrame.from_samples(CID, 1_000_000_000 + i * 4_000_000_000, i, frame))
        await floor.request(SetPatience(CID, 0, 0.5), timeout=30.0)
        await trio.sleep(0.05)  # the sink takes the last state
        stats = floor.statistics()
    assert stats.restarts == 0 and stats.refused == 0
    states = [m for m in got if isinstance(m, FloorState)]
    assert len(states) == 5 and states[-1].ts_ns == 1_000_000_000 + 4 * 4_000_000_000 + 10_000_000, [s.ts_ns for s in states]


async def test_floor_actors_share_a_decision_thread_per_core_unless_given_a_limiter() -> None:
    from cadence.cores import cores
    from cadence.floor.actor import FloorActor, shared_limiter
    from cadence.floor.policy import CadencePolicy

    borrowed: dict[str, list[int]] = {}  # the tokens out of each limiter while a decision call runs
    limiters: dict[str, trio.CapacityLimiter] = {}

    def noting(name: str) -> Any:
        class Noting(CadencePolicy):
            def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list:
                borrowed.setdefault(name, []).append(limiters[name].borrowed_tokens)
                return super().process(frames, reference)

        return Noting

    own = trio.CapacityLimiter(1)
    actors = [FloorActor(CID, policy_factory=noting("a")), FloorActor(CID, policy_factory=noting("b")),
              FloorActor(CID, policy_factory=noting("c"), limiter=own)]
    audio, _ = render([("Hello there.", 0.5)])
    async with open_actor_system(shutdown_timeout=5.0) as system:
        limiters.update(a=shared_limiter(), b=shared_limiter(), c=own)
        refs = [system.spawn(lambda a=a: a, f"floor{k}") for k, a in enumerate(actors)]
        for fr in _frames(audio)[:20]:
            for r in refs:
                await r.send(fr)
        for r in refs:
            await r.request(SetPatience(CID, 0, 0.5), timeout=10.0)
    assert limiters["a"].total_tokens == cores() >= 1
    assert actors[0]._limiter is actors[1]._limiter is limiters["a"]
    assert actors[2]._limiter is own
    # every decision call ran holding a token of its actor's limiter
    assert set(borrowed) == {"a", "b", "c"}
    assert all(n >= 1 for calls in borrowed.values() for n in calls), borrowed
