"""PostgreSQL URLs in the forms libpq accepts: the store hands psycopg the URL it was
given, only its ``schema=`` parameter taken out.

A URL with an empty host (``postgresql:///db?host=...``, or ``postgresql:///db`` with
``PGHOST`` and ``PGUSER`` in the environment) is the form a Unix-socket or container
setup often uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pendulum
import psycopg
import pytest
from psycopg import sql

from order_lifecycle import AsyncOrderDesk, Listing, ManualClock, Money, OrderDesk, OrderState
from order_lifecycle.adapters.postgres import PostgresStore

from pg import drop_schema, new_schema, pg_url, require_pg

pytestmark = pytest.mark.postgres

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
LISTING = Listing("Logo", Money("90.00", "USD"), pendulum.duration(days=5), 1)


@pytest.fixture
def schema() -> Iterator[str]:
    """A schema name of this test's own, dropped after it."""
    require_pg()
    name = new_schema()
    try:
        yield name
    finally:
        drop_schema(name)


def _server() -> dict[str, str]:
    """The test server's connection parameters (host, port, user, dbname, ...)."""
    return {k: str(v) for k, v in psycopg.conninfo.conninfo_to_dict(pg_url()).items()}


def _empty_host_url(**extra: str) -> str:
    """The test server as ``postgresql:///DB?host=...&user=...``: no host in the
    authority, everything in the query."""
    params = _server()
    dbname = params.pop("dbname", "test")
    return f"postgresql:///{dbname}?{urlencode({**params, **extra}, quote_via=quote)}"


def _tables_in(schema: str) -> list[str]:
    with psycopg.connect(pg_url()) as conn:
        found = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        ).fetchall()
    return sorted(str(row[0]) for row in found)


def _create(schema: str) -> None:
    with psycopg.connect(pg_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))


def test_an_empty_host_url_with_a_schema_opens(schema: str) -> None:
    """``postgresql:///test?host=...&user=...&schema=NAME``: the desk opens, its tables
    are in NAME, and a command goes through."""
    with OrderDesk.open(f"{_empty_host_url()}&schema={schema}", clock=ManualClock(T0)) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
        desk.accept(order.id, by="bob")
        assert desk.get(order.id).state is OrderState.accepted
    assert "orders" in _tables_in(schema)


def test_an_empty_host_url_without_a_schema_opens(schema: str) -> None:
    """Without ``schema=`` the URL reaches psycopg unchanged (here its ``options`` put the
    search path on this test's schema, so the tables land there)."""
    _create(schema)
    url = _empty_host_url(options=f"-c search_path={schema}")
    with OrderDesk.open(url, clock=ManualClock(T0)) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
        assert desk.get(order.id).version == 1
    assert "orders" in _tables_in(schema)


def test_a_bare_empty_host_url_takes_the_server_from_the_environment(
    schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``postgresql:///test`` with ``PGHOST``, ``PGUSER``... set, as libpq reads them."""
    _create(schema)
    params = _server()
    names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD"}
    for key, variable in names.items():
        if key in params:
            monkeypatch.setenv(variable, params[key])
    monkeypatch.setenv("PGOPTIONS", f"-c search_path={schema}")
    url = f"postgresql:///{params.get('dbname', 'test')}"
    with OrderDesk.open(url, clock=ManualClock(T0)) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
        assert desk.get(order.id).version == 1
    assert "orders" in _tables_in(schema)


def test_the_async_desk_opens_an_empty_host_url(schema: str) -> None:
    """``AsyncOrderDesk`` connects with the same URL as the synchronous store."""

    async def story() -> None:
        desk = await AsyncOrderDesk.open(
            f"{_empty_host_url()}&schema={schema}", clock=ManualClock(T0)
        )
        try:
            order = await desk.place(buyer="alice", seller="bob", listing=LISTING)
            await desk.accept(order.id, by="bob")
            assert (await desk.get(order.id)).state is OrderState.accepted
        finally:
            await desk.close()

    asyncio.run(story())
    assert "orders" in _tables_in(schema)


def test_only_the_schema_parameter_is_taken_out(schema: str) -> None:
    """Every other byte of the URL, its other parameters' spelling included, is what
    psycopg gets."""
    base = _empty_host_url(application_name="order desk")
    store = PostgresStore(f"{base}&schema={schema}&connect_timeout=4", min_size=0)
    try:
        assert store.schema == schema
        assert store.conninfo == f"{base}&connect_timeout=4"
    finally:
        store.close()
    kept = PostgresStore(f"{pg_url()}{'&' if '?' in pg_url() else '?'}schema={schema}")
    try:
        assert kept.conninfo == pg_url()
    finally:
        kept.close()


def test_a_schema_name_postgresql_would_cut_short_is_refused() -> None:
    """PostgreSQL keeps 63 bytes of a name: two longer names alike in their first 63
    would be one schema, two tenants in one set of tables. Refused before connecting."""
    from order_lifecycle import StorageError

    long = "tenant_" + "x" * 57  # 64 bytes
    with pytest.raises(StorageError, match="63 bytes"):
        PostgresStore(f"{pg_url()}?schema={long}")
    with pytest.raises(StorageError, match="63 bytes"):
        PostgresStore(f"{pg_url()}?schema={quote('é' * 32)}")  # 64 bytes in UTF-8
