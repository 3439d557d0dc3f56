"""SQLite: durable commands against the hand-written floor; ``tick`` and ``inbox`` at scale."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

from order_lifecycle import OrderDesk
from order_lifecycle.adapters import rows
from order_lifecycle.adapters.sqlite import SQLiteStore

from order_lifecycle_bench.baselines.sql_floor import FloorCommand, sqlite_command, sqlite_connect
from order_lifecycle_bench.figures import durable
from order_lifecycle_bench.harness import Config, Figure, interleaved, percentile

__all__ = ["latency_figures", "place_orders", "python_time", "sqlite_durable"]

FLOOR = "hand-written SQL transaction, same file settings (floor)"


def place_orders(conn: sqlite3.Connection, plan: durable.FloorPlan, count: int) -> None:
    """Placed orders for the library (``lib…``) and the floor (``floor…``), loaded."""
    conn.execute("BEGIN")
    for prefix in ("lib", "floor"):
        orders, events, people = plan.placed_rows(prefix, count)
        conn.executemany(rows.INSERT_ORDER, orders)
        conn.executemany(rows.INSERT_EVENT, events)
        conn.executemany(rows.INSERT_PARTICIPANT, people)
    conn.execute("COMMIT")


def latency_figures(
    label: str, lib: list[durable.Sample], floor: list[durable.Sample], target_p99: str | None
) -> list[Figure]:
    found = []
    for q in (50, 99):
        mine = [percentile(s.latencies, q) / 1e6 for s in lib]
        theirs = [percentile(s.latencies, q) / 1e6 for s in floor]
        found.append(
            Figure(
                f"{label} latency p{q}",
                "ms",
                mine,
                "the floor, same rounds",
                theirs,
                target_p99 if q == 99 and target_p99 else "informative",
            )
        )
    return found


def sqlite_durable(cfg: Config, workdir: Path) -> list[Figure]:
    """Commands per second on one SQLite file: 1 process, then 2; p50 and p99."""
    lib_path = str(workdir / "durable-lib.db")
    lib_url = f"sqlite:///{lib_path}"
    floor_path = str(workdir / "durable-floor.db")
    plan = durable.FloorPlan()
    per = cfg.durable_orders
    rounds2 = max(2, cfg.durable_rounds - 2)
    needed = 2 * per * (1 + cfg.durable_rounds) + 2 * per * (1 + rounds2)
    for path in (lib_path, floor_path):  # two files: neither sees the other's writes
        SQLiteStore(path).close()  # the library's schema, for the floor too
        with contextlib.closing(sqlite_connect(path)) as setup:
            place_orders(setup, plan, needed)
    desk = OrderDesk.open(lib_url)
    conn = sqlite_connect(floor_path)
    ids = [plan.ids(n, "lib")["o"] for n in range(needed)]
    cursor = {"lib": 0, "floor": 0}

    def take(kind: str, count: int) -> range:
        start = cursor[kind]
        cursor[kind] += count
        return range(start, start + count)

    lib_samples: list[durable.Sample] = []
    floor_samples: list[durable.Sample] = []

    def run_lib() -> float:
        s = durable.lib_commands(desk, [ids[i] for i in take("lib", per)])
        lib_samples.append(s)
        return durable.throughput([s])

    def floor_cmds(count: int) -> list[FloorCommand]:
        return [c for n in take("floor", count) for c in plan.commands(n)]

    def run_floor() -> float:
        s = durable.floor_commands(lambda c: sqlite_command(conn, c), floor_cmds(per))
        floor_samples.append(s)
        return durable.throughput([s])

    one = interleaved({"lib": run_lib, "floor": run_floor}, rounds=cfg.durable_rounds, warmup=1)
    lib1, floor1 = lib_samples[-cfg.durable_rounds :], floor_samples[-cfg.durable_rounds :]

    lib2: list[list[durable.Sample]] = []
    floor2: list[list[durable.Sample]] = []

    def lib_job(chunk: list[str]) -> durable.Job:
        def setup() -> Callable[[], durable.Sample]:
            mine = OrderDesk.open(lib_url)
            return lambda: durable.lib_commands(mine, chunk)

        return setup

    def floor_job(cmds: list[FloorCommand]) -> durable.Job:
        def setup() -> Callable[[], durable.Sample]:
            mine = sqlite_connect(floor_path)
            return lambda: durable.floor_commands(lambda c: sqlite_command(mine, c), cmds)

        return setup

    def run_lib2() -> float:
        jobs = [lib_job([ids[i] for i in take("lib", per)]) for _ in range(2)]
        samples = durable.in_processes(jobs)
        lib2.append(samples)
        return durable.throughput(samples)

    def run_floor2() -> float:
        jobs = [floor_job(floor_cmds(per)) for _ in range(2)]
        samples = durable.in_processes(jobs)
        floor2.append(samples)
        return durable.throughput(samples)

    two = interleaved({"lib": run_lib2, "floor": run_floor2}, rounds=rounds2, warmup=1)
    python = python_time(
        lib_path, lambda: [ids[i] for i in take("lib", per)], rounds=cfg.durable_rounds
    )
    desk.close()
    conn.close()

    def merged(groups: Iterable[list[durable.Sample]]) -> list[durable.Sample]:
        return [durable.Sample(0, 0, [x for s in g for x in s.latencies]) for g in groups]

    note = f"{per} orders x {durable.COMMANDS} commands per round (and per process)"
    two_process_latency = latency_figures(
        "SQLite command, 2 processes,",
        merged(lib2[-rounds2:]),
        merged(floor2[-rounds2:]),
        "≤ 3 x baseline",
    )
    two_process_latency[1].check = lambda m, b, r: r is not None and r <= 3.0
    return [
        Figure(
            "durable commands/s, SQLite, 1 process",
            "cmd/s",
            one["lib"],
            FLOOR,
            one["floor"],
            "≥ 0.70 x baseline",
            lambda m, b, r: r is not None and r >= 0.70,
            note=note + "; WAL + synchronous=FULL (library defaults) on both",
        ),
        *latency_figures("SQLite command, 1 process,", lib1, floor1, None),
        Figure(
            "durable commands/s, SQLite, 2 processes",
            "cmd/s",
            two["lib"],
            FLOOR + ", 2 processes",
            two["floor"],
            "informative",
        ),
        *two_process_latency,
        python,
    ]


def python_time(path: str, orders: Callable[[], list[str]], *, rounds: int) -> Figure:
    """The library's own Python time per durable command: the same six commands through a
    desk on the SQLite file at ``path`` (fresh placed orders each round, from ``orders``),
    wall time less the time spent inside the driver's calls (``execute``, fetches)."""
    store = durable.TimedSQLiteStore(path)
    desk = OrderDesk(store)
    python: list[float] = []
    driver: list[float] = []

    def run() -> float:
        before = store.driver.ns
        s = durable.lib_commands(desk, orders())
        inside = store.driver.ns - before
        count = len(s.latencies)
        python.append((s.end - s.start - inside) / count / 1e3)
        driver.append(inside / count / 1e3)
        return python[-1]

    try:
        interleaved({"python": run}, rounds=rounds, warmup=1)
    finally:
        desk.close()
    return Figure(
        "library Python time per durable command, SQLite",
        "µs",
        python[1:],
        "time inside the SQLite driver, same commands",
        driver[1:],
        "≤ 100 µs",
        lambda m, b, r: m <= 100,
        note=(
            f"{durable.COMMANDS} commands (and one get) per order; wall time less the"
            " driver's execute and fetch calls (BEGIN, statements, COMMIT with its fsync)"
        ),
    )
