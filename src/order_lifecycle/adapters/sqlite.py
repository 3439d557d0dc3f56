"""The SQLite store (``sqlite:///path``): the embedded default.

The standard library driver; WAL journal with ``synchronous=FULL`` (a committed command
survives a power cut); one connection per thread; writes in ``BEGIN IMMEDIATE``
transactions, so processes sharing the file serialise their writes on SQLite's lock;
driver errors become :class:`~order_lifecycle.errors.StorageError`.

The library's writers of one database take turns through a writers' queue, an
operating-system file lock beside it (``adapters/sqlite_queue.py``), instead of sleeping
in SQLite's busy handler; any other writer of the file (the host's own connection, a
command-line tool) still meets SQLite's lock and its busy handler.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Final

import pendulum

from order_lifecycle.adapters import rows
from order_lifecycle.adapters.forks import pid
from order_lifecycle.adapters.sql.reads import SQLReads, Statements
from order_lifecycle.adapters.sql.schema import SCHEMA_VERSION, pending
from order_lifecycle.adapters.sqlite_queue import AVAILABLE, WritersQueue
from order_lifecycle.core.model import Order
from order_lifecycle.errors import ConcurrencyConflict, StorageError, ValidationError
from order_lifecycle.ports import OutboxRow, Write

__all__ = ["CLAIM_DUE", "INSERT_EVENT", "SCHEMA_VERSION", "SQLiteStore"]

#: An event at the end of the feed. Writers are serialised (``BEGIN IMMEDIATE``), so the
#: next position taken inside the write transaction is already in commit order; the
#: maximum is one probe of the position index.
INSERT_EVENT: Final = (
    "INSERT INTO events (order_id, seq, kind, action, actor, at, doc, position)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, coalesce((SELECT max(position) FROM events), 0) + 1)"
)


#: The soonest order due at a given instant, ties by id (``(next_timer_at, id)`` is
#: indexed).
CLAIM_DUE: Final = (
    "SELECT id, version, doc FROM orders WHERE next_timer_at <= ?"
    " ORDER BY next_timer_at, id LIMIT 1"
)


def translate(error: sqlite3.Error, what: str) -> StorageError:
    """A driver error as the library's ``StorageError``."""
    text = str(error)
    if "locked" in text or "busy" in text:
        return StorageError(
            f"SQLite {what} failed: the database stayed locked by another process beyond the "
            f"busy timeout ({text}). Retry, or look for a long-running writer."
        )
    return StorageError(f"SQLite {what} failed: {text}")


