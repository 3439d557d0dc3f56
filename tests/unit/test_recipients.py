"""Who hears of an event (``core.recipients.notifications_for``), against the rule as its
docstring states it: every participant but the one who caused the event; disputes,
escalations and cancellations also the CX team; every settlement also payments; a
reminder only the party it reminds."""

from __future__ import annotations

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st
from test_notices import every_event, seed_story

from order_lifecycle.core.events import Event, ReminderSent
from order_lifecycle.core.model import Actor, Order, Role
from order_lifecycle.core.recipients import ALERTS_CX, CX_TEAM, PAYMENTS, notifications_for
from order_lifecycle.testing import strategies

EVENTS = every_event()


def expected(order: Order, event: Event) -> list[tuple[str, Role]]:
    if isinstance(event, ReminderSent):
        return [(event.recipient, event.role)]
    everyone = [(order.buyer, Role.buyer), (order.seller, Role.seller)]
    everyone += [(agent, Role.cx_agent) for agent in order.agents]
    found = [(u, r) for u, r in everyone if (u, r) != (event.actor.id, event.actor.role)]
    if event.kind in ALERTS_CX:
        found.append((CX_TEAM, Role.cx_agent))
    if getattr(event, "payout", None) is not None:
        found.append((PAYMENTS, Role.system))
    return found


@settings(max_examples=100, deadline=None)
@given(strategies.orders(), st.sampled_from(EVENTS), st.integers(0, 4), st.data())
def test_each_event_goes_to_everyone_it_concerns_but_its_author(
    order: Order, event: Event, pick: int, data: st.DataObject
) -> None:
    candidates = [
        Actor.buyer(order.buyer),
        Actor.seller(order.seller),
        *(Actor.cx(a) for a in order.agents),
        Actor.system(),
        Actor.cx(data.draw(strategies.user_ids(), "another agent")),
    ]
    actor = candidates[pick % len(candidates)]
    mine = attrs.evolve(event, order_id=order.id, actor=actor)
    rows = notifications_for(order, [mine])
    assert [(n.recipient, n.role) for n in rows] == expected(order, mine)
    assert {(n.order_id, n.seq, n.kind) for n in rows} <= {(order.id, mine.seq, mine.kind)}


def test_an_agent_who_joined_hears_of_the_parties_messages_but_not_their_own() -> None:
    order = attrs.evolve(seed_story().order, buyer="alice", seller="bob", agents=("carol",))
    said = next(e for e in EVENTS if e.kind == "message_posted")
    by_agent = attrs.evolve(said, order_id=order.id, actor=Actor.cx("carol"))
    by_buyer = attrs.evolve(said, order_id=order.id, actor=Actor.buyer("alice"))
    assert [(n.recipient, n.role) for n in notifications_for(order, [by_agent])] == [
        ("alice", Role.buyer),
        ("bob", Role.seller),
    ]
    assert [(n.recipient, n.role) for n in notifications_for(order, [by_buyer])] == [
        ("bob", Role.seller),
        ("carol", Role.cx_agent),
    ]
