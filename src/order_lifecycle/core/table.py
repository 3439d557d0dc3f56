"""The transition table: the lifecycle, declared once, as data.

Everything reads this table: the ``transitions`` machine is compiled from it, the
available-actions query and ``decide`` run its guards, the chatbot prompts, the
generated docs and diagram, and the property tests walk it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import attrs
import pendulum

from order_lifecycle.core import commands as c
from order_lifecycle.core import guards as g
from order_lifecycle.core.effects import EFFECTS, Effect
from order_lifecycle.core.model import ACTIVE_STATES, Action, Order, OrderState, Policy, Role, Timer
from order_lifecycle.core.values import shift

__all__ = ["RULES", "RULES_BY_ACTION", "TIMERS", "Rule", "TimerRule"]

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
)

RULES_BY_ACTION: Final[Mapping[Action, Rule]] = {rule.action: rule for rule in RULES}


@attrs.frozen
class TimerRule:
    """A timer: armed in some states, due at an instant computed from the order."""

    timer: Timer
    armed_in: tuple[OrderState, ...]
    #: The action it fires, or ``None`` for a notice that leaves the state as it is.
    fires: Action | None
    due: Callable[[Order, Policy], pendulum.DateTime | None]
    at: str
    does: str


def _review_due(order: Order, policy: Policy) -> pendulum.DateTime | None:
    return order.review_due_at


def _delivery_due(order: Order, policy: Policy) -> pendulum.DateTime | None:
    due = order.contract.due_at
    # One notice per due date: moving due_at by a contract update re-arms it.
    return None if due is None or order.due_notice_for == due else due


def _acceptance_due(order: Order, policy: Policy) -> pendulum.DateTime | None:
    window = policy.acceptance_window
    return None if window is None else shift(order.placed_at, window)


TIMERS: Final[tuple[TimerRule, ...]] = (
    TimerRule(
        Timer.review_window,
        (S.delivered,),
        Action.auto_complete,
        _review_due,
        at="review_due_at (delivered_at + `Policy.review_window`, 7 days by default)",
        does="`auto_complete`",
    ),
    TimerRule(
        Timer.delivery_due,
        (S.accepted, S.revision),
        None,
        _delivery_due,
        at="contract.due_at (once per due date; a contract update that moves it re-arms it)",
        does='a one-time "delivery date passed" notice; `cancel` becomes available',
    ),
    TimerRule(
        Timer.acceptance_window,
        (S.pending,),
        Action.expire,
        _acceptance_due,
        at="placed_at + `Policy.acceptance_window` (off by default)",
        does="`expire`",
    ),
)
