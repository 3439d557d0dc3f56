"""The shared ``transitions`` machine: built once from the table, checked, holding no orders."""

from __future__ import annotations

import ast
import gc
import inspect
import pathlib
import weakref
from collections.abc import Mapping
from typing import Any

import attrs
import pytest
import transitions
from transitions import MachineError
from transitions.core import EventData, Transition

import order_lifecycle.core
from order_lifecycle import (
    Action,
    ActionNotAvailable,
    LifecycleDefinitionError,
    OrderState,
    Timer,
    core,
)
from order_lifecycle.core import machine as m
from order_lifecycle.core.table import RULES, RULES_BY_ACTION

from support import SELLER, Walk

CORE_DIR = pathlib.Path(order_lifecycle.core.__file__).parent
ALLOWED_IMPORTS = {
    "__future__",
    "attrs",
    "collections",
    "datetime",
    "decimal",
    "enum",
    "functools",
    "pendulum",
    "re",
    "transitions",
    "types",
    "typing",
    "uuid",
    "order_lifecycle",
}


def test_core_imports_no_io_module() -> None:
    """The core imports only the standard library's pure modules, attrs, transitions, pendulum."""
    for path in CORE_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in ALLOWED_IMPORTS, f"{path.name} imports {name}"
                if top == "order_lifecycle":
                    assert name in ("order_lifecycle.errors",) or name.startswith(
                        "order_lifecycle.core"
                    ), f"{path.name} imports {name} from outside the core"


def test_the_machine_is_built_once_and_holds_no_orders() -> None:
    """One machine per process, no model, and no reference to the orders it moved."""
    machine = m.machine()
    assert m.machine() is machine
    assert machine.models == []
    walk = Walk()
    order = walk.do(core.Accept(), SELLER)
    ref = weakref.ref(order)
    walk.do(core.Say(text="hi"), SELLER)
    del order
    walk.order = None  # type: ignore[assignment]
    gc.collect()
    assert ref() is None
    assert machine.models == []


def test_move_moves_an_unregistered_cursor() -> None:
    """``move`` reaches the destination (the one chosen, for ``resolve``), keeps the state
    on an internal transition, and leaves the machine without models."""
    assert m.move(OrderState.pending, Action.accept) is OrderState.accepted
    assert m.move(OrderState.disputed, Action.resolve, OrderState.revision) is OrderState.revision
    assert m.move(OrderState.delivered, Action.say) is OrderState.delivered
    assert m.move(OrderState.accepted, Timer.delivery_due) is OrderState.accepted
    assert m.machine().models == []


# What ``move`` relies on in ``transitions`` beyond its public trigger path (the module's
# docstring lists it; docs/decisions.md says why). Each test names the part it pins, so a
# ``transitions`` upgrade that changes one fails here, saying which.

PINNED = "core/machine.py relies on it (docs/decisions.md, 'The transitions engine')"


class _Model:
    """A bare model: what ``move`` hands the machine (a ``state`` attribute only)."""

    def __init__(self, state: str) -> None:
        self.state = state


def _route(trigger: str, source: str, dest: str | None) -> tuple[Any, Any]:
    """The ``Event`` and the ``Transition`` of (trigger, source, dest), read as ``move``
    reads them: ``Machine.events``, then ``Event.transitions`` by source name."""
    event = m.machine().events[trigger]
    found = [t for t in event.transitions[source] if t.dest == dest]
    assert len(found) == 1, f"no single {trigger} transition {source} -> {dest}: {PINNED}"
    return event, found[0]


def _data(event: Any, source: str, model: _Model, kwargs: dict[str, Any]) -> Any:
    """The event data ``move`` builds: by position, from the route."""
    machine = m.machine()
    return EventData(machine.get_state(source), event, event.machine, model, (), kwargs)


def test_transitions_event_data_takes_its_fields_by_position() -> None:
    """``EventData(state, event, machine, model, args, kwargs)``: ``move`` builds it by
    position (a keyword call costs 0.2 µs more per command)."""
    assert EventData is transitions.EventData, f"transitions.core.EventData moved: {PINNED}"
    params = list(inspect.signature(EventData.__init__).parameters)
    assert params == ["self", "state", "event", "machine", "model", "args", "kwargs"], (
        f"transitions.core.EventData's parameters are now {params[1:]}: {PINNED}"
    )
    machine = m.machine()
    fields = (machine.get_state("pending"), machine.events["accept"], machine, _Model("pending"))
    data = EventData(*fields, ("a",), {"k": 1})
    got = (data.state, data.event, data.machine, data.model, data.args, data.kwargs)
    assert got == (*fields, ("a",), {"k": 1}), f"EventData's attributes: {PINNED}"


