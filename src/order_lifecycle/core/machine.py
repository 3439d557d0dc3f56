"""The ``transitions`` machine, compiled once per process from the table.

One machine serves every order. An order is plain data: to move one, the machine acts on
a throw-away cursor that holds only the state name. The machine is built with no model
and never gets one (no ``add_model``), so it keeps no reference to any order and costs
nothing per order. ``MachineError`` never escapes: it becomes
:class:`~order_lifecycle.errors.ActionNotAvailable`.

A move does not go through ``Event.trigger``, ``transitions``' public trigger path: it
runs the machine's own ``Transition.execute`` on a route looked up in advance, which
costs about 4 µs less per command, a quarter of ``decide`` (``docs/decisions.md``, "The
transitions engine", has the figures). What it relies on beyond that public path, each
pinned by ``tests/unit/test_machine.py`` so that a ``transitions`` upgrade that changes
it fails there, by name:

- ``Machine.events`` (trigger name to ``Event``), ``Event.transitions`` (source name to
  its ``Transition`` list, in the order added), ``Transition.dest``,
  ``Machine.get_state(name)``, ``Event.machine``;
- ``transitions.core.EventData(state, event, machine, model, args, kwargs)``, built by
  position;
- ``Transition.execute(event_data) -> bool``: calls the conditions with the event data's
  ``args`` and ``kwargs`` (``send_event=False``), sets the destination's name on the
  model's ``state`` attribute (not for an internal transition), returns ``False`` and
  changes nothing when a condition fails, and never registers the model.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

from order_lifecycle.core.model import Action, OrderState, Role, Timer
from order_lifecycle.core.table import RULES, TIMERS, Rule, TimerRule
from order_lifecycle.errors import ActionNotAvailable, LifecycleDefinitionError

if TYPE_CHECKING:
    from transitions import Machine

__all__ = ["check_table", "compile_machine", "machine", "move"]

_TERMINAL: Final = frozenset(s for s in OrderState if s.is_terminal)


class _Cursor:
    """The only thing the machine ever sees of an order: its state's name."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _goes_to(dest: str) -> Callable[..., bool]:
    def condition(*_: Any, target: str | None = None, **__: Any) -> bool:
        return target == dest

    return condition


def _edges(rules: Iterable[Rule]) -> dict[OrderState, set[OrderState]]:
    graph: dict[OrderState, set[OrderState]] = {s: set() for s in OrderState}
    for rule in rules:
        for source in rule.sources:
            graph[source].update(rule.dests)
    return graph


