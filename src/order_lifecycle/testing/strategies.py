"""Hypothesis strategies for the values, orders and commands of the lifecycle.

Orders are never built by hand: :func:`orders` places one with ``core.place`` and walks
it through random moves of the pure core (commands by the parties and a CX agent, waits,
timers that fire), read from the table. Asked for a state, it steers there by a search
over the same moves. Needs the ``testing`` extra (Hypothesis).

>>> from hypothesis import given
>>> from order_lifecycle import OrderState, core
>>> @given(orders(state=OrderState.delivered))
... def test_a_delivered_order_can_be_approved(order):
...     options = core.options(order, actor=order.buyer, now=order.updated_at, policy=POLICY)
...     assert next(o for o in options if o.action == "approve").available
>>> test_a_delivered_order_can_be_approved()
"""

from __future__ import annotations

import datetime as _dt
import decimal
import random
from collections.abc import Iterable, Sequence
from typing import Final, TypeVar

import pendulum
from hypothesis import strategies as st

from order_lifecycle.core import api
from order_lifecycle.core import values as v
from order_lifecycle.core.commands import Command
from order_lifecycle.core.model import (
    Actor,
    BuyerRequest,
    Listing,
    Money,
    Order,
    OrderState,
    Policy,
    Role,
)
from order_lifecycle.core.table import RULES
from order_lifecycle.errors import ValidationError
from order_lifecycle.testing import coverage
from order_lifecycle.testing.arguments import variants
from order_lifecycle.testing.moves import Move, due_instants, steps, take
from order_lifecycle.testing.paths import POLICY, distances, route

__all__ = [
    "POLICY",
    "commands",
    "instants",
    "listings",
    "money",
    "orders",
    "policies",
    "user_ids",
]

#: Moves an order takes at most before ``orders`` steers it to the state asked for.
MAX_WALK: Final = 12
#: How many moves ``orders`` tries on from the end of its walk towards the state asked
#: for before it starts again from placement (from where any reachable state is found).
STEER_MOVES: Final = 200

T = TypeVar("T")

_ZONES: Final = ("UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Chatham")
_ID_CHARS: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@+"
_TEXT: Final = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=60
).filter(str.strip)


def money(currency: str | None = None) -> st.SearchStrategy[Money]:
    """Amounts above zero with no more decimals than the currency has (any ISO 4217
    currency when ``currency`` is ``None``)."""
    if currency is not None and currency not in v.CURRENCY_MINOR_UNITS:
        raise ValidationError("currency", f"{currency!r} is not an ISO 4217 currency code")
    codes = st.just(currency) if currency else st.sampled_from(sorted(v.CURRENCY_MINOR_UNITS))

    def of(code: str) -> st.SearchStrategy[Money]:
        places = v.CURRENCY_MINOR_UNITS[code]
        return st.integers(1, 10**9).map(
            lambda minor: Money(decimal.Decimal(minor).scaleb(-places), code)
        )

    return codes.flatmap(of)


def _durations(
    least: pendulum.Duration, most: pendulum.Duration
) -> st.SearchStrategy[pendulum.Duration]:
    low, high = int(least.total_seconds()) // 60, int(most.total_seconds()) // 60
    return st.integers(low, high).map(lambda minutes: pendulum.duration(minutes=minutes))


def listings(currency: str | None = None) -> st.SearchStrategy[Listing]:
    """Listings: a title, a price, a delivery time from an hour to 30 days, 0-3 revisions,
    and sometimes questions for the buyer (``orders`` answers them)."""
    requests = st.lists(
        st.builds(BuyerRequest, _TEXT.filter(lambda t: "\n" not in t), st.booleans()),
        max_size=2,
        unique_by=lambda r: r.question,
    )
    return st.builds(
        Listing,
        _TEXT,
        money(currency),
        _durations(pendulum.duration(hours=1), pendulum.duration(days=30)),
        st.integers(0, 3),
        requests,
    )


def policies() -> st.SearchStrategy[Policy]:
    """Policies: review windows of 1-14 days, an acceptance window or none, a CX team or
    anyone, and the default limits."""
    return st.builds(
        Policy,
        review_window=_durations(pendulum.duration(days=1), pendulum.duration(days=14)),
        acceptance_window=st.none()
        | _durations(pendulum.duration(hours=1), pendulum.duration(days=7)),
        cx_team=st.none() | st.frozensets(user_ids(), min_size=1, max_size=3),
    )


