"""The order chatbot: for each state and role, the next step, with its deadline in words.

The prompt is computed for the viewer at a given instant; it is never stored. Under a
working-day calendar a deadline also says how many working days are left; a paused
delivery clock is named as such; a party who was reminded of the deadline in force reads
"Reminder:" first.
"""

from __future__ import annotations

import datetime as _dt
from typing import Final

from order_lifecycle.core import values
from order_lifecycle.core.api import DEFAULT_POLICY, due_timers, make_context
from order_lifecycle.core.context import Context
from order_lifecycle.core.model import Actor, CancellationReason, Order, OrderState, Policy, Role
from order_lifecycle.core.terms import Deadline

__all__ = ["next_step"]


def _deadline(ctx: Context, at: _dt.datetime) -> str:
    when = f"{values.human_instant(at, ctx.tz)} ({values.human_relative(at, ctx.now)}"
    calendar = ctx.terms.calendar
    if calendar is None or at <= ctx.now:
        return when + ")"
    days = calendar.working_days_between(ctx.now, at)
    return f"{when}; {days} working day{'' if days == 1 else 's'})"


def _reminded(ctx: Context, deadline: Deadline, at: _dt.datetime | None) -> bool:
    """The viewer was sent a reminder of ``deadline`` at its value ``at``."""
    return at is not None and any(
        sent.deadline is deadline and sent.at == at for sent in ctx.order.reminders_sent
    )


def _remind(ctx: Context, deadline: Deadline, at: _dt.datetime | None, text: str) -> str:
    return f"Reminder: {text}" if _reminded(ctx, deadline, at) else text


def _paused_step(ctx: Context) -> str:
    order, role = ctx.order, ctx.actor.role
    request = order.info_request
    assert request is not None
    question = " ".join(request.question.split())
    latest = values.human_instant(request.resume_by, ctx.tz)
    if role is Role.seller:
        text = (
            f"You asked the buyer: “{question}”. The delivery clock is paused until they "
            f"answer, or until {latest} at the latest; then delivery is due later by the "
            "time paused."
        )
    else:
        text = (
            f"{order.seller} asked you: “{question}”. Answer it (provide info): the delivery "
            f"clock is paused until you do, or until {latest} at the latest."
        )
    for mark in ".!?":  # a question that ends its own sentence needs no second stop
        text = text.replace(f"{mark}”.", f"{mark}”")
    return text


def _proposal_line(ctx: Context) -> str | None:
    proposal = ctx.order.proposal
    if proposal is None:
        return None
    terms: list[str] = []
    if proposal.price is not None:
        terms.append(f"price {proposal.price}")
    if proposal.due_at is not None:
        terms.append(f"due {values.human_instant(proposal.due_at, ctx.tz)}")
    if proposal.revisions is not None:
        terms.append(f"{proposal.revisions} revisions")
    summary = ", ".join(terms)
    expires = proposal.expires_at
    closes = ""
    if expires is not None:
        then = "accepted" if ctx.terms.on_proposal_silence == "accept" else "rejected"
        closes = f" by {_deadline(ctx, expires)}, or it is {then} automatically"
    if ctx.actor.role is proposal.role:
        if expires is not None:
            closes = f" until {_deadline(ctx, expires)}"
        return f"Your contract update ({summary}) is waiting for the other party's answer{closes}."
    if ctx.actor.role in (Role.buyer, Role.seller):
        line = f"The {proposal.role} proposed a contract update ({summary}): accept or reject it"
        return _remind(ctx, Deadline.proposal, expires, f"{line}{closes}.")
    return None


def _cancellation_line(ctx: Context) -> str | None:
    request = ctx.order.cancellation_request
    if request is None or ctx.actor.role not in (Role.buyer, Role.seller):
        return None
    refund = "the whole price" if request.refund is None else str(request.refund)
    by = ""
    if request.expires_at is not None:
        by = f" by {_deadline(ctx, request.expires_at)}"
    if ctx.actor.role is request.role:
        return f"Your request to cancel ({refund} back to the buyer) waits for an answer{by}."
    return (
        f"The {request.role} asked to cancel the order, with {refund} back to the buyer: "
        f"accept or decline{by}."
    )


