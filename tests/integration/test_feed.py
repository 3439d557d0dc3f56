"""``OrderDesk.feed`` on every storage backend: every event once, in commit order; the
arguments checked; events written before the feed numbered on migration; and, on
PostgreSQL, a write that commits later never takes a position below one already read."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Sequence
from typing import Any

import pendulum
import psycopg
import pytest

import order_lifecycle
from order_lifecycle import (
    AsyncOrderDesk,
    FeedItem,
    Listing,
    ManualClock,
    Money,
    OrderDesk,
    ValidationError,
)
from order_lifecycle.adapters import postgres, rows
from order_lifecycle.core import commands as c
from order_lifecycle.testing.contract import T0, placed_write, step_write

LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)


def _strictly_increasing(items: Sequence[FeedItem]) -> bool:
    positions = [i.position for i in items]
    return all(a < b for a, b in itertools.pairwise(positions))


def test_feed_item_is_a_public_name() -> None:
    """``FeedItem`` is importable from the package, as the spec names it."""
    assert order_lifecycle.FeedItem is FeedItem
    assert "FeedItem" in order_lifecycle.__all__


def test_feed_lists_every_event_of_every_order_once(desk: OrderDesk, clock: ManualClock) -> None:
    """Commands, messages and fired timers of several orders: each event once, at
    strictly increasing positions, each order's events in seq order, as its history."""
    assert desk.feed() == []
    first = desk.place(buyer="alice", seller="bob", listing=LISTING)
    second = desk.place(buyer="carl", seller="bob", listing=LISTING)
    desk.accept(first.id, by="bob")
    desk.say(second.id, by="carl", text="Hello?")
    desk.decline(second.id, by="bob", reason="Busy")
    desk.deliver(first.id, by="bob", outside=True)
    clock.advance(days=8)
    fired = desk.tick()
    assert [e.kind for e in fired] == ["order_auto_completed"]
    items = desk.feed()
    assert _strictly_increasing(items)
    assert [(i.event.order_id, i.event.seq) for i in items] == [
        (first.id, 1),
        (second.id, 1),
        (first.id, 2),
        (second.id, 2),
        (second.id, 3),
        (first.id, 3),
        (first.id, 4),
    ]
    for order_id in (first.id, second.id):
        assert [i.event for i in items if i.event.order_id == order_id] == desk.history(order_id)
    assert items[-1].event == fired[0]


def test_polling_from_the_last_position_pages_through_the_feed(desk: OrderDesk) -> None:
    """A consumer asking for the next page from the last position it saw gets the feed
    whole, once, whatever the page size; past the end it gets nothing."""
    for n in range(5):
        order = desk.place(buyer=f"buyer{n}", seller="bob", listing=LISTING)
        desk.say(order.id, by="bob", text=f"Hi {n}")
    whole = desk.feed(limit=10_000)
    assert len(whole) == 10
    seen: list[FeedItem] = []
    while page := desk.feed(after=seen[-1].position if seen else 0, limit=3):
        assert len(page) <= 3
        seen += page
    assert seen == whole
    assert desk.feed(after=whole[-1].position) == []
    assert desk.feed(after=whole[-1].position + 1000) == []
    assert desk.feed(after=whole[3].position, limit=2) == whole[4:6]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"after": -1}, "after"),
        ({"after": 1.0}, "after"),
        ({"after": "3"}, "after"),
        ({"after": True}, "after"),
        ({"after": None}, "after"),
        ({"after": 2**63}, "after"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"limit": 2.5}, "limit"),
        ({"limit": False}, "limit"),
        ({"limit": None}, "limit"),
    ],
)
def test_bad_arguments_are_refused_by_name(
    desk: OrderDesk, arguments: dict[str, object], field: str
) -> None:
    """``after`` is a whole number from 0, ``limit`` one from 1 to 10,000: anything else
    is a ``ValidationError`` naming the argument, and nothing changes."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    before = desk.feed()
    with pytest.raises(ValidationError) as refused:
        desk.feed(**arguments)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert desk.feed() == before
    assert desk.history(order.id) == [i.event for i in before]


def test_the_largest_page_is_ten_thousand(desk: OrderDesk) -> None:
    """``limit=10_000`` and ``after`` at the top of the range are accepted."""
    desk.place(buyer="alice", seller="bob", listing=LISTING)
    assert len(desk.feed(limit=10_000)) == 1
    assert desk.feed(after=2**63 - 1, limit=1) == []


# -- events written before the feed existed ------------------------------------------


def _run_sql(url: str, statements: Sequence[str]) -> None:
    """Plain SQL on the store's database (PostgreSQL: in the URL's schema)."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///") :]) as conn:
            for statement in statements:
                conn.execute(statement)
        return
    base, _, query = url.partition("?")
    schema = query.split("schema=", 1)[1]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        for statement in statements:
            conn.execute(statement)


