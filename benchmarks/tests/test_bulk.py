"""The benchmarks' bulk load: filler stamped by the database is the Python stamping's.

``make bench`` loads its large datasets with the filler orders stamped by SQL (SQLite,
PostgreSQL) or by COPY text (PostgreSQL); :func:`bulk.datasets` / :func:`bulk.filler_rows`
are the Python stamping the loader used before, kept as the reference. Each test loads
the same orders both ways and compares every row of every table, value and type (and, on
PostgreSQL, the schema the load drops indexes from and builds them back into).
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import psycopg
import pytest
from order_lifecycle import OrderDesk
from order_lifecycle.adapters import rows
from order_lifecycle.adapters.sqlite import SQLiteStore
from psycopg import sql

from order_lifecycle_bench.figures import bulk
from order_lifecycle_bench.figures.postgres_figures import (
    connect,
    drop_schemas,
    pg_unreachable,
    pg_url,
    with_schema,
)
from order_lifecycle_bench.figures.scale import PostgresTarget, SQLiteTarget
from order_lifecycle_bench.figures.scale import copy_rows as pg_copy
from order_lifecycle_bench.harness import Config

SIZES = (1_000, 3_000)
BATCHES = 2
INBOX = 300
#: Filler numbers across the sellers' wrap (36,000) and the buyers' (40,000).
RANGES = ((35_990, 36_010), (39_995, 40_005))


#: The metrics facts columns of an order row: some values, or none at all.
FACTS: Final = (1_796_230_800_000_000, 7, None, None, None, None, 2, 1, None, 5)
NO_FACTS: Final = (None,) * len(rows.FACTS_COLUMNS)


def odd_templates() -> list[bulk.Template]:
    """Templates with what stamping can get wrong: ``%`` in text (with ids and without),
    COPY's special characters, adjacent ids, ids at both ends, NULLs, non-ASCII, and a
    different number of participants rows per template (1, 3, 2)."""
    o, b, s = "zzorderzz", "zzbuyerzz", "zzsellerzz"
    first = bulk.Template(
        bulk._Row(
            (
                o,
                3,
                "delivered",
                b,
                s,
                "50% off, tab\there %s",
                1_796_230_800_000_000,
                None,
                f"{b} {s}",
                "1",
                f'{{"id":"{o}","note":"back\\\\slash \\n, real\nnewline, 100%% %(x)s %s {o}"}}',
                None,
                *FACTS,
            )
        ),
        [],
        [bulk._Row((o, b, "buyer", b))],
    )
    second = bulk.Template(
        bulk._Row(
            (
                f"{o}",
                1,
                "pending",
                b,
                s,
                f"{o} at both ends {o}",
                1_796_230_800_000_001,
                1_796_835_600_000_000,
                "",
                "é ünïcode ✓",
                f"{s}{b}{o}",
                f"{o}%{b}\\{s}\t",
                *NO_FACTS,
            )
        ),
        [],
        [
            bulk._Row((o, b, "buyer", b)),
            bulk._Row((o, s, "sel\\ler\t\r\n%", f"{s}%")),
            bulk._Row((o, f"cx:{o}", "cx_agent", f"cx:cx:{o}")),
        ],
    )
    third = bulk.Template(
        bulk._Row((o, 2, "accepted", b, s, "t", 0, -5, b, "1", "{}", "", *FACTS)),
        [],
        [bulk._Row((o, s, "seller", s)), bulk._Row((o, b, "buyer", b))],
    )
    return [first, second, third]


# SQLite ---------------------------------------------------------------------------------


def sqlite_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (rowid included where there is one), each value as
    SQLite's ``quote()`` of it: its type shows (``1``, ``'1'``, ``NULL``)."""
    conn = sqlite3.connect(path)
    try:
        found = {}
        for (table,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall():
            cols = [
                f'quote("{c}")'
                for (c,) in conn.execute("SELECT name FROM pragma_table_info(?)", (table,))
            ]
            try:
                conn.execute(f'SELECT rowid FROM "{table}" LIMIT 0')
                cols.insert(0, "rowid")
            except sqlite3.OperationalError:  # WITHOUT ROWID
                pass
            order = ", ".join(str(i + 1) for i in range(len(cols)))
            query = f'SELECT {", ".join(cols)} FROM "{table}" ORDER BY {order}'
            found[table] = conn.execute(query).fetchall()
        found["(schema)"] = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        return found
    finally:
        conn.close()


def sqlite_reference(path: Path, size: int, fillers: list[bulk.Template]) -> None:
    """The dataset of ``size`` orders as the loader wrote it before: every chunk of
    ``bulk.datasets`` stamped in Python, by ``executemany``."""
    SQLiteStore(str(path)).close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for data in bulk.datasets(SIZES, batches=BATCHES, inbox=INBOX, fillers=fillers):
            if data.end <= size:
                conn.executemany(rows.INSERT_ORDER, data.orders)
                conn.executemany(rows.INSERT_EVENT, data.events)
                conn.executemany(rows.INSERT_PARTICIPANT, data.participants)
        conn.execute("COMMIT")
    finally:
        conn.close()


@pytest.mark.parametrize("size", SIZES)
def test_sqlite_load_is_the_python_stamping(tmp_path: Path, size: int) -> None:
    """The scale benchmark's SQLite load (special orders from Python, filler from SQL)
    writes exactly the rows, rowids and schema of the Python stamping."""
    fillers = bulk.filler_templates()
    sqlite_reference(tmp_path / "reference.db", size, fillers)
    (tmp_path / "new").mkdir()
    target = SQLiteTarget(Config.smoke(), size, tmp_path / "new")
    try:
        target.load(bulk.special(batches=BATCHES, inbox=INBOX), fillers)
        assert target.count() == size
    finally:
        target.close()
    expected = sqlite_rows(tmp_path / "reference.db")
    got = sqlite_rows(Path(target.path))
    assert got.keys() == expected.keys()
    for table, found in expected.items():
        assert got[table] == found, table
    assert len(expected["orders"]) == size
    assert len(expected["participants"]) == 2 * size
    # (rowid, id, version, ..., next_timer_at, ...): timers armed and not.
    assert {row[8] == "NULL" for row in expected["orders"]} == {True, False}


def test_sqlite_fill_stamps_odd_templates_as_python_does(tmp_path: Path) -> None:
    """Odd templates, across the buyers' and sellers' wraps: the same rows either way."""
    templates = odd_templates()
    paths = {"reference": tmp_path / "reference.db", "sql": tmp_path / "sql.db"}
    for path in paths.values():
        SQLiteStore(str(path)).close()
    conn = sqlite3.connect(paths["reference"])
    for start, end in RANGES:
        data = bulk.filler_rows(templates, start, end)
        conn.executemany(rows.INSERT_ORDER, data.orders)
        conn.executemany(rows.INSERT_PARTICIPANT, data.participants)
    conn.commit()
    conn.close()
    conn = sqlite3.connect(paths["sql"])
    for start, end in RANGES:
        bulk.sqlite_fill(conn, templates, start, end)
    conn.commit()
    conn.close()
    expected, got = sqlite_rows(paths["reference"]), sqlite_rows(paths["sql"])
    assert got == expected
    count = sum(end - start for start, end in RANGES)
    assert len(expected["orders"]) == count
    assert len(expected["participants"]) == sum(
        (1, 3, 2)[k % 3] for start, end in RANGES for k in range(start, end)
    )


def test_sql_stamping_refuses_what_it_cannot_stamp_like_python(tmp_path: Path) -> None:
    """A field ``%`` would read otherwise than as ids (``%(x)s`` in a field without ids:
    the Python stamping fails on it too) is refused, not written differently."""
    template = bulk.Template(
        bulk._Row(
            ("zzorderzz", 1, "p", "b", "s", "%(x)s", 0, None, "", "1", "{}", None, *NO_FACTS)
        ),
        [],
        [bulk._Row(("zzorderzz", "u", "buyer"))],
    )
    with pytest.raises(KeyError):
        bulk.filler_rows([template], 0, 10)
    path = tmp_path / "orders.db"
    SQLiteStore(str(path)).close()
    conn = sqlite3.connect(path)
    try:
        with pytest.raises(ValueError, match="cannot stamp"):
            bulk.sqlite_fill(conn, [template], 0, 10)
    finally:
        conn.close()


# PostgreSQL -----------------------------------------------------------------------------


def new_schema() -> str:
    """A schema name unique to this test."""
    return f"bench_test_{uuid.uuid4().hex[:16]}"


def schema_url(name: str) -> str:
    """The server's URL, pointed at schema ``name``."""
    return with_schema(pg_url(), name)


@pytest.fixture
def schemas() -> Iterator[Callable[[str], str]]:
    """``schemas(name)`` registers a schema to drop after the test (``new_schema()``
    names it when ``name`` is empty). Without a server the test skips, and under
    ``CI=true`` it fails instead: CI never counts a skipped database test as passing."""
    unreachable = pg_unreachable(pg_url())
    if unreachable is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{unreachable} (CI=true: PostgreSQL tests must run)")
        pytest.skip(unreachable)
    made: list[str] = []

    def register(name: str = "") -> str:
        made.append(name or new_schema())
        return made[-1]

    try:
        yield register
    finally:
        drop_schemas(pg_url(), *made)


def pg_connect(schema: str) -> psycopg.Connection[Any]:
    return connect(pg_url(), schema, autocommit=False)


def pg_rows(schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, the orders' and participants' order on disk, and the
    schema: columns, indexes and constraints (the schema's name left out)."""
    with pg_connect(schema) as conn:
        found: dict[str, list[tuple[Any, ...]]] = {}
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        ).fetchall()
        for (table,) in tables:
            empty = conn.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(sql.Identifier(table)))
            # ``events.written`` is the writing transaction: one per load, never equal.
            names = [d.name for d in empty.description or () if d.name != "written"]
            order = sql.SQL(", ".join(str(i + 1) for i in range(len(names))))
            found[table] = conn.execute(
                sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
                    sql.SQL(", ").join(sql.Identifier(n) for n in names),
                    sql.Identifier(table),
                    order,
                )
            ).fetchall()
        found["(orders on disk)"] = conn.execute("SELECT id FROM orders ORDER BY ctid").fetchall()
        found["(participants on disk)"] = conn.execute(
            "SELECT order_id, user_id FROM participants ORDER BY ctid"
        ).fetchall()
        found["(columns)"] = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, collation_name"
            " FROM information_schema.columns WHERE table_schema = current_schema()"
            " ORDER BY 1, ordinal_position"
        ).fetchall()
        found["(indexes)"] = conn.execute(
            "SELECT tablename, indexname, replace(indexdef, current_schema() || '.', '')"
            " FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1, 2"
        ).fetchall()
        found["(constraints)"] = conn.execute(
            "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE connamespace = current_schema()::regnamespace"
            " ORDER BY 1, 2"
        ).fetchall()
        return found


