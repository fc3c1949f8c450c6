"""The runtime side of one actor: its mailbox, its message loop, its requests."""

from __future__ import annotations

import functools
import logging
import sys
from typing import TYPE_CHECKING, Any, Callable

import msgspec
import trio

from cadence.actors._actor import Actor
from cadence.actors._mailbox import STOP, Mailbox, MailboxSpec
from cadence.actors._ref import ActorRef
from cadence.actors._trace import Tracer, current_actor
from cadence.actors._watchdog import actor_frames
from cadence.errors import ActorError, ActorStoppedError, InvalidArgumentError, MailboxFullError

if TYPE_CHECKING:
    from cadence.actors._system import ActorSystem

__all__ = ["ActorCell", "ActorStatistics"]

log = logging.getLogger("cadence.actors")


class ActorStatistics(msgspec.Struct, frozen=True):
    """Counters of one actor's mailbox and supervision."""

    name: str
    depth: int
    peak_depth: int
    capacity: int
    overflow: str
    delivered: int
    dropped: int
    rejected: int
    blocked_senders: int
    restarts: int
    stopped: bool
    refused: int = 0  # messages its handler refused (``Actor.refuses``) without crashing


class _Envelope:
    """A message with a reply slot and/or trace stamps (plain sends skip it)."""

    __slots__ = ("msg", "reply", "sender", "enqueue_ns")

    def __init__(self, msg: Any, reply: _Reply | None, sender: str, enqueue_ns: int) -> None:
        self.msg = msg
        self.reply = reply
        self.sender = sender
        self.enqueue_ns = enqueue_ns


class _Reply:
    __slots__ = ("envelope", "event", "value", "error", "abandoned")

    def __init__(self) -> None:
        self.envelope: _Envelope
        self.event = trio.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.abandoned = False

    def set(self, value: Any) -> None:
        if not self.event.is_set():
            self.value = value
            self.event.set()

    def fail(self, error: BaseException) -> None:
        if not self.event.is_set():
            self.error = error
            self.event.set()

    def abandon(self) -> None:
        self.abandoned = True


def _actor_class(factory: Any) -> type | None:
    """The class ``factory`` builds when that can be read without calling it: the factory
    itself when it is a class, or the class under a (nested) ``functools.partial``."""
    while isinstance(factory, functools.partial):
        factory = factory.func
    return factory if isinstance(factory, type) else None


def check_accepts(accepts: Any) -> tuple[type, ...]:
    """``accepts`` as a tuple of types, or :class:`InvalidArgumentError`."""
    try:
        types = tuple(accepts)
    except TypeError:
        types = ()
    if not types or not all(isinstance(t, type) for t in types):
        raise InvalidArgumentError(f"accepts must be a non-empty tuple of types, got {accepts!r}")
    return types


