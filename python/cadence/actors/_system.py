"""The actor system: a root supervisor, a name registry, topics, clocks, tracing."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable

import trio

from cadence.actors._actor import Actor
from cadence.actors._cell import ActorCell, ActorStatistics
from cadence.actors._clock import MediaClock
from cadence.actors._mailbox import MailboxSpec
from cadence.actors._pubsub import Topics
from cadence.actors._ref import ActorRef, _check_timeout
from cadence.actors._supervisor import RestartPolicy, Supervisor
from cadence.actors._trace import Tracer
from cadence.actors._watchdog import Watchdog
from cadence.errors import ActorStoppedError, EscalationError, InvalidArgumentError

__all__ = ["ActorSystem", "open_actor_system"]

log = logging.getLogger("cadence.actors")


class ActorSystem:
    """Made by :func:`open_actor_system`; spawn, address, publish, trace."""

    def __init__(self, policy: RestartPolicy, tracer: Tracer | None, watchdog: Watchdog | None,
                 stop_timeout: float = 1.0) -> None:
        self.tracer = tracer
        # how long an on_stop may take when no stop set a deadline (a restart's, an escalation's)
        self.stop_timeout = stop_timeout
        self.watchdog = watchdog
        self._names: set[str] = set()
        self._cells: dict[str, ActorCell] = {}
        self._supervisors: dict[str, Supervisor] = {}
        self._topics = Topics()
        self._clocks: dict[str, MediaClock] = {}
        self.root = Supervisor(self, "/", policy)
        self._names.add("/")

    # -- names ----------------------------------------------------------------------------
    def _claim(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(f"actor name must be a non-empty str, got {name!r}")
        if name in self._names:
            raise InvalidArgumentError(f"an actor or supervisor named {name!r} is already running")
        self._names.add(name)

    def _register(self, cell: ActorCell) -> None:
        self._cells[cell.name] = cell

    def _forget(self, name: str) -> None:
        self._names.discard(name)
        cell = self._cells.pop(name, None)
        self._supervisors.pop(name, None)
        if cell is not None:
            self._topics.unsubscribe(cell.ref)

    def ref(self, name: str) -> ActorRef:
        """The ref of the running actor ``name`` (ActorStoppedError if none)."""
        cell = self._cells.get(name)
        if cell is None:
            raise ActorStoppedError(f"no running actor named {name!r}")
        return cell.ref

    def supervisor(self, name: str) -> Supervisor:
        sup = self._supervisors.get(name)
        if sup is None:
            raise ActorStoppedError(f"no running supervisor named {name!r}")
        return sup

    # -- spawning (on the root supervisor) -------------------------------------------------
    def spawn(self, factory: Callable[[], Actor], name: str, *, mailbox: MailboxSpec | None = None,
              accepts: tuple[type, ...] | None = None) -> ActorRef:
        """Spawn under the root supervisor; see :meth:`Supervisor.spawn`."""
        return self.root.spawn(factory, name, mailbox=mailbox, accepts=accepts)

    def spawn_supervisor(self, name: str, policy: RestartPolicy | None = None) -> Supervisor:
        return self.root.spawn_supervisor(name, policy)

    # -- pub/sub ----------------------------------------------------------------------------
    def subscribe(self, ref: ActorRef, msg_type: type) -> None:
        self._topics.subscribe(ref, msg_type)

    def unsubscribe(self, ref: ActorRef, msg_type: type | None = None) -> None:
        self._topics.unsubscribe(ref, msg_type)

    async def publish(self, msg: Any) -> int:
        return await self._topics.publish(msg)

    # -- clocks and stats -----------------------------------------------------------------------
    def media_clock(self, conversation_id: str) -> MediaClock:
        """The one media clock of ``conversation_id`` (created on first use)."""
        clock = self._clocks.get(conversation_id)
        if clock is None:
            clock = self._clocks[conversation_id] = MediaClock(conversation_id)
        return clock

    def statistics(self) -> dict[str, ActorStatistics]:
        return {name: cell.statistics() for name, cell in self._cells.items()}

    # -- lifetime ---------------------------------------------------------------------------------
    async def _run_root(self, nursery: trio.Nursery, escalated: list[EscalationError]) -> None:
        try:
            await self.root.incarnation()
        except EscalationError as exc:
            escalated.append(exc)
            nursery.cancel_scope.cancel()
        finally:
            self.root.finish()

    async def shutdown(self, timeout: float) -> None:
        """Stop every actor (bounded by ``timeout``) and wait, unless called from
        inside an actor, which cannot wait for its own end (see ``Supervisor.stop``)."""
        self.root.request_stop(trio.current_time() + _check_timeout(timeout))
        if self.root.runs_current_actor():
            return
        with trio.CancelScope(shield=True):
            await self.root.stopped.wait()


def _collapse(group: BaseExceptionGroup[Any]) -> BaseException:
    leaves: list[BaseException] = []

    def walk(e: BaseException) -> None:
        if isinstance(e, BaseExceptionGroup):
            for sub in e.exceptions:
                walk(sub)
        elif not isinstance(e, trio.Cancelled):
            leaves.append(e)

    walk(group)
    return leaves[0] if len(leaves) == 1 else group


@asynccontextmanager
async def open_actor_system(
    *,
    policy: RestartPolicy | None = None,
    shutdown_timeout: float = 1.0,
    tracer: Tracer | None = None,
    watchdog: Watchdog | None = None,
) -> AsyncIterator[ActorSystem]:
    """Run an actor system for the duration of the ``async with`` block.

    ``policy`` is the root supervisor's. On exit every actor is stopped: each
    current handler gets until ``shutdown_timeout`` s, then is cancelled. The same
    timeout bounds an ``on_stop`` or ``on_failure`` that no stop bounds (at a restart
    or an escalation). If the
    root supervisor escalates, the block is cancelled and EscalationError is
    raised from here. ``tracer`` turns on hop tracing; ``watchdog`` (e.g.
    ``Watchdog(0.02)``) turns on the loop-stall watchdog.
    """
    if not (isinstance(shutdown_timeout, (int, float)) and shutdown_timeout >= 0):
        raise InvalidArgumentError(f"shutdown_timeout must be >= 0, got {shutdown_timeout!r}")
    system = ActorSystem(policy or RestartPolicy(), tracer, watchdog, shutdown_timeout)
    escalated: list[EscalationError] = []
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(system._run_root, nursery, escalated, name="actor-system-root")
            if watchdog is not None:
                watchdog.start()
            try:
                yield system
            finally:
                with trio.CancelScope(shield=True):
                    await system.shutdown(shutdown_timeout)
                    if watchdog is not None:
                        await watchdog.stop()
    except BaseExceptionGroup as group:
        raise _collapse(group) from None
    if escalated:
        raise escalated[0]
