"""Memory per order held by the memory adapter, against a ``transitions`` model per order.

Run in a fresh process (``python -m order_lifecycle_bench.figures.memory ORDERS TRACED BASELINE``),
so that nothing else the benchmarks hold is counted. Orders are built through the core
and written to a ``MemoryStore`` the way the desk writes them (the order, its events,
its outbox rows, its participants, its next timer).

Building 100k orders under ``tracemalloc`` takes minutes (it slows every allocation
about fourfold), so the store is first filled untraced up to ``ORDERS - TRACED`` orders,
then the last ``TRACED`` orders are built under ``tracemalloc``: their memory is the
traced difference less the store's own tables (its dicts and lists, sized with
``sys.getsizeof``) that were reallocated meanwhile, and to that the whole size of the
tables, divided by all orders, is added back: the tables are shared by every order.
Checked against a fully traced build: 20k orders, 3,760 bytes each fully traced, 3,759
with the last 5k traced. With ``TRACED == ORDERS`` every order is traced.

A realistic mix: 20 % pending, 30 % accepted with a chat message, 25 % delivered with a
file, 25 % complete; each order has its own listing snapshot, ids and instants, as
orders placed one by one in a long-running process have.
"""

from __future__ import annotations

import array
import gc
import json
import subprocess
import sys
import tracemalloc
import types
from typing import Final

import pendulum
from order_lifecycle import Listing, Money, core
from order_lifecycle.adapters.memory import MemoryStore
from order_lifecycle.core.api import Decision

from order_lifecycle_bench.baselines import transitions_machines as tm
from order_lifecycle_bench.baselines.table import PlainOrder
from order_lifecycle_bench.harness import REPO, Config, Figure
from order_lifecycle_bench.stories import T0, as_write, attachment

__all__ = ["build_orders", "collect", "memory_figures", "start"]


def _write(store: MemoryStore, before: int, decision: Decision) -> None:
    store.write(as_write(before, decision))


def build_orders(store: MemoryStore, count: int, start: int = 0) -> None:
    """``count`` realistic orders through the core into ``store``."""
    post = attachment()
    for i in range(start, start + count):
        now = T0.add(seconds=i)
        buyer, seller = f"buyer{i % 5000}", f"seller{i % 800}"
        listing = Listing(
            f"Instagram post #{i % 1000}", Money("150.00", "USD"), pendulum.duration(days=7), 2
        )
        decision = core.place(
            buyer=buyer, seller=seller, listing=listing, now=now, order_id=f"ord_{i:012d}"
        )
        _write(store, 0, decision)
        bucket = i % 20
        if bucket < 4:
            continue
        order = decision.order
        steps: list[tuple[core.Command, str]] = [(core.Accept(), seller)]
        if bucket < 10:
            steps.append((core.Say(text=f"Hi, order {i}: please tag @{buyer}"), buyer))
        else:
            steps.append((core.Deliver(files=[post]), seller))
            if bucket >= 15:
                steps.append((core.Approve(), buyer))
        for n, (command, who) in enumerate(steps, start=1):
            decision = core.decide(order, command, actor=who, now=now.add(hours=n))
            _write(store, order.version, decision)
            order = decision.order


_TABLE_TYPES: Final = (dict, list, array.array, bytearray)


def _tables(store: MemoryStore) -> dict[str, int]:
    """The bytes of each of the store's own containers (not what they hold): its dicts and
    lists, and those inside its small table objects (the outbox's parallel arrays)."""
    sizes: dict[str, int] = {}
    for name, value in vars(store).items():
        if isinstance(value, _TABLE_TYPES):
            sizes[name] = sys.getsizeof(value)
        if isinstance(value, dict):  # an index of lists (each user's orders): tables too
            inner_lists = [v for v in value.values() if isinstance(v, list)]
            if inner_lists:
                sizes[f"{name}[*]"] = sum(sys.getsizeof(v) for v in inner_lists)
        for slot in getattr(type(value), "__slots__", ()):
            inner = getattr(value, slot, None)
            if isinstance(inner, _TABLE_TYPES):
                sizes[f"{name}.{slot}"] = sys.getsizeof(inner)
    return sizes


