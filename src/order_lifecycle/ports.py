"""Ports: what the application service needs from the outside, as ``typing.Protocol``.

A storage adapter implements :class:`OrderStore`; the contract test suite in
:mod:`order_lifecycle.testing` checks that it behaves like the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import attrs
import pendulum

from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Attachment, Order, Role

__all__ = [
    "BlobStore",
    "IdempotencyRecord",
    "Notification",
    "OrderStore",
    "Participant",
    "Write",
]


@attrs.frozen
class Notification:
    """An outbox row: one event addressed to one recipient (a user, or the CX team)."""

    order_id: str
    seq: int
    recipient: str
    role: Role
    kind: str


@attrs.frozen
class Participant:
    """Someone who takes part in an order's conversation."""

    order_id: str
    user_id: str
    role: Role


@attrs.frozen
class IdempotencyRecord:
    """The first result of a command sent with an idempotency key."""

    key: str
    fingerprint: str
    order_id: str
    version: int


@attrs.frozen
class Write:
    """Everything one command writes, in one transaction, or nothing.

    ``expected_version`` is the version the order had when it was read (0 for a new
    order): the write fails with ``ConcurrencyConflict`` if it changed since. A write
    with no events only moves ``next_timer_at`` (nothing happened to the order).
    """

    order: Order
    events: tuple[Event, ...]
    expected_version: int
    next_timer_at: pendulum.DateTime | None
    notifications: tuple[Notification, ...] = ()
    participants: tuple[Participant, ...] = ()
    idempotency: IdempotencyRecord | None = None


@runtime_checkable
class OrderStore(Protocol):
    """Durable storage of orders, their history, the outbox and idempotency keys."""

    def write(self, write: Write) -> None:
        """Apply ``write`` atomically; ``ConcurrencyConflict`` if the version moved on, or
        if the idempotency key or an event's sequence number is already taken."""
        ...

    def load(self, order_id: str) -> Order:
        """The order as last written; ``OrderNotFound`` if there is none."""
        ...

    def history(self, order_id: str, since: int = 0) -> list[Event]:
        """The order's events with ``seq > since``, oldest first."""
        ...

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        """The record stored under ``key``, if any."""
        ...

    def fire_next_due(self, now: pendulum.DateTime, fire: Callable[[Order], Write]) -> Write | None:
        """Claim one order whose next timer is due at ``now`` (one no other worker holds),
        apply ``fire(order)`` to it in the same transaction, and return that write; ``None``
        when nothing is due."""
        ...

    def participants(self, order_id: str) -> Sequence[Participant]:
        """Who takes part in the order's conversation."""
        ...

    def close(self) -> None:
        """Release connections; the store is not used again."""
        ...


@runtime_checkable
class BlobStore(Protocol):
    """Where attached files go: content-addressed by sha256."""

    def put(self, name: str, data: bytes, media_type: str) -> Attachment:
        """Store ``data`` and return its ``Attachment`` (the name is metadata, never a path)."""
        ...

    def get(self, sha256: str) -> bytes:
        """The stored content; ``ValidationError`` if there is none."""
        ...
