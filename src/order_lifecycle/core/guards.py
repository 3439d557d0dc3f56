"""Guards: the conditions on state, role and time that make an action available.

A guard is a pure function of the :class:`Context` that returns ``None`` when its
condition holds, or a sentence a person can act on when it does not. The table (see
``table.py``) lists the guards of each action; :func:`blockers` runs them all and is the
one rule behind both ``options`` (what may I do, and why not) and ``decide`` (do it).

Most of that answer is fixed by the order's state and the actor's role alone: the role
and state sentences, and the guards that cannot object there. Each guard says where it
can object at all (``Guard.states``, ``Guard.roles``) and which open part of the order
it looks at first (``Guard.reads``: a proposal, a cancellation request, a question, the
reviews), with its answer when there is none. :func:`plan` turns that into what is left
to run for an order in a state, an actor of a role and the parts the order has open:
fixed sentences, and the guards that depend on the order, the instant or the policy.
:func:`reasons` runs such a plan; it gives exactly what :func:`blockers` gives.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Collection, Hashable
from typing import Final, Protocol

import attrs

from order_lifecycle.core import values
from order_lifecycle.core.context import Context
from order_lifecycle.core.model import (
    ACTIVE_STATES,
    Action,
    CancellationReason,
    Order,
    OrderState,
    Role,
)

__all__ = [
    "ALL_PARTS",
    "PARTS",
    "Guard",
    "Plan",
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
    "open_parts",
    "plan",
    "proposal_fits",
    "proposal_open",
    "proposer",
    "reasons",
    "review_open",
    "review_window_elapsed",
    "revisions_left",
    "say_allowed",
    "settlement_open",
    "when",
]


#: The parts of an order a guard may read first (``Guard.reads``), each open or not:
#: an open proposal, an open cancellation request, the seller's open question, reviews.
PARTS: Final = ("proposal", "cancellation_request", "info_request", "reviews")
#: Every part open: a plan for these holds for every order (its guards that read a part
#: run, whether the order has it open or not).
ALL_PARTS: Final = (1 << len(PARTS)) - 1


def open_parts(order: Order) -> int:
    """Which of :data:`PARTS` ``order`` has open, as bits (``1 << PARTS.index(part)``)."""
    bits = 0 if order.proposal is None else 1
    if order.cancellation_request is not None:
        bits |= 2
    if order.info_request is not None:
        bits |= 4
    if order.reviews:
        bits |= 8
    return bits


@attrs.frozen
class Guard:
    """A named condition; ``doc`` is how the generated lifecycle table shows it.

    The rest says where the answer is fixed in advance (what :func:`plan` reads; a test
    holds every guard to it): outside ``states`` and ``roles`` the check answers
    ``None`` whatever the order, the instant and the policy (``None``: it may object in
    any state, for any role); when the order has no open ``reads`` (one of
    :data:`PARTS`), it answers ``without``, except in the states ``runs_in``, where it
    still depends on the rest of the order or the instant.
    """

    doc: str
    check: Callable[[Context], str | None]
    states: frozenset[OrderState] | None = None
    roles: frozenset[Role] | None = None
    reads: str | None = attrs.field(default=None)
    without: str | None = None
    runs_in: frozenset[OrderState] = frozenset()

    @reads.validator
    def _known_part(self, _: object, value: str | None) -> None:
        if value is not None and value not in PARTS:
            raise ValueError(f"a guard reads one of {PARTS}, not {value!r}")

    def __call__(self, ctx: Context) -> str | None:
        return self.check(ctx)

    def fixed(self, state: OrderState, role: Role, parts: int) -> tuple[bool, str | None]:
        """``(True, answer)`` when the answer is the same for every order in ``state``
        with ``parts`` open, for every actor of ``role``; ``(False, None)`` when the
        check has to run."""
        if self.states is not None and state not in self.states:
            return True, None
        if self.roles is not None and role not in self.roles:
            return True, None
        if self.reads is None or parts & (1 << PARTS.index(self.reads)):
            return False, None
        if state in self.runs_in:
            return False, None
        return True, self.without


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

_PARTIES: Final = frozenset({Role.buyer, Role.seller})

_ROLE_NAMES: Final[dict[Role, str]] = {
    Role.buyer: "the buyer",
    Role.seller: "the seller",
    Role.cx_agent: "a CX agent",
    Role.system: "the system",
}


def when(ctx: Context, at: _dt.datetime) -> str:
    """An instant in words, in the viewer's zone: ``Tue 1 Dec 2026 10:00 UTC``."""
    return _in_words(at, ctx.tz)


