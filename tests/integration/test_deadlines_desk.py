"""Deadlines as data through ``OrderDesk``, on memory, SQLite and PostgreSQL (section 11).

``tick`` fires reminders, closes unanswered proposals, escalates stale disputes and
resumes a paused clock; the outbox addresses a reminder to its one party; the order
keeps its terms when the desk runs under another policy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pendulum
import pytest

from order_lifecycle import (
    CX_TEAM,
    Actor,
    AsyncOrderDesk,
    Calendar,
    Deadline,
    Listing,
    ManualClock,
    Money,
    OrderDesk,
    OrderState,
    Policy,
    Reminder,
)
from order_lifecycle.adapters.notifiers import MemoryNotifier
from order_lifecycle.core.replay import replay

DAY = pendulum.duration(days=1)
HOUR = pendulum.duration(hours=1)
#: Tuesday 1 Dec 2026, 10:00 UTC.
T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
LISTING = Listing("Instagram post", Money("150.00", "USD"), DAY * 3, 1)
POLICY = Policy(
    reminders=(Reminder(Deadline.delivery, DAY), Reminder(Deadline.proposal, HOUR * 6)),
    calendar=Calendar("UTC", holidays={dt.date(2026, 12, 3)}),
    proposal_window=DAY,
    on_proposal_silence="accept",
    dispute_window=DAY * 2,
    max_pause=DAY * 2,
)


@pytest.fixture
def notifier() -> MemoryNotifier:
    """Keeps every envelope the desk relays."""
    return MemoryNotifier()


@pytest.fixture
def deadline_desk(url: str, clock: ManualClock, notifier: MemoryNotifier) -> Iterator[OrderDesk]:
    """A desk on the backend under test, under section 11's terms."""
    clock.set(T0)
    with OrderDesk.open(url, clock=clock, policy=POLICY, notifier=notifier) as opened:
        yield opened


def kinds(desk: OrderDesk) -> list[tuple[str, str]]:
    """(order, kind) of every event ``tick`` fires now."""
    return [(e.order_id, e.kind) for e in desk.tick()]


def test_reminders_calendars_and_proposals_through_tick(
    deadline_desk: OrderDesk, clock: ManualClock, notifier: MemoryNotifier
) -> None:
    """Working-day due date, one reminder to the seller only, a proposal accepted by silence."""
    desk = deadline_desk
    order = desk.place(buyer="alice", seller="bob", listing=LISTING, order_id="o1")
    assert order.terms == POLICY.terms
    order = desk.accept("o1", by="bob")
    # Three working days from Tuesday, Thursday 3 Dec being a holiday: Monday 7 Dec.
    assert order.contract.due_at == pendulum.datetime(2026, 12, 7, 10, tz="UTC")
    assert "3 working days" in desk.next_step("o1", viewer="bob")
    desk.relay()
    before = len(notifier.sent)
    clock.set(pendulum.datetime(2026, 12, 6, 10, tz="UTC"))
    assert kinds(desk) == [("o1", "reminder_sent")]
    assert kinds(desk) == []  # never twice
    desk.relay()
    sent = notifier.sent[before:]
    assert [(s.recipient, s.kind) for s in sent] == [("bob", "reminder_sent")]
    assert desk.next_step("o1", viewer="bob").startswith("Reminder: Deliver")
    desk.propose_update("o1", by="bob", price="175.00")
    clock.advance(hours=18)
    assert kinds(desk) == [("o1", "reminder_sent")]
    desk.relay()
    assert notifier.sent[-1].recipient == "alice"
    clock.advance(hours=6)
    assert kinds(desk) == [("o1", "update_accepted"), ("o1", "delivery_date_passed")]
    accepted = desk.history("o1")[-2]
    assert accepted.actor == Actor.system()
    assert desk.get("o1").contract.price.minor == "175.00"
    assert replay(desk.history("o1"), policy=Policy()) == desk.get("o1")


