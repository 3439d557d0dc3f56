"""The rows a :class:`~order_lifecycle.ports.Write` becomes, shared by the SQL stores.

Instants in indexed columns are whole microseconds since the Unix epoch (UTC): they sort
and compare as integers on every database. Documents are the JSON of ``serde``.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from typing import Any, Final

import attrs
import pendulum

from order_lifecycle import serde
from order_lifecycle.core.model import Order, OrderState, Role
from order_lifecycle.instants import micros
from order_lifecycle.ports import (
    ConversationRow,
    FactsRow,
    Notification,
    OrderFacts,
    OutboxRow,
    Participant,
    Write,
)

__all__ = [
    "EVENTS",
    "KEYS",
    "ORDERS",
    "OUTBOX",
    "PARTICIPANTS",
    "Insert",
    "OrderCache",
    "OrderRow",
    "event_rows",
    "micros",
    "notification_rows",
    "order_row",
    "participant_rows",
]

_EPOCH: Final = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_EPOCH_PENDULUM: Final = pendulum.DateTime(1970, 1, 1, tzinfo=pendulum.UTC)
_MICROSECOND: Final = _dt.timedelta(microseconds=1)
# The standard library's arithmetic, called directly: pendulum's ``-`` builds an Interval
# (20 times slower), and its ``+`` goes through Python code.
_add: Final = _dt.datetime.__add__
_sub: Final = _dt.datetime.__sub__
_from_iso: Final = _dt.datetime.fromisoformat
_DECODER: Final = json.JSONDecoder()
_ROLES: Final = {role.value: role for role in Role}
_STATES: Final = {state.value: state for state in OrderState}

#: The facts columns of ``orders``, in the order ``facts_columns`` gives their values.
FACTS_COLUMNS: Final = (
    "placed_at",
    "accepted_at",
    "first_delivered_at",
    "first_due_at",
    "completed_at",
    "cancelled_at",
    "revisions_used",
    "disputed",
    "buyer_rating",
    "seller_rating",
)
FactsValues = tuple[int | None, ...]
OrderRow = tuple[Any, ...]


@attrs.frozen
class Insert:
    """An INSERT statement as data: its table, its columns (in the order of the values a
    row builder gives) and what it does on a conflict. ``sql`` is its text, in qmark
    style; bulk loaders (COPY) read the table and columns from here, never from the text."""

    table: str
    columns: tuple[str, ...]
    on_conflict: str = ""

    @property
    def sql(self) -> str:
        """The statement's text: ``INSERT INTO table (columns) VALUES (?, ...)``."""
        marks = ", ".join("?" * len(self.columns))
        conflict = f" ON CONFLICT {self.on_conflict}" if self.on_conflict else ""
        names = ", ".join(self.columns)
        # The library's own constants (below), never input: no injection.
        return f"INSERT INTO {self.table} ({names}) VALUES ({marks}){conflict}"  # noqa: S608


#: The tables a write adds rows to, as data (:func:`order_row`, :func:`event_rows`,
#: :func:`notification_rows`, :func:`participant_rows` build their rows, in this order).
ORDERS: Final = Insert(
    "orders",
    (
        "id",
        "version",
        "state",
        "buyer",
        "seller",
        "title",
        "updated_at",
        "next_timer_at",
        "waiting",
        "lifecycle",
        "doc",
        "last_entry",
        *FACTS_COLUMNS,
    ),
)
EVENTS: Final = Insert("events", ("order_id", "seq", "kind", "action", "actor", "at", "doc"))
OUTBOX: Final = Insert("outbox", ("order_id", "seq", "recipient", "role", "kind", "created_at"))
PARTICIPANTS: Final = Insert(
    "participants", ("order_id", "user_id", "role", "actor"), on_conflict="DO NOTHING"
)
KEYS: Final = Insert("idempotency", ("key", "fingerprint", "order_id", "version"))

