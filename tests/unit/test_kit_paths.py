"""The test kit's paths, coverage and sample arguments, checked against the table.

The kit reads ``core/table.py`` and never lists actions itself, so these tests compare
it with the table's rows: every edge has a path, every row can be filled, every path
plays through the pure core and through a desk on each store, ending with its edge.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from typing import ClassVar

import attrs
import pendulum
import pytest

from order_lifecycle import (
    Action,
    ActionNotAvailable,
    Actor,
    LifecycleDefinitionError,
    Listing,
    ManualClock,
    Money,
    Order,
    OrderDesk,
    OrderState,
    Policy,
    Role,
    Timer,
    ValidationError,
    core,
)
from order_lifecycle.core import api
from order_lifecycle.core.commands import Command
from order_lifecycle.core.table import RULES, TIMERS
from order_lifecycle.testing import paths
from order_lifecycle.testing.arguments import variants
from order_lifecycle.testing.coverage import Edge, Recorder, edges, paused

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")


def play_on_core(steps: tuple[paths.Step, ...], policy: Policy) -> tuple[Order, list[set[Edge]]]:
    """A path run on the pure core, as ``play`` runs it on a desk: the order it ends with
    and the edges each step took."""
    listing = paths.LISTING
    order = core.place(buyer="buyer", seller="seller", listing=listing, now=T0, policy=policy).order
    now = T0
    taken: list[set[Edge]] = []
    who = {Role.buyer: "buyer", Role.seller: "seller", Role.cx_agent: "agent"}
    for step in steps:
        now = now + step.wait
        with Recorder() as recorder:
            if step.is_timer:  # as tick: the ready timers, soonest first, until none is
                while ready := [t for t in core.due_timers(order, policy) if t.ready(now)]:
                    order = core.fire(order, ready[0].timer, now=now, policy=policy).order
            else:
                rule = next(r for r in RULES if r.action is step.action)
                assert rule.command is not None
                actor = Actor(who[step.role], step.role)
                command = rule.command(**step.kwargs)
                order = core.decide(order, command, actor=actor, now=now, policy=policy).order
        taken.append(set(recorder.counts))
    return order, taken


# -- the table's edges -----------------------------------------------------------------


def test_edges_are_the_tables_rows_and_timers() -> None:
    """One edge per (source, destination) of each row, the source itself for a row that
    stays, and one per state a notice timer is armed in; ``place`` is none."""
    expected: set[tuple[OrderState, Action | Timer, OrderState]] = set()
    for rule in RULES:
        for source in rule.sources:
            for dest in rule.dests or (source,):
                expected.add((source, rule.action, dest))
    for timer in TIMERS:
        if timer.fires is None:
            expected |= {(state, timer.timer, state) for state in timer.armed_in}
    found = edges()
    assert set(found) == expected
    assert len(found) == len(expected)
    assert not any(edge.action is Action.place for edge in found)
    assert str(found[0]) == "pending --accept--> accepted"


def test_transitions_cover_every_edge_of_the_table() -> None:
    """``transitions()`` has a path for 100 % of the table's edges, timers included, in
    the table's order."""
    found = paths.transitions()
    assert list(found) == list(edges())
    assert {edge.action for edge in found} >= {Timer.delivery_due, Action.expire}


def test_each_transition_path_ends_with_its_edge_on_the_pure_core() -> None:
    """Run on the core as ``play`` runs it, each path's last step takes its edge, and no
    earlier step does (else a shorter path would end with it)."""
    for edge, steps in paths.transitions().items():
        order, taken = play_on_core(steps, paths.POLICY)
        assert order.state is edge.dest, (edge, steps)
        assert edge in taken[-1], (edge, taken)
        assert all(edge not in earlier for earlier in taken[:-1]), (edge, taken)


def test_shortest_reaches_every_state_in_as_few_steps_as_any_edge_path() -> None:
    """A path to each state; none longer than the shortest edge path into that state."""
    shortest = paths.shortest()
    assert list(shortest) == list(OrderState)
    assert shortest[OrderState.pending] == ()
    for edge, steps in paths.transitions().items():
        assert len(shortest[edge.dest]) <= len(steps)
    for state, steps in shortest.items():
        assert play_on_core(steps, paths.POLICY)[0].state is state


def test_an_edge_that_cannot_be_taken_under_the_policy_is_left_out() -> None:
    """Under the default policy (no acceptance, proposal or dispute window, no reminder) a
    pending order never expires, and those timers never fire: no path for their edges;
    every other edge keeps its path."""
    without = paths.transitions(Policy())
    left_out = set(edges()) - set(without)
    off = {Action.expire, Timer.proposal_window, Timer.dispute_window, Timer.reminder}
    assert {edge.action for edge in left_out} == off
    assert all(edge.action in off for edge in left_out)
    assert Edge(OrderState.accepted, Timer.max_pause, OrderState.accepted) in without


