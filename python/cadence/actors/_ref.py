"""Actor addresses: a ref is a name, resolved to a local mailbox when used."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio

from cadence.actors._trace import current_actor
from cadence.errors import InvalidArgumentError, RequestTimeoutError

if TYPE_CHECKING:
    from cadence.actors._cell import ActorCell, ActorStatistics

__all__ = ["ActorRef"]


def _check_timeout(timeout: object) -> float:
    """A timeout in seconds: a real number >= 0 (``math.inf``: none). NaN is refused."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
        raise InvalidArgumentError(f"timeout must be a number of seconds >= 0, got {timeout!r}")
    return float(timeout)


class ActorRef:
    """The address of an actor: equal and hashable by ``name`` only.

    It caches the local cell it resolved to; the name is all that would cross a
    process boundary.
    """

    __slots__ = ("name", "_cell")

    def __init__(self, name: str, cell: ActorCell) -> None:
        self.name = name
        self._cell = cell

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActorRef) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("ActorRef", self.name))

    def __repr__(self) -> str:
        return f"ActorRef({self.name!r})"

    def __reduce__(self) -> Any:
        raise TypeError("an ActorRef is sent as its name (ref.name), not pickled")

    async def send(self, msg: Any) -> None:
        """Deliver ``msg`` per the mailbox policy (``BLOCK`` waits for room)."""
        await self._cell.send(msg)

    def try_send(self, msg: Any) -> None:
        """Deliver without waiting; a full ``BLOCK``/``REJECT`` mailbox raises MailboxFullError."""
        self._cell.try_send(msg)

    async def request(self, msg: Any, timeout: float) -> Any:
        """Send ``msg`` and wait for the handler's return value.

        Raises RequestTimeoutError after ``timeout`` seconds (trio clock),
        ActorStoppedError if the actor stops first, ActorError if its handler
        crashed, the handler's own exception if it refused the message (one of the
        actor's ``refuses`` types), MailboxFullError if a drop/reject policy discarded
        the request.
        """
        _check_timeout(timeout)
        reply = self._cell.make_request(msg)
        with trio.move_on_after(timeout) as scope:
            await self._cell.mailbox.put(reply.envelope)
            await reply.event.wait()
        if reply.error is not None:
            raise reply.error
        if scope.cancelled_caught and not reply.event.is_set():
            reply.abandon()
            raise RequestTimeoutError(
                f"request {type(msg).__name__} to {self.name!r} got no reply in {timeout} s"
            )
        return reply.value

    async def stop(self, timeout: float = 1.0) -> None:
        """Stop the actor and wait until it has: the current handler may finish
        within ``timeout`` s, then it is cancelled; ``on_stop`` is bounded too.

        Called by the actor itself (from its handler or a task it started), it
        cannot wait for its own end: it requests the stop and returns, and the
        actor stops once the current handler returns (or at the deadline).
        """
        self._cell.request_stop(trio.current_time() + _check_timeout(timeout))
        if current_actor.get() == self.name:
            return
        with trio.CancelScope(shield=True):
            await self._cell.stopped.wait()

    def stop_nowait(self, timeout: float = 1.0) -> None:
        """Ask the actor to stop; do not wait."""
        self._cell.request_stop(trio.current_time() + _check_timeout(timeout))

    def statistics(self) -> ActorStatistics:
        return self._cell.statistics()

    @property
    def stopped(self) -> bool:
        return self._cell.stopped.is_set()