def _review_step(ctx: Context, title: str) -> str:
    order = ctx.order
    done = f"The order is complete. {title} is done"
    if order.completed_at is None:
        return done + " — nothing more to do."
    ends = values.shift(order.completed_at, ctx.policy.review_period)
    mine = any(r.role is ctx.actor.role for r in order.reviews)
    if mine or ctx.now >= ends:
        return done + " — nothing more to do."
    other = "seller" if ctx.actor.role is Role.buyer else "buyer"
    return f"{done}. Review the {other} (a rating from 1 to 5) by {_deadline(ctx, ends)}."


def _party_step(ctx: Context) -> str:
    order, now, role = ctx.order, ctx.now, ctx.actor.role
    title = f"«{order.listing.title}»"
    state = order.state
    due = order.contract.due_at
    if state is OrderState.pending:
        window = ctx.terms.acceptance_window
        if window is not None and now >= ctx.terms.shift(order.placed_at, window):
            return _answer_time_ended(ctx, ctx.terms.shift(order.placed_at, window))
        if role is Role.seller:
            text = f"New order for {title}. Review the buyer's answers, then accept or decline."
            if window is not None:
                deadline = ctx.terms.shift(order.placed_at, window)
                text += f" Answer by {_deadline(ctx, deadline)}, or it expires."
                return _remind(ctx, Deadline.acceptance, deadline, text)
            return text
        text = f"Waiting for {order.seller} to accept or decline {title}."
        if window is None:
            return text + " You can withdraw the order until then."
        deadline = ctx.terms.shift(order.placed_at, window)
        return text + (
            f" You can withdraw the order until then; unanswered, it expires on "
            f"{_deadline(ctx, deadline)}."
        )
    if state in (OrderState.accepted, OrderState.revision):
        assert due is not None
        if order.info_request is not None:
            return _paused_step(ctx)
        redo = state is OrderState.revision
        if order.is_past_due(now):
            if role is Role.seller:
                return (
                    f"The delivery date passed on {values.human_instant(due, ctx.tz)}. Deliver "
                    "now or propose a new date; either of you may now cancel the order."
                )
            return (
                f"The delivery date passed on {values.human_instant(due, ctx.tz)}. You can "
                "cancel the order, propose a new date, or dispute it."
            )
        if role is Role.seller:
            what = "the revised content" if redo else "your content for " + title
            return _remind(ctx, Deadline.delivery, due, f"Deliver {what} by {_deadline(ctx, due)}.")
        what = "the revised delivery" if redo else f"{order.seller}'s delivery of {title}"
        return f"Waiting for {what}, due {_deadline(ctx, due)}."
    if state is OrderState.delivered:
        review = order.review_due_at
        assert review is not None
        when = values.human_instant(review, ctx.tz)
        if ctx.terms.calendar is not None:
            when = _deadline(ctx, review)
        if now >= review:
            return _review_ended(ctx, when)
        if role is Role.buyer:
            if order.revisions_exhausted:
                text = (
                    f"Review the delivery: approve it by {when} — after that it completes "
                    "automatically. No revisions are left: you can also cancel the order."
                )
            else:
                left, allowed = order.revisions_left, order.contract.revisions
                text = (
                    f"Review the delivery: approve it or request a revision ({left} of "
                    f"{allowed} left) by {when} — after that it completes automatically."
                )
            return _remind(ctx, Deadline.review, review, text)
        text = (
            f"Delivered. The buyer reviews it until {_deadline(ctx, review)}; "
            "it completes automatically then."
        )
        return text + (_SELLER_MAY_CANCEL if order.revisions_exhausted else "")
    if state is OrderState.disputed:
        dispute = order.dispute
        assert dispute is not None
        if dispute.agent is None:
            return (
                "The order is disputed. A customer experience agent has been alerted and "
                "will join this chat as soon as possible."
            )
        return f"CX agent {dispute.agent} has joined to resolve the dispute. Reply here."
    if state is OrderState.complete:
        return _review_step(ctx, title)
    return _cancelled_step(ctx)


#: The seller's prompt in ``delivered`` once no revision is left (cancel is open).
_SELLER_MAY_CANCEL: Final = " No revisions are left: you can also cancel the order."


def _answer_time_ended(ctx: Context, deadline: _dt.datetime) -> str:
    """A pending order whose acceptance window ended before a worker fired its timer: the
    seller may still answer (the spec's guards), and the order expires at the next tick."""
    when = values.human_instant(deadline, ctx.tz)
    if ctx.actor.role is Role.seller:
        return (
            f"The time to answer ended on {when}; the order expires shortly unless you "
            "accept or decline it first."
        )
    return (
        f"The time for {ctx.order.seller} to answer ended on {when}; the order expires "
        "shortly unless they accept or decline it first. You can still withdraw it."
    )


