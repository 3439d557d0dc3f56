"""The PostgreSQL store on psycopg's async pool, for :class:`~order_lifecycle.AsyncOrderDesk`.

The same schema, statements and rows as :class:`~order_lifecycle.adapters.postgres.PostgresStore`
(its migration runs first, on a connection of its own); each call awaits its statement
instead of blocking. A write is still one statement, timers and outbox rows are still
claimed with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeAlias

import pendulum

from order_lifecycle.adapters import rows
from order_lifecycle.adapters.postgres import (
    CLAIM_DUE,
    CLAIM_OUTBOX,
    CLAIMED_ITEMS,
    FINISH_FAILED,
    FINISH_SENT,
    LOCK_COUNTER,
    NUMBER_EVENTS,
    ROUND_SIZE,
    SERIAL,
    UNNUMBERED,
    PostgresBlobs,
    PostgresStore,
    write_statement,
)
from order_lifecycle.adapters.sql.reads import AsyncSQLReads, Statements
from order_lifecycle.core.model import Order
from order_lifecycle.errors import ConcurrencyConflict, StorageError
from order_lifecycle.ports import ConversationRow, FeedItem, OutboxRow, Write

__all__ = ["AsyncPostgresStore"]

_AsyncConn: TypeAlias = "psycopg.AsyncConnection[tuple[Any, ...]]"

try:
    import psycopg
    import psycopg_pool
    from psycopg import errors as pg_errors
    from psycopg import sql
except ImportError:  # pragma: no cover - PostgresStore.open reports it first
    pass


class AsyncPostgresStore(AsyncSQLReads):
    """Orders in PostgreSQL through psycopg's ``AsyncConnectionPool``."""

    statements: ClassVar[Statements] = Statements.of("postgres")

    def __init__(self, sync: PostgresStore, pool: psycopg_pool.AsyncConnectionPool[Any]) -> None:
        self._sync = sync
        self._pool = pool
        self._cache = rows.OrderCache()
        #: Files in the database, as ``OrderDesk.open`` keeps them (synchronous: the
        #: async desk calls it in a worker thread).
        self.blobs = PostgresBlobs(sync)
        self.url = sync.url

    @classmethod
    async def open(
        cls, url: str, *, min_size: int = 1, max_size: int = 8, connect_timeout: float = 5
    ) -> AsyncPostgresStore:
        """Migrate the schema (in a worker thread), then open the async pool."""
        sync = await asyncio.to_thread(
            PostgresStore, url, min_size=0, max_size=2, connect_timeout=connect_timeout
        )
        schema = sync.schema

        async def configure(conn: _AsyncConn) -> None:
            if schema is not None:
                await conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))

        pool: psycopg_pool.AsyncConnectionPool[Any] = psycopg_pool.AsyncConnectionPool(
            sync.conninfo,
            kwargs=sync.connect_kwargs,
            min_size=min_size,
            max_size=max_size,
            configure=configure,
            open=False,
            name="order-lifecycle-async",
        )
        try:
            await pool.open(wait=True, timeout=connect_timeout)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
            await asyncio.to_thread(sync.close)
            raise StorageError(f"Cannot open the async pool at {sync.url}: {error}") from None
        return cls(sync, pool)

    async def close(self) -> None:
        """Close both pools; the store is not used again."""
        await self._pool.close()
        await asyncio.to_thread(self._sync.close)

    async def _read(self, sql_text: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(sql_text, params)
                found: list[tuple[Any, ...]] = await cursor.fetchall()
                return found
        except psycopg.Error as error:
            raise self._sync.translate(error, "read") from error

    async def _change(self, sql_text: str, params: Sequence[object], what: str) -> None:
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute(sql_text, params)
        except psycopg.Error as error:
            raise self._sync.translate(error, what) from error

    async def feed(self, after: int, limit: int) -> list[FeedItem]:
        """As ``PostgresStore.feed``: a numbering round when events wait for one, then
        the read."""
        if await self._read(UNNUMBERED, ()):
            try:
                async with self._pool.connection() as conn, conn.transaction():
                    await conn.execute(LOCK_COUNTER)
                    await conn.execute(NUMBER_EVENTS, (ROUND_SIZE,))
            except psycopg.Error as error:
                raise self._sync.translate(error, "feed numbering") from error
        return await super().feed(after, limit)

    async def _apply(self, conn: _AsyncConn, write: Write) -> None:
        statement, params = write_statement(write)
        try:
            cursor = await conn.execute(statement, params)
            found = await cursor.fetchone()
        except (
            pg_errors.UniqueViolation,
            pg_errors.SerializationFailure,
            pg_errors.DeadlockDetected,
        ) as error:
            raise self._sync.conflict(error, write) from error
        if found is None or found[0] != 1:
            raise ConcurrencyConflict(write.order.id, write.expected_version)

    async def write(self, write: Write) -> None:
        """As ``PostgresStore.write``: one statement, one round trip."""
        try:
            async with self._pool.connection() as conn:
                await self._apply(conn, write)
        except psycopg.Error as error:
            raise self._sync.translate(error, "write") from error
        if write.events:
            self._cache.put(write.order)

    async def fire_next_due(
        self, now: pendulum.DateTime, fire: Callable[[Order], Write]
    ) -> Write | None:
        """As ``PostgresStore.fire_next_due``."""
        try:
            async with self._pool.connection() as conn, conn.transaction():
                cursor = await conn.execute(CLAIM_DUE, (rows.micros(now),))
                found = await cursor.fetchone()
                if found is None:
                    return None
                write = fire(self._cache.read(str(found[0]), int(found[1]), str(found[2])))
                await self._apply(conn, write)
        except psycopg.Error as error:
            raise self._sync.translate(error, "timer") from error
        if write.events:
            self._cache.put(write.order)
        return write

    async def claim_outbox(
        self, now: pendulum.DateTime, limit: int, lease: pendulum.Duration
    ) -> list[OutboxRow]:
        """As ``PostgresStore.claim_outbox``."""
        at = rows.micros(now)
        until = rows.micros(now + lease)
        try:
            async with self._pool.connection() as conn, conn.transaction():
                cursor = await conn.execute(CLAIM_OUTBOX, (until, at, at, limit))
                ids = [r[0] for r in await cursor.fetchall()]
                if not ids:
                    return []
                cursor = await conn.execute(CLAIMED_ITEMS, (until, ids))
                found = await cursor.fetchall()
        except psycopg.Error as error:
            raise self._sync.translate(error, "outbox claim") from error
        return [rows.outbox_row(f) for f in found]

    async def finish_outbox(
        self, item_id: int, *, sent: bool, error: str | None, retry_at: pendulum.DateTime | None
    ) -> None:
        """As ``PostgresStore.finish_outbox``."""
        if sent:
            await self._change(FINISH_SENT, (item_id,), "outbox update")
        else:
            status = "dead" if retry_at is None else "pending"
            params = (status, rows.micros(retry_at), error, item_id)
            await self._change(FINISH_FAILED, params, "outbox update")

    async def conversations(self, user_id: str) -> list[ConversationRow]:
        """As ``PostgresStore.conversations`` (planned without parallel workers)."""
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute(SERIAL)
                cursor = await conn.execute(self.statements.conversations, (user_id,))
                found = await cursor.fetchall()
        except psycopg.Error as error:
            raise self._sync.translate(error, "read") from error
        return [rows.conversation(f) for f in found]
