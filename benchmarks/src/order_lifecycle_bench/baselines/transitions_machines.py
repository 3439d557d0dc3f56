"""``transitions`` baselines: the obvious way, and one shared machine with a bare trigger.

- **Obvious** (:func:`attach`): one ``Machine(model=order)`` per order, the guards as
  its conditions and the effects as its ``after`` callbacks; a command is
  ``order.accept(role=..., actor=..., now=...)``; the options are ``get_triggers`` plus
  a ``may_<trigger>`` loop (no reasons). :func:`shared_with_models` is the other
  obvious variant: one machine, ``add_model`` for every order.
- **Shared, with models** (:func:`shared_with`): the fast way to use ``transitions`` for
  many orders: ONE guarded machine built once, every order added to it with
  ``add_model``; the options are the same ``get_triggers(state)`` + ``may_<trigger>()``
  loop (:func:`options`), on that machine.
- **Bare trigger** (:func:`bare_machine`, :func:`bare_trigger`): one machine built once
  with no model and no guards; a throw-away cursor holds the state name and the event
  is triggered on it. This is the least a shared ``transitions`` machine can cost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from transitions import EventData, Machine

from order_lifecycle_bench.baselines.table import (
    STATES,
    TABLE,
    Move,
    PlainOrder,
    apply,
    edges,
    guard,
)

__all__ = [
    "Cursor",
    "TModel",
    "attach",
    "bare_machine",
    "bare_trigger",
    "options",
    "run",
    "shared_with",
    "shared_with_models",
]


class TModel(PlainOrder):
    """An order as a ``transitions`` model: guards and effects as its own methods."""

    def allowed(self, event: EventData) -> bool:
        kw = event.kwargs
        return guard(event.event.name, self, kw["role"], kw["actor"], kw["now"])

    def applied(self, event: EventData) -> None:
        kw = event.kwargs
        apply(
            self,
            event.event.name,
            kw["role"],
            kw["actor"],
            kw["now"],
            target=kw.get("target"),
            due_at=kw.get("due_at"),
            revisions=kw.get("revisions"),
        )


def _goes_to(dest: str) -> Callable[[EventData], bool]:
    # A command names its destination (``resolve``'s outcome); ``may_resolve()`` asks
    # whether the action is available at all, so without one any destination will do.
    def condition(event: EventData) -> bool:
        return bool(event.kwargs.get("target", dest) == dest)

    return condition


def _guarded_edges() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for action, source, dest in edges():
        conditions: list[Any] = ["allowed"]
        if TABLE[action][1] == "*":
            conditions.append(_goes_to(str(dest)))
        found.append(
            {
                "trigger": action,
                "source": source,
                "dest": dest,
                "conditions": conditions,
                "after": "applied",
            }
        )
    return found


_EDGES = _guarded_edges()


def attach(model: TModel) -> Machine:
    """The obvious way: a new machine for this one order, at the order's state."""
    return Machine(
        model=model,
        states=list(STATES),
        transitions=_EDGES,
        initial=model.state,
        auto_transitions=False,
        send_event=True,
    )


def shared_with_models() -> Machine:
    """One guarded machine to which every order is added with ``add_model``."""
    return Machine(
        model=None,
        states=list(STATES),
        transitions=_EDGES,
        initial=None,
        auto_transitions=False,
        send_event=True,
    )


def shared_with(models: list[TModel]) -> Machine:
    """One guarded machine, built once, with every model of ``models`` added to it
    (``add_model``, each at its own state): each model gets its ``may_<trigger>``
    methods from that one machine."""
    machine = shared_with_models()
    for model in models:
        machine.add_model(model, initial=model.state)
    return machine


def run(model: TModel, move: Move) -> bool:
    """A command on an attached model (``model.accept(role=..., ...)``)."""
    trigger: Callable[..., bool] = getattr(model, move.action)
    return trigger(
        role=move.role,
        actor=move.actor,
        now=move.now,
        target=move.target,
        due_at=move.due_at,
        revisions=move.revisions,
    )


def options(
    machine: Machine, model: TModel, role: str, actor: str, now: dt.datetime
) -> list[tuple[str, bool]]:
    """``get_triggers`` and a ``may_<trigger>`` loop: what ``transitions`` offers for
    "what may this actor do now", on ``machine`` (a machine of the model's own, or the
    shared one it was added to): one answer per trigger of the current state, no reasons."""
    result: list[tuple[str, bool]] = []
    for name in machine.get_triggers(model.state):
        may: Callable[..., bool] = getattr(model, f"may_{name}")
        result.append((name, may(role=role, actor=actor, now=now)))
    return result


class Cursor:
    """The only thing the bare machine sees: a state name."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _bare_goes_to(dest: str) -> Callable[..., bool]:
    def condition(*_: Any, target: str | None = None, **__: Any) -> bool:
        return target == dest

    return condition


def bare_machine() -> Machine:
    """One shared machine, no model, no guards (resolve picks its destination)."""
    transitions: list[dict[str, Any]] = []
    for action, source, dest in edges():
        edge: dict[str, Any] = {"trigger": action, "source": source, "dest": dest}
        if TABLE[action][1] == "*":
            edge["conditions"] = [_bare_goes_to(str(dest))]
        transitions.append(edge)
    return Machine(
        model=None,
        states=list(STATES),
        transitions=transitions,
        initial=None,
        auto_transitions=False,
        send_event=False,
    )


def bare_trigger(machine: Machine, state: str, action: str, target: str | None) -> str:
    """Fire ``action`` from ``state`` on a throw-away cursor; the state reached."""
    cursor = Cursor(state)
    machine.events[action].trigger(cursor, target=target)
    return cursor.state
