"""The storage contract suite, run against every adapter of the library."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from order_lifecycle.adapters.memory import MemoryStore
from order_lifecycle.adapters.sqlite import SQLiteStore
from order_lifecycle.ports import Store
from order_lifecycle.testing.contract import ChatStoreContract, OrderStoreContract

from pg import pg_url


class TestMemoryStore(OrderStoreContract, ChatStoreContract):
    """The in-memory store keeps the same promises."""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        """A fresh memory store."""
        store = MemoryStore()
        yield store
        store.close()


class TestSQLiteStore(OrderStoreContract, ChatStoreContract):
    """The embedded default."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        """A fresh SQLite file."""
        store = SQLiteStore(str(tmp_path / "orders.db"))
        yield store
        store.close()


@pytest.mark.postgres
class TestPostgresStore(OrderStoreContract, ChatStoreContract):
    """Many processes, many hosts."""

    @pytest.fixture
    def store(self, pg_schema_url: str) -> Iterator[Store]:
        """A fresh schema on the test server, dropped afterwards."""
        from order_lifecycle.adapters.postgres import PostgresStore

        store = PostgresStore(pg_schema_url)
        yield store
        store.close()


def test_pg_url_default() -> None:
    """Tests read ORDER_LIFECYCLE_TEST_PG, defaulting to the local test server."""
    assert pg_url().startswith("postgresql://")
