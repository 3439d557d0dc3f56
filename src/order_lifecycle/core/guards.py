"""Guards: the conditions on state, role and time that make an action available.

A guard is a pure function of the :class:`Context` that returns ``None`` when its
condition holds, or a sentence a person can act on when it does not. The table (see
``table.py``) lists the guards of each action; :func:`blockers` runs them all and is the
one rule behind both ``options`` (what may I do, and why not) and ``decide`` (do it).
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Collection, Hashable
from typing import Final, Protocol

import attrs

from order_lifecycle.core import values
from order_lifecycle.core.context import Context
from order_lifecycle.core.model import ACTIVE_STATES, Action, CancellationReason, OrderState, Role

__all__ = [
    "Guard",
    "RuleShape",
    "acceptance_window_elapsed",
    "blockers",
    "cancel_allowed",
    "cancellation_counterparty",
    "cancellation_requested",
    "cancellation_requester",
    "cancellation_silence_accepts",
    "cancellation_silence_rejects",
    "clock_running",
    "counterparty",
    "info_requested",
    "joined_agent",
    "no_agent_yet",
    "no_cancellation_request",
    "no_open_proposal",
    "not_reviewed_yet",
    "proposal_fits",
    "proposal_open",
    "proposer",
    "review_open",
    "review_window_elapsed",
    "revisions_left",
    "say_allowed",
    "settlement_open",
    "when",
]


@attrs.frozen
class Guard:
    """A named condition; ``doc`` is how the generated lifecycle table shows it."""

    doc: str
    check: Callable[[Context], str | None]

    def __call__(self, ctx: Context) -> str | None:
        return self.check(ctx)


#: How each action reads in a sentence ("Only the seller can {accept the order}.").
VERB: Final[dict[Action, str]] = {
    Action.place: "place an order",
    Action.accept: "accept the order",
    Action.decline: "decline the order",
    Action.withdraw: "withdraw the order",
    Action.expire: "expire the order",
    Action.deliver: "deliver content",
    Action.approve: "approve the delivery",
    Action.request_revision: "request a revision",
    Action.auto_complete: "auto-complete the order",
    Action.propose_update: "propose a contract update",
    Action.accept_update: "accept a contract update",
    Action.reject_update: "reject a contract update",
    Action.withdraw_update: "withdraw a contract update",
    Action.dispute: "dispute the order",
    Action.join: "join the conversation",
    Action.resolve: "resolve the dispute",
    Action.cancel: "cancel the order",
    Action.say: "post a message",
    Action.request_info: "ask the buyer for information",
    Action.provide_info: "answer the seller's question",
    Action.settle: "settle the money",
    Action.request_cancellation: "ask to cancel the order",
    Action.accept_cancellation: "accept the cancellation request",
    Action.decline_cancellation: "decline the cancellation request",
    Action.withdraw_cancellation: "withdraw the cancellation request",
    Action.review: "review the other party",
}

_ROLE_NAMES: Final[dict[Role, str]] = {
    Role.buyer: "the buyer",
    Role.seller: "the seller",
    Role.cx_agent: "a CX agent",
    Role.system: "the system",
}


def when(ctx: Context, at: _dt.datetime) -> str:
    """An instant in words, in the viewer's zone: ``Tue 1 Dec 2026 10:00 UTC``."""
    return values.human_instant(at, ctx.tz)


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


class RuleShape(Hashable, Protocol):
    """What the sentences and ``blockers`` read of a row of the table
    (:class:`~order_lifecycle.core.table.Rule`, which holds these guards)."""

    @property
    def action(self) -> Action: ...
    @property
    def roles(self) -> Collection[Role]: ...
    @property
    def sources(self) -> Collection[OrderState]: ...
    @property
    def guards(self) -> tuple[Guard, ...]: ...


@functools.cache  # static per rule: computed once
def role_sentence(rule: RuleShape) -> str:
    """``Only the seller can accept the order.``"""
    names = [_ROLE_NAMES[r] for r in Role if r in rule.roles]
    sentence = f"Only {_or(names)} can {VERB[rule.action]}"
    if rule.roles == frozenset({Role.system}):
        sentence += ": it happens by itself when its time comes"
    return sentence + "."


