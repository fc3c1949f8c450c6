"""Cadence's actor runtime on trio.

Actors exchange messages (msgspec Structs by convention; any object works)
through bounded mailboxes, each with an explicit overflow policy. Actors are
addressed by name through an :class:`ActorRef`, never by object identity.
Supervisors restart crashed actors (one-for-one or one-for-all, a restart limit
per time window, exponential backoff) and escalate past the limit. Every task
lives in a nursery; shutdown is bounded by a deadline.

Example::

    import trio
    from cadence.actors import Actor, MailboxSpec, Overflow, open_actor_system

    class Doubler(Actor):
        mailbox = MailboxSpec(capacity=16, overflow=Overflow.BLOCK)
        accepts = (int,)

        async def handle(self, msg: int) -> int:
            return 2 * msg                      # the reply to a request

    async def main() -> None:
        async with open_actor_system(shutdown_timeout=1.0) as system:
            ref = system.spawn(Doubler, "doubler")
            assert await ref.request(21, timeout=1.0) == 42
            system.subscribe(ref, int)
            await system.publish(5)            # delivered to every int subscriber
            print(ref.statistics())

    trio.run(main)

Public API:

- :class:`Actor`: override ``handle`` and optionally ``on_start``, ``on_stop``,
  ``on_failure``; class attributes ``mailbox``, ``accepts``, ``refuses`` and ``coalesce``
  (message types taken together when they wait: ``take`` each, then one ``flush``).
- :func:`open_actor_system` → :class:`ActorSystem`: ``spawn``,
  ``spawn_supervisor``, ``ref(name)``, ``subscribe``/``publish``,
  ``media_clock(conversation_id)``, ``statistics()``.
- :class:`ActorRef`: ``send`` (policy: ``BLOCK`` waits), ``try_send``,
  ``request(msg, timeout)``, ``stop``, ``statistics``.
- :class:`MailboxSpec`, :class:`Overflow` (``BLOCK``, ``DROP_OLDEST``,
  ``DROP_NEWEST``, ``REJECT``), :class:`ActorStatistics`.
- :class:`Supervisor`, :class:`RestartPolicy`, :class:`Strategy`.
- :class:`MediaClock` (ns, follows ``trio.current_time()`` so MockClock drives
  it) and :func:`deterministic_clock` (``MockClock(autojump_threshold=0)``).
- :class:`Tracer` (hops → Chrome/Perfetto JSON), :class:`Hop`.
- :class:`Watchdog` (loop stalls > threshold, naming the actor), :class:`Stall`.

Errors come from :mod:`cadence.errors`: MailboxFullError, ActorStoppedError,
RequestTimeoutError, EscalationError, ActorError. Crashes, restarts and stalls
are logged on logger ``cadence.actors``.
"""

from cadence.actors._actor import Actor
from cadence.actors._cell import ActorStatistics
from cadence.actors._clock import MediaClock, deterministic_clock
from cadence.actors._mailbox import MailboxSpec, Overflow
from cadence.actors._ref import ActorRef
from cadence.actors._supervisor import RestartPolicy, Strategy, Supervisor
from cadence.actors._system import ActorSystem, open_actor_system
from cadence.actors._trace import Hop, Tracer
from cadence.actors._watchdog import Stall, Watchdog

__all__ = [
    "Actor",
    "ActorRef",
    "ActorStatistics",
    "ActorSystem",
    "Hop",
    "MailboxSpec",
    "MediaClock",
    "Overflow",
    "RestartPolicy",
    "Stall",
    "Strategy",
    "Supervisor",
    "Tracer",
    "Watchdog",
    "deterministic_clock",
    "open_actor_system",
]
