"""Value objects refuse bad input with a typed error that names the field."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from order_lifecycle import (
    Action,
    Actor,
    BuyerRequest,
    Listing,
    ManualClock,
    Money,
    OrderState,
    Policy,
    Role,
    SystemClock,
    ValidationError,
)
from order_lifecycle.core import values

from support import listing


def test_enums_are_strings_with_the_spec_names() -> None:
    """``order.state == "pending"`` and ``str(Action.cancel) == "cancel"``."""
    assert OrderState.pending == "pending"
    assert str(Action.cancel) == "cancel"
    assert [r.value for r in Role] == ["buyer", "seller", "cx_agent", "system"]
    assert {s.value for s in OrderState} == {
        "pending",
        "accepted",
        "delivered",
        "revision",
        "complete",
        "disputed",
        "cancelled",
    }


@pytest.mark.parametrize("amount", ["150.00", 150, Decimal("150.5"), " 7 "])
def test_money_accepts_exact_amounts(amount: object) -> None:
    """Strings, ints and Decimals become Decimals."""
    assert isinstance(Money(amount, "USD").amount, Decimal)


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        (1.5, "USD", "amount"),
        (True, "USD", "amount"),
        ("NaN", "USD", "amount"),
        ("Infinity", "USD", "amount"),
        ("abc", "USD", "amount"),
        ("1e20", "USD", "amount"),
        ("1.005", "USD", "amount"),
        ("10.5", "JPY", "amount"),
        ("10", "XYZ", "currency"),
        ("10", "usd", "currency"),
    ],
)
def test_money_refuses_floats_and_bad_values(amount: object, currency: str, field: str) -> None:
    """Floats, NaN, Infinity, too many decimals and unknown currencies are refused."""
    with pytest.raises(ValidationError) as raised:
        Money(amount, currency)
    assert raised.value.field == field


def test_money_keeps_trailing_zeros_within_the_currency() -> None:
    """``1.50`` USD and ``1000`` JPY are fine; ``1.500`` USD equals 1.50 so it is fine too."""
    assert str(Money("1.5", "USD")) == "1.50 USD"
    assert str(Money("1000", "JPY")) == "1,000 JPY"
    assert Money("1.500", "USD").amount == Decimal("1.5")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": ""}, "listing.title"),
        ({"title": "a\nb"}, "listing.title"),
        ({"price": Money("0", "USD")}, "listing.price"),
        ({"price": "150"}, "listing.price"),
        ({"delivery": dt.timedelta(0)}, "listing.delivery"),
        ({"delivery": dt.timedelta(days=-1)}, "listing.delivery"),
        ({"delivery": pendulum.duration(months=1)}, "listing.delivery"),
        ({"delivery": 7}, "listing.delivery"),
        ({"revisions": -1}, "listing.revisions"),
        ({"revisions": 2.0}, "listing.revisions"),
        ({"requests": (BuyerRequest("Q?"), BuyerRequest("Q?"))}, "listing.requests"),
        ({"requests": ("Q?",)}, "listing.requests"),
    ],
)
def test_listing_validation(kwargs: dict[str, object], field: str) -> None:
    """Each bad listing field is refused by name."""
    base: dict[str, object] = {
        "title": "Instagram post",
        "price": Money("150.00", "USD"),
        "delivery": pendulum.duration(days=7),
        "revisions": 2,
    }
    base.update(kwargs)
    with pytest.raises(ValidationError) as raised:
        Listing(**base)
    assert raised.value.field == field


def test_listing_accepts_a_timedelta() -> None:
    """``delivery`` may be a ``datetime.timedelta``; it becomes a pendulum Duration."""
    made = Listing("Post", Money("1", "USD"), dt.timedelta(days=3), 0)
    assert isinstance(made.delivery, pendulum.Duration)
    assert made.delivery.in_days() == 3
    assert listing().delivery.in_days() == 7


@pytest.mark.parametrize("bad", ["", " bob", "a" * 201, "x\x00", "\ud800", 7, None])
def test_actor_ids_are_checked(bad: object) -> None:
    """Ids are 1..200 printable characters without spaces."""
    with pytest.raises(ValidationError):
        Actor(bad, Role.buyer)


def test_actor_constructors_and_roles() -> None:
    """Shortcuts per role; a role may be given as its name; unknown roles are refused."""
    assert Actor.cx("carol") == Actor("carol", "cx_agent")
    assert Actor.system().role is Role.system
    with pytest.raises(ValidationError) as raised:
        Actor("x", "admin")
    assert raised.value.field == "role"


def test_policy_defaults_and_validation() -> None:
    """Seven-day review window, no acceptance window; bad settings are refused."""
    policy = Policy()
    assert policy.review_window == pendulum.duration(days=7)
    assert policy.acceptance_window is None
    assert policy.max_message_chars == 10_000
    assert Policy(cx_team=["carol"]).is_cx_member("carol")
    assert not Policy(cx_team=["carol"]).is_cx_member("dave")
    with pytest.raises(ValidationError):
        Policy(review_window=dt.timedelta(0))
    with pytest.raises(ValidationError):
        Policy(cx_team="carol")


def test_clocks() -> None:
    """The manual clock moves only when told and refuses naive instants."""
    clock = ManualClock(pendulum.datetime(2026, 12, 1, 10))
    assert clock.advance(days=1, hours=2) == pendulum.datetime(2026, 12, 2, 12)
    assert clock.set("2027-01-01T00:00:00+01:00") == pendulum.datetime(2026, 12, 31, 23)
    with pytest.raises(ValidationError):
        clock.set(dt.datetime(2027, 1, 1))
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert now.utcoffset() == dt.timedelta(0)


def test_the_system_clock_reads_the_machines_time_as_a_utc_pendulum_instant() -> None:
    """What ``pendulum.now("UTC")`` gives: its class and zone (so ``to_instant`` takes it
    as it is), the machine's time to the microsecond, never going back between reads."""
    before = time.time_ns() // 1000
    first = SystemClock().now()
    second = SystemClock().now()
    after = time.time_ns() // 1000
    assert type(first) is pendulum.DateTime
    assert first.tzinfo is pendulum.UTC
    assert values.to_instant(first) is first
    stamp = round(first.timestamp() * 1_000_000)
    assert before <= stamp <= after
    assert first <= second
    assert abs((pendulum.now("UTC") - first).total_seconds()) < 5
    assert first.isoformat() == first.in_timezone("UTC").isoformat()


