"""The reads every SQL store makes the same way, over a small connector.

A store provides ``_read(sql, params)`` (rows of one statement, errors translated),
``_change(sql, params, what)`` (one statement in its own transaction) and an
``OrderCache``; these methods do the rest of the port's reads with the dialect's
statement text (:class:`Statements`, built once per dialect).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Final

import attrs

from order_lifecycle import serde
from order_lifecycle.adapters import rows
from order_lifecycle.adapters.sql.schema import Dialect
from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Order, Role
from order_lifecycle.errors import OrderNotFound
from order_lifecycle.ports import (
    ConversationRow,
    FeedItem,
    IdempotencyRecord,
    OutboxRow,
    Participant,
)

__all__ = ["AsyncSQLReads", "SQLReads", "Statements"]

_ROLES: Final = {role.value: role for role in Role}


@attrs.frozen
class Statements:
    """A dialect's statement text, every value a bound parameter."""

    load: str
    history: str
    feed: str
    exists: str
    idempotency: str
    participants: str
    is_empty: str
    outbox_all: str
    outbox_of: str
    conversations: str
    mark_read: str

    @classmethod
    def of(cls, dialect: Dialect) -> Statements:
        """The statements in the dialect's parameter style (``?`` or ``%s``)."""
        own = (lambda s: s) if dialect == "sqlite" else rows.pg
        return cls(
            load=own("SELECT version, doc FROM orders WHERE id = ?"),
            history=own("SELECT doc FROM events WHERE order_id = ? AND seq > ? ORDER BY seq"),
            # Events written behind the library's back (bulk loads) have no position:
            # ``>`` leaves them out.
            feed=own(
                "SELECT position, doc FROM events WHERE position > ? ORDER BY position LIMIT ?"
            ),
            exists=own("SELECT 1 FROM orders WHERE id = ?"),
            idempotency=own(
                "SELECT key, fingerprint, order_id, version FROM idempotency WHERE key = ?"
            ),
            participants=own(
                "SELECT order_id, user_id, role FROM participants WHERE order_id = ?"
                " ORDER BY user_id"
            ),
            is_empty="SELECT 1 FROM orders LIMIT 1",
            outbox_all=rows.OUTBOX_ROWS + " ORDER BY id",
            outbox_of=own(rows.OUTBOX_ROWS + " WHERE order_id = ? ORDER BY id"),
            conversations=own(rows.CONVERSATIONS),
            # Never back: a mark only moves forward.
            mark_read=own(
                "UPDATE participants SET last_read_seq = ?"
                " WHERE order_id = ? AND user_id = ? AND last_read_seq < ?"
            ),
        )


def order_from(found: Sequence[tuple[Any, ...]], order_id: str, cache: rows.OrderCache) -> Order:
    """The order of a ``load`` row; ``OrderNotFound`` for none."""
    if not found:
        raise OrderNotFound(order_id)
    version, doc = found[0]
    return cache.read(order_id, int(version), str(doc))


def events_from(found: Sequence[tuple[Any, ...]]) -> list[Event]:
    """The events of ``history`` rows."""
    return [serde.load_event(str(r[0])) for r in found]


def items_from(found: Sequence[tuple[Any, ...]]) -> list[FeedItem]:
    """The feed items of ``feed`` rows."""
    return [FeedItem(int(p), serde.load_event(str(doc))) for p, doc in found]


def record_from(found: Sequence[tuple[Any, ...]]) -> IdempotencyRecord | None:
    """The record of an ``idempotency`` row, if any."""
    if not found:
        return None
    k, fingerprint, order_id, version = found[0]
    return IdempotencyRecord(str(k), str(fingerprint), str(order_id), int(version))


def participants_from(found: Sequence[tuple[Any, ...]]) -> tuple[Participant, ...]:
    """The participants of ``participants`` rows."""
    return tuple(Participant(str(o), str(u), _ROLES[str(r)]) for o, u, r in found)


