"""The lifecycle written by hand from the spec (sections 3 and 4), for the baselines.

A plain mutable record of an order (:class:`PlainOrder`), the transition table as a dict,
and the guards as plain functions of (order, role, actor id, now) that return ``True``
when the action is allowed. Every baseline uses these, so they differ only in how the
machine is driven. Written from the spec, not from the library's code.
"""

from __future__ import annotations

import datetime as dt
from typing import Final, NamedTuple

__all__ = [
    "ACTIVE",
    "GUARDS",
    "NOTE_REQUIRED",
    "PARTIES",
    "STATES",
    "TABLE",
    "Move",
    "PlainOrder",
    "apply",
    "edges",
    "guard",
]

STATES: Final = (
    "pending",
    "accepted",
    "delivered",
    "revision",
    "complete",
    "disputed",
    "cancelled",
)
ACTIVE: Final = ("accepted", "delivered", "revision")
PARTIES: Final = frozenset({"buyer", "seller"})
REVIEW_WINDOW: Final = dt.timedelta(days=7)

#: action -> (sources, destination: a state, None to stay, "*" for resolve's choice, roles)
TABLE: Final[dict[str, tuple[tuple[str, ...], str | None, frozenset[str]]]] = {
    "accept": (("pending",), "accepted", frozenset({"seller"})),
    "decline": (("pending",), "cancelled", frozenset({"seller"})),
    "withdraw": (("pending",), "cancelled", frozenset({"buyer"})),
    "expire": (("pending",), "cancelled", frozenset({"system"})),
    "deliver": (("accepted", "revision"), "delivered", frozenset({"seller"})),
    "approve": (("delivered",), "complete", frozenset({"buyer"})),
    "request_revision": (("delivered",), "revision", frozenset({"buyer"})),
    "auto_complete": (("delivered",), "complete", frozenset({"system"})),
    "propose_update": (ACTIVE, None, PARTIES),
    "accept_update": (ACTIVE, None, PARTIES),
    "reject_update": (ACTIVE, None, PARTIES),
    "withdraw_update": (ACTIVE, None, PARTIES),
    "dispute": (ACTIVE, "disputed", PARTIES),
    "join": (("disputed", "cancelled"), None, frozenset({"cx_agent"})),
    "resolve": (("disputed",), "*", frozenset({"cx_agent"})),
    "cancel": (ACTIVE, "cancelled", PARTIES),
    "say": (STATES, None, frozenset({"buyer", "seller", "cx_agent"})),
}
RESOLVE_DESTS: Final = ("accepted", "delivered", "revision", "complete", "cancelled")
#: Actions whose text argument must not be empty (validation, after availability).
NOTE_REQUIRED: Final = frozenset({"request_revision", "dispute", "resolve", "cancel"})


class Move(NamedTuple):
    """One command as the baselines take it: who does what, when, with which arguments."""

    action: str
    role: str
    actor: str
    now: dt.datetime
    #: Where ``resolve`` goes (the outcome, already turned into a state).
    target: str | None = None
    note: str = ""
    due_at: dt.datetime | None = None
    revisions: int | None = None


class PlainOrder:
    """What the guards need of an order, as plain attributes (no ``__slots__``: the
    ``transitions`` and ``python-statemachine`` baselines attach to it as their model)."""

    def __init__(
        self,
        order_id: str,
        buyer: str,
        seller: str,
        *,
        state: str = "pending",
        revisions: int = 2,
        delivery: dt.timedelta = dt.timedelta(days=7),
        at: dt.datetime,
    ) -> None:
        self.id = order_id
        self.buyer = buyer
        self.seller = seller
        self.state = state
        self.revisions = revisions
        self.revisions_used = 0
        self.delivery = delivery
        self.due_at: dt.datetime | None = None
        self.review_due_at: dt.datetime | None = None
        self.proposal_role: str | None = None
        self.proposal_due_at: dt.datetime | None = None
        self.proposal_revisions: int | None = None
        self.dispute_from: str | None = None
        self.agent: str | None = None
        self.cancelled_by_party = False
        self.cancel_agent: str | None = None
        self.version = 1
        self.updated_at = at

    def copy(self) -> PlainOrder:
        """A shallow copy (the floor's orders are immutable: each decision makes a new one)."""
        new = object.__new__(PlainOrder)
        new.__dict__.update(self.__dict__)
        return new


def _past_due(o: PlainOrder, now: dt.datetime) -> bool:
    return o.state in ("accepted", "revision") and o.due_at is not None and now >= o.due_at


def _participant(o: PlainOrder, role: str, actor: str) -> bool:
    if role == "buyer":
        return actor == o.buyer
    if role == "seller":
        return actor == o.seller
    return role in ("cx_agent", "system")


