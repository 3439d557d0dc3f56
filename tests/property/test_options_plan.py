"""``options`` works out once what the state and role fix; the answer must not change.

The reference is the table read rule by rule: ``blockers`` runs every guard of every
rule, the way ``options`` answered before its answers were planned per (state, role,
open parts). Orders come from the test kit's random paths (every state, every way into
it), and some carry parts their state never has on a real path (an open proposal on a
complete order, a question on a cancelled one), so that a guard's declaration of where
it can object (``Guard.states``, ``roles``, ``reads``) is held to its code, not to the
lifecycle's habits.
"""

from __future__ import annotations

from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from order_lifecycle import Actor, Listing, Money, Order, OrderState, Policy, Role, core
from order_lifecycle.core import guards
from order_lifecycle.core.api import ActionOption, make_context
from order_lifecycle.core.model import (
    CancellationRequest,
    ContractProposal,
    InfoRequest,
    OrderReview,
)
from order_lifecycle.core.table import RULES
from order_lifecycle.testing import strategies
from order_lifecycle.testing.paths import POLICY

_POLICIES = (POLICY, core.DEFAULT_POLICY, Policy(on_cancellation_silence="reject"))


def _reference(
    order: Order, actor: Actor, now: pendulum.DateTime, policy: Policy, tz: str
) -> list[ActionOption]:
    """Every rule's blockers, joined as ``options`` joins them."""
    ctx = make_context(order, actor, now, policy, tz)
    answer: list[ActionOption] = []
    for rule in RULES:
        found = guards.blockers(rule, ctx)
        if found:
            answer.append(ActionOption(rule.action, False, " ".join(found)))
        else:
            answer.append(ActionOption(rule.action, True, None))
    return answer


@st.composite
def _odd(draw: st.DrawFn, order: Order) -> Order:
    """``order`` with open parts it may not have on a real path (each or not)."""
    at = order.updated_at
    role = draw(st.sampled_from([Role.buyer, Role.seller]))
    by = order.buyer if role is Role.buyer else order.seller
    changes: dict[str, Any] = {}
    if draw(st.booleans()):
        changes["proposal"] = ContractProposal(
            by=by,
            role=role,
            at=at,
            price=draw(st.sampled_from([None, Money("120.00", order.contract.price.currency)])),
            revisions=draw(st.sampled_from([None, 0, 5])),
            expires_at=draw(st.sampled_from([None, at.add(days=1)])),
        )
    if draw(st.booleans()):
        changes["cancellation_request"] = CancellationRequest(
            by=by,
            role=role,
            reason="Plans changed",
            at=at,
            expires_at=draw(st.sampled_from([None, at.add(days=1), at.subtract(days=1)])),
        )
    if draw(st.booleans()):
        changes["info_request"] = InfoRequest("Which handle?", at, at.add(days=7))
    if draw(st.booleans()):
        changes["reviews"] = (OrderReview(by=by, role=role, rating=4, at=at),)
    return attrs.evolve(order, **changes) if changes else order


#: An order, everyone who might ask about it, instants to ask at, a policy and a zone.
Asked = tuple[Order, list[Actor], list[pendulum.DateTime], Policy, str]


@st.composite
def _asked(draw: st.DrawFn) -> Asked:
    policy = draw(st.sampled_from(_POLICIES))
    order = draw(strategies.orders(policy=POLICY))
    if draw(st.booleans()):
        order = draw(_odd(order))
    cast = [
        Actor.buyer(order.buyer),
        Actor.seller(order.seller),
        *(Actor.cx(agent) for agent in (*order.agents, "dave")),
        Actor.system(),
    ]
    due = [t.due_at for t in core.due_timers(order, policy) if t.due_at >= order.updated_at]
    later = order.updated_at.add(hours=draw(st.integers(0, 24 * 40)))
    tz = draw(st.sampled_from(["UTC", "Asia/Kolkata"]))
    return order, cast, [order.updated_at, later, *due], policy, tz


@given(_asked())
def test_options_answers_as_every_rules_blockers(asked: Asked) -> None:
    order, cast, instants, policy, tz = asked
    for actor in cast:
        for now in instants:
            got = core.options(order, actor=actor, now=now, policy=policy, tz=tz)
            assert got == _reference(order, actor, now, policy, tz), (actor, now)


@given(_asked())
def test_every_guard_answers_as_it_declares(asked: Asked) -> None:
    """Where a guard says its answer is fixed (by the state, the role and the open
    parts), its check gives that answer."""
    order, cast, instants, policy, tz = asked
    parts = guards.open_parts(order)
    for actor in cast:
        for now in instants:
            ctx = make_context(order, actor, now, policy, tz)
            for rule in RULES:
                for guard in rule.guards:
                    fixed, answer = guard.fixed(order.state, actor.role, parts)
                    if fixed:
                        assert guard.check(ctx) == answer, (rule.action, guard.doc, actor)


@given(_asked())
def test_decides_plan_answers_as_blockers(asked: Asked) -> None:
    """``decide`` checks availability by the plan for every open part (one per action,
    state and role): the same reason as ``blockers``, or none."""
    order, cast, instants, policy, tz = asked
    for actor in cast:
        for now in instants:
            ctx = make_context(order, actor, now, policy, tz)
            for rule in RULES:
                steps = guards.plan(rule, order.state, actor.role, guards.ALL_PARTS)
                found = guards.blockers(rule, ctx)
                expected = " ".join(found) if found else None
                assert guards.reasons(steps, ctx) == expected, (rule.action, actor)


def test_open_parts_name_each_part() -> None:
    order = core.place(
        buyer="alice",
        seller="bob",
        listing=Listing("Post", Money("10.00", "USD"), pendulum.duration(days=1), 1),
        now=pendulum.datetime(2026, 12, 1, tz="UTC"),
        order_id="o1",
    ).order
    assert guards.open_parts(order) == 0
    at = order.updated_at
    opened = attrs.evolve(
        order,
        proposal=ContractProposal(by="alice", role=Role.buyer, at=at, revisions=3),
        reviews=(OrderReview(by="bob", role=Role.seller, rating=5, at=at),),
    )
    bits = guards.open_parts(opened)
    assert bits == 1 << guards.PARTS.index("proposal") | 1 << guards.PARTS.index("reviews")


def test_a_guard_reads_a_known_part() -> None:
    with pytest.raises(ValueError, match="dispute"):
        guards.Guard("odd", lambda ctx: None, reads="dispute")


def test_the_plan_of_a_quiet_order_runs_few_guards() -> None:
    """For an order with nothing open, most of every rule's answer is fixed: in a
    complete order, for the buyer, three checks are left to run among the table's rules."""
    left = [
        step
        for rule in RULES
        for step in guards.plan(rule, OrderState.complete, Role.buyer, 0)
        if not isinstance(step, str)
    ]
    assert len(left) == 3
