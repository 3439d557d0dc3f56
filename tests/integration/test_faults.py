"""Storage faults: the database goes away mid-command or stays locked.

The desk raises a clear ``StorageError``, nothing is half-written, and it works again
once the database is back.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import sys
import time
import uuid
from pathlib import Path

import pendulum
import psycopg
import pytest

from order_lifecycle import (
    Listing,
    ManualClock,
    Money,
    Order,
    OrderDesk,
    OrderState,
    StorageError,
    Timer,
)
from order_lifecycle.adapters.postgres import PostgresStore
from order_lifecycle.adapters.sqlite import SQLiteStore
from order_lifecycle.core import api
from order_lifecycle.ports import Write
from order_lifecycle.testing.consistency import check_order

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 1)


def _hold_lock(path: str, seconds: float, ready: multiprocessing.synchronize.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    ready.set()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


def test_sqlite_locked_beyond_the_busy_timeout(tmp_path: Path) -> None:
    """Another process holds the write lock too long: StorageError, then it works again."""
    path = str(tmp_path / "orders.db")
    clock = ManualClock(T0)
    desk = OrderDesk(SQLiteStore(path, busy_timeout_ms=200), clock=clock)
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(path, 2.0, ready))
    holder.start()
    assert ready.wait(30)
    with pytest.raises(StorageError, match="locked"):
        desk.accept(order.id, by="bob")
    holder.join(30)
    assert desk.get(order.id).state is OrderState.pending
    assert desk.accept(order.id, by="bob").state is OrderState.accepted
    assert check_order(desk.store, order.id) == []
    desk.close()


def _hold_queue(path: str, seconds: float, ready: multiprocessing.synchronize.Event) -> None:
    import fcntl

    with open(f"{path}-writer", "a+b") as queue:
        fcntl.flock(queue, fcntl.LOCK_EX)
        ready.set()
        time.sleep(seconds)


@pytest.mark.skipif(sys.platform == "win32", reason="the writers' queue is a POSIX file lock")
def test_sqlite_writers_queue_held_beyond_the_busy_timeout(tmp_path: Path) -> None:
    """Another writer holds the queue too long: the same StorageError, nothing written,
    then it works again."""
    path = str(tmp_path / "orders.db")
    desk = OrderDesk(SQLiteStore(path, busy_timeout_ms=200), clock=ManualClock(T0))
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_queue, args=(path, 2.0, ready))
    holder.start()
    assert ready.wait(30)
    started = time.monotonic()
    with pytest.raises(StorageError, match="locked by another writer"):
        desk.accept(order.id, by="bob")
    assert 0.2 <= time.monotonic() - started < 1.5
    holder.join(30)
    assert desk.get(order.id).state is OrderState.pending
    assert desk.accept(order.id, by="bob").state is OrderState.accepted
    assert check_order(desk.store, order.id) == []
    desk.close()


@pytest.mark.skipif(sys.platform == "win32", reason="the writers' queue is a POSIX file lock")
def test_sqlite_writer_waits_its_turn_in_the_queue(tmp_path: Path) -> None:
    """A writer that finds the queue taken waits, and writes as soon as it is released."""
    path = str(tmp_path / "orders.db")
    desk = OrderDesk(SQLiteStore(path, busy_timeout_ms=5_000), clock=ManualClock(T0))
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_queue, args=(path, 0.5, ready))
    holder.start()
    assert ready.wait(30)
    started = time.monotonic()
    assert desk.accept(order.id, by="bob").state is OrderState.accepted
    waited = time.monotonic() - started
    holder.join(30)
    assert 0.3 <= waited < 3.0
    assert check_order(desk.store, order.id) == []
    desk.close()


def test_sqlite_readers_leave_no_queue_file(tmp_path: Path) -> None:
    """The writers' queue file is made by the first write, not by opening or reading."""
    path = tmp_path / "orders.db"
    with OrderDesk(SQLiteStore(str(path)), clock=ManualClock(T0)) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    queue = tmp_path / "orders.db-writer"
    queue.unlink()
    with OrderDesk(SQLiteStore(str(path)), clock=ManualClock(T0)) as desk:
        assert desk.get(order.id).state is OrderState.pending
        assert desk.inbox("alice")[0].order_id == order.id
        assert not queue.exists()
        desk.accept(order.id, by="bob")
        assert queue.exists() == (sys.platform != "win32")


def _app_url(pg_schema_url: str) -> tuple[str, str]:
    name = f"olt_fault_{uuid.uuid4().hex[:12]}"
    return f"{pg_schema_url}&application_name={name}", name


def _terminate(app: str, state: str | None = None) -> int:
    base = pg_url_base()
    query = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = %s AND pid <> pg_backend_pid()"
    )
    params: tuple[str, ...] = (app,)
    if state is not None:
        query += " AND state = %s"
        params = (app, state)
    with psycopg.connect(base, autocommit=True) as conn:
        return len(conn.execute(query, params).fetchall())


def pg_url_base() -> str:
    """The server URL without the test's schema or options."""
    from pg import pg_url

    return pg_url()


@pytest.mark.postgres
def test_postgres_connection_killed_mid_command(pg_schema_url: str) -> None:
    """The backend dies inside the timer's transaction: nothing is written, and the next
    tick fires the timer once."""
    url, app = _app_url(pg_schema_url)
    clock = ManualClock(T0)
    desk = OrderDesk(PostgresStore(url), clock=clock)
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    desk.deliver(order.id, by="bob", outside=True)
    before = desk.get(order.id)
    later = T0.add(days=8)

    def fire_then_die(current: Order) -> Write:
        decision = api.fire(current, Timer.review_window, now=later)
        assert _terminate(app) >= 1  # the pool's connections, the one in this transaction too
        return Write(decision.order, decision.events, current.version, None)

    with pytest.raises(StorageError) as raised:
        desk.store.fire_next_due(later, fire_then_die)
    assert "postgres" in str(raised.value).lower()
    assert desk.get(order.id) == before
    assert check_order(desk.store, order.id) == []
    fired = desk.tick(now=later)
    assert [e.kind for e in fired] == ["order_auto_completed"]
    assert desk.tick(now=later) == []
    assert check_order(desk.store, order.id) == []
    desk.close()


@pytest.mark.postgres
def test_postgres_connections_killed_between_commands(pg_schema_url: str) -> None:
    """Pooled connections killed while idle: at most a StorageError, never a half write,
    and the desk recovers by itself."""
    url, app = _app_url(pg_schema_url)
    desk = OrderDesk(PostgresStore(url), clock=ManualClock(T0))
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    assert _terminate(app) >= 1
    failures: list[str] = []
    for _ in range(10):  # the pool replaces dead connections as it meets them
        try:
            if desk.get(order.id).state is OrderState.pending:
                desk.accept(order.id, by="bob")
            break
        except StorageError as error:
            failures.append(str(error))
    assert all(text.startswith("PostgreSQL ") for text in failures), failures
    assert len(failures) < 10
    assert desk.get(order.id).state is OrderState.accepted
    assert len(desk.history(order.id)) == 2
    assert check_order(desk.store, order.id) == []
    desk.close()


def test_unreachable_postgres_is_a_clear_error() -> None:
    """A server that does not answer: StorageError naming the URL, password masked."""
    with pytest.raises(StorageError) as raised:
        OrderDesk.open("postgresql://app:s3cret@127.0.0.1:1/orders")
    text = str(raised.value)
    assert "s3cret" not in text
    assert "127.0.0.1:1" in text
