"""Spec section 12 through ``OrderDesk`` on every store: settlement, mutual cancellation,
double-blind reviews, review summaries and seller and buyer metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

import pendulum
import pytest

from order_lifecycle import (
    ActionNotAvailable,
    Actor,
    AsyncOrderDesk,
    CancellationReason,
    Envelope,
    Listing,
    ManualClock,
    Money,
    OrderDesk,
    OrderState,
    Policy,
    Reminder,
    Role,
    ValidationError,
)
from order_lifecycle.adapters.notifiers import CallbackNotifier
from order_lifecycle.adapters.sqlite import SQLiteStore

LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)
CX = Actor.cx("carol")


def _usd(amount: str) -> Money:
    return Money(amount, "USD")


def _accepted(desk: OrderDesk, clock: ManualClock, *, buyer: str = "alice") -> str:
    order = desk.place(buyer=buyer, seller="bob", listing=LISTING)
    clock.advance(hours=2)
    desk.accept(order.id, by="bob")
    return order.id


def _completed(desk: OrderDesk, clock: ManualClock, *, buyer: str = "alice") -> str:
    order_id = _accepted(desk, clock, buyer=buyer)
    clock.advance(days=1)
    desk.deliver(order_id, by="bob", outside=True)
    clock.advance(hours=1)
    desk.approve(order_id, by=buyer)
    return order_id


def _disputed(desk: OrderDesk, clock: ManualClock) -> str:
    order_id = _accepted(desk, clock)
    desk.dispute(order_id, by="alice", reason="No answer")
    desk.join(order_id, by=CX)
    return order_id


# -- settlement ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        ("cancel", None, "150.00", "0.00"),
        ("complete", None, "0.00", "150.00"),
        ("cancel", _usd("40.00"), "40.00", "110.00"),
        ("complete", "25.50", "25.50", "124.50"),
    ],
)
def test_resolve_settles_with_its_defaults(
    desk: OrderDesk, clock: ManualClock, case: tuple[str, Money | str | None, str, str]
) -> None:
    """Resolving settles: the whole price back on cancel and nothing on complete by
    default; the event carries both amounts, and a settlement goes to ``payments``."""
    outcome, refund, back, paid = case
    order_id = _disputed(desk, clock)
    order = desk.resolve(order_id, by=CX, outcome=outcome, note="Settled", refund=refund)
    assert order.settlement is not None
    assert (order.settlement.refund, order.settlement.payout) == (_usd(back), _usd(paid))
    assert desk.get(order_id).settlement == order.settlement
    event = desk.history(order_id)[-1]
    assert event.kind == "dispute_resolved"
    assert (getattr(event, "refund", None), getattr(event, "payout", None)) == (
        _usd(back),
        _usd(paid),
    )
    payments = [r for r in desk.store.outbox_rows(order_id) if r.recipient == "payments"]
    assert [(r.seq, r.kind) for r in payments] == [(event.seq, "dispute_resolved")]


def test_resolve_refuses_a_refund_out_of_range_or_on_resume(
    desk: OrderDesk, clock: ManualClock
) -> None:
    """A refund above the price, below zero, in another currency or on a resumed order is
    a ValidationError naming ``refund``, and changes nothing."""
    order_id = _disputed(desk, clock)
    before = desk.history(order_id)
    wrong: list[tuple[str, Money | str]] = [
        ("cancel", "150.01"),
        ("cancel", "-1"),
        ("complete", Money("10.00", "EUR")),
        ("resume", "10.00"),
    ]
    for outcome, refund in wrong:
        with pytest.raises(ValidationError) as raised:
            desk.resolve(order_id, by=CX, outcome=outcome, note="x", refund=refund)
        assert raised.value.field == "refund"
    assert desk.history(order_id) == before
    assert desk.get(order_id).settlement is None


def test_settle_a_party_cancelled_order_once(desk: OrderDesk, clock: ManualClock) -> None:
    """After a party's ``cancel``, the agent who joined settles once; never again, and
    nobody else."""
    order_id = _accepted(desk, clock)
    clock.advance(days=8)
    desk.cancel(order_id, by="alice", reason="Nothing delivered")
    with pytest.raises(ActionNotAvailable, match="join"):
        desk.settle(order_id, by=CX, refund="100.00", note="Most back")
    desk.join(order_id, by=CX)
    with pytest.raises(ActionNotAvailable, match="carol"):
        desk.settle(order_id, by=Actor.cx("dave"), refund="100.00")
    with pytest.raises(ValidationError) as raised:
        desk.settle(order_id, by=CX, refund="151.00")
    assert raised.value.field == "refund"
    order = desk.settle(order_id, by=CX, refund=_usd("100.00"), note="Most back")
    assert order.settlement is not None
    assert order.settlement.refund == _usd("100.00")
    assert order.settlement.payout == _usd("50.00")
    assert desk.history(order_id)[-1].kind == "order_settled"
    with pytest.raises(ActionNotAvailable, match="already settled") as again:
        desk.settle(order_id, by=CX, refund="0")
    reasons = {str(o.action): o.reason for o in desk.actions(order_id, viewer=CX)}
    assert reasons["settle"] == again.value.reason
    assert [r.kind for r in desk.store.outbox_rows(order_id) if r.recipient == "payments"] == [
        "order_settled"
    ]


def test_settle_only_after_a_partys_cancel(desk: OrderDesk, clock: ManualClock) -> None:
    """A declined order, a complete one, an active one: nothing to settle."""
    declined = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.decline(declined.id, by="bob")
    done = _completed(desk, clock)
    for order_id in (declined.id, done, _accepted(desk, clock)):
        with pytest.raises(ActionNotAvailable):
            desk.settle(order_id, by=CX, refund="0")


# -- mutual cancellation ---------------------------------------------------------------


def test_mutual_cancellation_accepted_settles_as_requested(
    desk: OrderDesk, clock: ManualClock
) -> None:
    """The seller asks (with a partial refund), the buyer accepts: cancelled, reason
    ``mutual``, settled as asked."""
    order_id = _accepted(desk, clock)
    asked = desk.request_cancellation(order_id, by="bob", reason="I fell ill", refund="120.00")
    assert asked.cancellation_request is not None
    assert asked.cancellation_request.refund == _usd("120.00")
    with pytest.raises(ActionNotAvailable, match="buyer answers"):
        desk.accept_cancellation(order_id, by="bob")
    with pytest.raises(ActionNotAvailable, match="waiting for an answer"):
        desk.request_cancellation(order_id, by="alice", reason="Me too")
    inbox = {c.order_id: c for c in desk.inbox("alice")}
    assert inbox[order_id].action_waiting
    order = desk.accept_cancellation(order_id, by="alice")
    assert order.state is OrderState.cancelled
    assert order.cancellation is not None
    assert order.cancellation.reason is CancellationReason.mutual
    assert order.cancellation_request is None
    assert order.settlement is not None
    assert (order.settlement.refund, order.settlement.payout) == (_usd("120.00"), _usd("30.00"))
    assert desk.history(order_id)[-1].kind == "cancellation_accepted"


def test_mutual_cancellation_declined_withdrawn_and_default_refund(
    desk: OrderDesk, clock: ManualClock
) -> None:
    """Declined or withdrawn, the work goes on; a request without a refund gives the
    whole price back."""
    order_id = _accepted(desk, clock)
    desk.request_cancellation(order_id, by="alice", reason="Plans changed")
    with pytest.raises(ActionNotAvailable, match="Only the buyer"):
        desk.withdraw_cancellation(order_id, by="bob")
    assert desk.decline_cancellation(order_id, by="bob").state is OrderState.accepted
    desk.request_cancellation(order_id, by="alice", reason="Plans changed")
    assert desk.withdraw_cancellation(order_id, by="alice").cancellation_request is None
    desk.request_cancellation(order_id, by="alice", reason="Really")
    order = desk.accept_cancellation(order_id, by="bob")
    assert order.settlement is not None
    assert order.settlement.refund == _usd("150.00")
    with pytest.raises(ActionNotAvailable):
        desk.request_cancellation(order_id, by="alice", reason="Again")


def test_a_request_is_voided_by_a_dispute_or_a_cancel(desk: OrderDesk, clock: ManualClock) -> None:
    """Leaving the active states voids an open request; the unilateral ``cancel`` keeps
    its own rules and is not blocked by one."""
    order_id = _accepted(desk, clock)
    desk.request_cancellation(order_id, by="bob", reason="Ill")
    disputed = desk.dispute(order_id, by="alice", reason="Rude")
    assert disputed.cancellation_request is None
    assert desk.history(order_id)[-1].voided_cancellation
    other = _accepted(desk, clock)
    desk.request_cancellation(other, by="alice", reason="Plans changed")
    clock.advance(days=8)  # past due: the buyer may cancel on her own
    cancelled = desk.cancel(other, by="alice", reason="Too late")
    assert cancelled.cancellation is not None
    assert cancelled.cancellation.reason is CancellationReason.cancelled
    assert cancelled.cancellation_request is None


@pytest.mark.parametrize(("silence", "state"), [("accept", "cancelled"), ("reject", "accepted")])
def test_silence_answers_a_request_when_its_window_ends(
    url: str, clock: ManualClock, silence: Literal["accept", "reject"], state: str
) -> None:
    """``Policy.cancellation_window`` with ``on_cancellation_silence``: the system answers
    once, at the window's end, with the time it was due."""
    policy = Policy(
        cancellation_window=pendulum.duration(days=2),
        on_cancellation_silence=silence,
    )
    with OrderDesk.open(url, clock=clock, policy=policy) as desk:
        order_id = _accepted(desk, clock)
        asked = desk.request_cancellation(order_id, by="alice", reason="Plans changed")
        assert asked.cancellation_request is not None
        due = asked.cancellation_request.expires_at
        assert due == clock.now().add(days=2)
        clock.advance(days=1)
        assert desk.tick() == []
        clock.advance(days=2)
        fired = desk.tick()
        assert [(e.kind, e.actor.role.value) for e in fired] == [
            ("cancellation_accepted" if silence == "accept" else "cancellation_declined", "system")
        ]
        assert getattr(fired[0], "due_at", None) == due
        assert desk.get(order_id).state == state
        assert desk.tick() == []


