"""The rows a :class:`~order_lifecycle.ports.Write` becomes, shared by the SQL stores.

Instants in indexed columns are whole microseconds since the Unix epoch (UTC): they sort
and compare as integers on every database. Documents are the JSON of ``serde``.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any, Final

import pendulum

from order_lifecycle import serde
from order_lifecycle.core.api import waiting_on
from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Attachment, Order, OrderState, Role
from order_lifecycle.errors import StorageError
from order_lifecycle.ports import (
    ConversationRow,
    Notification,
    OutboxItem,
    OutboxRow,
    Participant,
    Write,
)
from order_lifecycle.views import ChatEntry, Conversation, entry

__all__ = [
    "OrderCache",
    "OrderRow",
    "event_rows",
    "micros",
    "notification_rows",
    "order_row",
    "participant_rows",
    "pending_migrations",
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

OrderRow = tuple[str, int, str, str, str, str, int, int | None, str, str, str, str | None]

# Statements shared by the SQL stores, in qmark style; ``pg()`` turns them into psycopg's.
INSERT_ORDER: Final = (
    "INSERT INTO orders (id, version, state, buyer, seller, title, updated_at, next_timer_at,"
    " waiting, lifecycle, doc, last_entry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_ORDER: Final = (
    "UPDATE orders SET version = ?, state = ?, updated_at = ?, next_timer_at = ?, waiting = ?,"
    " doc = ?, last_entry = ? WHERE id = ? AND version = ?"
)
MOVE_TIMER: Final = "UPDATE orders SET next_timer_at = ? WHERE id = ? AND version = ?"
INSERT_EVENT: Final = (
    "INSERT INTO events (order_id, seq, kind, action, actor, at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
INSERT_OUTBOX: Final = (
    "INSERT INTO outbox (order_id, seq, recipient, role, kind, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_PARTICIPANT: Final = (
    "INSERT INTO participants (order_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
)
INSERT_KEY: Final = (
    "INSERT INTO idempotency (key, fingerprint, order_id, version) VALUES (?, ?, ?, ?)"
)
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
    "SELECT o.id, o.order_id, o.seq, o.recipient, o.role, o.kind, o.attempts, e.doc"
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
CONVERSATIONS: Final = (
    "SELECT o.id, o.title, o.state, o.buyer, o.seller, p.role, o.updated_at, o.waiting,"
    " (SELECT count(*) FROM events e WHERE e.order_id = o.id AND e.seq > p.last_read_seq"
    "  AND e.actor <> (CASE WHEN p.role = 'cx_agent' THEN 'cx:' || p.user_id"
    "  ELSE p.user_id END)) AS unread,"
    " o.last_entry, o.version"
    " FROM participants p JOIN orders o ON o.id = p.order_id"
    " WHERE p.user_id = ? ORDER BY o.updated_at DESC, o.id"
)


def pg(statement: str) -> str:
    """A qmark statement in psycopg's ``%s`` style."""
    return statement.replace("%", "%%").replace("?", "%s")


def order_update(row: OrderRow, expected: int) -> tuple[object, ...]:
    """The parameters of ``UPDATE_ORDER`` for ``row``."""
    return (row[1], row[2], row[6], row[7], row[8], row[10], row[11], row[0], expected)


def waiting_text(order: Order) -> str:
    """Who the order waits on, as stored: ids separated by spaces (ids hold none)."""
    return " ".join(sorted(waiting_on(order)))


def conversation(
    found: tuple[object, ...], read_event: Callable[[str, int], Event | None]
) -> ConversationRow:
    """A ``CONVERSATIONS`` row as a ``ConversationRow``; ``read_event(order_id, seq)``
    reads the newest event when the pre-rendered entry does not serve."""
    order_id, title, state, buyer, seller, role, updated, waiting, unread, last, version = found
    order_key, seq, role_name = str(order_id), int(str(version)), str(role)
    return ConversationRow(
        order_id=str(order_id),
        title=str(title),
        state=str(state),
        buyer=str(buyer),
        seller=str(seller),
        role=_ROLES.get(role_name) or Role(role_name),
        updated_at=from_micros(int(str(updated))),
        waiting=frozenset(str(waiting).split()),
        unread=int(str(unread)),
        last_entry=None if last is None else entry_from_json(str(last)),
        last_event=lambda: read_event(order_key, seq),
    )


