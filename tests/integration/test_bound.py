"""``OrderDesk.bound``: commands inside the host's own transaction, under savepoints."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pendulum
import psycopg
import pytest
from psycopg import sql
from psycopg.rows import RowFactory, dict_row, namedtuple_row

from order_lifecycle import (
    ActionNotAvailable,
    ConcurrencyConflict,
    Listing,
    ManualClock,
    Money,
    OrderDesk,
    OrderNotFound,
    OrderState,
    StorageError,
    ValidationError,
)
from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Order
from order_lifecycle.ports import Write

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
LISTING = Listing("Logo", Money("90.00", "USD"), pendulum.duration(days=5), 1)


# SQLite -----------------------------------------------------------------------------


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A database with the library's tables and a host table of its own."""
    path = tmp_path / "shop.db"
    OrderDesk.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE payments (order_id TEXT, amount TEXT)")
    return path


def _host(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)  # BEGIN and COMMIT by hand


def test_sqlite_host_rows_and_the_order_commit_together(sqlite_path: Path) -> None:
    """Committed: both are there; rolled back: neither is, and the desk never committed."""
    with OrderDesk.open(f"sqlite:///{sqlite_path}", clock=ManualClock(T0)) as desk:
        conn = _host(sqlite_path)
        conn.execute("BEGIN")
        kept = desk.bound(conn).place(buyer="alice", seller="bob", listing=LISTING)
        desk.bound(conn).accept(kept.id, by="bob")
        conn.execute("INSERT INTO payments VALUES (?, '90.00')", (kept.id,))
        assert conn.in_transaction  # the desk released its savepoints, committed nothing
        conn.execute("COMMIT")
        assert desk.get(kept.id).state is OrderState.accepted
        assert len(desk.history(kept.id)) == 2

        conn.execute("BEGIN")
        dropped = desk.bound(conn).place(buyer="alice", seller="bob", listing=LISTING)
        assert desk.bound(conn).get(dropped.id) == dropped  # read inside the transaction
        conn.execute("INSERT INTO payments VALUES (?, '90.00')", (dropped.id,))
        conn.execute("ROLLBACK")
        with pytest.raises(OrderNotFound):
            desk.get(dropped.id)
        assert conn.execute("SELECT order_id FROM payments").fetchall() == [(kept.id,)]
        assert [r.seq for r in desk.store.outbox_rows(dropped.id)] == []
        conn.close()


def test_sqlite_a_refused_command_leaves_the_host_transaction_usable(sqlite_path: Path) -> None:
    """Not available, invalid, conflicting: each rolls back to its savepoint only."""
    with OrderDesk.open(f"sqlite:///{sqlite_path}", clock=ManualClock(T0)) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
        stale = desk.get(order.id)
        desk.accept(order.id, by="bob")
        conn = _host(sqlite_path)
        conn.execute("BEGIN")
        conn.execute("INSERT INTO payments VALUES ('before', '1')")
        bound = desk.bound(conn)
        with pytest.raises(ActionNotAvailable):
            bound.approve(order.id, by="alice")
        with pytest.raises(ValidationError):
            bound.dispute(order.id, by="alice", reason=" ")
        with pytest.raises(ConcurrencyConflict):  # a write against an old version
            bound.store.write(Write(stale, (), stale.version, None))
        conn.execute("INSERT INTO payments VALUES ('after', '2')")
        bound.say(order.id, by="alice", text="Paid.")
        conn.execute("COMMIT")
        assert conn.execute("SELECT order_id FROM payments").fetchall() == [
            ("before",),
            ("after",),
        ]
        assert [e.action.value for e in desk.history(order.id)] == ["place", "accept", "say"]
        conn.close()


def _story_with_reads(bound: OrderDesk) -> tuple[Order, list[Event]]:
    """Commands, a refused one, and every kind of read a bound desk makes: ``get``,
    ``history``, ``inbox`` and a timer's claim (``tick``)."""
    order = bound.place(buyer="alice", seller="bob", listing=LISTING)
    waiting = bound.place(buyer="carl", seller="bob", listing=LISTING)
    bound.accept(order.id, by="bob")
    with pytest.raises(ActionNotAvailable):
        bound.approve(order.id, by="alice")
    assert bound.get(order.id).state is OrderState.accepted
    assert [e.action.value for e in bound.history(order.id)] == ["place", "accept"]
    assert [c.order_id for c in bound.inbox("carl")] == [waiting.id]
    fired = bound.tick(T0.add(days=30))  # claims a due order: a row read on the claim
    assert fired
    return order, fired


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


