"""What an order can do next, on the pure core: the steps of a path and their moves.

A :class:`Step` is an action taken by a role, or a tick that fires the timers due, each
after a wait. :func:`steps` lists those an order offers at an instant, read from the
table (each available action of each role, once per set of sample arguments, and a tick
when a timer is ready); :func:`take` runs one with ``core.decide`` or ``core.fire``, as
``OrderDesk`` would. The searches of :mod:`~order_lifecycle.testing.paths` and the
strategies walk orders with them.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs
import pendulum

from order_lifecycle.core import api
from order_lifecycle.core.model import Action, Actor, Order, Policy, Role, Timer
from order_lifecycle.core.table import RULES, RULES_BY_ACTION, TIMERS
from order_lifecycle.errors import ActionNotAvailable, NotAParticipant, ValidationError
from order_lifecycle.testing.arguments import variants
from order_lifecycle.testing.coverage import Edge

__all__ = [
    "AGENT",
    "BUYER",
    "SELLER",
    "TIMED",
    "Move",
    "Step",
    "due_instants",
    "fired",
    "moves",
    "steps",
    "take",
]

#: The search's ids for the parties and the CX agent; ``play`` maps roles to its own.
BUYER: Final = "buyer"
SELLER: Final = "seller"
AGENT: Final = "agent"
_NO_WAIT: Final = pendulum.duration()
#: The actions some timer fires (``expire``, ``auto_complete``, a cancellation's answer):
#: those a timer step may be named by, besides the timers themselves.
TIMED: Final = frozenset(action for timer in TIMERS for action in timer.actions)
#: The actions no party takes, only the system when a timer fires: a step naming one
#: is a tick, whoever its role.
_SYSTEM_ONLY: Final = frozenset(rule.action for rule in RULES if rule.roles <= {Role.system})
#: What each timer's firing records as its event's action: its own notice, or an action.
_RECORDS: Final = {timer.timer: frozenset({timer.timer, *timer.actions}) for timer in TIMERS}


def _args(
    value: Mapping[str, object] | Iterable[tuple[str, object]],
) -> tuple[tuple[str, Any], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), v) for k, v in items))


def _wait(value: object) -> pendulum.Duration:
    if type(value) is pendulum.Duration:
        return value
    if isinstance(value, _dt.timedelta):  # an Interval (a difference of instants) included
        return pendulum.duration(
            days=value.days, seconds=value.seconds, microseconds=value.microseconds
        )
    raise ValidationError("wait", f"must be a duration, not {type(value).__name__}")


@attrs.frozen
class Step:
    """One step of a path: after ``wait``, ``role`` takes ``action`` with ``args``, or,
    for a timer step (:attr:`is_timer`), the ready timers fire (``OrderDesk.tick``), the
    one the step names among them. A timer step names the
    :class:`~order_lifecycle.Timer` or the action it fires:
    ``Step(Timer.review_window, Role.system)`` and
    ``Step(Action.auto_complete, Role.system)`` are the same tick. The searches name a
    tick after the last timer it fires.

    ``args`` are the keyword arguments of the action's command class (the desk's named
    method takes the same), as ``(name, value)`` pairs; a mapping is accepted.
    """

    action: Action | Timer
    role: Role
    wait: pendulum.Duration = attrs.field(default=_NO_WAIT, converter=_wait)
    args: tuple[tuple[str, Any], ...] = attrs.field(default=(), converter=_args)

    @property
    def kwargs(self) -> dict[str, Any]:
        """``args`` as a dict."""
        return dict(self.args)

    @property
    def is_timer(self) -> bool:
        """The step fires the due timers instead of taking an action: its action is a
        timer, or its role ``system``, or its action one only the system takes (when a
        timer fires it: ``expire``, ``auto_complete``)."""
        return (
            isinstance(self.action, Timer)
            or self.role == Role.system
            or self.action in _SYSTEM_ONLY
        )

    def __str__(self) -> str:
        text = f"tick ({self.action})" if self.is_timer else f"{self.action} by {self.role}"
        if self.wait:
            text = f"after {self.wait.in_words()}: {text}"
        if self.args:
            text += " (" + ", ".join(name for name, _ in self.args) + ")"
        return text


@attrs.frozen
class Move:
    """A step taken from an order: the order after it, the instant it ran, the edges taken."""

    step: Step
    order: Order
    at: pendulum.DateTime
    edges: tuple[Edge, ...]


def fired(named: Action | Timer, taken: Iterable[Action | Timer]) -> bool:
    """Whether a tick whose events record ``taken`` (their actions: the actions the
    timers fired, or the timers for their notices) fired what a timer step names: the
    timer itself, or the action."""
    done = set(taken)
    if isinstance(named, Timer):
        return not _RECORDS[named].isdisjoint(done)
    return named in done


def _tick(
    order: Order, at: pendulum.DateTime, policy: Policy
) -> tuple[Timer | None, Order, tuple[Edge, ...]]:
    """What ``OrderDesk.tick`` does to one order at ``at``: fire its ready timers, soonest
    first, until none is ready. The last timer fired, the order after, the edges taken."""
    last: Timer | None = None
    taken: list[Edge] = []
    for _ in range(100):  # each timer fires once: this bound is never reached
        due = [t for t in api.due_timers(order, policy) if t.ready(at)]
        if not due:
            break
        last, before = due[0].timer, order.state
        order = api.fire(order, last, now=at, policy=policy).order
        taken.append(Edge(before, due[0].action, order.state))
    return last, order, tuple(taken)


def due_instants(order: Order, now: pendulum.DateTime, policy: Policy) -> list[pendulum.DateTime]:
    """``now``, then each later instant a timer of ``order`` falls due: where the moves of
    a timed lifecycle can differ."""
    later = {t.due_at for t in api.due_timers(order, policy) if t.due_at > now}
    return [now, *sorted(later)]


def steps(
    order: Order,
    now: pendulum.DateTime,
    at: pendulum.DateTime,
    policy: Policy,
    *,
    agent: str | None = AGENT,
) -> list[Step]:
    """Every step ``order`` offers at instant ``at`` (``now`` is when the order was left,
    so each step waits ``at - now``), not taken yet: a tick if a timer is due, and each
    action available to the buyer, the seller or the CX agent (``None``: no agent), once
    per set of sample arguments."""
    wait = _wait(at - now)
    found: list[Step] = []
    due = [t for t in api.due_timers(order, policy) if t.ready(at)]
    if due:
        found.append(Step(due[0].timer, Role.system, wait))
    for actor in _actors(order, agent):
        try:
            shown = api.options(order, actor=actor, now=at, policy=policy)
        except NotAParticipant:
            continue
        available = {option.action for option in shown if option.available}
        for rule in RULES:
            if rule.action in available and rule.command is not None:
                found.extend(
                    Step(rule.action, actor.role, wait, kwargs)
                    for kwargs in variants(rule.command, order)
                )
    return found


def _actors(order: Order, agent: str | None) -> list[Actor]:
    actors = [Actor(order.buyer, Role.buyer), Actor(order.seller, Role.seller)]
    if agent is not None:
        actors.append(Actor(agent, Role.cx_agent))
    return actors


def take(
    order: Order,
    now: pendulum.DateTime,
    step: Step,
    policy: Policy,
    *,
    agent: str | None = AGENT,
) -> Move | None:
    """``step`` taken on ``order`` (left at ``now``) by the pure core, as ``play`` takes
    it on a desk; ``None`` if the core refuses it (sample arguments that do not fit), or
    if it is a tick that fires nothing or not what it names."""
    at = now + step.wait
    if step.is_timer:
        last, ticked, taken = _tick(order, at, policy)
        if last is None or not fired(step.action, (edge.action for edge in taken)):
            return None
        # A timer is renamed after the one it fired last: the one whose edge the move
        # ends with. An action names what it fired already.
        named = attrs.evolve(step, action=last) if isinstance(step.action, Timer) else step
        return Move(named, ticked, at, taken)
    rule = RULES_BY_ACTION[Action(step.action)]
    actor = next((a for a in _actors(order, agent) if a.role is step.role), None)
    if rule.command is None or actor is None:
        return None
    try:
        after = api.decide(
            order, rule.command(**step.kwargs), actor=actor, now=at, policy=policy
        ).order
    except (ActionNotAvailable, NotAParticipant, ValidationError):
        return None
    return Move(step, after, at, (Edge(order.state, rule.action, after.state),))


def moves(
    order: Order,
    now: pendulum.DateTime,
    at: pendulum.DateTime,
    policy: Policy,
    *,
    agent: str | None = AGENT,
) -> list[Move]:
    """Each of :func:`steps` taken: the moves ``order`` offers at instant ``at``."""
    found = (
        take(order, now, step, policy, agent=agent)
        for step in steps(order, now, at, policy, agent=agent)
    )
    return [move for move in found if move is not None]