@functools.cache  # static per rule and state: computed once
def state_sentence(rule: RuleShape, state: OrderState) -> str:
    """Why the order's state does not allow the action."""
    if rule.action is Action.place:
        return "This order is already placed; placing starts a new order."
    if state.is_terminal and rule.action is Action.review:
        return "Reviews are left once the order is complete; this one is cancelled."
    if state.is_terminal and rule.action is Action.settle:
        return "The money is settled here only once the order is cancelled."
    if state.is_terminal:
        return f"The order is {state}: only messages can be posted now."
    if rule.action is Action.review:
        return f"The order is {state}; reviews are left once it is complete."
    if rule.action is Action.settle:
        return (
            f"The order is {state}; the money of an order is settled here only once a party "
            "cancelled it (a dispute settles it when resolved)."
        )
    if state is OrderState.disputed:
        return "The order is disputed and frozen until a CX agent resolves the dispute."
    allowed = _or([str(s) for s in OrderState if s in rule.sources])
    return f"The order is {state}; you can {VERB[rule.action]} only when it is {allowed}."


def blockers(rule: RuleShape, ctx: Context) -> list[str]:
    """Every unmet condition of ``rule`` for this context, as sentences (empty: available)."""
    reasons: list[str] = []
    if ctx.actor.role not in rule.roles:
        reasons.append(role_sentence(rule))
    if ctx.order.state not in rule.sources:
        reasons.append(state_sentence(rule, ctx.order.state))
    for guard in rule.guards:
        reason = guard.check(ctx)
        if reason is not None:
            reasons.append(reason)
    return reasons


def _acceptance_window_elapsed(ctx: Context) -> str | None:
    window = ctx.terms.acceptance_window
    if window is None:
        return "This marketplace has no acceptance window, so orders never expire."
    deadline = ctx.terms.shift(ctx.order.placed_at, window)
    if ctx.now < deadline:
        return f"The order expires only if the seller has not answered by {when(ctx, deadline)}."
    return None


acceptance_window_elapsed: Final = Guard(
    "`Policy.acceptance_window` set and elapsed since placed_at", _acceptance_window_elapsed
)


def _review_window_elapsed(ctx: Context) -> str | None:
    due = ctx.order.review_due_at
    if ctx.order.state is OrderState.delivered and due is not None and ctx.now < due:
        return f"The review window ends on {when(ctx, due)}; the order completes then."
    return None


review_window_elapsed: Final = Guard("now ≥ review_due_at", _review_window_elapsed)


def _revisions_left(ctx: Context) -> str | None:
    order = ctx.order
    if not order.revisions_exhausted:
        return None
    if order.contract.revisions == 0:
        return (
            "The contract includes no revisions; approve the delivery, or propose a contract "
            "update that adds revisions."
        )
    count = order.contract.revisions
    used = "The one revision" if count == 1 else f"All {count} revisions"
    verb = "is" if count == 1 else "are"
    return (
        f"{used} in the contract {verb} used; approve the delivery, or propose a contract "
        "update that adds revisions."
    )


revisions_left: Final = Guard("revisions not exhausted", _revisions_left)


def _no_open_proposal(ctx: Context) -> str | None:
    proposal = ctx.order.proposal
    if proposal is None:
        return None
    return (
        f"A contract update proposed by the {proposal.role} is waiting for an answer; it must "
        "be accepted, rejected or withdrawn first."
    )


no_open_proposal: Final = Guard("no open proposal", _no_open_proposal)


def _proposal_open(ctx: Context) -> str | None:
    if ctx.order.proposal is None:
        return "There is no open contract update."
    return None


proposal_open: Final = Guard("proposal open", _proposal_open)


def _counterparty(ctx: Context) -> str | None:
    proposal = ctx.order.proposal
    if proposal is None or ctx.actor.role not in (Role.buyer, Role.seller):
        return None
    if ctx.actor.role is proposal.role:
        other = "seller" if proposal.role is Role.buyer else "buyer"
        return f"You proposed this contract update; the {other} answers it."
    return None


counterparty: Final = Guard("actor is the other party of the proposal", _counterparty)


def _proposer(ctx: Context) -> str | None:
    proposal = ctx.order.proposal
    if proposal is None or ctx.actor.role not in (Role.buyer, Role.seller):
        return None
    if ctx.actor.role is not proposal.role:
        return (
            f"Only the {proposal.role}, who proposed this contract update, can withdraw it; "
            "you can accept or reject it."
        )
    return None


