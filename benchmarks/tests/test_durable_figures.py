"""The Python-time figure subtracts the driver's time, and only that.

``TimedSQLiteStore`` is the library's SQLite store with its connections' driver calls
timed: commands through it write the same rows as through the store itself, its clock
moves by the time spent in ``execute`` and the fetches, and never by more than the
commands took.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

from order_lifecycle import OrderDesk
from order_lifecycle.adapters.sqlite import SQLiteStore

from order_lifecycle_bench import idle
from order_lifecycle_bench.baselines import sql_floor
from order_lifecycle_bench.figures import durable
from order_lifecycle_bench.figures.sqlite_figures import place_orders, python_time


def _story_rows(desk: OrderDesk, ids: list[str]) -> list[tuple[object, ...]]:
    durable.lib_commands(desk, ids)
    return [(o.id, o.version, o.state.value) for o in map(desk.get, ids)]


def test_timed_store_writes_what_the_store_writes_and_counts_driver_time(
    tmp_path: Path,
) -> None:
    plain = OrderDesk(SQLiteStore(str(tmp_path / "plain.db")))
    store = durable.TimedSQLiteStore(str(tmp_path / "timed.db"))
    timed = OrderDesk(store)
    try:
        plain_ids = durable.lib_place(plain, 0, 3)
        timed_ids = durable.lib_place(timed, 0, 3)
        before = store.driver.ns
        start = time.perf_counter_ns()
        got = _story_rows(timed, timed_ids)
        took = time.perf_counter_ns() - start
        inside = store.driver.ns - before
        expected = _story_rows(plain, plain_ids)
        assert [r[1:] for r in got] == [r[1:] for r in expected]
        assert [r[1:] for r in got] == [(7, "complete")] * 3
        assert len(timed.history(timed_ids[0])) == 1 + durable.COMMANDS
        assert 0 < inside < took
    finally:
        plain.close()
        timed.close()


def test_python_time_figure(tmp_path: Path) -> None:
    """One figure in µs per command: Python time, against the driver's time."""
    path = str(tmp_path / "lib.db")
    with OrderDesk.open(f"sqlite:///{path}") as desk:
        ids = durable.lib_place(desk, 0, 8)
    chunks = iter([ids[0:2], ids[2:4], ids[4:6], ids[6:8]])
    figure = python_time(path, lambda: next(chunks), rounds=3)
    assert figure.unit == "µs"
    assert figure.values is not None
    assert figure.baseline_values is not None
    assert len(figure.values) == len(figure.baseline_values) == 3
    assert all(v > 0 for v in figure.values + figure.baseline_values)
    assert figure.met is not None


def test_a_wait_after_each_commit_counts_as_driver_time(tmp_path: Path) -> None:
    """``DriverClock.after_commit`` runs once per ``COMMIT``, inside the driver's time:
    the idle diagnostic's pauses never count as the library's Python time."""
    store = durable.TimedSQLiteStore(str(tmp_path / "lib.db"))
    desk = OrderDesk(store)
    try:
        ids = durable.lib_place(desk, 0, 2)
        commits: list[int] = []

        def pause() -> None:
            commits.append(1)
            time.sleep(0.002)

        store.driver.after_commit = pause
        before = store.driver.ns
        sample = durable.lib_commands(desk, ids)
        inside = store.driver.ns - before
        assert len(commits) == 2 * durable.COMMANDS
        assert inside >= len(commits) * 2_000_000
        assert 0 < sample.end - sample.start - inside < inside
    finally:
        desk.close()


def test_the_idle_diagnostic_measures_each_way(tmp_path: Path) -> None:
    """Every mode gets its rounds (the warm-up left out), each a positive µs figure."""
    found = idle.measure(str(tmp_path), rounds=2, orders=2, pause_us=50)
    assert sorted(found) == sorted(idle.MODES)
    assert all(len(v) == 2 and all(x > 0 for x in v) for v in found.values())


def _events(path: str, order_id: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        found = conn.execute(
            "SELECT seq, kind, action, position FROM events WHERE order_id = ? AND seq > 1"
            " ORDER BY seq",
            (order_id,),
        ).fetchall()
    return [tuple(row) for row in found]


def test_the_sqlite_floor_writes_the_librarys_event_rows(tmp_path: Path) -> None:
    """The floor's events are the library's for the same story: same kinds and actions,
    and numbered in the feed inside the write transaction, as the SQLite store numbers
    them (a floor leaving ``position`` empty would skip the feed's work)."""
    plan = durable.FloorPlan()
    lib_path, floor_path = str(tmp_path / "lib.db"), str(tmp_path / "floor.db")
    for path in (lib_path, floor_path):
        SQLiteStore(path).close()
        with contextlib.closing(sql_floor.sqlite_connect(path)) as conn:
            place_orders(conn, plan, 1)
    with OrderDesk.open(f"sqlite:///{lib_path}") as desk:
        durable.lib_commands(desk, [plan.ids(0, "lib")["o"]])
    with contextlib.closing(sql_floor.sqlite_connect(floor_path)) as conn:
        for command in plan.commands(0):
            sql_floor.sqlite_command(conn, command)
    lib = _events(lib_path, plan.ids(0, "lib")["o"])
    floor = _events(floor_path, plan.ids(0)["o"])
    assert len(floor) == durable.COMMANDS
    assert [row[:3] for row in floor] == [row[:3] for row in lib]
    # Both files hold the two placed orders' events unnumbered (the bulk loader's rows):
    # each command's event takes the next position, in commit order.
    assert [row[3] for row in floor] == [row[3] for row in lib] == list(range(1, 7))