@pytest.mark.postgres
@pytest.mark.parametrize("size", SIZES)
def test_postgres_load_is_the_python_stamping(schemas: Callable[[str], str], size: int) -> None:
    """The scale benchmark's PostgreSQL load (special orders and participants by COPY from
    Python, orders by SQL, the indexes dropped and built back) writes exactly the rows of
    the Python stamping, in the same order on disk, into the same schema."""
    fillers = bulk.filler_templates()
    reference = schemas("")
    OrderDesk.open(schema_url(reference)).close()
    with pg_connect(reference) as conn:
        for data in bulk.datasets(SIZES, batches=BATCHES, inbox=INBOX, fillers=fillers):
            if data.end <= size:
                pg_copy(conn, rows.ORDERS, data.orders)
                pg_copy(conn, rows.EVENTS, data.events)
                pg_copy(conn, rows.PARTICIPANTS, data.participants)
    run = new_schema()
    schemas(f"{run}_{size}")  # the target's schema
    target = PostgresTarget(Config.smoke(), size, pg_url(), run)
    try:
        target.load(bulk.special(batches=BATCHES, inbox=INBOX), fillers)
        assert target.count() == size
        expected, got = pg_rows(reference), pg_rows(target.schema)
    finally:
        target.close()
    assert got.keys() == expected.keys()
    for table, found in expected.items():
        assert got[table] == found, table
    assert len(expected["orders"]) == size


