"""The core figures measure what the library really does.

The attach figure times the cursor ``core.machine.move`` makes of each order: these
tests check that ``move`` makes exactly one per call, holding the order's state, and
that nothing keeps it afterwards (the figure's promise: O(1), the machine holds no
order). The figure of ``decide`` through ``transitions``' public trigger path must be
the same ``decide``: the swap reaches it, and it decides every story command alike. The
per-state options figures time a baseline that answers what ``core.options`` answers,
for the triggers it tries, on orders really in each state.
"""

from __future__ import annotations

import gc
import weakref

import pytest
from order_lifecycle import Action, ActionNotAvailable, OrderState, Timer, core
from order_lifecycle.core import machine as core_machine

from order_lifecycle_bench.baselines import transitions_machines as tm
from order_lifecycle_bench.figures.core_figures import ACTORS, _model, state_samples
from order_lifecycle_bench.figures.public_trigger import decide_through, public_move
from order_lifecycle_bench.stories import Step, stories


class _Counted(core_machine._Cursor):
    """The library's cursor, counted and weakly referenced as ``move`` makes them."""

    made: list[weakref.ref[_Counted]] = []  # noqa: RUF012 - one list for the test

    def __init__(self, state: str) -> None:
        super().__init__(state)
        _Counted.made.append(weakref.ref(self))


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[weakref.ref[_Counted]]:
    """``move`` makes :class:`_Counted` cursors; the list of those it made."""
    _Counted.made = []
    monkeypatch.setattr(core_machine, "_Cursor", _Counted)
    return _Counted.made


def _steps() -> list[Step]:
    return [s for story in stories(1) for s in story]


def test_move_attaches_each_order_as_one_cursor_nobody_keeps(
    counted: list[weakref.ref[_Counted]],
) -> None:
    """Every story move makes one cursor, at the order's state; after the moves no
    cursor is alive and the machine has no models."""
    steps = _steps()
    counted.clear()  # walking the stories moved orders too
    for number, s in enumerate(steps, start=1):
        target = None if s.move.target is None else OrderState(s.move.target)
        reached = core_machine.move(OrderState(s.before), Action(s.move.action), target)
        assert reached is OrderState(s.after)
        assert len(counted) == number, f"move made {len(counted) - number + 1} cursors"
    gc.collect()
    assert [ref() for ref in counted] == [None] * len(steps)
    assert core_machine.machine().models == []


def test_the_attach_figure_times_the_class_move_uses() -> None:
    """Without the test's patch, the class the figure times is the one ``move`` makes."""
    cursor = core_machine._Cursor(OrderState.pending)
    assert cursor.state is OrderState.pending
    assert type(cursor).__slots__ == ("state",)  # the whole of what an order costs the machine


def test_decide_through_the_public_trigger_reaches_decide() -> None:
    """Inside ``decide_through``, ``decide`` calls the given move, once per command."""
    calls: list[tuple[object, ...]] = []

    def counting(
        state: OrderState, trigger: Action | Timer, target: OrderState | None = None
    ) -> OrderState:
        calls.append((state, trigger, target))
        return public_move(state, trigger, target)

    steps = _steps()
    with decide_through(counting):
        for s in steps:
            core.decide(s.order, s.command, actor=s.actor, now=s.now)
    assert len(calls) == len(steps)
    core.decide(steps[0].order, steps[0].command, actor=steps[0].actor, now=steps[0].now)
    assert len(calls) == len(steps), "the swap outlived its block"


def test_decide_through_the_public_trigger_decides_alike() -> None:
    """Every story command: the same decision both ways; and a move neither way allows
    is refused both ways."""
    steps = _steps()
    expected = [core.decide(s.order, s.command, actor=s.actor, now=s.now) for s in steps]
    with decide_through(public_move):
        got = [core.decide(s.order, s.command, actor=s.actor, now=s.now) for s in steps]
    assert got == expected
    for move in (core_machine.move, public_move):
        with pytest.raises(ActionNotAvailable):
            move(OrderState.complete, Action.accept, None)
        with pytest.raises(ActionNotAvailable):
            move(OrderState.disputed, Action.resolve, None)


def test_state_samples_cover_every_state_and_actor() -> None:
    """The per-state options figures ask the buyer, the seller and a CX agent about
    orders that are really in each state, for the library and the baseline alike."""
    by_state = state_samples(1, 12)
    assert set(by_state) == set(OrderState)
    for state, samples in by_state.items():
        assert len(samples) == 12
        assert {s.role for s in samples} == {role for role, _ in ACTORS}
        for s in samples:
            assert s.order.state is state
            assert s.plain.state == state.value
            assert s.actor.role.value == s.role


def test_the_shared_machine_baseline_answers_as_options_does() -> None:
    """The baseline does the same work: for every trigger it tries (those of the current
    state, on one shared machine with the orders added), it answers the availability
    ``core.options`` gives."""
    seen: set[bool] = set()
    for state, samples in state_samples(2, 36).items():
        models = [_model(s.plain) for s in samples]
        shared = tm.shared_with(models)
        assert shared.models == models
        for model, s in zip(models, samples, strict=True):
            got = dict(tm.options(shared, model, s.role, s.actor.id, s.now))
            assert got, f"no trigger tried in {state}"
            assert set(got) == set(shared.get_triggers(state.value))
            options = core.options(s.order, actor=s.actor, now=s.now)
            answer = {o.action.value: o.available for o in options}
            assert got == {name: answer[name] for name in got}, (state, s.role, s.order.id)
            seen.update(got.values())
    assert seen == {True, False}, "every answer alike: the comparison proves nothing"
