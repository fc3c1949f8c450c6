"""The Floor actor in a real actor system: frames in, floor events out."""

from __future__ import annotations

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