# A deadline reads the same for every order and every call that shows it in one zone:
# worded once (pendulum's zone conversion costs more than the rest of a guard).
_in_words: Final = functools.lru_cache(maxsize=4096)(values.human_instant)


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
    if state is OrderState.complete:
        return "The order is complete: what is left is messages and reviews."
    if state.is_terminal:
        return (
            f"The order is {state}: what is left is messages (and, where a party cancelled "
            "it, a CX agent settling the money)."
        )
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


#: A plan: what :func:`reasons` does for a rule. Each item is a fixed sentence (adjacent
#: ones joined), or a guard's check to run.
Plan = tuple[str | Callable[[Context], str | None], ...]


def plan(rule: RuleShape, state: OrderState, role: Role, parts: int) -> Plan:
    """What is left of :func:`blockers` for an order in ``state`` with ``parts`` open
    (:func:`open_parts`) and an actor of ``role``: the role and state sentences and the
    fixed answers of guards, in order, with the checks that must run between them."""
    items: list[str | Callable[[Context], str | None]] = []
    if role not in rule.roles:
        items.append(role_sentence(rule))
    if state not in rule.sources:
        items.append(state_sentence(rule, state))
    for guard in rule.guards:
        fixed, answer = guard.fixed(state, role, parts)
        if not fixed:
            items.append(guard.check)
        elif answer is not None:
            items.append(answer)
    merged: list[str | Callable[[Context], str | None]] = []
    for item in items:
        if isinstance(item, str) and merged and isinstance(merged[-1], str):
            merged[-1] = f"{merged[-1]} {item}"  # blockers' reasons are joined by a space
        else:
            merged.append(item)
    return tuple(merged)


def reasons(steps: Plan, ctx: Context) -> str | None:
    """Run a :func:`plan`: why the action is unavailable (its sentences joined, as
    ``blockers`` gives them), or ``None`` when it is available."""
    found: list[str] = []
    for step in steps:
        if isinstance(step, str):
            found.append(step)
        else:
            reason = step(ctx)
            if reason is not None:
                found.append(reason)
    if not found:
        return None
    return found[0] if len(found) == 1 else " ".join(found)


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


review_window_elapsed: Final = Guard(
    "now ≥ review_due_at", _review_window_elapsed, states=frozenset({OrderState.delivered})
)


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


no_open_proposal: Final = Guard("no open proposal", _no_open_proposal, reads="proposal")


_NO_PROPOSAL: Final = "There is no open contract update."


def _proposal_open(ctx: Context) -> str | None:
    if ctx.order.proposal is None:
        return _NO_PROPOSAL
    return None


proposal_open: Final = Guard(
    "proposal open", _proposal_open, reads="proposal", without=_NO_PROPOSAL
)


def _counterparty(ctx: Context) -> str | None:
    proposal = ctx.order.proposal
    if proposal is None or ctx.actor.role not in (Role.buyer, Role.seller):
        return None
    if ctx.actor.role is proposal.role:
        other = "seller" if proposal.role is Role.buyer else "buyer"
        return f"You proposed this contract update; the {other} answers it."
    return None


counterparty: Final = Guard(
    "actor is the other party of the proposal", _counterparty, roles=_PARTIES, reads="proposal"
)


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


proposer: Final = Guard("actor proposed it", _proposer, roles=_PARTIES, reads="proposal")


def _proposal_fits(ctx: Context) -> str | None:
    proposal = ctx.order.proposal
    used = ctx.order.revisions_used
    if proposal is None or proposal.revisions is None or proposal.revisions >= used:
        return None
    return (
        f"The proposal allows {proposal.revisions} revisions but {used} are already used; "
        "reject it and propose new terms."
    )


