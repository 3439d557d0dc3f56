"""Effects: what each action does to the order, once the machine has moved it.

An effect is a pure function ``(ctx, command, state) -> (order, event)``: ``state`` is
the destination the ``transitions`` machine reached. Every effect records exactly one
event and bumps the order's version by one, so ``order.version`` is the length of its
history.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any, Final

import attrs
import pendulum

from order_lifecycle.core import commands as c
from order_lifecycle.core import events as e
from order_lifecycle.core import guards as g
from order_lifecycle.core import values
from order_lifecycle.core.context import Context
from order_lifecycle.core.due import DueTimer
from order_lifecycle.core.model import (
    ACTIVE_STATES,
    Action,
    Cancellation,
    CancellationReason,
    CancellationRequest,
    CompletionReason,
    Contract,
    ContractProposal,
    Delivery,
    DisputeCase,
    InfoRequest,
    Money,
    Order,
    OrderReview,
    OrderState,
    Outcome,
    Role,
    Settlement,
    Timer,
    replace_order,
)
from order_lifecycle.core.terms import Deadline, SentReminder
from order_lifecycle.core.values import shift

__all__ = [
    "EFFECTS",
    "REMINDED",
    "TIMER_EFFECTS",
    "Effect",
    "TimerEffect",
    "delivery_due",
    "publish_reviews",
    "settlement",
    "settles",
]

Effect = Callable[[Context, Any, OrderState], tuple[Order, e.Event]]
#: What a timer that fires no action of the table does: ``(ctx, state, timer)``.
TimerEffect = Callable[[Context, OrderState, DueTimer], tuple[Order, e.Event]]

#: The states where the delivery clock runs (and can be paused).
_CLOCK_STATES: Final = (OrderState.accepted, OrderState.revision)


def _resumed(ctx: Context, until: pendulum.DateTime) -> tuple[Contract, pendulum.Duration]:
    """The contract once the paused delivery clock resumes at ``until``: due later by
    exactly the time paused (never more than the pause's limit), in clock time under a
    calendar too: a measured pause is not a deadline given in days (spec §11)."""
    request = ctx.order.info_request
    assert request is not None  # only a paused clock resumes
    end = min(until, request.resume_by)
    paused = _duration(end - request.at)
    old = ctx.order.contract
    due = old.due_at
    if due is not None and paused:
        due = values.shift(due, paused)
    contract = Contract(price=old.price, revisions=old.revisions, due_at=due, version=old.version)
    return contract, paused


def _duration(delta: _dt.timedelta) -> pendulum.Duration:
    return pendulum.duration(
        days=delta.days, seconds=delta.seconds, microseconds=delta.microseconds
    )


def _step(ctx: Context, state: OrderState, **changes: Any) -> tuple[Order, dict[str, Any]]:
    """The order one version on, in ``state``; and the fields every event shares.

    Leaving the active states voids an open proposal and an open cancellation request;
    leaving accepted and revision
    (a delivery, a dispute) ends a paused delivery clock, due later by the time paused.
    """
    order = ctx.order
    voided = order.proposal is not None and state not in ACTIVE_STATES and "proposal" not in changes
    if voided:
        changes["proposal"] = None
    if order.info_request is not None and state not in _CLOCK_STATES:
        changes["contract"], _ = _resumed(ctx, ctx.now)
        changes["info_request"] = None
    dropped = (
        order.cancellation_request is not None
        and state not in ACTIVE_STATES
        and "cancellation_request" not in changes
    )
    if dropped:
        changes["cancellation_request"] = None
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
    if dropped:
        common["voided_cancellation"] = True
    return new, common


def _accept(ctx: Context, cmd: c.Accept, state: OrderState) -> tuple[Order, e.Event]:
    due = ctx.terms.shift(ctx.now, ctx.order.listing.delivery)
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
    window = ctx.terms.acceptance_window
    assert window is not None  # the guard holds: the window is set
    due = ctx.terms.shift(ctx.order.placed_at, window)
    order, common = _step(ctx, state, cancellation=_cancellation(ctx, CancellationReason.expired))
    return order, e.OrderExpired(action=Action.expire, due_at=due, **common)


def _deliver(ctx: Context, cmd: c.Deliver, state: OrderState) -> tuple[Order, e.Event]:
    review_due = ctx.terms.shift(ctx.now, ctx.terms.review_window)
    # The due date in force when delivered (a paused clock resumes first): on time or not.
    # Orders placed under an earlier lifecycle deliver as they did, without it.
    contract = ctx.order.contract
    if ctx.order.info_request is not None:
        contract, _ = _resumed(ctx, ctx.now)
    files = cmd.attachments
    delivery = Delivery(
        at=ctx.now,
        files=files,
        outside=cmd.outside,
        note=cmd.note,
        due_at=contract.due_at if settles(ctx.order) else None,
    )
    order, common = _step(
        ctx,
        state,
        deliveries=(*ctx.order.deliveries, delivery),
        review_due_at=review_due,
    )
    event = e.ContentDelivered(
        action=Action.deliver,
        files=files,
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
    window = ctx.terms.proposal_window
    expires = None if window is None else ctx.terms.shift(ctx.now, window)
    proposal = ContractProposal(
        by=ctx.actor.id,
        role=ctx.actor.role,
        at=ctx.now,
        price=cmd.money,
        due_at=cmd.due_at,
        revisions=cmd.revisions,
        expires_at=expires,
    )
    order, common = _step(ctx, state, proposal=proposal)
    event = e.UpdateProposed(
        action=Action.propose_update,
        price=cmd.money,
        due_at=cmd.due_at,
        revisions=cmd.revisions,
        expires_at=expires,
        **common,
    )
    return order, event


def _updated_contract(ctx: Context) -> Contract:
    proposal = ctx.order.proposal
    assert proposal is not None  # the guard holds: a proposal is open
    old = ctx.order.contract
    return attrs.evolve(
        old,
        price=old.price if proposal.price is None else proposal.price,
        due_at=old.due_at if proposal.due_at is None else proposal.due_at,
        revisions=old.revisions if proposal.revisions is None else proposal.revisions,
        version=old.version + 1,
    )


def _accept_update(ctx: Context, cmd: c.AcceptUpdate, state: OrderState) -> tuple[Order, e.Event]:
    contract = _updated_contract(ctx)
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
    settled = None
    refund = cmd.refund_money
    # An order placed under an earlier lifecycle is settled only with a refund given: its
    # resolutions recorded before stay what they were (replayed, they record no money).
    if outcome is not Outcome.resume and (refund is not None or settles(order)):
        default = order.contract.price if outcome is Outcome.cancel else None
        settled = settlement(ctx, refund, default, cmd.note)
        changes["settlement"] = settled
    if outcome is Outcome.resume and state is OrderState.delivered:
        review_due = ctx.terms.shift(ctx.now, ctx.terms.review_window)
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
        action=Action.resolve,
        outcome=outcome,
        note=cmd.note,
        review_due_at=review_due,
        refund=None if settled is None else settled.refund,
        payout=None if settled is None else settled.payout,
        **common,
    )
    return new, event


def _cancel(ctx: Context, cmd: c.Cancel, state: OrderState) -> tuple[Order, e.Event]:
    cancellation = _cancellation(ctx, CancellationReason.cancelled, cmd.reason)
    order, common = _step(ctx, state, cancellation=cancellation, review_due_at=None)
    return order, e.OrderCancelled(action=Action.cancel, reason=cmd.reason, **common)


def _say(ctx: Context, cmd: c.Say, state: OrderState) -> tuple[Order, e.Event]:
    order, common = _step(ctx, state)
    return order, e.MessagePosted(action=Action.say, text=cmd.text, files=cmd.attachments, **common)


def _request_info(ctx: Context, cmd: c.RequestInfo, state: OrderState) -> tuple[Order, e.Event]:
    resume_by = shift(ctx.now, ctx.terms.max_pause)
    request = InfoRequest(question=cmd.question, at=ctx.now, resume_by=resume_by)
    order, common = _step(ctx, state, info_request=request)
    event = e.InfoRequested(
        action=Action.request_info, question=cmd.question, resume_by=resume_by, **common
    )
    return order, event


def _provide_info(ctx: Context, cmd: c.ProvideInfo, state: OrderState) -> tuple[Order, e.Event]:
    contract, paused = _resumed(ctx, ctx.now)
    order, common = _step(ctx, state, contract=contract, info_request=None)
    assert contract.due_at is not None  # accepted and revision orders have a due date
    event = e.InfoProvided(
        action=Action.provide_info,
        answer=cmd.answer,
        paused=paused,
        delivery_due_at=contract.due_at,
        **common,
    )
    return order, event


def delivery_due(ctx: Context, state: OrderState, timer: DueTimer) -> tuple[Order, e.Event]:
    """The delivery-due timer: a one-time notice that the delivery date passed."""
    due = ctx.order.contract.due_at
    assert due is not None
    order, common = _step(ctx, state, due_notice_for=due)
    return order, e.DeliveryDatePassed(action=Timer.delivery_due, due_at=due, **common)


def _proposal_silence(ctx: Context, state: OrderState, timer: DueTimer) -> tuple[Order, e.Event]:
    """An unanswered contract update closes: accepted if the terms say so and it still
    fits the order (revisions, a due date still ahead when the window ended: a late tick
    decides as a timely one would), else expired."""
    proposal = ctx.order.proposal
    assert proposal is not None  # armed only while a proposal is open
    reason = ""
    if ctx.terms.on_proposal_silence == "accept":
        reason = g.proposal_fits.check(ctx) or ""
        if not reason and proposal.due_at is not None and proposal.due_at <= timer.due_at:
            when = g.when(ctx, proposal.due_at)
            reason = f"The proposed delivery date, {when}, has already passed."
        if not reason:
            contract = _updated_contract(ctx)
            order, common = _step(ctx, state, contract=contract, proposal=None)
            accepted = e.UpdateAccepted(
                action=Timer.proposal_window, contract=contract, due_at=timer.due_at, **common
            )
            return order, accepted
    order, common = _step(ctx, state, proposal=None)
    expired = e.UpdateExpired(
        action=Timer.proposal_window, due_at=timer.due_at, reason=reason, **common
    )
    return order, expired


def _escalate(ctx: Context, state: OrderState, timer: DueTimer) -> tuple[Order, e.Event]:
    dispute = ctx.order.dispute
    assert dispute is not None  # armed only while a dispute is open
    escalated = attrs.evolve(dispute, escalated_at=ctx.now)
    order, common = _step(ctx, state, dispute=escalated)
    event = e.DisputeEscalated(
        action=Timer.dispute_window, due_at=timer.due_at, agent=dispute.agent, **common
    )
    return order, event


def _info_timed_out(ctx: Context, state: OrderState, timer: DueTimer) -> tuple[Order, e.Event]:
    contract, paused = _resumed(ctx, timer.due_at)
    order, common = _step(ctx, state, contract=contract, info_request=None)
    assert contract.due_at is not None  # accepted and revision orders have a due date
    event = e.InfoTimedOut(
        action=Timer.max_pause,
        due_at=timer.due_at,
        paused=paused,
        delivery_due_at=contract.due_at,
        **common,
    )
    return order, event


#: Lifecycles placed before settlement and delivery due dates were recorded.
_BEFORE_SETTLEMENT: Final = frozenset({"1", "2"})


def settles(order: Order) -> bool:
    """Whether ``order`` was placed under a lifecycle that settles a resolution by default
    and records each delivery's due date (version 3 on)."""
    return order.lifecycle not in _BEFORE_SETTLEMENT


def settlement(
    ctx: Context, refund: Money | None, default: Money | None, note: str = ""
) -> Settlement:
    """The money of the order settled now: ``refund`` to the buyer (``default`` when not
    given: ``None`` is nothing), at most the price in force; the rest paid to the seller."""
    price = ctx.order.contract.price
    if refund is None:
        refund = Money(0, price.currency) if default is None else default
    if refund.amount > price.amount:  # the price went down since it was asked for
        refund = price
    payout = Money(price.amount - refund.amount, price.currency)
    return Settlement(refund=refund, payout=payout, by=ctx.actor, at=ctx.now, note=note)


def _settle(ctx: Context, cmd: c.Settle, state: OrderState) -> tuple[Order, e.Event]:
    settled = settlement(ctx, cmd.refund_money, None, cmd.note)
    order, common = _step(ctx, state, settlement=settled)
    event = e.OrderSettled(
        action=Action.settle,
        refund=settled.refund,
        payout=settled.payout,
        note=cmd.note,
        **common,
    )
    return order, event


def _request_cancellation(
    ctx: Context, cmd: c.RequestCancellation, state: OrderState
) -> tuple[Order, e.Event]:
    window = ctx.terms.cancellation_window
    expires = None if window is None else ctx.terms.shift(ctx.now, window)
    request = CancellationRequest(
        by=ctx.actor.id,
        role=ctx.actor.role,
        reason=cmd.reason,
        at=ctx.now,
        refund=cmd.refund_money,
        expires_at=expires,
    )
    order, common = _step(ctx, state, cancellation_request=request)
    event = e.CancellationRequested(
        action=Action.request_cancellation,
        reason=cmd.reason,
        refund=cmd.refund_money,
        expires_at=expires,
        **common,
    )
    return order, event


def _silence_due(ctx: Context) -> pendulum.DateTime | None:
    request = ctx.order.cancellation_request
    return request.expires_at if ctx.actor.role is Role.system and request is not None else None


def _accept_cancellation(
    ctx: Context, cmd: c.AcceptCancellation, state: OrderState
) -> tuple[Order, e.Event]:
    request = ctx.order.cancellation_request
    assert request is not None  # the guard holds: a request is open
    settled = settlement(ctx, request.refund, ctx.order.contract.price, request.reason)
    cancellation = Cancellation(
        by=ctx.actor, reason=CancellationReason.mutual, at=ctx.now, note=request.reason
    )
    order, common = _step(
        ctx,
        state,
        cancellation=cancellation,
        cancellation_request=None,
        settlement=settled,
        review_due_at=None,
    )
    event = e.CancellationAccepted(
        action=Action.accept_cancellation,
        refund=settled.refund,
        payout=settled.payout,
        due_at=_silence_due(ctx),
        **common,
    )
    return order, event


def _decline_cancellation(
    ctx: Context, cmd: c.DeclineCancellation, state: OrderState
) -> tuple[Order, e.Event]:
    due = _silence_due(ctx)
    order, common = _step(ctx, state, cancellation_request=None)
    return order, e.CancellationDeclined(action=Action.decline_cancellation, due_at=due, **common)


def _withdraw_cancellation(
    ctx: Context, cmd: c.WithdrawCancellation, state: OrderState
) -> tuple[Order, e.Event]:
    order, common = _step(ctx, state, cancellation_request=None)
    return order, e.CancellationWithdrawn(action=Action.withdraw_cancellation, **common)


def _review(ctx: Context, cmd: c.Review, state: OrderState) -> tuple[Order, e.Event]:
    order = ctx.order
    review = OrderReview(
        by=ctx.actor.id, role=ctx.actor.role, rating=cmd.rating, at=ctx.now, text=cmd.text
    )
    reviews = (*order.reviews, review)
    changes: dict[str, Any] = {"reviews": reviews}
    published: tuple[OrderReview, ...] = ()
    if len({r.role for r in reviews}) == 2 and order.reviews_published_at is None:
        published = reviews  # both reviewed: double-blind no more
        changes["reviews_published_at"] = ctx.now
    new, common = _step(ctx, state, **changes)
    event = e.ReviewLeft(
        action=Action.review, rating=cmd.rating, text=cmd.text, published=published, **common
    )
    return new, event


def publish_reviews(ctx: Context, state: OrderState, timer: DueTimer) -> tuple[Order, e.Event]:
    """The review-period timer: the review period ended; the review left is published."""
    new, common = _step(ctx, state, reviews_published_at=ctx.now)
    event = e.ReviewsPublished(
        action=Timer.review_period, due_at=timer.due_at, reviews=ctx.order.reviews, **common
    )
    return new, event


def _proposal_counterparty(order: Order) -> tuple[str, Role] | None:
    proposal = order.proposal
    if proposal is None:
        return None
    if proposal.role is Role.buyer:
        return order.seller, Role.seller
    return order.buyer, Role.buyer


def _cancellation_counterparty(order: Order) -> tuple[str, Role] | None:
    request = order.cancellation_request
    if request is None:
        return None
    if request.role is Role.buyer:
        return order.seller, Role.seller
    return order.buyer, Role.buyer


#: Who a reminder of each deadline goes to: the one party who must act before it.
REMINDED: Final[dict[Deadline, Callable[[Order], tuple[str, Role] | None]]] = {
    Deadline.delivery: lambda order: (order.seller, Role.seller),
    Deadline.review: lambda order: (order.buyer, Role.buyer),
    Deadline.acceptance: lambda order: (order.seller, Role.seller),
    Deadline.proposal: _proposal_counterparty,
    Deadline.cancellation: _cancellation_counterparty,
}


def _remind(ctx: Context, state: OrderState, timer: DueTimer) -> tuple[Order, e.Event]:
    deadline, at, before = timer.deadline, timer.deadline_at, timer.before
    # A reminder's DueTimer always names its deadline, the deadline's instant and lead.
    assert deadline is not None
    assert at is not None
    assert before is not None
    party = REMINDED[deadline](ctx.order)
    assert party is not None  # armed only while its deadline is
    sent = SentReminder(deadline, at, before)
    order, common = _step(ctx, state, reminders_sent=(*ctx.order.reminders_sent, sent))
    event = e.ReminderSent(
        action=Timer.reminder,
        due_at=timer.due_at,
        deadline=deadline,
        deadline_at=at,
        before=before,
        recipient=party[0],
        role=party[1],
        **common,
    )
    return order, event


#: The effects of the timers that fire no action of the table (a notice, state unchanged).
TIMER_EFFECTS: Final[dict[Timer, TimerEffect]] = {
    Timer.delivery_due: delivery_due,
    Timer.proposal_window: _proposal_silence,
    Timer.dispute_window: _escalate,
    Timer.max_pause: _info_timed_out,
    Timer.reminder: _remind,
    Timer.review_period: publish_reviews,
}


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
    Action.request_info: _request_info,
    Action.provide_info: _provide_info,
    Action.settle: _settle,
    Action.request_cancellation: _request_cancellation,
    Action.accept_cancellation: _accept_cancellation,
    Action.decline_cancellation: _decline_cancellation,
    Action.withdraw_cancellation: _withdraw_cancellation,
    Action.review: _review,
}