def test_transitions_machine_exposes_its_events_and_transitions() -> None:
    """``Machine.events`` maps trigger names to ``Event``s; ``Event.machine`` is the
    machine; ``Event.transitions`` maps each source name to its ``Transition``s (with
    ``source`` and ``dest`` names, ``None`` for an internal one), a multi-destination
    action's in the table's order; ``Machine.get_state(name)`` is the ``State``."""
    machine = m.machine()
    events = machine.events
    assert isinstance(events, Mapping), f"Machine.events is a {type(events)}: {PINNED}"
    for rule in RULES:
        if not rule.sources:
            continue
        event = events[rule.action.value]
        assert event.machine is machine, f"Event.machine: {PINNED}"
        assert set(event.transitions) == {s.value for s in rule.sources}, (
            f"Event.transitions of {rule.action}: {PINNED}"
        )
        for source, found in event.transitions.items():
            assert all(isinstance(t, Transition) and t.source == source for t in found), (
                f"Event.transitions[{source!r}] of {rule.action}: {PINNED}"
            )
            dests = [None] if rule.stays else [d.value for d in rule.dests]
            assert [t.dest for t in found] == dests, f"Transition.dest of {rule.action}: {PINNED}"
    for state in OrderState:
        assert machine.get_state(state.value).name == state.value, f"get_state: {PINNED}"


def test_transitions_execute_moves_a_model_it_never_registers() -> None:
    """``Transition.execute(event_data)`` returns ``True`` and sets the destination's
    name (a ``str``) on the model's ``state`` attribute; the model is not registered."""
    params = list(inspect.signature(Transition.execute).parameters)
    assert params == ["self", "event_data"], f"Transition.execute{params}: {PINNED}"
    machine = m.machine()
    assert machine.model_attribute == "state", f"Machine.model_attribute: {PINNED}"
    event, transition = _route("accept", "pending", "accepted")
    model = _Model("pending")
    assert transition.execute(_data(event, "pending", model, {"target": None})) is True
    assert type(model.state) is str, f"execute set {model.state!r}: {PINNED}"
    assert model.state == "accepted", f"Transition.execute left {model.state!r}: {PINNED}"
    assert machine.models == [], f"Transition.execute registered the model: {PINNED}"
    assert not hasattr(model, "accept"), f"Transition.execute decorated the model: {PINNED}"


def test_transitions_execute_keeps_the_state_of_an_internal_transition() -> None:
    """A transition without a destination (``say``, the ``delivery_due`` notice) runs
    and leaves the model's state as it was."""
    for trigger, source in (("say", "delivered"), ("delivery_due", "accepted")):
        event, transition = _route(trigger, source, None)
        model = _Model(source)
        assert transition.execute(_data(event, source, model, {"target": None})) is True
        assert model.state == source, f"an internal {trigger} moved to {model.state}: {PINNED}"


def test_transitions_execute_passes_the_kwargs_to_the_conditions() -> None:
    """With ``send_event=False`` the conditions get the event data's ``args`` and
    ``kwargs`` (``resolve`` reads ``target`` from them) and leave them as they were; a
    failing condition makes ``execute`` return ``False`` and change nothing."""
    assert m.machine().send_event is False
    event, transition = _route("resolve", "disputed", "revision")
    model = _Model("disputed")
    assert transition.execute(_data(event, "disputed", model, {"target": "complete"})) is False
    assert model.state == "disputed", f"a failed condition still moved the model: {PINNED}"
    kwargs = {"target": "revision"}
    assert transition.execute(_data(event, "disputed", model, kwargs)) is True
    assert model.state == "revision", f"the condition did not see target=revision: {PINNED}"
    # ``move`` shares one kwargs dictionary between all firings of a route.
    assert kwargs == {"target": "revision"}, f"Transition.execute changed the kwargs: {PINNED}"


def test_the_machine_has_no_callbacks_only_event_trigger_would_run() -> None:
    """``move`` calls ``Transition.execute`` where ``Event.trigger`` would also run the
    machine's ``prepare_event``, ``finalize_event`` and ``on_exception`` callbacks and its
    queue: the machine has none, so skipping them changes nothing."""
    machine = m.machine()
    assert list(machine.prepare_event) == [], f"Machine.prepare_event: {PINNED}"
    assert list(machine.finalize_event) == [], f"Machine.finalize_event: {PINNED}"
    assert list(machine.on_exception) == [], f"Machine.on_exception: {PINNED}"
    assert machine.has_queue is False, f"Machine.has_queue: {PINNED}"