def instants() -> st.SearchStrategy[pendulum.DateTime]:
    """Timezone-aware instants from 2000 to 2100, shown in a few zones (the core keeps
    UTC). Local times that a clock change repeats are left out: Python never finds one
    equal to the same instant in another zone (PEP 495)."""
    return st.builds(
        _in_zone,
        st.datetimes(
            min_value=pendulum.datetime(2000, 1, 1).naive(),
            max_value=pendulum.datetime(2100, 1, 1).naive(),
        ),
        st.sampled_from(_ZONES),
    ).filter(_unambiguous)


def _in_zone(utc: _dt.datetime, zone: str) -> pendulum.DateTime:
    return pendulum.instance(utc.replace(tzinfo=_dt.UTC)).in_timezone(zone)


def _unambiguous(at: _dt.datetime) -> bool:
    return at.replace(fold=1 - at.fold).utcoffset() == at.utcoffset()


def user_ids() -> st.SearchStrategy[str]:
    """User ids as the library takes them: 1-30 printable characters without spaces."""
    return st.text(st.sampled_from(_ID_CHARS), min_size=1, max_size=30)


def _states(
    state: OrderState | str | Iterable[OrderState | str] | None,
) -> frozenset[OrderState] | None:
    if state is None:
        return None
    items = [state] if isinstance(state, (OrderState, str)) else list(state)
    found: set[OrderState] = set()
    for item in items:
        try:
            found.add(OrderState(item))
        except ValueError:
            choices = ", ".join(s.value for s in OrderState)
            raise ValidationError(
                "state", f"{item!r} is not a state; use one of {choices}"
            ) from None
    if not found:
        raise ValidationError("state", "name at least one state")
    return frozenset(found)


_LISTINGS: Final = listings()
_USER_IDS: Final = user_ids()
_INSTANTS: Final = instants()
# Strategies are built once: building and validating one at each draw costs more than
# the draw itself.
_INDEX: Final = st.integers(0, 2**16 - 1)
_BOOLEANS: Final = st.booleans()
_WALKS: Final = st.integers(0, MAX_WALK)
_PAUSES: Final = st.integers(1, 72 * 60)
_LATER: Final = st.integers(0, 14 * 24 * 60)


def _pick(draw: st.DrawFn, items: Sequence[T], label: str) -> T:
    """One of ``items`` (not empty), shrinking towards the first."""
    return items[draw(_INDEX, label=label) % len(items)]


def _other(draw: st.DrawFn, taken: Iterable[str], label: str) -> str:
    """A user id that is none of ``taken``."""
    user = draw(_USER_IDS, label=label)
    while user in taken:
        user += "_"
    return user


def _agent(draw: st.DrawFn, policy: Policy, parties: tuple[str, str]) -> str | None:
    """A CX agent the policy accepts, who is not a party; ``None`` if there is none."""
    if policy.cx_team is None:
        return _other(draw, parties, "agent")
    team = sorted(policy.cx_team - set(parties))
    return _pick(draw, team, "agent") if team else None


@st.composite
def _walked(draw: st.DrawFn, targets: frozenset[OrderState] | None, policy: Policy) -> Order:
    listing = draw(_LISTINGS, label="listing")
    buyer = draw(_USER_IDS, label="buyer")
    seller = _other(draw, (buyer,), "seller")
    answers = {
        r.question: draw(_TEXT, label="answer")
        for r in listing.requests
        if r.required or draw(_BOOLEANS, label="answered")
    }
    placed_at = draw(_INSTANTS, label="placed_at")
    agent = _agent(draw, policy, (buyer, seller))
    with coverage.paused():  # making inputs is not testing: count what tests do with them
        placed = api.place(
            buyer=buyer,
            seller=seller,
            listing=listing,
            answers=answers,
            now=placed_at,
            policy=policy,
        ).order
        order, now = placed, placed.placed_at
        seen = [order]
        for _ in range(draw(_WALKS, label="moves")):
            later = now.add(minutes=draw(_PAUSES, label="pause_minutes"))
            at = _pick(draw, [*due_instants(order, now, policy), later], "at")
            move = _move(draw, order, now, at, policy, agent=agent, targets=targets)
            if move is None:
                break
            order, now = move.order, move.at
            seen.append(order)
        if targets is None or order.state in targets:
            return order
        return _steer(draw, order, now, targets, policy, agent=agent, placed=placed, seen=seen)