def _g_true(o: PlainOrder, role: str, actor: str, now: dt.datetime) -> bool:
    return True


def _g_revisions_left(o: PlainOrder, role: str, actor: str, now: dt.datetime) -> bool:
    return o.revisions_used < o.revisions


def _g_review_elapsed(o: PlainOrder, role: str, actor: str, now: dt.datetime) -> bool:
    return o.review_due_at is not None and now >= o.review_due_at


def _g_no_proposal(o: PlainOrder, role: str, actor: str, now: dt.datetime) -> bool:
    return o.proposal_role is None


def _g_counterparty(o: PlainOrder, role: str, actor: str, now: dt.datetime) -> bool:
    return o.proposal_role is not None and o.proposal_role != role


def _g_proposer(o: PlainOrder, role: str, actor: str, now: dt.datetime) -> bool:
    return o.proposal_role is not None and o.proposal_role == role


def _g_no_agent(o: PlainOrder, role: str, actor: str, now: dt.datetime) -> bool:
    if o.state == "disputed":
        return o.agent is None
    return o.cancelled_by_party and o.cancel_agent is None


def _g_joined_agent(o: PlainOrder, role: str, actor: str, now: dt.datetime) -> bool:
    return o.agent is not None and o.agent == actor


def _g_cancel(o: PlainOrder, role: str, actor: str, now: dt.datetime) -> bool:
    return _past_due(o, now) or (o.state == "delivered" and o.revisions_used >= o.revisions)


def _g_say(o: PlainOrder, role: str, actor: str, now: dt.datetime) -> bool:
    return role != "cx_agent" or actor in (o.agent, o.cancel_agent)


GUARDS: Final = {
    "accept": _g_true,
    "decline": _g_true,
    "withdraw": _g_true,
    "expire": _g_true,
    "deliver": _g_true,
    "approve": _g_true,
    "request_revision": _g_revisions_left,
    "auto_complete": _g_review_elapsed,
    "propose_update": _g_no_proposal,
    "accept_update": _g_counterparty,
    "reject_update": _g_counterparty,
    "withdraw_update": _g_proposer,
    "dispute": _g_true,
    "join": _g_no_agent,
    "resolve": _g_joined_agent,
    "cancel": _g_cancel,
    "say": _g_say,
}


def guard(action: str, o: PlainOrder, role: str, actor: str, now: dt.datetime) -> bool:
    """Participant, role, state and the action's own guard: may ``actor`` take it now?"""
    sources, _, roles = TABLE[action]
    return (
        _participant(o, role, actor)
        and role in roles
        and o.state in sources
        and GUARDS[action](o, role, actor, now)
    )


def edges() -> list[tuple[str, str, str | None]]:
    """(action, source, destination) for every edge; ``None`` stays in the state."""
    found: list[tuple[str, str, str | None]] = []
    for action, (sources, dest, _) in TABLE.items():
        for source in sources:
            if dest == "*":
                found.extend((action, source, d) for d in RESOLVE_DESTS)
            else:
                found.append((action, source, dest))
    return found


def apply(
    o: PlainOrder,
    action: str,
    role: str,
    actor: str,
    now: dt.datetime,
    *,
    target: str | None = None,
    due_at: dt.datetime | None = None,
    revisions: int | None = None,
) -> None:
    """The effect of ``action`` on ``o`` (mutated in place), beside its state change."""
    o.version += 1
    o.updated_at = now
    if action == "accept":
        o.due_at = now + o.delivery
    elif action == "deliver":
        o.review_due_at = now + REVIEW_WINDOW
    elif action == "request_revision":
        o.revisions_used += 1
    elif action == "propose_update":
        o.proposal_role = role
        o.proposal_due_at = due_at
        o.proposal_revisions = revisions
    elif action == "accept_update":
        if o.proposal_due_at is not None:
            o.due_at = o.proposal_due_at
        if o.proposal_revisions is not None:
            o.revisions = o.proposal_revisions
        o.proposal_role = o.proposal_due_at = o.proposal_revisions = None
    elif action in ("reject_update", "withdraw_update"):
        o.proposal_role = o.proposal_due_at = o.proposal_revisions = None
    elif action == "dispute":
        o.dispute_from = o.state
        o.proposal_role = o.proposal_due_at = o.proposal_revisions = None
    elif action == "join":
        if o.state == "disputed":
            o.agent = actor
        else:
            o.cancel_agent = actor
    elif action == "resolve" and target == "delivered":
        o.review_due_at = now + REVIEW_WINDOW
    elif action == "cancel":
        o.cancelled_by_party = True
        o.proposal_role = o.proposal_due_at = o.proposal_revisions = None