class ActorCell:
    """Owns an actor's mailbox across restarts; runs one incarnation at a time.

    ``adopt_mailbox``/``adopt_accepts``: the spawner could not read the actor's class
    (a lambda factory), so the class attributes are read from the first instance built.
    """

    def __init__(self, system: ActorSystem, name: str, factory: Callable[[], Actor],
                 spec: MailboxSpec, accepts: tuple[type, ...] | None, tracer: Tracer | None,
                 *, adopt_mailbox: bool = False, adopt_accepts: bool = False) -> None:
        self.system = system
        self.name = name
        self.factory = factory
        self.accepts = accepts
        self._adopt_mailbox = adopt_mailbox
        self._adopt_accepts = adopt_accepts
        self.tracer = tracer
        self.mailbox = Mailbox(name, spec, self._on_discard)
        self.ref = ActorRef(name, self)
        self.restarts = 0
        # supervision state, driven by the parent Supervisor
        self.stopping = False
        self.stop_deadline = float("inf")
        self._stop_scope: trio.CancelScope | None = None  # on_stop's, while it runs
        self.scope: trio.CancelScope | None = None
        self.in_backoff = False
        self.restart_pending = False
        self.stopped = trio.Event()
        self._current: Any = None
        self._inflight: _Reply | None = None
        self.refused = 0

    # -- sending ---------------------------------------------------------------------
    def _check(self, msg: Any) -> None:
        if not isinstance(msg, self.accepts):  # type: ignore[arg-type]
            raise self._not_accepted(msg)

    def _not_accepted(self, msg: Any) -> InvalidArgumentError:
        names = ", ".join(t.__name__ for t in self.accepts or ())
        return InvalidArgumentError(f"actor {self.name!r} accepts {names}, not {type(msg).__name__}")

    async def send(self, msg: Any) -> None:
        if self.accepts is not None:
            self._check(msg)
        tracer = self.tracer
        if tracer is not None:
            msg = _Envelope(msg, None, current_actor.get(), tracer.now_ns())
        await self.mailbox.put(msg)

    def try_send(self, msg: Any) -> None:
        if self.accepts is not None:
            self._check(msg)
        tracer = self.tracer
        if tracer is not None:
            msg = _Envelope(msg, None, current_actor.get(), tracer.now_ns())
        self.mailbox.put_nowait(msg)

    def make_request(self, msg: Any) -> _Reply:
        if self.accepts is not None:
            self._check(msg)
        if self.mailbox.closed:
            raise ActorStoppedError(f"actor {self.name!r} has stopped")
        reply = _Reply()
        tracer = self.tracer
        reply.envelope = _Envelope(msg, reply, current_actor.get(),
                                   tracer.now_ns() if tracer is not None else 0)
        return reply

    def _on_discard(self, item: Any) -> None:
        if type(item) is _Envelope and item.reply is not None:
            item.reply.fail(MailboxFullError(
                f"request {type(item.msg).__name__} to {self.name!r} was dropped by its mailbox policy"))

    def _fail_left(self, items: list[Any]) -> None:
        """Requests left in the mailbox at a stop get an error; sent messages are counted in the log."""
        unhandled = 0
        for item in items:
            if type(item) is _Envelope and item.reply is not None:
                item.reply.fail(ActorStoppedError(
                    f"actor {self.name!r} stopped before handling {type(item.msg).__name__}"))
            elif item is not STOP:
                unhandled += 1
        if unhandled:
            log.warning("actor %r stopped with %d sent message(s) not handled", self.name, unhandled,
                        extra={"actor": self.name})

    # -- stopping ------------------------------------------------------------------------
    def request_stop(self, deadline: float) -> None:
        if self.stopped.is_set():
            return
        self.stop_deadline = min(self.stop_deadline, deadline)
        if not self.stopping:
            self.stopping = True
            self._fail_left(self.mailbox.close())
        if self._stop_scope is not None:  # on_stop already running (a restart's): now bounded too
            self._stop_scope.deadline = min(self._stop_scope.deadline, self.stop_deadline)
        scope = self.scope
        if scope is not None:
            if self.in_backoff:
                scope.cancel()
            else:
                scope.deadline = min(scope.deadline, self.stop_deadline)
        else:
            # no task runs it (its supervisor escalated and waits for its own restart, or has not
            # started it yet): nothing may ever finish it, so it finishes now (finish is idempotent)
            self.finish()

    def finish(self) -> None:
        """Final: refuse messages, fail what is queued, leave the registry."""
        if self.stopped.is_set():
            return
        self.stopping = True
        self._fail_left(self.mailbox.close())
        self.system._forget(self.name)
        self.stopped.set()

    def statistics(self) -> ActorStatistics:
        mb = self.mailbox
        return ActorStatistics(
            name=self.name, depth=mb.depth, peak_depth=mb.peak, capacity=mb.capacity,
            overflow=mb.overflow.value, delivered=mb.delivered, dropped=mb.dropped,
            rejected=mb.rejected, blocked_senders=mb.blocked_senders,
            restarts=self.restarts, stopped=self.stopped.is_set(), refused=self.refused)

    # -- running ---------------------------------------------------------------------------
    async def incarnation(self) -> None:
        """Run one life: returns when stopped (or cancelled for a restart), raises on crash."""
        frame = sys._getframe()
        actor_frames[frame] = self.name
        current_actor.set(self.name)
        self._current = None
        where = "on_start"
        try:
            actor = self.factory()
            if not isinstance(actor, Actor):
                raise InvalidArgumentError(
                    f"factory of {self.name!r} returned {type(actor).__name__}, not an Actor")
            if self._adopt_mailbox or self._adopt_accepts:
                self._adopt(type(actor))
            actor.ref = self.ref
            actor.system = self.system
            try:
                await actor.on_start()
                where = "handle"
                await self._loop(actor)
            except Exception as exc:
                msg = self._current if where == "handle" else None
                mtype = type(msg).__name__ if msg is not None else "-"
                log.error("actor %r crashed in %s (message %s): %r", self.name, where, mtype, exc,
                          exc_info=exc, extra={"actor": self.name, "message_type": mtype})
                if self._inflight is not None:
                    err = ActorError(f"actor {self.name!r} crashed handling {mtype}: {exc!r}")
                    err.__cause__ = exc
                    self._inflight.fail(err)
                    self._inflight = None
                # bounded and shielded as on_stop is: a hook that waits (a full subscriber) cannot
                # hold up the restart or the escalation
                with trio.CancelScope(shield=True, deadline=min(
                        self.stop_deadline, trio.current_time() + self.system.stop_timeout)) as scope:
                    try:
                        await actor.on_failure(exc, msg)
                    except Exception:
                        log.exception("on_failure of actor %r raised", self.name)
                if scope.cancelled_caught:
                    log.warning("on_failure of actor %r was cancelled at its deadline", self.name)
                raise
            except BaseException:
                self._stop_inflight()
                await self._on_stop(actor)
                raise
            self._stop_inflight()
            await self._on_stop(actor)
        finally:
            actor_frames.pop(frame, None)

    def _adopt(self, cls: type[Actor]) -> None:
        """Take the class attributes the spawner could not read (a lambda factory), once, before
        the first instance takes a message. Messages sent before then that the class does not
        accept are refused as ``send`` would have refused them (a request's sender, or a
        blocked sender, gets the error), and pub/sub routes are read again. A malformed
        ``accepts`` raises here, at every start, as ``spawn`` raises for the class itself."""
        if self._adopt_accepts:
            accepts = getattr(cls, "accepts", None)
            if accepts is not None:
                self.accepts = check_accepts(accepts)
                self.mailbox.screen(self._accepted, self._refused_early)
                for t in self.system._topics.accepts_changed(self.ref):
                    log.warning("actor %r accepts no %s: its subscription to it is dropped",
                                self.name, t.__name__, extra={"actor": self.name})
            self._adopt_accepts = False
        if self._adopt_mailbox:
            spec = getattr(cls, "mailbox", None)
            if isinstance(spec, MailboxSpec):
                self.mailbox.resize(spec.capacity, spec.overflow)
            self._adopt_mailbox = False

    def _accepted(self, item: Any) -> bool:
        return isinstance(item.msg if type(item) is _Envelope else item, self.accepts)  # type: ignore[arg-type]

    def _refused_early(self, item: Any) -> InvalidArgumentError:
        """A message queued before ``accepts`` was adopted that the class does not take: refused
        (its request fails), and the error for its sender if it is still blocked."""
        envelope = type(item) is _Envelope
        exc = self._not_accepted(item.msg if envelope else item)
        if envelope and item.reply is not None:
            self._inflight = item.reply
        self._refuse(item, exc)
        return exc

    def _stop_inflight(self) -> None:
        if self._inflight is not None:
            self._inflight.fail(ActorStoppedError(
                f"actor {self.name!r} stopped while handling {type(self._current).__name__}"))
            self._inflight = None

    async def _on_stop(self, actor: Actor) -> None:
        # bounded by the stop's deadline; when a sibling's restart or an escalation ends this
        # incarnation (no stop asked: no deadline yet), by the system's stop timeout from now
        deadline = self.stop_deadline
        if deadline == float("inf"):
            deadline = trio.current_time() + self.system.stop_timeout
        with trio.CancelScope(shield=True, deadline=deadline) as scope:
            self._stop_scope = scope
            try:
                await actor.on_stop()
            except Exception:
                log.exception("on_stop of actor %r raised", self.name)
            finally:
                self._stop_scope = None
        if scope.cancelled_caught:
            log.warning("on_stop of actor %r was cancelled at its stop deadline", self.name)

    async def _loop(self, actor: Actor) -> None:
        get = self.mailbox.get
        handle = actor.handle
        mailbox = self.mailbox
        refuses = type(actor).refuses  # () catches nothing (a try costs nothing until it raises)
        coalesce, coalesce_max = type(actor).coalesce, type(actor).coalesce_max
        while True:
            item = await get()
            if item is STOP:
                return
            mailbox.delivered += 1
            if coalesce and type(item) in coalesce and mailbox.depth:
                await self._coalesced(actor, item, coalesce, coalesce_max)
                continue
            try:
                if type(item) is _Envelope:
                    await self._handle_envelope(handle, item)
                else:
                    self._current = item
                    await handle(item)
            except refuses as exc:
                self._refuse(item, exc)

    async def _coalesced(self, actor: Actor, first: Any, types: tuple[type, ...], limit: int) -> None:
        """``take`` each message that waits (a refused one alone), then one ``flush``: an actor
        that fell behind catches up with one piece of work for them. Messages are taken from the
        mailbox one at a time, so if ``take`` crashes the ones after it are still there for the
        next incarnation; the ones taken before it are flushed first."""
        refuses = type(actor).refuses
        mailbox = self.mailbox
        item, count, taken = first, 1, 0
        while True:
            self._current = item
            try:
                await actor.take(item)
                taken += 1
            except refuses as exc:
                self._refuse(item, exc)
            except Exception:
                if taken:
                    try:
                        await actor.flush()  # the messages before it are done, as one at a time
                    except Exception:
                        log.exception("flush of actor %r after a failed take raised", self.name)
                raise
            if count >= limit:
                break
            nxt = mailbox.take_ready(types, 1)
            if not nxt:
                break
            item = nxt[0]
            mailbox.delivered += 1
            count += 1
        await actor.flush()

    def _refuse(self, item: Any, exc: Exception) -> None:
        """The handler refused a bad message: the requester gets the error, the actor goes on."""
        self.refused += 1
        msg = item.msg if type(item) is _Envelope else item
        if self._inflight is not None:
            self._inflight.fail(exc)
            self._inflight = None
        else:
            log.warning("actor %r refused %s: %s", self.name, type(msg).__name__, exc,
                        extra={"actor": self.name, "message_type": type(msg).__name__})

    async def _handle_envelope(self, handle: Callable[[Any], Any], env: _Envelope) -> None:
        msg = self._current = env.msg
        tracer = self.tracer
        dequeue_ns = tracer.now_ns() if tracer is not None else 0
        reply = env.reply
        try:
            if reply is None or reply.abandoned:
                await handle(msg)
            else:
                self._inflight = reply
                result = await handle(msg)
                self._inflight = None
                reply.set(result)
        finally:
            if tracer is not None:
                tracer.record(env.sender, self.name, type(msg).__name__,
                              env.enqueue_ns or dequeue_ns, dequeue_ns, tracer.now_ns())