# Statements shared by the SQL stores, in qmark style; ``pg()`` turns them into psycopg's.
INSERT_ORDER: Final = ORDERS.sql
UPDATE_ORDER: Final = (
    "UPDATE orders SET version = ?, state = ?, updated_at = ?, next_timer_at = ?, waiting = ?,"
    " doc = ?, last_entry = ?, placed_at = ?, accepted_at = ?, first_delivered_at = ?,"
    " first_due_at = ?, completed_at = ?, cancelled_at = ?, revisions_used = ?, disputed = ?,"
    " buyer_rating = ?, seller_rating = ? WHERE id = ? AND version = ?"
)
#: Facts for an order written before the store kept them (never over newer ones).
KEEP_FACTS: Final = (
    "UPDATE orders SET placed_at = ?, accepted_at = ?, first_delivered_at = ?,"
    " first_due_at = ?, completed_at = ?, cancelled_at = ?, revisions_used = ?, disputed = ?,"
    " buyer_rating = ?, seller_rating = ? WHERE id = ? AND placed_at IS NULL"
)
#: A user's orders as seller (or buyer), placed since (or with no facts yet): read from
#: the covering index on (seller, placed_at, ...), never from the orders' rows.
FACTS_OF: Final = (
    "SELECT id, placed_at, accepted_at, first_delivered_at, first_due_at, completed_at,"
    " cancelled_at, revisions_used, disputed, buyer_rating, seller_rating FROM orders"
    " WHERE {party} = ? AND (placed_at >= ? OR placed_at IS NULL)"
)
#: The user's orders with a published rating about them (as seller, then as buyer).
REVIEWED: Final = (
    "SELECT version, doc FROM orders WHERE seller = ? AND seller_rating IS NOT NULL"
    " UNION ALL SELECT version, doc FROM orders WHERE buyer = ? AND buyer_rating IS NOT NULL"
)
MOVE_TIMER: Final = "UPDATE orders SET next_timer_at = ? WHERE id = ? AND version = ?"
INSERT_EVENT: Final = EVENTS.sql
INSERT_OUTBOX: Final = OUTBOX.sql
INSERT_PARTICIPANT: Final = PARTICIPANTS.sql
INSERT_KEY: Final = KEYS.sql
#: The oldest due, unclaimed pending row of each (order, recipient): later rows wait
#: behind an earlier one that is failing, so each recipient gets an order's events in order.
CLAIMABLE_OUTBOX: Final = (
    "SELECT o.id FROM outbox o"
    " WHERE o.status = 'pending'"
    " AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?)"
    " AND (o.claimed_until IS NULL OR o.claimed_until <= ?)"
    " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending'"
    " AND p.order_id = o.order_id AND p.recipient = o.recipient AND p.id < o.id)"
    " ORDER BY o.id LIMIT ?"
)
CLAIMED_ITEMS: Final = (
    "SELECT o.id, o.order_id, o.seq, o.recipient, o.role, o.kind, o.status, o.attempts,"
    " o.last_error, e.doc"
    " FROM outbox o JOIN events e ON e.order_id = o.order_id AND e.seq = o.seq"
    " WHERE o.claimed_until = ? AND o.status = 'pending' AND o.id IN ({ids}) ORDER BY o.id"
)
FINISH_SENT: Final = (
    "UPDATE outbox SET status = 'sent', attempts = attempts + 1, claimed_until = NULL,"
    " last_error = NULL WHERE id = ?"
)
FINISH_FAILED: Final = (
    "UPDATE outbox SET status = ?, attempts = attempts + 1, claimed_until = NULL,"
    " next_attempt_at = ?, last_error = ? WHERE id = ?"
)
OUTBOX_ROWS: Final = (
    "SELECT id, order_id, seq, recipient, role, kind, status, attempts, last_error FROM outbox"
)
#: A user's conversations, newest activity first: by the instant of each order's last
#: write, then (commands at one instant) by which was written last: ``{latest}``, a
#: column of the order's newest event ``e`` with its order, per dialect (``LATEST``).
CONVERSATIONS: Final = (
    "SELECT o.id, o.title, o.state, o.buyer, o.seller, p.role, o.waiting,"
    " (SELECT count(*) FROM events e WHERE e.order_id = o.id AND e.seq > p.last_read_seq"
    "  AND e.actor <> p.actor) AS unread,"
    " o.last_entry, o.version"
    " FROM participants p JOIN orders o ON o.id = p.order_id"
    " WHERE p.user_id = ? ORDER BY o.updated_at DESC,"
    " (SELECT {latest[0]} FROM events e WHERE e.order_id = o.id AND e.seq = o.version)"
    " {latest[1]}, o.id"
)
#: Which of two writes came last: SQLite numbers each event in the feed as it writes it
#: (``NULL``, last in descending order, only for rows loaded behind the library's back);
#: PostgreSQL's feed is numbered later by its readers, but each event keeps its writing
#: transaction's id (``written``; none for events older than the feed).
LATEST: Final = {
    "sqlite": ("e.position", "DESC"),
    "postgres": ("e.written", "DESC NULLS LAST"),
}


def pg(statement: str) -> str:
    """A qmark statement in psycopg's ``%s`` style."""
    return statement.replace("%", "%%").replace("?", "%s")


def order_update(row: OrderRow, expected: int) -> tuple[object, ...]:
    """The parameters of ``UPDATE_ORDER`` for ``row``."""
    fixed = (row[1], row[2], row[6], row[7], row[8], row[10], row[11])
    return (*fixed, *row[12:], row[0], expected)


def facts_values(facts: OrderFacts | None) -> FactsValues:
    """The facts columns' values (all ``NULL`` for none)."""
    if facts is None:
        return (None,) * len(FACTS_COLUMNS)
    return (*facts[:7], int(facts.disputed), *facts[8:])