@pytest.mark.parametrize("factory", [sqlite3.Row, _dict_row], ids=["sqlite3.Row", "dict"])
def test_sqlite_a_host_row_factory_is_neither_needed_nor_changed(
    sqlite_path: Path, factory: Callable[[sqlite3.Cursor, tuple[Any, ...]], object]
) -> None:
    """The host's connection returns rows its own way; the bound desk reads plain tuples
    on cursors of its own, and leaves the connection's ``row_factory`` as it was."""
    with OrderDesk.open(f"sqlite:///{sqlite_path}", clock=ManualClock(T0)) as desk:
        conn = _host(sqlite_path)
        conn.row_factory = factory
        conn.execute("BEGIN")
        bound = desk.bound(conn)
        order, fired = _story_with_reads(bound)
        conn.execute("INSERT INTO payments VALUES (?, '90.00')", (order.id,))
        conn.execute("COMMIT")
        assert conn.row_factory is factory
        paid = conn.execute("SELECT order_id FROM payments").fetchone()
        assert paid["order_id"] == order.id  # the host's rows, still its way
        conn.close()
        assert desk.get(order.id).state is OrderState.accepted
        assert fired[-1] in desk.history(fired[-1].order_id)
        assert {r.recipient for r in desk.store.outbox_rows(order.id)} == {"alice", "bob"}


def test_sqlite_without_an_open_transaction_is_refused(sqlite_path: Path) -> None:
    """The bound desk never commits, so it never runs a command outside a transaction."""
    with OrderDesk.open(f"sqlite:///{sqlite_path}", clock=ManualClock(T0)) as desk:
        conn = _host(sqlite_path)
        with pytest.raises(ValidationError) as raised:
            desk.bound(conn).place(buyer="alice", seller="bob", listing=LISTING)
        assert raised.value.field == "connection"
        assert desk.store.is_empty()
        conn.close()


def test_only_a_connection_of_the_desks_own_kind_binds(sqlite_path: Path) -> None:
    """A memory desk has no transaction to join; a wrong connection type is refused."""
    with OrderDesk.open("memory://") as desk, pytest.raises(ValidationError):
        desk.bound(sqlite3.connect(":memory:"))
    with OrderDesk.open(f"sqlite:///{sqlite_path}") as desk, pytest.raises(ValidationError):
        desk.bound("not a connection")


# PostgreSQL -------------------------------------------------------------------------


def _schema(url: str) -> str:
    return url.split("schema=", 1)[1]


def _server(url: str) -> str:
    return url.split("?", 1)[0]


@pytest.fixture
def pg_desk(pg_schema_url: str) -> Iterator[OrderDesk]:
    """A desk on its own schema, and a host table ``payments`` in that schema."""
    with OrderDesk.open(pg_schema_url, clock=ManualClock(T0)) as desk:
        with psycopg.connect(_server(pg_schema_url), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE TABLE {}.payments (order_id text, amount numeric)").format(
                    sql.Identifier(_schema(pg_schema_url))
                )
            )
        yield desk


def _payments(url: str) -> sql.Composed:
    return sql.SQL("{}.payments").format(sql.Identifier(_schema(url)))