# -- reviews --------------------------------------------------------------------------


def test_double_blind_reviews_publish_when_both_reviewed(
    desk: OrderDesk, clock: ManualClock
) -> None:
    """The first review stays hidden (the other party sees only that one was left); the
    second publishes both; each party reviews once."""
    order_id = _completed(desk, clock)
    desk.review(order_id, by="alice", rating=5, text="Lovely work")
    assert desk.reviews("bob").count == 0
    chat = desk.chat(order_id, viewer="bob")
    assert "left a review" in chat[-1].text
    assert "5" not in chat[-1].text
    assert "Lovely" not in chat[-1].text
    with pytest.raises(ActionNotAvailable, match="already reviewed"):
        desk.review(order_id, by="alice", rating=1)
    sent: list[Envelope] = []
    desk.notifier = CallbackNotifier(sent.append)
    desk.relay()
    (hidden,) = [e for e in sent if e.kind == "review_left"]
    assert hidden.recipient == "bob"
    assert "rating" not in hidden.event
    assert "text" not in hidden.event
    desk.review(order_id, by="bob", rating=4)
    desk.relay()
    (shown,) = [e for e in sent if e.kind == "review_left" and e.recipient == "alice"]
    assert shown.event["rating"] == 4
    bob = desk.reviews("bob")
    assert (bob.count, bob.average) == (1, 5.0)
    assert [(r.by, r.rating, r.text) for r in bob.reviews] == [("alice", 5, "Lovely work")]
    alice = desk.reviews("alice")
    assert (alice.count, alice.average) == (1, 4.0)
    assert "Lovely work" in desk.chat(order_id, viewer="bob")[-1].text


