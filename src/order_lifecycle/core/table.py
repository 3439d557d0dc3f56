"""The transition table: the lifecycle, declared once, as data.

Everything reads this table: the ``transitions`` machine is compiled from it, the
available-actions query and ``decide`` run its guards, the chatbot prompts, the
generated docs and diagram, and the property tests walk it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Final

import attrs
import pendulum

from order_lifecycle.core import commands as c
from order_lifecycle.core import guards as g
from order_lifecycle.core.due import DueTimer
from order_lifecycle.core.effects import EFFECTS, REMINDED, TIMER_EFFECTS, Effect, TimerEffect
from order_lifecycle.core.model import (
    ACTIVE_STATES,
    Action,
    Order,
    OrderState,
    Policy,
    Role,
    Timer,
    terms_of,
)
from order_lifecycle.core.terms import Deadline, SentReminder
from order_lifecycle.core.values import shift

__all__ = ["RULES", "RULES_BY_ACTION", "TIMERS", "TIMERS_BY_DEADLINE", "Rule", "TimerRule"]

S = OrderState
R = Role
_PARTIES: Final = frozenset({R.buyer, R.seller})


@attrs.frozen(eq=False)  # rules are compared and hashed by identity: they are singletons
class Rule:
    """One row of the table: an action, where it goes, who may take it, and when."""

    action: Action
    #: States the action may start from (empty for ``place``, which creates the order).
    sources: tuple[OrderState, ...]
    #: Where it may go; empty means the order stays in its state. Several: a choice made
    #: by the command (``resolve``).
    dests: tuple[OrderState, ...]
    roles: frozenset[Role]
    guards: tuple[g.Guard, ...]
    command: type[c.Command] | None
    #: What the command's arguments must satisfy (validation, not availability).
    checks: str
    #: What it does, for the generated docs.
    does: str

    @property
    def effect(self) -> Effect:
        """The pure function that applies the action."""
        return EFFECTS[self.action]

    @property
    def stays(self) -> bool:
        """The action keeps the order in its state."""
        return not self.dests


def _rule(
    action: Action,
    sources: tuple[OrderState, ...],
    dests: tuple[OrderState, ...],
    roles: frozenset[Role],
    guards: tuple[g.Guard, ...] = (),
    *,
    command: type[c.Command] | None,
    checks: str = "",
    does: str,
) -> Rule:
    return Rule(action, sources, dests, roles, guards, command, checks, does)


RULES: Final[tuple[Rule, ...]] = (
    _rule(
        Action.place,
        (),
        (S.pending,),
        frozenset({R.buyer}),
        command=None,
        checks="buyer ≠ seller; every required buyer request answered; listing valid",
        does="order created",
    ),
    _rule(
        Action.accept,
        (S.pending,),
        (S.accepted,),
        frozenset({R.seller}),
        command=c.Accept,
        does="accepted_at; due_at = now + listing.delivery",
    ),
    _rule(
        Action.decline,
        (S.pending,),
        (S.cancelled,),
        frozenset({R.seller}),
        command=c.Decline,
        does="cancellation reason `declined`",
    ),
    _rule(
        Action.withdraw,
        (S.pending,),
        (S.cancelled,),
        frozenset({R.buyer}),
        command=c.Withdraw,
        does="cancellation reason `withdrawn`",
    ),
    _rule(
        Action.expire,
        (S.pending,),
        (S.cancelled,),
        frozenset({R.system}),
        (g.acceptance_window_elapsed,),
        command=c.Expire,
        does="cancellation reason `expired`",
    ),
    _rule(
        Action.deliver,
        (S.accepted, S.revision),
        (S.delivered,),
        frozenset({R.seller}),
        command=c.Deliver,
        checks="≥ 1 file, or `outside=True`",
        does="delivery recorded; review_due_at = now + `Policy.review_window`",
    ),
    _rule(
        Action.approve,
        (S.delivered,),
        (S.complete,),
        frozenset({R.buyer}),
        command=c.Approve,
        does="completed_at",
    ),
    _rule(
        Action.request_revision,
        (S.delivered,),
        (S.revision,),
        frozenset({R.buyer}),
        (g.revisions_left,),
        command=c.RequestRevision,
        checks="note not empty",
        does="revisions_used += 1",
    ),
    _rule(
        Action.auto_complete,
        (S.delivered,),
        (S.complete,),
        frozenset({R.system}),
        (g.review_window_elapsed,),
        command=c.AutoComplete,
        does="completed_at, reason `review window elapsed`",
    ),
    _rule(
        Action.propose_update,
        ACTIVE_STATES,
        (),
        _PARTIES,
        (g.no_open_proposal,),
        command=c.ProposeUpdate,
        checks=(
            "changes ≥ 1 of price / due_at / revisions; new due_at > now; "
            "new revisions ≥ revisions_used; price > 0"
        ),
        does="open proposal",
    ),
    _rule(
        Action.accept_update,
        ACTIVE_STATES,
        (),
        _PARTIES,
        (g.proposal_open, g.counterparty, g.proposal_fits),
        command=c.AcceptUpdate,
        does="contract updated, version + 1",
    ),
    _rule(
        Action.reject_update,
        ACTIVE_STATES,
        (),
        _PARTIES,
        (g.proposal_open, g.counterparty),
        command=c.RejectUpdate,
        does="proposal closed",
    ),
    _rule(
        Action.withdraw_update,
        ACTIVE_STATES,
        (),
        _PARTIES,
        (g.proposal_open, g.proposer),
        command=c.WithdrawUpdate,
        does="proposal closed",
    ),
    _rule(
        Action.dispute,
        ACTIVE_STATES,
        (S.disputed,),
        _PARTIES,
        command=c.Dispute,
        checks="reason not empty",
        does="dispute.from_state; CX team alerted; open proposal voided",
    ),
    _rule(
        Action.join,
        (S.disputed, S.cancelled),
        (),
        frozenset({R.cx_agent}),
        (g.no_agent_yet,),
        command=c.Join,
        does="agent joins the chat (to resolve, or to settle the money of a cancellation)",
    ),
    _rule(
        Action.resolve,
        (S.disputed,),
        (S.accepted, S.delivered, S.revision, S.complete, S.cancelled),
        frozenset({R.cx_agent}),
        (g.joined_agent,),
        command=c.Resolve,
        checks="outcome in {resume, complete, cancel}; note not empty",
        does="resume → from_state (to delivered: the review window restarts); complete; cancel",
    ),
    _rule(
        Action.cancel,
        ACTIVE_STATES,
        (S.cancelled,),
        _PARTIES,
        (g.cancel_allowed,),
        command=c.Cancel,
        checks="reason not empty",
        does="reason given; CX team alerted; an agent may join the chat to settle the money",
    ),
    _rule(
        Action.say,
        tuple(S),
        (),
        frozenset({R.buyer, R.seller, R.cx_agent}),
        (g.say_allowed,),
        command=c.Say,
        checks="text 1..`Policy.max_message_chars` chars, or files",
        does="chat message",
    ),
    _rule(
        Action.request_info,
        (S.accepted, S.revision),
        (),
        frozenset({R.seller}),
        (g.clock_running,),
        command=c.RequestInfo,
        checks="question not empty",
        does=(
            "the delivery clock pauses until the buyer answers, at most `Policy.max_pause` "
            "(no delivery-due notice, reminder or past-due `cancel` meanwhile)"
        ),
    ),
    _rule(
        Action.provide_info,
        (S.accepted, S.revision),
        (),
        frozenset({R.buyer}),
        (g.info_requested,),
        command=c.ProvideInfo,
        checks="answer not empty",
        does="the clock resumes: due_at moves later by the time paused",
    ),
    _rule(
        Action.settle,
        (S.cancelled,),
        (),
        frozenset({R.cx_agent}),
        (g.settlement_open,),
        command=c.Settle,
        checks="refund from 0 to the price in force",
        does="order.settlement (refund to the buyer, payout to the seller); `order_settled`",
    ),
    _rule(
        Action.request_cancellation,
        ACTIVE_STATES,
        (),
        _PARTIES,
        (g.no_cancellation_request,),
        command=c.RequestCancellation,
        checks="reason not empty; refund from 0 to the price in force",
        does="open cancellation request (answered by `Policy.cancellation_window`, if set)",
    ),
    _rule(
        Action.accept_cancellation,
        ACTIVE_STATES,
        (S.cancelled,),
        frozenset({R.buyer, R.seller, R.system}),
        (g.cancellation_requested, g.cancellation_counterparty, g.cancellation_silence_accepts),
        command=c.AcceptCancellation,
        does="cancellation reason `mutual`; settled as requested (default: the whole price back)",
    ),
    _rule(
        Action.decline_cancellation,
        ACTIVE_STATES,
        (),
        frozenset({R.buyer, R.seller, R.system}),
        (g.cancellation_requested, g.cancellation_counterparty, g.cancellation_silence_rejects),
        command=c.DeclineCancellation,
        does="request closed; the work goes on",
    ),
    _rule(
        Action.withdraw_cancellation,
        ACTIVE_STATES,
        (),
        _PARTIES,
        (g.cancellation_requested, g.cancellation_requester),
        command=c.WithdrawCancellation,
        does="request closed",
    ),
    _rule(
        Action.review,
        (S.complete,),
        (),
        _PARTIES,
        (g.review_open, g.not_reviewed_yet),
        command=c.Review,
        checks="rating 1..5; text up to 2,000 chars",
        does=(
            "review recorded; hidden from the other party until both reviewed or "
            "`Policy.review_period` ends"
        ),
    ),
)

RULES_BY_ACTION: Final[Mapping[Action, Rule]] = {rule.action: rule for rule in RULES}


@attrs.frozen
class TimerRule:
    """A timer: armed in some states, due at an instant computed from the order.

    A timer fires an action of the table (``fires``, taken by the system) or, when
    ``fires`` is ``None``, its own ``effect``: a notice that leaves the state as it is. A
    timer that enforces a :class:`Deadline` names it (``deadline``): reminders of that
    deadline are armed exactly while the timer is, and skipped once it fires.
    """

    timer: Timer
    armed_in: tuple[OrderState, ...]
    fires: Action | None
    due: Callable[[Order, Policy], pendulum.DateTime | None]
    at: str
    does: str
    deadline: Deadline | None = None
    #: Several instants at once (reminders: one per reminder of the terms).
    schedule: Callable[[Order, Policy], Iterable[DueTimer]] | None = None
    #: Other actions the timer may fire instead of ``fires``, and ``pick``, which chooses
    #: the one for an order under a policy (a request's silence default).
    also_fires: tuple[Action, ...] = ()
    pick: Callable[[Order, Policy], Action] | None = None

    @property
    def effect(self) -> TimerEffect:
        """What a timer that fires no action does."""
        return TIMER_EFFECTS[self.timer]

    def armed(self, order: Order, policy: Policy) -> Iterable[DueTimer]:
        """The instants this timer is armed at on ``order`` (none, one, or several)."""
        if order.state not in self.armed_in:
            return ()
        if self.schedule is not None:
            return self.schedule(order, policy)
        due = self.due(order, policy)
        if due is None:
            return ()
        return (DueTimer(self.timer, self.fired(order, policy), due),)

    def soonest(self, order: Order, policy: Policy) -> pendulum.DateTime | None:
        """When the first of ``armed(order, policy)`` falls due (``None``: not armed),
        without building the ``DueTimer`` of a timer with one instant."""
        if self.schedule is not None or order.state not in self.armed_in:
            return min((t.due_at for t in self.armed(order, policy)), default=None)
        return self.due(order, policy)

    @property
    def actions(self) -> tuple[Action, ...]:
        """Every action the timer may fire (none for a notice)."""
        return () if self.fires is None else (self.fires, *self.also_fires)

    def fired(self, order: Order, policy: Policy) -> Action | Timer:
        """What the timer fires on ``order``: an action of the table, or itself (a notice)."""
        if self.pick is not None:
            return self.pick(order, policy)
        return self.fires or self.timer


def _review_due(order: Order, policy: Policy) -> pendulum.DateTime | None:
    return order.review_due_at


def _delivery_due(order: Order, policy: Policy) -> pendulum.DateTime | None:
    due = order.contract.due_at
    # One notice per due date: moving due_at by a contract update re-arms it. A paused
    # clock (the seller waits for the buyer's answer) never falls due.
    if due is None or order.due_notice_for == due or order.info_request is not None:
        return None
    return due


def _acceptance_due(order: Order, policy: Policy) -> pendulum.DateTime | None:
    terms = terms_of(order, policy)
    window = terms.acceptance_window
    return None if window is None else terms.shift(order.placed_at, window)


def _proposal_due(order: Order, policy: Policy) -> pendulum.DateTime | None:
    proposal = order.proposal
    return None if proposal is None else proposal.expires_at


def _dispute_due(order: Order, policy: Policy) -> pendulum.DateTime | None:
    # The dispute window is the CX team's own service level: the desk's policy, not a
    # term of the order's.
    dispute, window = order.dispute, policy.dispute_window
    if dispute is None or window is None or dispute.escalated_at is not None:
        return None
    return shift(dispute.at, window)


def _pause_due(order: Order, policy: Policy) -> pendulum.DateTime | None:
    request = order.info_request
    return None if request is None else request.resume_by


def _reminders(order: Order, policy: Policy) -> list[DueTimer]:
    reminders = terms_of(order, policy).reminders
    if not reminders:
        return []
    armed: list[DueTimer] = []
    for reminder in reminders:
        timer = TIMERS_BY_DEADLINE.get(reminder.deadline)
        if timer is None or order.state not in timer.armed_in:
            continue
        deadline = timer.due(order, policy)
        if deadline is None or REMINDED[reminder.deadline](order) is None:
            continue
        before = reminder.before
        if SentReminder(reminder.deadline, deadline, before) in order.reminders_sent:
            continue
        at = shift(deadline, -before)
        armed.append(
            DueTimer(Timer.reminder, Timer.reminder, at, reminder.deadline, deadline, before)
        )
    armed.sort(key=lambda t: t.due_at)
    return armed


def _reminder_due(order: Order, policy: Policy) -> pendulum.DateTime | None:
    armed = _reminders(order, policy)
    return armed[0].due_at if armed else None


def _cancellation_due(order: Order, policy: Policy) -> pendulum.DateTime | None:
    request = order.cancellation_request
    return None if request is None else request.expires_at


def _silence_answer(order: Order, policy: Policy) -> Action:
    if terms_of(order, policy).on_cancellation_silence == "accept":
        return Action.accept_cancellation
    return Action.decline_cancellation


def _review_period_due(order: Order, policy: Policy) -> pendulum.DateTime | None:
    # Only a lone review waits for the period's end: none has nothing to publish, and
    # two were published when the second was left.
    if not order.reviews or order.reviews_published_at is not None or order.completed_at is None:
        return None
    return shift(order.completed_at, policy.review_period)


# The delivery-due notice comes last: the diagram lists it after the other self-loops.
TIMERS: Final[tuple[TimerRule, ...]] = (
    TimerRule(
        Timer.review_window,
        (S.delivered,),
        Action.auto_complete,
        _review_due,
        at="review_due_at (delivered_at + `Policy.review_window`, 7 days by default)",
        does="`auto_complete`",
        deadline=Deadline.review,
    ),
    TimerRule(
        Timer.acceptance_window,
        (S.pending,),
        Action.expire,
        _acceptance_due,
        at="placed_at + `Policy.acceptance_window` (off by default)",
        does="`expire`",
        deadline=Deadline.acceptance,
    ),
    TimerRule(
        Timer.proposal_window,
        ACTIVE_STATES,
        None,
        _proposal_due,
        at="an open proposal's time + `Policy.proposal_window` (off by default)",
        does=(
            "closes the unanswered proposal: `update_expired`, or `update_accepted` by the "
            "system when `Policy.on_proposal_silence` is accept and it still fits"
        ),
        deadline=Deadline.proposal,
    ),
    TimerRule(
        Timer.dispute_window,
        (S.disputed,),
        None,
        _dispute_due,
        at="the dispute's time + `Policy.dispute_window` (off by default; once per dispute)",
        does="`dispute_escalated`: the CX team is alerted again",
    ),
    TimerRule(
        Timer.max_pause,
        (S.accepted, S.revision),
        None,
        _pause_due,
        at="the seller's question + `Policy.max_pause` (7 days), while unanswered",
        does="`info_timed_out`: the clock resumes by itself, due_at later by the time paused",
    ),
    TimerRule(
        Timer.reminder,
        (S.pending, S.accepted, S.delivered, S.revision),
        None,
        _reminder_due,
        at=(
            "each `Reminder(deadline, before)` of `Policy.reminders`: the deadline minus before, "
            "once per deadline value, while its deadline's timer is armed (off by default)"
        ),
        does="`reminder_sent` to the party who must act (never at or after the deadline)",
        schedule=_reminders,
    ),
    TimerRule(
        Timer.cancellation_window,
        ACTIVE_STATES,
        Action.accept_cancellation,
        _cancellation_due,
        at=(
            "an open cancellation request's time + `Policy.cancellation_window` (off by "
            "default; fixed when asked)"
        ),
        does=(
            "`accept_cancellation` by the system (or `decline_cancellation` when "
            "`Policy.on_cancellation_silence` is reject)"
        ),
        also_fires=(Action.decline_cancellation,),
        pick=_silence_answer,
        deadline=Deadline.cancellation,
    ),
    TimerRule(
        Timer.review_period,
        (S.complete,),
        None,
        _review_period_due,
        at="completed_at + `Policy.review_period` (14 days), while one review waits unpublished",
        does="`reviews_published`: the review left becomes visible to the other party",
    ),
    TimerRule(
        Timer.delivery_due,
        (S.accepted, S.revision),
        None,
        _delivery_due,
        at=(
            "contract.due_at (once per due date; a contract update that moves it re-arms it; "
            "never while the clock is paused)"
        ),
        does='a one-time "delivery date passed" notice; `cancel` becomes available',
        deadline=Deadline.delivery,
    ),
)

#: The timer that enforces each deadline (what its reminders follow).
TIMERS_BY_DEADLINE: Final[Mapping[Deadline, TimerRule]] = {
    t.deadline: t for t in TIMERS if t.deadline is not None
}
