"""Transition coverage: which edges ``(source, action, dest)`` of the table tests took.

While a :class:`Recorder` records, every transition the core completes (``decide`` and
``fire``, so every command and timer of an ``OrderDesk`` too) is counted against the
table's edges, read from ``core/table.py``. Recording off costs one ``None`` check per
decision. The pytest plugin's ``--lifecycle-coverage`` prints :meth:`Recorder.report`.

>>> import pendulum
>>> from order_lifecycle import Listing, Money, core
>>> listing = Listing("Logo", Money("80.00", "USD"), pendulum.duration(days=3), 1)
>>> now = pendulum.datetime(2026, 12, 1, 10)
>>> with Recorder() as recorder:
...     placed = core.place(buyer="alice", seller="bob", listing=listing, now=now)
...     accepted = core.decide(placed.order, core.Accept(), actor="bob", now=now)
>>> recorder.counts[Edge(OrderState.pending, Action.accept, OrderState.accepted)]
1
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from order_lifecycle.core import api
from order_lifecycle.core.model import Action, OrderState, Timer
from order_lifecycle.core.table import RULES, TIMERS, Rule, TimerRule

__all__ = ["Edge", "Recorder", "edges", "paused"]


class Edge(NamedTuple):
    """One edge of the transition table: ``action`` taken in ``source`` leads to ``dest``.

    ``dest == source`` for an action that keeps the state (``say``) and for a timer that
    only records a notice (``delivery_due``), whose ``action`` is the ``Timer``.
    """

    source: OrderState
    action: Action | Timer
    dest: OrderState

    def __str__(self) -> str:
        return f"{self.source} --{self.action}--> {self.dest}"


def edges(rules: Iterable[Rule] = RULES, timers: Iterable[TimerRule] = TIMERS) -> tuple[Edge, ...]:
    """Every edge of the table, in its order: each action from each of its sources to each
    of its destinations (or back to the source), then the notices of timers that fire no
    action. ``place`` has no source state: it starts every path and is no edge."""
    found: list[Edge] = []
    for rule in rules:
        for source in rule.sources:
            for dest in rule.dests or (source,):
                found.append(Edge(source, rule.action, dest))
    for timer in timers:
        if timer.fires is None:
            found.extend(Edge(state, timer.timer, state) for state in timer.armed_in)
    return tuple(dict.fromkeys(found))


class Recorder:
    """Counts the edges the core takes while it is started (one recorder at a time).

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. ``counts`` holds
    every edge taken, ``report()`` the table's edges with their counts.
    """

    def __init__(self) -> None:
        self.counts: Counter[Edge] = Counter()
        self._previous: api.EdgeHook | None = None
        self._started = False

    def _record(self, source: OrderState, action: Action | Timer, dest: OrderState) -> None:
        self.counts[Edge(source, action, dest)] += 1

    def start(self) -> Recorder:
        """Count from now on (a second recorder started inside this one takes over until
        it stops)."""
        if self._started:
            raise RuntimeError("this recorder is already recording")
        self._previous = api.edge_hook
        api.edge_hook = self._record
        self._started = True
        return self

    def stop(self) -> None:
        """Stop counting; the recorder started before this one, if any, counts again."""
        if not self._started:
            raise RuntimeError("this recorder is not recording")
        api.edge_hook = self._previous
        self._previous = None
        self._started = False

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def taken(self, table: Iterable[Edge] | None = None) -> list[tuple[Edge, int]]:
        """Each edge of the table (``edges()`` by default) with how often it was taken."""
        return [(edge, self.counts[edge]) for edge in (edges() if table is None else table)]

    def missed(self, table: Iterable[Edge] | None = None) -> list[Edge]:
        """The table's edges never taken."""
        return [edge for edge, count in self.taken(table) if count == 0]

    def percent(self, table: Iterable[Edge] | None = None) -> float:
        """The share of the table's edges taken at least once, from 0 to 100."""
        rows = self.taken(table)
        return 100.0 * sum(1 for _, count in rows if count) / len(rows) if rows else 100.0

    def report(self, table: Iterable[Edge] | None = None) -> str:
        """The edge table as text: one line per edge with its count, then the edges
        never taken and the total."""
        rows = self.taken(table)
        width = max((len(str(edge)) for edge, _ in rows), default=0)
        lines = [f"{edge!s:<{width}}  {count:>7}" for edge, count in rows]
        missed = [edge for edge, count in rows if count == 0]
        if missed:
            lines.append(f"never taken ({len(missed)}):")
            lines.extend(f"  {edge}" for edge in missed)
        taken = len(rows) - len(missed)
        share = 100.0 * taken / len(rows) if rows else 100.0
        lines.append(f"lifecycle coverage: {taken}/{len(rows)} edges, {share:.1f}%")
        return "\n".join(lines)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Count nothing inside: for the test kit's own replays of stored histories, which
    run the core again on edges already counted."""
    hook = api.edge_hook
    api.edge_hook = None
    try:
        yield
    finally:
        api.edge_hook = hook
