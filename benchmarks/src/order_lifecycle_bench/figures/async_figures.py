"""PostgreSQL on one event loop: 16 concurrent commands through ``AsyncOrderDesk``, against
the same statements written by hand with psycopg's async pool (the floor).

Sixteen orders at a time take the durable story (six commands each, see ``durable.py``),
each order a task of its own on one loop; the desk and the floor each have a pool of 16
connections. The floor runs the precomputed statements of ``baselines/sql_floor.py``
(a SELECT, then one write statement), so it spends no time deciding or serialising.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import psycopg_pool
from order_lifecycle import AsyncOrderDesk
from order_lifecycle.adapters.postgres_async import AsyncPostgresStore
from psycopg import sql

from order_lifecycle_bench.baselines.sql_floor import PG_SELECT, PG_WRITE, FloorCommand
from order_lifecycle_bench.figures import durable
from order_lifecycle_bench.figures.postgres_figures import (
    drop_schemas,
    load_placed,
    with_schema,
)
from order_lifecycle_bench.harness import Config, Figure

__all__ = ["CONCURRENT", "async_figures"]

#: Commands in flight at once on the loop (one order each).
CONCURRENT: Final = 16
FLOOR: Final = "hand-written SQL on psycopg's async pool (floor)"


async def _lib_order(desk: AsyncOrderDesk, oid: str, lat: list[int]) -> None:
    clock = time.perf_counter_ns
    order = await desk.get(oid)
    buyer, seller = order.buyer, order.seller
    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: desk.accept(oid, by=seller),
        lambda: desk.say(oid, by=buyer, text="Hi! Please tag @me in the post."),
        lambda: desk.deliver(oid, by=seller, outside=True, note="Posted live"),
        lambda: desk.request_revision(oid, by=buyer, note="Warmer colours please"),
        lambda: desk.deliver(oid, by=seller, outside=True, note="Reposted"),
        lambda: desk.approve(oid, by=buyer),
    ]
    for step in steps:
        t = clock()
        await step()
        lat.append(clock() - t)


async def _floor_order(
    pool: psycopg_pool.AsyncConnectionPool[Any], cmds: Sequence[FloorCommand], lat: list[int]
) -> None:
    clock = time.perf_counter_ns
    for cmd in cmds:
        t = clock()
        async with pool.connection() as conn:
            cursor = await conn.execute(PG_SELECT, (cmd.order_id,))
            found = await cursor.fetchone()
            if found is None or found[0] != cmd.expected:
                raise RuntimeError(f"floor order {cmd.order_id} is not at {cmd.expected}")
            await conn.execute(PG_WRITE, (*cmd.update, *cmd.event, *cmd.outbox))
        lat.append(clock() - t)


async def _measure(cfg: Config, url: str, schema: str) -> list[Figure]:
    plan = durable.FloorPlan()
    per = CONCURRENT * (2 if cfg.quick else 4)  # orders per round
    needed = per * (cfg.durable_rounds + 1)
    # The store creates the schema; its pool is the size of the floor's.
    store = await AsyncPostgresStore.open(
        with_schema(url, schema), min_size=CONCURRENT, max_size=CONCURRENT
    )
    desk = AsyncOrderDesk(store)
    load_placed(url, schema, plan, needed)

    async def configure(conn: Any) -> None:
        await conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))

    floor: psycopg_pool.AsyncConnectionPool[Any] = psycopg_pool.AsyncConnectionPool(
        url,
        kwargs={"autocommit": True},
        min_size=CONCURRENT,
        max_size=CONCURRENT,
        configure=configure,
        open=False,
    )
    await floor.open(wait=True)
    cursor = {"lib": 0, "floor": 0}

    def take(kind: str) -> range:
        start = cursor[kind]
        cursor[kind] += per
        return range(start, start + per)

    async def in_waves(make: Callable[[int, list[int]], Awaitable[None]], kind: str) -> float:
        numbers = list(take(kind))
        lat: list[int] = []
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in numbers:
            queue.put_nowait(n)

        async def worker() -> None:
            while not queue.empty():
                await make(queue.get_nowait(), lat)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENT)))
        took = time.perf_counter() - began
        return len(lat) / took

    async def lib_round() -> float:
        return await in_waves(lambda n, lat: _lib_order(desk, plan.ids(n, "lib")["o"], lat), "lib")

    async def floor_round() -> float:
        return await in_waves(lambda n, lat: _floor_order(floor, plan.commands(n), lat), "floor")

    # Interleaved rounds (ABBA) after one warm-up round of each, as ``harness.interleaved``.
    got: dict[str, list[float]] = {"lib": [], "floor": []}
    runs = [("lib", lib_round), ("floor", floor_round)]
    for index in range(cfg.durable_rounds + 1):
        for name, run in runs if index % 2 == 0 else runs[::-1]:
            value = await run()
            if index > 0:
                got[name].append(value)
    await floor.close()
    await desk.close()
    return [
        Figure(
            f"async commands/s, PostgreSQL, {CONCURRENT} concurrent on one event loop",
            "cmd/s",
            got["lib"],
            FLOOR,
            got["floor"],
            "≥ 0.70 x baseline",
            lambda m, b, r: r is not None and r >= 0.70,
            note=f"{per} orders x {durable.COMMANDS} commands per round; pools of "
            f"{CONCURRENT} connections each",
        )
    ]


def async_figures(cfg: Config, url: str) -> list[Figure]:
    """The async figure, in a schema of its own (dropped after)."""
    schema = f"bench_{uuid.uuid4().hex[:12]}_async"
    try:
        return asyncio.run(_measure(cfg, url, schema))
    finally:
        drop_schemas(url, schema)
