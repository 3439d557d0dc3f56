"""PostgreSQL: durable commands at 1 and 4 connections; ``tick`` and ``inbox`` at scale.

Each run works in schemas of its own (``bench_<random>_cmd`` and ``bench_<random>_big``,
through the store's ``?schema=`` URL parameter) and drops them at the end.

Concurrent connections are processes, one connection each (a desk of its own, or the
floor's own connection): what a pre-forking web server (gunicorn, uWSGI) or a fleet of
workers does, and what PostgreSQL is the store for. The same load in threads of one
process sharing one desk (its pool) is reported too, as information: there the
interpreter's lock, not the database, sets the pace.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any, Final

import psycopg
from order_lifecycle import OrderDesk
from order_lifecycle.adapters import rows
from psycopg import sql

from order_lifecycle_bench.baselines.sql_floor import FloorCommand, pg_command
from order_lifecycle_bench.figures import durable
from order_lifecycle_bench.figures.sqlite_figures import latency_figures
from order_lifecycle_bench.harness import Config, Figure, interleaved, skipped

__all__ = [
    "DEFAULT_URL",
    "connect",
    "drop_schemas",
    "load_placed",
    "pg_unreachable",
    "pg_url",
    "postgres_figures",
    "server_version",
    "skipped_figures",
    "with_schema",
]

DEFAULT_URL: Final = "postgresql://postgres@127.0.0.1:5432/test"
FLOOR: Final = "hand-written SQL: a SELECT + one write statement (floor)"
_TABLES: Final = ("orders", "events", "participants", "outbox")


def pg_url() -> str:
    """The server: ``ORDER_LIFECYCLE_BENCH_PG``, else the tests' server, else the default."""
    return os.environ.get(
        "ORDER_LIFECYCLE_BENCH_PG", os.environ.get("ORDER_LIFECYCLE_TEST_PG", DEFAULT_URL)
    )


def pg_unreachable(url: str) -> str | None:
    """Why the server cannot be used, or ``None``."""
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as error:  # any failure to connect means "no server"
        return f"PostgreSQL at {url} is not reachable: {str(error).strip()}"
    return None


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def connect(url: str, schema: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, autocommit=autocommit)
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    if not autocommit:
        conn.commit()
    return conn


