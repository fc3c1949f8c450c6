"""The actor base class: one ``handle`` coroutine and three lifecycle hooks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from cadence.actors._mailbox import MailboxSpec

if TYPE_CHECKING:
    from cadence.actors._ref import ActorRef
    from cadence.actors._system import ActorSystem

__all__ = ["Actor"]


class Actor(ABC):
    """Subclass and implement :meth:`handle`.

    The runtime creates a fresh instance for every (re)start from the factory
    given to ``spawn``, so state that must survive a crash belongs elsewhere.
    Class attributes configure the mailbox: ``mailbox`` (capacity and overflow
    policy) and ``accepts`` (the message types it takes; ``None``: any).
    ``refuses``: exception types that mean "this message is bad", not "this actor is
    broken": when ``handle`` raises one, the message is refused (a request gets the
    error, a sent message is logged and counted) and the actor keeps its state and
    goes on; any other exception crashes it (the supervisor restarts it). A handler
    that refuses must check before it changes anything.
    """

    mailbox: ClassVar[MailboxSpec] = MailboxSpec()
    accepts: ClassVar[tuple[type, ...] | None] = None
    refuses: ClassVar[tuple[type[Exception], ...]] = ()
    #: message types sent (not requested) that may be taken together: when several wait in a
    #: row at the head of the mailbox (the actor fell behind), the runtime calls :meth:`take`
    #: on each (each refused alone) and then :meth:`flush` once, in place of ``handle`` on each.
    #: An actor that gains from it overrides both; its ``handle(msg)`` should be ``take`` then ``flush``.
    #: Messages sent with hop tracing on arrive wrapped, and are handled one at a time.
    coalesce: ClassVar[tuple[type, ...]] = ()
    #: at most this many messages taken before a flush
    coalesce_max: ClassVar[int] = 64

    ref: ActorRef
    system: ActorSystem

    async def on_start(self) -> None:
        """Before the first message of each incarnation."""

    @abstractmethod
    async def handle(self, msg: Any) -> Any:
        """Process one message; the return value is the reply to a request."""

    async def take(self, msg: Any) -> None:
        """Accept one ``coalesce`` message without doing its work (see ``coalesce``). By default
        it does the work at once (``handle``), so an actor that names types without its own
        ``take`` and ``flush`` behaves as one that names none."""
        await self.handle(msg)

    async def flush(self) -> None:
        """Do the work of the messages taken since the last flush (see ``coalesce``). By default
        there is none left (the default ``take`` did it)."""

    async def on_stop(self) -> None:
        """When the actor stops (stop, shutdown, or a one-for-all restart of a sibling).

        Runs shielded, bounded by the stop's deadline; when no stop set one (a sibling's
        restart, an escalation), by the system's ``shutdown_timeout`` from now."""

    async def on_failure(self, exc: Exception, msg: Any | None) -> None:
        """After ``handle`` (``msg``) or ``on_start`` (``msg`` None) raised ``exc``,
        before the supervisor restarts or escalates. Runs shielded, bounded by the
        system's ``shutdown_timeout`` from now."""

    def stop(self) -> None:
        """Stop this actor after the current message (not restarted)."""
        self.ref.stop_nowait()
