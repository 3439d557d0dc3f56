"""The shared ``transitions`` machine: built once from the table, checked, holding no orders."""

from __future__ import annotations

import ast
import gc
import pathlib
import weakref

import attrs
import pytest

import order_lifecycle.core
from order_lifecycle import Action, ActionNotAvailable, LifecycleDefinitionError, OrderState, core
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


def test_transitions_moves_an_unregistered_cursor() -> None:
    """Pins the transitions behaviour we rely on: ``Event.trigger`` works on any object with
    a ``state`` attribute, sets the destination on it and does not register it."""
    assert m.move(OrderState.pending, Action.accept) is OrderState.accepted
    assert m.move(OrderState.disputed, Action.resolve, OrderState.revision) is OrderState.revision
    assert m.move(OrderState.delivered, Action.say) is OrderState.delivered
    assert m.machine().models == []


def test_machine_errors_become_action_not_available() -> None:
    """``MachineError`` never escapes."""
    with pytest.raises(ActionNotAvailable):
        m.move(OrderState.complete, Action.accept)


def test_the_machine_has_no_auto_transitions() -> None:
    """Only the table's triggers exist (no ``to_<state>``)."""
    triggers = set(m.machine().events)
    assert not any(t.startswith("to_") for t in triggers)
    notices = {"delivery_due", "proposal_window", "dispute_window", "max_pause", "reminder"}
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
    # Without cancel and with a dispute that cannot cancel, cancelled is unreachable from
    # accepted: the check names it.
    no_cancel = [
        attrs.evolve(r, sources=(OrderState.disputed,), dests=())
        if r.action in (Action.cancel, Action.decline, Action.withdraw, Action.expire)
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