def test_relative_times_are_never_rounded_up() -> None:
    """A deadline 6 days 23 hours away is not "in 7 days"; past instants read "ago"."""
    from order_lifecycle.core.values import human_relative

    now = pendulum.datetime(2026, 12, 1, 10)
    assert human_relative(now.add(days=6, hours=23, minutes=59), now) == "in 6 days 23 hours"
    assert human_relative(now.add(days=7), now) == "in 1 week"
    assert human_relative(now.subtract(hours=2, minutes=5), now) == "2 hours 5 minutes ago"
    assert human_relative(now.add(seconds=20), now) == "now"


_ZONES = (
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "Etc/GMT+5",
)


@given(
    at=st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from([dt.UTC, pendulum.UTC]),  # both ways of saying UTC
    ),
    tz=st.sampled_from(_ZONES),
    year=st.booleans(),
)
def test_human_instant_reads_as_pendulums_format(at: dt.datetime, tz: str, year: bool) -> None:
    # human_instant writes pendulum's English format out by hand; pendulum is the oracle.
    local = pendulum.instance(at).in_timezone(tz)
    expected = local.format("ddd D MMM YYYY HH:mm zz" if year else "ddd D MMM HH:mm zz")
    assert values.human_instant(at, tz, year=year) == expected


def test_human_instant_example() -> None:
    at = pendulum.datetime(2026, 12, 1, 10, 0, tz="UTC")
    assert values.human_instant(at) == "Tue 1 Dec 2026 10:00 UTC"
    assert values.human_instant(at, "Europe/Paris", year=False) == "Tue 1 Dec 11:00 CET"


@pytest.mark.parametrize(
    "units",
    [
        {"days": 10**7},
        {"days": -(10**7)},
        {"years": 8000},
        {"years": 7000},
        {"years": -100},
        {"weeks": 10**6},
        {"seconds": 10**20},
        {"days": float("inf")},
    ],
)
def test_advancing_the_manual_clock_out_of_range_is_refused(units: dict[str, float]) -> None:
    """``advance`` past the instants the library keeps is a ``ValidationError`` naming
    ``units``, as ``ManualClock(...)`` and ``set`` refuse such instants, and the clock stays
    where it was."""
    start = pendulum.datetime(2026, 12, 1, 10)
    clock = ManualClock(start)
    with pytest.raises(ValidationError) as refused:
        clock.advance(**units)
    assert refused.value.field == "units"
    assert clock.now() == start
    assert clock.advance(days=1) == pendulum.datetime(2026, 12, 2, 10)