def test_events_written_before_the_feed_are_numbered_by_time(durable_url: str) -> None:
    """Migrating to the feed numbers existing events by time across orders, each order's
    in seq order even where a stored instant went back; new events follow them."""
    clock = ManualClock(T0.add(hours=1))
    with OrderDesk.open(durable_url, clock=clock) as desk:
        desk.place(buyer="carl", seller="bob", listing=LISTING, order_id="b")  # T0+1h
        clock.set(T0)
        desk.place(buyer="alice", seller="bob", listing=LISTING, order_id="a")  # T0
        clock.set(T0.add(hours=2))
        desk.say("a", by="alice", text="Still there?")  # a#2 at T0+2h
        clock.set(T0.add(hours=3))
        desk.accept("b", by="bob")  # b#2 at T0+3h
        desk.accept("a", by="bob")  # a#3 at T0+3h, after b#2 by order id
    sqlite = durable_url.startswith("sqlite")
    _run_sql(
        durable_url,
        [
            # An instant that went back (a clock skew the core would not write): a#2
            # stays after a#1 all the same.
            f"UPDATE events SET at = {rows.micros(T0.subtract(hours=5))}"
            " WHERE order_id = 'a' AND seq = 2",
            *(
                ["DROP INDEX events_position"]
                if sqlite
                else ["DROP TABLE feed_position", "ALTER TABLE events DROP COLUMN written"]
            ),
            "ALTER TABLE events DROP COLUMN position",
            # Back to step 5: the steps after the feed's (6) go too.
            "DROP INDEX orders_seller_facts",
            "DROP INDEX orders_buyer_facts",
            *(f"ALTER TABLE orders DROP COLUMN {column}" for column in rows.FACTS_COLUMNS),
            "DELETE FROM schema_version WHERE version > 5",
        ],
    )
    with OrderDesk.open(durable_url, clock=clock) as desk:
        items = desk.feed()
        assert [(i.event.order_id, i.event.seq) for i in items] == [
            ("a", 1),
            ("a", 2),
            ("b", 1),
            ("a", 3),
            ("b", 2),
        ]
        assert [i.position for i in items] == [1, 2, 3, 4, 5]
        desk.say("b", by="carl", text="Thanks")
        new = desk.feed(after=5)
        assert [(i.position, i.event.order_id, i.event.seq) for i in new] == [(6, "b", 3)]


# -- PostgreSQL: positions in commit order -------------------------------------------


@pytest.mark.postgres
def test_an_event_that_commits_late_comes_after_those_already_read(pg_schema_url: str) -> None:
    """A write held open while another commits and is read: once it commits, the next
    read from the last position returns it. (With positions drawn from a sequence by the
    writers, the open write would hold the lower number, below what the consumer already
    read: it would never be returned.)"""
    store = postgres.PostgresStore(pg_schema_url)
    held = None
    try:
        store.write(placed_write("o1"))
        store.write(placed_write("o2"))
        start = store.feed(0, 10)[-1].position
        first = step_write(store.load("o1"), c.Accept(), "bob", T0)
        second = step_write(store.load("o2"), c.Accept(), "bob", T0)
        base, _, query = pg_schema_url.partition("?")
        held = psycopg.connect(base)
        held.execute(f'SET search_path TO "{query.split("schema=", 1)[1]}"')
        held.commit()
        statement, params = postgres.write_statement(first)
        assert held.execute(statement, params).fetchone() == (1,)  # not committed yet
        store.write(second)  # nothing waits for the open write
        seen = store.feed(start, 10)
        assert [(i.event.order_id, i.event.seq) for i in seen] == [("o2", 2)]
        held.commit()
        later = store.feed(seen[-1].position, 10)
        assert [(i.event.order_id, i.event.seq) for i in later] == [("o1", 2)]
        assert store.feed(start, 10) == seen + later
        assert _strictly_increasing(seen + later)
    finally:
        if held is not None:
            held.close()
        store.close()