class SQLiteStore(SQLReads):
    """Orders in one SQLite file, shared safely by threads and processes."""

    statements: ClassVar[Statements] = Statements.of("sqlite")

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
        self._queue: WritersQueue | None = None
        if AVAILABLE and path not in ("", ":memory:"):
            self._queue = WritersQueue(path, busy_timeout_ms / 1000)
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
        if conn is None or self._local.pid != pid():  # a connection is its process's own
            conn = self._connect()
            self._local.conn = conn
            self._local.pid = pid()
            self._local.lock = None  # opened by the first write
            with self._all_lock:
                self._all.append(conn)
        return conn

    def _transaction(
        self, what: str, *, queue: bool = True
    ) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction, committed at the end of the block; with
        ``queue`` (every write but the schema check when the store opens) taken in turn
        through the writers' queue."""
        return _Transaction(self, what, self._queue if queue else None)

    def _migrate(self) -> None:
        # Not through the writers' queue: opening a store to read leaves no lock file.
        with self._transaction("schema migration", queue=False) as conn:
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
                current = row[0] or 0
                for number, statements in pending("sqlite", current, repr(self.path)):
                    for statement in statements:
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
            except sqlite3.Error as error:
                raise translate(error, "schema migration") from error

    def schema_version(self) -> int:
        """The schema version the database is at."""
        row = self._read("SELECT max(version) FROM schema_version", ())
        return int(str(row[0][0]))

    def _read(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise translate(error, "read") from error

    def _change(self, sql: str, params: Sequence[object], what: str) -> None:
        with self._transaction(what) as conn:
            try:
                conn.execute(sql, params)
            except sqlite3.Error as error:
                raise translate(error, what) from error

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
        found += [(INSERT_EVENT, event, False) for event in rows.event_rows(write)]
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
            raise translate(error, "write") from error

    def fire_next_due(self, now: pendulum.DateTime, fire: Callable[[Order], Write]) -> Write | None:
        """Claim the soonest due order under the write lock, fire it, commit."""
        with self._transaction("timer") as conn:
            found = self._claim_due(conn, now)
            if not found:
                return None
            write = fire(self._cache.read(str(found[0][0]), int(found[0][1]), str(found[0][2])))
            self._apply(conn, write, self._statements(write))
        if write.events:
            self._cache.put(write.order)
        return write

    def _claim_due(self, conn: sqlite3.Connection, now: pendulum.DateTime) -> list[tuple[Any, ...]]:
        """(id, version, doc) of the soonest order due at ``now``, if any."""
        try:
            return conn.execute(CLAIM_DUE, (rows.micros(now),)).fetchall()
        except sqlite3.Error as error:
            raise translate(error, "timer claim") from error

    # -- outbox and inbox ------------------------------------------------------------

    def claim_outbox(
        self, now: pendulum.DateTime, limit: int, lease: pendulum.Duration
    ) -> list[OutboxRow]:
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
                raise translate(error, "outbox claim") from error
        return [rows.outbox_row(f) for f in found]

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
                raise translate(failure, "outbox update") from failure

    def bound(self, connection: sqlite3.Connection) -> SQLiteStore:
        """This database through the host's ``connection``, inside its open transaction
        (``OrderDesk.bound``)."""
        from order_lifecycle.adapters.bound import BoundSQLiteStore

        if not isinstance(connection, sqlite3.Connection):
            raise ValidationError(
                "connection", f"must be a sqlite3.Connection, not {type(connection).__name__}"
            )
        return BoundSQLiteStore(self, connection)

    def close(self) -> None:
        """Close every connection this store opened."""
        self._closed = True
        with self._all_lock:
            for conn in self._all:
                with contextlib.suppress(sqlite3.Error):  # best effort: nothing left to protect
                    conn.close()
            self._all.clear()
        if self._queue is not None:
            self._queue.close()


class _Transaction:
    """``SQLiteStore._transaction``: the writers' queue entered (when given) and ``BEGIN
    IMMEDIATE`` on the way in; ``COMMIT`` (or ``ROLLBACK`` on an error) and the queue left
    on the way out, whatever happens. A class, not a generator: one runs per command."""

    __slots__ = ("_conn", "_fd", "_store", "_what", "_writers")

    def __init__(self, store: SQLiteStore, what: str, writers: WritersQueue | None) -> None:
        self._store = store
        self._what = what
        self._writers = writers
        self._fd: int | None = None

    def __enter__(self) -> sqlite3.Connection:
        store = self._store
        conn = self._conn = store._conn()
        writers = self._writers
        if writers is None:
            self._begin(conn)
            return conn
        fd = store._local.lock
        if fd is None:
            fd = store._local.lock = writers.open()
        try:
            writers.enter(fd, self._what)
            self._begin(conn)
        except BaseException:
            writers.leave(fd)  # also when the lock was not taken: nothing to release
            raise
        self._fd = fd
        return conn

    def _begin(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise translate(error, self._what) from error

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        conn = self._conn
        try:
            if kind is not None:
                # The transaction may already be gone; the original error says why.
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                return  # the error goes on
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as error:
                with contextlib.suppress(sqlite3.Error):  # as above
                    conn.execute("ROLLBACK")
                raise translate(error, self._what) from error
        finally:
            if self._writers is not None and self._fd is not None:
                self._writers.leave(self._fd)
