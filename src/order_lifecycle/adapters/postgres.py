"""The PostgreSQL store (``postgresql://...``): many processes on many hosts.

psycopg 3 with a :class:`psycopg_pool.ConnectionPool`. Connections run in autocommit
mode; every command is one explicit transaction, sent in pipeline mode (its statements
travel together, then one ``COMMIT``). Optimistic concurrency is on the order's version
(``UPDATE ... WHERE id = %s AND version = %s``); timers are claimed with ``FOR UPDATE
SKIP LOCKED`` so concurrent workers never fire the same one twice. The schema is created
and migrated by the library under a transaction-scoped advisory lock, so first opens
from several processes at once are safe. Driver errors become
:class:`~order_lifecycle.errors.StorageError` (or
:class:`~order_lifecycle.errors.ConcurrencyConflict` for a lost race).

The URL is a libpq URL, ``postgresql://user[:password]@host[:port]/db`` or any other form
libpq accepts (``postgresql:///db?host=...``, or ``postgresql:///db`` with ``PGHOST``...
set), with one extra query parameter, ``schema=NAME``: the store then keeps its tables in
that schema (created if missing) by setting ``search_path`` on every pooled connection.
psycopg gets the URL as it was given, only the ``schema=`` parameter taken out.
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Final, TypeAlias
from urllib.parse import unquote, urlsplit

import pendulum

from order_lifecycle.adapters import rows
from order_lifecycle.adapters.forks import pid
from order_lifecycle.adapters.sql.reads import SQLReads, Statements
from order_lifecycle.adapters.sql.schema import SCHEMA_VERSION, pending
from order_lifecycle.adapters.urls import mask_url
from order_lifecycle.core.model import Attachment, Order
from order_lifecycle.errors import ConcurrencyConflict, StorageError, ValidationError
from order_lifecycle.ports import ConversationRow, FeedItem, OutboxRow, Write

try:
    import psycopg
    import psycopg_pool
    from psycopg import errors as pg_errors
    from psycopg import sql
    from psycopg.rows import tuple_row
except ImportError as _missing:  # pragma: no cover - depends on the installed extras
    _DRIVER_MISSING: ImportError | None = _missing
else:
    _DRIVER_MISSING = None

__all__ = ["SCHEMA_VERSION", "PostgresBlobs", "PostgresStore"]


#: First key of the advisory lock held while migrating (the second is the schema's).
_MIGRATION_LOCK: Final = 0x6F6C_6D67  # "olmg"

_INSERT_ORDER: Final = rows.pg(rows.INSERT_ORDER)
_UPDATE_ORDER: Final = rows.pg(rows.UPDATE_ORDER)
_MOVE_TIMER: Final = rows.pg(rows.MOVE_TIMER)
_INSERT_EVENT: Final = rows.pg(rows.INSERT_EVENT)
_INSERT_OUTBOX: Final = rows.pg(rows.INSERT_OUTBOX)
_INSERT_PARTICIPANT: Final = rows.pg(rows.INSERT_PARTICIPANT)
_INSERT_KEY: Final = rows.pg(rows.INSERT_KEY)
# Built from constant statements only, never from input.
CLAIM_OUTBOX: Final = (
    "UPDATE outbox SET claimed_until = %s WHERE id IN ("  # noqa: S608
    + rows.pg(rows.CLAIMABLE_OUTBOX)
    + " FOR UPDATE SKIP LOCKED) RETURNING id"
)
CLAIMED_ITEMS: Final = rows.pg(rows.CLAIMED_ITEMS.replace("IN ({ids})", "= ANY(?)"))
FINISH_SENT: Final = rows.pg(rows.FINISH_SENT)
FINISH_FAILED: Final = rows.pg(rows.FINISH_FAILED)
SERIAL: Final = "SET LOCAL max_parallel_workers_per_gather = 0"
# One statement writes a whole command: data-modifying CTEs run once each, in one
# snapshot; every insert is conditional on the order's own row having moved (it reads
# from ``moved``), so a stale version writes nothing, and a duplicate event or key fails
# the statement as a whole. The rows are plain parameters in VALUES lists, typed by casts:
# arrays would make psycopg inspect every list to pick its element type, which cost more
# than the rest of the command's Python work.
_MOVED_NEW: Final = "WITH moved AS (" + rows.pg(rows.INSERT_ORDER) + " RETURNING id)"
_MOVED_NEXT: Final = "WITH moved AS (" + rows.pg(rows.UPDATE_ORDER) + " RETURNING id)"
#: Per table a write inserts into: its name, its columns, and their SQL types.
_CHILD_ROWS: Final = (
    ("events", "order_id seq kind action actor at doc", "text bigint text text text bigint text"),
    ("outbox", "order_id seq recipient role kind created_at", "text bigint text text text bigint"),
    ("participants", "order_id user_id role actor", "text text text text"),
    ("idempotency", "key fingerprint order_id version", "text text text bigint"),
)
_WRITE_TIMER: Final = (
    "WITH moved AS (UPDATE orders SET next_timer_at = %s"
    " WHERE id = %s AND version = %s RETURNING id) SELECT count(*) FROM moved"
)


@functools.lru_cache(maxsize=256)
def _write_sql(new: bool, counts: tuple[int, int, int, int]) -> str:
    """The statement of a write that inserts ``counts`` rows into events, outbox,
    participants and idempotency (constant text: every value is a bound parameter)."""
    parts = [_MOVED_NEW if new else _MOVED_NEXT]
    for n, (count, (table, columns, types)) in enumerate(zip(counts, _CHILD_ROWS, strict=True)):
        if count == 0:
            continue
        names = ", ".join(columns.split())
        row = "(" + ", ".join(f"%s::{kind}" for kind in types.split()) + ")"
        conflict = " ON CONFLICT DO NOTHING" if table == "participants" else ""
        parts.append(  # the library's own table and column names, not input
            f", c{n} AS (INSERT INTO {table} ({names}) SELECT v.* FROM moved,"  # noqa: S608
            f" (VALUES {', '.join([row] * count)}) AS v ({names}){conflict})"
        )
    parts.append(" SELECT count(*) FROM moved")
    return "".join(parts)


def write_statement(write: Write) -> tuple[str, list[object]]:
    """The statement that applies ``write``, and its parameters."""
    order = write.order
    if not write.events:
        return _WRITE_TIMER, [rows.micros(write.next_timer_at), order.id, write.expected_version]
    row = rows.order_row(write)
    new = write.expected_version == 0
    params: list[object] = list(row if new else rows.order_update(row, write.expected_version))
    key = write.idempotency
    children = (
        rows.event_rows(write),
        rows.notification_rows(write.notifications, order.updated_at),
        rows.participant_rows(write.participants),
        [] if key is None else [(key.key, key.fingerprint, key.order_id, key.version)],
    )
    for child in children:
        for item in child:
            params.extend(item)
    counts = (len(children[0]), len(children[1]), len(children[2]), len(children[3]))
    return _write_sql(new, counts), params


# The feed's positions are given by the readers, not the writers: a write inserts its
# events without one (nothing more on the command's path); a feed read first numbers the
# events committed since the last numbering, in one transaction holding the counter row's
# lock, then reads. Rounds of numbering follow one another, each above the last, and an
# event still to commit is invisible to a round, so it gets a position above every
# position any reader saw before: none is skipped (a sequence drawn by the writers would
# let a later number commit, and be read, before an earlier one; see docs/decisions.md).
UNNUMBERED: Final = "SELECT 1 FROM events WHERE position IS NULL LIMIT 1"
LOCK_COUNTER: Final = "SELECT last FROM feed_position FOR UPDATE"
#: Run after the lock is held, so its snapshot sees every round before it. Within a round
#: events go by their writing transaction (``written``, an xid8: in the order the writes
#: began), then order and seq: each order's events in seq order, since a write on an
#: order begins only after the previous one committed.
NUMBER_EVENTS: Final = (
    "WITH fresh AS (SELECT order_id, seq,"
    " row_number() OVER (ORDER BY written, order_id, seq) AS n"
    " FROM (SELECT order_id, seq, written FROM events WHERE position IS NULL"
    " ORDER BY written, order_id, seq LIMIT %s) AS oldest),"
    " numbered AS (UPDATE events e SET position = c.last + f.n FROM fresh f, feed_position c"
    " WHERE e.order_id = f.order_id AND e.seq = f.seq AND e.position IS NULL RETURNING 1)"
    " UPDATE feed_position SET last = last + (SELECT count(*) FROM numbered)"
)
#: The most events one round numbers (a backlog takes several reads).
ROUND_SIZE: Final = 10_000

CLAIM_DUE: Final = (
    "SELECT id, version, doc FROM orders WHERE next_timer_at <= %s"
    " ORDER BY next_timer_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
)

_SCHEMES: Final = ("postgresql", "postgres")
#: The longest name PostgreSQL keeps whole (``NAMEDATALEN - 1`` bytes).
_MAX_NAME: Final = 63

_Conn: TypeAlias = "psycopg.Connection[tuple[Any, ...]]"
_Pool: TypeAlias = "psycopg_pool.ConnectionPool[_Conn]"


class _Target:
    """A URL taken apart: what libpq gets, the schema, and what may be shown or logged."""

    def __init__(self, url: str) -> None:
        if not isinstance(url, str):
            raise StorageError(f"A PostgreSQL URL must be a text, not {type(url).__name__}.")
        self.shown = mask_url(url)
        self.secrets = _secrets(url)
        try:
            parts = urlsplit(url)
        except ValueError as error:
            raise StorageError(f"Malformed PostgreSQL URL {self.shown}: {error}") from None
        if parts.scheme not in _SCHEMES:
            raise StorageError(
                f"Not a PostgreSQL URL: {self.shown} (expected postgresql://user@host:port/db)."
            )
        # The query is cut out of the raw text, not rebuilt with ``urlunsplit``: that
        # turns ``postgresql:///db?host=...`` (no host in the authority) into
        # ``postgresql:/db?host=...``, which libpq refuses. Everything but the
        # ``schema=`` items reaches psycopg byte for byte.
        head, hash_mark, fragment = url.partition("#")
        base, question_mark, query = head.partition("?")
        kept: list[str] = []
        schema: str | None = None
        for item in query.split("&") if question_mark else []:
            name, _, value = item.partition("=")
            if item and unquote(name) == "schema":
                schema = unquote(value)
            else:
                kept.append(item)
        if schema is not None and not schema.strip():
            raise StorageError(f"The schema parameter of {self.shown} must not be empty.")
        if schema is not None and len(schema.encode("utf-8", "surrogatepass")) > _MAX_NAME:
            # PostgreSQL would cut it to its first 63 bytes: two long names alike there
            # would share one schema.
            raise StorageError(
                f"The schema parameter of {self.shown} is longer than PostgreSQL's "
                f"{_MAX_NAME} bytes for a name; it would be cut short. Use a shorter name."
            )
        self.schema = schema
        self.conninfo = base + ("?" + "&".join(kept) if kept else "") + hash_mark + fragment

    def scrub(self, text: str) -> str:
        """``text`` with every secret of the URL replaced by ``***``."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def _secrets(url: str) -> list[str]:
    """The password of ``url`` (in the user info or as a ``password=`` parameter), raw and
    decoded, longest first."""
    found: set[str] = set()
    _, _, rest = url.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    userinfo, at, _ = authority.rpartition("@")
    if at and ":" in userinfo:
        found.add(userinfo.split(":", 1)[1])
    query = url.partition("?")[2].partition("#")[0]
    for item in query.split("&"):
        name, _, value = item.partition("=")
        if unquote(name) == "password":
            found.add(value)
    found |= {unquote(s) for s in found}
    return sorted((s for s in found if s), key=len, reverse=True)