def inbox(
    found: Iterable[tuple[Any, ...]],
    user_id: str,
    tz: str,
    read_event: Callable[[str, int], Event | None],
) -> list[Conversation]:
    """``OrderDesk.inbox`` of ``user_id`` from their ``CONVERSATIONS`` rows, ``tz`` checked.

    Exactly what the desk makes of ``conversation(row)`` for each row, without that
    ``ConversationRow`` in between: its instant, id set and closure are not needed here,
    and building them took nearly half of the inbox's time in Python.
    """
    conversations: list[Conversation] = []
    append = conversations.append
    utc = tz == "UTC"
    for order_id, title, state, buyer, seller, role, _, waiting, unread, last, version in found:
        who = _ROLES.get(role) or Role(role)
        if who is Role.cx_agent:
            counterpart = f"{buyer} / {seller}"
        else:
            counterpart = seller if who is Role.buyer else buyer
        last_entry = None if last is None else entry_from_json(last)
        if last_entry is None or not utc:
            event = read_event(order_id, version)
            last_entry = None if event is None else entry(event, tz=tz)
        append(
            Conversation(  # positional: quicker than by keyword, in the fields' order
                order_id,
                title,
                _STATES.get(state) or OrderState(state),
                counterpart,
                unread,
                user_id in waiting.split(),  # waiting: ids separated by spaces
                last_entry,
            )
        )
    return conversations


def entry_to_json(item: ChatEntry) -> str:
    """A chat entry as stored in ``orders.last_entry``."""
    document = {
        "seq": item.seq,
        "at": _dt.datetime.isoformat(item.at),
        "kind": item.kind,
        "author": item.author,
        "text": item.text,
        "files": [serde.converter.unstructure(f) for f in item.files],
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def entry_from_json(text: str) -> ChatEntry:
    """The chat entry ``entry_to_json`` wrote."""
    # ``json.loads`` without its wrappers, which skip whitespace around the document:
    # ``json.dumps`` writes none, and anything else is read by ``json.loads`` itself.
    try:
        data, end = _DECODER.raw_decode(text)
    except json.JSONDecodeError:
        end = -1
    if end != len(text):
        data = json.loads(text)
    at = _from_iso(data["at"])
    stored = data["files"]
    files: tuple[Attachment, ...] = ()
    if stored != []:
        files = tuple([serde.converter.structure(f, Attachment) for f in stored])
    return ChatEntry(
        data["seq"],
        _add(_EPOCH_PENDULUM, _sub(at, _EPOCH)),
        data["kind"],
        data["author"],
        data["text"],
        files,
    )


def outbox_item(found: tuple[object, ...]) -> OutboxItem:
    """A ``CLAIMED_ITEMS`` row as an ``OutboxItem``."""
    item_id, order_id, seq, recipient, role, kind, attempts, doc = found
    return OutboxItem(
        id=int(str(item_id)),
        order_id=str(order_id),
        seq=int(str(seq)),
        recipient=str(recipient),
        role=Role(str(role)),
        kind=str(kind),
        attempts=int(str(attempts)),
        event=serde.load_event(str(doc)),
    )


def outbox_row(found: tuple[object, ...]) -> OutboxRow:
    """An ``OUTBOX_ROWS`` row as an ``OutboxRow``."""
    item_id, order_id, seq, recipient, role, kind, status, attempts, error = found
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
    )


def micros(at: _dt.datetime | None) -> int | None:
    """Microseconds since the epoch, or ``None``."""
    if at is None:
        return None
    # The standard library's subtraction: pendulum's builds an Interval, 20 times slower.
    delta = _dt.datetime.__sub__(at, _EPOCH)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> pendulum.DateTime:
    """The UTC instant ``value`` microseconds after the epoch."""
    # ``timedelta * int`` is exact, and quicker than ``timedelta(microseconds=value)``.
    moment: pendulum.DateTime = _add(_EPOCH_PENDULUM, _MICROSECOND * value)
    return moment


def order_row(write: Write) -> OrderRow:
    """(id, version, state, buyer, seller, title, updated_at, next_timer_at, waiting, lifecycle,
    doc)."""
    order = write.order
    updated = micros(order.updated_at)
    assert updated is not None
    return (
        order.id,
        order.version,
        order.state.value,
        order.buyer,
        order.seller,
        order.listing.title,
        updated,
        micros(write.next_timer_at),
        waiting_text(order),
        order.lifecycle,
        serde.dump_order(order),
        entry_to_json(entry(write.events[-1])) if write.events else None,
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
                event.action.value,
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
    return [(n.order_id, n.seq, n.recipient, n.role.value, n.kind, at) for n in notifications]


def participant_rows(participants: tuple[Participant, ...]) -> list[tuple[str, str, str]]:
    """(order_id, user_id, role) per participant."""
    return [(p.order_id, p.user_id, p.role.value) for p in participants]


def pending_migrations(
    migrations: tuple[tuple[int, str], ...], current: int, where: str
) -> list[tuple[int, list[str]]]:
    """The migrations after ``current``, each as its statements; refuses a newer database."""
    latest = migrations[-1][0]
    if current > latest:
        raise StorageError(
            f"The database at {where} has schema version {current}, newer than this "
            f"library's {latest}. Upgrade order-lifecycle."
        )
    return [
        (number, [s for s in script.split(";") if s.strip()])
        for number, script in migrations
        if number > current
    ]


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
