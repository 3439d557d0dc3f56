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
import pendulum

from order_lifecycle import serde
from order_lifecycle.adapters import rows
from order_lifecycle.adapters.sql.schema import Dialect
from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Order, Role
from order_lifecycle.errors import OrderNotFound
from order_lifecycle.ports import (
    ConversationRow,
    FactsRow,
    FeedItem,
    IdempotencyRecord,
    OrderFacts,
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
    facts_seller: str
    facts_buyer: str
    keep_facts: str
    reviewed: str

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
            conversations=own(rows.CONVERSATIONS.format(latest=rows.LATEST[dialect])),
            # Never back: a mark only moves forward.
            mark_read=own(
                "UPDATE participants SET last_read_seq = ?"
                " WHERE order_id = ? AND user_id = ? AND last_read_seq < ?"
            ),
            facts_seller=own(rows.FACTS_OF.format(party="seller")),
            facts_buyer=own(rows.FACTS_OF.format(party="buyer")),
            keep_facts=own(rows.KEEP_FACTS),
            reviewed=own(rows.REVIEWED),
        )

    def facts(self, role: Role) -> str:
        """The statement that lists a user's facts rows in ``role``."""
        return self.facts_seller if role is Role.seller else self.facts_buyer


#: Before every instant: ``placed_at >= EARLIEST`` holds for every order.
EARLIEST: Final = -(2**62)


def facts_params(user_id: str, since: pendulum.DateTime | None) -> tuple[object, ...]:
    """The parameters of a facts statement."""
    start = rows.micros(since)
    return (user_id, EARLIEST if start is None else start)


def keep_params(order_id: str, facts: OrderFacts) -> tuple[object, ...]:
    """The parameters of ``keep_facts``."""
    return (*rows.facts_values(facts), order_id)


def orders_from(found: Sequence[tuple[Any, ...]], cache: rows.OrderCache) -> list[Order]:
    """The orders of ``reviewed`` rows (version, doc), by id through the cache."""
    result: list[Order] = []
    for version, doc in found:
        order = serde.load_order(str(doc))
        result.append(cache.get(order.id, int(version)) or order)
    return result


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

    def recent(self, order_id: str) -> Order | None:
        """The order as this store last committed or read it, without a read: maybe
        stale (another process may have written since), so only worth deciding on with
        its version checked by the write."""
        return self._cache.latest(order_id)

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

    def facts(self, user_id: str, role: Role, since: pendulum.DateTime | None) -> list[FactsRow]:
        """The facts of the user's orders in ``role``, from the covering index."""
        found = self._read(self.statements.facts(role), facts_params(user_id, since))
        return [rows.facts_row(f) for f in found]

    def keep_facts(self, order_id: str, facts: OrderFacts) -> None:
        """Store facts for an order written before the store kept them."""
        self._change(self.statements.keep_facts, keep_params(order_id, facts), "facts")

    def reviewed(self, user_id: str) -> list[Order]:
        """The user's orders with a published rating about them."""
        return orders_from(self._read(self.statements.reviewed, (user_id, user_id)), self._cache)


class AsyncSQLReads:
    """The same reads as coroutines, over ``_read`` and ``_change`` coroutines."""

    statements: ClassVar[Statements]
    _cache: rows.OrderCache

    async def _read(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _change(self, sql: str, params: Sequence[object], what: str) -> None:
        raise NotImplementedError

    def recent(self, order_id: str) -> Order | None:
        """As ``SQLReads.recent`` (no I/O: not a coroutine)."""
        return self._cache.latest(order_id)

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

    async def facts(
        self, user_id: str, role: Role, since: pendulum.DateTime | None
    ) -> list[FactsRow]:
        """As ``SQLReads.facts``."""
        found = await self._read(self.statements.facts(role), facts_params(user_id, since))
        return [rows.facts_row(f) for f in found]

    async def keep_facts(self, order_id: str, facts: OrderFacts) -> None:
        """As ``SQLReads.keep_facts``."""
        await self._change(self.statements.keep_facts, keep_params(order_id, facts), "facts")

    async def reviewed(self, user_id: str) -> list[Order]:
        """As ``SQLReads.reviewed``."""
        found = await self._read(self.statements.reviewed, (user_id, user_id))
        return orders_from(found, self._cache)
