"""What a decision writes: the order, its events, outbox rows, participants, next timer,
and the inbox's denormalised columns (who the order waits on, its newest chat entry).

Pure functions of the decision and the policy, shared by every way of running a command
(a named method, ``OrderDesk.execute``, a timer).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import attrs
import pendulum

from order_lifecycle.core import api
from order_lifecycle.core.commands import Command
from order_lifecycle.core.model import Action, Actor, Order, Policy, Role
from order_lifecycle.core.recipients import notifications_for
from order_lifecycle.desk.files import file_key
from order_lifecycle.ports import IdempotencyRecord, Participant, Write
from order_lifecycle.stats import facts_of
from order_lifecycle.views import event_entry_json

__all__ = ["command_fingerprint", "fingerprint", "next_timer_at", "write_for"]


def next_timer_at(order: Order, policy: Policy) -> pendulum.DateTime | None:
    """When the order's soonest armed timer falls due (what ``tick`` looks up by index)."""
    return api.next_due_at(order, policy)


def write_for(
    before: int,
    decision: api.Decision,
    policy: Policy,
    idempotency: IdempotencyRecord | None = None,
) -> Write:
    """The ``Write`` of ``decision`` on an order that was at version ``before`` (0: new)."""
    order = decision.order
    if before == 0:
        joined: tuple[Participant, ...] = (
            Participant(order.id, order.buyer, Role.buyer),
            Participant(order.id, order.seller, Role.seller),
        )
    else:
        joined = tuple(
            Participant(order.id, e.actor.id, Role.cx_agent)
            for e in decision.events
            if e.action is Action.join
        )
    return Write(
        order=order,
        events=decision.events,
        expected_version=before,
        next_timer_at=next_timer_at(order, policy),
        notifications=notifications_for(order, decision.events),
        participants=joined,
        idempotency=idempotency,
        waiting=api.waiting_on(order),
        last_entry=event_entry_json(decision.events[-1]) if decision.events else None,
        facts=facts_of(order),
    )


def fingerprint(action: str, order_id: str, actor: str, args: Iterable[tuple[str, object]]) -> str:
    """What an idempotency key is held to: the action, order, actor and arguments.

    ``repr``, not JSON: it takes any value a caller may pass (recursive lists included)
    and is the same for equal arguments; invalid ones are refused later anyway. Files
    count by name and content hash.
    """
    fields = sorted((name, file_key(v) if name == "files" else v) for name, v in args)
    text = repr((action, order_id, actor, fields))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def command_fingerprint(order_id: str, actor: Actor | str, command: Command) -> str:
    """The fingerprint of ``command`` on ``order_id`` by ``actor``, from the command itself."""
    args = ((f.name, getattr(command, f.name)) for f in attrs.fields(type(command)))
    return fingerprint(str(command.action), order_id, str(actor), args)
