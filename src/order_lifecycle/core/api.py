"""The pure API: ``place``, ``decide``, ``options``, ``due_timers`` and ``fire``.

All functions are pure: the order, the actor, the instant and the policy go in; a new
order and its events come out. Nothing reads a clock, a file or a network.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from typing import Final, TypeAlias

import attrs
import pendulum

from order_lifecycle.core import values
from order_lifecycle.core.commands import Command
from order_lifecycle.core.context import Context
from order_lifecycle.core.due import DueTimer
from order_lifecycle.core.effects import EFFECTS
from order_lifecycle.core.events import Event, OrderPlaced
from order_lifecycle.core.guards import ALL_PARTS, Plan, open_parts, plan, reasons
from order_lifecycle.core.machine import move
from order_lifecycle.core.model import (
    LIFECYCLE_VERSION,
    Action,
    Actor,
    Contract,
    Listing,
    Order,
    OrderState,
    Outcome,
    Policy,
    Role,
    Timer,
)
from order_lifecycle.core.recipients import CX_TEAM
from order_lifecycle.core.table import RULES, RULES_BY_ACTION, TIMERS, Rule
from order_lifecycle.core.terms import Terms
from order_lifecycle.errors import ActionNotAvailable, NotAParticipant, ValidationError

__all__ = [
    "DEFAULT_POLICY",
    "ActionOption",
    "Decision",
    "DueTimer",
    "as_actor",
    "check_participant",
    "decide",
    "due_timers",
    "fire",
    "make_context",
    "next_due_at",
    "options",
    "place",
    "placement",
    "waiting_on",
]

DEFAULT_POLICY: Final = Policy()

#: What ``edge_hook`` is called with: ``(source, action or timer, dest)``.
EdgeHook: TypeAlias = Callable[[OrderState, Action | Timer, OrderState], None]

#: Called for each transition ``decide`` and ``fire`` complete, while transition coverage
#: is recorded (``order_lifecycle.testing.coverage`` installs it). ``None``, the default,
#: costs one global lookup and one comparison per decision.
edge_hook: EdgeHook | None = None


@attrs.frozen
class Decision:
    """The result of a command: the new order and the events it recorded (exactly one)."""

    order: Order
    events: tuple[Event, ...]


@attrs.frozen
class ActionOption:
    """An action as one actor sees it now: available, or not and why."""

    action: Action
    available: bool
    reason: str | None = None


def as_actor(order: Order, who: Actor | str) -> Actor:
    """An ``Actor``; a plain user id is the buyer or seller of ``order`` with that id, and
    ``"cx:USER"`` (as the CLI writes it) is the CX agent ``USER``."""
    if isinstance(who, Actor):
        return who
    if who == order.buyer:
        return _party(who, Role.buyer)
    if who == order.seller:
        return _party(who, Role.seller)
    user = values.check_id("by", who)
    role = order.party(user)
    if role is None and user.startswith("cx:") and len(user) > 3:
        return Actor.cx(user[3:])
    if role is None:
        raise NotAParticipant(
            order.id, user, f"{user} is neither the buyer nor the seller of order {order.id}."
        )
    return Actor(user, role)


@functools.lru_cache(maxsize=65_536)
def _party(user: str, role: Role) -> Actor:
    # Parties' ids were checked when the order was placed; actors are immutable, so one
    # object per (id, role) serves every command.
    return Actor(user, role)


# The roles as globals: looking a member up on its enum class (``Role.buyer``) goes
# through the enum's metaclass, several times slower, and every command checks them.
_BUYER: Final = Role.buyer
_SELLER: Final = Role.seller
_CX_AGENT: Final = Role.cx_agent


def check_participant(order: Order, actor: Actor, policy: Policy) -> None:
    """Raise ``NotAParticipant`` unless ``actor`` may act on ``order`` at all."""
    role, user = actor.role, actor.id
    if role is _BUYER:
        if user != order.buyer:
            raise NotAParticipant(order.id, user, f"{user} is not the buyer of order {order.id}.")
    elif role is _SELLER:
        if user != order.seller:
            raise NotAParticipant(order.id, user, f"{user} is not the seller of order {order.id}.")
    elif role is _CX_AGENT:
        if not policy.is_cx_member(user):
            raise NotAParticipant(order.id, user, f"{user} is not on this marketplace's CX team.")
        if user in (order.buyer, order.seller):
            raise NotAParticipant(
                order.id,
                user,
                f"{user} is a party to order {order.id} and cannot act on it as a CX agent.",
            )
    elif user != Actor.SYSTEM_ID:  # the system
        raise NotAParticipant(order.id, user, "Only the system itself acts as the system.")


def make_context(
    order: Order, actor: Actor | str, now: object, policy: Policy, tz: str = "UTC"
) -> Context:
    """What every rule reads: the order, the actor (checked as a participant), the
    instant and the policy, each checked once."""
    if not isinstance(order, Order):
        raise ValidationError("order", f"must be an Order, not {type(order).__name__}")
    if not isinstance(policy, Policy):
        raise ValidationError("policy", f"must be a Policy, not {type(policy).__name__}")
    # The usual arguments, a UTC pendulum instant and an Actor, need no conversion.
    instant = now if type(now) is _DATETIME and now.tzinfo is _UTC else values.to_instant(now)
    who = actor if type(actor) is Actor else as_actor(order, actor)
    check_participant(order, who, policy)
    return Context(order, who, instant, policy, tz)


_DATETIME: Final = pendulum.DateTime
_UTC: Final = values.UTC


def place(
    *,
    buyer: str,
    seller: str,
    listing: Listing,
    answers: Mapping[str, str] | None = None,
    now: object,
    policy: Policy = DEFAULT_POLICY,
    order_id: str | None = None,
) -> Decision:
    """Place a new order: ``pending``, waiting for the seller, under the deadline terms of
    ``policy`` (``order.terms``), which it keeps whatever policy later runs it.

    Pass ``order_id`` for a deterministic id; without one a random id is drawn.
    """
    if not isinstance(policy, Policy):
        raise ValidationError("policy", f"must be a Policy, not {type(policy).__name__}")
    return placement(
        buyer=buyer,
        seller=seller,
        listing=listing,
        answers=answers,
        now=now,
        policy=policy,
        order_id=order_id,
        terms=policy.terms,
        lifecycle=LIFECYCLE_VERSION,
    )


def placement(
    *,
    buyer: str,
    seller: str,
    listing: Listing,
    answers: Mapping[str, str] | None,
    now: object,
    policy: Policy,
    order_id: str | None,
    terms: Terms | None,
    lifecycle: str,
) -> Decision:
    """:func:`place` under given terms and lifecycle version: how a placement recorded
    by an earlier lifecycle (with other terms, or none) is replayed."""
    instant = values.to_instant(now)
    buyer = values.check_id("buyer", buyer)
    seller = values.check_id("seller", seller)
    if buyer == seller:
        raise ValidationError("seller", "a buyer cannot buy their own listing")
    if not isinstance(listing, Listing):
        raise ValidationError("listing", f"must be a Listing, not {type(listing).__name__}")
    if not isinstance(policy, Policy):
        raise ValidationError("policy", f"must be a Policy, not {type(policy).__name__}")
    oid = (
        f"ord_{uuid.uuid4().hex[:24]}"
        if order_id is None
        else values.check_id("order_id", order_id)
    )
    given = _answers(listing, answers, policy)
    order = Order(
        id=oid,
        buyer=buyer,
        seller=seller,
        listing=listing,
        state=OrderState.pending,
        contract=Contract(price=listing.price, revisions=listing.revisions),
        placed_at=instant,
        updated_at=instant,
        answers=given,
        version=1,
        lifecycle=lifecycle,
        terms=terms,
    )
    event = OrderPlaced(
        order_id=oid,
        seq=1,
        action=Action.place,
        actor=_party(buyer, Role.buyer),
        at=instant,
        state=OrderState.pending,
        buyer=buyer,
        seller=seller,
        listing=listing,
        answers=order.answers,
        lifecycle=lifecycle,
        terms=terms,
    )
    return Decision(order, (event,))


def _answers(listing: Listing, answers: Mapping[str, str] | None, policy: Policy) -> dict[str, str]:
    if answers is None:
        answers = {}
    if not isinstance(answers, Mapping):
        raise ValidationError("answers", "must map each question to the buyer's answer")
    questions = {r.question: r for r in listing.requests}
    given: dict[str, str] = {}
    for question, answer in answers.items():
        if question not in questions:
            raise ValidationError(
                "answers", f"{values.shown(question)} is not a question of this listing"
            )
        text = values.check_text(
            f"answers[{values.shown(question)}]",
            answer,
            max_chars=policy.max_message_chars,
            required=False,
        )
        if text.strip():
            given[question] = text
    missing = [r.question for r in listing.requests if r.required and r.question not in given]
    if missing:
        raise ValidationError(
            "answers", "the listing requires an answer to: " + "; ".join(repr(q) for q in missing)
        )
    # Keep the listing's order of questions.
    return {q: given[q] for q in questions if q in given}


def _target(rule: Rule, ctx: Context, command: Command) -> OrderState | None:
    assert rule.action is Action.resolve  # the one action with several destinations
    outcome = Outcome(getattr(command, "outcome"))  # noqa: B009 - narrowed by the rule
    dispute = ctx.order.dispute
    assert dispute is not None
    if outcome is Outcome.resume:
        return dispute.from_state
    return OrderState.complete if outcome is Outcome.complete else OrderState.cancelled


def decide(
    order: Order,
    command: Command,
    *,
    actor: Actor | str,
    now: object,
    policy: Policy = DEFAULT_POLICY,
) -> Decision:
    """Run ``command`` on ``order`` for ``actor`` at ``now``: the new order and its event.

    Checked in this order: participant (``NotAParticipant``), availability on state, role
    and time (``ActionNotAvailable``, with the same reason ``options`` gives), then the
    command's arguments (``ValidationError``). A refused command changes nothing.
    """
    if not isinstance(command, Command) or not hasattr(command, "action"):
        raise ValidationError("command", f"must be a core command, not {type(command).__name__}")
    ctx = make_context(order, actor, now, policy)
    rule = RULES_BY_ACTION[command.action]
    if rule.command is None:
        raise ValidationError("command", "orders are placed with core.place(...)")
    # Availability by the plan ``options`` uses, for this state and role (and whatever
    # parts the order has open): what they fix, and the guards left to run.
    key = (rule.action, order.state, ctx.actor.role)
    steps = _DECIDE_PLANS.get(key)
    if steps is None:
        steps = _DECIDE_PLANS[key] = plan(rule, order.state, ctx.actor.role, ALL_PARTS)
    if steps:
        reason = reasons(steps, ctx)
        if reason is not None:
            raise ActionNotAvailable(str(rule.action), reason, order.id)
    checked = command.validate(ctx)
    target = _target(rule, ctx, checked) if len(rule.dests) > 1 else None
    state = move(order.state, rule.action, target)
    new, event = _EFFECTS[rule.action](ctx, checked, state)
    if edge_hook is not None:
        edge_hook(order.state, rule.action, state)
    return Decision(new, (event,))


#: (action, state, role) -> what ``decide`` runs to know whether the action is available.
_DECIDE_PLANS: Final[dict[tuple[Action, OrderState, Role], Plan]] = {}
_EFFECTS: Final = EFFECTS


def options(
    order: Order,
    *,
    actor: Actor | str,
    now: object,
    policy: Policy = DEFAULT_POLICY,
    tz: str = "UTC",
) -> list[ActionOption]:
    """Every action of the table as ``actor`` sees it at ``now``: available, or why not.

    ``tz`` is the viewer's time zone for the instants in the reasons.

    The answer is what ``blockers`` gives for each rule of the table; what of it is fixed
    by the order's state, the actor's role and the parts the order has open is worked
    out once (:func:`_options_plan`), and only the guards that depend on the order, the
    instant or the policy run per call.
    """
    ctx = make_context(order, actor, now, policy, tz if tz == "UTC" else values.check_zone(tz))
    key = (ctx.order.state, ctx.actor.role, open_parts(ctx.order))
    fixed, runs = _PLANS.get(key) or _options_plan(*key)
    result = list(fixed)
    for index, action, prefix, check, steps in runs:
        if check is None:  # several checks or sentences: the general way
            reason = reasons(steps, ctx)
            result[index] = _AVAILABLE[action] if reason is None else _unavailable(action, reason)
            continue
        # Most often one check, after the sentences fixed here (if any): the fixed answer,
        # already in place, holds unless the check objects.
        reason = check(ctx)
        if reason is not None:
            result[index] = (
                _unavailable(action, reason) if prefix is None else _after(action, prefix, reason)
            )
    return result


# Options are immutable: one object per available action, and one per (action, reason)
# for the sentences that recur (most are fixed per rule and state).
_AVAILABLE: Final = {rule.action: ActionOption(rule.action, True, None) for rule in RULES}

#: What is left to run of one option: its index and action; then either the sentence
#: fixed before its one check (or ``None``) and that check, or ``None, None`` and the
#: whole plan (:func:`~order_lifecycle.core.guards.reasons` runs it).
_Run: TypeAlias = tuple[int, Action, str | None, Callable[[Context], str | None] | None, Plan]
#: ``options`` for one (state, role, open parts): the answer with every option that is
#: fixed there (and, where a check is left, the answer when it does not object), and
#: what is left to run.
_OptionsPlan: TypeAlias = tuple[tuple[ActionOption, ...], tuple[_Run, ...]]
_PLANS: Final[dict[tuple[OrderState, Role, int], _OptionsPlan]] = {}


def _options_plan(state: OrderState, role: Role, parts: int) -> _OptionsPlan:
    fixed: list[ActionOption] = []
    runs: list[_Run] = []
    for index, rule in enumerate(RULES):
        action = rule.action
        steps = plan(rule, state, role, parts)
        sentences = [step for step in steps if isinstance(step, str)]
        checks = [step for step in steps if not isinstance(step, str)]
        if len(checks) == 1 and steps[-1] is checks[0] and len(sentences) <= 1:
            prefix = sentences[0] if sentences else None
            fixed.append(_AVAILABLE[action] if prefix is None else _unavailable(action, prefix))
            runs.append((index, action, prefix, checks[0], steps))
            continue
        if not checks:
            fixed.append(_unavailable(action, sentences[0]) if sentences else _AVAILABLE[action])
        else:
            fixed.append(_AVAILABLE[action])  # a placeholder: answered per call
            runs.append((index, action, None, None, steps))
    planned = (tuple(fixed), tuple(runs))
    _PLANS[(state, role, parts)] = planned
    return planned


@functools.lru_cache(maxsize=8192)
def _unavailable(action: Action, reason: str) -> ActionOption:
    return ActionOption(action, False, reason)


@functools.lru_cache(maxsize=8192)
def _after(action: Action, prefix: str, reason: str) -> ActionOption:
    # Cached by its parts: most are constant strings, whose hashes are kept, so a recurring
    # answer is found without building and hashing the joined sentence.
    return ActionOption(action, False, f"{prefix} {reason}")


def due_timers(order: Order, policy: Policy = DEFAULT_POLICY) -> list[DueTimer]:
    """The timers armed on ``order``, each with the instant it falls due (soonest first)."""
    if not isinstance(order, Order):
        raise ValidationError("order", f"must be an Order, not {type(order).__name__}")
    if not isinstance(policy, Policy):
        raise ValidationError("policy", f"must be a Policy, not {type(policy).__name__}")
    armed: list[DueTimer] = []
    for timer in _TIMERS_IN[order.state]:
        armed.extend(timer.armed(order, policy))
    if len(armed) > 1:
        armed.sort(key=_due_at)
    return armed


def next_due_at(order: Order, policy: Policy = DEFAULT_POLICY) -> pendulum.DateTime | None:
    """When the soonest timer armed on ``order`` falls due: ``due_timers(order,
    policy)[0].due_at`` (``None`` if none is armed), without building each timer's
    ``DueTimer`` (what every write stores for ``tick`` to find)."""
    soonest: pendulum.DateTime | None = None
    for due_of in _SOONEST_IN[order.state]:
        due = due_of(order, policy)
        if due is not None and (soonest is None or due < soonest):
            soonest = due
    return soonest


_TIMER_RULES: Final = {t.timer: t for t in TIMERS}
#: The timers that can be armed in each state, in the table's order.
_TIMERS_IN: Final = {state: tuple(t for t in TIMERS if state in t.armed_in) for state in OrderState}
#: Per state, what ``TimerRule.soonest`` calls for each of those timers once the state is
#: known to arm it: its ``due`` for a timer of one instant, ``soonest`` itself for a
#: timer of several (reminders).
_SOONEST_IN: Final = {
    state: tuple(t.due if t.schedule is None else t.soonest for t in timers)
    for state, timers in _TIMERS_IN.items()
}


def _due_at(timer: DueTimer) -> pendulum.DateTime:
    return timer.due_at


def fire(order: Order, timer: Timer, *, now: object, policy: Policy = DEFAULT_POLICY) -> Decision:
    """Fire ``timer`` on ``order`` as the system, if it is armed and due at ``now``.

    A timer fired late still fires once; its event records ``due_at`` beside ``at``. Of
    several reminders due, the soonest fires; a reminder is never sent at or after its
    deadline (that deadline's own timer fires instead).
    """
    instant = values.to_instant(now)
    try:
        timer = Timer(timer)
    except ValueError:
        choices = ", ".join(t.value for t in Timer)
        raise ValidationError(
            "timer", f"{values.shown(timer)} is not a timer; use one of {choices}"
        ) from None
    armed = [t for t in due_timers(order, policy) if t.timer is timer]
    if not armed:
        raise ActionNotAvailable(str(timer), f"The {timer} timer is not armed on this order.")
    ctx = make_context(order, Actor.system(), instant, policy)
    ready = [t for t in armed if t.ready(ctx.now)]
    if not ready:
        soonest = armed[0]
        if soonest.due_at <= ctx.now and soonest.deadline_at is not None:
            raise ActionNotAvailable(
                str(timer),
                f"The {soonest.deadline} deadline, "
                f"{values.human_instant(soonest.deadline_at)}, has come: its reminder is "
                "skipped.",
            )
        raise ActionNotAvailable(
            str(timer),
            f"The {timer} timer is due on {values.human_instant(soonest.due_at)}, not yet.",
        )
    pending = ready[0]
    if isinstance(pending.action, Action):
        fired = RULES_BY_ACTION[pending.action].command
        assert fired is not None  # the table's check: timers fire commands of the table
        return decide(order, fired(), actor=Actor.system(), now=instant, policy=policy)
    state = move(order.state, timer)
    new, event = _TIMER_RULES[timer].effect(ctx, state, pending)
    if edge_hook is not None:
        edge_hook(order.state, timer, state)
    return Decision(new, (event,))


def waiting_on(order: Order) -> frozenset[str]:
    """Who is expected to move the order next: user ids, or ``cx_team``.

    The seller to accept or decline, then to deliver; the buyer to approve or ask for a
    revision, or to answer the seller's question; the other party of an open contract
    proposal or cancellation request; the CX agent who joined a dispute (the CX team, and
    the agents who joined the order before, until one joins), and after a party cancelled
    the order, until the money is settled. The
    always-open options (dispute, propose an update, ask to cancel, review, say) wait on
    nobody.
    """
    state = order.state
    waiting: set[str] = set()
    if state in (OrderState.pending, OrderState.accepted, OrderState.revision):
        waiting.add(order.seller)
    elif state is OrderState.delivered:
        waiting.add(order.buyer)
    elif state is OrderState.disputed and order.dispute is not None:
        _add_cx(waiting, order, order.dispute.agent)
    elif (
        state is OrderState.cancelled
        and order.cancellation is not None
        and order.cancellation.reason.value == "cancelled"
        and order.settlement is None
    ):
        _add_cx(waiting, order, order.cancellation.agent)
    proposal = order.proposal
    if proposal is not None:
        waiting.add(order.seller if proposal.role is Role.buyer else order.buyer)
    if order.info_request is not None:
        waiting.add(order.buyer)
    request = order.cancellation_request
    if request is not None:
        waiting.add(order.seller if request.role is Role.buyer else order.buyer)
    return frozenset(waiting)


def _add_cx(waiting: set[str], order: Order, agent: str | None) -> None:
    """The agent who joined; until one joins, the CX team and the agents who joined the
    order before (they take part in its chat, and may join again)."""
    if agent is not None:
        waiting.add(agent)
    else:
        waiting.add(CX_TEAM)
        waiting.update(order.agents)
