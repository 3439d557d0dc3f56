"""Who hears of an event: the outbox rows of a decision, a pure rule of the lifecycle.

Each event goes to every participant but the one who caused it (the buyer, the seller and
the CX agents who joined); the events that need a CX agent also go to the whole team. A
reminder goes to the one party it reminds, and to no one else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

from order_lifecycle.core.events import Event, ReminderSent
from order_lifecycle.core.model import Order, Role

__all__ = ["ALERTS_CX", "CX_TEAM", "PAYMENTS", "Notification", "notifications_for"]

#: The recipient name of notifications addressed to the whole CX team (and who
#: ``waiting_on`` names while no agent has joined).
CX_TEAM: Final = "cx_team"
#: Event kinds that alert the CX team.
ALERTS_CX: Final = frozenset({"order_disputed", "order_cancelled", "dispute_escalated"})
#: The recipient of every settlement (``order_settled``, ``cancellation_accepted``, and
#: ``dispute_resolved`` when it completed or cancelled the order): the host's payments,
#: which move the money once per settlement (the row's id is the idempotency key).
PAYMENTS: Final = "payments"


# The roles as globals: looking a member up on its enum class (``Role.buyer``) goes
# through the enum's metaclass, several times slower, and every command asks.
_BUYER: Final = Role.buyer
_SELLER: Final = Role.seller
_CX_AGENT: Final = Role.cx_agent
_SYSTEM: Final = Role.system


@attrs.frozen
class Notification:
    """An outbox row: one event addressed to one recipient (a user, or the CX team)."""

    order_id: str
    seq: int
    recipient: str
    role: Role
    kind: str


def notifications_for(order: Order, events: Sequence[Event]) -> tuple[Notification, ...]:
    """The outbox rows of ``events``, given the order as they left it.

    Each event goes to every participant but the one who caused it (the buyer, the seller
    and the CX agents who joined), disputes, escalations and cancellations also to
    ``cx_team``, every settlement also to ``payments`` (for the host to move the money);
    a reminder only to the party it reminds.
    """
    result: list[Notification] = []
    order_id = order.id
    for event in events:
        seq, kind = event.seq, event.kind
        if isinstance(event, ReminderSent):
            result.append(Notification(order_id, seq, event.recipient, event.role, kind))
            continue
        by, by_role = event.actor.id, event.actor.role
        if order.buyer != by or by_role is not _BUYER:
            result.append(Notification(order_id, seq, order.buyer, _BUYER, kind))
        if order.seller != by or by_role is not _SELLER:
            result.append(Notification(order_id, seq, order.seller, _SELLER, kind))
        for agent in order.agents:
            if agent != by or by_role is not _CX_AGENT:
                result.append(Notification(order_id, seq, agent, _CX_AGENT, kind))
        if kind in ALERTS_CX:
            result.append(Notification(order_id, seq, CX_TEAM, _CX_AGENT, kind))
        if getattr(event, "payout", None) is not None:
            result.append(Notification(order_id, seq, PAYMENTS, _SYSTEM, kind))
    return tuple(result)
