"""The rows of spec section 12 in the pure core: settlement, mutual cancellation and
reviews, rule by rule (availability, reasons, effects, timers, replay, storage form)."""

from __future__ import annotations

import attrs
import pendulum
import pytest

from order_lifecycle import (
    Action,
    ActionNotAvailable,
    Actor,
    CancellationReason,
    LifecycleDefinitionError,
    Money,
    Order,
    OrderState,
    Policy,
    Role,
    Timer,
    ValidationError,
    core,
    serde,
)
from order_lifecycle.core import events as ev
from order_lifecycle.core import machine
from order_lifecycle.core.api import placement
from order_lifecycle.core.replay import replay
from order_lifecycle.core.table import RULES, RULES_BY_ACTION, TIMERS
from order_lifecycle.stats import due_at_first_delivery

from support import AGENT, BUYER, SCENARIOS, SELLER, Walk

CX = Actor.cx(AGENT)
WINDOW = Policy(cancellation_window=pendulum.duration(days=2))


def _reason(walk: Walk, action: Action, actor: Actor | str) -> str | None:
    options = core.options(walk.order, actor=actor, now=walk.now, policy=walk.policy)
    return {o.action: o.reason for o in options}[action]


def test_a_contract_update_that_lowers_the_price_caps_the_requested_refund() -> None:
    """A refund asked for before the price went down is the whole new price at most."""
    walk = Walk(policy=WINDOW)
    SCENARIOS["accepted"](walk)
    walk.do(core.RequestCancellation(reason="Ill", refund="140.00"), SELLER)
    walk.do(core.ProposeUpdate(price="100.00"), BUYER)
    walk.do(core.AcceptUpdate(), SELLER)
    order = walk.do(core.AcceptCancellation(), BUYER)
    assert order.settlement is not None
    assert order.settlement.refund == Money("100.00", "USD")
    assert order.settlement.payout == Money("0.00", "USD")


def test_the_system_answers_only_when_the_window_ends_and_as_the_policy_says() -> None:
    """Before the window ends the system's refusal names its end; after, only the answer
    of ``on_cancellation_silence`` is available to it; parties never depend on time."""
    walk = Walk(policy=WINDOW)
    SCENARIOS["accepted"](walk)
    walk.do(core.RequestCancellation(reason="Ill"), SELLER)
    system = Actor.system()
    assert "waits for an answer until Thu 3 Dec 2026 12:00 UTC" in str(
        _reason(walk, Action.accept_cancellation, system)
    )
    assert _reason(walk, Action.accept_cancellation, BUYER) is None
    walk.now = walk.now.add(days=2)
    assert _reason(walk, Action.accept_cancellation, system) is None
    assert "Silence does not reject" in str(_reason(walk, Action.decline_cancellation, system))
    armed = {t.timer: t for t in core.due_timers(walk.order, walk.policy)}
    assert armed[Timer.cancellation_window].action is Action.accept_cancellation
    # The silence rule is pinned with the order's terms: a desk that rejects on silence
    # now changes orders placed from now on only.
    rejecting = attrs.evolve(WINDOW, on_cancellation_silence="reject")
    armed = {t.timer: t for t in core.due_timers(walk.order, rejecting)}
    assert armed[Timer.cancellation_window].action is Action.accept_cancellation
    later = Walk(policy=rejecting)
    SCENARIOS["accepted"](later)
    later.do(core.RequestCancellation(reason="Ill"), SELLER)
    request = later.order.cancellation_request
    assert request is not None
    assert request.expires_at is not None
    armed = {t.timer: t for t in core.due_timers(later.order, WINDOW)}
    assert armed[Timer.cancellation_window].action is Action.decline_cancellation
    fired = core.fire(later.order, Timer.cancellation_window, now=request.expires_at, policy=WINDOW)
    assert fired.order.state is OrderState.accepted
    assert fired.order.cancellation_request is None
    assert isinstance(fired.events[0], ev.CancellationDeclined)
    assert fired.events[0].due_at == request.expires_at