@pytest.mark.postgres
def test_postgres_host_rows_and_the_order_commit_together(
    pg_desk: OrderDesk, pg_schema_url: str
) -> None:
    """On the host's psycopg connection: one transaction, committed or rolled back whole;
    the host's search path is left as it was."""
    payments = _payments(pg_schema_url)
    with psycopg.connect(_server(pg_schema_url)) as conn:  # not autocommit
        path = conn.execute("SHOW search_path").fetchone()
        kept = pg_desk.bound(conn).place(buyer="alice", seller="bob", listing=LISTING)
        pg_desk.bound(conn).accept(kept.id, by="bob")
        conn.execute(sql.SQL("INSERT INTO {} VALUES (%s, 90)").format(payments), (kept.id,))
        assert conn.execute("SHOW search_path").fetchone() == path
        conn.commit()
        dropped = pg_desk.bound(conn).place(buyer="alice", seller="bob", listing=LISTING)
        conn.execute(sql.SQL("INSERT INTO {} VALUES (%s, 90)").format(payments), (dropped.id,))
        conn.rollback()
        found = conn.execute(sql.SQL("SELECT order_id FROM {}").format(payments)).fetchall()
    assert found == [(kept.id,)]
    assert pg_desk.get(kept.id).state is OrderState.accepted
    with pytest.raises(OrderNotFound):
        pg_desk.get(dropped.id)


@pytest.mark.postgres
def test_postgres_a_refused_command_leaves_the_host_transaction_usable(
    pg_desk: OrderDesk, pg_schema_url: str
) -> None:
    """An error inside the savepoint does not abort the host's transaction."""
    payments = _payments(pg_schema_url)
    order = pg_desk.place(buyer="alice", seller="bob", listing=LISTING)
    with psycopg.connect(_server(pg_schema_url)) as conn, conn.transaction():
        conn.execute(sql.SQL("INSERT INTO {} VALUES ('before', 1)").format(payments))
        bound = pg_desk.bound(conn)
        with pytest.raises(ActionNotAvailable):
            bound.approve(order.id, by="alice")
        with pytest.raises(ValidationError):
            bound.decline(order.id, by="bob", reason="x" * 50_000)
        bound.accept(order.id, by="bob")
        conn.execute(sql.SQL("INSERT INTO {} VALUES ('after', 2)").format(payments))
    with psycopg.connect(_server(pg_schema_url)) as check:
        rows = check.execute(sql.SQL("SELECT order_id FROM {} ORDER BY 1").format(payments))
        assert rows.fetchall() == [("after",), ("before",)]
    assert pg_desk.get(order.id).state is OrderState.accepted


@pytest.mark.postgres
def test_postgres_a_concurrent_host_transaction_is_still_a_conflict(
    pg_desk: OrderDesk, pg_schema_url: str
) -> None:
    """Two host transactions race on one order: the second waits, sees the first's
    commit, decides again and is refused; its own transaction stays usable."""
    payments = _payments(pg_schema_url)
    order = pg_desk.place(buyer="alice", seller="bob", listing=LISTING)
    first = psycopg.connect(_server(pg_schema_url))
    second = psycopg.connect(_server(pg_schema_url))
    outcome: dict[str, Any] = {}
    pg_desk.bound(first).accept(order.id, by="bob")  # holds the order's row lock

    def race() -> None:
        try:
            pg_desk.bound(second).decline(order.id, by="bob")
        except Exception as error:  # the assertion below says which
            outcome["error"] = error
        second.execute(sql.SQL("INSERT INTO {} VALUES ('second', 1)").format(payments))
        second.commit()

    thread = threading.Thread(target=race)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # waiting for the first transaction's row lock
    first.commit()
    thread.join(10)
    first.close()
    second.close()
    assert isinstance(outcome.get("error"), ActionNotAvailable)
    assert pg_desk.get(order.id).state is OrderState.accepted
    assert pg_desk.get(order.id).version == 2


@pytest.mark.postgres
def test_postgres_autocommit_without_a_transaction_is_refused(
    pg_desk: OrderDesk, pg_schema_url: str
) -> None:
    """No transaction block on an autocommit connection: refused, nothing written."""
    with psycopg.connect(_server(pg_schema_url), autocommit=True) as conn:
        with pytest.raises(ValidationError):
            pg_desk.bound(conn).place(buyer="alice", seller="bob", listing=LISTING)
        with conn.transaction():  # a transaction block on the same connection binds
            order = pg_desk.bound(conn).place(buyer="alice", seller="bob", listing=LISTING)
    assert pg_desk.get(order.id).version == 1


