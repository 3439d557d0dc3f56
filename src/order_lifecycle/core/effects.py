"""Effects: what each action does to the order, once the machine has moved it.

An effect is a pure function ``(ctx, command, state) -> (order, event)``: ``state`` is
the destination the ``transitions`` machine reached. Every effect records exactly one
event and bumps the order's version by one, so ``order.version`` is the length of its
history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import attrs

from order_lifecycle.core import commands as c
from order_lifecycle.core import events as e
from order_lifecycle.core.context import Context
from order_lifecycle.core.model import (
    ACTIVE_STATES,
    Action,
    Cancellation,
    CancellationReason,
    CompletionReason,
    Contract,
    ContractProposal,
    Delivery,
    DisputeCase,
    Order,
    OrderState,
    Outcome,
    Timer,
    replace_order,
)
from order_lifecycle.core.values import shift

__all__ = ["EFFECTS", "Effect", "delivery_due"]

Effect = Callable[[Context, Any, OrderState], tuple[Order, e.Event]]

#: The states in which the contract can change; leaving them voids an open proposal.


def _step(ctx: Context, state: OrderState, **changes: Any) -> tuple[Order, dict[str, Any]]:
    """The order one version on, in ``state``; and the fields every event shares."""
    order = ctx.order
    voided = order.proposal is not None and state not in ACTIVE_STATES and "proposal" not in changes
    if voided:
        changes["proposal"] = None
    seq = order.version + 1
    changes["state"] = state
    changes["version"] = seq
    changes["updated_at"] = ctx.now
    new = replace_order(order, changes)
    common = {
        "order_id": order.id,
        "seq": seq,
        "actor": ctx.actor,
        "at": ctx.now,
        "state": state,
        "voided_proposal": voided,
    }
    return new, common


def _accept(ctx: Context, cmd: c.Accept, state: OrderState) -> tuple[Order, e.Event]:
    due = shift(ctx.now, ctx.order.listing.delivery)
    old = ctx.order.contract
    # The contract's fields have no converters: building it is ``attrs.evolve`` without
    # the walk over its fields.
    contract = Contract(price=old.price, revisions=old.revisions, due_at=due, version=old.version)
    order, common = _step(ctx, state, accepted_at=ctx.now, contract=contract)
    return order, e.OrderAccepted(action=Action.accept, due_at=due, **common)


def _cancellation(ctx: Context, reason: CancellationReason, note: str = "") -> Cancellation:
    return Cancellation(by=ctx.actor, reason=reason, at=ctx.now, note=note)


def _decline(ctx: Context, cmd: c.Decline, state: OrderState) -> tuple[Order, e.Event]:
    cancellation = _cancellation(ctx, CancellationReason.declined, cmd.reason)
    order, common = _step(ctx, state, cancellation=cancellation)
    return order, e.OrderDeclined(action=Action.decline, reason=cmd.reason, **common)


def _withdraw(ctx: Context, cmd: c.Withdraw, state: OrderState) -> tuple[Order, e.Event]:
    cancellation = _cancellation(ctx, CancellationReason.withdrawn, cmd.reason)
    order, common = _step(ctx, state, cancellation=cancellation)
    return order, e.OrderWithdrawn(action=Action.withdraw, reason=cmd.reason, **common)


def _expire(ctx: Context, cmd: c.Expire, state: OrderState) -> tuple[Order, e.Event]:
    window = ctx.policy.acceptance_window
    assert window is not None  # the guard holds: the window is set
    due = shift(ctx.order.placed_at, window)
    order, common = _step(ctx, state, cancellation=_cancellation(ctx, CancellationReason.expired))
    return order, e.OrderExpired(action=Action.expire, due_at=due, **common)


def _deliver(ctx: Context, cmd: c.Deliver, state: OrderState) -> tuple[Order, e.Event]:
    review_due = shift(ctx.now, ctx.policy.review_window)
    delivery = Delivery(at=ctx.now, files=cmd.attachments, outside=cmd.outside, note=cmd.note)
    order, common = _step(
        ctx,
        state,
        deliveries=(*ctx.order.deliveries, delivery),
        delivered_at=ctx.now,
        review_due_at=review_due,
    )
    event = e.ContentDelivered(
        action=Action.deliver,
        files=cmd.attachments,
        outside=cmd.outside,
        note=cmd.note,
        review_due_at=review_due,
        **common,
    )
    return order, event


def _approve(ctx: Context, cmd: c.Approve, state: OrderState) -> tuple[Order, e.Event]:
    order, common = _step(ctx, state, completed_at=ctx.now, completion=CompletionReason.approved)
    return order, e.DeliveryApproved(action=Action.approve, **common)


def _request_revision(
    ctx: Context, cmd: c.RequestRevision, state: OrderState
) -> tuple[Order, e.Event]:
    used = ctx.order.revisions_used + 1
    order, common = _step(ctx, state, revisions_used=used, review_due_at=None)
    event = e.RevisionRequested(
        action=Action.request_revision,
        note=cmd.note,
        revisions_used=used,
        revisions_allowed=ctx.order.contract.revisions,
        **common,
    )
    return order, event


def _auto_complete(ctx: Context, cmd: c.AutoComplete, state: OrderState) -> tuple[Order, e.Event]:
    due = ctx.order.review_due_at
    assert due is not None  # delivered orders always have a review deadline
    order, common = _step(
        ctx, state, completed_at=ctx.now, completion=CompletionReason.review_window_elapsed
    )
    return order, e.OrderAutoCompleted(action=Action.auto_complete, due_at=due, **common)


def _propose_update(ctx: Context, cmd: c.ProposeUpdate, state: OrderState) -> tuple[Order, e.Event]:
    proposal = ContractProposal(
        by=ctx.actor.id,
        role=ctx.actor.role,
        at=ctx.now,
        price=cmd.money,
        due_at=cmd.due_at,
        revisions=cmd.revisions,
    )
    order, common = _step(ctx, state, proposal=proposal)
    event = e.UpdateProposed(
        action=Action.propose_update,
        price=cmd.money,
        due_at=cmd.due_at,
        revisions=cmd.revisions,
        **common,
    )
    return order, event


def _accept_update(ctx: Context, cmd: c.AcceptUpdate, state: OrderState) -> tuple[Order, e.Event]:
    proposal = ctx.order.proposal
    assert proposal is not None  # the guard holds: a proposal is open
    old = ctx.order.contract
    contract = attrs.evolve(
        old,
        price=old.price if proposal.price is None else proposal.price,
        due_at=old.due_at if proposal.due_at is None else proposal.due_at,
        revisions=old.revisions if proposal.revisions is None else proposal.revisions,
        version=old.version + 1,
    )
    order, common = _step(ctx, state, contract=contract, proposal=None)
    return order, e.UpdateAccepted(action=Action.accept_update, contract=contract, **common)


def _reject_update(ctx: Context, cmd: c.RejectUpdate, state: OrderState) -> tuple[Order, e.Event]:
    order, common = _step(ctx, state, proposal=None)
    return order, e.UpdateRejected(action=Action.reject_update, **common)


def _withdraw_update(
    ctx: Context, cmd: c.WithdrawUpdate, state: OrderState
) -> tuple[Order, e.Event]:
    order, common = _step(ctx, state, proposal=None)
    return order, e.UpdateWithdrawn(action=Action.withdraw_update, **common)


def _dispute(ctx: Context, cmd: c.Dispute, state: OrderState) -> tuple[Order, e.Event]:
    source = ctx.order.state
    dispute = DisputeCase(opened_by=ctx.actor, reason=cmd.reason, from_state=source, at=ctx.now)
    order, common = _step(ctx, state, dispute=dispute, review_due_at=None)
    event = e.OrderDisputed(action=Action.dispute, reason=cmd.reason, from_state=source, **common)
    return order, event


def _join(ctx: Context, cmd: c.Join, state: OrderState) -> tuple[Order, e.Event]:
    order = ctx.order
    agent = ctx.actor.id
    agents = order.agents if agent in order.agents else (*order.agents, agent)
    changes: dict[str, Any] = {"agents": agents}
    if order.state is OrderState.disputed:
        assert order.dispute is not None
        changes["dispute"] = attrs.evolve(order.dispute, agent=agent, joined_at=ctx.now)
    else:
        assert order.cancellation is not None
        changes["cancellation"] = attrs.evolve(order.cancellation, agent=agent, joined_at=ctx.now)
    new, common = _step(ctx, state, **changes)
    return new, e.AgentJoined(action=Action.join, agent=agent, **common)


def _resolve(ctx: Context, cmd: c.Resolve, state: OrderState) -> tuple[Order, e.Event]:
    order = ctx.order
    assert order.dispute is not None
    outcome = Outcome(cmd.outcome)
    changes: dict[str, Any] = {
        "dispute": attrs.evolve(order.dispute, outcome=outcome, resolved_at=ctx.now)
    }
    review_due = None
    if outcome is Outcome.resume and state is OrderState.delivered:
        review_due = shift(ctx.now, ctx.policy.review_window)
        changes["review_due_at"] = review_due
    elif outcome is Outcome.complete:
        changes["completed_at"] = ctx.now
        changes["completion"] = CompletionReason.resolved_by_cx
    elif outcome is Outcome.cancel:
        changes["cancellation"] = Cancellation(
            by=ctx.actor,
            reason=CancellationReason.cancelled_by_cx,
            at=ctx.now,
            note=cmd.note,
            agent=ctx.actor.id,
            joined_at=order.dispute.joined_at,
        )
    new, common = _step(ctx, state, **changes)
    event = e.DisputeResolved(
        action=Action.resolve, outcome=outcome, note=cmd.note, review_due_at=review_due, **common
    )
    return new, event


def _cancel(ctx: Context, cmd: c.Cancel, state: OrderState) -> tuple[Order, e.Event]:
    cancellation = _cancellation(ctx, CancellationReason.cancelled, cmd.reason)
    order, common = _step(ctx, state, cancellation=cancellation, review_due_at=None)
    return order, e.OrderCancelled(action=Action.cancel, reason=cmd.reason, **common)


def _say(ctx: Context, cmd: c.Say, state: OrderState) -> tuple[Order, e.Event]:
    order, common = _step(ctx, state)
    return order, e.MessagePosted(action=Action.say, text=cmd.text, files=cmd.attachments, **common)


def delivery_due(ctx: Context, state: OrderState) -> tuple[Order, e.Event]:
    """The delivery-due timer: a one-time notice that the delivery date passed."""
    due = ctx.order.contract.due_at
    assert due is not None
    order, common = _step(ctx, state, due_notice_for=due)
    return order, e.DeliveryDatePassed(action=Timer.delivery_due, due_at=due, **common)


EFFECTS: Final[dict[Action, Effect]] = {
    Action.accept: _accept,
    Action.decline: _decline,
    Action.withdraw: _withdraw,
    Action.expire: _expire,
    Action.deliver: _deliver,
    Action.approve: _approve,
    Action.request_revision: _request_revision,
    Action.auto_complete: _auto_complete,
    Action.propose_update: _propose_update,
    Action.accept_update: _accept_update,
    Action.reject_update: _reject_update,
    Action.withdraw_update: _withdraw_update,
    Action.dispute: _dispute,
    Action.join: _join,
    Action.resolve: _resolve,
    Action.cancel: _cancel,
    Action.say: _say,
}