def _lock_key(schema: str | None) -> int:
    """The advisory lock's second key: the schema's CRC-32 as a signed 32-bit integer."""
    crc = zlib.crc32((schema or "").encode())
    return (crc ^ 0x8000_0000) - 0x8000_0000


class PostgresStore(SQLReads):
    """Orders in PostgreSQL, shared safely by threads, processes and hosts.

    ``url`` is ``postgresql://user[:password]@host[:port]/db[?schema=NAME&...]``; the pool
    keeps ``min_size`` to ``max_size`` connections. Opening connects once (at most
    ``connect_timeout`` seconds), creates or migrates the schema, then fills the pool; an
    unreachable server or a wrong URL is a ``StorageError`` naming the URL with its
    password masked.
    """

    statements: ClassVar[Statements] = Statements.of("postgres")

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 8,
        connect_timeout: float = 5,
    ) -> None:
        target = _Target(url)
        self.url = target.shown  #: the URL with its password masked: safe to log
        self._target = target
        if _DRIVER_MISSING is not None:
            raise StorageError(
                f"Cannot open {self.url}: the PostgreSQL driver is not installed "
                f"({_DRIVER_MISSING}). Install it with: pip install 'order-lifecycle[postgres]'"
            )
        if not (isinstance(min_size, int) and 0 <= min_size <= max_size and max_size >= 1):
            raise StorageError(
                f"Pool sizes must satisfy 0 <= min_size <= max_size and max_size >= 1 "
                f"(got min_size={min_size!r}, max_size={max_size!r})."
            )
        if not connect_timeout > 0:
            raise StorageError(f"connect_timeout must be positive, not {connect_timeout!r}.")
        self._min_size = min_size
        self._max_size = max_size
        self._connect_timeout = float(connect_timeout)
        # libpq takes whole seconds (and treats 1 as 2).
        self._kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": max(2, math.ceil(connect_timeout)),
        }
        self._lock = threading.Lock()
        self._closed = False
        self._cache = rows.OrderCache()
        self._pool: _Pool | None = None
        self._pid = pid()
        #: This thread's cursor (``_cursor``).
        self._local = threading.local()
        #: Pools inherited through ``fork``: never used nor closed here (their sockets
        #: belong to the parent process).
        self._inherited: list[_Pool]
        self._inherited = []
        self._migrate()
        self._pool = self._open_pool()

    # -- connections ---------------------------------------------------------------

    @property
    def conninfo(self) -> str:
        """What psycopg connects with (the store's own: never shown, it may hold a password)."""
        return self._target.conninfo

    @property
    def connect_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of every connection the store makes."""
        return dict(self._kwargs)

    @property
    def schema(self) -> str | None:
        """The schema the store's tables live in (``None``: the search path's)."""
        return self._target.schema

    def conflict(self, error: Exception, write: Write) -> ConcurrencyConflict:
        """A write's unique or serialisation failure as ``ConcurrencyConflict``."""
        order = write.order
        return ConcurrencyConflict(
            order.id,
            write.expected_version,
            f"Order {order.id!r} was written concurrently "
            f"({self._target.scrub(str(error).strip())}). Reload and retry.",
        )

    def _configure(self, conn: _Conn) -> None:
        """Point a new connection at the store's schema (the pool calls this once each)."""
        schema = self._target.schema
        if schema is not None:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))

    def _unreachable(self, error: BaseException) -> StorageError:
        reason = self._target.scrub(str(error).strip()) or type(error).__name__
        return StorageError(
            f"Cannot connect to PostgreSQL at {self.url} (connect timeout "
            f"{self._connect_timeout:g}s): {reason}"
        )

    def _connect(self) -> _Conn:
        try:
            conn = psycopg.connect(self._target.conninfo, **self._kwargs)
        except psycopg.Error as error:
            raise self._unreachable(error) from None
        try:
            self._configure(conn)
        except psycopg.Error as error:
            conn.close()
            raise self.translate(error, "connection setup") from None
        return conn

    def _open_pool(self) -> _Pool:
        pool: _Pool = psycopg_pool.ConnectionPool(
            self._target.conninfo,
            kwargs=self._kwargs,
            min_size=self._min_size,
            max_size=self._max_size,
            configure=self._configure,
            open=False,
            name="order-lifecycle",
        )
        try:
            pool.open(wait=True, timeout=self._connect_timeout)
        except psycopg.Error as error:
            pool.close(timeout=0)
            raise self._unreachable(error) from None
        return pool

    def _live_pool(self) -> _Pool:
        with self._lock:
            if self._closed or self._pool is None:
                raise StorageError(f"This store ({self.url}) is closed.")
            if self._pid != pid():
                # Forked: the parent's connections are not ours to use or to close.
                self._inherited.append(self._pool)
                self._pool = self._open_pool()
                self._pid = pid()
            return self._pool

    def translate(self, error: psycopg.Error, what: str) -> StorageError:
        """A driver error as the library's ``StorageError``, the URL's password masked."""
        text = self._target.scrub(str(error).strip()) or type(error).__name__
        state = f" [SQLSTATE {error.sqlstate}]" if error.sqlstate else ""
        if isinstance(error, psycopg_pool.PoolTimeout):
            return StorageError(
                f"PostgreSQL {what} failed at {self.url}: no connection became available "
                f"({text}). The server may be down, or all {self._max_size} pooled "
                f"connections are busy; raise max_size or retry."
            )
        if isinstance(error, psycopg.OperationalError) and not error.sqlstate:
            return StorageError(
                f"PostgreSQL {what} failed at {self.url}: the connection was lost ({text}). "
                f"Retry; the command was applied entirely or not at all."
            )
        return StorageError(f"PostgreSQL {what} failed at {self.url}{state}: {text}")

    @contextmanager
    def _transaction(self, what: str) -> Iterator[_Conn]:
        """One transaction, its statements pipelined; committed when the block ends."""
        pool = self._live_pool()
        try:
            with pool.connection() as conn, conn.pipeline(), conn.transaction():
                yield conn
        except psycopg.Error as error:
            raise self.translate(error, what) from error

    def _cursor(self, conn: psycopg.Connection[Any]) -> psycopg.Cursor[tuple[Any, ...]]:
        """A cursor on ``conn``, kept for this thread's next statement on the same
        connection: ``conn.execute`` makes a new cursor each time, and with it looks up
        again how to send each parameter (17-21 µs of client CPU for a 32-parameter
        statement). It holds its last result until the next statement replaces it.

        Its rows are plain tuples whatever the connection's ``row_factory`` (a host's
        connection, ``bound``, may return dicts): every read here indexes by position."""
        cursor: psycopg.Cursor[tuple[Any, ...]] | None = getattr(self._local, "cursor", None)
        if cursor is None or cursor.connection is not conn or cursor.closed:
            cursor = self._local.cursor = conn.cursor(row_factory=tuple_row)
        return cursor

    def _read(self, query: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        pool = self._live_pool()
        try:
            with pool.connection() as conn:
                return self._cursor(conn).execute(query, params).fetchall()
        except psycopg.Error as error:
            raise self.translate(error, "read") from error

    def _change(self, sql: str, params: Sequence[object], what: str) -> None:
        with self._transaction(what) as conn:
            conn.execute(sql, params)

    def conversations(self, user_id: str) -> list[ConversationRow]:
        """The user's conversations, newest activity first, in one query.

        Planned without parallel workers: a user's conversations are a few index probes
        each, and starting a worker took longer than the whole query (1,000 rows among 1M
        orders: 9 ms serial, 13 ms with a worker). ``SET LOCAL`` ends with the transaction.
        """
        with self._transaction("read") as conn:
            conn.execute(SERIAL)
            found = conn.execute(self.statements.conversations, (user_id,)).fetchall()
        return [rows.conversation(f) for f in found]

    def feed(self, after: int, limit: int) -> list[FeedItem]:
        """Number the events committed since the last numbering (if any), then read the
        events after position ``after``, in position order."""
        if self._read(UNNUMBERED, ()):
            with self._transaction("feed numbering") as conn:
                conn.execute(LOCK_COUNTER)
                conn.execute(NUMBER_EVENTS, (ROUND_SIZE,))
        return super().feed(after, limit)

    def _migrate(self) -> None:
        schema = self._target.schema
        conn = self._connect()
        try:
            with conn.transaction():
                conn.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", (_MIGRATION_LOCK, _lock_key(schema))
                )
                if schema is not None:
                    exists = conn.execute(
                        "SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)
                    ).fetchone()
                    if exists is None:
                        conn.execute(
                            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                        )
                found = conn.execute("SELECT to_regclass('schema_version')").fetchone()
                if found is None or found[0] is None:
                    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
                current = int(row[0] or 0) if row else 0
                for number, statements in pending("postgres", current, self.url):
                    for statement in statements:
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
        except psycopg.Error as error:
            raise self.translate(error, "schema migration") from error
        finally:
            conn.close()

    def schema_version(self) -> int:
        """The schema version the database is at."""
        found = self._read("SELECT max(version) FROM schema_version", ())
        return int(found[0][0])

    # -- the port ------------------------------------------------------------------

    def write(self, write: Write) -> None:
        """Apply ``write`` as one statement (itself a transaction): one round trip.

        ``ConcurrencyConflict`` if the version moved on, or if the idempotency key or an
        event's sequence number is already taken; then nothing is written.
        """
        pool = self._live_pool()
        try:
            with pool.connection() as conn:
                self._apply(conn, write)
        except psycopg.Error as error:
            raise self.translate(error, "write") from error
        if write.events:
            self._cache.put(write.order)

    def _apply(self, conn: _Conn, write: Write) -> None:
        """Run the statement of ``write`` and check that it moved the order."""
        order = write.order
        statement, params = write_statement(write)
        try:
            found = self._cursor(conn).execute(statement, params).fetchone()
        except (
            pg_errors.UniqueViolation,
            pg_errors.SerializationFailure,
            pg_errors.DeadlockDetected,
        ) as error:
            raise self.conflict(error, write) from error
        except psycopg.Error as error:
            raise self.translate(error, "write") from error
        if found is None or found[0] != 1:
            raise ConcurrencyConflict(order.id, write.expected_version)

    def fire_next_due(self, now: pendulum.DateTime, fire: Callable[[Order], Write]) -> Write | None:
        """Claim the soonest due order no other worker holds (``FOR UPDATE SKIP LOCKED``),
        apply ``fire(order)`` in the same transaction, commit, and return that write;
        ``None`` when nothing is due."""
        with self._transaction("timer") as conn:
            try:
                found = self._cursor(conn).execute(CLAIM_DUE, (rows.micros(now),)).fetchone()
            except psycopg.Error as error:
                raise self.translate(error, "timer claim") from error
            if found is None:
                return None
            write = fire(self._cache.read(str(found[0]), int(found[1]), str(found[2])))
            self._apply(conn, write)
        if write.events:
            self._cache.put(write.order)
        return write

    # -- outbox and inbox ------------------------------------------------------------

    def claim_outbox(
        self, now: pendulum.DateTime, limit: int, lease: pendulum.Duration
    ) -> list[OutboxRow]:
        """Claim the due head row of each (order, recipient) no other relay holds
        (``FOR UPDATE SKIP LOCKED``)."""
        at = rows.micros(now)
        until = rows.micros(now + lease)
        pool = self._live_pool()
        try:
            with pool.connection() as conn, conn.transaction():
                ids = [r[0] for r in conn.execute(CLAIM_OUTBOX, (until, at, at, limit))]
                if not ids:
                    return []
                found = conn.execute(CLAIMED_ITEMS, (until, ids)).fetchall()
        except psycopg.Error as error:
            raise self.translate(error, "outbox claim") from error
        return [rows.outbox_row(f) for f in found]

    def finish_outbox(
        self, item_id: int, *, sent: bool, error: str | None, retry_at: pendulum.DateTime | None
    ) -> None:
        """Record the outcome of one send."""
        with self._transaction("outbox update") as conn:
            if sent:
                conn.execute(FINISH_SENT, (item_id,))
            else:
                status = "dead" if retry_at is None else "pending"
                conn.execute(FINISH_FAILED, (status, rows.micros(retry_at), error, item_id))

    def bound(self, connection: psycopg.Connection[Any]) -> PostgresStore:
        """This database through the host's ``connection``, inside its transaction
        (``OrderDesk.bound``)."""
        from order_lifecycle.adapters.bound import BoundPostgresStore

        if not isinstance(connection, psycopg.Connection):
            raise ValidationError(
                "connection", f"must be a psycopg.Connection, not {type(connection).__name__}"
            )
        return BoundPostgresStore(self, connection)

    def close(self) -> None:
        """Close the connection pool; the store is not used again."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            mine = self._pid == pid()
        if pool is not None and mine:
            pool.close()


class PostgresBlobs:
    """Attached files in the database itself, so every host sees every file."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    def put(self, name: str, data: bytes, media_type: str) -> Attachment:
        """Store ``data`` under its sha256 (a second identical file costs nothing)."""
        digest = hashlib.sha256(data).hexdigest()
        attachment = Attachment(name, len(data), media_type, digest, f"postgres:{digest}")
        with self._store._transaction("file upload") as conn:
            conn.execute(
                "INSERT INTO blobs (sha256, size, data) VALUES (%s, %s, %s)"
                " ON CONFLICT (sha256) DO NOTHING",
                (digest, len(data), data),
            )
        return attachment

    def get(self, sha256: str) -> bytes:
        """The content stored under ``sha256``."""
        if not (isinstance(sha256, str) and len(sha256) == 64 and set(sha256) <= _HEX):
            raise ValidationError("sha256", "must be 64 lowercase hex digits")
        found = self._store._read("SELECT data FROM blobs WHERE sha256 = %s", (sha256,))
        if not found:
            raise ValidationError("sha256", f"no file {sha256} is stored")
        return bytes(found[0][0])


_HEX: Final = frozenset("0123456789abcdef")
