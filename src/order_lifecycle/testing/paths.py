"""Paths through the lifecycle, found by a search over the table, and played on a desk.

A path is a tuple of :class:`Step` (:mod:`~order_lifecycle.testing.moves`): an action
taken by a role, or a tick that fires the timers due, each after a wait.
:func:`shortest` and :func:`transitions` find paths by a breadth-first search from
``core.place`` that runs the pure core (``options``, ``decide``, ``due_timers``,
``fire``) on a simulated clock: nothing about the lifecycle is written here, so a row or
a timer added to the table is searched like the others. :func:`route` finds a way on
from any order (the strategies steer with it). :func:`play` runs a path through an
``OrderDesk``'s public methods on any store.

>>> import pendulum
>>> from order_lifecycle import ManualClock, OrderDesk, OrderState
>>> clock = ManualClock(pendulum.datetime(2026, 12, 1, 10))
>>> desk = OrderDesk.open("memory://", clock=clock)
>>> [str(step) for step in shortest(desk.policy)[OrderState.delivered]]
['accept by seller', 'deliver by seller (note, outside)']
>>> play(desk, shortest(desk.policy)[OrderState.delivered], clock=clock).state
<OrderState.delivered: 'delivered'>
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import functools
import heapq
import itertools
import random
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

import attrs
import pendulum

from order_lifecycle.clock import ManualClock
from order_lifecycle.core import api
from order_lifecycle.core.due import DueTimer
from order_lifecycle.core.model import (
    Action,
    Actor,
    Listing,
    Money,
    Order,
    OrderState,
    Policy,
    Role,
    Timer,
)
from order_lifecycle.core.table import RULES, RULES_BY_ACTION, TIMERS
from order_lifecycle.core.terms import Deadline, Reminder
from order_lifecycle.errors import (
    ActionNotAvailable,
    OrderLifecycleError,
    ValidationError,
)
from order_lifecycle.testing import coverage
from order_lifecycle.testing.coverage import Edge
from order_lifecycle.testing.moves import (
    AGENT,
    BUYER,
    SELLER,
    TIMED,
    Move,
    Step,
    due_instants,
    fired,
    moves,
    steps,
    take,
)

if TYPE_CHECKING:
    from order_lifecycle.desk import OrderDesk

__all__ = ["LISTING", "POLICY", "Step", "distances", "play", "route", "shortest", "transitions"]

#: The listing paths are found for, and ``play`` places, unless told otherwise.
LISTING: Final = Listing("Test listing", Money("100.00", "USD"), pendulum.duration(days=3), 1)
_DAY: Final = pendulum.duration(days=1)
#: The policy ``policy=None`` means: the default one with every timer of the table armed:
#: acceptance, proposal and dispute windows, and a reminder a day before each deadline.
POLICY: Final = Policy(
    acceptance_window=_DAY * 3,
    proposal_window=_DAY * 2,
    dispute_window=_DAY * 2,
    reminders=tuple(Reminder(deadline, _DAY) for deadline in Deadline),
)
#: Bounds of a search: how many orders it expands, how many steps a path may take, and
#: how many steps longer than the longest path it found a search for every state or
#: edge goes on without finding one more (those left cannot be reached, as far as it
#: can tell: ``expire`` with no acceptance window, ``join`` with an empty CX team).
MAX_NODES: Final = 50_000
MAX_DEPTH: Final = 16
PATIENCE: Final = 4


def _agent(policy: Policy) -> str | None:
    if policy.is_cx_member(AGENT):
        return AGENT
    team = sorted(policy.cx_team or ())
    return team[0] if team else None


class _Shapes:
    """What a search tells orders apart by: their structure, with each instant reduced to
    "passed or not" at the order's ``now``, texts to "given or not", Decimals to their
    sign, counts and lengths capped, plus the timers armed and whether they are due.
    Nothing here names a field: it reads whatever the order holds.

    Each part of an order is shaped once per search (once per instant if it holds any).
    """

    def __init__(self) -> None:
        self._known: dict[int, tuple[object, _dt.datetime | None, object]] = {}
        self._fields: dict[type, tuple[str, ...]] = {}

    def key(self, order: Order, now: pendulum.DateTime, policy: Policy) -> object:
        timers = tuple((t.timer, t.due_at <= now) for t in api.due_timers(order, policy))
        return (self._shape(order, now)[0], timers)

    def _shape(self, value: object, now: _dt.datetime) -> tuple[object, bool]:
        """The shape of ``value``, and whether it depends on ``now``."""
        if value is None or isinstance(value, (bool, enum.Enum)):
            return value, False
        if isinstance(value, int):
            return min(value, 4), False
        if isinstance(value, _dt.datetime):
            return value <= now, True
        if isinstance(value, (str, bytes)):
            return bool(value), False
        if isinstance(value, decimal.Decimal):
            return value.compare(0), False
        if isinstance(value, _dt.timedelta):
            return value, False
        known = self._known.get(id(value))
        if known is not None and known[0] is value and (known[1] is None or known[1] == now):
            return known[2], known[1] is not None
        shape, timed = self._compound(value, now)
        # Keep the value itself: its id stays its own while it is here. Orders share their
        # unchanged parts with the order they came from, mostly at the same instant.
        self._known[id(value)] = (value, now if timed else None, shape)
        return shape, timed

    def _compound(self, value: object, now: _dt.datetime) -> tuple[object, bool]:
        if isinstance(value, (tuple, list, frozenset, set)):
            items = list(value)
            if not items:
                return (0, None), False
            last, timed = self._shape(items[-1], now)
            return (min(len(items), 3), last), timed
        parts: list[object] = []
        timed = False
        if isinstance(value, Mapping):
            for name, item in sorted(value.items(), key=lambda pair: str(pair[0])):
                shape, dated = self._shape(item, now)
                parts.append((str(name), shape))
                timed = timed or dated
            return tuple(parts), timed
        kind = type(value)
        names = self._fields.get(kind)
        if names is None:
            if not attrs.has(kind):
                return repr(value), False
            names = self._fields[kind] = tuple(f.name for f in attrs.fields(kind))
        parts.append(kind.__name__)
        for name in names:
            shape, dated = self._shape(getattr(value, name), now)
            parts.append(shape)
            timed = timed or dated
        return tuple(parts), timed


Path = tuple[Move, ...]


def _search(
    order: Order,
    now: pendulum.DateTime,
    policy: Policy,
    agent: str | None,
    max_nodes: int = MAX_NODES,
) -> Iterator[tuple[Path, Move]]:
    """Breadth first from ``order``: each move of each order reached, with the path to it.

    Orders that look alike (``_Shapes``) are expanded once. The caller stops when it has
    what it needs; the search stops by itself after ``max_nodes`` orders or at
    ``MAX_DEPTH`` steps.
    """
    shapes = _Shapes()
    seen = {shapes.key(order, now, policy)}
    todo: deque[tuple[Order, pendulum.DateTime, Path]] = deque([(order, now, ())])
    expanded = 0
    with coverage.paused():  # exploring is not testing: count only the paths played
        while todo and expanded < max_nodes:
            current, at, path = todo.popleft()
            expanded += 1
            for instant in due_instants(current, at, policy):
                for move in moves(current, at, instant, policy, agent=agent):
                    yield path, move
                    if len(path) + 1 >= MAX_DEPTH:
                        continue
                    key = shapes.key(move.order, move.at, policy)
                    if key not in seen:
                        seen.add(key)
                        todo.append((move.order, move.at, (*path, move)))


def _answers(listing: Listing) -> dict[str, str]:
    """The buyer's answers a search places an order with, and ``play`` too unless told
    otherwise: every request of ``listing``, required or not, answered."""
    return {request.question: "An answer given in a test" for request in listing.requests}


def _placed(listing: Listing, policy: Policy) -> tuple[Order, pendulum.DateTime]:
    now = pendulum.datetime(2026, 1, 1, tz="UTC")
    placed = api.place(
        buyer=BUYER,
        seller=SELLER,
        listing=listing,
        answers=_answers(listing),
        now=now,
        policy=policy,
    )
    return placed.order, now


@functools.lru_cache(maxsize=32)
def _shortest(policy: Policy, listing: Listing) -> dict[OrderState, tuple[Step, ...]]:
    order, now = _placed(listing, policy)
    found: dict[OrderState, tuple[Step, ...]] = {order.state: ()}
    longest = 0
    for path, move in _search(order, now, policy, _agent(policy)):
        if len(path) > longest + PATIENCE:
            break
        if move.order.state not in found:
            found[move.order.state] = (*(m.step for m in path), move.step)
            longest = len(path) + 1
        if len(found) == len(OrderState):
            break
    return {state: found[state] for state in OrderState if state in found}


@functools.lru_cache(maxsize=32)
def _transitions(policy: Policy, listing: Listing) -> dict[Edge, tuple[Step, ...]]:
    order, now = _placed(listing, policy)
    table = coverage.edges()
    found: dict[Edge, tuple[Step, ...]] = {}
    longest = 0
    for path, move in _search(order, now, policy, _agent(policy)):
        if len(path) > longest + PATIENCE:
            break
        if move.edges and move.edges[-1] not in found:
            found[move.edges[-1]] = (*(m.step for m in path), move.step)
            longest = len(path) + 1
        if len(found) == len(table):
            break
    return {edge: found[edge] for edge in table if edge in found}


def _checked(policy: Policy | None, listing: Listing | None) -> tuple[Policy, Listing]:
    policy = POLICY if policy is None else policy
    listing = LISTING if listing is None else listing
    if not isinstance(policy, Policy):
        raise ValidationError("policy", f"must be a Policy, not {type(policy).__name__}")
    if not isinstance(listing, Listing):
        raise ValidationError("listing", f"must be a Listing, not {type(listing).__name__}")
    return policy, listing


def shortest(
    policy: Policy | None = None, *, listing: Listing | None = None
) -> dict[OrderState, tuple[Step, ...]]:
    """A shortest path from placement to every state that can be reached under ``policy``
    (default :data:`POLICY`) for an order of ``listing`` (default :data:`LISTING`)."""
    return dict(_shortest(*_checked(policy, listing)))


def transitions(
    policy: Policy | None = None, *, listing: Listing | None = None
) -> dict[Edge, tuple[Step, ...]]:
    """A shortest path ending with each edge of the table (``coverage.edges()``), timers
    included, in the table's order. Under the default :data:`POLICY` every edge is
    there; an edge that cannot be taken under ``policy`` (``expire`` without an
    acceptance window) is left out."""
    return dict(_transitions(*_checked(policy, listing)))


@functools.cache
def distances(states: frozenset[OrderState]) -> Mapping[OrderState, int]:
    """How many rows of the table an order needs at least to go from each state into one
    of ``states`` (guards ignored); states that never lead there are left out."""
    into: dict[OrderState, set[OrderState]] = {s: set() for s in OrderState}
    for rule in RULES:
        for source in rule.sources:
            for dest in rule.dests:
                into[dest].add(source)
    found = dict.fromkeys(states, 0)
    todo = deque(states)
    while todo:
        state = todo.popleft()
        for source in into[state]:
            if source not in found:
                found[source] = found[state] + 1
                todo.append(source)
    return MappingProxyType(found)


def route(
    order: Order,
    now: pendulum.DateTime,
    policy: Policy,
    states: Iterable[OrderState],
    *,
    agent: str | None = AGENT,
    max_moves: int = MAX_NODES,
    tiebreak: random.Random | None = None,
) -> Path | None:
    """A run of moves from ``order`` (as it is at ``now``) to an order in one of
    ``states``; ``()`` if it is in one, ``None`` if ``max_moves`` moves tried find none.

    Best first, lazily: the steps whose row of the table leads nearer to ``states``
    (:func:`distances`) are taken first, from the orders nearest to them, the shallower
    first among equals; so a way is found in a few moves, though not always the
    shortest. Steps that rank alike are taken in the table's order, or in the order
    ``tiebreak`` shuffles them into.
    """
    targets = frozenset(states)
    if order.state in targets:
        return ()
    away = distances(targets)
    if order.state not in away:
        return None
    shapes = _Shapes()
    seen = {shapes.key(order, now, policy)}
    count = itertools.count()
    todo: list[tuple[int, int, int, _Lead]] = [
        (away[order.state], 0, next(count), _Lead(order, now, ()))
    ]
    with coverage.paused():
        for _ in range(max_moves):
            if not todo:
                break
            entry = heapq.heappop(todo)
            lead = entry[-1]
            if lead.untried is None:
                lead.untried = iter(_ranked(lead, policy, agent, away, tiebreak))
            step = next(lead.untried, None)
            if step is None:
                continue
            heapq.heappush(todo, (*entry[:2], next(count), lead))  # its other steps later
            move = take(lead.order, lead.now, step, policy, agent=agent)
            if move is None:
                continue
            path, state = (*lead.path, move), move.order.state
            if state in targets:
                return path
            key = shapes.key(move.order, move.at, policy)
            if state in away and len(path) < MAX_DEPTH and key not in seen:
                seen.add(key)
                lead = _Lead(move.order, move.at, path)
                heapq.heappush(todo, (away[state], len(path), next(count), lead))
    return None


@attrs.define
class _Lead:
    """An order a route search reached, and the steps from it not taken yet."""

    order: Order
    now: pendulum.DateTime
    path: Path
    untried: Iterator[Step] | None = None


def _ranked(
    lead: _Lead,
    policy: Policy,
    agent: str | None,
    away: Mapping[OrderState, int],
    tiebreak: random.Random | None,
) -> list[Step]:
    """The steps of ``lead``'s order at each instant that matters, those whose row of the
    table leads nearest to the targets first."""
    far = len(OrderState)
    here = away.get(lead.order.state, far)
    fires = {t.timer: t.fires for t in TIMERS}

    def rank(step: Step) -> int:
        action = fires[step.action] if isinstance(step.action, Timer) else step.action
        dests = () if action is None else RULES_BY_ACTION[action].dests
        return min((away.get(d, far) for d in dests), default=here)

    found = [
        step
        for instant in due_instants(lead.order, lead.now, policy)
        for step in steps(lead.order, lead.now, instant, policy, agent=agent)
    ]
    if tiebreak is not None:
        tiebreak.shuffle(found)
    return sorted(found, key=rank)


def play(
    desk: OrderDesk,
    steps: Sequence[Step],
    *,
    clock: ManualClock,
    buyer: str = "buyer",
    seller: str = "seller",
    agent: str = "agent",
    listing: Listing | None = None,
    answers: Mapping[str, str] | None = None,
) -> Order:
    """Place a fresh order on ``desk`` and run ``steps`` through its public methods.

    The order is of ``listing`` (default :data:`LISTING`), with every request of it
    answered as the searches answer them, or with ``answers`` when given (as they are).
    Before each step ``clock`` (the ``ManualClock`` the desk reads) moves on by the
    step's wait, or, where that would not reach the timers the searches reached by it
    (under a calendar, from another day), to where the played order's same timers are
    due; an action runs as the step's role through ``desk.execute`` (the command
    its row of the table names, with the step's arguments), a timer step
    (:attr:`Step.is_timer`: a timer, a step by ``system``, or ``expire`` or
    ``auto_complete``) calls ``desk.tick()``, which must fire what it names. Returns the
    order after the last step. A step that cannot be played (not a ``Step``, an action
    the role never takes, an action no timer fires) is a ``ValidationError`` before
    anything is placed; a refused step raises the desk's error, with a note naming it.
    """
    if not isinstance(clock, ManualClock):
        raise ValidationError("clock", "must be the ManualClock the desk reads")
    ids = {Role.buyer: buyer, Role.seller: seller, Role.cx_agent: agent}
    for number, step in enumerate(steps, 1):
        _check_step(number, step, ids)
    listing = LISTING if listing is None else listing
    if answers is None and isinstance(listing, Listing):
        answers = _answers(listing)
    order = desk.place(buyer=buyer, seller=seller, listing=listing, answers=answers)
    policy = desk.policy
    # The path as the searches took it, from their own start: which deadline each wait
    # reached (``None`` once a step is not one the searches could have taken).
    shadow: tuple[Order, pendulum.DateTime] | None = (
        _placed(listing, policy) if isinstance(listing, Listing) else None
    )
    for number, step in enumerate(steps, 1):
        try:
            at = clock.now() + step.wait
            if shadow is not None:
                at = _landing(shadow, step, order, clock.now(), policy) or at
                with coverage.paused():  # following the searches is not testing
                    move = take(*shadow, step, policy, agent=_agent(policy))
                shadow = None if move is None else (move.order, move.at)
            clock.set(at)
            if step.is_timer:
                order = _fire(desk, order, step)
            else:
                command = RULES_BY_ACTION[Action(step.action)].command
                assert command is not None  # _check_step refused the rows without one
                by = Actor(ids[step.role], step.role)
                order = desk.execute(order.id, command(**step.kwargs), by=by)
        except OrderLifecycleError as error:
            error.add_note(f"while playing step {number} of {len(steps)}: {step}")
            raise
    return order


def _timer_key(timer: DueTimer) -> tuple[object, ...]:
    """A timer of an order, whatever its instant."""
    return (timer.timer, timer.action, timer.deadline, timer.before)


def _landing(
    shadow: tuple[Order, pendulum.DateTime],
    step: Step,
    order: Order,
    now: pendulum.DateTime,
    policy: Policy,
) -> pendulum.DateTime | None:
    """The instant the played ``order`` (left at ``now``) is where ``step`` found the
    searches' order (``shadow``: their order, left at their instant), after its wait:
    with the same timers ready.

    A search waits only until a timer falls due. Under a calendar the same wait from
    another day falls elsewhere (a working day is not always 24 hours away), and a timer
    ready at once on the searches' clock may not be yet on the played one; so the played
    clock moves to where the played order's same timers are ready. ``None`` when none
    was ready there, or the wait ended where no timer fell due (a path written by hand):
    the step's wait is then taken as it is."""
    searched, then = shadow
    reached = then + step.wait
    timers = api.due_timers(searched, policy)
    if step.wait and not any(t.due_at == reached for t in timers):
        return None
    keys = {_timer_key(t) for t in timers if t.ready(reached)}
    if not keys:
        return None
    mine = [t.due_at for t in api.due_timers(order, policy) if _timer_key(t) in keys]
    return max([now, *mine])