proposer: Final = Guard("actor proposed it", _proposer)


def _proposal_fits(ctx: Context) -> str | None:
    proposal = ctx.order.proposal
    used = ctx.order.revisions_used
    if proposal is None or proposal.revisions is None or proposal.revisions >= used:
        return None
    return (
        f"The proposal allows {proposal.revisions} revisions but {used} are already used; "
        "reject it and propose new terms."
    )


proposal_fits: Final = Guard("proposed revisions ≥ revisions_used", _proposal_fits)


def _no_agent_yet(ctx: Context) -> str | None:
    order = ctx.order
    if order.state is OrderState.disputed and order.dispute is not None:
        if order.dispute.agent is not None:
            return f"CX agent {order.dispute.agent} has already joined this dispute."
        return None
    if order.state is OrderState.cancelled:
        cancellation = order.cancellation
        if cancellation is None or cancellation.reason is not CancellationReason.cancelled:
            return (
                "A CX agent joins a cancelled order only when a party cancelled it, to settle "
                "the money; this one was not."
            )
        if cancellation.agent is not None:
            return f"CX agent {cancellation.agent} has already joined to settle the money."
    return None


no_agent_yet: Final = Guard(
    "no agent joined yet (a cancelled order: only one that `cancel` cancelled)", _no_agent_yet
)


def _joined_agent(ctx: Context) -> str | None:
    dispute = ctx.order.dispute
    if ctx.order.state is not OrderState.disputed or dispute is None:
        return None
    if dispute.agent is None:
        return "A CX agent must join the conversation before resolving the dispute."
    if ctx.actor.role is Role.cx_agent and dispute.agent != ctx.actor.id:
        return f"CX agent {dispute.agent} handles this dispute; only they can resolve it."
    return None


joined_agent: Final = Guard("actor is the CX agent who joined", _joined_agent)


def _cancel_allowed(ctx: Context) -> str | None:
    order = ctx.order
    state = order.state
    if state not in ACTIVE_STATES:
        return None
    if order.is_past_due(ctx.now):
        return None
    if state is OrderState.delivered and order.revisions_exhausted:
        return None
    revisions = order.contract.revisions
    if revisions == 0:
        used = "the delivery is in review (the contract includes no revisions)"
    elif revisions == 1:
        used = "the one revision is used"
    else:
        used = f"all {revisions} revisions are used"
    if state is OrderState.delivered:
        return (
            f"Cancel becomes available when {used} ({order.revisions_used} used so far); "
            "until then, request a revision, approve, or dispute the order."
        )
    due = order.contract.due_at
    assert due is not None  # accepted and revision orders always have a due date
    request = order.info_request
    if request is not None:
        return (
            "The delivery clock is paused while the seller waits for the buyer's answer "
            f"(until {when(ctx, request.resume_by)} at the latest); cancel becomes available "
            f"when the delivery date passes once it runs again, or when {used}."
        )
    return (
        f"Cancel becomes available when the delivery date passes on {when(ctx, due)}, "
        f"or when {used}."
    )


cancel_allowed: Final = Guard(
    "past due, or (state is delivered and revisions exhausted)", _cancel_allowed
)


def _say_allowed(ctx: Context) -> str | None:
    if ctx.actor.role is Role.cx_agent and ctx.actor.id not in ctx.order.agents:
        return "CX agents post in an order's chat only after joining it."
    return None


say_allowed: Final = Guard("a CX agent posts only after joining", _say_allowed)


def _clock_running(ctx: Context) -> str | None:
    order = ctx.order
    request = order.info_request
    if request is not None:
        return (
            f"You asked the buyer a question on {when(ctx, request.at)}; the delivery clock "
            f"resumes when they answer, or by itself on {when(ctx, request.resume_by)}."
        )
    due = order.contract.due_at
    if order.is_past_due(ctx.now) and due is not None:
        return (
            f"The delivery date passed on {when(ctx, due)}: the clock can no longer be "
            "paused; deliver now, or propose a new date."
        )
    return None


clock_running: Final = Guard(
    "no question open; not past due (the delivery clock runs)", _clock_running
)


def _info_requested(ctx: Context) -> str | None:
    if ctx.order.info_request is None:
        return "The seller has not asked you anything; there is no question to answer."
    return None


