"""The floor: a hand-written dict state machine with the same guards as the library.

``decide`` checks participant, role, state and the action's guard, validates the text
argument, and returns a new order record and an event record, leaving the input as it
was (like the library's immutable orders). No ``transitions``, no attrs, no reasons.
"""

from __future__ import annotations

import datetime as dt

from order_lifecycle_bench.baselines.table import (
    NOTE_REQUIRED,
    TABLE,
    Move,
    PlainOrder,
    apply,
    guard,
)

__all__ = ["NotAllowed", "decide"]

Event = tuple[str, int, str, str, str, dt.datetime, str]


class NotAllowed(Exception):
    """The action is not available (the floor gives no reason)."""


def decide(order: PlainOrder, move: Move) -> tuple[PlainOrder, Event]:
    """The new order and its event, or ``NotAllowed`` / ``ValueError``."""
    action = move.action
    if not guard(action, order, move.role, move.actor, move.now):
        raise NotAllowed(action)
    if action in NOTE_REQUIRED and not move.note.strip():
        raise ValueError(f"{action} needs a note")
    dest = TABLE[action][1]
    new = order.copy()
    if dest == "*":
        dest = move.target
    if dest is not None:
        new.state = dest
    apply(
        new,
        action,
        move.role,
        move.actor,
        move.now,
        target=move.target,
        due_at=move.due_at,
        revisions=move.revisions,
    )
    return new, (order.id, new.version, action, move.role, move.actor, move.now, new.state)
