"""The SQLite store (``sqlite:///path``): the embedded default.

The standard library driver; WAL journal with ``synchronous=FULL`` (a committed command
survives a power cut); one connection per thread; writes in ``BEGIN IMMEDIATE``
transactions, so processes sharing the file serialise their writes on SQLite's lock;
driver errors become :class:`~order_lifecycle.errors.StorageError`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Final

import pendulum

from order_lifecycle import serde
from order_lifecycle.adapters import rows
from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Order, Role
from order_lifecycle.errors import ConcurrencyConflict, OrderNotFound, StorageError
from order_lifecycle.ports import (
    ConversationRow,
    IdempotencyRecord,
    OutboxItem,
    OutboxRow,
    Participant,
    Write,
)
from order_lifecycle.views import Conversation

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

#: Each migration brings the schema from the version before it to its own number.
MIGRATIONS: Final[tuple[tuple[int, str], ...]] = (
    (
        1,
        """
        CREATE TABLE orders (
            id TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            state TEXT NOT NULL,
            buyer TEXT NOT NULL,
            seller TEXT NOT NULL,
            title TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            next_timer_at INTEGER,
            lifecycle TEXT NOT NULL,
            doc TEXT NOT NULL
        );
        CREATE INDEX orders_next_timer ON orders (next_timer_at)
            WHERE next_timer_at IS NOT NULL;
        CREATE TABLE events (
            order_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            action TEXT NOT NULL,
            actor TEXT NOT NULL,
            at INTEGER NOT NULL,
            doc TEXT NOT NULL,
            PRIMARY KEY (order_id, seq)
        ) WITHOUT ROWID;
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            order_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            recipient TEXT NOT NULL,
            role TEXT NOT NULL,
            kind TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            last_error TEXT
        );
        CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE status = 'pending';
        CREATE TABLE idempotency (
            key TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            order_id TEXT NOT NULL,
            version INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE participants (
            user_id TEXT NOT NULL,
            order_id TEXT NOT NULL,
            role TEXT NOT NULL,
            last_read_seq INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, order_id)
        ) WITHOUT ROWID;
        CREATE INDEX participants_order ON participants (order_id);
        """,
    ),
    (
        2,
        """
        ALTER TABLE orders ADD COLUMN waiting TEXT NOT NULL DEFAULT '';
        ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;
        CREATE INDEX outbox_order_recipient ON outbox (order_id, recipient, id)
            WHERE status = 'pending';
        CREATE INDEX participants_user ON participants (user_id, order_id)
        """,
    ),
    (
        3,
        """
        ALTER TABLE orders ADD COLUMN last_entry TEXT
        """,
    ),
)
SCHEMA_VERSION: Final = MIGRATIONS[-1][0]


def _translate(error: sqlite3.Error, what: str) -> StorageError:
    text = str(error)
    if "locked" in text or "busy" in text:
        return StorageError(
            f"SQLite {what} failed: the database stayed locked by another process beyond the "
            f"busy timeout ({text}). Retry, or look for a long-running writer."
        )
    return StorageError(f"SQLite {what} failed: {text}")


class SQLiteStore:
    """Orders in one SQLite file, shared safely by threads and processes."""

    def __init__(self, path: str, *, busy_timeout_ms: int = 5_000, synchronous: str = "FULL"):
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise StorageError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}")
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._synchronous = synchronous
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._cache = rows.OrderCache()
        self._migrate()

    # -- connections ---------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(f"SQLite at {self.path!r} cannot use WAL (got {mode}).")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as error:
            raise StorageError(
                f"Cannot open the SQLite database sqlite:///{self.path}: {error}"
            ) from error
        return conn

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StorageError("This store is closed.")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        pid = os.getpid()
        if conn is None or getattr(self._local, "pid", None) != pid:
            conn = self._connect()
            self._local.conn = conn
            self._local.pid = pid
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise _translate(error, what) from error
        try:
            yield conn
        except BaseException:
            # The transaction may already be gone; the original error says why.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as error:
            with contextlib.suppress(sqlite3.Error):  # as above
                conn.execute("ROLLBACK")
            raise _translate(error, what) from error

    def _migrate(self) -> None:
        with self._transaction("schema migration") as conn:
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
                current = row[0] or 0
                for number, statements in rows.pending_migrations(
                    MIGRATIONS, current, repr(self.path)
                ):
                    for statement in statements:
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
            except sqlite3.Error as error:
                raise _translate(error, "schema migration") from error

    def schema_version(self) -> int:
        """The schema version the database is at."""
        row = self._read("SELECT max(version) FROM schema_version", ())
        return int(str(row[0][0]))

    def _read(self, sql: str, params: Sequence[object]) -> list[tuple[object, ...]]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise _translate(error, "read") from error

    # -- the port ------------------------------------------------------------------

    def write(self, write: Write) -> None:
        """Apply ``write`` in one ``BEGIN IMMEDIATE`` transaction.

        The rows are built first (documents serialised, the inbox entry rendered): the
        database's write lock is held only while the statements run."""
        statements = self._statements(write)
        with self._transaction("write") as conn:
            self._apply(conn, write, statements)
        if write.events:
            self._cache.put(write.order)

    @staticmethod
    def _statements(write: Write) -> list[tuple[str, Sequence[object], bool]]:
        """The statements of ``write`` in order: (SQL, parameters, whether it must change
        exactly one row). ``executemany`` parameters are lists of rows."""
        order = write.order
        if not write.events:
            params = (rows.micros(write.next_timer_at), order.id, write.expected_version)
            return [(rows.MOVE_TIMER, params, True)]
        row = rows.order_row(write)
        found: list[tuple[str, Sequence[object], bool]] = [
            (rows.INSERT_ORDER, row, False)
            if write.expected_version == 0
            else (rows.UPDATE_ORDER, rows.order_update(row, write.expected_version), True)
        ]
        found += [(rows.INSERT_EVENT, event, False) for event in rows.event_rows(write)]
        if write.notifications:
            notes = rows.notification_rows(write.notifications, order.updated_at)
            found += [(rows.INSERT_OUTBOX, note, False) for note in notes]
        if write.participants:
            people = rows.participant_rows(write.participants)
            found += [(rows.INSERT_PARTICIPANT, person, False) for person in people]
        key = write.idempotency
        if key is not None:
            found.append(
                (rows.INSERT_KEY, (key.key, key.fingerprint, key.order_id, key.version), False)
            )
        return found

    def _apply(
        self,
        conn: sqlite3.Connection,
        write: Write,
        statements: list[tuple[str, Sequence[object], bool]],
    ) -> None:
        try:
            for sql, params, moves_one in statements:
                cur = conn.execute(sql, params)
                if moves_one and cur.rowcount != 1:
                    raise ConcurrencyConflict(write.order.id, write.expected_version)
        except sqlite3.IntegrityError as error:
            raise ConcurrencyConflict(
                write.order.id,
                write.expected_version,
                f"Order {write.order.id!r} was written concurrently ({error}). Reload and retry.",
            ) from error
        except sqlite3.Error as error:
            raise _translate(error, "write") from error

    def load(self, order_id: str) -> Order:
        """The order as last committed."""
        found = self._read("SELECT version, doc FROM orders WHERE id = ?", (order_id,))
        if not found:
            raise OrderNotFound(order_id)
        version, doc = found[0]
        return self._cache.read(order_id, int(str(version)), str(doc))

    def history(self, order_id: str, since: int = 0) -> list[Event]:
        """Events after ``since``, oldest first."""
        found = self._read(
            "SELECT doc FROM events WHERE order_id = ? AND seq > ? ORDER BY seq", (order_id, since)
        )
        if not found and not self._read("SELECT 1 FROM orders WHERE id = ?", (order_id,)):
            raise OrderNotFound(order_id)
        return [serde.load_event(str(r[0])) for r in found]

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        """The record stored under ``key``."""
        found = self._read(
            "SELECT key, fingerprint, order_id, version FROM idempotency WHERE key = ?", (key,)
        )
        if not found:
            return None
        k, fingerprint, order_id, version = found[0]
        return IdempotencyRecord(str(k), str(fingerprint), str(order_id), int(str(version)))

    def fire_next_due(self, now: pendulum.DateTime, fire: Callable[[Order], Write]) -> Write | None:
        """Claim the soonest due order under the write lock, fire it, commit."""
        with self._transaction("timer") as conn:
            try:
                found = conn.execute(
                    "SELECT id, version, doc FROM orders WHERE next_timer_at <= ?"
                    " ORDER BY next_timer_at LIMIT 1",
                    (rows.micros(now),),
                ).fetchall()
            except sqlite3.Error as error:
                raise _translate(error, "timer claim") from error
            if not found:
                return None
            write = fire(self._cache.read(str(found[0][0]), int(found[0][1]), str(found[0][2])))
            self._apply(conn, write, self._statements(write))
        if write.events:
            self._cache.put(write.order)
        return write

    def participants(self, order_id: str) -> Sequence[Participant]:
        """Who takes part in the conversation."""
        found = self._read(
            "SELECT order_id, user_id, role FROM participants WHERE order_id = ?", (order_id,)
        )
        return tuple(Participant(str(o), str(u), Role(str(r))) for o, u, r in found)

    def is_empty(self) -> bool:
        """Whether the store holds no order at all."""
        return not self._read("SELECT 1 FROM orders LIMIT 1", ())

    # -- outbox and inbox ------------------------------------------------------------

    def claim_outbox(
        self, now: pendulum.DateTime, limit: int, lease: pendulum.Duration
    ) -> list[OutboxItem]:
        """Claim the due head row of each (order, recipient) under the write lock."""
        at = rows.micros(now)
        until = rows.micros(now + lease)
        with self._transaction("outbox claim") as conn:
            try:
                ids = [r[0] for r in conn.execute(rows.CLAIMABLE_OUTBOX, (at, at, limit))]
                if not ids:
                    return []
                marks = ", ".join("?" * len(ids))
                conn.execute(
                    f"UPDATE outbox SET claimed_until = ? WHERE id IN ({marks})",  # noqa: S608 - only placeholders
                    (until, *ids),
                )
                found = conn.execute(rows.CLAIMED_ITEMS.format(ids=marks), (until, *ids)).fetchall()
            except sqlite3.Error as error:
                raise _translate(error, "outbox claim") from error
        return [rows.outbox_item(f) for f in found]

    def finish_outbox(
        self, item_id: int, *, sent: bool, error: str | None, retry_at: pendulum.DateTime | None
    ) -> None:
        """Record the outcome of one send."""
        with self._transaction("outbox update") as conn:
            try:
                if sent:
                    conn.execute(rows.FINISH_SENT, (item_id,))
                else:
                    status = "dead" if retry_at is None else "pending"
                    conn.execute(
                        rows.FINISH_FAILED, (status, rows.micros(retry_at), error, item_id)
                    )
            except sqlite3.Error as failure:
                raise _translate(failure, "outbox update") from failure

    def outbox_rows(self, order_id: str | None = None) -> list[OutboxRow]:
        """Outbox rows, oldest first."""
        if order_id is None:
            found = self._read(rows.OUTBOX_ROWS + " ORDER BY id", ())
        else:
            found = self._read(rows.OUTBOX_ROWS + " WHERE order_id = ? ORDER BY id", (order_id,))
        return [rows.outbox_row(f) for f in found]

    def conversations(self, user_id: str) -> list[ConversationRow]:
        """The user's conversations, newest activity first, in one query."""
        return [
            rows.conversation(f, self._event) for f in self._read(rows.CONVERSATIONS, (user_id,))
        ]

    def inbox(self, user_id: str, tz: str) -> list[Conversation]:
        """``OrderDesk.inbox`` from the same query, without ``ConversationRow``s."""
        return rows.inbox(self._read(rows.CONVERSATIONS, (user_id,)), user_id, tz, self._event)

    def _event(self, order_id: str, seq: int) -> Event | None:
        found = self._read("SELECT doc FROM events WHERE order_id = ? AND seq = ?", (order_id, seq))
        return serde.load_event(str(found[0][0])) if found else None

    def mark_read(self, order_id: str, user_id: str, seq: int) -> None:
        """Move the user's read mark forward to ``seq`` (never back)."""
        with self._transaction("mark read") as conn:
            try:
                conn.execute(
                    "UPDATE participants SET last_read_seq = max(last_read_seq, ?)"
                    " WHERE order_id = ? AND user_id = ?",
                    (seq, order_id, user_id),
                )
            except sqlite3.Error as error:
                raise _translate(error, "mark read") from error

    def close(self) -> None:
        """Close every connection this store opened."""
        self._closed = True
        with self._all_lock:
            for conn in self._all:
                with contextlib.suppress(sqlite3.Error):  # best effort: nothing left to protect
                    conn.close()
            self._all.clear()