def _moved(
    state: OrderState, trigger: Action | Timer, target: OrderState | None
) -> OrderState | str:
    """Where ``move`` ends, or ``"refused"``."""
    try:
        return m.move(state, trigger, target)
    except ActionNotAvailable:
        return "refused"


def _triggered(event: Any, state: OrderState, target: OrderState | None) -> OrderState | str:
    """Where ``transitions``' public ``Event.trigger`` ends, or ``"refused"``."""
    model = _Model(state.value)
    try:
        moved = event.trigger(model, target=target)
    except MachineError:
        return "refused"
    return OrderState(model.state) if moved else "refused"


def test_move_reaches_what_the_public_trigger_reaches() -> None:
    """Every (trigger, state, target) ``decide`` and ``fire`` can ask for: ``move`` ends
    where ``transitions``' own ``Event.trigger`` on the same machine ends, or both
    refuse (``move`` by ``ActionNotAvailable``, ``transitions`` by ``MachineError`` or by
    returning ``False``)."""
    compared = moved = 0
    for name, event in m.machine().events.items():
        trigger = Action(name) if name in Action.__members__ else Timer(name)
        several = isinstance(trigger, Action) and len(RULES_BY_ACTION[trigger].dests) > 1
        targets: list[OrderState | None] = [None, *OrderState] if several else [None]
        for state in OrderState:
            for target in targets:
                ours, theirs = _moved(state, trigger, target), _triggered(event, state, target)
                assert ours == theirs, (
                    f"{trigger} from {state} to {target}: move gives {ours}, "
                    f"Event.trigger {theirs}: {PINNED}"
                )
                compared += 1
                moved += ours != "refused"
    assert compared > 150
    assert moved > 30


def test_machine_errors_become_action_not_available() -> None:
    """``MachineError`` never escapes."""
    with pytest.raises(ActionNotAvailable):
        m.move(OrderState.complete, Action.accept)


def test_the_machine_has_no_auto_transitions() -> None:
    """Only the table's triggers exist (no ``to_<state>``)."""
    triggers = set(m.machine().events)
    assert not any(t.startswith("to_") for t in triggers)
    notices = {
        "delivery_due",
        "proposal_window",
        "dispute_window",
        "max_pause",
        "reminder",
        "review_period",
    }
    assert triggers == {a.value for a in Action if a is not Action.place} | notices


def _without(action: Action) -> tuple[object, ...]:
    return tuple(r for r in RULES if r.action is not action)


def test_the_table_is_checked_when_built() -> None:
    """Unreachable states, unreachable terminals and role-less actions are refused."""
    m.check_table(RULES)
    with pytest.raises(LifecycleDefinitionError, match="approve has 0 rows"):
        m.check_table(_without(Action.approve))  # type: ignore[arg-type]
    no_role = attrs.evolve(RULES_BY_ACTION[Action.accept], roles=frozenset())
    with pytest.raises(LifecycleDefinitionError, match="no role"):
        m.check_table([no_role if r.action is Action.accept else r for r in RULES])
    # When neither deliver nor resolve leads to delivered, it is unreachable.
    stuck = {
        Action.deliver: attrs.evolve(RULES_BY_ACTION[Action.deliver], dests=(OrderState.accepted,)),
        Action.resolve: attrs.evolve(
            RULES_BY_ACTION[Action.resolve], dests=(OrderState.complete, OrderState.cancelled)
        ),
    }
    with pytest.raises(LifecycleDefinitionError, match="state delivered is not reachable"):
        m.check_table([stuck.get(r.action, r) for r in RULES])
    # Without cancel (unilateral or mutual) and with a dispute that cannot cancel,
    # cancelled is unreachable from
    # accepted: the check names it.
    no_cancel = [
        attrs.evolve(r, sources=(OrderState.disputed,), dests=())
        if r.action
        in (
            Action.cancel,
            Action.decline,
            Action.withdraw,
            Action.expire,
            Action.accept_cancellation,
        )
        else attrs.evolve(r, dests=(OrderState.accepted, OrderState.complete))
        if r.action is Action.resolve
        else r
        for r in RULES
    ]
    with pytest.raises(LifecycleDefinitionError, match="cancelled is not reachable from"):
        m.check_table(no_cancel)


def test_core_modules_are_not_named_transitions() -> None:
    """A module named transitions.py would shadow the engine."""
    assert not (CORE_DIR / "transitions.py").exists()
    assert ast  # the import is used above