def _reachable(graph: dict[OrderState, set[OrderState]], start: OrderState) -> set[OrderState]:
    seen = {start}
    todo = deque([start])
    while todo:
        for nxt in graph[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def check_table(rules: Iterable[Rule], timers: Iterable[TimerRule] = TIMERS) -> None:
    """Refuse a table that breaks the lifecycle's structural rules (spec section 10).

    Every action has exactly one row and at least one role; only ``place`` has no source
    and it creates orders in ``pending``; every state is reachable from ``pending``; both
    terminal states are reachable from every non-terminal state; timers fire actions
    that the system may take in the states the timer is armed in.
    """
    rules = tuple(rules)
    problems: list[str] = []
    actions = [rule.action for rule in rules]
    for action in Action:
        count = actions.count(action)
        if count != 1:
            problems.append(f"action {action} has {count} rows; it needs exactly one")
    for rule in rules:
        if not rule.roles:
            problems.append(f"action {rule.action} has no role that may take it")
        if not rule.sources and rule.action is not Action.place:
            problems.append(f"action {rule.action} has no source state")
        if rule.action is Action.place and rule.dests != (OrderState.pending,):
            problems.append("place must create orders in pending")
    graph = _edges(rules)
    reachable = _reachable(graph, OrderState.pending)
    for state in OrderState:
        if state not in reachable:
            problems.append(f"state {state} is not reachable from pending")
    for state in OrderState:
        if state in _TERMINAL:
            continue
        ends = _reachable(graph, state) & _TERMINAL
        for terminal in sorted(_TERMINAL - ends):
            problems.append(f"terminal state {terminal} is not reachable from {state}")
    by_action = {rule.action: rule for rule in rules}
    for timer in timers:
        for action in timer.actions:
            fired = by_action.get(action)
            if fired is None or Role.system not in fired.roles:
                problems.append(f"timer {timer.timer} fires {action}, not a system action")
            elif not set(timer.armed_in) <= set(fired.sources):
                problems.append(f"timer {timer.timer} is armed where {action} cannot start")
    if problems:
        raise LifecycleDefinitionError("The transition table is invalid: " + "; ".join(problems))


def compile_machine(rules: Iterable[Rule] = RULES, timers: Iterable[TimerRule] = TIMERS) -> Machine:
    """Check the table, then build the one ``transitions`` machine it describes."""
    from transitions import Machine  # the engine loads with the first machine, not the package

    rules = tuple(rules)
    timers = tuple(timers)
    check_table(rules, timers)
    edges: list[dict[str, Any]] = []
    for rule in rules:
        for source in rule.sources:
            if rule.stays:
                edges.append({"trigger": rule.action.value, "source": source.value, "dest": None})
                continue
            for dest in rule.dests:
                edge: dict[str, Any] = {
                    "trigger": rule.action.value,
                    "source": source.value,
                    "dest": dest.value,
                }
                if len(rule.dests) > 1:
                    edge["conditions"] = [_goes_to(dest.value)]
                edges.append(edge)
    for timer in timers:
        if timer.fires is None:  # a notice: an internal transition that keeps the state
            edges.extend(
                {"trigger": timer.timer.value, "source": s.value, "dest": None}
                for s in timer.armed_in
            )
    return Machine(
        model=None,
        states=[s.value for s in OrderState],
        initial=None,
        transitions=edges,
        auto_transitions=False,
        ignore_invalid_triggers=False,
        send_event=False,
    )


@functools.cache
def machine() -> Machine:
    """The process's one machine (built on first use)."""
    return compile_machine()


#: (trigger, source, chosen destination) -> what firing it takes: the ``Event``, the
#: ``Transition``, the source ``State``, ``transitions.core.EventData`` and the keyword
#: arguments the event is fired with (the conditions read ``target`` from them).
_ROUTES: dict[tuple[str, str, str | None], tuple[Any, Any, Any, Any, dict[str, Any]]] = {}


def _routes() -> dict[tuple[str, str, str | None], tuple[Any, Any, Any, Any, dict[str, Any]]]:
    """Each (trigger, source, chosen destination) of the machine, with its ``Event`` and
    ``Transition``: firing one is a dictionary lookup and ``Transition.execute``."""
    if not _ROUTES:
        from transitions.core import EventData  # the engine loads with the first move

        engine = machine()
        for name, event in engine.events.items():
            for source, transitions in event.transitions.items():
                for transition in transitions:
                    chosen = transition.dest if len(transitions) > 1 else None
                    _ROUTES[(name, source, chosen)] = (
                        event,
                        transition,
                        engine.get_state(source),
                        EventData,
                        {"target": chosen},
                    )
    return _ROUTES


_STATES: Final = {s.value: s for s in OrderState}


def move(
    state: OrderState, trigger: Action | Timer, target: OrderState | None = None
) -> OrderState:
    """Fire ``trigger`` from ``state`` on the shared machine; return the state it reached.

    ``target`` picks the destination of an action that has several (``resolve``). The
    order is attached to the machine as a new cursor holding its state (O(1); nothing
    keeps it). The machine's own ``Transition.execute`` runs (conditions, callbacks, the
    state change on the cursor); the event's dispatch is a precomputed lookup, and a
    trigger the machine has no transition for is ``ActionNotAvailable`` (where
    ``transitions`` would raise ``MachineError``). The result is what ``Event.trigger``
    would reach (``tests/unit/test_machine.py`` checks every route both ways).
    """
    # String enums hash and compare as their values: they are the routes' keys as they are.
    route = (_ROUTES or _routes()).get((trigger, state, target))
    if route is None:
        raise ActionNotAvailable(
            str(trigger), f"The order is {state}; {trigger} cannot start from there."
        )
    event, transition, source, make_data, kwargs = route
    cursor = _Cursor(state)  # the order, attached: all the machine ever sees of it
    # The keyword arguments are shared by every firing of this route: neither the machine
    # nor the conditions (``_goes_to``) change them.
    data = make_data(source, event, event.machine, cursor, (), kwargs)
    if not transition.execute(data):
        raise ActionNotAvailable(
            str(trigger), f"The order cannot go from {state} to {target} by {trigger}."
        )
    return _STATES[cursor.state]