@pytest.mark.postgres
def test_a_backlog_is_numbered_in_rounds(
    pg_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events not yet numbered beyond one round's worth: each read numbers the next
    round, oldest writes first, and a consumer paging through gets them all in order."""
    monkeypatch.setattr(postgres, "ROUND_SIZE", 2)
    store = postgres.PostgresStore(pg_schema_url)
    try:
        for n in range(5):
            store.write(placed_write(f"o{n}"))
        seen: list[FeedItem] = []
        while page := store.feed(seen[-1].position if seen else 0, 100):
            assert len(page) <= 2
            seen += page
        assert [(i.position, i.event.order_id) for i in seen] == [
            (n + 1, f"o{n}") for n in range(5)
        ]
    finally:
        store.close()


@pytest.mark.postgres
def test_a_refused_write_leaves_no_gap(pg_schema_url: str) -> None:
    """A write that fails after taking its positions (its idempotency key is taken)
    gives them back: the counter moves with the transaction."""
    from order_lifecycle import ConcurrencyConflict
    from order_lifecycle.ports import IdempotencyRecord

    store = postgres.PostgresStore(pg_schema_url)
    try:
        store.write(placed_write("o1", key=IdempotencyRecord("k", "f" * 64, "o1", 1)))
        with pytest.raises(ConcurrencyConflict):
            store.write(placed_write("o2", key=IdempotencyRecord("k", "e" * 64, "o2", 1)))
        store.write(placed_write("o3"))
        assert [(i.position, i.event.order_id) for i in store.feed(0, 10)] == [
            (1, "o1"),
            (2, "o3"),
        ]
    finally:
        store.close()


# -- the async desk, and a desk bound to the host's transaction ----------------------


def test_the_async_desk_reads_the_same_feed(url: str) -> None:
    """``AsyncOrderDesk.feed``: orders placed at once on the event loop, each event once,
    as the synchronous desk reads them; the same refusals."""

    async def story() -> list[FeedItem]:
        async with await AsyncOrderDesk.open(url, clock=ManualClock(T0)) as desk:
            placed = await asyncio.gather(
                *(desk.place(buyer=f"b{n}", seller="bob", listing=LISTING) for n in range(6))
            )
            await asyncio.gather(*(desk.accept(o.id, by="bob") for o in placed))
            with pytest.raises(ValidationError):
                await desk.feed(limit=0)
            items = await desk.feed()
            assert await desk.feed(after=items[2].position, limit=2) == items[3:5]
            assert _strictly_increasing(items)
            assert sorted((i.event.order_id, i.event.seq) for i in items) == sorted(
                (o.id, seq) for o in placed for seq in (1, 2)
            )
            return items

    items = asyncio.run(story())
    if url != "memory://":
        with OrderDesk.open(url) as desk:
            assert desk.feed() == items


def _host_connection(url: str) -> Any:
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///") :], isolation_level=None)
        conn.execute("BEGIN")
        return conn
    return psycopg.connect(url.partition("?")[0])  # a transaction opens with the first statement


def test_a_bound_desk_writes_into_the_feed_when_the_host_commits(durable_url: str) -> None:
    """Events a bound desk writes reach the feed with the host's commit, and a host's
    rollback leaves neither events nor a gap in the positions."""
    with OrderDesk.open(durable_url, clock=ManualClock(T0)) as desk:
        host = _host_connection(durable_url)
        try:
            desk.bound(host).place(buyer="alice", seller="bob", listing=LISTING, order_id="x")
            host.rollback()
            if durable_url.startswith("sqlite"):
                host.execute("BEGIN")
            assert desk.feed() == []
            desk.bound(host).place(buyer="alice", seller="bob", listing=LISTING, order_id="y")
            assert desk.feed() == []  # not committed yet
            host.commit()
        finally:
            host.close()
        desk.place(buyer="carl", seller="bob", listing=LISTING, order_id="z")
        assert [(i.position, i.event.order_id) for i in desk.feed()] == [(1, "y"), (2, "z")]