def _move(
    draw: st.DrawFn,
    order: Order,
    now: pendulum.DateTime,
    at: pendulum.DateTime,
    policy: Policy,
    *,
    agent: str | None,
    targets: frozenset[OrderState] | None,
) -> Move | None:
    """One of the steps the order offers at ``at``, taken; ``None`` if none can be. With
    ``targets``, only moves after which those states can still be reached count."""
    offered = steps(order, now, at, policy, agent=agent)
    while offered:
        step = _pick(draw, offered, "step")
        move = take(order, now, step, policy, agent=agent)
        if move is not None and (targets is None or move.order.state in distances(targets)):
            return move
        offered.remove(step)
    return None


def _steer(
    draw: st.DrawFn,
    order: Order,
    now: pendulum.DateTime,
    targets: frozenset[OrderState],
    policy: Policy,
    *,
    agent: str | None,
    placed: Order,
    seen: list[Order],
) -> Order:
    """An order in ``targets``: the walk's last order that was there, else on from the end
    of the walk if a short search finds a way, else a way from placement."""
    earlier = [o for o in seen if o.state in targets]
    if earlier:
        return earlier[-1]
    tiebreak = random.Random(draw(_INDEX, label="tiebreak"))  # noqa: S311 - a test input, no secret
    path = route(
        order, now, policy, targets, agent=agent, max_moves=STEER_MOVES, tiebreak=tiebreak
    ) or route(placed, placed.placed_at, policy, targets, agent=agent, tiebreak=tiebreak)
    if not path:
        names = ", ".join(sorted(targets))
        raise ValidationError("state", f"no order reaches {names} under this policy")
    return path[-1].order


def orders(
    state: OrderState | str | Iterable[OrderState | str] | None = None,
    *,
    policy: Policy | None = None,
) -> st.SearchStrategy[Order]:
    """Orders reached by a random valid path of commands and timers from ``core.place``,
    under ``policy`` (default :data:`POLICY`, whose acceptance window lets pending
    orders expire), ending in ``state`` (a state or several) when given.

    Every state comes out, by every way into it: cancelled declined, withdrawn, expired,
    by a party or by a CX agent; complete approved, auto-completed or resolved.
    """
    targets = _states(state)
    policy = POLICY if policy is None else policy
    if not isinstance(policy, Policy):
        raise ValidationError("policy", f"must be a Policy, not {type(policy).__name__}")
    if targets is None:  # every state as often, rather than mostly the early ones
        return st.sampled_from(list(OrderState)).flatmap(
            lambda target: _walked(frozenset({target}), policy)
        )
    return _walked(targets, policy)


@st.composite
def _commands(
    draw: st.DrawFn, order: Order, policy: Policy
) -> tuple[Command, Actor, pendulum.DateTime]:
    rule = _pick(draw, _COMMAND_RULES, "action")
    assert rule.command is not None
    kwargs = _pick(draw, variants(rule.command, order), "arguments")
    parties = (order.buyer, order.seller)
    stranger = _other(draw, parties, "stranger")
    agents = [*order.agents]
    fresh = _agent(draw, policy, parties)
    if fresh is not None:
        agents.append(fresh)
    cast = [
        Actor(order.buyer, Role.buyer),
        Actor(order.seller, Role.seller),
        *(Actor(agent, Role.cx_agent) for agent in agents),
        Actor(stranger, _pick(draw, [Role.buyer, Role.seller], "posing_as")),
        Actor.system(),
    ]
    actor = _pick(draw, cast, "actor")
    later = order.updated_at.add(minutes=draw(_LATER, label="minutes"))
    due = [t.due_at for t in api.due_timers(order, policy) if t.due_at >= order.updated_at]
    now = _pick(draw, [later, *due], "now")
    return rule.command(**kwargs), actor, now


#: The rows of the table that run a command (all but ``place``).
_COMMAND_RULES: Final = tuple(rule for rule in RULES if rule.command is not None)


def commands(
    order: Order, *, policy: Policy | None = None
) -> st.SearchStrategy[tuple[Command, Actor, pendulum.DateTime]]:
    """``(command, actor, now)`` for ``order``, available or not: any command of the table
    with valid sample arguments, by its buyer, seller, a CX agent (joined or not), a
    stranger posing as a party or the system, at ``updated_at`` or later (often exactly
    when a timer falls due). ``policy`` (default :data:`POLICY`) picks the CX agents."""
    if not isinstance(order, Order):
        raise ValidationError("order", f"must be an Order, not {type(order).__name__}")
    policy = POLICY if policy is None else policy
    return _commands(order, policy)
