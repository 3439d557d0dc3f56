"""``DeskRules`` finds broken desks: each invariant of spec section 13 has a desk that
breaks it, and the shipped rules catch it within a few runs.

Each broken desk is a small subclass of a real one, as a host's bug would be.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from order_lifecycle import (
    Action,
    ActionNotAvailable,
    Actor,
    Listing,
    ManualClock,
    Money,
    Order,
    OrderDesk,
    Policy,
    core,
)
from order_lifecycle.adapters.memory import MemoryStore
from order_lifecycle.core.api import ActionOption
from order_lifecycle.core.events import Event
from order_lifecycle.ports import Write
from order_lifecycle.testing import DeskRules, desk_rules

LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)

#: Enough runs to find each of these bugs; no shrinking, which would only take longer.
HUNT = settings(
    max_examples=200,
    stateful_step_count=30,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)


def hunt(make_desk: Callable[[ManualClock], OrderDesk]) -> AssertionError:
    """Run ``DeskRules`` on desks from ``make_desk``; the assertion that failed."""

    class Rules(DeskRules):
        def make_desk(self, clock: ManualClock) -> OrderDesk:
            return make_desk(clock)

    with pytest.raises(AssertionError) as failed:
        run_state_machine_as_test(Rules, settings=HUNT)
    return failed.value


class SilentStore(MemoryStore):
    """Loses the notifications of every write."""

    def write(self, write: Write) -> None:
        super().write(attrs.evolve(write, notifications=()))


class Boastful(OrderDesk):
    """Lists approving as available whatever the order."""

    def actions(self, order_id: str, *, viewer: Actor | str, tz: str = "UTC") -> list[ActionOption]:
        shown = super().actions(order_id, viewer=viewer, tz=tz)
        return [ActionOption(o.action, True) if o.action == "approve" else o for o in shown]


class Lazy(OrderDesk):
    """Fires no timer."""

    def tick(self, now: object = None, *, limit: int = 1000) -> list[Event]:
        return []


class Stubborn(OrderDesk):
    """Refuses every delivery with a reason of its own."""

    def execute(
        self,
        order_id: str,
        command: core.Command,
        *,
        by: Actor | str,
        idempotency_key: str | None = None,
    ) -> Order:
        if isinstance(command, core.Deliver):
            raise ActionNotAvailable("deliver", "The courier is on strike.", order_id)
        return super().execute(order_id, command, by=by, idempotency_key=idempotency_key)


def test_a_healthy_desk_passes() -> None:
    """The real desk, as shipped, breaks no invariant."""

    class Rules(DeskRules):
        pass

    run_state_machine_as_test(Rules, settings=settings(HUNT, max_examples=30))


def test_lost_notifications_are_caught() -> None:
    """A store that drops outbox rows fails the consistency of each order."""
    failed = hunt(lambda clock: OrderDesk(SilentStore(), clock=clock))
    assert "outbox" in str(failed)


def test_listing_an_action_that_is_refused_is_caught() -> None:
    """``actions`` and the command disagree: caught on the first refused approval."""
    failed = hunt(lambda clock: Boastful(MemoryStore(), clock=clock))
    assert "listed available" in str(failed)


def test_timers_that_never_fire_are_caught() -> None:
    """A ``tick`` that fires nothing leaves timers due: caught after the clock moves."""
    policy = Policy()
    failed = hunt(lambda clock: Lazy(MemoryStore(), clock=clock, policy=policy))
    assert "due_at" in str(failed) or "DueTimer" in str(failed)


def test_a_refusal_the_options_do_not_give_is_caught() -> None:
    """A command refused for a reason ``actions`` did not give, or while listed available."""
    hunt(lambda clock: Stubborn(MemoryStore(), clock=clock))


def test_the_answers_to_what_is_open_are_drawn_as_often_as_the_moves_on() -> None:
    """``progress`` weights, read from the table: a row that answers an open proposal,
    request or question (a guard refuses it when that part is not open) 4, as a move on;
    ending the order 2; staying 1 (the chat, opening a proposal)."""
    weights = desk_rules._WEIGHT
    answers = {
        Action.accept_update,
        Action.reject_update,
        Action.withdraw_update,
        Action.accept_cancellation,
        Action.decline_cancellation,
        Action.withdraw_cancellation,
        Action.provide_info,
    }
    assert {action for action, weight in weights.items() if weight == 4} == answers | {
        Action.accept,
        Action.deliver,
        Action.request_revision,
        Action.dispute,
        Action.resolve,
    }
    assert weights[Action.say] == weights[Action.propose_update] == 1
    assert weights[Action.decline] == weights[Action.approve] == 2


def test_a_run_whose_orders_ended_places_a_fresh_one() -> None:
    """``place`` is allowed while fewer than ``max_orders`` orders are open, up to four
    times as many in all: a run does not end up chatting on ended orders only."""

    class Rules(DeskRules):
        pass

    rules = Rules()
    allowed = Rules.may_place
    try:
        for _ in range(Rules.max_orders):
            rules.place(listing=LISTING)
        assert not allowed(rules)
        for order_id in rules.order_ids[:2]:
            rules.desk.decline(order_id, by=rules.seller)
        rules.terminal_states_never_change()  # what runs after every step
        assert allowed(rules)
        while allowed(rules):
            rules.place(listing=LISTING)
            rules.desk.decline(rules.order_ids[-1], by=rules.seller)
            rules.terminal_states_never_change()
        assert len(rules.order_ids) == 4 * Rules.max_orders
    finally:
        rules.teardown()
