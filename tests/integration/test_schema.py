"""Schemas are created on first open, versioned, upgraded in order, and never downgraded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from order_lifecycle import StorageError
from order_lifecycle.adapters import postgres, sqlite


def test_sqlite_schema_is_created_once_and_versioned(tmp_path: Path) -> None:
    """Opening twice keeps one version row; the version is the last migration's."""
    path = str(tmp_path / "orders.db")
    sqlite.SQLiteStore(path).close()
    store = sqlite.SQLiteStore(path)
    assert store.schema_version() == sqlite.SCHEMA_VERSION
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone() == (
            len(sqlite.MIGRATIONS),
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
        conn.executescript(sqlite.MIGRATIONS[0][1])
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
    assert store.schema_version() == postgres.SCHEMA_VERSION == len(postgres.MIGRATIONS)
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