@pytest.mark.postgres
@pytest.mark.parametrize("factory", [dict_row, namedtuple_row], ids=["dict_row", "namedtuple_row"])
def test_postgres_a_host_row_factory_is_neither_needed_nor_changed(
    pg_desk: OrderDesk, pg_schema_url: str, factory: RowFactory[Any]
) -> None:
    """The host's connection returns rows its own way; the bound desk reads plain tuples
    on cursors of its own, and leaves the connection's ``row_factory`` as it was."""
    payments = _payments(pg_schema_url)
    with psycopg.connect(_server(pg_schema_url), row_factory=factory) as conn:
        bound = pg_desk.bound(conn)
        order, fired = _story_with_reads(bound)
        conn.execute(sql.SQL("INSERT INTO {} VALUES (%s, 90)").format(payments), (order.id,))
        conn.commit()
        assert conn.row_factory is factory
        paid = conn.execute(sql.SQL("SELECT order_id FROM {}").format(payments)).fetchone()
    assert paid is not None
    own = paid.order_id if factory is namedtuple_row else paid["order_id"]
    assert own == order.id  # the host's rows, still its way
    assert pg_desk.get(order.id).state is OrderState.accepted
    assert fired[-1] in pg_desk.history(fired[-1].order_id)
    assert {r.recipient for r in pg_desk.store.outbox_rows(order.id)} == {"alice", "bob"}


# The recipes of docs/embedding.md ------------------------------------------------------


class _HostFailed(Exception):
    """The host's own work failed after the desk placed ``order_id``."""

    def __init__(self, order_id: str) -> None:
        super().__init__(order_id)
        self.order_id = order_id


@pytest.mark.postgres
def test_the_sqlalchemy_recipe(pg_desk: OrderDesk, pg_schema_url: str) -> None:
    """SQLAlchemy 2 (psycopg 3 dialect): the ORM session's transaction carries the order."""
    from sqlalchemy import create_engine, text

    engine = create_engine(_server(pg_schema_url).replace("postgresql://", "postgresql+psycopg://"))
    table = f'"{_schema(pg_schema_url)}".payments'
    try:
        with engine.begin() as conn:  # the host's transaction
            orders = pg_desk.bound(conn.connection.driver_connection)
            order = orders.place(buyer="alice", seller="bob", listing=LISTING)
            conn.execute(text(f"INSERT INTO {table} VALUES (:o, 90)"), {"o": order.id})

        def fails_after_placing() -> None:
            with engine.begin() as conn:
                lost = pg_desk.bound(conn.connection.driver_connection).place(
                    buyer="carl", seller="bob", listing=LISTING
                )
                raise _HostFailed(lost.id)

        with pytest.raises(_HostFailed) as failed:
            fails_after_placing()
        with engine.connect() as conn:
            paid = conn.execute(text(f"SELECT order_id FROM {table}")).fetchall()
    finally:
        engine.dispose()
    assert [tuple(r) for r in paid] == [(order.id,)]
    assert pg_desk.get(order.id).state is OrderState.pending
    with pytest.raises(OrderNotFound):
        pg_desk.get(failed.value.order_id)


@pytest.mark.postgres
def test_the_django_recipe(pg_desk: OrderDesk, pg_schema_url: str) -> None:
    """Django (psycopg 3 backend): ``transaction.atomic()`` carries the order."""
    import django
    from django.conf import settings

    if not settings.configured:
        server = psycopg.conninfo.conninfo_to_dict(_server(pg_schema_url))
        settings.configure(
            DATABASES={
                "default": {
                    "ENGINE": "django.db.backends.postgresql",
                    "NAME": server.get("dbname", "test"),
                    "USER": server.get("user", "postgres"),
                    "PASSWORD": server.get("password", ""),
                    "HOST": server.get("host", "127.0.0.1"),
                    "PORT": server.get("port", "5432"),
                }
            },
            USE_TZ=True,
        )
        django.setup()
    from django.db import connection, transaction

    table = f'"{_schema(pg_schema_url)}".payments'
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            order = pg_desk.bound(connection.connection).place(
                buyer="alice", seller="bob", listing=LISTING
            )
            cursor.execute(f"INSERT INTO {table} VALUES (%s, 90)", [order.id])

        def fails_after_placing() -> None:
            with transaction.atomic():
                lost = pg_desk.bound(connection.connection).place(
                    buyer="carl", seller="bob", listing=LISTING
                )
                raise _HostFailed(lost.id)

        with pytest.raises(_HostFailed) as failed:
            fails_after_placing()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT order_id FROM {table}")
            paid = cursor.fetchall()
    finally:
        connection.close()
    assert [tuple(r) for r in paid] == [(order.id,)]
    with pytest.raises(OrderNotFound):
        pg_desk.get(failed.value.order_id)


