"""``tick``, ``inbox`` and ``metrics`` as the database grows: SQLite and PostgreSQL, at
each size.

One database per size and store (a SQLite file, a PostgreSQL schema), all bulk-loaded
first (see ``bulk.py``: the few special orders stamped in Python, the filler by SQL in the
database, PostgreSQL's participants by COPY), side by side in threads, so the slow loads
form one untimed block (the run builds the memory figure's orders meanwhile); then,
through the desk of each: ``tick`` firing one batch of 100 due timers per round (the first
batch is the warm-up), ``inbox`` of the user with many conversations, and the
``metrics`` of that user (the buyer of those orders: the same index read as a seller's);
round by round, every database in turn.

At the largest size the statements are checked for full scans: on SQLite every
statement a tick and an inbox run (traced on the store's connection) goes through
``EXPLAIN QUERY PLAN``; on PostgreSQL the store's claim and inbox statements go through
``EXPLAIN``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

import pendulum
import psycopg
from order_lifecycle import OrderDesk, Role
from order_lifecycle.adapters import rows
from order_lifecycle.adapters.sqlite import SQLiteStore
from psycopg import sql

from order_lifecycle_bench.figures import bulk
from order_lifecycle_bench.figures.postgres_figures import connect, drop_schemas, with_schema
from order_lifecycle_bench.harness import Config, Figure

__all__ = ["PostgresTarget", "SQLiteTarget", "copy_rows", "run_scale", "sqlite_scans"]

_TABLES: Final = ("orders", "events", "participants", "outbox")
_STATEMENTS: Final = (rows.ORDERS, rows.EVENTS, rows.PARTICIPANTS)
#: Load parts running at once (each is statements its database runs: no GIL held): the
#: largest datasets' (the PostgreSQL orders, the SQLite file, the PostgreSQL
#: participants), then the smaller datasets' as those finish.
_LOADERS: Final = 3
#: PostgreSQL's memory for sorting while it builds the indexes back; no parallel
#: workers: the other loads keep the cores busy, and workers cost more CPU.
_INDEX_MEMORY: Final = "256MB"
#: Tables whose SQLite indexes (but the primary key) are made after the load: the
#: narrow participants rows; the orders' one index (due timers) costs less kept.
_SQLITE_REBUILT: Final = (rows.PARTICIPANTS,)
#: Filler rows PostgreSQL gets by COPY from Python rather than from ``INSERT ... SELECT``:
#: narrow rows, many per page, which COPY inserts a page at a time (half the server's
#: work, for a second of Python); the orders (wide) cost it less from SQL.
_PG_COPIED: Final = (rows.PARTICIPANTS,)


class _Target:
    """One database of one size: load it, time it, check its plans."""

    label = ""

    def __init__(self, cfg: Config, size: int, desk: OrderDesk | None) -> None:
        self.cfg = cfg
        self.size = size
        self._desk = desk
        self.ticks: list[float] = []
        self.inboxes: list[float] = []
        self.metrics: list[float] = []
        self.metrics_scans: list[str] | None = None
        self.tick_scans: list[str] | None = None
        self.inbox_scans: list[str] | None = None

    @property
    def desk(self) -> OrderDesk:
        if self._desk is None:
            raise RuntimeError("the desk opens once the data is loaded")
        return self._desk

    @desk.setter
    def desk(self, desk: OrderDesk) -> None:
        self._desk = desk

    def write(self, data: bulk.Dataset) -> None:
        """Load rows stamped in Python (in the load's transaction, committed by ``count``)."""
        raise NotImplementedError

    def parts(self, first: bulk.Dataset, fillers: list[bulk.Template]) -> list[Callable[[], None]]:
        """The whole dataset (the ``first`` orders, then filler up to ``size``) as parts
        that may run at once, in threads; ``count`` once they are all done."""
        raise NotImplementedError

    def load(self, first: bulk.Dataset, fillers: list[bulk.Template]) -> None:
        """The whole dataset, part after part."""
        for part in self.parts(first, fillers):
            part()

    def count(self) -> int:
        """Commit the load; the orders now in the database."""
        raise NotImplementedError

    def check_plans(self, extra: pendulum.DateTime) -> None:
        raise NotImplementedError

    def tick_round(self, batch: int) -> None:
        """Fire due batch ``batch`` (batch 0 is the warm-up, not kept)."""
        t0 = time.perf_counter_ns()
        fired = self.desk.tick(now=bulk.due_instant(batch).add(minutes=1))
        elapsed = (time.perf_counter_ns() - t0) / 1e6
        if len(fired) != bulk.BATCH:
            raise AssertionError(f"tick fired {len(fired)} timers, not {bulk.BATCH}")
        if batch > 0:
            self.ticks.append(elapsed)

    def inbox_round(self, round_: int) -> None:
        """One ``inbox`` (round 0 is the warm-up, not kept)."""
        t0 = time.perf_counter_ns()
        found = self.desk.inbox(bulk.INBOX_USER)
        elapsed = (time.perf_counter_ns() - t0) / 1e6
        if len(found) != self.cfg.inbox_conversations:
            raise AssertionError(f"inbox has {len(found)} conversations")
        if round_ > 0:
            self.inboxes.append(elapsed)

    def metrics_round(self, round_: int) -> None:
        """One ``metrics`` of the inbox user's 1,000 orders (round 0 is the warm-up, which
        also fills in facts for orders the loader wrote without them)."""
        t0 = time.perf_counter_ns()
        found = self.desk.metrics(bulk.INBOX_USER, role="buyer")
        elapsed = (time.perf_counter_ns() - t0) / 1e6
        if found.orders != self.cfg.inbox_conversations:
            raise AssertionError(f"metrics counted {found.orders} orders")
        if round_ > 0:
            self.metrics.append(elapsed)

    def close(self) -> None:
        if self._desk is not None:
            self._desk.close()


def _figures(label: str, cfg: Config, targets: dict[int, _Target]) -> list[Figure]:
    small, large = cfg.sizes[0], cfg.sizes[-1]
    top = targets[large]
    found = []
    for size in cfg.sizes:
        is_large = size == large
        conditions: dict[str, bool] = {}
        note = None
        if is_large:
            note = "one transaction per timer"
            if top.tick_scans is None:
                note += "; query plans not checked"
            else:
                conditions["no full scan (query plans)"] = not top.tick_scans
                if top.tick_scans:
                    note += "; full scans: " + " | ".join(top.tick_scans)
        found.append(
            Figure(
                f"tick, 100 due among {_size(size)} orders (reminders on), {label}",
                "ms",
                targets[size].ticks,
                None if size == small else f"the same among {_size(small)} orders",
                None if size == small else targets[small].ticks,
                f"≤ 2.0 x the {_size(small)} figure, no full scan" if is_large else "informative",
                (lambda m, b, r: r is not None and r <= 2.0) if is_large else None,
                note=note,
                conditions=conditions,
            )
        )
    conditions = {}
    note = None
    if top.inbox_scans is None:
        note = "query plans not checked"
    else:
        conditions["no full scan (query plans)"] = not top.inbox_scans
        if top.inbox_scans:
            note = "full scans: " + " | ".join(top.inbox_scans)
    found.append(
        Figure(
            f"inbox(user), {cfg.inbox_conversations:,} conversations among "
            f"{_size(large)} orders, {label}",
            "ms",
            top.inboxes,
            f"the same among {_size(small)} orders",
            targets[small].inboxes,
            "≤ 20 ms and ≤ 2.0 x baseline",
            lambda m, b, r: m <= 20.0 and r is not None and r <= 2.0,
            note=note,
            conditions=conditions,
        )
    )
    conditions = {}
    note = None
    if top.metrics_scans is None:
        note = "query plans not checked"
    else:
        conditions["no full scan (query plans)"] = not top.metrics_scans
        if top.metrics_scans:
            note = "full scans: " + " | ".join(top.metrics_scans)
    found.append(
        Figure(
            f"metrics(user), {cfg.inbox_conversations:,} orders among {_size(large)} orders, "
            f"{label}",
            "ms",
            top.metrics,
            f"the same among {_size(small)} orders",
            targets[small].metrics,
            "≤ 50 ms, no full scan",
            lambda m, b, r: m <= 50.0,
            note=note,
            conditions=conditions,
        )
    )
    return found


def _size(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


class SQLiteTarget(_Target):
    """One SQLite file with the library's default settings."""

    label = "SQLite"

    def __init__(self, cfg: Config, size: int, workdir: Path) -> None:
        self.path = str(workdir / f"scale-{size}.db")
        SQLiteStore(self.path).close()  # the library's schema
        # The loader has the file to itself: no journal, one transaction (the file is back
        # in WAL mode before the desk opens it). It loads in a thread. The cache holds the
        # indexes being written (200 MB): the table's pages, written once, go to the file
        # as they fill, while the load works, not all at the commit.
        self.loader = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.loader.execute("PRAGMA journal_mode = OFF")
        self.loader.execute("PRAGMA synchronous = OFF")
        self.loader.execute("PRAGMA cache_size = -200000")
        self.loader.execute("BEGIN")
        super().__init__(cfg, size, None)

    def write(self, data: bulk.Dataset) -> None:
        for statement in _STATEMENTS:
            if found := _rows_of(data, statement):
                self.loader.executemany(statement.sql, found)

    def parts(self, first: bulk.Dataset, fillers: list[bulk.Template]) -> list[Callable[[], None]]:
        return [functools.partial(self._load, first, fillers)]

    def _load(self, first: bulk.Dataset, fillers: list[bulk.Template]) -> None:
        # The participants come in key order (see ``sqlite_fill``); their other indexes
        # are made once they are in: one sort each, not two million inserts in any order.
        tables = [insert.table for insert in _SQLITE_REBUILT]
        restore = bulk.sqlite_drop_indexes(self.loader, tables)
        self.write(first)
        bulk.sqlite_fill(self.loader, fillers, first.end, self.size)
        for statement in restore:
            self.loader.execute(statement)

    def count(self) -> int:
        conn = self.loader
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
        (count,) = conn.execute("SELECT count(*) FROM orders").fetchone()
        conn.close()
        self.desk = OrderDesk.open(f"sqlite:///{self.path}", policy=bulk.POLICY)
        return int(count)

    def _traced(self, call: Callable[[], object]) -> list[str] | None:
        conn_of = getattr(self.desk.store, "_conn", None)
        if conn_of is None:
            return None
        conn: sqlite3.Connection = conn_of()
        got: list[str] = []
        conn.set_trace_callback(got.append)
        try:
            call()
        finally:
            conn.set_trace_callback(None)
        return got

    def check_plans(self, extra: pendulum.DateTime) -> None:
        ticked = self._traced(functools.partial(self.desk.tick, now=extra))
        listed = self._traced(functools.partial(self.desk.inbox, bulk.INBOX_USER))
        counted = self._traced(functools.partial(self.desk.metrics, bulk.INBOX_USER, role="buyer"))
        if ticked is None or listed is None or counted is None:
            return
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            self.tick_scans = sqlite_scans(conn, ticked)
            self.inbox_scans = sqlite_scans(conn, listed)
            self.metrics_scans = sqlite_scans(conn, counted)
        finally:
            conn.close()


def sqlite_scans(conn: sqlite3.Connection, statements: Iterable[str]) -> list[str]:
    """Every full scan of a library table in the plans of ``statements``."""
    found: list[str] = []
    for statement in statements:
        words = statement.split(None, 1)
        if not words or words[0].upper() not in ("SELECT", "UPDATE", "DELETE", "WITH"):
            continue
        for row in conn.execute("EXPLAIN QUERY PLAN " + statement).fetchall():
            detail = str(row[-1]).split()
            if len(detail) >= 2 and detail[0] == "SCAN" and _is_table(detail[1], statement):
                found.append(f"{' '.join(detail)} in: {statement[:70]}")
    return found


def _is_table(name: str, statement: str) -> bool:
    if name in _TABLES:
        return True
    # An alias: "FROM orders o" / "JOIN events e".
    return any(f"{t} {name} " in statement or statement.endswith(f"{t} {name}") for t in _TABLES)


def _rows_of(data: bulk.Dataset, insert: rows.Insert) -> list[tuple[Any, ...]]:
    """The rows of ``data`` that ``insert`` writes."""
    found: dict[rows.Insert, list[tuple[Any, ...]]] = {
        rows.ORDERS: data.orders,
        rows.EVENTS: data.events,
        rows.PARTICIPANTS: data.participants,
    }
    return found[insert]


def copy_rows(
    conn: psycopg.Connection[Any], insert: rows.Insert, data: list[tuple[Any, ...]]
) -> None:
    """COPY rows stamped in Python into the table of ``insert``, in its columns."""
    if not data:
        return
    query = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(insert.table),
        sql.SQL(", ").join(sql.Identifier(c) for c in insert.columns),
    )
    with conn.cursor() as cur, cur.copy(query) as copy:
        for row in data:
            copy.write_row(row)


def _pg_load(
    conn: psycopg.Connection[Any],
    statements: tuple[rows.Insert, ...],
    first: bulk.Dataset,
    fillers: list[bulk.Template],
    size: int,
) -> None:
    """The tables of ``statements``, in one transaction: the ``first`` orders' rows by
    COPY, then filler up to ``size``. The filled tables' indexes are built once the rows
    are in (one sort beats a million inserts into each; a third less work at 100k
    orders already), from the library's own definitions."""
    filled = [s for s in statements if s in bulk.FILLER_TABLES]
    restore = bulk.postgres_drop_indexes(conn, [s.table for s in filled])
    for insert in statements:
        copy_rows(conn, insert, _rows_of(first, insert))
    for insert in filled:
        fill = bulk.postgres_copy if insert in _PG_COPIED else bulk.postgres_fill
        fill(conn, fillers, first.end, size, (insert,))
    conn.execute(f"SET LOCAL maintenance_work_mem = '{_INDEX_MEMORY}'")
    conn.execute("SET LOCAL max_parallel_maintenance_workers = 0")
    for statement in restore:
        conn.execute(statement)
    conn.commit()


class PostgresTarget(_Target):
    """A schema of its own on the PostgreSQL server, dropped at the end."""

    label = "PostgreSQL"

    def __init__(self, cfg: Config, size: int, url: str, run: str) -> None:
        self.url = url
        self.schema = f"{run}_{size}"
        super().__init__(
            cfg, size, OrderDesk.open(with_schema(url, self.schema), policy=bulk.POLICY)
        )
        self.loader = connect(url, self.schema, autocommit=False)

    def write(self, data: bulk.Dataset) -> None:
        for statement in _STATEMENTS:
            copy_rows(self.loader, statement, _rows_of(data, statement))

    def parts(self, first: bulk.Dataset, fillers: list[bulk.Template]) -> list[Callable[[], None]]:
        # The participants may load beside the orders, on a connection of their own: the
        # orders are most of the bytes (the server waits on its disk), the participants
        # most of the rows (it works).
        orders = (rows.ORDERS, rows.EVENTS)
        return [
            functools.partial(_pg_load, self.loader, orders, first, fillers, self.size),
            functools.partial(self._load_aside, (rows.PARTICIPANTS,), first, fillers),
        ]

    def _load_aside(
        self, statements: tuple[rows.Insert, ...], first: bulk.Dataset, fillers: list[bulk.Template]
    ) -> None:
        conn = connect(self.url, self.schema, autocommit=False)
        try:
            _pg_load(conn, statements, first, fillers, self.size)
        finally:
            conn.close()

    def count(self) -> int:
        self.loader.commit()
        # What autovacuum would do after a bulk load, done now so plans are not guessed.
        for table in ("orders", "participants", "events"):
            self.loader.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
        found = self.loader.execute("SELECT count(*) FROM orders").fetchone()
        self.loader.commit()
        return -1 if found is None else int(found[0])

    def _explain(self, statement: str, params: tuple[Any, ...]) -> list[str]:
        cur = psycopg.ClientCursor(self.loader)
        cur.execute("EXPLAIN (FORMAT JSON) " + statement, params)  # the store's constants
        row = cur.fetchone()
        self.loader.commit()
        assert row is not None
        found: list[str] = []

        def walk(node: dict[str, Any]) -> None:
            if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in _TABLES:
                found.append(f"Seq Scan on {node['Relation Name']} in: {statement[:60]}")
            for child in node.get("Plans", []):
                walk(child)

        walk(row[0][0]["Plan"])
        return found

    def check_plans(self, extra: pendulum.DateTime) -> None:
        # The store's own statement text, named directly: if it moves, the benchmarks'
        # type check (part of ``make test``) fails instead of the check going quiet.
        from order_lifecycle.adapters.postgres import CLAIM_DUE, PostgresStore

        self.tick_scans = self._explain(CLAIM_DUE, (rows.micros(extra),))
        self.inbox_scans = self._explain(PostgresStore.statements.conversations, (bulk.INBOX_USER,))
        facts = PostgresStore.statements.facts(Role.buyer)
        self.metrics_scans = self._explain(facts, (bulk.INBOX_USER, 0))

    def close(self) -> None:
        try:
            self.loader.close()
            super().close()
        finally:
            drop_schemas(self.url, self.schema)


def run_scale(
    cfg: Config,
    workdir: Path,
    pg: str | None,
    *,
    while_loading: Callable[[], None] = lambda: None,
    before_timing: Callable[[], None] = lambda: None,
) -> tuple[list[Figure], dict[str, float]]:
    """Both stores at every size; ``pg`` is the server URL (``None``: SQLite only).
    ``while_loading`` runs as the loads start, ``before_timing`` once they are done."""
    run = f"bench_{uuid.uuid4().hex[:12]}"
    loads: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        stores: dict[str, dict[int, _Target]] = {"SQLite": {}}
        for size in cfg.sizes:
            target: _Target = SQLiteTarget(cfg, size, workdir)
            stack.callback(target.close)
            stores["SQLite"][size] = target
        if pg is not None:
            stores["PostgreSQL"] = {}
            for size in cfg.sizes:
                target = PostgresTarget(cfg, size, pg, run)
                stack.callback(target.close)
                stores["PostgreSQL"][size] = target
        while_loading()
        started = time.perf_counter()
        fillers = bulk.filler_templates()
        first = bulk.special(batches=2 + cfg.tick_rounds, inbox=cfg.inbox_conversations)
        if first.end > min(cfg.sizes):
            raise ValueError(f"{first.end} due and inbox orders do not fit in {min(cfg.sizes)}")

        lock = threading.Lock()
        began: dict[str, float] = {}
        left: dict[str, int] = {}

        def load(label: str, size: int, target: _Target, part: Callable[[], None]) -> None:
            key = f"{label} {size}"
            with lock:
                began.setdefault(key, time.perf_counter())
            part()
            with lock:
                left[key] -= 1
                if left[key] > 0:
                    return
            # The target's last part: commit and count (the load's time, first part on).
            count = target.count()
            if count != size:
                raise AssertionError(f"{label}: loaded {count} orders, not {size}")
            loads[key] = time.perf_counter() - began[key]

        # The loads' parts run in threads: both drivers release the GIL while their
        # database works, and the work is the database's. The largest datasets first, each
        # store's first part before any second one, PostgreSQL first (its loads are the
        # slowest).
        jobs = []
        for label, targets in stores.items():
            for size, target in targets.items():
                parts = target.parts(first, fillers)
                left[f"{label} {size}"] = len(parts)
                for i, part in enumerate(parts):
                    jobs.append(((-size, i, label != "PostgreSQL"), (label, size, target, part)))
        jobs.sort(key=lambda job: job[0])
        with concurrent.futures.ThreadPoolExecutor(max_workers=_LOADERS) as pool:
            pending = [pool.submit(load, *job) for _, job in jobs]
            try:
                for done in concurrent.futures.as_completed(pending):
                    done.result()
            finally:
                for future in pending:
                    future.cancel()
        loads["all (wall)"] = time.perf_counter() - started
        before_timing()
        # Round by round, every database in turn (ABBA order): the sizes share the
        # machine's noise, so "flat" compares like with like.
        everyone = [t for targets in stores.values() for t in targets.values()]
        for batch in range(1 + cfg.tick_rounds):
            for target in everyone if batch % 2 == 0 else everyone[::-1]:
                target.tick_round(batch)
        for round_ in range(1 + cfg.inbox_rounds):
            for target in everyone if round_ % 2 == 0 else everyone[::-1]:
                target.inbox_round(round_)
        for round_ in range(1 + cfg.inbox_rounds):
            for target in everyone if round_ % 2 == 0 else everyone[::-1]:
                target.metrics_round(round_)
        for targets in stores.values():
            targets[cfg.sizes[-1]].check_plans(bulk.due_instant(1 + cfg.tick_rounds).add(minutes=1))
        figures = [f for label, ts in stores.items() for f in _figures(label, cfg, ts)]
    return figures, loads
