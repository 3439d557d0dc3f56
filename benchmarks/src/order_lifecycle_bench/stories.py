"""Realistic orders for the benchmarks: the seed's stories, walked through the core.

Each story is one order from purchase on: the happy path, revisions, a contract update
accepted or rejected, a dispute resumed by CX, a decline, a withdrawal, a cancellation
past the due date. :func:`stories` walks them with the library's core and records every
command with the order as it was before it (so that ``decide`` can be timed on fixed
inputs), together with the same command for the baselines (:class:`Move`) and the
baselines' own order record, checked to reach the same state as the library.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import pendulum
from order_lifecycle import Actor, Attachment, Listing, Money, Order, core
from order_lifecycle.desk.writes import write_for
from order_lifecycle.ports import Write

from order_lifecycle_bench.baselines import dict_machine
from order_lifecycle_bench.baselines.table import Move, PlainOrder

__all__ = [
    "AGENT",
    "BUYER",
    "SELLER",
    "T0",
    "Step",
    "as_write",
    "attachment",
    "listing",
    "stories",
]

T0: Final = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
BUYER: Final = "alice"
SELLER: Final = "bob"
AGENT: Final = "carol"
_ACTORS: Final = {
    "buyer": Actor.buyer(BUYER),
    "seller": Actor.seller(SELLER),
    "cx_agent": Actor.cx(AGENT),
}


def listing(n: int = 0) -> Listing:
    """The seed's listing: an Instagram post for 150.00 USD, 7 days, 2 revisions."""
    return Listing(f"Instagram post #{n}", Money("150.00", "USD"), pendulum.duration(days=7), 2)


def attachment(name: str = "post.png", content: bytes = b"png bytes") -> Attachment:
    """A file as the blob store would have stored it."""
    digest = hashlib.sha256(content).hexdigest()
    return Attachment(name, len(content), "image/png", digest, f"blob:{digest}")


def as_write(before: int, decision: core.Decision) -> Write:
    """What the desk writes for a decision on an order at version ``before`` (0: new):
    the desk's own ``write_for`` (the order, its events, the outbox rows, the
    participants, the next timer, and the inbox's columns: who the order waits on and
    its newest chat entry), so loaded data is what the library writes."""
    return write_for(before, decision, core.DEFAULT_POLICY)


@dataclass(frozen=True)
class Step:
    """One command of a story, with the order before it."""

    order: Order
    command: core.Command
    actor: Actor
    now: pendulum.DateTime
    #: The same command for the baselines, and their order record before it.
    move: Move
    plain: PlainOrder
    before: str
    after: str


# (role, command for the core, hours since the previous command, extras for the move)
Script = list[tuple[str, Callable[[pendulum.DateTime], core.Command], float, dict[str, object]]]


def _scripts() -> dict[str, Script]:
    post = attachment()
    return {
        "happy": [
            ("seller", lambda _: core.Accept(), 1, {}),
            ("buyer", lambda _: core.Say(text="Hi! Tag @alice please."), 2, {}),
            ("seller", lambda _: core.Deliver(files=[post]), 30, {}),
            ("buyer", lambda _: core.Approve(), 5, {}),
        ],
        "revisions": [
            ("seller", lambda _: core.Accept(), 1, {}),
            ("seller", lambda _: core.Deliver(files=[post], note="First cut"), 24, {}),
            ("buyer", lambda _: core.RequestRevision(note="Warmer colours please"), 3, {}),
            ("seller", lambda _: core.Deliver(files=[post]), 20, {}),
            ("buyer", lambda _: core.RequestRevision(note="Bigger logo"), 2, {}),
            ("seller", lambda _: core.Deliver(outside=True, note="Posted live"), 10, {}),
            ("buyer", lambda _: core.Approve(), 1, {}),
        ],
        "update": [
            ("seller", lambda _: core.Accept(), 1, {}),
            (
                "seller",
                lambda now: core.ProposeUpdate(due_at=now.add(days=14)),
                4,
                {"due_days": 14},
            ),
            ("buyer", lambda _: core.AcceptUpdate(), 2, {}),
            ("seller", lambda _: core.Deliver(outside=True), 48, {}),
            ("buyer", lambda _: core.Approve(), 6, {}),
        ],
        "dispute": [
            ("seller", lambda _: core.Accept(), 1, {}),
            ("buyer", lambda _: core.Dispute(reason="No answer to my messages"), 50, {}),
            ("cx_agent", lambda _: core.Join(), 1, {}),
            (
                "cx_agent",
                lambda _: core.Resolve(outcome="resume", note="Seller is back; go on"),
                2,
                {"target": "accepted"},
            ),
            ("seller", lambda _: core.Deliver(files=[post]), 12, {}),
            ("buyer", lambda _: core.Approve(), 3, {}),
        ],
        "decline": [("seller", lambda _: core.Decline(reason="Fully booked"), 3, {})],
        "withdraw": [("buyer", lambda _: core.Withdraw(reason="Changed my mind"), 1, {})],
        "late": [
            ("seller", lambda _: core.Accept(), 1, {}),
            ("buyer", lambda _: core.Cancel(reason="Nothing delivered on time"), 8 * 24, {}),
        ],
        "rejected_update": [
            ("seller", lambda _: core.Accept(), 1, {}),
            (
                "buyer",
                lambda _: core.ProposeUpdate(price=Money("200.00", "USD"), revisions=3),
                5,
                {"revisions": 3},
            ),
            ("seller", lambda _: core.RejectUpdate(), 2, {}),
            ("seller", lambda _: core.Say(text="Happy to stay at 150."), 1, {}),
            ("seller", lambda _: core.Deliver(files=[post]), 30, {}),
            ("buyer", lambda _: core.Approve(), 2, {}),
        ],
    }


def _note(command: core.Command) -> str:
    for name in ("note", "reason", "text"):
        value = getattr(command, name, None)
        if isinstance(value, str) and value:
            return value
    return ""


def stories(sets: int, *, start: int = 0) -> list[list[Step]]:
    """``sets`` times every story, each a new order; the commands of each order in turn."""
    walked: list[list[Step]] = []
    scripts = _scripts()
    n = start
    for _ in range(sets):
        for name, script in scripts.items():
            n += 1
            now = T0.add(minutes=n)
            order = core.place(
                buyer=BUYER, seller=SELLER, listing=listing(n), now=now, order_id=f"o{n}_{name}"
            ).order
            plain = PlainOrder(order.id, BUYER, SELLER, at=now)
            steps: list[Step] = []
            for role, make, hours, extra in script:
                now = now.add(minutes=int(hours * 60))
                command = make(now)
                actor = _ACTORS[role]
                due_days = extra.get("due_days")
                revisions = extra.get("revisions")
                target = extra.get("target")
                move = Move(
                    command.action.value,
                    role,
                    actor.id,
                    now,
                    target=None if target is None else str(target),
                    note=_note(command),
                    due_at=now.add(days=int(str(due_days))) if due_days is not None else None,
                    revisions=None if revisions is None else int(str(revisions)),
                )
                decision = core.decide(order, command, actor=actor, now=now)
                after, _ = dict_machine.decide(plain, move)
                new = decision.order
                if after.state != new.state.value:
                    raise AssertionError(
                        f"baseline reached {after.state}, the library {new.state}: {name}"
                    )
                steps.append(
                    Step(order, command, actor, now, move, plain, order.state.value, new.state)
                )
                order, plain = new, after
            walked.append(steps)
    return walked
