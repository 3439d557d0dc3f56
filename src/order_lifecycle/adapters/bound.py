"""Stores bound to the host's own connection and transaction (``OrderDesk.bound``).

Every read and write runs on the caller's connection, inside the transaction the caller
opened; each command's statements run under a savepoint, so a refused or conflicting
command rolls back to it and leaves the caller's transaction usable. The store never
commits: the order, its events and its outbox rows commit or roll back with the host's
own rows. Orders are never cached (the host may still roll back what was written).

Rows are read on cursors of the store's own, as plain tuples: the host's connection may
have a ``row_factory`` of its own (dicts, named tuples), and keeps it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

import pendulum

from order_lifecycle.adapters import rows
from order_lifecycle.adapters.postgres import PostgresStore
from order_lifecycle.adapters.sqlite import CLAIM_DUE, SQLiteStore, translate
from order_lifecycle.core.model import Order
from order_lifecycle.errors import StorageError, ValidationError
from order_lifecycle.ports import ConversationRow, FeedItem, OutboxRow, Write

if TYPE_CHECKING:
    import psycopg

__all__ = ["BoundPostgresStore", "BoundSQLiteStore"]

_SAVEPOINT: Final = "order_lifecycle_command"


class _NoCache(rows.OrderCache):
    """Remembers nothing: what a bound store reads may yet be rolled back by its host."""

    def get(self, order_id: str, version: int) -> Order | None:
        return None

    def put(self, order: Order) -> None:
        return None


class BoundSQLiteStore(SQLiteStore):
    """A SQLite store on the host's ``sqlite3.Connection``, inside its transaction."""

    def __init__(self, parent: SQLiteStore, connection: sqlite3.Connection) -> None:
        # The parent opened (and migrated) the same database; nothing to open here.
        self.path = parent.path
        self._parent = parent
        self._given = connection
        self._closed = False
        self._cache = _NoCache()

    def _conn(self) -> sqlite3.Connection:
        return self._given

    @contextmanager
    def _transaction(self, what: str, *, queue: bool = True) -> Iterator[sqlite3.Connection]:
        conn = self._given
        if not conn.in_transaction:
            raise ValidationError(
                "connection",
                "has no open transaction: begin one first (the bound desk never commits)",
            )
        try:
            conn.execute(f"SAVEPOINT {_SAVEPOINT}")
        except sqlite3.Error as error:
            raise translate(error, what) from error
        try:
            yield conn
        except BaseException:
            # Back to the savepoint: the host's transaction goes on as it was.
            with contextlib.suppress(sqlite3.Error):
                conn.execute(f"ROLLBACK TO {_SAVEPOINT}")
                conn.execute(f"RELEASE {_SAVEPOINT}")
            raise
        try:
            conn.execute(f"RELEASE {_SAVEPOINT}")
        except sqlite3.Error as error:
            raise translate(error, what) from error

    def _apply(
        self,
        conn: sqlite3.Connection,
        write: Write,
        statements: list[tuple[str, Sequence[object], bool]],
    ) -> None:
        try:
            super()._apply(conn, write, statements)
        except StorageError as error:
            cause = error.__cause__
            if getattr(cause, "sqlite_errorname", None) != "SQLITE_BUSY_SNAPSHOT":
                raise
            raise StorageError(
                f"Order {write.order.id!r} could not be written in this transaction: it read "
                "the database before another connection wrote it, and SQLite cannot write "
                "in a transaction whose reads are out of date. Roll the transaction back "
                "and retry it; begin it with BEGIN IMMEDIATE to take the write lock first."
            ) from cause

    def _rows(self, sql: str, params: Sequence[object], what: str) -> list[tuple[Any, ...]]:
        """The rows of one statement as plain tuples, on a cursor whose ``row_factory`` is
        ``None``: the host's connection keeps its own."""
        cursor = self._given.cursor()
        cursor.row_factory = None
        try:
            return cursor.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise translate(error, what) from error
        finally:
            cursor.close()

    def _read(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        return self._rows(sql, params, "read")

    def _claim_due(self, conn: sqlite3.Connection, now: pendulum.DateTime) -> list[tuple[Any, ...]]:
        return self._rows(CLAIM_DUE, (rows.micros(now),), "timer claim")

    def claim_outbox(self, now: Any, limit: int, lease: Any) -> list[OutboxRow]:
        """Claims need transactions of their own: run the relay on the desk itself."""
        raise StorageError("Run relay() on the desk itself, not on a bound desk.")

    def feed(self, after: int, limit: int) -> list[FeedItem]:
        """The feed is what is committed: read on the desk's own connection, not inside
        the host's transaction (whose events a rollback would take back)."""
        return self._parent.feed(after, limit)

    def close(self) -> None:
        """Nothing to release: the connection is the host's."""


class BoundPostgresStore(PostgresStore):
    """A PostgreSQL store on the host's ``psycopg.Connection``, inside its transaction.

    The store's schema (``?schema=`` of the desk's URL) is put on the search path for
    each command only (``SET LOCAL`` inside the savepoint, set back after it), so the
    host's own statements see the search path they had.
    """

    def __init__(self, parent: PostgresStore, connection: psycopg.Connection[Any]) -> None:
        self.url = parent.url
        self._target = parent._target
        self._parent = parent
        self._given = connection
        self._closed = False
        self._cache = _NoCache()
        self._local = threading.local()  # its cursor on the host's connection

    @contextmanager
    def _transaction(self, what: str) -> Iterator[psycopg.Connection[Any]]:
        import psycopg
        from psycopg import pq, sql

        conn = self._given
        status = conn.info.transaction_status
        if status is pq.TransactionStatus.INERROR:
            raise ValidationError(
                "connection", "is in a failed transaction: roll it back before using the desk"
            )
        if conn.autocommit and status is pq.TransactionStatus.IDLE:
            raise ValidationError(
                "connection",
                "has no open transaction (autocommit, no transaction block): begin one first "
                "(the bound desk never commits)",
            )
        schema = self._target.schema
        try:
            conn.execute(f"SAVEPOINT {_SAVEPOINT}")
        except psycopg.Error as error:
            raise self.translate(error, what) from error
        # From here on every way out, whatever it raises, ends the savepoint.
        try:
            before = None
            if schema is not None:
                found = self._cursor(conn).execute("SELECT current_setting('search_path')")
                row = found.fetchone()
                before = None if row is None else str(row[0])
                conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
            yield conn
            if before is not None:
                conn.execute("SELECT set_config('search_path', %s, true)", (before,))
            conn.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        except BaseException as error:
            # Back to the savepoint (the search path with it): the host's transaction goes on.
            with contextlib.suppress(psycopg.Error):
                conn.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
                conn.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
            if isinstance(error, psycopg.Error):
                raise self.translate(error, what) from error
            raise

    def _read(self, query: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        import psycopg

        with self._transaction("read") as conn:
            try:
                return self._cursor(conn).execute(query, params).fetchall()
            except psycopg.Error as error:
                raise self.translate(error, "read") from error

    def write(self, write: Write) -> None:
        """Apply ``write`` under a savepoint of the host's transaction (never committed here)."""
        with self._transaction("write") as conn:
            self._apply(conn, write)

    def claim_outbox(self, now: Any, limit: int, lease: Any) -> list[OutboxRow]:
        """Claims need transactions of their own: run the relay on the desk itself."""
        raise StorageError("Run relay() on the desk itself, not on a bound desk.")

    def feed(self, after: int, limit: int) -> list[FeedItem]:
        """The feed is what is committed: read (and numbered) on the desk's own pool, not
        inside the host's transaction, where numbering would hold the feed's counter until
        the host commits and number events a rollback would take back."""
        return self._parent.feed(after, limit)

    def conversations(self, user_id: str) -> list[ConversationRow]:
        """As ``PostgresStore.conversations``, on the host's connection."""
        with self._transaction("read") as conn:
            found = self._cursor(conn).execute(self.statements.conversations, (user_id,))
            return [rows.conversation(f) for f in found.fetchall()]

    def close(self) -> None:
        """Nothing to release: the connection is the host's."""
