"""Ports: what the application service needs from the outside, as ``typing.Protocol``.

A storage adapter implements :class:`OrderStore`; the contract test suite in
:mod:`order_lifecycle.testing` checks that it behaves like the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import attrs
import pendulum

from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Actor, Attachment, Order, Role
from order_lifecycle.core.recipients import Notification

__all__ = [
    "BlobStore",
    "ChatStore",
    "ConversationRow",
    "Envelope",
    "FactsRow",
    "FeedItem",
    "IdempotencyRecord",
    "Notification",
    "Notifier",
    "OrderFacts",
    "OrderStore",
    "OutboxRow",
    "Participant",
    "Store",
    "Write",
]


@attrs.frozen
class Participant:
    """Someone who takes part in an order's conversation."""

    order_id: str
    user_id: str
    role: Role

    @property
    def actor(self) -> str:
        """The participant as events name their actor (``str(Actor)``): what the unread
        count compares, so that a user's own entries are never unread for them."""
        return str(Actor(self.user_id, self.role))


@attrs.frozen
class IdempotencyRecord:
    """The first result of a command sent with an idempotency key."""

    key: str
    fingerprint: str
    order_id: str
    version: int


class OrderFacts(NamedTuple):
    """What the metrics count of one order, computed by the desk with each write and kept
    by the store as given (indexed by buyer and by seller, with ``placed_at``).

    A plain row: instants are whole microseconds since the Unix epoch (UTC), as the SQL
    stores keep every indexed instant, so a user's metrics are integer arithmetic over
    their rows. ``delivered_at`` is the first delivery and ``due_at`` the delivery date in
    force then; ``buyer_rating`` / ``seller_rating`` are the published ratings each party
    received.
    """

    placed_at: int
    accepted_at: int | None = None
    delivered_at: int | None = None
    due_at: int | None = None
    completed_at: int | None = None
    cancelled_at: int | None = None
    revisions: int = 0
    disputed: bool = False
    buyer_rating: int | None = None
    seller_rating: int | None = None


class FactsRow(NamedTuple):
    """One order of a user's metrics, as a store lists it: its facts, or ``None`` for an
    order written before the store kept them (the desk fills them in)."""

    order_id: str
    facts: OrderFacts | None


@attrs.frozen
class FeedItem:
    """One event of the store-wide feed, at its ``position``.

    Positions grow strictly with commit order across every order of the store: a
    consumer that asks for the events after the last position it saw never misses one
    committed later, nor sees one twice (``OrderDesk.feed``).
    """

    position: int
    event: Event


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
    #: Denormalised for the inbox, computed above the port and stored as given: who the
    #: order waits on (user ids, or ``cx_team``), and the newest chat entry, encoded by
    #: the desk (``views.entry_to_json``), or ``None`` when a store need not keep it.
    waiting: frozenset[str] = frozenset()
    last_entry: str | None = None
    #: Denormalised for the metrics, computed above the port and stored as given.
    facts: OrderFacts | None = None


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

    def feed(self, after: int, limit: int) -> list[FeedItem]:
        """Up to ``limit`` events of every order with a position above ``after``, in
        position order. Positions are given in commit order: once an event at position
        N is readable, no event at a position below N can still be committed."""
        ...

    def fire_next_due(self, now: pendulum.DateTime, fire: Callable[[Order], Write]) -> Write | None:
        """Claim one order whose next timer is due at ``now`` (one no other worker holds),
        apply ``fire(order)`` to it in the same transaction, and return that write; ``None``
        when nothing is due."""
        ...

    def participants(self, order_id: str) -> Sequence[Participant]:
        """Who takes part in the order's conversation."""
        ...

    def facts(self, user_id: str, role: Role, since: pendulum.DateTime | None) -> list[FactsRow]:
        """The facts of every order where ``user_id`` is the ``role`` (buyer or seller),
        placed at or after ``since``, from an index (never a scan of all orders); rows
        written before the store kept facts come with ``facts=None``, whenever placed."""
        ...

    def keep_facts(self, order_id: str, facts: OrderFacts) -> None:
        """Store ``facts`` for an order written before the store kept them, unless it has
        facts by now (a write since brought them)."""
        ...

    def reviewed(self, user_id: str) -> list[Order]:
        """The orders where ``user_id`` received a published rating (as buyer or seller)."""
        ...

    def is_empty(self) -> bool:
        """Whether the store holds no order at all."""
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