def drop_schemas(url: str, *names: str) -> None:
    """Drop the benchmark's schemas and everything in them."""
    with psycopg.connect(url, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def server_version(url: str) -> str:
    with psycopg.connect(url, connect_timeout=3) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def load_placed(url: str, schema: str, plan: durable.FloorPlan, count: int) -> None:
    """Load ``count`` placed orders for the library and as many for the floor (untimed)."""
    setup = connect(url, schema, autocommit=False)
    for prefix in ("lib", "floor"):
        orders, events, people = plan.placed_rows(prefix, count)
        with setup.cursor() as cur:
            cur.executemany(rows.pg(rows.INSERT_ORDER), orders)
            cur.executemany(rows.pg(rows.INSERT_EVENT), events)
            cur.executemany(rows.pg(rows.INSERT_PARTICIPANT), people)
    setup.commit()
    setup.execute("ANALYZE")
    setup.commit()
    setup.close()


def _durable(cfg: Config, url: str, schema: str) -> list[Figure]:
    desk = OrderDesk.open(with_schema(url, schema))
    plan = durable.FloorPlan()
    per = cfg.pg_durable_orders
    needed = per * (1 + cfg.durable_rounds) * (1 + 4 + 4)
    load_placed(url, schema, plan, needed)
    cursor = {"lib": 0, "floor": 0}
    floors = [connect(url, schema) for _ in range(4)]
    ids = [plan.ids(n, "lib")["o"] for n in range(needed)]
    schema_url = with_schema(url, schema)

    def take(kind: str, count: int) -> range:
        start = cursor[kind]
        cursor[kind] += count
        return range(start, start + count)

    def lib_job(chunk: list[str], *, own: bool) -> durable.Job:
        def setup() -> Callable[[], durable.Sample]:
            # In a process of its own, a desk of its own (a pool made after the fork).
            mine = OrderDesk.open(schema_url) if own else desk
            mine.get(chunk[0])  # the pool's connection is open before the clock starts

            def run() -> durable.Sample:
                try:
                    return durable.lib_commands(mine, chunk)
                finally:
                    if own:
                        mine.close()

            return run

        return setup

    def floor_job(cmds: list[FloorCommand], conn: psycopg.Connection[Any] | None) -> durable.Job:
        def setup() -> Callable[[], durable.Sample]:
            mine = connect(url, schema) if conn is None else conn

            def run() -> durable.Sample:
                try:
                    return durable.floor_commands(lambda c: pg_command(mine, c), cmds)
                finally:
                    if conn is None:
                        mine.close()

            return run

        return setup

    samples: dict[str, list[list[durable.Sample]]] = {}

    def runner(kind: str, workers: int, threads: bool) -> Callable[[], float]:
        def run() -> float:
            if kind == "lib":
                jobs = [
                    lib_job([ids[i] for i in take("lib", per)], own=not threads)
                    for _ in range(workers)
                ]
            else:
                jobs = [
                    floor_job(
                        [c for n in take("floor", per) for c in plan.commands(n)],
                        floors[w] if threads else None,
                    )
                    for w in range(workers)
                ]
            got = durable.in_threads(jobs) if threads else durable.in_processes(jobs)
            samples.setdefault(f"{kind}{workers}{threads}", []).append(got)
            return durable.throughput(got)

        return run

    figures: list[Figure] = []
    for workers, threads in ((1, False), (4, False), (4, True)):
        got = interleaved(
            {"lib": runner("lib", workers, threads), "floor": runner("floor", workers, threads)},
            rounds=cfg.durable_rounds,
            warmup=1,
        )
        label = f"{workers} connection{'s' if workers > 1 else ''}"
        if threads:
            label += " (threads of one process)"
        how = (
            "threads sharing one desk (its pool) / one floor connection each"
            if threads
            else "a process per connection: a desk each / one floor connection each"
        )
        figures.append(
            Figure(
                f"durable commands/s, PostgreSQL, {label}",
                "cmd/s",
                got["lib"],
                FLOOR,
                got["floor"],
                "informative" if threads else "≥ 0.70 x baseline",
                None if threads else (lambda m, b, r: r is not None and r >= 0.70),
                note=f"{per} orders x {durable.COMMANDS} commands per round and connection; {how}",
            )
        )
        if threads:
            continue

        def merged(kind: str, w: int = workers) -> list[durable.Sample]:
            kept = samples[f"{kind}{w}False"][-cfg.durable_rounds :]
            return [durable.Sample(0, 0, [x for s in g for x in s.latencies]) for g in kept]

        lat = latency_figures(
            f"PostgreSQL command, {label},",
            merged("lib"),
            merged("floor"),
            "≤ 3 ms" if workers == 4 else None,
        )
        if workers == 4:
            lat[1].check = lambda m, b, r: m <= 3.0
        figures += lat
    for conn in floors:
        conn.close()
    desk.close()
    return figures


def postgres_figures(cfg: Config, url: str) -> list[Figure]:
    """Durable commands at 1 and 4 connections, in a schema of their own (dropped after)."""
    schema = f"bench_{uuid.uuid4().hex[:12]}_cmd"
    try:
        return _durable(cfg, url, schema)
    finally:
        drop_schemas(url, schema)


def skipped_figures(reason: str, cfg: Config, *, scale: bool = False) -> list[Figure]:
    """The PostgreSQL figures (durable, or ``scale``: tick and inbox), skipped: ``met`` is
    ``None`` and the reason is kept."""
    large = cfg.sizes[-1]
    names = (
        [
            (
                f"tick, 100 due among {large:,} orders (reminders on), PostgreSQL",
                "ms",
                "≤ 2.0 x smallest",
            ),
            (f"inbox(user) among {large:,} orders, PostgreSQL", "ms", "≤ 20 ms and flat"),
        ]
        if scale
        else [
            ("durable commands/s, PostgreSQL, 1 connection", "cmd/s", "≥ 0.70 x baseline"),
            ("durable commands/s, PostgreSQL, 4 connections", "cmd/s", "≥ 0.70 x baseline"),
            ("PostgreSQL command, 4 connections, latency p99", "ms", "≤ 3 ms"),
        ]
    )
    return [skipped(n, u, t, reason) for n, u, t in names]
