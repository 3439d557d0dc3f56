"""Load: worker processes run mixed stories on one shared set of orders, then every order
passes the consistency check, and the figures are printed.

Each worker picks a random order of the shared set and an action available on it now to
its buyer, its seller or a CX agent (the driver's :func:`command_for`), and runs it; now
and then it places an order of its own (which it then works on too), fires due timers or
relays notifications. So every order lives a story of its own, made of the moves of
several processes at once. Time is shared: every worker's clock reads the same
accelerated wall clock (one second is one day), so timers fall due during the run. Only
lost races are expected (``ActionNotAvailable``, and ``ConcurrencyConflict`` once the
desk's own retries are spent).

``ORDER_LIFECYCLE_LOAD_WORKERS`` sets the number of workers (default 4);
``ORDER_LIFECYCLE_STRESS=1`` (``make stress``) runs longer, on more orders, and writes the
figures to ``tests/reliability/results/load-<backend>.json``."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, cast

import pendulum
import pytest
from driver import (
    POLICY,
    T0,
    Command,
    check_database,
    command_for,
    execute,
    flaky_receiver,
    place_command,
)

from order_lifecycle import (
    ActionNotAvailable,
    ConcurrencyConflict,
    ManualClock,
    Order,
    OrderDesk,
)
from order_lifecycle.desk import open_store
from order_lifecycle.ports import Store, Write

STRESS: Final = os.environ.get("ORDER_LIFECYCLE_STRESS") == "1"
WORKERS: Final = int(os.environ.get("ORDER_LIFECYCLE_LOAD_WORKERS", "4"))
#: How long the workers run, in seconds, and at most how many commands each.
SECONDS: Final = 30.0 if STRESS else 6.0
MOST_COMMANDS: Final = 1_000_000 if STRESS else 5_000
#: Orders placed before the workers start: the shared set they work on.
ORDERS: Final = 120 if STRESS else 40
#: Simulated seconds per wall-clock second: one day.
SPEED: Final = 86_400
RESULTS: Final = Path(__file__).with_name("results")


class CountingStore:
    """A store that counts the writes it refused for a concurrent change: the conflicts
    the desk then retried (or, after too many, raised)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conflicts = 0

    def write(self, write: Write) -> None:
        """The store's ``write``, counted when it loses a race."""
        try:
            self.store.write(write)
        except ConcurrencyConflict:
            self.conflicts += 1
            raise

    def fire_next_due(self, now: pendulum.DateTime, fire: Callable[[Order], Write]) -> Write | None:
        """The store's ``fire_next_due``, counted when it loses a race."""
        try:
            return self.store.fire_next_due(now, fire)
        except ConcurrencyConflict:
            self.conflicts += 1
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def _worker(
    url: str, number: int, order_ids: list[str], log: str, *, start: Any, results: Any
) -> None:
    """Run random commands on the shared orders until time or count is up; put the
    figures in ``results``: latencies of committed commands, outcomes, what went wrong.

    ``start`` is a barrier: every worker opens its store, then all start together.
    """
    figures: dict[str, Any] = {"worker": number, "latencies": [], "unexpected": []}
    outcomes: Counter[str] = Counter()
    counting: CountingStore | None = None
    command: Command | None = None
    clock = ManualClock(T0)
    try:
        rng = random.Random(f"load-{number}")
        store, blobs = open_store(url)
        counting = CountingStore(store)
        receiver = flaky_receiver(Path(log), random.Random(f"receiver-{number}"), 0.05)
        desk = OrderDesk(
            cast(Store, counting), policy=POLICY, clock=clock, blobs=blobs, notifier=receiver
        )
        mine = list(order_ids)
        start.wait(timeout=300)
        began = time.time()
        deadline = time.monotonic() + SECONDS
        step = 0
        while time.monotonic() < deadline and outcomes["committed"] < MOST_COMMANDS:
            step += 1
            clock.set(T0.add(microseconds=int((time.time() - began) * SPEED * 1_000_000)))
            roll = rng.random()
            command = None
            try:
                if roll < 0.04:
                    outcomes["fired"] += len(desk.tick())
                    continue
                if roll < 0.08:
                    outcomes["sent"] += desk.relay(limit=50).sent
                    continue
                key = f"load-{number}-{step}" if rng.random() < 0.3 else None
                if roll < 0.10:
                    command = place_command(rng, key)
                else:
                    picked = command_for(desk, rng, rng.choice(mine), key)
                    if picked is None:
                        outcomes["nothing_to_do"] += 1
                        continue
                    command = picked
                began_command = time.perf_counter()
                order = execute(desk, command)
                figures["latencies"].append(time.perf_counter() - began_command)
                outcomes["committed"] += 1
                if command["op"] == "place":
                    mine.append(order.id)
            except ActionNotAvailable:
                outcomes["not_available"] += 1
            except ConcurrencyConflict:
                outcomes["conflict"] += 1
        desk.close()
    except Exception:  # reported to the parent, which fails the test with it
        shown = "a tick, a relay or a pick" if command is None else json.dumps(command)[:2000]
        figures["unexpected"].append(f"{traceback.format_exc()}at {clock.now()}, running {shown}")
    figures["outcomes"] = dict(outcomes)
    figures["retried"] = 0 if counting is None else counting.conflicts
    results.put(figures)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def run_load(url: str, workdir: Path, backend: str) -> dict[str, Any]:
    """Place the shared orders, run the workers, check every order; the figures."""
    with OrderDesk.open(url, clock=ManualClock(T0), policy=POLICY) as desk:
        rng = random.Random("load")
        ids = [execute(desk, place_command(rng, None)).id for _ in range(ORDERS)]
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WORKERS + 1)
    results = context.Queue()
    logs = [workdir / f"received-{n}" for n in range(WORKERS)]
    workers = [
        context.Process(
            target=_worker,
            args=(url, n, ids, str(logs[n])),
            kwargs={"start": start, "results": results},
        )
        for n in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    start.wait(timeout=300)  # every worker is ready: the clock starts
    began = time.monotonic()
    figures = [results.get(timeout=SECONDS + 300) for _ in workers]
    elapsed = time.monotonic() - began
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0, f"worker exit code {worker.exitcode}"
    unexpected = [text for f in figures for text in f["unexpected"]]
    assert not unexpected, "\n".join(unexpected)
    outcomes: Counter[str] = Counter()
    for f in figures:
        outcomes.update(f["outcomes"])
    latencies = [latency for f in figures for latency in f["latencies"]]
    checking = time.monotonic()
    problems, stored = check_database(url, logs)
    summary = {
        "backend": backend,
        "workers": WORKERS,
        "seconds": round(elapsed, 2),
        "shared_orders": ORDERS,
        "commands": outcomes["committed"],
        "commands_per_second": round(outcomes["committed"] / elapsed, 1),
        "conflicts_retried_by_the_desk": sum(f["retried"] for f in figures),
        "conflicts_seen_by_callers": outcomes["conflict"],
        "not_available_races": outcomes["not_available"],
        "timers_fired": outcomes["fired"],
        "notifications_sent": outcomes["sent"],
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "orders_checked": stored.orders,
        "events_checked": stored.events,
        "outbox_rows_checked": stored.outbox,
        "check_seconds": round(time.monotonic() - checking, 2),
        "problems": len(problems),
    }
    print(f"\nload {backend}: {json.dumps(summary)}")
    assert not problems, problems
    return summary


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_workers_under_load_leave_every_order_consistent(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """``WORKERS`` processes race on a shared set of orders for ``SECONDS``: nothing but
    lost races goes wrong, commands commit, and afterwards every order is consistent."""
    url = (
        f"sqlite:///{tmp_path / 'orders.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_schema_url")
    )
    summary = run_load(url, tmp_path, backend)
    assert summary["commands"] > 0
    assert summary["commands_per_second"] > 0
    assert summary["orders_checked"] >= ORDERS
    if STRESS:
        RESULTS.mkdir(exist_ok=True)
        target = RESULTS / f"load-{backend}.json"
        target.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
