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
from order_lifecycle.ports import ConversationRow, IdempotencyRecord, OutboxRow, Participant

__all__ = ["SQLReads", "Statements"]

_ROLES: Final = {role.value: role for role in Role}


@attrs.frozen
class Statements:
    """A dialect's statement text, every value a bound parameter."""

    load: str
    history: str
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
        found = self._read(self.statements.load, (order_id,))
        if not found:
            raise OrderNotFound(order_id)
        version, doc = found[0]
        return self._cache.read(order_id, int(version), str(doc))

    def history(self, order_id: str, since: int = 0) -> list[Event]:
        """The order's events with ``seq > since``, oldest first."""
        found = self._read(self.statements.history, (order_id, since))
        if not found and not self._read(self.statements.exists, (order_id,)):
            raise OrderNotFound(order_id)
        return [serde.load_event(str(r[0])) for r in found]

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        """The record stored under ``key``, if any."""
        found = self._read(self.statements.idempotency, (key,))
        if not found:
            return None
        k, fingerprint, order_id, version = found[0]
        return IdempotencyRecord(str(k), str(fingerprint), str(order_id), int(version))

    def participants(self, order_id: str) -> Sequence[Participant]:
        """Who takes part in the order's conversation, by user id."""
        found = self._read(self.statements.participants, (order_id,))
        return tuple(Participant(str(o), str(u), Role(str(r))) for o, u, r in found)

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