def facts_row(found: tuple[Any, ...]) -> FactsRow:
    """A ``FACTS_OF`` row as a ``FactsRow`` (no facts while ``placed_at`` is ``NULL``)."""
    if found[1] is None:
        return FactsRow(str(found[0]), None)
    placed, accepted, delivered, due, completed, cancelled, revisions = found[1:8]
    facts = OrderFacts(
        placed,
        accepted,
        delivered,
        due,
        completed,
        cancelled,
        revisions or 0,
        bool(found[8]),
        found[9],
        found[10],
    )
    return FactsRow(str(found[0]), facts)


def conversation(found: tuple[Any, ...]) -> ConversationRow:
    """A ``CONVERSATIONS`` row as a ``ConversationRow``."""
    order_id, title, state, buyer, seller, role, waiting, unread, last, version = found
    return ConversationRow(
        order_id,
        title,
        state,
        buyer,
        seller,
        _ROLES.get(role) or Role(role),
        frozenset(waiting.split()),  # waiting: ids separated by spaces (ids hold none)
        int(unread),
        last,
        int(version),
    )


def outbox_row(found: tuple[object, ...]) -> OutboxRow:
    """An ``OUTBOX_ROWS`` row as an ``OutboxRow``; a ``CLAIMED_ITEMS`` row, with its event."""
    item_id, order_id, seq, recipient, role, kind, status, attempts, error = found[:9]
    return OutboxRow(
        id=int(str(item_id)),
        order_id=str(order_id),
        seq=int(str(seq)),
        recipient=str(recipient),
        role=Role(str(role)),
        kind=str(kind),
        status=str(status),
        attempts=int(str(attempts)),
        last_error=None if error is None else str(error),
        event=serde.load_event(str(found[9])) if len(found) > 9 else None,
    )


def from_micros(value: int) -> pendulum.DateTime:
    """The UTC instant ``value`` microseconds after the epoch."""
    # ``timedelta * int`` is exact, and quicker than ``timedelta(microseconds=value)``.
    moment: pendulum.DateTime = _add(_EPOCH_PENDULUM, _MICROSECOND * value)
    return moment


# The row builders read an enum member's value as ``member._value_``, a plain attribute:
# ``member.value`` is a property written in Python, a call per column on every write.


def order_row(write: Write) -> OrderRow:
    """(id, version, state, buyer, seller, title, updated_at, next_timer_at, waiting, lifecycle,
    doc, last_entry, then the facts columns)."""
    order = write.order
    updated = micros(order.updated_at)
    assert updated is not None
    return (
        order.id,
        order.version,
        order.state._value_,
        order.buyer,
        order.seller,
        order.listing.title,
        updated,
        micros(write.next_timer_at),
        " ".join(sorted(write.waiting)),
        order.lifecycle,
        serde.dump_order(order),
        write.last_entry,
        *facts_values(write.facts),
    )


def event_rows(write: Write) -> list[tuple[str, int, str, str, str, int, str]]:
    """(order_id, seq, kind, action, actor, at, doc) per event."""
    rows = []
    for event in write.events:
        at = micros(event.at)
        assert at is not None
        rows.append(
            (
                event.order_id,
                event.seq,
                event.kind,
                event.action._value_,
                str(event.actor),
                at,
                serde.dump_event(event),
            )
        )
    return rows


def notification_rows(
    notifications: tuple[Notification, ...], created: _dt.datetime
) -> list[tuple[str, int, str, str, str, int]]:
    """(order_id, seq, recipient, role, kind, created_at) per notification."""
    at = micros(created)
    assert at is not None
    return [(n.order_id, n.seq, n.recipient, n.role._value_, n.kind, at) for n in notifications]


def participant_rows(participants: tuple[Participant, ...]) -> list[tuple[str, str, str, str]]:
    """(order_id, user_id, role, actor) per participant."""
    return [(p.order_id, p.user_id, p.role._value_, p.actor) for p in participants]


class OrderCache:
    """Orders recently read or written by this store, by id, with their version.

    Reading an order back from its JSON costs far more than the query: a stored order
    whose version matches the cached one is the cached object (orders are immutable, and a
    committed (id, version) never changes content). Bounded; safe across threads.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._orders: dict[str, Order] = {}
        self._lock = threading.Lock()

    def get(self, order_id: str, version: int) -> Order | None:
        """The cached order if it is at ``version``."""
        order = self._orders.get(order_id)
        return order if order is not None and order.version == version else None

    def latest(self, order_id: str) -> Order | None:
        """The cached order, at whatever version this store last read or wrote it."""
        return self._orders.get(order_id)

    def read(self, order_id: str, version: int, doc: str) -> Order:
        """The order of a stored row: the cached object when it is at that version, else
        the document parsed (and remembered)."""
        cached = self.get(order_id, version)
        if cached is not None:
            return cached
        order = serde.load_order(doc)
        self.put(order)
        return order

    def put(self, order: Order) -> None:
        """Remember ``order`` (committed, or just read)."""
        with self._lock:
            if order.id not in self._orders and len(self._orders) >= self._size:
                self._orders.pop(next(iter(self._orders)))
            self._orders[order.id] = order

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._orders.clear()