def test_without_a_window_a_request_waits_for_the_other_party() -> None:
    """No ``cancellation_window``: no timer, and the system can never answer."""
    walk = Walk()
    SCENARIOS["delivered"](walk)
    walk.do(core.RequestCancellation(reason="Not needed any more"), BUYER)
    assert all(t.timer is not Timer.cancellation_window for t in core.due_timers(walk.order))
    walk.now = walk.now.add(days=30)
    assert "no answer window" in str(_reason(walk, Action.accept_cancellation, Actor.system()))


def test_leaving_the_active_states_voids_a_request_and_says_so() -> None:
    """A dispute closes the open request; its event has ``voided_cancellation``."""
    walk = Walk()
    SCENARIOS["accepted"](walk)
    walk.do(core.RequestCancellation(reason="Ill"), SELLER)
    decision = core.decide(
        walk.order, core.Dispute(reason="Rude"), actor=BUYER, now=walk.now, policy=walk.policy
    )
    assert decision.order.cancellation_request is None
    assert decision.events[0].voided_cancellation
    assert not decision.events[0].voided_proposal


def test_a_cx_resolution_cannot_be_settled_again() -> None:
    """A dispute resolved by cancelling is settled by the resolution: nothing to join or
    settle afterwards."""
    walk = Walk()
    SCENARIOS["disputed_joined"](walk)
    walk.do(core.Resolve(outcome="cancel", note="Refund", refund="30.00"), CX)
    assert walk.order.settlement is not None
    with pytest.raises(ActionNotAvailable, match="already settled"):
        core.decide(walk.order, core.Settle(refund="0"), actor=CX, now=walk.now, policy=walk.policy)


def test_a_plain_amount_is_taken_in_the_contracts_currency() -> None:
    """``refund="12.5"`` is 12.50 USD; an amount with too many decimals names the field."""
    walk = Walk()
    SCENARIOS["accepted"](walk)
    order = walk.do(core.RequestCancellation(reason="Ill", refund="12.5"), SELLER)
    assert order.cancellation_request is not None
    assert order.cancellation_request.refund == Money("12.50", "USD")
    other = Walk()
    SCENARIOS["accepted"](other)
    with pytest.raises(ValidationError) as raised:
        other.do(core.RequestCancellation(reason="Ill", refund="1.005"), SELLER)
    assert raised.value.field == "refund"


def test_reviews_are_published_by_the_second_or_by_the_timer_once() -> None:
    """Both reviewed: published by the second review's event; the timer is not armed.
    One: armed at completed_at + review_period, fires once; none: never armed."""
    both = Walk()
    SCENARIOS["complete"](both)
    assert not core.due_timers(both.order)
    both.do(core.Review(rating=5), BUYER)
    assert [t.timer for t in core.due_timers(both.order)] == [Timer.review_period]
    order = both.do(core.Review(rating=2, text="Late"), SELLER)
    assert order.reviews_published_at == both.now
    assert not core.due_timers(order)
    one = Walk(policy=Policy(review_period=pendulum.duration(days=3)))
    SCENARIOS["complete"](one)
    one.do(core.Review(rating=4), SELLER)
    assert one.order.completed_at is not None
    due = one.order.completed_at.add(days=3)
    assert core.due_timers(one.order, one.policy)[0].due_at == due
    fired = core.fire(one.order, Timer.review_period, now=due, policy=one.policy)
    assert fired.order.reviews_published_at == due
    assert fired.events[0].actor == Actor.system()
    with pytest.raises(ActionNotAvailable):
        core.fire(fired.order, Timer.review_period, now=due, policy=one.policy)


def test_a_cx_agent_reviews_nothing() -> None:
    """Only the parties review; a CX agent's refusal says who may."""
    walk = Walk()
    SCENARIOS["complete"](walk)
    assert (
        _reason(walk, Action.review, CX)
        == "Only the buyer or the seller can review the other party."
    )