def _review_ended(ctx: Context, when: str) -> str:
    """A delivered order whose review window ended before a worker fired its timer: the
    buyer may still answer (the spec's guards), and the order completes at the next tick."""
    order = ctx.order
    ended = f"The review window ended on {when}; the order completes automatically shortly."
    if ctx.actor.role is Role.seller:
        return "Delivered. " + ended + (_SELLER_MAY_CANCEL if order.revisions_exhausted else "")
    if order.revisions_exhausted:
        return ended + " Until then you can still approve it or cancel the order."
    left, allowed = order.revisions_left, order.contract.revisions
    return (
        f"{ended} Until then you can still approve it or request a revision ({left} of "
        f"{allowed} left)."
    )


def _cancelled_step(ctx: Context) -> str:
    cancellation = ctx.order.cancellation
    assert cancellation is not None
    reason = cancellation.reason
    if reason is CancellationReason.cancelled and cancellation.agent is None:
        return "The order is cancelled. A customer experience agent will join to settle the money."
    text = {
        CancellationReason.declined: "The seller declined the order.",
        CancellationReason.withdrawn: "The buyer withdrew the order.",
        CancellationReason.expired: "The order expired: the seller did not answer in time.",
        CancellationReason.cancelled: "The order is cancelled.",
        CancellationReason.cancelled_by_cx: "A CX agent cancelled the order.",
        CancellationReason.mutual: "The order was cancelled by mutual consent.",
    }[reason]
    settled = ctx.order.settlement
    if settled is not None:
        text += f" {settled.refund} goes back to the buyer, {settled.payout} to the seller."
    return text + " Nothing more to do."


def _cx_step(ctx: Context) -> str:
    order, agent = ctx.order, ctx.actor.id
    if order.state is OrderState.disputed:
        dispute = order.dispute
        assert dispute is not None
        if dispute.agent is None:
            return f"Join the chat to resolve the dispute: {dispute.reason}"
        if dispute.agent == agent:
            return "Resolve the dispute: resume, complete or cancel the order, with a note."
        return f"CX agent {dispute.agent} handles this dispute."
    cancellation = order.cancellation
    if (
        order.state is OrderState.cancelled
        and cancellation is not None
        and cancellation.reason is CancellationReason.cancelled
    ):
        if cancellation.agent is None:
            return "Join the chat to settle the money of this cancelled order."
        if ctx.order.settlement is not None:
            return f"The money is settled: {ctx.order.settlement.refund} back to the buyer."
        if cancellation.agent == agent:
            price = ctx.order.contract.price
            return (
                "Settle the money of this cancelled order with both parties: the refund to "
                f"the buyer (0 to {price}); the rest is paid to the seller."
            )
    return f"Nothing for the CX team to do: the order is {order.state}."


def _system_step(ctx: Context) -> str:
    armed = due_timers(ctx.order, ctx.policy)
    if not armed:
        return "No timer is armed on this order."
    steps: list[str] = []
    for t in armed:
        step = f"{t.timer} fires {t.action} at {_deadline(ctx, t.due_at)}"
        if t.deadline is not None and t.deadline_at is not None:
            step += (
                f", before the {t.deadline} deadline {values.human_instant(t.deadline_at, ctx.tz)}"
            )
        steps.append(step)
    return "; ".join(steps)


def next_step(
    order: Order,
    *,
    actor: Actor | str,
    now: object,
    policy: Policy = DEFAULT_POLICY,
    tz: str = "UTC",
) -> str:
    """The chatbot's prompt for ``actor`` now: the next step and its deadline, in words.

    A plain user id is the order's buyer or seller with that id.
    """
    ctx = make_context(order, actor, now, policy, values.check_zone(tz))
    role = ctx.actor.role
    if role is Role.cx_agent:
        return _cx_step(ctx)
    if role is Role.system:
        return _system_step(ctx)
    step = _party_step(ctx)
    active = order.state in (OrderState.accepted, OrderState.delivered, OrderState.revision)
    lines = [_proposal_line(ctx), _cancellation_line(ctx)] if active else []
    return " ".join([line for line in lines if line is not None] + [step])
