"""The shipped strategies: valid values, orders reached by real paths, commands.

Used here as a host would use them, against the pure core: the property that a command
succeeds exactly when ``options`` lists it available holds for any order and command.
"""

from __future__ import annotations

from collections.abc import Callable

import pendulum
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from order_lifecycle import (
    ActionNotAvailable,
    CancellationReason,
    CompletionReason,
    Listing,
    Money,
    NotAParticipant,
    Order,
    OrderState,
    Policy,
    ValidationError,
    core,
)
from order_lifecycle.core import values
from order_lifecycle.testing import strategies
from order_lifecycle.testing.coverage import Recorder

#: ``find`` returns the first example found: shrinking a walk takes minutes, for nothing.
# Derandomized: each way is found by the same draws on every run (a rare way, such as a
# mutual cancellation, was once missed in 500 random draws on a loaded machine); a
# search stops at its first find, so the higher limit costs only when a way is rare.
FIND = settings(
    max_examples=2000,
    derandomize=True,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@given(strategies.money())
def test_money_has_no_more_decimals_than_its_currency(price: Money) -> None:
    """Any currency, above zero, as many decimals as the currency has at most."""
    exponent = price.amount.as_tuple().exponent
    assert isinstance(exponent, int)
    assert price.amount > 0
    assert -exponent <= values.CURRENCY_MINOR_UNITS[price.currency]


@given(strategies.money("JPY"), strategies.instants(), strategies.user_ids())
def test_values_are_what_the_library_takes(price: Money, at: pendulum.DateTime, user: str) -> None:
    """Yen without decimals; aware instants the core keeps as the same UTC instant; ids
    the core accepts."""
    assert price.currency == "JPY"
    assert price.amount == price.amount.to_integral_value()
    assert at.utcoffset() is not None
    assert values.to_instant(at) == at
    assert values.check_id("buyer", user) == user


@given(strategies.listings(), strategies.policies(), strategies.instants())
def test_listings_and_policies_place_orders(
    listing: Listing, policy: Policy, at: pendulum.DateTime
) -> None:
    """Each listing (its questions answered) places an order under each policy."""
    answers = {r.question: "yes" for r in listing.requests}
    placed = core.place(
        buyer="a", seller="b", listing=listing, answers=answers, now=at, policy=policy
    )
    assert placed.order.state is OrderState.pending
    assert 0 <= listing.revisions <= 3


@given(st.sampled_from(list(OrderState)), st.data())
def test_orders_end_in_the_state_asked_for(state: OrderState, data: st.DataObject) -> None:
    """``orders(state)`` ends there (one state or several), within the rules."""
    order = data.draw(strategies.orders(state))
    assert order.state is state
    assert order.revisions_used <= order.contract.revisions
    both = data.draw(strategies.orders({state, "complete"}))
    assert both.state in (state, OrderState.complete)


@given(st.data())
def test_a_command_succeeds_exactly_when_options_list_it(data: st.DataObject) -> None:
    """For any order and any ``(command, actor, now)``: a participant's command succeeds
    iff ``options`` lists it available, a refusal carries the listed reason; anyone else
    is refused by both."""
    policy = strategies.POLICY
    order = data.draw(strategies.orders())
    command, actor, now = data.draw(strategies.commands(order))
    assert now >= order.updated_at
    try:
        shown = core.options(order, actor=actor, now=now, policy=policy)
    except NotAParticipant:
        with pytest.raises(NotAParticipant):
            core.decide(order, command, actor=actor, now=now, policy=policy)
        return
    option = next(o for o in shown if o.action is command.action)
    if option.available:
        decision = core.decide(order, command, actor=actor, now=now, policy=policy)
        assert decision.order.version == order.version + 1
    else:
        with pytest.raises(ActionNotAvailable) as refused:
            core.decide(order, command, actor=actor, now=now, policy=policy)
        assert refused.value.reason == option.reason


def test_making_orders_counts_no_edge() -> None:
    """The strategies' own walks and searches are not what a test did: not counted."""
    with Recorder() as recorder:
        find(strategies.orders(OrderState.disputed), lambda order: True, settings=FIND)
    assert not recorder.counts


WAYS: list[tuple[str, OrderState, Callable[[Order], bool]]] = [
    *(
        (
            f"cancelled-{reason}",
            OrderState.cancelled,
            lambda o, r=reason: o.cancellation is not None and o.cancellation.reason is r,
        )
        for reason in CancellationReason
    ),
    *(
        (f"complete-{reason}", OrderState.complete, lambda o, r=reason: o.completion is r)
        for reason in CompletionReason
    ),
    *(
        (
            f"disputed-from-{source}",
            OrderState.disputed,
            lambda o, s=source: o.dispute is not None and o.dispute.from_state is s,
        )
        for source in (OrderState.accepted, OrderState.delivered, OrderState.revision)
    ),
    ("revision-exhausted", OrderState.revision, lambda o: o.revisions_left == 0),
    ("accepted-past-due-notice", OrderState.accepted, lambda o: o.due_notice_for is not None),
    ("delivered-with-a-proposal", OrderState.delivered, lambda o: o.proposal is not None),
]


@pytest.mark.parametrize(("name", "state", "way"), WAYS, ids=[name for name, _, _ in WAYS])
def test_every_way_into_every_state_comes_out(
    name: str, state: OrderState, way: Callable[[Order], bool]
) -> None:
    """Cancelled by each reason, complete by approval, the review window or a CX agent,
    disputed from each active state, and more: each is drawn, not built."""
    found = find(strategies.orders(state), way, settings=FIND)
    assert found.state is state


def test_without_an_acceptance_window_no_order_expires() -> None:
    """Orders follow the policy they are drawn under."""

    @settings(max_examples=60, database=None)
    @given(strategies.orders(OrderState.cancelled, policy=Policy()))
    def check(order: Order) -> None:
        assert order.cancellation is not None
        assert order.cancellation.reason is not CancellationReason.expired

    check()


def test_bad_arguments_are_refused() -> None:
    """An unknown state or currency, no state at all, a policy or order of the wrong type:
    ``ValidationError`` naming the argument, before anything is drawn."""
    with pytest.raises(ValidationError, match="state"):
        strategies.orders("shipped")
    with pytest.raises(ValidationError, match="state"):
        strategies.orders([])
    with pytest.raises(ValidationError, match="policy"):
        strategies.orders(policy="strict")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="order"):
        strategies.commands("o1")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="currency"):
        strategies.money("XYZ")