class SQLReads:
    """The port's reads, shared by the SQL stores (mixed into each)."""

    statements: ClassVar[Statements]
    _cache: rows.OrderCache

    def _read(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _change(self, sql: str, params: Sequence[object], what: str) -> None:
        raise NotImplementedError

    def load(self, order_id: str) -> Order:
        """The order as last committed; ``OrderNotFound`` if there is none."""
        return order_from(self._read(self.statements.load, (order_id,)), order_id, self._cache)

    def history(self, order_id: str, since: int = 0) -> list[Event]:
        """The order's events with ``seq > since``, oldest first."""
        found = self._read(self.statements.history, (order_id, since))
        if not found and not self._read(self.statements.exists, (order_id,)):
            raise OrderNotFound(order_id)
        return events_from(found)

    def feed(self, after: int, limit: int) -> list[FeedItem]:
        """Events after position ``after``, in position order."""
        return items_from(self._read(self.statements.feed, (after, limit)))

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        """The record stored under ``key``, if any."""
        return record_from(self._read(self.statements.idempotency, (key,)))

    def participants(self, order_id: str) -> Sequence[Participant]:
        """Who takes part in the order's conversation, by user id."""
        return participants_from(self._read(self.statements.participants, (order_id,)))

    def is_empty(self) -> bool:
        """Whether the store holds no order at all."""
        return not self._read(self.statements.is_empty, ())

    def outbox_rows(self, order_id: str | None = None) -> list[OutboxRow]:
        """Outbox rows (of one order, or all), oldest first."""
        if order_id is None:
            found = self._read(self.statements.outbox_all, ())
        else:
            found = self._read(self.statements.outbox_of, (order_id,))
        return [rows.outbox_row(f) for f in found]

    def conversations(self, user_id: str) -> list[ConversationRow]:
        """The user's conversations, newest activity first, in one query."""
        return [rows.conversation(f) for f in self._read(self.statements.conversations, (user_id,))]

    def mark_read(self, order_id: str, user_id: str, seq: int) -> None:
        """Move the user's read mark forward to ``seq`` (never back)."""
        self._change(self.statements.mark_read, (seq, order_id, user_id, seq), "mark read")


class AsyncSQLReads:
    """The same reads as coroutines, over ``_read`` and ``_change`` coroutines."""

    statements: ClassVar[Statements]
    _cache: rows.OrderCache

    async def _read(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _change(self, sql: str, params: Sequence[object], what: str) -> None:
        raise NotImplementedError

    async def load(self, order_id: str) -> Order:
        """As ``SQLReads.load``."""
        found = await self._read(self.statements.load, (order_id,))
        return order_from(found, order_id, self._cache)

    async def history(self, order_id: str, since: int = 0) -> list[Event]:
        """As ``SQLReads.history``."""
        found = await self._read(self.statements.history, (order_id, since))
        if not found and not await self._read(self.statements.exists, (order_id,)):
            raise OrderNotFound(order_id)
        return events_from(found)

    async def feed(self, after: int, limit: int) -> list[FeedItem]:
        """As ``SQLReads.feed``."""
        return items_from(await self._read(self.statements.feed, (after, limit)))

    async def idempotency(self, key: str) -> IdempotencyRecord | None:
        """As ``SQLReads.idempotency``."""
        return record_from(await self._read(self.statements.idempotency, (key,)))

    async def participants(self, order_id: str) -> Sequence[Participant]:
        """As ``SQLReads.participants``."""
        return participants_from(await self._read(self.statements.participants, (order_id,)))

    async def is_empty(self) -> bool:
        """As ``SQLReads.is_empty``."""
        return not await self._read(self.statements.is_empty, ())

    async def outbox_rows(self, order_id: str | None = None) -> list[OutboxRow]:
        """As ``SQLReads.outbox_rows``."""
        if order_id is None:
            found = await self._read(self.statements.outbox_all, ())
        else:
            found = await self._read(self.statements.outbox_of, (order_id,))
        return [rows.outbox_row(f) for f in found]

    async def mark_read(self, order_id: str, user_id: str, seq: int) -> None:
        """As ``SQLReads.mark_read``."""
        await self._change(self.statements.mark_read, (seq, order_id, user_id, seq), "mark read")
