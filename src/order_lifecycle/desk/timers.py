"""Timers: what ``tick`` fires on an order the store claimed as due."""

from __future__ import annotations

import pendulum

from order_lifecycle.core import api
from order_lifecycle.core.model import Order, Policy
from order_lifecycle.desk.writes import next_timer_at, write_for
from order_lifecycle.ports import Write

__all__ = ["fire_due"]


def fire_due(order: Order, now: pendulum.DateTime, policy: Policy) -> Write:
    """The write that fires ``order``'s soonest timer due at ``now`` (or, if none is due
    any more, only moves its ``next_timer_at``). A reminder whose deadline has come is
    not sent: that deadline's own timer, due too, fires and disarms it."""
    due = [t for t in api.due_timers(order, policy) if t.ready(now)]
    if not due:
        return Write(order, (), order.version, next_timer_at(order, policy))
    decision = api.fire(order, due[0].timer, now=now, policy=policy)
    return write_for(order.version, decision, policy)
