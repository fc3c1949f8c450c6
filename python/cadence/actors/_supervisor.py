"""Supervision: restart crashed children, or give up and escalate.

A :class:`Supervisor` runs its children in one trio nursery. When a child
crashes it is restarted after a backoff (``ONE_FOR_ONE``), or all its siblings
are cancelled (their ``on_stop`` runs) and restarted with it (``ONE_FOR_ALL``).
More than ``max_restarts`` crashes within ``within_s`` seconds and the
supervisor stops all its children and raises :class:`EscalationError` to its
own parent, which treats it as a crashed child; at the root the error leaves
``open_actor_system``.
"""

from __future__ import annotations

import enum
import logging
import math
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Union

import msgspec
import trio

from cadence.actors._actor import Actor
from cadence.actors._cell import ActorCell, _actor_class, check_accepts
from cadence.actors._mailbox import MailboxSpec
from cadence.actors._ref import _check_timeout
from cadence.actors._trace import current_actor
from cadence.errors import EscalationError, InvalidArgumentError

if TYPE_CHECKING:
    from cadence.actors._ref import ActorRef
    from cadence.actors._system import ActorSystem

__all__ = ["Strategy", "RestartPolicy", "Supervisor"]

log = logging.getLogger("cadence.actors")


class Strategy(enum.Enum):
    ONE_FOR_ONE = "one_for_one"
    ONE_FOR_ALL = "one_for_all"


class RestartPolicy(msgspec.Struct, frozen=True):
    """How a supervisor restarts: strategy, limit per window, exponential backoff.

    The n-th restart inside the window waits ``min(backoff_max_s,
    backoff_s * backoff_factor ** (n - 1))`` seconds.
    """

    strategy: Strategy = Strategy.ONE_FOR_ONE
    max_restarts: int = 3
    within_s: float = 5.0
    backoff_s: float = 0.0
    backoff_max_s: float = 1.0
    backoff_factor: float = 2.0

    def __post_init__(self) -> None:
        if not isinstance(self.strategy, Strategy):
            raise InvalidArgumentError(f"strategy must be a Strategy, got {self.strategy!r}")
        if not isinstance(self.max_restarts, int) or self.max_restarts < 0:
            raise InvalidArgumentError(f"max_restarts must be an int >= 0, got {self.max_restarts!r}")
        for field in ("within_s", "backoff_s", "backoff_max_s"):
            v = getattr(self, field)
            if not (isinstance(v, (int, float)) and v >= 0):
                raise InvalidArgumentError(f"{field} must be >= 0, got {v!r}")
        if not (isinstance(self.backoff_factor, (int, float)) and self.backoff_factor >= 1):
            raise InvalidArgumentError(f"backoff_factor must be >= 1, got {self.backoff_factor!r}")

    def delay(self, n: int) -> float:
        """Backoff before the ``n``-th restart (n >= 1) inside the window."""
        if self.backoff_s == 0 or self.backoff_factor == 1:
            return float(min(self.backoff_max_s, self.backoff_s))
        # in logs: factor ** (n - 1) overflows a float past a thousand restarts or so
        if math.log(self.backoff_s) + (n - 1) * math.log(self.backoff_factor) >= math.log(max(self.backoff_max_s, 1e-300)):
            return float(self.backoff_max_s)
        return float(self.backoff_s * self.backoff_factor ** (n - 1))


Child = Union[ActorCell, "Supervisor"]