@pytest.mark.postgres
@pytest.mark.parametrize("method", ["fill", "copy"])
def test_postgres_stamps_odd_templates_as_python_does(
    schemas: Callable[[str], str], method: str
) -> None:
    """Odd templates, across the wraps, by ``INSERT ... SELECT`` and by COPY text: the
    same rows, values and types, as COPY of the Python stamping."""
    templates = odd_templates()
    names = {"reference": schemas(""), method: schemas("")}
    for name in names.values():
        OrderDesk.open(schema_url(name)).close()
    with pg_connect(names["reference"]) as conn:
        for start, end in RANGES:
            data = bulk.filler_rows(templates, start, end)
            pg_copy(conn, rows.ORDERS, data.orders)
            pg_copy(conn, rows.PARTICIPANTS, data.participants)
    stamp = bulk.postgres_fill if method == "fill" else bulk.postgres_copy
    with pg_connect(names[method]) as conn:
        for start, end in RANGES:
            stamp(conn, templates, start, end)
    expected, got = pg_rows(names["reference"]), pg_rows(names[method])
    assert got == expected
    assert len(expected["orders"]) == sum(end - start for start, end in RANGES)


def test_each_due_batch_fires_half_reminders_half_review_ends(tmp_path: Path) -> None:
    """With reminders on, a due batch's tick fires 50 review reminders and 50 review
    window ends (auto-completes), and nothing of the next batch nor of the filler."""
    size = SIZES[0]
    target = SQLiteTarget(Config.smoke(), size, tmp_path)
    try:
        target.load(bulk.special(batches=BATCHES, inbox=INBOX), bulk.filler_templates())
        assert target.count() == size  # opens the desk, under bulk.POLICY
        for batch in range(BATCHES):
            fired = target.desk.tick(now=bulk.due_instant(batch).add(minutes=1))
            kinds = sorted(event.kind for event in fired)
            assert kinds == ["order_auto_completed"] * 50 + ["reminder_sent"] * 50, kinds[::50]
            assert {event.order_id[: 2 + len(str(batch))] for event in fired} == {f"d{batch}_"}
    finally:
        target.close()
