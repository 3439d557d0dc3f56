"""What an order costs to hold: its attribute dictionary shares one key table.

CPython 3.11 and 3.12 share the keys of instances' attribute dictionaries (a split
table: only the values are per object) for at most 29 attributes; at 30 every order
carries a dictionary of its own, five times the size, that is also slower to copy on
every command. ``Order`` keeps its attribute dictionary (copied whole by
``replace_order``), so it keeps to 29 fields: ``delivered_at`` is read from its
deliveries.
"""

from __future__ import annotations

import sys

import attrs
import pendulum
import pytest

from order_lifecycle import Listing, Money, core
from order_lifecycle.core.model import Order

T0 = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
LISTING = Listing("A logo", Money("90.00", "USD"), pendulum.duration(days=3), 1)


def test_an_order_has_at_most_29_fields() -> None:
    assert len(attrs.fields(Order)) <= 29


@pytest.mark.skipif(
    sys.implementation.name != "cpython" or sys.version_info[:2] not in ((3, 11), (3, 12)),
    reason="the 29-key limit of shared attribute dictionaries is CPython 3.11/3.12's",
)
def test_orders_changed_by_commands_keep_a_small_shared_key_dictionary() -> None:
    placed = core.place(buyer="ann", seller="sam", listing=LISTING, now=T0).order
    accepted = core.decide(placed, core.Accept(), actor="sam", now=T0.add(hours=1)).order
    delivered = core.decide(
        accepted, core.Deliver(outside=True), actor="sam", now=T0.add(hours=5)
    ).order
    for order in (placed, accepted, delivered):
        assert sys.getsizeof(order.__dict__) < 400, order.state


def test_delivered_at_is_the_latest_delivery() -> None:
    placed = core.place(buyer="ann", seller="sam", listing=LISTING, now=T0).order
    assert placed.delivered_at is None
    order = core.decide(placed, core.Accept(), actor="sam", now=T0.add(hours=1)).order
    first = T0.add(hours=5)
    order = core.decide(order, core.Deliver(outside=True), actor="sam", now=first).order
    assert order.delivered_at == first
    order = core.decide(
        order, core.RequestRevision(note="Bolder"), actor="ann", now=first.add(hours=1)
    ).order
    second = first.add(hours=3)
    order = core.decide(order, core.Deliver(outside=True), actor="sam", now=second).order
    assert order.delivered_at == second == order.deliveries[-1].at
    assert order.review_due_at == second.add(days=7)
