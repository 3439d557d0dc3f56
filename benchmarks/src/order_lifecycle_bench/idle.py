"""Does the library's Python run slower after the process has waited? A diagnostic.

Usage: ``python -m order_lifecycle_bench.idle [--rounds N] [--orders N] [--pause-us N]
[--dir PATH]``. Runs the Python-time figure's loop (six commands per order through a desk
on SQLite, wall time less the driver's time) on a database in ``--dir`` (by default
``/dev/shm`` where there is one: no ``fsync`` wait), in three ways, interleaved round by
round:

- ``plain``: as it is;
- ``sleep``: the process sleeps ``--pause-us`` after each ``COMMIT`` (what a commit's
  ``fsync`` or a network round trip does: the thread waits, the CPU may go idle);
- ``spin``: the process busy-waits as long instead (the same delay, the CPU kept busy).

The pauses count as driver time, so the three figures are the same Python work. Prints the
median and the lowest of each. Not part of ``make bench``: a tool for the library's owners
(``docs/performance.md`` quotes it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from order_lifecycle import OrderDesk

from order_lifecycle_bench.figures import durable

MODES = ("plain", "sleep", "spin")


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def measure(folder: str, *, rounds: int, orders: int, pause_us: float) -> dict[str, list[float]]:
    """Python µs per command, per round, for each mode (the first round of each is a
    warm-up, left out)."""
    store = durable.TimedSQLiteStore(str(Path(folder) / "idle.db"))
    desk = OrderDesk(store)
    seconds = pause_us / 1e6
    waits: dict[str, Callable[[], None] | None] = {
        "plain": None,
        "sleep": lambda: time.sleep(seconds),
        "spin": lambda: _spin(seconds),
    }
    found: dict[str, list[float]] = {mode: [] for mode in MODES}
    placed = 0
    try:
        for _ in range(rounds + 1):
            for mode in MODES:
                ids = durable.lib_place(desk, placed, orders)
                placed += orders
                store.driver.after_commit = waits[mode]
                before = store.driver.ns
                sample = durable.lib_commands(desk, ids)
                store.driver.after_commit = None
                inside = store.driver.ns - before
                count = len(sample.latencies)
                found[mode].append((sample.end - sample.start - inside) / count / 1e3)
    finally:
        desk.close()
    return {mode: values[1:] for mode, values in found.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--orders", type=int, default=150)
    parser.add_argument("--pause-us", type=float, default=200.0)
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    parser.add_argument("--dir", default=shm, help="where the database goes (a tmpfs is best)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        found = measure(folder, rounds=args.rounds, orders=args.orders, pause_us=args.pause_us)
    print(f"library Python µs per durable command, pause {args.pause_us:g} µs after COMMIT")
    for mode in MODES:
        values = found[mode]
        print(f"{mode:>6}: median {statistics.median(values):6.1f}  lowest {min(values):6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