def measure(orders: int, traced: int, baseline_orders: int) -> dict[str, float]:
    """Bytes per order: the memory store, a transitions Machine per order, add_model."""
    warm = MemoryStore()
    build_orders(warm, 50, start=10**9)  # caches, lazily built machine, interned names
    del warm
    plains = [
        PlainOrder(f"ord_{i:012d}", f"buyer{i % 5000}", f"seller{i % 800}", at=T0)
        for i in range(baseline_orders)
    ]

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept: list[object] = []
    for plain in plains:
        model = tm.TModel.__new__(tm.TModel)
        model.__dict__.update(plain.__dict__)
        kept.append(tm.attach(model))
    gc.collect()
    per_machine = (tracemalloc.get_traced_memory()[0] - before) / baseline_orders
    kept.clear()
    tracemalloc.stop()

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    shared = tm.shared_with_models()
    for plain in plains:
        model = tm.TModel.__new__(tm.TModel)
        model.__dict__.update(plain.__dict__)
        shared.add_model(model, initial=model.state)
    gc.collect()
    per_added = (tracemalloc.get_traced_memory()[0] - before) / baseline_orders
    del shared
    tracemalloc.stop()

    store = MemoryStore()
    build_orders(store, orders - traced)
    gc.collect()
    tables_before = _tables(store)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    build_orders(store, traced, start=orders - traced)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    tables = _tables(store)
    store.load(f"ord_{orders - 1:012d}")  # the last order is there
    # A table that grew was reallocated under tracing: its whole new size was traced
    # (freeing the untraced old one is not), so take it out; all tables are then shared
    # by all orders.
    regrown = sum(size for k, size in tables.items() if size != tables_before.get(k))
    sampled = (grown - regrown) / traced + sum(tables.values()) / orders
    # The figure: everything the store holds, object by object, each counted once (what
    # tracemalloc over every order gives, without its minutes); the sampled trace is kept
    # beside it as a check.
    return {
        "ours": deep_size(store) / orders,
        "sampled": sampled,
        "machine": per_machine,
        "add_model": per_added,
    }


def deep_size(root: object) -> int:
    """The bytes of ``root`` and of every object it reaches, each counted once; classes,
    modules and functions (shared code, not data) are not followed."""
    seen: set[int] = set()
    todo = [root]
    total = 0
    skip = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        todo.extend(gc.get_referents(obj))
    return total


def start(cfg: Config) -> subprocess.Popen[str]:
    """Start :func:`measure` in a fresh process (it may run beside untimed work)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "order_lifecycle_bench.figures.memory",
            str(cfg.memory_orders),
            str(cfg.memory_traced),
            str(cfg.memory_baseline_orders),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def collect(cfg: Config, proc: subprocess.Popen[str]) -> list[Figure]:
    """Wait for a process from :func:`start`; its figure."""
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"the memory benchmark failed:\n{err}")
    got = json.loads(out.strip().splitlines()[-1])
    kb = 1024
    return [
        Figure(
            f"memory per order, memory store, {cfg.memory_orders:,} orders",
            "KB",
            [got["ours"] / kb],
            f"transitions: Machine(model=order) per order ({cfg.memory_baseline_orders:,})",
            [got["machine"] / kb],
            "≤ 2 KB and ≤ 0.2 x baseline",
            lambda m, b, r: m <= 2.0 and r is not None and r <= 0.2,
            note=(
                "every object the store holds, each counted once (a deep size walk), in a "
                f"fresh process; tracemalloc over the last {cfg.memory_traced:,} orders "
                f"gave {got['sampled'] / kb:.2f} KB (it over-counts tables reallocated "
                "while tracing); the baseline counts the machine and a small model, not the "
                "order's data; transitions add_model on a shared machine: "
                f"{got['add_model'] / kb:.1f} KB per order"
            ),
        )
    ]


def memory_figures(cfg: Config) -> list[Figure]:
    """The memory figure, measured now."""
    return collect(cfg, start(cfg))


def main(argv: list[str]) -> int:
    orders, traced, baseline = int(argv[0]), int(argv[1]), int(argv[2])
    print(json.dumps(measure(orders, traced, baseline)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