def test_paths_follow_the_listing_and_the_cx_team() -> None:
    """A listing without revisions reaches ``revision`` by a contract update that adds
    one; a CX team makes the search's agent one of its members."""
    strict = Listing("No revisions", Money("10", "EUR"), pendulum.duration(days=1), 0)
    route = paths.shortest(listing=strict)[OrderState.revision]
    assert [s.action for s in route][-1] is Action.request_revision
    assert Action.accept_update in [s.action for s in route]
    team = attrs.evolve(paths.POLICY, cx_team={"zoe"})
    assert list(paths.transitions(team)) == list(edges())
    assert (
        paths.transitions(Policy(cx_team=set()))
        .keys()
        .isdisjoint({e for e in edges() if e.action in (Action.join, Action.resolve)})
    )


def test_bad_policy_or_listing_is_refused() -> None:
    """Not a Policy, not a Listing: ``ValidationError`` naming the argument."""
    with pytest.raises(ValidationError, match="policy"):
        paths.shortest("strict")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="listing"):
        paths.transitions(listing="logo")  # type: ignore[arg-type]


# -- steps -----------------------------------------------------------------------------


def test_a_step_is_frozen_and_reads_well() -> None:
    """Arguments as sorted pairs (a mapping is taken), waits as durations."""
    step = paths.Step(Action.resolve, Role.cx_agent, dt.timedelta(days=2), {"outcome": "cancel"})
    assert step.args == (("outcome", "cancel"),)
    assert step.kwargs == {"outcome": "cancel"}
    assert step.wait == pendulum.duration(days=2)
    assert str(step) == "after 2 days: resolve by cx_agent (outcome)"
    assert str(paths.Step(Timer.review_window, Role.system)) == "tick (review_window)"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        step.role = Role.buyer  # type: ignore[misc]
    with pytest.raises(ValidationError, match="wait"):
        paths.Step(Action.accept, Role.seller, 3)
    assert hash(step) == hash(attrs.evolve(step))


# -- sample arguments ------------------------------------------------------------------


def test_every_row_of_the_table_can_be_filled() -> None:
    """Each row's command class is built from the samples, and validates on an order
    where its action is available (the one its transition path leads to)."""
    found = paths.transitions()
    for rule in RULES:
        if rule.command is None:
            continue
        edge = next(e for e in found if e.action is rule.action)
        steps = found[edge]
        order, _ = play_on_core(steps[:-1], paths.POLICY)
        for kwargs in variants(rule.command, order):
            assert rule.command(**kwargs).action is rule.action
        assert steps[-1].kwargs in variants(rule.command, order)


def test_a_command_the_kit_cannot_fill_is_a_clear_error() -> None:
    """A required field without a sample names the field and where to add it."""

    @attrs.frozen
    class Rate(Command):
        action: ClassVar[Action] = Action.say
        stars: int

    with pytest.raises(LifecycleDefinitionError, match=r"Rate\.stars .*SAMPLES"):
        variants(Rate, None)


def test_resolve_has_one_set_of_arguments_per_outcome() -> None:
    """Fields with several samples give every combination."""
    outcomes = {kwargs["outcome"] for kwargs in variants(core.Resolve, None)}
    assert outcomes == {"resume", "complete", "cancel"}


# -- playing on a desk -----------------------------------------------------------------


@pytest.fixture
def played_desk(url: str) -> Iterator[tuple[OrderDesk, ManualClock]]:
    """A desk on each store, under the kit's default policy, on a manual clock."""
    clock = ManualClock(T0)
    with OrderDesk.open(url, clock=clock, policy=paths.POLICY) as desk:
        yield desk, clock


def test_every_transition_plays_on_a_desk_and_ends_with_its_edge(
    played_desk: tuple[OrderDesk, ManualClock],
) -> None:
    """``play`` runs each path through the desk's methods and ``tick`` on every store:
    the order's history ends with the edge (the step before it leaves the order in the
    edge's source, the last event is the edge's action into its destination)."""
    desk, clock = played_desk
    for edge, steps in paths.transitions().items():
        head = paths.play(desk, steps[:-1], clock=clock)
        order = paths.play(desk, steps, clock=clock)
        history = desk.history(order.id)
        assert head.state is edge.source, edge
        assert history[head.version - 1].state is edge.source, edge
        assert (history[-1].action, history[-1].state) == (edge.action, edge.dest), edge
        assert order == desk.get(order.id)
        assert order.state is edge.dest


