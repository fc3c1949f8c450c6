"""The Floor actor: 10 ms mic frames in, FloorState and floor events out.

Inputs (messages):

* ``AudioFrame`` — the user's mic, 16 kHz mono, 10 or 20 ms (validated: a bad
  frame raises at the edge and nothing is consumed);
* ``SetPatience`` — moves the latency/interruption trade-off of this conversation.

The persona's own playback (for echo awareness and barge-in) arrives through a
Rust ``AudioRing`` given at construction (``reference``): the playout path writes
exactly what it plays, at 16 kHz, and the actor reads the same number of samples
per mic frame. Audio stays in Rust rings; only events enter trio.

Outputs, published to subscribers by type: ``FloorState`` per message (its last frame), and
``Speculate``/``Commit``/``Retract``/``Backchannel``/``BargeIn``, and the
two-stage barge-in's ``PausePlayout``/``ResumePlayout`` (the playout path pauses
the persona at once and resumes it, or a ``BargeIn`` follows). Speculation
epochs increase by one per draft: ``Speculate(e)`` opens draft ``e``; the
matching ``Commit(e)`` or ``Retract(e)`` closes it. A commit without a prior
speculation opens and commits a fresh epoch.

Frames must follow each other in media time (``ts_ns``). A frame that starts
where audio already received lies (a duplicate or a reordered packet: 5 ms or more early;
frames less than 2.5 ms off their slot either way are jitter, ``JITTER_NS``) is refused with a clear
error and nothing is consumed. A gap (lost packets, a muted client) is heard as silence: up to
``MAX_FILL_S`` of zeros are fed to the policy (enough for it to decide on the
turn it was in: its longest wait is 3 s), and the rest of a longer gap is
skipped, so decision timestamps stay on the mic's clock.

Compute (features, Silero, the networks: ~0.3 ms of CPU per frame with the persona's
playback in a warm loop, ``cadence bench policy``; 0.3–1.2 ms live, less as calls take more
frames at once, ``cadence bench calls``)
never runs on the trio loop: the frames are processed in worker-thread calls, which the Floor
actors of a trio run share a thread per core for (``shared_limiter``). Frames that arrive
during a call wait in the mailbox; the next
call takes all of them at once (the runtime's ``coalesce``: one worker hop, one policy
call), so an actor that fell behind catches up instead of staying behind. It publishes
what handling each message alone would have: per message its decisions (a backchannel
with its own frame's score), and its ``FloorState`` from that message's last frame (a gap
longer than ``MAX_FILL_S`` adds one, for the silence heard before the rest is skipped) (the policy decides the same for any
chunking, and records each frame's outputs and state: ``chunk_probs``, ``frame_flags``).
The policy itself (Silero's session, the networks' weights: ~0.1 s) is built in a
worker thread when the actor starts (and at each restart), so a call that begins
does not stall the calls already running; frames sent meanwhile wait in the mailbox.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import replace
from typing import Any, Callable, ClassVar

import numpy as np
import trio

from cadence._core import AudioRing
from cadence.actors import Actor, MailboxSpec, Overflow
from cadence.cores import cores
from cadence.errors import InvalidArgumentError, InvalidAudioError
from cadence.floor.policy import CadencePolicy
from cadence.floor.protocol import FRAME_SECONDS, Decision
from cadence.messages import (
    MAX_TS_NS,
    AudioFrame,
    Backchannel,
    BargeIn,
    Commit,
    FloorOwner,
    FloorState,
    PausePlayout,
    ResumePlayout,
    Retract,
    SetPatience,
    Speculate,
)

FRAME = 160
FRAME_NS = 10_000_000
NS_PER_SAMPLE = 62_500  # 16 kHz
# Timestamp jitter. A frame up to JITTER_NS early is taken right after the audio before it, and the
# clock moves back to it (the stream's clock follows its earliest frames); one up to LATE_JITTER_NS
# late is taken right after it too. Further early, it overlaps audio already received (a duplicate
# or a reordered packet: refused); further late, the missing time is lost audio, heard as silence.
# So frames may be less than 2.5 ms off their slot either way, whatever their order of lateness.
JITTER_NS = 5_000_000  # half a 10 ms frame
LATE_JITTER_NS = 10_000_000  # a lost packet is a whole frame
MAX_FILL_S = 5.0  # a gap in the mic stream is heard as this much silence at most
MAX_FILL = int(MAX_FILL_S * 16_000)


log = logging.getLogger("cadence.floor")
_SHARED: trio.lowlevel.RunVar[trio.CapacityLimiter] = trio.lowlevel.RunVar("cadence_floor_limiter")
# per actor system, the last speculation epoch of each conversation whose Floor actor ended (a
# stop, a crash, a sibling's restart), for its next incarnation; the most recent _EPOCHS_KEPT
_EPOCHS: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()
_EPOCHS_KEPT = 100_000


def _ended_epochs(system: Any) -> dict[str, int]:
    epochs = _EPOCHS.get(system)
    if epochs is None:
        epochs = _EPOCHS[system] = {}
    return epochs


def _remember_epoch(system: Any, conversation_id: str, epoch: int) -> None:
    epochs = _ended_epochs(system)
    epochs.pop(conversation_id, None)
    epochs[conversation_id] = epoch  # newest last: the oldest go first past the bound
    while len(epochs) > _EPOCHS_KEPT:
        del epochs[next(iter(epochs))]


def shared_limiter() -> trio.CapacityLimiter:
    """The limiter the Floor actors of this trio run share by default: one token per core
    (``cores``). Call it inside a trio run."""
    try:
        return _SHARED.get()
    except LookupError:
        limiter = trio.CapacityLimiter(cores())
        _SHARED.set(limiter)
        return limiter


class FloorActor(Actor):
    """The Floor stage: mic frames in, floor events out. ``wait_for_judge``: whether a judge's
    answer (``smart_turn_weight`` > 0) that is not ready when due is waited for. Live (False,
    the default) the frames go on without it; for audio fed faster than real time, True, so
    the decisions are those the bench scores. ``limiter``: the ``trio.CapacityLimiter`` that bounds
    how many decision calls (the worker calls that run the policy) run at once. By default the
    Floor actors of one trio run share one with a thread per core (``shared_limiter``): fewer
    threads contend for the GIL, and each call takes the frames that waited meanwhile
    (``benches/results/calls.md``). ``trio.to_thread.current_default_thread_limiter()`` gives
    each call threads of its own (up to trio's 40), as before session 52. A decision call that
    takes long (e.g. one that waits for the Smart Turn judge, ``wait_for_judge``) holds one of
    the shared threads meanwhile; the judge itself runs in the policy's own thread.

    An incarnation that ends (a stop, the system's shutdown, or a crash before its restart) closes
    what it left open: a draft (``Retract``) and a paused persona (``ResumePlayout``), stamped at
    the end of the audio it decided on. The next incarnation's epochs go on from the last one
    (after a crash or a sibling's restart, in the same actor system; the last 100,000
    conversations are remembered), so a ledger never sees an epoch twice. A decision call in flight at a stop is
    abandoned to its thread (the stop does not wait for it); its decisions are not published."""

    # Audio must never be dropped silently: senders wait (backpressure).
    mailbox = MailboxSpec(capacity=256, overflow=Overflow.BLOCK)
    accepts = (AudioFrame, SetPatience)
    # a bad frame or setting is refused (the sender gets the error); the floor's state stays
    refuses = (InvalidArgumentError, InvalidAudioError)
    # frames that waited while a worker call ran are decided together (``take``, ``flush``)
    coalesce: ClassVar[tuple[type, ...]] = (AudioFrame,)

    def __init__(
        self,
        conversation_id: str,
        patience: float = 0.5,
        reference: AudioRing | None = None,
        policy_factory: Callable[[float], CadencePolicy] | None = None,
        publish_state: bool = True,
        wait_for_judge: bool = False,
        limiter: trio.CapacityLimiter | None = None,
    ) -> None:
        if not (isinstance(patience, (int, float)) and 0.0 <= patience <= 1.0):
            raise InvalidArgumentError(f"patience must be in [0, 1], got {patience!r}")
        self.conversation_id = conversation_id
        self.reference = reference
        self._policy_factory = policy_factory or (lambda p: CadencePolicy(patience=p))
        self._patience = patience
        self._wait_for_judge = wait_for_judge
        self._limiter = limiter  # the shared one, unless given (set by ``on_start``)
        self.policy: CadencePolicy  # built by ``on_start``, off the trio loop
        self.pending = AudioRing(FRAME * 1000, overrun="error")  # 10 s of backlog
        self.publish_state = publish_state
        self.epoch = 0  # the last epoch opened (on_start goes on from an ended incarnation's)
        self.speculating = False
        self.paused = False  # the persona's playout paused, waiting for ResumePlayout or BargeIn
        # the reference ring's dropped samples seen so far, and those not yet stood in for by silence
        self._dropped_seen = reference.stats()["overrun_samples"] if reference is not None else 0
        self._drops = reference is not None and reference.overrun == "overwrite"  # a ring's mode is fixed
        self._lost_pending = 0
        self.next_ts_ns: int | None = None  # media time of the next unprocessed sample
        self.frames_done = 0
        # whole frames pending after each message taken since the last drain: each message's
        # frames are decided in a policy call of their own, as if handled alone
        self._marks: list[int] = []

    async def on_start(self) -> None:
        system = getattr(self, "system", None)  # None when started outside an actor system (a test)
        if system is not None:
            self.epoch = _ended_epochs(system).pop(self.conversation_id, self.epoch)
        # the build (~0.1 s) takes a thread of its own, not one of the calls' decision threads
        self.policy = await trio.to_thread.run_sync(self._policy_factory, self._patience)
        if self._limiter is None:
            self._limiter = shared_limiter()
        # live frames do not wait for a judge's late answer (policy.late_answers counts them);
        # audio fed faster than real time (a file) should: its frames outrun any call
        self.policy.wait_for_judge = self._wait_for_judge

    async def on_stop(self) -> None:
        _remember_epoch(self.system, self.conversation_id, self.epoch)  # a sibling's restart ends it here too
        try:
            await self._close_open()
        finally:
            self._close_policy()

    async def on_failure(self, exc: Exception, msg: Any | None) -> None:
        await self.on_stop()  # a crash ends the incarnation as a stop does

    async def _close_open(self) -> None:
        """Close the draft and the pause this incarnation leaves open (a new one knows neither)."""
        if self.next_ts_ns is None:
            return  # no audio decided: nothing was opened
        cid, ts = self.conversation_id, self.next_ts_ns
        if self.speculating:
            self.speculating = False
            await self.system.publish(Retract(cid, ts, self.epoch))
        if self.paused:
            self.paused = False
            await self.system.publish(ResumePlayout(cid, ts))

    def _close_policy(self) -> None:
        # no policy if on_start failed before it was built; a factory's own policy may have no close
        close = getattr(getattr(self, "policy", None), "close", None)
        if close is not None:
            close()

    async def handle(self, msg: Any) -> None:
        if isinstance(msg, SetPatience):
            if msg.conversation_id != self.conversation_id:
                raise InvalidArgumentError(
                    f"patience for conversation {msg.conversation_id!r} sent to floor of {self.conversation_id!r}"
                )
            self.policy.config = replace(self.policy.config, patience=msg.patience)
            return
        await self.take(msg)
        await self.flush()

    async def flush(self) -> None:
        """Decide on every whole frame taken so far (one worker call)."""
        await self._drain()

    async def take(self, msg: AudioFrame) -> None:
        """Check a frame and queue its samples (a refused frame changes nothing). When the actor
        falls behind, the runtime takes the frames that waited and flushes them together
        (``coalesce``): one worker call for all, as cheap per frame as a longer chunk."""
        if not isinstance(msg, AudioFrame):  # the mailbox screens by ``accepts``; this guards the rest
            raise InvalidArgumentError(
                f"the floor of {self.conversation_id!r} takes AudioFrame or SetPatience, "
                f"not {type(msg).__name__}"
            )
        if msg.conversation_id != self.conversation_id:
            raise InvalidArgumentError(
                f"frame for conversation {msg.conversation_id!r} sent to floor of {self.conversation_id!r}"
            )
        msg.validate()
        # refused before any state moves: the FloorState stamped at the frame's end could not be built
        if msg.ts_ns + msg.duration_ns > MAX_TS_NS:
            raise InvalidArgumentError(
                f"frame seq {msg.seq} at ts_ns {msg.ts_ns} ends past the latest media time "
                f"(2**63 - 1 ns)"
            )
        samples = msg.samples()
        if self.next_ts_ns is None:
            self.next_ts_ns = msg.ts_ns
        else:
            gap, early_ns = self._gap_samples(msg)
            self.next_ts_ns += early_ns  # a frame early by jitter: the clock follows it back
            # frames taken together hold their gaps' silence too: decide on what waits first if
            # this one would not fit (the backlog is 10 s; one message with its gap always fits)
            await self._room(min(gap, MAX_FILL + FRAME) + len(samples))
            fill = MAX_FILL + (-(self.pending.available + MAX_FILL)) % FRAME  # to a frame's end
            if gap > fill:
                # hear MAX_FILL of silence (rounded up to whole frames), then skip the rest
                self.pending.write(np.zeros(fill, np.float32))
                self._marks.append(self.pending.available // FRAME)
                await self._drain()
                if self.reference is not None:  # what the persona played meanwhile is not heard
                    skip = (msg.ts_ns - self.next_ts_ns) // NS_PER_SAMPLE
                    self.reference.skip(skip - self._lost_from_reference(skip))
                self.next_ts_ns = msg.ts_ns  # nothing pending: the next sample is this frame's first
            elif gap:
                self.pending.write(np.zeros(gap, np.float32))
        self.pending.write(samples)
        self._marks.append(self.pending.available // FRAME)  # this message's frames end here

    async def _room(self, n: int) -> None:
        """Decide on the frames pending if ``n`` more samples would not fit behind them."""
        if self.pending.available + n > self.pending.capacity:
            await self._drain()

    def _gap_samples(self, msg: AudioFrame) -> tuple[int, int]:
        """Samples missing between the audio received so far and ``msg`` (lost audio), and the
        ns by which ``msg`` is early within the jitter allowed (<= 0); refuses a frame that
        overlaps the audio received by more than that (a duplicate or a reordered packet)."""
        assert self.next_ts_ns is not None
        expected = self.next_ts_ns + self.pending.available * NS_PER_SAMPLE
        delta = msg.ts_ns - expected
        if delta <= -JITTER_NS:
            raise InvalidArgumentError(
                f"frame seq {msg.seq} at ts_ns {msg.ts_ns} overlaps the mic audio already received "
                f"(the next frame was due at {expected}): a duplicate or out-of-order frame"
            )
        if delta < 0:
            return 0, delta
        return (0 if delta < LATE_JITTER_NS else int(round(delta / NS_PER_SAMPLE))), 0

    async def _drain(self) -> None:
        """Run the policy on every whole frame pending, in one worker-thread call, and publish
        what each message's frames gave, as if each had been handled alone (the policy decides
        the same for any chunking)."""
        n = self.pending.available // FRAME
        marks, self._marks = self._marks, []
        if n == 0:
            return
        frames = self.pending.read(n * FRAME).reshape(n, FRAME)
        ref = self._reference(n)
        try:  # a stop abandons the call to its thread: it ends on its own, unpublished
            decisions, probs, flags, confidences, first = await trio.to_thread.run_sync(
                self._compute, frames, ref, limiter=self._limiter, abandon_on_cancel=True)
        except trio.Cancelled:
            log.warning("floor of %r stopped during a decision call: %d frame(s) not published",
                        self.conversation_id, n)
            raise
        # a decision made at the end of frame k (the policy's count from 1) belongs to the run holding it
        at = [min(max(round(d.t / FRAME_SECONDS) - first, 1), n) for d in decisions]
        a = 0
        for b in sorted({m for m in marks if 0 < m < n} | {n}):
            mine = [(d, k) for d, k in zip(decisions, at) if a < k <= b]
            # each decision with its own frame's outputs (a backchannel's score), the state the run's last
            await self._emit([d for d, _ in mine], [probs[k - 1] for _, k in mine], probs[b - 1], b - a,
                             confidences, *flags[b - 1])
            a = b

    def _lost_from_reference(self, n: int) -> int:
        """How many of the next ``n`` reference samples a ring in ``overwrite`` mode dropped (it
        drops its oldest when the playout writes past its capacity): they are heard as silence,
        so that the samples after them stay aligned with the mic."""
        if not self._drops:
            return 0
        assert self.reference is not None
        dropped = self.reference.stats()["overrun_samples"]
        if dropped > self._dropped_seen:
            log.warning("floor of %r: the persona's reference ring dropped %d sample(s) (overrun); "
                        "they are heard as silence", self.conversation_id, dropped - self._dropped_seen)
            self._lost_pending += dropped - self._dropped_seen
            self._dropped_seen = dropped
        lost = min(n, self._lost_pending)
        self._lost_pending -= lost
        return lost

    def _reference(self, n: int) -> np.ndarray | None:
        if self.reference is None:
            return None
        ref = np.zeros(n * FRAME, np.float32)
        lost = self._lost_from_reference(n * FRAME)
        self.reference.read_into(ref[lost:])  # playback not yet written stays silence (zeros)
        return ref.reshape(n, FRAME)

    def _compute(self, frames: np.ndarray, ref: np.ndarray | None
                 ) -> tuple[list[Decision], np.ndarray, list[tuple[bool, bool]], list[float], int]:
        """The policy on the frames, what ``_emit`` reads per frame, and the policy's frame count
        before them (its decisions are timed by that count)."""
        decisions = self.policy.process(frames, ref)
        pol = self.policy
        return (decisions, pol.chunk_probs.copy(), list(pol.frame_flags), list(pol.spec_confidences),
                pol.frame - len(frames))

    async def _emit(self, decisions: list[Decision], at: list[np.ndarray], probs: np.ndarray, n: int,
                    confidences: list[float], user: bool, persona: bool) -> None:
        assert self.next_ts_ns is not None
        base = self.next_ts_ns - self.frames_done * FRAME_NS  # media time of frame 0
        cid = self.conversation_id
        for d, own in zip(decisions, at):
            ts = base + int(round(d.t * 1e9))
            if d.kind == "speculate":
                self.epoch += 1
                self.speculating = True
                # the policy's own value at this speculation (one per speculate, in order): a turn
                # end soon (end600) or, for a draft begun in the silence, one that happened (1 - P(keep))
                conf = confidences.pop(0) if confidences else 0.0
                await self.system.publish(Speculate(cid, ts, self.epoch, min(max(float(conf), 0.0), 1.0)))
            elif d.kind == "retract":
                self.speculating = False
                await self.system.publish(Retract(cid, ts, self.epoch))
            elif d.kind == "commit":
                if not self.speculating:
                    self.epoch += 1
                self.speculating = False
                await self.system.publish(Commit(cid, ts, self.epoch))
            elif d.kind == "backchannel":
                await self.system.publish(Backchannel(cid, ts, float(min(max(own[3], 0.0), 1.0))))
            elif d.kind == "bargein":
                self.paused = False
                await self.system.publish(BargeIn(cid, ts))
            elif d.kind == "pause":
                self.paused = True
                await self.system.publish(PausePlayout(cid, ts))
            elif d.kind == "resume":
                self.paused = False
                await self.system.publish(ResumePlayout(cid, ts))
        self.frames_done += n
        self.next_ts_ns = base + self.frames_done * FRAME_NS
        if self.publish_state:
            p = [float(min(max(v, 0.0), 1.0)) for v in probs]
            owner: FloorOwner = "persona" if persona else ("user" if p[0] >= 0.5 else "none")
            await self.system.publish(
                FloorState(
                    conversation_id=cid, ts_ns=self.next_ts_ns, p_keep=p[0], p_end_200=p[1],
                    p_end_600=p[2], backchannel=p[3], user_speaking=user,
                    persona_speaking=persona, owner=owner,
                )
            )