def test_a_paused_clock_through_the_desk(deadline_desk: OrderDesk, clock: ManualClock) -> None:
    """request_info / provide_info by the named methods; the pause's end by ``tick``."""
    desk = deadline_desk
    desk.place(buyer="alice", seller="bob", listing=LISTING, order_id="o1")
    due = desk.accept("o1", by="bob").contract.due_at
    assert due is not None
    desk.request_info("o1", by="bob", question="Which handle should I tag?")
    assert "o1" in [c.order_id for c in desk.inbox("alice") if c.action_waiting]
    clock.advance(hours=5)
    order = desk.provide_info("o1", by="alice", answer="@alice")
    assert order.contract.due_at == due + HOUR * 5
    desk.request_info("o1", by="bob", question="And the colours?", idempotency_key="q2")
    again = desk.request_info("o1", by="bob", question="And the colours?", idempotency_key="q2")
    assert again.version == desk.get("o1").version
    clock.advance(days=10)  # past the due date and the pause's end
    assert kinds(desk) == [("o1", "info_timed_out"), ("o1", "delivery_date_passed")]
    assert desk.get("o1").contract.due_at == due + HOUR * 5 + DAY * 2
    chat = [e.text for e in desk.chat("o1", viewer="alice")]
    assert any("asked the buyer" in text for text in chat)
    assert any("runs again by itself" in text for text in chat)
    desk.cancel("o1", by="alice", reason="Still nothing")
    assert desk.get("o1").state is OrderState.cancelled


def test_a_stale_dispute_is_escalated_once(
    deadline_desk: OrderDesk, clock: ManualClock, notifier: MemoryNotifier
) -> None:
    """One ``dispute_escalated``, relayed to the CX team."""
    desk = deadline_desk
    desk.place(buyer="alice", seller="bob", listing=LISTING, order_id="o1")
    desk.accept("o1", by="bob")
    desk.dispute("o1", by="alice", reason="No answer")
    clock.advance(days=3)
    assert kinds(desk) == [("o1", "dispute_escalated")]
    assert kinds(desk) == []
    desk.relay()
    assert (CX_TEAM, "dispute_escalated") in [(s.recipient, s.kind) for s in notifier.sent]


def test_orders_keep_their_terms_under_a_new_policy(
    deadline_desk: OrderDesk, clock: ManualClock
) -> None:
    """A desk on the same store under another policy changes new orders only."""
    desk = deadline_desk
    desk.place(buyer="alice", seller="bob", listing=LISTING, order_id="old")
    other = type(desk)(desk.store, policy=Policy(review_window=DAY * 14), clock=clock)
    new = other.place(buyer="alice", seller="bob", listing=LISTING, order_id="new")
    assert new.terms == Policy(review_window=DAY * 14).terms
    old = other.accept("old", by="bob")
    assert old.terms == POLICY.terms
    assert old.contract.due_at == pendulum.datetime(2026, 12, 7, 10, tz="UTC")  # working days
    other.deliver("old", by="bob", outside=True)
    # The old order's 7 days, in working days (3 Dec a holiday): Friday 11 Dec.
    assert other.get("old").review_due_at == pendulum.datetime(2026, 12, 11, 10, tz="UTC")
    other.accept("new", by="bob")
    assert other.deliver("new", by="bob", outside=True).review_due_at == T0 + DAY * 14


def test_the_paused_clock_as_coroutines(url: str) -> None:
    """``AsyncOrderDesk`` has the same two commands, and its tick fires the same timers."""

    async def story() -> None:
        clock = ManualClock(T0)
        async with await AsyncOrderDesk.open(url, clock=clock, policy=POLICY) as desk:
            order = await desk.place(buyer="alice", seller="bob", listing=LISTING)
            due = (await desk.accept(order.id, by="bob")).contract.due_at
            assert due is not None
            await desk.request_info(order.id, by="bob", question="Which handle?")
            clock.advance(hours=2)
            answered = await desk.provide_info(order.id, by="alice", answer="@alice")
            assert answered.contract.due_at == due + HOUR * 2
            clock.set(due.add(hours=2).subtract(days=1))
            assert [e.kind for e in await desk.tick()] == ["reminder_sent"]

    asyncio.run(story())
