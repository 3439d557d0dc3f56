"""Durable commands: the desk against the hand-written SQL floor, on any SQL store.

Each order takes the same six commands after it was placed (accept, a chat message,
deliver, a revision request, deliver again, approve): every command reads the order,
decides, and writes the order, its event and an outbox row in one transaction. The floor
writes the same rows for the same story, precomputed (see ``baselines/sql_floor.py``).
Orders are placed before the clock starts; each round takes fresh orders.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pendulum
from order_lifecycle import Actor, OrderDesk, core
from order_lifecycle.adapters import rows
from order_lifecycle.adapters.sqlite import SQLiteStore
from order_lifecycle.core.api import Decision
from order_lifecycle.ports import Write

from order_lifecycle_bench.baselines.sql_floor import FloorCommand
from order_lifecycle_bench.figures.bulk import Template, pattern
from order_lifecycle_bench.stories import as_write, listing

__all__ = [
    "COMMANDS",
    "FloorPlan",
    "Sample",
    "TimedSQLiteStore",
    "in_processes",
    "in_threads",
    "lib_commands",
    "lib_place",
]

#: Commands per order.
COMMANDS: Final = 6


def _story() -> list[tuple[core.Command, str]]:
    return [
        (core.Accept(), "seller"),
        (core.Say(text="Hi! Please tag @me in the post."), "buyer"),
        (core.Deliver(outside=True, note="Posted live"), "seller"),
        (core.RequestRevision(note="Warmer colours please"), "buyer"),
        (core.Deliver(outside=True, note="Reposted"), "seller"),
        (core.Approve(), "buyer"),
    ]


@dataclass
class Sample:
    """One worker's round: when it started and ended, and each command's latency."""

    start: int = 0
    end: int = 0
    latencies: list[int] = field(default_factory=list)


class DriverClock:
    """Nanoseconds spent inside the database driver's calls; ``after_commit``, when set,
    runs after each ``COMMIT`` and counts as driver time (``order_lifecycle_bench.idle``
    waits there)."""

    def __init__(self) -> None:
        self.ns = 0
        self.after_commit: Callable[[], None] | None = None


class _TimedCursor:
    """A cursor whose fetches count as driver time."""

    def __init__(self, cursor: sqlite3.Cursor, clock: DriverClock) -> None:
        self._cursor = cursor
        self._clock = clock

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def fetchall(self) -> list[Any]:
        t = time.perf_counter_ns()
        found = self._cursor.fetchall()
        self._clock.ns += time.perf_counter_ns() - t
        return found

    def fetchone(self) -> Any:
        t = time.perf_counter_ns()
        found = self._cursor.fetchone()
        self._clock.ns += time.perf_counter_ns() - t
        return found

    def __iter__(self) -> Any:
        return iter(self.fetchall())


class _TimedConnection:
    """A ``sqlite3.Connection`` whose ``execute`` (and its cursor's fetches) count as
    driver time; everything else passes through."""

    def __init__(self, conn: sqlite3.Connection, clock: DriverClock) -> None:
        self._conn = conn
        self._clock = clock

    def execute(self, sql: str, params: Any = ()) -> _TimedCursor:
        t = time.perf_counter_ns()
        cursor = self._conn.execute(sql, params)
        if self._clock.after_commit is not None and sql == "COMMIT":
            self._clock.after_commit()
        self._clock.ns += time.perf_counter_ns() - t
        return _TimedCursor(cursor, self._clock)

    def executemany(self, sql: str, params: Any) -> _TimedCursor:
        t = time.perf_counter_ns()
        cursor = self._conn.executemany(sql, params)
        self._clock.ns += time.perf_counter_ns() - t
        return _TimedCursor(cursor, self._clock)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class TimedSQLiteStore(SQLiteStore):
    """The SQLite store, its connections counting the time spent in the driver
    (``driver.ns``): a command's wall time less that is the library's Python time. The
    wrappers' own calls (a few per statement, well under a microsecond each) count as
    the library's."""

    def __init__(self, path: str) -> None:
        self.driver = DriverClock()
        super().__init__(path)

    def _connect(self) -> sqlite3.Connection:
        timed: Any = _TimedConnection(super()._connect(), self.driver)
        conn: sqlite3.Connection = timed
        return conn


def parties(n: int) -> tuple[str, str]:
    return f"b{n}", f"s{n % 50}"


def lib_place(desk: OrderDesk, first: int, count: int) -> list[str]:
    """Place ``count`` orders through the desk (before the clock starts)."""
    ids = []
    for n in range(first, first + count):
        buyer, seller = parties(n)
        ids.append(desk.place(buyer=buyer, seller=seller, listing=listing(n)).id)
    return ids


def lib_commands(desk: OrderDesk, ids: Sequence[str]) -> Sample:
    """The six commands on each order, through the desk; latencies in ns."""
    sample = Sample(start=time.perf_counter_ns())
    lat = sample.latencies
    clock = time.perf_counter_ns
    for oid in ids:
        order = desk.get(oid)
        buyer, seller = order.buyer, order.seller
        t = clock()
        desk.accept(oid, by=seller)
        t1 = clock()
        desk.say(oid, by=buyer, text="Hi! Please tag @me in the post.")
        t2 = clock()
        desk.deliver(oid, by=seller, outside=True, note="Posted live")
        t3 = clock()
        desk.request_revision(oid, by=buyer, note="Warmer colours please")
        t4 = clock()
        desk.deliver(oid, by=seller, outside=True, note="Reposted")
        t5 = clock()
        desk.approve(oid, by=buyer)
        t6 = clock()
        lat += (t1 - t, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)
    sample.end = time.perf_counter_ns()
    return sample


def _writes(start: pendulum.DateTime) -> list[Write]:
    placed = core.place(
        buyer="zzbuyerzz", seller="zzsellerzz", listing=listing(1), now=start, order_id="zzorderzz"
    )
    writes = [as_write(0, placed)]
    order = placed.order
    now = start
    for command, who in _story():
        now = now.add(minutes=30)
        actor = Actor.buyer(order.buyer) if who == "buyer" else Actor.seller(order.seller)
        decision: Decision = core.decide(order, command, actor=actor, now=now)
        writes.append(as_write(order.version, decision))
        order = decision.order
    return writes


class FloorPlan:
    """The floor's rows for the story, stamped per order; and the rows of placed orders
    (what ``desk.place`` writes), to load before the clock starts."""

    def __init__(self) -> None:
        # Placed an hour ago: the desk's commands run on the system clock.
        writes = _writes(pendulum.now("UTC").subtract(hours=1))
        self.placed = Template.of(writes[:1])
        self.steps: list[tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]] = []
        for write in writes[1:]:
            row = rows.order_row(write)
            update = rows.order_update(row, write.expected_version)
            event = rows.event_rows(write)[0]
            note = rows.notification_rows(write.notifications, write.order.updated_at)[0]
            self.steps.append(
                (
                    tuple(pattern(v) for v in update),
                    tuple(pattern(v) for v in event[1:]),
                    tuple(pattern(v) for v in note[1:]),
                )
            )

    def ids(self, n: int, prefix: str = "floor") -> dict[str, str]:
        buyer, seller = parties(n)
        return {"o": f"{prefix}{n:08d}", "b": buyer, "s": seller}

    def placed_rows(
        self, prefix: str, count: int
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The order, event and participant rows of ``count`` placed orders."""
        orders, events, people = [], [], []
        for n in range(count):
            ids = self.ids(n, prefix)
            orders.append(self.placed.order_row(ids))
            events.extend(self.placed.event_rows(ids))
            people.extend(self.placed.participant_rows(ids))
        return orders, events, people

    def commands(self, n: int) -> list[FloorCommand]:
        ids = self.ids(n)

        def stamp(values: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(v % ids if isinstance(v, str) and "%(" in v else v for v in values)

        found = []
        for update, event, note in self.steps:
            params = stamp(update)
            found.append(FloorCommand(ids["o"], int(params[-1]), params, stamp(event), stamp(note)))
        return found


def floor_commands(run: Callable[[FloorCommand], None], plans: Sequence[FloorCommand]) -> Sample:
    """Run precomputed floor commands; latencies in ns."""
    sample = Sample(start=time.perf_counter_ns())
    lat = sample.latencies
    clock = time.perf_counter_ns
    for cmd in plans:
        t = clock()
        run(cmd)
        lat.append(clock() - t)
    sample.end = time.perf_counter_ns()
    return sample


Job = Callable[[], Callable[[], Sample]]


def in_processes(jobs: Sequence[Job]) -> list[Sample]:
    """Each job set up in its own forked process, then all started together."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(jobs) + 1)
    queue: Any = ctx.Queue()

    def child(job: Job) -> None:
        run = job()
        barrier.wait()
        s = run()
        queue.put((s.start, s.end, s.latencies))

    procs = [ctx.Process(target=child, args=(job,)) for job in jobs]
    for p in procs:
        p.start()
    barrier.wait()
    found = [Sample(*queue.get(timeout=300)) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        if p.exitcode != 0:
            raise RuntimeError(f"a benchmark worker failed (exit code {p.exitcode})")
    return found


def in_threads(jobs: Sequence[Job]) -> list[Sample]:
    """Each job set up in its own thread, then all started together."""
    barrier = threading.Barrier(len(jobs))
    found: list[Sample] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(job: Job) -> None:
        try:
            run = job()
            barrier.wait()
            s = run()
            with lock:
                found.append(s)
        except BaseException as error:
            errors.append(error)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return found


def throughput(samples: Sequence[Sample]) -> float:
    """Commands per second over all workers, from the first start to the last end."""
    start = min(s.start for s in samples)
    end = max(s.end for s in samples)
    return sum(len(s.latencies) for s in samples) / ((end - start) / 1e9)
