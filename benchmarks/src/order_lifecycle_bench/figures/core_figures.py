"""The pure core: ``decide``, ``options``, and attaching an order to the shared machine."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import pendulum
from order_lifecycle import Action, Actor, Order, OrderState, Timer, core
from order_lifecycle.core import machine as core_machine
from transitions import Machine

from order_lifecycle_bench.baselines import dict_machine
from order_lifecycle_bench.baselines import statemachine_psm as psm
from order_lifecycle_bench.baselines import transitions_machines as tm
from order_lifecycle_bench.baselines.table import PlainOrder
from order_lifecycle_bench.figures.public_trigger import decide_through, public_move
from order_lifecycle_bench.harness import Config, Figure, interleaved
from order_lifecycle_bench.stories import AGENT, BUYER, SELLER, Step, stories

__all__ = [
    "ACTORS",
    "Sample",
    "attach_figures",
    "decide_figures",
    "options_figures",
    "state_samples",
]

#: How many times each round runs its list of commands.
LOOPS = 2


def _fresh(plain: PlainOrder) -> PlainOrder:
    return plain.copy()


def _model(plain: PlainOrder) -> tm.TModel:
    model = tm.TModel.__new__(tm.TModel)
    model.__dict__.update(plain.__dict__)
    return model


def _per_op(ns: int, count: int) -> float:
    return ns / count / 1000


def decide_figures(cfg: Config) -> list[Figure]:
    """``core.decide`` per command against four baselines, all on the same commands."""
    walked = stories(cfg.story_sets)
    steps = [s for story in walked for s in story]
    count = len(steps) * LOOPS
    bare = tm.bare_machine()
    decide = core.decide
    floor = dict_machine.decide
    trigger = tm.bare_trigger

    def run_decide() -> float:
        start = time.perf_counter_ns()
        for _ in range(LOOPS):
            for s in steps:
                decide(s.order, s.command, actor=s.actor, now=s.now)
        return _per_op(time.perf_counter_ns() - start, count)

    def run_public() -> float:
        # The same decide, firing the same shared machine through ``Event.trigger``.
        with decide_through(public_move):
            return run_decide()

    def run_bare() -> float:
        start = time.perf_counter_ns()
        for _ in range(LOOPS):
            for s in steps:
                trigger(bare, s.before, s.move.action, s.move.target)
        return _per_op(time.perf_counter_ns() - start, count)

    def run_floor() -> float:
        start = time.perf_counter_ns()
        for _ in range(LOOPS):
            for s in steps:
                floor(s.plain, s.move)
        return _per_op(time.perf_counter_ns() - start, count)

    def run_psm() -> float:
        # One machine per order, built before the clock starts: only ``send`` is timed.
        sets = [
            [(psm.machine_for(_fresh(story[0].plain)), story) for story in walked]
            for _ in range(LOOPS)
        ]
        send = psm.send
        start = time.perf_counter_ns()
        for machines in sets:
            for machine, story in machines:
                for s in story:
                    send(machine, s.move)
        return _per_op(time.perf_counter_ns() - start, count)

    def run_obvious() -> float:
        # One transitions Machine per order, attached before the clock starts.
        sets = []
        for _ in range(LOOPS):
            pairs = []
            for story in walked:
                model = _model(story[0].plain)
                tm.attach(model)
                pairs.append((model, story))
            sets.append(pairs)
        run = tm.run
        start = time.perf_counter_ns()
        for pairs in sets:
            for model, story in pairs:
                for s in story:
                    if not run(model, s.move):
                        raise AssertionError(f"transitions refused {s.move}")
        return _per_op(time.perf_counter_ns() - start, count)

    runs: dict[str, Callable[[], float]] = {
        "decide": run_decide,
        "public": run_public,
        "bare": run_bare,
        "floor": run_floor,
        "psm": run_psm,
        "obvious": run_obvious,
    }
    got = interleaved(runs, rounds=cfg.rounds, warmup=cfg.warmup)
    mixed = f"{len(steps)} commands of {len(walked)} orders, x{LOOPS} per round"
    decide_median = statistics.median(got["decide"])
    public_median = statistics.median(got["public"])
    return [
        Figure(
            "core.decide per command (mixed story commands)",
            "µs",
            got["decide"],
            "transitions: one shared machine, bare trigger",
            got["bare"],
            "≤ 2.0 x baseline",
            lambda m, b, r: r is not None and r <= 2.0,
            note=mixed,
        ),
        Figure(
            "core.decide through transitions' public trigger path",
            "µs",
            got["public"],
            "transitions: one shared machine, bare trigger",
            got["bare"],
            "informative (the way docs/decisions.md turned down)",
            note=(
                "core.decide with core.machine.move replaced by Event.trigger on the library's "
                f"shared machine; {public_median / decide_median:.2f} x core.decide as it is "
                f"({public_median - decide_median:+.1f} µs per command)"
            ),
        ),
        Figure(
            "core.decide vs python-statemachine",
            "µs",
            got["decide"],
            "python-statemachine send (machine per order, same guards)",
            got["psm"],
            "≤ 0.20 x baseline (≥ 5x faster)",
            lambda m, b, r: r is not None and r <= 0.2,
        ),
        Figure(
            "core.decide vs the floor",
            "µs",
            got["decide"],
            "hand-written dict machine, same guards (floor)",
            got["floor"],
            "informative",
        ),
        Figure(
            "core.decide vs transitions, the obvious way",
            "µs",
            got["decide"],
            "transitions: Machine per order, guards as conditions",
            got["obvious"],
            "informative",
        ),
    ]


#: The actors each order of :func:`state_samples` is asked for: (role name, actor).
ACTORS: Final = (
    ("buyer", Actor.buyer(BUYER)),
    ("seller", Actor.seller(SELLER)),
    ("cx_agent", Actor.cx(AGENT)),
)


@dataclass(frozen=True)
class Sample:
    """An order, one actor and an instant, for the library and for the baselines."""

    order: Order
    actor: Actor
    role: str
    now: pendulum.DateTime
    plain: PlainOrder


def state_samples(sets: int, per_state: int) -> dict[OrderState, list[Sample]]:
    """``per_state`` (order, actor) pairs in every state: the stories' orders as each
    command found them and as their last command left them (complete, cancelled), each
    asked for by the buyer, the seller and a CX agent when the story's next command came
    (an hour after the last command, for the orders it left complete or cancelled)."""
    orders: dict[OrderState, list[tuple[Order, pendulum.DateTime, PlainOrder]]] = {
        s: [] for s in OrderState
    }
    for story in stories(sets):
        for s in story:
            orders[s.order.state].append((s.order, s.now, s.plain))
        last = story[-1]
        final = core.decide(last.order, last.command, actor=last.actor, now=last.now).order
        after, _ = dict_machine.decide(last.plain, last.move)
        orders[final.state].append((final, last.now.add(hours=1), after))
    samples: dict[OrderState, list[Sample]] = {}
    for state, found in orders.items():
        pairs = [
            Sample(order, actor, role, now, plain)
            for order, now, plain in found
            for role, actor in ACTORS
        ]
        samples[state] = [pairs[i % len(pairs)] for i in range(per_state)]
    return samples


def options_figures(cfg: Config) -> list[Figure]:
    """``core.options`` against transitions' ``get_triggers`` + ``may_<trigger>`` loop:
    on a machine per order (all states mixed), and on one shared machine with the orders
    added (one figure per state)."""
    return [_options_per_order(cfg), *_options_by_state(cfg)]


def _options_by_state(cfg: Config) -> list[Figure]:
    """Per state: ``core.options`` (every action, a reason for each unavailable one) against
    the fast way to use ``transitions``: one shared machine, the orders added with
    ``add_model``, ``get_triggers(state)`` and ``may_<trigger>()`` for each trigger."""
    by_state = state_samples(max(1, cfg.story_sets // 2), cfg.option_samples // 2)
    options = core.options
    baseline = tm.options
    runs: dict[str, Callable[[], float]] = {}
    asked: dict[OrderState, tuple[int, int]] = {}
    for state, samples in by_state.items():
        models = [_model(s.plain) for s in samples]
        shared = tm.shared_with(models)
        pairs = list(zip(models, samples, strict=True))
        count = len(samples) * LOOPS

        def run_options(samples: list[Sample] = samples, count: int = count) -> float:
            start = time.perf_counter_ns()
            for _ in range(LOOPS):
                for s in samples:
                    options(s.order, actor=s.actor, now=s.now)
            return _per_op(time.perf_counter_ns() - start, count)

        def run_baseline(
            shared: Machine = shared,
            pairs: list[tuple[tm.TModel, Sample]] = pairs,
            count: int = count,
        ) -> float:
            start = time.perf_counter_ns()
            for _ in range(LOOPS):
                for model, s in pairs:
                    baseline(shared, model, s.role, s.actor.id, s.now)
            return _per_op(time.perf_counter_ns() - start, count)

        runs[f"options {state}"] = run_options
        runs[f"baseline {state}"] = run_baseline
        first = samples[0]
        asked[state] = (
            len(tm.options(shared, models[0], first.role, first.actor.id, first.now)),
            len({(s.order.id, s.role) for s in samples}),
        )
    got = interleaved(runs, rounds=cfg.rounds, warmup=cfg.warmup)
    figures: list[Figure] = []
    for state, samples in by_state.items():
        triggers, distinct = asked[state]
        answers = [options(s.order, actor=s.actor, now=s.now) for s in samples]
        unavailable = [o for answer in answers for o in answer if not o.available]
        figures.append(
            Figure(
                f"core.options in {state}, all actions with reasons",
                "µs",
                got[f"options {state}"],
                "transitions: one shared machine (add_model), get_triggers + may_<trigger>",
                got[f"baseline {state}"],
                "≤ 0.25 x baseline (≥ 4x faster)",
                lambda m, b, r: r is not None and r <= 0.25,
                note=(
                    f"{len(samples)} calls on {distinct} (order, actor) pairs (buyer, seller, "
                    f"CX agent); each answers {len(answers[0])} actions; the baseline tries "
                    f"{triggers} trigger{'' if triggers == 1 else 's'} (no reasons)"
                ),
                conditions={
                    "a reason for every unavailable action": all(o.reason for o in unavailable)
                },
            )
        )
    return figures


def _options_per_order(cfg: Config) -> Figure:
    """``core.options`` for one actor against transitions' ``get_triggers`` + ``may_``
    on a machine per order."""
    steps = [s for story in stories(max(1, cfg.story_sets // 2)) for s in story]
    samples: list[Step] = [steps[i % len(steps)] for i in range(cfg.option_samples)]
    models = []
    for s in samples:
        model = _model(s.plain)
        models.append((tm.attach(model), model, s))
    count = len(samples) * LOOPS
    options = core.options
    baseline = tm.options

    def run_options() -> float:
        start = time.perf_counter_ns()
        for _ in range(LOOPS):
            for s in samples:
                options(s.order, actor=s.actor, now=s.now)
        return _per_op(time.perf_counter_ns() - start, count)

    def run_baseline() -> float:
        start = time.perf_counter_ns()
        for _ in range(LOOPS):
            for machine, model, s in models:
                baseline(machine, model, s.move.role, s.move.actor, s.now)
        return _per_op(time.perf_counter_ns() - start, count)

    got = interleaved(
        {"options": run_options, "baseline": run_baseline}, rounds=cfg.rounds, warmup=cfg.warmup
    )
    sample = core.options(samples[0].order, actor=samples[0].actor, now=samples[0].now)
    unavailable = [o for o in sample if not o.available]
    return Figure(
        "core.options, one actor, all actions with reasons",
        "µs",
        got["options"],
        "transitions: Machine per order, get_triggers + may_<trigger> loop (no reasons)",
        got["baseline"],
        "≤ 0.25 x baseline (≥ 4x faster)",
        lambda m, b, r: r is not None and r <= 0.25,
        note=(
            f"{len(samples)} (order, actor) pairs from the stories; each call answers "
            f"{len(sample)} actions ({len(unavailable)} unavailable with a reason in the "
            "first sample)"
        ),
        conditions={"a reason for every unavailable action": all(o.reason for o in unavailable)},
    )


def _blocks(call: Callable[[], None], total: int, blocks: int, per_call: int) -> list[float]:
    """Run ``call`` (which does ``per_call`` operations) ``total`` operations' worth, in
    ``blocks`` timed blocks; µs per operation in each block."""
    reps = max(1, total // blocks // per_call)
    per_block: list[float] = []
    for _ in range(blocks):
        start = time.perf_counter_ns()
        for _ in range(reps):
            call()
        per_block.append(_per_op(time.perf_counter_ns() - start, reps * per_call))
    return per_block


def attach_figures(cfg: Config) -> list[Figure]:
    """Attaching an order to the shared machine, per order, over a million in blocks:
    O(1), and the machine keeps no reference; against a ``Machine`` per order and
    ``add_model``. What the library does to attach an order is what ``core.machine.move``
    does first on every call: it makes a cursor holding the order's state (the class
    ``core.machine._Cursor``; ``benchmarks/tests`` check that ``move`` makes exactly one
    per call and that nothing keeps it). Firing a trigger (the whole ``move``) is
    reported beside it."""
    steps = [s for story in stories(1) for s in story]
    moves: list[tuple[OrderState, Action | Timer, OrderState | None]] = [
        (
            OrderState(s.before),
            Action(s.move.action),
            None if s.move.target is None else OrderState(s.move.target),
        )
        for s in steps
    ]
    attach = core_machine._Cursor  # what move() makes of each order it moves
    move = core_machine.move
    machine = core_machine.machine()
    states = [state for state, _, _ in moves]
    kept: list[object] = []

    def attach_all() -> None:
        for state in states:
            kept.append(attach(state))
        kept.clear()

    def move_all() -> None:
        for state, action, target in moves:
            move(state, action, target)

    move(*moves[0])  # warm-up: build the machine
    attached = _blocks(attach_all, cfg.moves, cfg.move_blocks, len(states))
    fired = _blocks(move_all, cfg.moves // 5, cfg.move_blocks, len(moves))
    models = list(machine.models)
    head = statistics.median(attached[:3])
    tail = statistics.median(attached[-3:])
    fired_head = statistics.median(fired[:3])
    fired_tail = statistics.median(fired[-3:])

    plains = [s.plain for s in steps]
    built: list[object] = []

    def run_obvious() -> float:
        start = time.perf_counter_ns()
        for plain in plains:
            built.append(tm.attach(_model(plain)))
        return _per_op(time.perf_counter_ns() - start, len(plains))

    def run_add_model() -> float:
        shared = tm.shared_with_models()
        start = time.perf_counter_ns()
        for plain in plains:
            model = _model(plain)
            shared.add_model(model, initial=model.state)
        return _per_op(time.perf_counter_ns() - start, len(plains))

    got = interleaved(
        {"obvious": run_obvious, "add_model": run_add_model},
        rounds=cfg.rounds,
        warmup=cfg.warmup,
    )
    built.clear()
    return [
        Figure(
            "attach an order to the machine (the cursor core.machine.move makes)",
            "µs",
            attached,
            "transitions: Machine(model=order) per order",
            got["obvious"],
            "≤ 5 µs, O(1), no reference kept",
            lambda m, b, r: m <= 5.0,
            note=(
                f"{cfg.moves:,} attaches in {len(attached)} blocks; first blocks {head:.2f} µs, "
                f"last blocks {tail:.2f} µs; machine.models after them and "
                f"{cfg.moves // 5:,} moves: {len(models)}; transitions add_model on a shared "
                f"machine: {statistics.median(got['add_model']):.1f} µs per order"
            ),
            conditions={
                "O(1): last blocks ≤ 1.5 x first blocks": tail <= 1.5 * head,
                "machine keeps no reference (models == [])": not models,
            },
        ),
        Figure(
            "fire a trigger on an order (core.machine.move, attaching included)",
            "µs",
            fired,
            "transitions: Machine(model=order) per order",
            got["obvious"],
            "informative (decide includes it)",
            None,
            note=(
                f"first blocks {fired_head:.2f} µs, last blocks {fired_tail:.2f} µs: "
                "constant per move"
            ),
        ),
    ]
