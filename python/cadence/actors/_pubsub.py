"""Publish/subscribe by message type.

Subscribing an actor to a class delivers every published instance of that class
or of a subclass that the actor ``accepts`` (a subscription to a class it can take
none of is refused). The routing per concrete type is cached and rebuilt on change.
"""

from __future__ import annotations

from typing import Any

from cadence.actors._ref import ActorRef
from cadence.errors import ActorStoppedError, InvalidArgumentError, MailboxFullError

__all__ = ["Topics"]


class Topics:
    def __init__(self) -> None:
        self._subs: dict[type, list[ActorRef]] = {}
        self._routes: dict[type, tuple[ActorRef, ...]] = {}

    def subscribe(self, ref: ActorRef, msg_type: type) -> None:
        if not isinstance(ref, ActorRef):
            raise InvalidArgumentError(f"subscribe needs an ActorRef, got {ref!r}")
        if not isinstance(msg_type, type):
            raise InvalidArgumentError(f"subscribe needs a message class, got {msg_type!r}")
        if ref.stopped:
            raise ActorStoppedError(f"actor {ref.name!r} has stopped")
        accepts = ref._cell.accepts
        if accepts is not None and not any(issubclass(msg_type, t) or issubclass(t, msg_type) for t in accepts):
            names = ", ".join(t.__name__ for t in accepts)
            raise InvalidArgumentError(f"actor {ref.name!r} accepts {names}: it can take no {msg_type.__name__}")
        refs = self._subs.setdefault(msg_type, [])
        if ref not in refs:
            refs.append(ref)
            self._routes.clear()

    def unsubscribe(self, ref: ActorRef, msg_type: type | None = None) -> None:
        """Remove ``ref`` from ``msg_type`` (from every type when None)."""
        for t, refs in list(self._subs.items()):
            if (msg_type is None or t is msg_type) and ref in refs:
                refs.remove(ref)
                if not refs:
                    del self._subs[t]
                self._routes.clear()

    def accepts_changed(self, ref: ActorRef) -> list[type]:
        """``ref``'s ``accepts`` was set after it subscribed (read from its first instance): its
        subscriptions to types it can take none of are dropped (returned), and every cached
        route is read again."""
        accepts = ref._cell.accepts
        dropped = [] if accepts is None else [
            t for t, refs in self._subs.items()
            if ref in refs and not any(issubclass(t, a) or issubclass(a, t) for a in accepts)]
        for t in dropped:
            self.unsubscribe(ref, t)
        self._routes.clear()
        return dropped

    def route(self, msg_type: type) -> tuple[ActorRef, ...]:
        refs = self._routes.get(msg_type)
        if refs is None:
            seen: dict[ActorRef, None] = {}
            for base in msg_type.__mro__:
                for ref in self._subs.get(base, ()):
                    accepts = ref._cell.accepts  # a subscriber to a base class takes what it accepts
                    if accepts is None or issubclass(msg_type, accepts):
                        seen[ref] = None
            refs = self._routes[msg_type] = tuple(seen)
        return refs

    async def publish(self, msg: Any) -> int:
        """Send ``msg`` to every subscriber, each per its mailbox policy.

        Returns how many subscribers it was sent to (a ``DROP_NEWEST`` mailbox that was full
        counts, though it dropped the message). Stopped subscribers are
        unsubscribed; if any ``REJECT`` mailbox refused, MailboxFullError is
        raised after all the others got the message.
        """
        refused: list[str] = []
        sent = 0
        for ref in self.route(type(msg)):
            try:
                await ref.send(msg)
                sent += 1
            except ActorStoppedError:
                self.unsubscribe(ref)
            except InvalidArgumentError:
                # a subscriber whose accepts were read after it subscribed (a lambda-built actor):
                # its subscription is dropped then, and a send blocked meanwhile is refused here
                pass
            except MailboxFullError:
                refused.append(ref.name)
        if refused:
            raise MailboxFullError(f"{type(msg).__name__} refused by full mailbox(es): {', '.join(refused)}")
        return sent
