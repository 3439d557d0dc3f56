"""The rows a :class:`~order_lifecycle.ports.Write` becomes, shared by the SQL stores.

Instants in indexed columns are whole microseconds since the Unix epoch (UTC): they sort
and compare as integers on every database. Documents are the JSON of ``serde``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Final

import pendulum

from order_lifecycle import serde
from order_lifecycle.errors import StorageError
from order_lifecycle.ports import Notification, Participant, Write

__all__ = [
    "OrderRow",
    "event_rows",
    "micros",
    "notification_rows",
    "order_row",
    "participant_rows",
    "pending_migrations",
]

_EPOCH: Final = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)

OrderRow = tuple[str, int, str, str, str, str, int, int | None, str, str]


def micros(at: _dt.datetime | None) -> int | None:
    """Microseconds since the epoch, or ``None``."""
    if at is None:
        return None
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> pendulum.DateTime:
    """The UTC instant ``value`` microseconds after the epoch."""
    return pendulum.from_timestamp(0, tz="UTC").add(microseconds=value)


def order_row(write: Write) -> OrderRow:
    """(id, version, state, buyer, seller, title, updated_at, next_timer_at, lifecycle, doc)."""
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
        order.lifecycle,
        serde.dump_order(order),
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