proposal_fits: Final = Guard(
    "proposed revisions ≥ revisions_used", _proposal_fits, reads="proposal"
)


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
    "no agent joined yet (a cancelled order: only one that `cancel` cancelled)",
    _no_agent_yet,
    states=frozenset({OrderState.disputed, OrderState.cancelled}),
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


joined_agent: Final = Guard(
    "actor is the CX agent who joined", _joined_agent, states=frozenset({OrderState.disputed})
)


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
        meanwhile = (
            "request a revision, approve, or dispute the order"
            if ctx.actor.role is Role.buyer
            else "the buyer reviews the delivery, and you can dispute the order"
        )
        return (
            f"Cancel becomes available when {used} ({order.revisions_used} used so far); "
            f"until then, {meanwhile}."
        )
    if revisions and order.revisions_exhausted:  # already true here: the next delivery opens it
        used = "the seller delivers again (no revision is left)"
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
    "past due, or (state is delivered and revisions exhausted)",
    _cancel_allowed,
    states=frozenset(ACTIVE_STATES),
)


def _say_allowed(ctx: Context) -> str | None:
    if ctx.actor.role is Role.cx_agent and ctx.actor.id not in ctx.order.agents:
        return "CX agents post in an order's chat only after joining it."
    return None


say_allowed: Final = Guard(
    "a CX agent posts only after joining", _say_allowed, roles=frozenset({Role.cx_agent})
)


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
    "no question open; not past due (the delivery clock runs)",
    _clock_running,
    reads="info_request",
    runs_in=frozenset({OrderState.accepted, OrderState.revision}),  # past due
)


_NO_QUESTION: Final = "The seller has not asked you anything; there is no question to answer."


def _info_requested(ctx: Context) -> str | None:
    if ctx.order.info_request is None:
        return _NO_QUESTION
    return None


info_requested: Final = Guard(
    "a question of the seller's is open",
    _info_requested,
    reads="info_request",
    without=_NO_QUESTION,
)


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
    "cancelled by `cancel`, not settled yet; actor is the CX agent who joined",
    _settlement_open,
    states=frozenset({OrderState.cancelled}),
)


def _no_cancellation_request(ctx: Context) -> str | None:
    request = ctx.order.cancellation_request
    if request is None:
        return None
    return (
        f"A cancellation request from the {request.role} is waiting for an answer; it must be "
        "accepted, declined or withdrawn first."
    )


no_cancellation_request: Final = Guard(
    "no open cancellation request", _no_cancellation_request, reads="cancellation_request"
)


_NO_REQUEST: Final = "There is no open cancellation request."


def _cancellation_requested(ctx: Context) -> str | None:
    if ctx.order.cancellation_request is None:
        return _NO_REQUEST
    return None


cancellation_requested: Final = Guard(
    "cancellation request open",
    _cancellation_requested,
    reads="cancellation_request",
    without=_NO_REQUEST,
)


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
    roles=_PARTIES,
    reads="cancellation_request",
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


cancellation_requester: Final = Guard(
    "actor asked to cancel", _cancellation_requester, roles=_PARTIES, reads="cancellation_request"
)


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
    "the system: window ended and `Policy.on_cancellation_silence` is accept",
    _silence_accepts,
    roles=frozenset({Role.system}),
    reads="cancellation_request",
)
cancellation_silence_rejects: Final = Guard(
    "the system: window ended and `Policy.on_cancellation_silence` is reject",
    _silence_rejects,
    roles=frozenset({Role.system}),
    reads="cancellation_request",
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


review_open: Final = Guard(
    "within `Policy.review_period` of completion",
    _review_open,
    states=frozenset({OrderState.complete}),
    roles=_PARTIES,
)


def _not_reviewed_yet(ctx: Context) -> str | None:
    for review in ctx.order.reviews:
        if review.role is ctx.actor.role and review.by == ctx.actor.id:
            return "You already reviewed this order; a review is left once."
    return None


not_reviewed_yet: Final = Guard("actor has not reviewed yet", _not_reviewed_yet, reads="reviews")
