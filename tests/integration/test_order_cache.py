"""The stores' order cache never serves a stale order: the stored version decides."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest

from order_lifecycle import Listing, ManualClock, Money, Order, OrderDesk, OrderState
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


def _counting_loads(desk: OrderDesk) -> list[str]:
    """The ids ``desk``'s store is asked to load, from now on."""
    loads: list[str] = []
    store = desk.store
    load = store.load

    def counted(order_id: str) -> Order:
        loads.append(order_id)
        return load(order_id)

    store.load = counted  # type: ignore[method-assign]
    return loads


def test_a_command_on_an_order_this_desk_just_wrote_reads_nothing(durable_url: str) -> None:
    """The store holds the order at the version it wrote: the command decides on it and
    its write's version check guards it."""
    clock = ManualClock(pendulum.datetime(2026, 12, 1, 10, tz="UTC"))
    with OrderDesk.open(durable_url, clock=clock) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
        loads = _counting_loads(desk)
        desk.accept(order.id, by="bob")
        desk.say(order.id, by="alice", text="hi")
        assert loads == []
        assert desk.get(order.id).version == 3


def test_a_stale_order_is_decided_again_on_the_stored_one(durable_url: str) -> None:
    """Another desk wrote since: the write conflicts, the command is decided again on the
    order read back, and the history has every event once."""
    clock = ManualClock(pendulum.datetime(2026, 12, 1, 10, tz="UTC"))
    with (
        OrderDesk.open(durable_url, clock=clock) as first,
        OrderDesk.open(durable_url, clock=clock) as second,
    ):
        order = first.place(buyer="alice", seller="bob", listing=LISTING)
        first.accept(order.id, by="bob")  # the first desk holds version 2
        second.say(order.id, by="alice", text="from the second desk")
        loads = _counting_loads(first)
        after = first.say(order.id, by="bob", text="from the first desk")
        assert after.version == 4
        assert loads == [order.id]
        history = first.history(order.id)
        assert [e.seq for e in history] == [1, 2, 3, 4]
        assert [getattr(e, "text", None) for e in history[2:]] == [
            "from the second desk",
            "from the first desk",
        ]


def test_a_command_refused_on_a_stale_order_is_decided_on_the_stored_one(
    durable_url: str,
) -> None:
    """On the cached order the action is not available yet; on the stored one it is: the
    answer is the stored order's."""
    clock = ManualClock(pendulum.datetime(2026, 12, 1, 10, tz="UTC"))
    with (
        OrderDesk.open(durable_url, clock=clock) as first,
        OrderDesk.open(durable_url, clock=clock) as second,
    ):
        order = first.place(buyer="alice", seller="bob", listing=LISTING)
        first.accept(order.id, by="bob")  # the first desk holds it accepted
        second.deliver(order.id, by="bob", outside=True)
        approved = first.approve(order.id, by="alice")  # refused on "accepted"
        assert approved.state is OrderState.complete
        assert approved.version == 4


def test_a_command_refused_on_the_stored_order_is_refused(durable_url: str) -> None:
    """Refused on the cached order and on the one read back: the refusal stands, and
    nothing is written."""
    from order_lifecycle import ActionNotAvailable

    clock = ManualClock(pendulum.datetime(2026, 12, 1, 10, tz="UTC"))
    with OrderDesk.open(durable_url, clock=clock) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
        with pytest.raises(ActionNotAvailable):
            desk.approve(order.id, by="alice")
        assert desk.get(order.id).version == 1
        assert len(desk.history(order.id)) == 1