def test_a_lone_review_is_published_when_the_period_ends(
    desk: OrderDesk, clock: ManualClock
) -> None:
    """14 days after completion the review period ends: ``reviews_published`` by the
    system, once; no review may be left after it."""
    order_id = _completed(desk, clock)
    completed_at = desk.get(order_id).completed_at
    assert completed_at is not None
    desk.review(order_id, by="bob", rating=3, text="Slow answers")
    clock.advance(days=13)
    assert desk.tick() == []
    assert desk.reviews("alice").count == 0
    clock.advance(days=2)
    fired = desk.tick()
    assert [(e.kind, e.actor.role.value) for e in fired] == [("reviews_published", "system")]
    assert getattr(fired[0], "due_at", None) == completed_at.add(days=14)
    assert desk.reviews("alice").average == 3.0
    with pytest.raises(ActionNotAvailable, match="review period ended"):
        desk.review(order_id, by="alice", rating=5)
    assert desk.tick() == []


def test_review_arguments_are_validated(desk: OrderDesk, clock: ManualClock) -> None:
    """A rating outside 1..5 or a text over 2,000 characters is refused; only a complete
    order is reviewed."""
    order_id = _completed(desk, clock)
    for rating, text, field in [(0, "", "rating"), (6, "", "rating"), (5, "x" * 2001, "text")]:
        with pytest.raises(ValidationError) as raised:
            desk.review(order_id, by="alice", rating=rating, text=text)
        assert raised.value.field == field
    active = _accepted(desk, clock)
    with pytest.raises(ActionNotAvailable, match="complete"):
        desk.review(active, by="alice", rating=5)


