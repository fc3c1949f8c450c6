"""The Floor actor's edges over a call's life: what a stop or a crash leaves open, misaddressed
settings, a gap in the mic stream that ends mid-frame, and a decision call still running at a stop.

A scripted policy stands in for Cadence's (no model, no voices): it decides what each test needs at
the frames it is told, so every assertion is exact."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
import trio

from cadence._core import AudioRing
from cadence.actors import Actor, MailboxSpec, Overflow, open_actor_system
from cadence.errors import InvalidArgumentError
from cadence.floor.actor import MAX_FILL, FloorActor
from cadence.floor.protocol import FRAME_SECONDS, Decision
from cadence.messages import (
    AudioFrame,
    Backchannel,
    BargeIn,
    Commit,
    FloorState,
    PausePlayout,
    ResumePlayout,
    Retract,
    SetPatience,
    Speculate,
)

CID = "conv-1"
T0 = 1_000_000_000
EVENTS = (Speculate, Commit, Retract, PausePlayout, ResumePlayout, BargeIn, Backchannel)


@dataclass(frozen=True)
class _Config:
    patience: float


class Scripted:
    """Decides ``script[k]`` (a decision kind) at the end of its k-th frame (from 1); raises at
    frame ``crash_at``; sleeps ``sleep_s`` in each call."""

    def __init__(self, script: dict[int, str], crash_at: int | None = None, sleep_s: float = 0.0) -> None:
        self.script, self.crash_at, self.sleep_s = script, crash_at, sleep_s
        self.config = _Config(0.5)
        self.frame = 0
        self.chunk_probs = np.zeros((0, 4), np.float32)
        self.frame_flags: list[tuple[bool, bool]] = []
        self.spec_confidences: list[float] = []
        self.wait_for_judge = False
        self.closed = False
        self.references: list[np.ndarray] = []  # the persona's playback each frame was heard with

    def process(self, frames: np.ndarray, reference: np.ndarray | None = None) -> list[Decision]:
        time.sleep(self.sleep_s)
        if reference is not None:
            self.references += list(reference)
        out = []
        for _ in range(len(frames)):
            self.frame += 1
            if self.frame == self.crash_at:
                raise RuntimeError("a bug in the policy")
            if self.frame in self.script:
                out.append(Decision(self.script[self.frame], self.frame * FRAME_SECONDS))  # type: ignore[arg-type]
        self.chunk_probs = np.full((len(frames), 4), 0.5, np.float32)
        # the backchannel score names its frame: frame k (from 1) scores k / 100
        self.chunk_probs[:, 3] = (np.arange(self.frame - len(frames), self.frame) + 1) % 100 / 100
        self.frame_flags = [(True, False)] * len(frames)
        self.spec_confidences = [0.5] * sum(k == "speculate" for k in self.script.values())
        return out

    def close(self) -> None:
        self.closed = True


class Collector(Actor):
    mailbox = MailboxSpec(capacity=100_000, overflow=Overflow.BLOCK)

    def __init__(self, sink: list[Any]) -> None:
        self.sink = sink

    async def handle(self, msg: object) -> None:
        self.sink.append(msg)


def frame(i: int, ts: int | None = None) -> AudioFrame:
    return AudioFrame.from_samples(CID, T0 + i * 10_000_000 if ts is None else ts, i, np.zeros(160, np.float32))


async def _run(make: Callable[[], FloorActor], script: Callable[[Any], Any], got: list[Any],
               shutdown_timeout: float = 2.0) -> None:
    async with open_actor_system(shutdown_timeout=shutdown_timeout) as system:
        floor = system.spawn(make, "floor")
        sink = system.spawn(lambda: Collector(got), "sink")
        for t in (*EVENTS, FloorState):
            system.subscribe(sink, t)
        await script(floor)
        await trio.sleep(0.05)


def _events(got: list[Any]) -> list[tuple[str, int, int | None]]:
    return [(type(m).__name__, m.ts_ns, getattr(m, "epoch", None)) for m in got if isinstance(m, EVENTS)]


async def test_a_stop_closes_the_open_draft_and_resumes_a_paused_persona() -> None:
    policies: list[Scripted] = []

    def make() -> FloorActor:
        policies.append(Scripted({3: "speculate", 5: "pause"}))
        return FloorActor(CID, policy_factory=lambda p: policies[-1])

    async def script(floor: Any) -> None:
        for i in range(6):
            await floor.send(frame(i))
        await floor.request(SetPatience(CID, 0, 0.5), timeout=10.0)  # every frame decided
        await floor.stop()

    got: list[Any] = []
    await _run(make, script, got)
    end = T0 + 6 * 10_000_000  # the end of the audio decided on
    assert _events(got) == [
        ("Speculate", T0 + 30_000_000, 1), ("PausePlayout", T0 + 50_000_000, None),
        ("Retract", end, 1), ("ResumePlayout", end, None),
    ]
    assert policies[0].closed


async def test_after_a_crash_the_draft_is_closed_and_epochs_go_on() -> None:
    policies: list[Scripted] = []

    def make() -> FloorActor:
        # the first incarnation speculates at frame 3 and crashes at 5; the next starts a new
        # policy (its frames count from 1 again) and speculates and commits
        first = not policies
        policies.append(Scripted({3: "speculate"}, crash_at=5) if first else Scripted({2: "speculate", 4: "commit"}))
        return FloorActor(CID, policy_factory=lambda p: policies[-1])

    async def script(floor: Any) -> None:
        for i in range(4):
            await floor.send(frame(i))
        await floor.request(SetPatience(CID, 0, 0.5), timeout=10.0)
        with pytest.raises(Exception, match="a bug in the policy"):
            await floor.request(frame(4), timeout=10.0)
        for i in range(5, 10):
            await floor.send(frame(i))
        await floor.request(SetPatience(CID, 0, 0.5), timeout=10.0)

    got: list[Any] = []
    await _run(make, script, got)
    assert len(policies) == 2 and policies[0].closed
    # the new incarnation's clock starts at its first frame (5); its policy counts frames from there
    assert _events(got) == [
        ("Speculate", T0 + 30_000_000, 1), ("Retract", T0 + 40_000_000, 1),
        ("Speculate", T0 + 70_000_000, 2), ("Commit", T0 + 90_000_000, 2),
    ]


async def test_patience_for_another_conversation_is_refused() -> None:
    policy = Scripted({})

    async def script(floor: Any) -> None:
        with pytest.raises(InvalidArgumentError, match="patience for conversation 'other'"):
            await floor.request(SetPatience("other", 0, 1.0), timeout=10.0)
        await floor.request(SetPatience(CID, 0, 0.25), timeout=10.0)

    await _run(lambda: FloorActor(CID, policy_factory=lambda p: policy), script, [])
    assert policy.config.patience == 0.25


def test_patience_out_of_range_is_refused_at_construction() -> None:
    for bad in (1.5, -0.1, float("nan"), "0.5"):
        with pytest.raises(InvalidArgumentError, match="patience must be in"):
            FloorActor(CID, patience=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("extra", [10, 500])
async def test_a_long_gap_that_ends_mid_frame_hears_no_more_silence_than_the_gap(extra: int) -> None:
    # Frame 1 comes 12.5 ms late (past the jitter allowed: heard as 200 samples of silence), so 40
    # samples wait. Then a gap of MAX_FILL + extra samples. The most silence heard (MAX_FILL
    # rounded up to end a frame) is MAX_FILL + 120 samples: a gap of MAX_FILL + 10 is heard whole;
    # one of MAX_FILL + 500 is heard as MAX_FILL + 120 and the other 380 samples are skipped, the
    # reference with them.
    ring = AudioRing(160 * 1000)
    policy = Scripted({})
    got: list[Any] = []
    late = T0 + 22_500_000
    after = late + 10_000_000 + (MAX_FILL + extra) * 62_500  # frame 2's start

    async def script(floor: Any) -> None:
        await floor.request(frame(0), timeout=10.0)
        await floor.request(frame(1, late), timeout=10.0)
        await floor.request(frame(2, after), timeout=10.0)
        await floor.request(frame(3, after + 10_000_000), timeout=10.0)

    await _run(lambda: FloorActor(CID, reference=ring, policy_factory=lambda p: policy), script, got)
    states = [m.ts_ns for m in got if isinstance(m, FloorState)]
    # a skip decides on the silence heard before it first (a state of its own)
    assert len(states) == (4 if extra == 10 else 5) and states == sorted(states)
    heard = 160 + 200 + 160 + min(MAX_FILL + extra, MAX_FILL + 120) + 320  # samples, the fill's silence included
    assert policy.frame == heard // 160
    if extra == 10:  # heard whole: 50 samples of frame 3 wait for the next frame
        assert states[-1] == T0 + policy.frame * 10_000_000
    else:  # the skip puts frame 2 on its own clock
        assert states[-1] == after + 20_000_000


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
async def test_timestamps_off_their_slot_by_jitter_lose_no_frame(seed: int) -> None:
    # every frame up to 2.4 ms off its 10 ms slot either way, and one 7 ms late: each is taken, in
    # order, with no silence put between them (before, 1 ms was allowed from the first frame's
    # slot: frames 0.9 ms off were refused, and after one 1.2 ms late the next on-time frame was
    # refused as an overlap)
    policy = Scripted({})
    got: list[Any] = []
    jitter = np.random.default_rng(seed).uniform(-2_400_000, 2_400_000, 300).astype(np.int64)
    jitter[100] = 7_000_000
    refused: list[Exception] = []
    start = T0 + 20_000_000

    async def script(floor: Any) -> None:
        for i in range(300):
            try:
                await floor.request(frame(i, start + i * 10_000_000 + int(jitter[i])), timeout=10.0)
            except InvalidArgumentError as e:
                refused.append(e)

    await _run(lambda: FloorActor(CID, policy_factory=lambda p: policy), script, got)
    assert refused == [] and policy.frame == 300  # no frame refused, no silence heard between them
    states = [m.ts_ns for m in got if isinstance(m, FloorState)]
    assert len(states) == 300 and states == sorted(states)
    # on the stream's clock: within the jitter of each frame's slot end
    assert np.all(np.abs(np.array(states) - (start + 10_000_000 * np.arange(1, 301))) <= 5_000_000)
    # 5 ms or more early (a duplicate, a reordered packet) is still refused; a lost frame is silence
    policy2 = Scripted({})

    async def script2(floor: Any) -> None:
        await floor.request(frame(0), timeout=10.0)
        await floor.request(frame(1), timeout=10.0)
        with pytest.raises(InvalidArgumentError, match="overlaps"):
            await floor.request(frame(2, T0 + 15_000_000), timeout=10.0)  # 5 ms into frame 1
        await floor.request(frame(3), timeout=10.0)  # frame 2 lost: 10 ms of silence

    await _run(lambda: FloorActor(CID, policy_factory=lambda p: policy2), script2, [])
    assert policy2.frame == 4


async def test_a_stop_does_not_wait_for_a_decision_call_in_flight(caplog: pytest.LogCaptureFixture) -> None:
    policy = Scripted({}, sleep_s=3.0)

    async def script(floor: Any) -> None:
        await floor.send(frame(0))
        await trio.sleep(0.3)  # its call has begun
        for i in range(1, 6):
            await floor.send(frame(i))  # these wait in the mailbox

    t0 = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        await _run(lambda: FloorActor(CID, policy_factory=lambda p: policy), script, [], shutdown_timeout=0.3)
    assert time.perf_counter() - t0 < 2.0  # the 3 s call is abandoned to its thread
    logged = [r.getMessage() for r in caplog.records]
    assert "floor of 'conv-1' stopped during a decision call: 1 frame(s) not published" in logged
    assert "actor 'floor' stopped with 5 sent message(s) not handled" in logged


async def test_samples_an_overwriting_reference_ring_dropped_are_heard_as_silence(
        caplog: pytest.LogCaptureFixture) -> None:
    # the playout wrote 5 frames of its voice before the mic's first: the ring (3 frames) dropped
    # the oldest 2. Those are heard as silence, and the 3 after them with the mic frames they
    # were played with (not 2 frames early).
    ring = AudioRing(480, overrun="overwrite")
    played = np.arange(800, dtype=np.float32) / 800
    policy = Scripted({})

    async def script(floor: Any) -> None:
        await floor.request(SetPatience(CID, 0, 0.5), timeout=10.0)  # the actor has started
        ring.write(played[:400])
        ring.write(played[400:])
        for i in range(5):
            await floor.request(frame(i), timeout=10.0)

    with caplog.at_level(logging.WARNING):
        await _run(lambda: FloorActor(CID, reference=ring, policy_factory=lambda p: policy), script, [])
    heard = np.concatenate(policy.references)
    np.testing.assert_array_equal(heard, np.concatenate([np.zeros(320, np.float32), played[320:]]))
    assert any("reference ring dropped 320 sample(s)" in r.getMessage() for r in caplog.records)


async def test_a_backchannel_carries_its_own_frame_s_score() -> None:
    # 20 ms messages: the backchannel decided at frame 3 (the first half of the second message)
    # carries frame 3's score, not frame 4's
    policy = Scripted({3: "backchannel"})
    got: list[Any] = []

    async def script(floor: Any) -> None:
        for i in range(3):
            msg = AudioFrame.from_samples(CID, T0 + i * 20_000_000, i, np.zeros(320, np.float32))
            await floor.request(msg, timeout=10.0)

    await _run(lambda: FloorActor(CID, policy_factory=lambda p: policy), script, got)
    (bc,) = [m for m in got if isinstance(m, Backchannel)]
    assert bc.ts_ns == T0 + 30_000_000 and bc.score == pytest.approx(0.03)


async def test_epochs_go_on_after_a_sibling_s_restart() -> None:
    from cadence.actors import RestartPolicy, Strategy

    class Crasher(Actor):
        async def handle(self, msg: object) -> None:
            raise RuntimeError("a sibling's bug")

    policies: list[Scripted] = []

    def make() -> FloorActor:
        policies.append(Scripted({2: "speculate"}))
        return FloorActor(CID, policy_factory=lambda p: policies[-1])

    got: list[Any] = []
    async with open_actor_system(shutdown_timeout=2.0,
                                 policy=RestartPolicy(strategy=Strategy.ONE_FOR_ALL, max_restarts=5)) as system:
        floor = system.spawn(make, "floor")
        crasher = system.spawn(Crasher, "crasher")
        sink = system.spawn(lambda: Collector(got), "sink")
        for t in EVENTS:
            system.subscribe(sink, t)
        for i in range(3):
            await floor.request(frame(i), timeout=10.0)
        await crasher.send(1)  # restarts every child: the floor ends through on_stop
        await trio.sleep(0.2)
        for i in range(3, 6):
            await floor.request(frame(i), timeout=10.0)
        await trio.sleep(0.05)
    # the sink restarts too and may miss what came meanwhile; the epochs it saw never repeat
    epochs = [m.epoch for m in got if isinstance(m, Speculate)]
    assert len(policies) == 2 and epochs[-1] == 2 and epochs == sorted(set(epochs))
