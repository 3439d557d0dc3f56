"""The stores' order cache never serves a stale order: the stored version decides."""

from __future__ import annotations

from pathlib import Path

import pendulum

from order_lifecycle import Listing, ManualClock, Money, OrderDesk, OrderState
from order_lifecycle.adapters.rows import OrderCache

LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 1)


def test_two_desks_on_one_database_see_each_others_writes(durable_url: str, tmp_path: Path) -> None:
    """A desk that cached version 1 reads version 2 written by another desk."""
    url = durable_url
    clock = ManualClock(pendulum.datetime(2026, 12, 1, 10, tz="UTC"))
    with OrderDesk.open(url, clock=clock) as first, OrderDesk.open(url, clock=clock) as second:
        order = first.place(buyer="alice", seller="bob", listing=LISTING)
        assert second.get(order.id).state is OrderState.pending  # now cached by the second
        first.accept(order.id, by="bob")
        assert second.get(order.id).state is OrderState.accepted
        second.say(order.id, by="alice", text="hi")
        assert first.get(order.id).version == 3


def test_the_cache_is_bounded_and_keyed_by_version() -> None:
    """Old versions miss; the oldest entries make room for new ones."""
    from order_lifecycle import core

    now = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
    cache = OrderCache(size=2)
    orders = [
        core.place(buyer="a", seller="b", listing=LISTING, now=now, order_id=f"o{i}").order
        for i in range(3)
    ]
    for order in orders:
        cache.put(order)
    assert cache.get("o0", 1) is None  # evicted
    assert cache.get("o2", 1) is orders[2]
    assert cache.get("o2", 2) is None