@attrs.frozen
class Envelope:
    """One notification as a notifier sends it: an event, addressed to one recipient.

    ``id`` is the outbox row's id: stable across retries, it is the idempotency key a
    receiver uses to drop duplicates (delivery is at least once).
    """

    id: int
    order_id: str
    seq: int
    recipient: str
    role: Role
    kind: str
    #: The event as JSON-ready data (``serde.event_to_dict``).
    event: Mapping[str, Any]
    #: The automated notice for the event, as the chat shows it (UTC).
    text: str
    #: 1 for the first try, 2 for the first retry, ...
    attempt: int


@runtime_checkable
class Notifier(Protocol):
    """Delivers envelopes. Raising any exception means "not delivered, retry later"."""

    def send(self, envelope: Envelope) -> None:
        """Deliver ``envelope`` or raise."""
        ...


@attrs.frozen
class OutboxRow:
    """An outbox row as stored: ``status`` is ``pending``, ``sent`` or ``dead``.

    ``claim_outbox`` returns the rows it claimed with their ``event``, ready to be sent;
    ``outbox_rows`` (for inspection) leaves it ``None``.
    """

    id: int
    order_id: str
    seq: int
    recipient: str
    role: Role
    kind: str
    status: str
    attempts: int
    last_error: str | None
    event: Event | None = attrs.field(default=None, eq=False, repr=False)


class ConversationRow(NamedTuple):
    """What the inbox needs of one conversation, read in one query: plain data, as the
    desk wrote it (``Write.waiting``, ``Write.last_entry``) and the store counted it."""

    order_id: str
    title: str
    state: str
    buyer: str
    seller: str
    #: The user's role in the order.
    role: Role
    #: Who is expected to move the order next (user ids, or ``cx_team``).
    waiting: frozenset[str]
    #: Entries after the user's read mark that the user did not cause.
    unread: int
    #: ``Write.last_entry`` of the order's last write, as given (``None``: not kept).
    last_entry: str | None
    version: int


@runtime_checkable
class ChatStore(Protocol):
    """The outbox relay and the inbox: what chat and notifications need of storage."""

    def claim_outbox(
        self, now: pendulum.DateTime, limit: int, lease: pendulum.Duration
    ) -> list[OutboxRow]:
        """Claim up to ``limit`` due rows, the oldest pending one per (order, recipient),
        that no other relay holds; the claim lapses after ``lease`` (a crashed relay's rows
        are sent again: at least once)."""
        ...

    def finish_outbox(
        self, item_id: int, *, sent: bool, error: str | None, retry_at: pendulum.DateTime | None
    ) -> None:
        """Record a send: ``sent``; or failed, retried at ``retry_at``, or dead when ``None``."""
        ...

    def outbox_rows(self, order_id: str | None = None) -> list[OutboxRow]:
        """Outbox rows (of one order, or all), oldest first."""
        ...

    def conversations(self, user_id: str) -> list[ConversationRow]:
        """Every conversation ``user_id`` takes part in, newest activity first."""
        ...

    def mark_read(self, order_id: str, user_id: str, seq: int) -> None:
        """``user_id`` has read the order's chat up to entry ``seq``."""
        ...


@runtime_checkable
class Store(OrderStore, ChatStore, Protocol):
    """Everything ``OrderDesk`` needs of storage: orders and history, outbox and inbox."""
