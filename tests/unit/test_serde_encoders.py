"""The generated encoders write what the ``cattrs`` converter writes, and the cached forms
of an instant are the instant's own."""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

import attrs
import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st
from test_notices import every_event

from order_lifecycle import BuyerRequest, Listing, Money, Policy, core, instants, serde
from order_lifecycle.core.events import EVENT_TYPES
from order_lifecycle.core.model import Order
from order_lifecycle.core.terms import Calendar
from order_lifecycle.testing import strategies
from order_lifecycle.testing.paths import POLICY

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)

#: The test kit's policy, with a working-day calendar: orders carry it in their terms.
CALENDAR_POLICY = attrs.evolve(
    POLICY,
    calendar=Calendar(
        "Europe/Paris", workdays=frozenset({0, 1, 2, 3}), holidays=frozenset({_dt.date(2030, 1, 1)})
    ),
)


def typed(data: Any) -> Any:
    """``data`` with the type of every value beside it: ``==`` takes a string enum for
    its string, and a mapping proxy for a dict."""
    if isinstance(data, dict):
        return ("dict", type(data), {k: typed(v) for k, v in data.items()})
    if isinstance(data, list):
        return ("list", type(data), [typed(v) for v in data])
    return (type(data), data)


def test_every_event_kind_encodes_as_the_converter_does() -> None:
    events = every_event()
    assert {e.kind for e in events} == set(EVENT_TYPES)
    for event in events:
        expected = {**serde.converter.unstructure(event), "kind": event.kind}
        assert typed(serde.event_to_dict(event)) == typed(expected)
        assert serde.dump_event(event) == serde.compact_json(expected)
        assert serde.load_event(serde.dump_event(event)) == event


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([POLICY, CALENDAR_POLICY, Policy()]).flatmap(
        lambda policy: strategies.orders(policy=policy)
    )
)
def test_orders_encode_as_the_converter_does(order: Order) -> None:
    expected = serde.converter.unstructure(order)
    assert typed(serde.order_to_dict(order)) == typed(expected)
    # The document: its parts (listing, terms...) written once per part object.
    for _ in range(2):
        assert serde.dump_order(order) == serde.compact_json(expected)
    assert serde.load_order(serde.dump_order(order)) == order


@given(strategies.instants())
def test_an_instants_cached_forms_are_its_own(at: pendulum.DateTime) -> None:
    twice = (instants.iso(at), instants.micros(at)), (instants.iso(at), instants.micros(at))
    delta = _dt.datetime.__sub__(at, _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC))
    expected = (at.isoformat(), delta // _dt.timedelta(microseconds=1))
    assert twice == (expected, expected)


@given(
    st.datetimes(
        min_value=_dt.datetime(1, 1, 1, 0, 0), max_value=_dt.datetime(9999, 12, 31, 23, 59, 59)
    ),
    st.sampled_from(["pendulum", "standard", "paris", "fixed"]),
)
@settings(max_examples=300)
def test_an_instant_first_met_has_the_standard_librarys_forms(
    naive: _dt.datetime, zone: str
) -> None:
    """A UTC instant (pendulum's zone or the standard one) is read from its fields, any
    other through its zone's offset: the same text and microseconds either way, before
    the 1970 epoch too."""
    zones = {
        "pendulum": pendulum.UTC,
        "standard": _dt.UTC,
        "paris": pendulum.timezone("Europe/Paris"),
        "fixed": _dt.timezone(_dt.timedelta(hours=-5)),
    }
    at = naive.replace(tzinfo=zones[zone])
    if zone == "pendulum":
        at = pendulum.instance(at)
    copy = at + _dt.timedelta(0)  # an object the caches have not seen
    delta = _dt.datetime.__sub__(copy, _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC))
    assert instants.iso(copy) == _dt.datetime.isoformat(copy)
    assert instants.micros(copy) == delta // _dt.timedelta(microseconds=1)


def test_a_part_orjson_refuses_is_written_by_the_standard_library() -> None:
    """A value orjson refuses inside a part (here a lone surrogate, which the model's own
    checks keep out) falls back to the standard library's JSON, and caches nothing."""
    placed = core.place(
        buyer="alice", seller="bob", listing=LISTING, now=T0, order_id="ord_surrogate"
    ).order
    odd = attrs.evolve(placed.listing)
    object.__setattr__(odd, "title", "Post \ud800 here")  # past the title's check
    order = attrs.evolve(placed, listing=odd)
    expected = json.dumps(
        serde.converter.unstructure(order), separators=(",", ":"), ensure_ascii=False
    )
    assert serde.dump_order(order) == expected
    assert serde.dump_order(order) == expected  # and again: no half-made part was kept
    assert serde.dump_order(placed) == serde.compact_json(serde.converter.unstructure(placed))


def test_the_parts_cache_stays_bounded() -> None:
    placed = core.place(buyer="alice", seller="bob", listing=LISTING, now=T0).order
    for n in range(serde._PARTS_SIZE + 10):
        listing = attrs.evolve(LISTING, title=f"Post {n}")
        text = serde.dump_order(attrs.evolve(placed, listing=listing))
        assert f'"title":"Post {n}"' in text
    assert len(serde._PARTS) <= serde._PARTS_SIZE


def test_equal_instants_in_other_zones_keep_their_own_text() -> None:
    """The caches go by the object: the same moment shown in two zones is two texts."""
    utc = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
    paris = utc.in_timezone("Europe/Paris")
    assert utc == paris
    assert instants.iso(utc) == "2026-12-01T10:00:00+00:00"
    assert instants.iso(paris) == "2026-12-01T11:00:00+01:00"
    assert instants.micros(utc) == instants.micros(paris) == 1_796_119_200_000_000


def test_the_caches_stay_bounded() -> None:
    start = pendulum.datetime(2026, 1, 1, tz="UTC")
    moments = [start.add(seconds=n) for n in range(instants.SIZE * 2 + 5)]
    texts = [instants.iso(m) for m in moments]
    values = [instants.micros(m) for m in moments]
    assert texts == [m.isoformat() for m in moments]
    assert values[-1] - values[0] == (len(moments) - 1) * 1_000_000
    assert len(instants._texts) <= instants.SIZE
    assert len(instants._micros) <= instants.SIZE


def test_orders_of_one_listing_read_back_share_it() -> None:
    """Read back, orders of one listing share one listing object; another listing (even
    one differing only in a buyer question) is its own, and each reads back equal."""
    first = core.place(buyer="alice", seller="bob", listing=LISTING, now=T0).order
    second = core.place(buyer="carol", seller="bob", listing=LISTING, now=T0).order
    other = attrs.evolve(LISTING, requests=(BuyerRequest("Your handle?", required=True),))
    answers = {"Your handle?": "@dan"}
    third = core.place(buyer="dan", seller="bob", listing=other, answers=answers, now=T0).order
    loaded = [serde.load_order(serde.dump_order(o)) for o in (first, second, third)]
    assert loaded == [first, second, third]
    assert loaded[0].listing is loaded[1].listing
    assert loaded[2].listing is not loaded[0].listing
    assert loaded[2].listing == other
