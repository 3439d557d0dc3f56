"""``python-statemachine``: the same lifecycle and guards as a ``StateMachine`` class.

Used the way its documentation shows: one machine instance per order (the order is its
model, the state lives in ``order.state``), guards as ``cond=`` callbacks, effects as an
``on`` callback; a command is ``machine.send("accept", role=..., actor=..., now=...)``.
Instances are built before the timing starts, so only ``send`` is measured.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from statemachine import State, StateMachine

from order_lifecycle_bench.baselines.table import Move, PlainOrder, apply, guard

__all__ = ["OrderMachine", "machine_for", "send"]


def _stays(*states: State) -> Any:
    """Internal self-transitions, guarded: ``s.to.itself(internal=True, cond=...) | ...``."""
    found: Any = None
    for state in states:
        # ``itself`` has no annotations in python-statemachine.
        edge = state.to.itself(internal=True, cond="allowed")  # type: ignore[no-untyped-call]
        found = edge if found is None else found | edge
    return found


class OrderMachine(StateMachine):
    """The order lifecycle (spec sections 3 and 4)."""

    pending = State(initial=True)
    accepted = State()
    delivered = State()
    revision = State()
    complete = State()
    disputed = State()
    cancelled = State()

    accept = pending.to(accepted, cond="allowed")
    decline = pending.to(cancelled, cond="allowed")
    withdraw = pending.to(cancelled, cond="allowed")
    expire = pending.to(cancelled, cond="allowed")
    deliver = accepted.to(delivered, cond="allowed") | revision.to(delivered, cond="allowed")
    approve = delivered.to(complete, cond="allowed")
    request_revision = delivered.to(revision, cond="allowed")
    auto_complete = delivered.to(complete, cond="allowed")
    propose_update = _stays(accepted, delivered, revision)
    accept_update = _stays(accepted, delivered, revision)
    reject_update = _stays(accepted, delivered, revision)
    withdraw_update = _stays(accepted, delivered, revision)
    dispute = (
        accepted.to(disputed, cond="allowed")
        | delivered.to(disputed, cond="allowed")
        | revision.to(disputed, cond="allowed")
    )
    join = _stays(disputed, cancelled)
    resolve = (
        disputed.to(accepted, cond=["allowed", "to_accepted"])
        | disputed.to(delivered, cond=["allowed", "to_delivered"])
        | disputed.to(revision, cond=["allowed", "to_revision"])
        | disputed.to(complete, cond=["allowed", "to_complete"])
        | disputed.to(cancelled, cond=["allowed", "to_cancelled"])
    )
    cancel = (
        accepted.to(cancelled, cond="allowed")
        | delivered.to(cancelled, cond="allowed")
        | revision.to(cancelled, cond="allowed")
    )
    say = _stays(pending, accepted, delivered, revision, complete, disputed, cancelled)

    def allowed(self, event: str, role: str, actor: str, now: dt.datetime) -> bool:
        order: PlainOrder = self.model
        return guard(event, order, role, actor, now)

    def to_accepted(self, to: str | None = None) -> bool:
        return to == "accepted"

    def to_delivered(self, to: str | None = None) -> bool:
        return to == "delivered"

    def to_revision(self, to: str | None = None) -> bool:
        return to == "revision"

    def to_complete(self, to: str | None = None) -> bool:
        return to == "complete"

    def to_cancelled(self, to: str | None = None) -> bool:
        return to == "cancelled"

    def on_transition(self, event: str, **kwargs: Any) -> None:
        order: PlainOrder = self.model
        apply(
            order,
            event,
            kwargs["role"],
            kwargs["actor"],
            kwargs["now"],
            target=kwargs.get("to"),
            due_at=kwargs.get("due_at"),
            revisions=kwargs.get("revisions"),
        )


def machine_for(order: PlainOrder) -> OrderMachine:
    """A machine for one order (its state kept in ``order.state``)."""
    return OrderMachine(model=order, state_field="state")


def send(machine: OrderMachine, move: Move) -> None:
    """One command through ``send``."""
    machine.send(
        move.action,
        role=move.role,
        actor=move.actor,
        now=move.now,
        to=move.target,
        due_at=move.due_at,
        revisions=move.revisions,
    )
