"""Schemas are created on first open, versioned, upgraded in order, and never downgraded."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pendulum
import psycopg
import pytest

from order_lifecycle import Actor, ManualClock, OrderDesk, OrderState, Role, StorageError
from order_lifecycle.adapters import postgres, rows, sqlite
from order_lifecycle.adapters.sql import schema as sql_schema

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_sqlite_schema_is_created_once_and_versioned(tmp_path: Path) -> None:
    """Opening twice keeps one version row; the version is the last migration's."""
    path = str(tmp_path / "orders.db")
    sqlite.SQLiteStore(path).close()
    store = sqlite.SQLiteStore(path)
    assert store.schema_version() == sqlite.SCHEMA_VERSION
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone() == (
            len(sql_schema.MIGRATIONS),
        )
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    """A database written by a newer library is refused with a clear error."""
    path = str(tmp_path / "orders.db")
    sqlite.SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (999)")
    with pytest.raises(StorageError, match="newer than this library"):
        sqlite.SQLiteStore(path)


def test_sqlite_upgrades_a_version_1_database(tmp_path: Path) -> None:
    """A database made by the first schema is brought to the latest by the next open."""
    path = str(tmp_path / "orders.db")
    with sqlite3.connect(path) as conn:
        conn.executescript(sql_schema.MIGRATIONS[0].sqlite)
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (1)")
    store = sqlite.SQLiteStore(path)
    try:
        assert store.schema_version() == sqlite.SCHEMA_VERSION > 1
        assert store.conversations("alice") == []
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_upgrades_an_older_schema(pg_schema_url: str) -> None:
    """A schema at version 1 is brought to the latest version by the next open."""
    store = postgres.PostgresStore(pg_schema_url)
    assert store.schema_version() == postgres.SCHEMA_VERSION == len(sql_schema.MIGRATIONS)
    store.close()
    base, _, query = pg_schema_url.partition("?")
    schema = query.split("schema=", 1)[1]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        for statement in (
            "DROP TABLE blobs",
            "DROP INDEX outbox_order_recipient",
            "DROP INDEX participants_user",
            "ALTER TABLE orders DROP COLUMN waiting",
            "ALTER TABLE orders DROP COLUMN last_entry",
            "ALTER TABLE outbox DROP COLUMN claimed_until",
            "ALTER TABLE participants DROP COLUMN actor",
            "ALTER TABLE events DROP COLUMN position",
            "ALTER TABLE events DROP COLUMN written",
            "DROP TABLE feed_position",
            "DROP INDEX orders_seller_facts",
            "DROP INDEX orders_buyer_facts",
            *(f"ALTER TABLE orders DROP COLUMN {column}" for column in rows.FACTS_COLUMNS),
            "DELETE FROM schema_version WHERE version > 1",
        ):
            conn.execute(statement)
    store = postgres.PostgresStore(pg_schema_url)
    try:
        assert store.schema_version() == postgres.SCHEMA_VERSION
        assert store.conversations("alice") == []
        blobs = postgres.PostgresBlobs(store)
        stored = blobs.put("post.png", b"png", "image/png")
        assert blobs.get(stored.sha256) == b"png"
    finally:
        store.close()


def test_both_dialects_share_one_numbering() -> None:
    """One list of steps, numbered 1, 2, 3...; each store is at the last step."""
    assert [m.number for m in sql_schema.MIGRATIONS] == list(
        range(1, len(sql_schema.MIGRATIONS) + 1)
    )
    assert sqlite.SCHEMA_VERSION == postgres.SCHEMA_VERSION == sql_schema.MIGRATIONS[-1].number
    assert all(m.statements("postgres") for m in sql_schema.MIGRATIONS)