def _check_step(number: int, step: object, ids: Mapping[Role, str]) -> None:
    """Refuse a step ``play`` cannot run, whatever the order."""
    if not isinstance(step, Step):
        raise ValidationError("steps", f"step {number} is a {type(step).__name__}, not a Step")
    if step.is_timer:
        if not isinstance(step.action, Timer) and step.action not in TIMED:
            timed = ", ".join(sorted(TIMED))
            raise ValidationError(
                "steps",
                f"step {number}: no timer fires {step.action}, so {step.role} cannot take "
                f"it; a timer step names a Timer or an action a timer fires ({timed})",
            )
    elif step.role not in ids or RULES_BY_ACTION[Action(step.action)].command is None:
        raise ValidationError("steps", f"step {number}: {step.role} cannot take {step.action}")


def _fire(desk: OrderDesk, order: Order, step: Step) -> Order:
    desk.tick()
    after = desk.get(order.id)
    at = desk.clock.now().isoformat()
    if after.version == order.version:
        raise ActionNotAvailable(
            str(step.action), f"No timer of order {order.id} was due at {at}.", order.id
        )
    taken = [event.action for event in desk.history(order.id)[order.version :]]
    if not fired(step.action, taken):
        raise ActionNotAvailable(
            str(step.action),
            f"The timers of order {order.id} due at {at} fired {', '.join(taken)}, "
            f"not {step.action}.",
            order.id,
        )
    return after
