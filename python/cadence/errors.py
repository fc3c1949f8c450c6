"""The exception hierarchy of Cadence.

Every error raised by Cadence — from the Rust core (``cadence._core``) or from
Python — is a :class:`CadenceError`. Errors about bad input also derive from the
matching builtin (``ValueError``) so generic handlers keep working.
The Rust binding maps each core error variant to exactly one class here by name
(``rust/cadence-py/src/errors.rs``); keep the names in sync.
"""

from __future__ import annotations

__all__ = [
    "CadenceError",
    "InvalidAudioError",
    "UnsupportedRateError",
    "OversizeError",
    "RingOverrunError",
    "InvalidArgumentError",
    "InUseError",
    "LedgerError",
    "EpochClosedError",
    "UnknownEpochError",
    "StaleEpochError",
    "MessageDecodeError",
    "ActorError",
    "MailboxFullError",
    "ActorStoppedError",
    "RequestTimeoutError",
    "EscalationError",
]


class CadenceError(Exception):
    """Base class of every Cadence error."""


# --- input at the edge -------------------------------------------------------
class InvalidAudioError(CadenceError, ValueError):
    """Audio that cannot be processed: NaN/inf, empty, wrong dtype or layout."""


class UnsupportedRateError(InvalidAudioError):
    """A sample rate the framer/resampler does not support."""


class OversizeError(InvalidAudioError):
    """An input (frame, chunk, message) larger than the allowed maximum."""


class InvalidArgumentError(CadenceError, ValueError):
    """A bad argument that is not audio (capacity 0, wrong output buffer...)."""


class RingOverrunError(CadenceError):
    """A write to an AudioRing created with ``overrun="error"`` that does not fit."""


class InUseError(CadenceError, RuntimeError):
    """A stateful core object (a ``Framer``, a ``FeatureExtractor``, ...) was called while
    another call on it was still running (from another thread, since its compute runs with the
    GIL released). Each holds one stream's state, so calls on it must not overlap: give each
    thread its own. The call that found it busy changed nothing."""


# --- speculation ledger ----------------------------------------------------------
class LedgerError(CadenceError):
    """Base class of speculation-ledger errors."""


class EpochClosedError(LedgerError):
    """An item appended to, or a commit of, an epoch that is discarded/committed."""


class UnknownEpochError(LedgerError):
    """An epoch the ledger never opened."""


class StaleEpochError(LedgerError):
    """Opening an epoch that is not newer than the latest one."""


# --- messages --------------------------------------------------------------------
class MessageDecodeError(CadenceError, ValueError):
    """Bytes that do not decode to a known Cadence message."""


# --- actors ----------------------------------------------------------------------
class ActorError(CadenceError):
    """Base class of actor-runtime errors."""


class MailboxFullError(ActorError):
    """A non-blocking send to a full mailbox whose policy is ``reject``."""


class ActorStoppedError(ActorError):
    """Sending to, or awaiting a reply from, an actor that has stopped."""


class RequestTimeoutError(ActorError, TimeoutError):
    """A request/reply that got no reply in time."""


class EscalationError(ActorError):
    """A supervisor gave up restarting (restart limit reached) and escalated."""