class Supervisor:
    """A named node of the supervision tree; spawn actors and sub-supervisors on it."""

    def __init__(self, system: ActorSystem, name: str, policy: RestartPolicy) -> None:
        self.system = system
        self.name = name
        self.policy = policy
        self.children: list[Child] = []
        self.restarts = 0
        self.stopping = False
        self.stop_deadline = float("inf")
        self.scope: trio.CancelScope | None = None
        self.in_backoff = False
        self.restart_pending = False
        self.stopped = trio.Event()
        self._nursery: trio.Nursery | None = None
        self._stop_requested = trio.Event()
        self._window: deque[float] = deque()
        self._escalation: EscalationError | None = None
        self._sibling_delay = 0.0

    # -- building the tree ---------------------------------------------------------------
    def spawn(self, factory: Callable[[], Actor], name: str, *, mailbox: MailboxSpec | None = None,
              accepts: tuple[type, ...] | None = None) -> ActorRef:
        """Start an actor under this supervisor; returns at once with its ref.

        ``factory`` (an Actor subclass or any zero-argument callable) builds a
        fresh instance per (re)start. ``mailbox``/``accepts`` override the
        class attributes. The class is read from ``factory`` when it is one or a
        ``functools.partial`` of one; for any other callable (a lambda), from the
        first instance it builds, before that instance takes a message: messages
        sent before then that the class does not accept are refused, not handled.
        """
        if not callable(factory):
            raise InvalidArgumentError(f"factory must be callable, got {factory!r}")
        cls = _actor_class(factory)
        if cls is not None and not issubclass(cls, Actor):
            raise InvalidArgumentError(f"{cls.__name__} is not an Actor subclass")
        cls_spec = getattr(cls, "mailbox", None)
        spec = mailbox or (cls_spec if isinstance(cls_spec, MailboxSpec) else MailboxSpec())
        if accepts is None and cls is not None:
            accepts = getattr(cls, "accepts", None)
        if accepts is not None:
            accepts = check_accepts(accepts)
        self.system._claim(name)
        cell = ActorCell(self.system, name, factory, spec, accepts, self.system.tracer,
                         adopt_mailbox=cls is None and mailbox is None,
                         adopt_accepts=cls is None and accepts is None)
        self.system._register(cell)
        self._adopt(cell)
        return cell.ref

    def spawn_supervisor(self, name: str, policy: RestartPolicy | None = None) -> Supervisor:
        """A child supervisor (its crash = its escalation, handled by this one)."""
        self.system._claim(name)
        sup = Supervisor(self.system, name, policy or RestartPolicy())
        self.system._supervisors[name] = sup
        self._adopt(sup)
        return sup

    def _adopt(self, child: Child) -> None:
        if self.stopping or self.stopped.is_set():
            child.finish()
            raise InvalidArgumentError(f"supervisor {self.name!r} is stopping; cannot spawn {child.name!r}")
        self.children.append(child)
        if self._nursery is not None:
            self._nursery.start_soon(self._supervise, child, name=f"actor:{child.name}")

    # -- stopping -----------------------------------------------------------------------------
    def request_stop(self, deadline: float) -> None:
        if self.stopped.is_set():
            return
        self.stop_deadline = min(self.stop_deadline, deadline)
        self.stopping = True
        self._stop_requested.set()
        for child in list(self.children):
            child.request_stop(self.stop_deadline)
        if self.scope is not None and self.in_backoff:
            self.scope.cancel()

    async def stop(self, timeout: float = 1.0) -> None:
        """Stop every child (bounded by ``timeout``) and wait until all have.

        Called from inside one of its own actors, it cannot wait for that
        actor's end: it requests the stop and returns.
        """
        self.request_stop(trio.current_time() + _check_timeout(timeout))
        if self.runs_current_actor():
            return
        with trio.CancelScope(shield=True):
            await self.stopped.wait()

    def runs_current_actor(self) -> bool:
        """Whether the calling task belongs to an actor of this subtree."""
        name = current_actor.get()
        todo: list[Supervisor] = [self]
        while todo:
            for child in todo.pop().children:
                if isinstance(child, Supervisor):
                    todo.append(child)
                elif child.name == name:
                    return True
        return False

    def finish(self) -> None:
        if self.stopped.is_set():
            return
        self.stopping = True
        for child in list(self.children):
            child.finish()
        self.system._forget(self.name)
        self.stopped.set()

    # -- running -------------------------------------------------------------------------------
    async def incarnation(self) -> None:
        """Run the children until stopped; raise EscalationError past the limit."""
        self._window.clear()
        self._escalation = None
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                for child in list(self.children):
                    nursery.start_soon(self._supervise, child, name=f"actor:{child.name}")
                await self._stop_requested.wait()
                for child in list(self.children):
                    child.request_stop(self.stop_deadline)
        finally:
            self._nursery = None
        if self._escalation is not None:
            raise self._escalation

    async def _supervise(self, child: Child) -> None:
        delay = 0.0
        while not child.stopping:
            crashed: Exception | None = None
            try:
                with trio.CancelScope(deadline=child.stop_deadline) as scope:
                    child.scope = scope
                    if delay > 0:
                        child.in_backoff = True
                        await trio.sleep(delay)
                    child.in_backoff = False
                    child.restart_pending = False
                    if not child.stopping:
                        try:
                            await child.incarnation()
                        except Exception as exc:
                            crashed = exc
            finally:
                # also when this supervisor's own nursery is cancelled (it escalated): no scope
                # left means no task runs the child, so a stop finishes it at once
                child.scope = None
                child.in_backoff = False
            if child.stopping:
                break
            if crashed is not None:
                next_delay = self._on_crash(child, crashed)
                if next_delay is None:
                    return  # escalating: the nursery is cancelled; children stay for a restart
                delay = next_delay
            elif child.restart_pending:
                delay = self._sibling_delay
            else:
                break  # stopped itself
            child.restarts += 1
        if child in self.children:
            self.children.remove(child)
        child.finish()

    def _on_crash(self, child: Child, exc: Exception) -> float | None:
        policy = self.policy
        now = trio.current_time()
        window = self._window
        while window and now - window[0] > policy.within_s:
            window.popleft()
        if len(window) >= policy.max_restarts:
            err = EscalationError(
                f"supervisor {self.name!r} gives up: {child.name!r} crashed after "
                f"{len(window)} restart(s) within {policy.within_s} s ({exc!r})")
            err.__cause__ = exc
            log.error("%s", err, extra={"actor": child.name})
            self._escalation = err
            if self._nursery is not None:
                self._nursery.cancel_scope.cancel()
            return None
        window.append(now)
        delay = policy.delay(len(window))
        log.warning("restarting %r in %.3f s (%s, restart %d in window)",
                    child.name, delay, policy.strategy.value, len(window))
        if policy.strategy is Strategy.ONE_FOR_ALL:
            self._sibling_delay = delay
            for sibling in self.children:
                if sibling is not child and not sibling.stopping:
                    sibling.restart_pending = True
                    if sibling.scope is not None:
                        sibling.scope.cancel()
        return delay

    def statistics(self) -> dict[str, Any]:
        return {"name": self.name, "restarts": self.restarts,
                "children": [c.name for c in self.children]}
