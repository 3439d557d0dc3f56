"""The spec's lifecycle table, read by hand: who may take which action, when.

Written from SPEC.md sections 4 and 11 without importing the core's table or guards, so that a
mistake in the table cannot hide behind itself. Shared by the core's and the desk's
authorization tests.
"""

from __future__ import annotations

from collections.abc import Callable

import pendulum

from order_lifecycle import Action, Actor, Money, Order, Policy, core

from support import AGENT, BUYER, SELLER, attachment

ACTORS: dict[str, Actor] = {
    "buyer": Actor.buyer(BUYER),
    "seller": Actor.seller(SELLER),
    "stranger": Actor.buyer("mallory"),
    "cx_joined": Actor.cx(AGENT),
    "cx_other": Actor.cx("dave"),
    "system": Actor.system(),
}

VALID: dict[Action, Callable[[], core.Command]] = {
    Action.accept: core.Accept,
    Action.decline: lambda: core.Decline(reason="Fully booked"),
    Action.withdraw: core.Withdraw,
    Action.expire: core.Expire,
    Action.deliver: lambda: core.Deliver(files=[attachment()]),
    Action.approve: core.Approve,
    Action.request_revision: lambda: core.RequestRevision(note="Warmer colours"),
    Action.auto_complete: core.AutoComplete,
    Action.propose_update: lambda: core.ProposeUpdate(price=Money("175.00", "USD")),
    Action.accept_update: core.AcceptUpdate,
    Action.reject_update: core.RejectUpdate,
    Action.withdraw_update: core.WithdrawUpdate,
    Action.dispute: lambda: core.Dispute(reason="Something is wrong"),
    Action.join: core.Join,
    Action.resolve: lambda: core.Resolve(outcome="complete", note="Settled"),
    Action.cancel: lambda: core.Cancel(reason="Too late"),
    Action.say: lambda: core.Say(text="Hello"),
    Action.request_info: lambda: core.RequestInfo(question="Which handle?"),
    Action.provide_info: lambda: core.ProvideInfo(answer="@alice"),
    Action.settle: lambda: core.Settle(refund=Money("50.00", "USD"), note="Half back"),
    Action.request_cancellation: lambda: core.RequestCancellation(reason="Plans changed"),
    Action.accept_cancellation: core.AcceptCancellation,
    Action.decline_cancellation: core.DeclineCancellation,
    Action.withdraw_cancellation: core.WithdrawCancellation,
    Action.review: lambda: core.Review(rating=5, text="Lovely work"),
}

ACTIVE = {"accepted", "delivered", "revision"}


def expected(
    action: Action, order: Order, who: str, now: pendulum.DateTime, policy: Policy
) -> bool:
    """The spec's table, read by hand: may ``who`` take ``action`` on ``order`` at ``now``?"""
    state = order.state.value
    party = who in ("buyer", "seller")
    proposal = order.proposal
    # Section 11: the order's own terms (pinned when placed) decide its deadlines; an
    # order from before lifecycle 2 has none and follows the policy.
    terms = order.terms if order.terms is not None else policy
    paused = order.info_request is not None
    due = order.contract.due_at
    past_due = state in ("accepted", "revision") and due is not None and now >= due and not paused
    if action is Action.accept or action is Action.decline:
        return state == "pending" and who == "seller"
    if action is Action.withdraw:
        return state == "pending" and who == "buyer"
    if action is Action.expire:
        window = terms.acceptance_window
        assert terms.calendar is None  # the scenarios count clock time only
        return (
            state == "pending"
            and who == "system"
            and window is not None
            and now >= order.placed_at + window
        )
    if action is Action.deliver:
        return state in ("accepted", "revision") and who == "seller"
    if action is Action.approve:
        return state == "delivered" and who == "buyer"
    if action is Action.request_revision:
        return (
            state == "delivered"
            and who == "buyer"
            and order.revisions_used < order.contract.revisions
        )
    if action is Action.auto_complete:
        due = order.review_due_at
        return state == "delivered" and who == "system" and due is not None and now >= due
    if action is Action.propose_update:
        return state in ACTIVE and party and proposal is None
    if action in (Action.accept_update, Action.reject_update):
        return state in ACTIVE and party and proposal is not None and proposal.role.value != who
    if action is Action.withdraw_update:
        return state in ACTIVE and party and proposal is not None and proposal.role.value == who
    if action is Action.dispute:
        return state in ACTIVE and party
    if action is Action.join:
        if not who.startswith("cx"):
            return False
        if state == "disputed":
            return order.dispute is not None and order.dispute.agent is None
        cancellation = order.cancellation
        return (
            state == "cancelled"
            and cancellation is not None
            and cancellation.reason.value == "cancelled"
            and cancellation.agent is None
        )
    if action is Action.resolve:
        return (
            state == "disputed"
            and order.dispute is not None
            and order.dispute.agent == ACTORS[who].id
            and who.startswith("cx")
        )
    if action is Action.cancel:
        exhausted = state == "delivered" and order.revisions_used >= order.contract.revisions
        return state in ACTIVE and party and (past_due or exhausted)
    if action is Action.say:
        return party or (who.startswith("cx") and ACTORS[who].id in order.agents)
    if action is Action.request_info:
        return state in ("accepted", "revision") and who == "seller" and not paused and not past_due
    if action is Action.provide_info:
        return state in ("accepted", "revision") and who == "buyer" and paused
    return _section_12(action, order, who, now, policy)


def _section_12(
    action: Action, order: Order, who: str, now: pendulum.DateTime, policy: Policy
) -> bool:
    """Spec section 12, read by hand: settlement, mutual cancellation and reviews."""
    state = order.state.value
    party = who in ("buyer", "seller")
    request = order.cancellation_request
    if action is Action.settle:
        cancellation = order.cancellation
        return (
            state == "cancelled"
            and who.startswith("cx")
            and cancellation is not None
            and cancellation.reason.value == "cancelled"
            and cancellation.agent == ACTORS[who].id
            and order.settlement is None
        )
    if action is Action.request_cancellation:
        return state in ACTIVE and party and request is None
    if action in (Action.accept_cancellation, Action.decline_cancellation):
        if state not in ACTIVE or request is None:
            return False
        if party:
            return request.role.value != who
        silence = "accept" if action is Action.accept_cancellation else "reject"
        return (
            who == "system"
            and request.expires_at is not None
            and now >= request.expires_at
            and (order.terms or policy.terms).on_cancellation_silence == silence
        )
    if action is Action.withdraw_cancellation:
        return state in ACTIVE and party and request is not None and request.role.value == who
    if action is Action.review:
        done = order.completed_at
        return (
            state == "complete"
            and party
            and done is not None
            and now < done + policy.review_period
            and all(r.role.value != who for r in order.reviews)
        )
    raise AssertionError(f"no oracle for {action}")