info_requested: Final = Guard("a question of the seller's is open", _info_requested)


def _settlement_open(ctx: Context) -> str | None:
    order = ctx.order
    if order.state is not OrderState.cancelled:
        return None
    if order.settlement is not None:
        refund = order.settlement.refund
        return f"The money of this order is already settled ({refund} refunded to the buyer)."
    cancellation = order.cancellation
    if cancellation is None or cancellation.reason is not CancellationReason.cancelled:
        return "Only an order a party cancelled is settled this way; this one was not."
    if cancellation.agent is None:
        return "A CX agent must join the conversation before settling the money."
    if ctx.actor.role is Role.cx_agent and cancellation.agent != ctx.actor.id:
        return f"CX agent {cancellation.agent} joined to settle this order; only they can."
    return None


settlement_open: Final = Guard(
    "cancelled by `cancel`, not settled yet; actor is the CX agent who joined", _settlement_open
)


def _no_cancellation_request(ctx: Context) -> str | None:
    request = ctx.order.cancellation_request
    if request is None:
        return None
    return (
        f"A cancellation request from the {request.role} is waiting for an answer; it must be "
        "accepted, declined or withdrawn first."
    )


no_cancellation_request: Final = Guard("no open cancellation request", _no_cancellation_request)


def _cancellation_requested(ctx: Context) -> str | None:
    if ctx.order.cancellation_request is None:
        return "There is no open cancellation request."
    return None


cancellation_requested: Final = Guard("cancellation request open", _cancellation_requested)


def _cancellation_counterparty(ctx: Context) -> str | None:
    request = ctx.order.cancellation_request
    if request is None or ctx.actor.role not in (Role.buyer, Role.seller):
        return None
    if ctx.actor.role is request.role:
        other = "seller" if request.role is Role.buyer else "buyer"
        return f"You asked to cancel; the {other} answers the request."
    return None


cancellation_counterparty: Final = Guard(
    "actor is the other party of the request (or the system, when its window ended)",
    _cancellation_counterparty,
)


def _cancellation_requester(ctx: Context) -> str | None:
    request = ctx.order.cancellation_request
    if request is None or ctx.actor.role not in (Role.buyer, Role.seller):
        return None
    if ctx.actor.role is not request.role:
        return (
            f"Only the {request.role}, who asked to cancel, can withdraw the request; you can "
            "accept or decline it."
        )
    return None


cancellation_requester: Final = Guard("actor asked to cancel", _cancellation_requester)


def _silence(ctx: Context, answer: str) -> str | None:
    """For the system: the request's window ended and silence gives ``answer``."""
    request = ctx.order.cancellation_request
    if ctx.actor.role is not Role.system or request is None:
        return None
    if request.expires_at is None:
        return "This cancellation request has no answer window: it waits for the other party."
    if ctx.now < request.expires_at:
        return (
            f"The cancellation request waits for an answer until {when(ctx, request.expires_at)}."
        )
    if ctx.terms.on_cancellation_silence != answer:
        return f"Silence does not {answer} a cancellation request on this marketplace."
    return None


def _silence_accepts(ctx: Context) -> str | None:
    return _silence(ctx, "accept")


def _silence_rejects(ctx: Context) -> str | None:
    return _silence(ctx, "reject")


cancellation_silence_accepts: Final = Guard(
    "the system: window ended and `Policy.on_cancellation_silence` is accept", _silence_accepts
)
cancellation_silence_rejects: Final = Guard(
    "the system: window ended and `Policy.on_cancellation_silence` is reject", _silence_rejects
)


def _review_open(ctx: Context) -> str | None:
    order = ctx.order
    if order.state is not OrderState.complete or order.completed_at is None:
        return None
    if ctx.actor.role not in (Role.buyer, Role.seller):
        return None
    ends = values.shift(order.completed_at, ctx.policy.review_period)
    if ctx.now >= ends:
        return f"The review period ended on {when(ctx, ends)}."
    return None


review_open: Final = Guard("within `Policy.review_period` of completion", _review_open)


def _not_reviewed_yet(ctx: Context) -> str | None:
    for review in ctx.order.reviews:
        if review.role is ctx.actor.role and review.by == ctx.actor.id:
            return "You already reviewed this order; a review is left once."
    return None


not_reviewed_yet: Final = Guard("actor has not reviewed yet", _not_reviewed_yet)