# -- metrics --------------------------------------------------------------------------


def test_seller_and_buyer_metrics(desk: OrderDesk, clock: ManualClock) -> None:
    """Four orders for bob: one on time with a revision and a 5-star review, one late,
    one disputed and cancelled, one still pending."""
    on_time = _accepted(desk, clock)  # accepted 2 h after placing
    clock.advance(days=1)
    desk.deliver(on_time, by="bob", outside=True)
    desk.request_revision(on_time, by="alice", note="Warmer")
    desk.deliver(on_time, by="bob", outside=True)
    desk.approve(on_time, by="alice")
    desk.review(on_time, by="alice", rating=5)
    desk.review(on_time, by="bob", rating=4)

    late = _accepted(desk, clock, buyer="carl")
    clock.advance(days=9)
    desk.deliver(late, by="bob", outside=True)
    desk.approve(late, by="carl")

    disputed = _disputed(desk, clock)
    desk.resolve(disputed, by=CX, outcome="cancel", note="Refunded")

    pending = desk.place(buyer="alice", seller="bob", listing=LISTING)

    metrics = desk.metrics("bob")
    assert (metrics.orders, metrics.completed, metrics.cancelled) == (4, 2, 1)
    assert metrics.completion_rate == pytest.approx(2 / 3)
    assert metrics.on_time_rate == 0.5
    assert metrics.revision_rate == 0.5
    assert metrics.dispute_rate == 0.25
    assert metrics.median_accept_time == pendulum.duration(hours=2)
    assert metrics.median_delivery_time == pendulum.duration(days=5)
    assert (metrics.rating_average, metrics.rating_count) == (5.0, 1)

    alice = desk.metrics("alice", role="buyer")
    assert (alice.orders, alice.rating_average, alice.rating_count) == (3, 4.0, 1)
    assert desk.metrics("alice").orders == 0
    assert desk.metrics("alice").completion_rate is None
    later = desk.metrics("bob", since=desk.get(pending.id).placed_at)
    assert (later.orders, later.on_time_rate, later.median_accept_time) == (1, None, None)
    with pytest.raises(ValidationError):
        desk.metrics("bob", role="cx_agent")
    with pytest.raises(ValidationError):
        desk.metrics("bob", since="2026-12-01T10:00:00")  # naive: refused


