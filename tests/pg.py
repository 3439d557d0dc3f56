"""PostgreSQL for tests: the server URL, and a schema of its own per test, dropped after.

On a machine without PostgreSQL the tests skip with the reason; under ``CI=true`` they
fail instead, so CI never counts a skipped database test as passing.
"""

from __future__ import annotations

import os
import uuid

import pytest

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def pg_url() -> str:
    """The test server's URL (``ORDER_LIFECYCLE_TEST_PG``)."""
    return os.environ.get("ORDER_LIFECYCLE_TEST_PG", DEFAULT_URL)


def require_pg() -> None:
    """Skip (or, under CI, fail) when the test server cannot be reached."""
    try:
        import psycopg

        with psycopg.connect(pg_url(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as error:  # any failure to connect means "no server"
        reason = f"PostgreSQL at {pg_url()} is not reachable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)


def new_schema() -> str:
    """A schema name unique to this test."""
    return f"olt_{uuid.uuid4().hex[:16]}"


def drop_schema(name: str) -> None:
    """Drop a test schema and everything in it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(pg_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def schema_url(name: str) -> str:
    """The test server's URL, pointed at schema ``name``."""
    url = pg_url()
    return f"{url}{'&' if '?' in url else '?'}schema={name}"
