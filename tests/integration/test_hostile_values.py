"""Values no error message can hold: an int past Python's 4,300-digit string limit, a
text of megabytes, a ``tzinfo`` whose offset is out of range, unhashable items. Every
public entry point refuses them with the library's typed error, a message of a sensible
length, and changes nothing (spec §4, §6, §10)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

import pendulum
import pytest

from order_lifecycle import (
    Actor,
    Listing,
    ManualClock,
    Money,
    OrderDesk,
    OrderLifecycleError,
    Policy,
    core,
)
from order_lifecycle.core.terms import Calendar, Reminder
from order_lifecycle.core.values import shown

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)
HUGE: Any = 10**5000  # str() of it raises ValueError since Python 3.11
BIG: Any = "x" * 10_000_000
#: What an error message may say of one value, at most (the longest sentences are ~300).
MESSAGE_LIMIT = 1_000


class _BrokenZone(dt.tzinfo):
    """An offset ``datetime`` refuses to use (a day or more)."""

    def utcoffset(self, _: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(hours=30)

    def dst(self, _: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)

    def tzname(self, _: dt.datetime | None) -> str:
        return "BROKEN"


BROKEN: Any = dt.datetime(2026, 12, 1, 10, tzinfo=_BrokenZone())


@pytest.fixture
def desk() -> Any:
    with OrderDesk.open("memory://", clock=ManualClock(T0)) as opened:
        yield opened


def _cases(desk: OrderDesk, order_id: str) -> list[tuple[str, Callable[[], object]]]:
    return [
        (
            "propose_update(revisions=HUGE)",
            lambda: desk.propose_update(order_id, by="bob", revisions=HUGE),
        ),
        (
            "resolve(outcome=HUGE)",
            lambda: desk.resolve(order_id, by=Actor.cx("carol"), outcome=HUGE, note="n"),
        ),
        ("feed(after=HUGE)", lambda: desk.feed(after=HUGE)),
        ("chat(since=HUGE)", lambda: desk.chat(order_id, viewer="alice", since=HUGE)),
        ("metrics(role=HUGE)", lambda: desk.metrics("bob", role=HUGE)),
        ("review(rating=HUGE)", lambda: desk.review(order_id, by="alice", rating=HUGE)),
        (
            "Listing(revisions=HUGE)",
            lambda: Listing("T", Money("1", "USD"), pendulum.duration(days=1), HUGE),
        ),
        ("Money(currency=HUGE)", lambda: Money("1", HUGE)),
        ("Money(HUGE digits)", lambda: Money(HUGE, "USD")),
        ("Actor(role=HUGE)", lambda: Actor("a", HUGE)),
        ("Policy(max_files=HUGE)", lambda: Policy(max_files=HUGE)),
        ("Policy(on_proposal_silence=HUGE)", lambda: Policy(on_proposal_silence=HUGE)),
        ("Reminder(deadline=HUGE)", lambda: Reminder(HUGE, pendulum.duration(days=1))),
        ("core.fire(timer=HUGE)", lambda: core.fire(desk.get(order_id), HUGE, now=T0)),
        ("tick(now=BIG)", lambda: desk.tick(BIG)),
        ("chat(tz=BIG)", lambda: desk.chat(order_id, viewer="alice", tz=BIG)),
        ("propose_update(due_at=BIG)", lambda: desk.propose_update(order_id, by="bob", due_at=BIG)),
        ("Money(BIG)", lambda: Money(BIG, "USD")),
        ("Money(currency=BIG)", lambda: Money("1", BIG)),
        ("Actor(role=BIG)", lambda: Actor("a", BIG)),
        ("metrics(role=BIG)", lambda: desk.metrics("bob", role=BIG)),
        (
            "place(answers={BIG: 'x'})",
            lambda: desk.place(buyer="alice", seller="bob", listing=LISTING, answers={BIG: "x"}),
        ),
        ("tick(broken zone)", lambda: desk.tick(BROKEN)),
        ("ManualClock(broken zone)", lambda: ManualClock(BROKEN)),
        (
            "propose_update(due_at=broken zone)",
            lambda: desk.propose_update(order_id, by="bob", due_at=BROKEN),
        ),
        ("Calendar(workdays=[[0, 1]])", lambda: Calendar(workdays=cast(Any, [[0, 1]]))),
        (
            "Calendar(holidays=[['2026-12-25']])",
            lambda: Calendar(holidays=cast(Any, [["2026-12-25"]])),
        ),
        ("ManualClock.advance(days='1')", lambda: ManualClock(T0).advance(days=cast(Any, "1"))),
        ("ManualClock.advance(fortnights=1)", lambda: ManualClock(T0).advance(fortnights=1)),
        (
            "ManualClock.advance(days=cast(Any, None))",
            lambda: ManualClock(T0).advance(days=cast(Any, None)),
        ),
        (
            "ManualClock.advance(days=Decimal('sNaN'))",
            lambda: ManualClock(T0).advance(days=cast(Any, Decimal("sNaN"))),
        ),
    ]


def test_every_case_is_a_typed_error_of_a_sensible_length(desk: OrderDesk) -> None:
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    before = desk.get(order.id)
    escaped = []
    for name, call in _cases(desk, order.id):
        try:
            call()
        except OrderLifecycleError as error:
            if len(str(error)) > MESSAGE_LIMIT:
                escaped.append(f"{name}: a message of {len(str(error)):,} characters")
        except Exception as error:  # what this test is about: nothing else may escape
            escaped.append(f"{name}: {type(error).__name__}")
        else:
            escaped.append(f"{name}: accepted")
    assert escaped == [], "\n".join(escaped)
    assert desk.get(order.id) == before
    assert len(desk.history(order.id)) == before.version


def test_a_shown_value_is_short_and_never_fails() -> None:
    """``values.shown``: what an error message says of a value."""
    assert shown("abc") == "'abc'"
    assert len(shown(BIG)) <= 80
    assert shown(BIG).endswith("…")
    assert shown(HUGE) == "an int of 5,001 digits"
    for number in (10**80, 10**80 - 1, 2**300, -(10**999), 10**999 + 7, 7**1500):
        assert shown(number) == f"an int of {len(str(abs(number))):,} digits"

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert shown(Broken()) == "a Broken"