def test_the_same_as_coroutines(url: str, clock: ManualClock) -> None:
    """``AsyncOrderDesk``: settlement, mutual cancellation, reviews and metrics awaited,
    from the same flows (PostgreSQL on the async pool)."""

    async def story() -> None:
        async with await AsyncOrderDesk.open(url, clock=clock) as desk:
            order = await desk.place(buyer="alice", seller="bob", listing=LISTING)
            await desk.accept(order.id, by="bob")
            await desk.request_cancellation(order.id, by="alice", reason="Changed plans")
            await desk.withdraw_cancellation(order.id, by="alice")
            await desk.request_cancellation(order.id, by="bob", reason="Ill", refund="150.00")
            await desk.decline_cancellation(order.id, by="alice")
            clock.advance(days=1)
            await desk.deliver(order.id, by="bob", outside=True)
            await desk.approve(order.id, by="alice")
            await desk.review(order.id, by="alice", rating=4, text="Good")
            await desk.review(order.id, by="bob", rating=5)
            summary = await desk.reviews("bob")
            assert (summary.count, summary.average) == (1, 4.0)
            metrics = await desk.metrics("bob")
            assert (metrics.orders, metrics.completed, metrics.on_time_rate) == (1, 1, 1.0)
            assert (await desk.metrics("alice", role="buyer")).rating_average == 5.0
            late = await desk.place(buyer="alice", seller="bob", listing=LISTING)
            await desk.accept(late.id, by="bob")
            clock.advance(days=8)
            await desk.cancel(late.id, by="alice", reason="Nothing")
            await desk.join(late.id, by=CX)
            settled = await desk.settle(late.id, by=CX, refund="150.00")
            assert settled.settlement is not None
            assert settled.settlement.payout == _usd("0.00")

    asyncio.run(story())


def test_a_cancellation_request_reminds_its_counter_party(url: str, clock: ManualClock) -> None:
    """``Reminder("cancellation", before)``: to the party who must answer, once."""
    policy = Policy(
        cancellation_window=pendulum.duration(days=2),
        reminders=(Reminder("cancellation", pendulum.duration(hours=12)),),
    )
    with OrderDesk.open(url, clock=clock, policy=policy) as desk:
        order_id = _accepted(desk, clock)
        desk.request_cancellation(order_id, by="bob", reason="Ill")
        clock.advance(days=1, hours=12)
        fired = desk.tick()
        assert [(e.kind, getattr(e, "recipient", None)) for e in fired] == [
            ("reminder_sent", "alice")
        ]
        assert desk.tick() == []
        clock.advance(hours=12)
        assert [e.kind for e in desk.tick()] == ["cancellation_accepted"]


def test_sqlite_metrics_read_only_the_users_index_entries(tmp_path: Path) -> None:
    """The facts statement is answered from the covering index by seller (or buyer):
    never a scan of all orders."""
    store = SQLiteStore(str(tmp_path / "orders.db"))
    try:
        conn = store._conn()
        for role, index in (
            (Role.seller, "orders_seller_facts"),
            (Role.buyer, "orders_buyer_facts"),
        ):
            plan = " ".join(
                str(row[-1])
                for row in conn.execute(
                    "EXPLAIN QUERY PLAN " + store.statements.facts(role), ("bob", 0)
                )
            )
            assert f"COVERING INDEX {index}" in plan, plan
            assert "SCAN orders" not in plan, plan
    finally:
        store.close()


def test_a_hidden_review_is_not_in_the_other_partys_view(
    desk: OrderDesk, clock: ManualClock
) -> None:
    """``view`` is one viewer's order: until the reviews are published its author sees
    their review there, the other party and CX see none (the chat says one was left)."""
    order_id = _completed(desk, clock)
    desk.review(order_id, by="alice", rating=1, text="Not what I asked")
    mine = desk.view(order_id, viewer="alice").order.reviews
    assert [(r.by, r.rating, r.text) for r in mine] == [("alice", 1, "Not what I asked")]
    assert desk.view(order_id, viewer="bob").order.reviews == ()
    chat = desk.view(order_id, viewer="bob").chat
    assert chat is not None
    assert "left a review" in chat[-1].text
    assert desk.view(order_id, viewer="bob").order.version == desk.get(order_id).version
    desk.review(order_id, by="bob", rating=4)
    both = desk.view(order_id, viewer="bob").order.reviews
    assert sorted((r.by, r.rating) for r in both) == [("alice", 1), ("bob", 4)]
    assert desk.view(order_id, viewer="bob").order == desk.get(order_id)
