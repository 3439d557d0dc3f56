"""The facts a rule looks at: the order, who is acting, when, and under which policy."""

from __future__ import annotations

from typing import Final

import pendulum

from order_lifecycle.core.model import Actor, Order, Policy
from order_lifecycle.core.terms import Terms

__all__ = ["Context"]


class Context:
    """What every guard, validation and effect is a pure function of.

    ``now`` is never earlier than the order's last event: time does not run backwards
    for an order, whatever clock skew there is between hosts. ``terms`` are the deadline
    terms of the order (see :func:`~order_lifecycle.core.model.terms_of`): every deadline
    rule reads them, never the policy's own fields.
    """

    __slots__ = ("actor", "now", "order", "policy", "terms", "tz")

    def __init__(
        self,
        order: Order,
        actor: Actor,
        now: pendulum.DateTime,
        policy: Policy,
        tz: str = "UTC",
    ) -> None:
        self.order: Final = order
        self.actor: Final = actor
        self.now: Final = now if now >= order.updated_at else order.updated_at
        self.policy: Final = policy
        self.terms: Final[Terms] = policy.terms if order.terms is None else order.terms
        self.tz: Final = tz
