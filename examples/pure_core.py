"""A host application on the pure core alone, with persistence of its own.

The core decides; the host stores. Here the "database" is a dict keyed by order id that
holds each order and its events, with an optimistic check on the order's version, the
way a host would wrap its own tables. Every instant is passed explicitly: the core never
reads a clock.

Run it with ``python examples/pure_core.py``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pendulum

from order_lifecycle import (
    Action,
    ActionNotAvailable,
    Attachment,
    BuyerRequest,
    Event,
    Listing,
    Money,
    Order,
    Policy,
    core,
)

POLICY = Policy(review_window=pendulum.duration(days=7))


@dataclass
class StoredOrder:
    """One row of the host's store: the latest order and its history, oldest first."""

    order: Order
    events: list[Event] = field(default_factory=list)


class VersionConflict(Exception):
    """Someone else changed the order since it was read."""


class OrderStore:
    """The host's own persistence: a dict keyed by order id."""

    def __init__(self) -> None:
        self._rows: dict[str, StoredOrder] = {}

    def add(self, decision: core.Decision) -> Order:
        """Store a newly placed order and its first event."""
        order = decision.order
        if order.id in self._rows:
            raise VersionConflict(f"order {order.id} already exists")
        self._rows[order.id] = StoredOrder(order, list(decision.events))
        return order

    def get(self, order_id: str) -> Order:
        """The latest version of an order."""
        return self._rows[order_id].order

    def save(self, decision: core.Decision, *, read_version: int) -> Order:
        """Store a decision, if the order is still at the version it was read at."""
        row = self._rows[decision.order.id]
        if row.order.version != read_version:
            raise VersionConflict(
                f"order {row.order.id} is at version {row.order.version}, not {read_version}"
            )
        row.order = decision.order
        row.events.extend(decision.events)
        return decision.order

    def history(self, order_id: str) -> list[Event]:
        """Every event of an order, oldest first."""
        return list(self._rows[order_id].events)


def show_event(event: Event) -> None:
    """Print one event as a line of the order's history."""
    print(
        f"  #{event.seq} {event.at.to_iso8601_string()} {event.kind}"
        f" by {event.actor} -> {event.state}"
    )


def show_buyer_step(order: Order, now: pendulum.DateTime) -> None:
    """Print what the order chatbot tells the buyer now."""
    print(
        f"  buyer's next step: {core.next_step(order, actor=order.buyer, now=now, policy=POLICY)}"
    )


def act(
    store: OrderStore, order_id: str, command: core.Command, *, by: str, now: pendulum.DateTime
) -> Order:
    """Load, decide, save and report: the host's whole command handler."""
    order = store.get(order_id)
    decision = core.decide(order, command, actor=by, now=now, policy=POLICY)
    saved = store.save(decision, read_version=order.version)
    print(f"{by}: {command.action}")
    for event in decision.events:
        show_event(event)
    show_buyer_step(saved, now)
    return saved


def attachment(name: str, content: bytes, media_type: str) -> Attachment:
    """Describe a file the host's blob store keeps (here: content-addressed, in memory)."""
    digest = hashlib.sha256(content).hexdigest()
    return Attachment(
        name=name, size=len(content), media_type=media_type, sha256=digest, uri=f"mem://{digest}"
    )


def main() -> int:
    """Play one order from purchase to completion and print what happens."""
    store = OrderStore()
    start = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
    listing = Listing(
        title="Instagram post",
        price=Money("150.00", "USD"),
        delivery=pendulum.duration(days=7),
        revisions=2,
        requests=(BuyerRequest("Which product should the post show?", required=True),),
    )

    placed = core.place(
        buyer="alice",
        seller="bob",
        listing=listing,
        answers={"Which product should the post show?": "The blue sneakers"},
        now=start,
        policy=POLICY,
        order_id="ord_1",
    )
    order = store.add(placed)
    print("alice: place")
    for event in placed.events:
        show_event(event)
    show_buyer_step(order, start)

    now = start.add(hours=2)
    order = act(store, order.id, core.Accept(), by="bob", now=now)

    # Why can't the buyer cancel now? The same rule that would refuse the command says why.
    for option in core.options(order, actor="alice", now=now, policy=POLICY):
        if option.action is Action.cancel and not option.available:
            print(f"  alice cannot {option.action} yet")
            print(f"  reason: {option.reason}")

    # A refused command raises and changes nothing in the store.
    try:
        core.decide(order, core.Approve(), actor="alice", now=now, policy=POLICY)
    except ActionNotAvailable as error:
        print(f"  refused: alice approve -> {error.reason}")
    print(f"  the store still holds {len(store.history(order.id))} events")

    draft = attachment("post-v1.png", b"first draft", "image/png")
    now = now.add(days=3)
    order = act(store, order.id, core.Deliver(files=(draft,)), by="bob", now=now)
    for timer in core.due_timers(order, policy=POLICY):
        print(f"  armed: {timer.timer} fires {timer.action} at {timer.due_at.to_iso8601_string()}")

    now = now.add(days=1)
    order = act(
        store, order.id, core.RequestRevision(note="Warmer colours, please"), by="alice", now=now
    )

    final = attachment("post-v2.png", b"warmer draft", "image/png")
    now = now.add(days=2)
    order = act(store, order.id, core.Deliver(files=(final,), note="Warmer now"), by="bob", now=now)

    now = now.add(hours=20)
    order = act(store, order.id, core.Approve(), by="alice", now=now)

    print(f"final state: {store.get(order.id).state}")
    print(f"events recorded: {len(store.history(order.id))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