def test_sqlite_a_stale_read_snapshot_is_named_as_such(sqlite_path: Path) -> None:
    """A host's deferred transaction that read before another connection wrote can no
    longer write on SQLite: the bound command fails at once with a ``StorageError`` that
    says so and how to avoid it (``BEGIN IMMEDIATE``), not as a lock held past the busy
    timeout; the order is as the other writer left it. With ``BEGIN IMMEDIATE`` the same
    host transaction takes the write lock first, and its command goes through."""
    with OrderDesk.open(f"sqlite:///{sqlite_path}", clock=ManualClock(T0)) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
        conn = _host(sqlite_path)
        conn.execute("BEGIN")
        bound = desk.bound(conn)
        assert bound.get(order.id).state is OrderState.pending  # the snapshot is taken
        desk.accept(order.id, by="bob")
        with pytest.raises(StorageError) as raised:
            bound.decline(order.id, by="bob", reason="Too busy")
        assert "BEGIN IMMEDIATE" in str(raised.value)
        assert "busy timeout" not in str(raised.value)
        conn.execute("ROLLBACK")
        assert desk.get(order.id).state is OrderState.accepted
        conn.execute("BEGIN IMMEDIATE")
        assert bound.say(order.id, by="alice", text="Thanks!").version == 3
        conn.execute("COMMIT")
        conn.close()
        assert desk.get(order.id).version == 3


def test_sqlite_a_bound_feed_reads_what_is_committed(sqlite_path: Path) -> None:
    """The feed is every committed event: a bound desk's feed does not show its host's
    uncommitted events (which a rollback would take back, position and all)."""
    with OrderDesk.open(f"sqlite:///{sqlite_path}", clock=ManualClock(T0)) as desk:
        before = desk.place(buyer="alice", seller="bob", listing=LISTING, order_id="x1")
        conn = _host(sqlite_path)
        conn.execute("BEGIN")
        desk.bound(conn).place(buyer="alice", seller="bob", listing=LISTING, order_id="x2")
        assert [i.event.order_id for i in desk.bound(conn).feed()] == [before.id]
        conn.execute("ROLLBACK")
        conn.close()
        desk.place(buyer="alice", seller="bob", listing=LISTING, order_id="x3")
        assert [(i.position, i.event.order_id) for i in desk.feed()] == [(1, "x1"), (2, "x3")]


@pytest.mark.postgres
def test_postgres_a_bound_feed_reads_what_is_committed_and_blocks_no_reader(
    pg_desk: OrderDesk, pg_schema_url: str
) -> None:
    """A bound desk's feed reads through the desk's own connections: the host's
    uncommitted events are not in it, and the host's transaction holds no lock that
    other readers of the feed wait for."""
    pg_desk.place(buyer="alice", seller="bob", listing=LISTING, order_id="x1")
    with psycopg.connect(_server(pg_schema_url)) as conn:  # not autocommit
        pg_desk.bound(conn).place(buyer="alice", seller="bob", listing=LISTING, order_id="x2")
        assert [i.event.order_id for i in pg_desk.bound(conn).feed()] == ["x1"]
        read: list[list[str]] = []
        other = threading.Thread(
            target=lambda: read.append([i.event.order_id for i in pg_desk.feed()])
        )
        other.start()
        other.join(timeout=2)
        assert not other.is_alive()
        assert read == [["x1"]]
        conn.rollback()
    pg_desk.place(buyer="alice", seller="bob", listing=LISTING, order_id="x3")
    assert [(i.position, i.event.order_id) for i in pg_desk.feed()] == [(1, "x1"), (2, "x3")]
