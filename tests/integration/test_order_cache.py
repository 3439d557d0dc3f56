"""The stores' order cache never serves a stale order: the stored version decides."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest

from order_lifecycle import Listing, ManualClock, Money, OrderDesk, OrderState
from order_lifecycle.adapters.rows import OrderCache

LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 1)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_desks_on_one_database_see_each_others_writes(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A desk that cached version 1 reads version 2 written by another desk."""
    url = (
        f"sqlite:///{tmp_path / 'orders.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_schema_url")
    )
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