def test_play_uses_the_ids_and_listing_it_is_given(
    played_desk: tuple[OrderDesk, ManualClock],
) -> None:
    """Parties, agent and listing are the caller's; waits move the clock."""
    desk, clock = played_desk
    steps = paths.transitions()[Edge(OrderState.disputed, Action.resolve, OrderState.complete)]
    listing = Listing("Banner", Money("40.00", "GBP"), pendulum.duration(days=2), 1)
    order = paths.play(
        desk, steps, clock=clock, buyer="ann", seller="sam", agent="cleo", listing=listing
    )
    assert (order.buyer, order.seller, order.agents) == ("ann", "sam", ("cleo",))
    assert order.listing == listing
    before = clock.now()
    waited = paths.transitions()[Edge(OrderState.pending, Action.expire, OrderState.cancelled)]
    expired = paths.play(desk, waited, clock=clock)
    assert clock.now() - before == waited[0].wait
    assert expired.cancellation is not None
    assert expired.cancellation.reason == "expired"


def test_play_refuses_a_clock_it_cannot_move_and_names_a_failing_step() -> None:
    """A clock that is not a ``ManualClock`` is refused before anything is placed; a step
    the desk refuses raises its error with a note; a tick with nothing due is refused."""
    clock = ManualClock(T0)
    with OrderDesk.open("memory://", clock=clock) as desk:
        with pytest.raises(ValidationError, match="clock"):
            paths.play(desk, (), clock=desk.clock.now)  # type: ignore[arg-type]
        assert desk.store.is_empty()
        approve = paths.Step(Action.approve, Role.buyer)
        with pytest.raises(ActionNotAvailable) as refused:
            paths.play(desk, [approve], clock=clock)
        assert refused.value.__notes__ == ["while playing step 1 of 1: approve by buyer"]
        with pytest.raises(ActionNotAvailable, match="No timer"):
            paths.play(desk, [paths.Step(Timer.review_window, Role.system)], clock=clock)
        with pytest.raises(ValidationError, match="not a Step"):
            paths.play(desk, ["accept"], clock=clock)  # type: ignore[list-item]


# -- coverage recording ----------------------------------------------------------------


def test_recording_is_off_unless_started_and_nests() -> None:
    """No hook by default; a recorder counts while started, an inner one takes over and
    gives the outer back; ``paused`` counts nothing."""
    assert api.edge_hook is None
    listing = paths.LISTING
    placed = core.place(buyer="a", seller="b", listing=listing, now=T0).order
    accept = Edge(OrderState.pending, Action.accept, OrderState.accepted)
    with Recorder() as outer:
        core.decide(placed, core.Accept(), actor="b", now=T0)
        with Recorder() as inner:
            core.decide(placed, core.Accept(), actor="b", now=T0)
        with paused():
            core.decide(placed, core.Accept(), actor="b", now=T0)
        core.decide(placed, core.Accept(), actor="b", now=T0)
    assert api.edge_hook is None
    assert (outer.counts[accept], inner.counts[accept]) == (2, 1)
    with pytest.raises(RuntimeError):
        outer.stop()
    recorder = Recorder().start()
    with pytest.raises(RuntimeError):
        recorder.start()
    recorder.stop()


def test_the_report_lists_every_edge_and_those_never_taken() -> None:
    """One line per edge with its count, then the edges never taken, then the total."""
    recorder = Recorder()
    accept = Edge(OrderState.pending, Action.accept, OrderState.accepted)
    recorder.counts[accept] = 3
    lines = recorder.report().splitlines()
    table = edges()
    assert lines[0].split() == ["pending", "--accept-->", "accepted", "3"]
    assert lines[len(table)] == f"never taken ({len(table) - 1}):"
    assert lines[-1] == f"lifecycle coverage: 1/{len(table)} edges, {100 / len(table):.1f}%"
    assert recorder.missed() == list(table[1:])
    assert recorder.percent([accept]) == 100.0


def test_importing_the_library_imports_neither_hypothesis_nor_pytest() -> None:
    """``import order_lifecycle`` (the core, the desk, and the kit's paths and coverage)
    loads neither test framework: they are the ``testing`` extra's."""
    code = (
        "import sys, order_lifecycle, order_lifecycle.core, order_lifecycle.desk, "
        "order_lifecycle.testing, order_lifecycle.testing.paths, "
        "order_lifecycle.testing.coverage, order_lifecycle.testing.consistency; "
        "order_lifecycle.OrderDesk; "
        "print(sorted(m for m in ('hypothesis', 'pytest', '_pytest') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