def _check_the_previous_release(desk: OrderDesk) -> None:
    """The fixture's orders read, the inbox counts as before, and commands and timers run;
    its events are in the feed, numbered in a stable order, and new ones follow them."""
    before = desk.feed(limit=1000)
    # Every legacy event has the same instant: order id, then seq.
    assert [(i.event.order_id, i.event.seq) for i in before] == sorted(
        (e.order_id, e.seq)
        for order_id in {i.event.order_id for i in before}
        for e in desk.history(order_id)
    )
    assert [i.position for i in before] == list(range(1, len(before) + 1))
    assert len(before) == 13
    assert desk.get("legacy-pending").state is OrderState.pending
    assert desk.get("legacy-delivered").state is OrderState.delivered
    assert desk.get("legacy-disputed").state is OrderState.disputed
    carol = {c.order_id: c for c in desk.inbox("carol")}
    assert carol["legacy-disputed"].unread == 1  # carl wrote after carol's read mark
    assert carol["legacy-disputed"].action_waiting
    bob = {c.order_id: c for c in desk.inbox("bob")}
    assert bob["legacy-pending"].action_waiting
    assert bob["legacy-delivered"].last is not None
    assert bob["legacy-delivered"].last.text == "Thanks, checking now"
    # Written before the store kept metrics facts: the first read fills them in, from
    # each order's history (the delivery's due date included), and keeps them.
    assert [f for f in desk.store.facts("bob", Role.seller, None) if f.facts is None]
    metrics = desk.metrics("bob")
    assert (metrics.orders, metrics.on_time_rate, metrics.dispute_rate) == (3, 1.0, 1 / 3)
    assert metrics.median_delivery_time == pendulum.duration()
    assert all(f.facts is not None for f in desk.store.facts("bob", Role.seller, None))
    assert desk.metrics("bob") == metrics
    again = desk.accept("legacy-accepted", by="dave", idempotency_key="legacy-key")
    assert again.state is OrderState.accepted  # the old key replays, and nothing more
    assert again.version == 2
    desk.accept("legacy-pending", by="bob")
    desk.say("legacy-disputed", by=Actor.cx("carol"), text="Resolved soon.")
    assert {c.order_id: c for c in desk.inbox("carol")}["legacy-disputed"].unread == 1
    fired = desk.tick()
    assert sorted(e.kind for e in fired) == ["delivery_date_passed", "order_auto_completed"]
    assert desk.get("legacy-delivered").state is OrderState.complete
    after = desk.feed(limit=1000)
    assert after[: len(before)] == before
    assert [i.event for i in after[len(before) :]] == [
        desk.history("legacy-pending")[1],
        desk.history("legacy-disputed")[6],
        *fired,
    ]
    positions = [i.position for i in after]
    assert all(a < b for a, b in itertools.pairwise(positions))


def test_a_sqlite_database_of_the_previous_release_migrates_in_place(tmp_path: Path) -> None:
    """Written with the SQLite-only numbering (1, 2, 3): brought to the shared one."""
    path = tmp_path / "orders.sqlite3"
    path.write_bytes((FIXTURES / "orders-schema-3.sqlite3").read_bytes())
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (3,)
    clock = ManualClock(pendulum.datetime(2026, 11, 20, 9, tz="UTC"))
    with OrderDesk.open(f"sqlite:///{path}", clock=clock) as desk:
        assert isinstance(desk.store, sqlite.SQLiteStore)
        assert desk.store.schema_version() == sql_schema.SCHEMA_VERSION
        _check_the_previous_release(desk)


@pytest.mark.postgres
def test_a_postgres_schema_of_the_previous_release_migrates_in_place(
    pg_schema_url: str,
) -> None:
    """The previous release's tables and rows (a dump), brought to the latest version."""
    name = pg_schema_url.split("schema=", 1)[1]
    dump = (FIXTURES / "orders-schema-4.postgres.sql").read_text(encoding="utf-8")
    with psycopg.connect(pg_schema_url.partition("?")[0], autocommit=True) as conn:
        conn.execute(dump.replace("legacy_fixture", name))
        version = conn.execute(f'SELECT max(version) FROM "{name}".schema_version').fetchone()
        assert version == (4,)
    clock = ManualClock(pendulum.datetime(2026, 11, 20, 9, tz="UTC"))
    with OrderDesk.open(pg_schema_url, clock=clock) as desk:
        assert isinstance(desk.store, postgres.PostgresStore)
        assert desk.store.schema_version() == sql_schema.SCHEMA_VERSION
        _check_the_previous_release(desk)