class Recorded(Walk):
    """A walk that keeps every event, timers' included."""

    def __init__(self, revisions: int = 2, policy: Policy = core.DEFAULT_POLICY) -> None:
        super().__init__(revisions, policy)
        self.events: list[ev.Event] = [
            core.place(
                buyer=BUYER,
                seller=SELLER,
                listing=self.order.listing,
                now=self.now,
                policy=policy,
                order_id=self.order.id,
            ).events[0]
        ]

    def do(self, command: core.Command, actor: Actor | str, *, hours: float = 1) -> Order:
        self.now = self.now.add(hours=hours)  # type: ignore[arg-type]
        decision = core.decide(self.order, command, actor=actor, now=self.now, policy=self.policy)
        self.events += decision.events
        self.order = decision.order
        return self.order

    def fire(self, timer: Timer, *, days: int) -> None:
        self.now = self.now.add(days=days)
        decision = core.fire(self.order, timer, now=self.now, policy=self.policy)
        self.events += decision.events
        self.order = decision.order


def test_every_new_event_replays_and_round_trips_through_storage() -> None:
    """A history with every kind of section 12 replays to the same order, and the order
    and its events read back equal from their JSON."""
    mutual = Recorded(policy=WINDOW)
    SCENARIOS["accepted"](mutual)
    mutual.do(core.RequestCancellation(reason="Ill", refund="10.00"), SELLER)
    mutual.do(core.WithdrawCancellation(), SELLER)
    mutual.do(core.RequestCancellation(reason="Ill"), SELLER)
    mutual.do(core.DeclineCancellation(), BUYER)
    mutual.do(core.RequestCancellation(reason="Still ill"), BUYER)
    mutual.fire(Timer.cancellation_window, days=3)
    settled = Recorded()
    SCENARIOS["cancelled_by_party"](settled)
    settled.do(core.Join(), CX)
    settled.do(core.Settle(refund="75.00", note="Half"), CX)
    reviewed = Recorded()
    SCENARIOS["complete"](reviewed)
    reviewed.do(core.Review(rating=3), BUYER)
    reviewed.fire(Timer.review_period, days=15)
    kinds: set[str] = set()
    for walk in (mutual, settled, reviewed):
        assert replay(walk.events, policy=walk.policy) == walk.order
        assert serde.load_order(serde.dump_order(walk.order)) == walk.order
        assert [serde.load_event(serde.dump_event(e)) for e in walk.events] == walk.events
        kinds |= {e.kind for e in walk.events}
    assert kinds >= {
        "cancellation_requested",
        "cancellation_withdrawn",
        "cancellation_declined",
        "cancellation_accepted",
        "order_settled",
        "review_left",
        "reviews_published",
    }
    assert mutual.order.cancellation is not None
    assert mutual.order.cancellation.reason is CancellationReason.mutual


def test_a_timer_may_fire_only_system_actions() -> None:
    """A timer's alternative action is checked like its main one."""
    broken = [
        attrs.evolve(t, also_fires=(Action.accept,)) if t.timer is Timer.cancellation_window else t
        for t in TIMERS
    ]
    with pytest.raises(LifecycleDefinitionError, match="fires accept, not a system action"):
        machine.check_table(RULES, broken)
    assert Role.system in RULES_BY_ACTION[Action.decline_cancellation].roles


def test_orders_of_earlier_lifecycles_settle_only_when_told() -> None:
    """An order placed under lifecycle 2 resolves as it did (no default settlement, no
    due date on its deliveries), so its recorded history replays; a refund given still
    settles it. The due date at its first delivery is read from its history."""
    placed = placement(
        buyer=BUYER,
        seller=SELLER,
        listing=Walk().order.listing,
        answers=None,
        now=Walk().now,
        policy=core.DEFAULT_POLICY,
        order_id="old",
        terms=None,
        lifecycle="2",
    )
    walk = Recorded()
    walk.order, walk.events = placed.order, list(placed.events)
    walk.do(core.Accept(), SELLER)
    walk.do(core.Deliver(outside=True), SELLER)
    assert walk.order.deliveries[0].due_at is None
    assert due_at_first_delivery(walk.events) == walk.order.contract.due_at
    walk.do(core.Dispute(reason="Wrong"), BUYER)
    walk.do(core.Join(), CX)
    told = core.decide(
        walk.order,
        core.Resolve(outcome="complete", note="Ok", refund="5.00"),
        actor=CX,
        now=walk.now,
    )
    assert told.order.settlement is not None
    walk.do(core.Resolve(outcome="cancel", note="Refunded"), CX)
    assert walk.order.settlement is None
    assert getattr(walk.events[-1], "refund", "missing") is None
    assert replay(walk.events) == walk.order
