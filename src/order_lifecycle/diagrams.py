"""The lifecycle's state diagram, drawn from the table: Mermaid or Graphviz DOT."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final, Literal

from order_lifecycle.core.model import Action, OrderState, Timer
from order_lifecycle.core.table import RULES, TIMERS, Rule, TimerRule

__all__ = ["diagram", "timer_name"]

_START: Final = "[*]"


def timer_name(timer: Timer) -> str:
    """A timer as the docs and diagrams name it: ``review window``."""
    return timer.value.replace("_", " ")


def _by_timer(timers: Iterable[TimerRule]) -> dict[Action, Timer]:
    return {action: t.timer for t in timers for action in t.actions}


def _edges(
    rules: Sequence[Rule], timers: Sequence[TimerRule]
) -> dict[tuple[OrderState, OrderState], list[str]]:
    """Every (source, dest) pair of the table, with its labels, in table order.

    An action that keeps the order in its state is a self-loop; a timer that fires an
    action is named beside it; a timer that only posts a notice is a self-loop of its own.
    """
    fired_by = _by_timer(timers)
    edges: dict[tuple[OrderState, OrderState], list[str]] = {}
    for rule in rules:
        label = rule.action.value
        if rule.action in fired_by:
            label += f" ({timer_name(fired_by[rule.action])} timer)"
        for source in rule.sources:
            for dest in rule.dests or (source,):
                edges.setdefault((source, dest), []).append(label)
    for timer in timers:
        if timer.fires is None:
            for state in timer.armed_in:
                label = f"{timer_name(timer.timer)} timer (notice)"
                edges.setdefault((state, state), []).append(label)
    order = {state: index for index, state in enumerate(OrderState)}
    return dict(sorted(edges.items(), key=lambda item: (order[item[0][0]], order[item[0][1]])))


def _created_in(rules: Iterable[Rule]) -> list[tuple[OrderState, str]]:
    return [(dest, rule.action.value) for rule in rules if not rule.sources for dest in rule.dests]


def _mermaid(rules: Sequence[Rule], timers: Sequence[TimerRule]) -> str:
    lines = ["stateDiagram-v2"]
    lines += [f"    {_START} --> {state}: {label}" for state, label in _created_in(rules)]
    for (source, dest), labels in _edges(rules, timers).items():
        lines.append(f"    {source} --> {dest}: {', '.join(labels)}")
    lines += [f"    {state} --> {_START}" for state in OrderState if state.is_terminal]
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot(rules: Sequence[Rule], timers: Sequence[TimerRule]) -> str:
    lines = [
        "digraph order_lifecycle {",
        "    rankdir=LR;",
        '    node [shape=box, style=rounded, fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
        '    __start__ [shape=point, label=""];',
        '    __end__ [shape=doublecircle, label="", width=0.2];',
    ]
    for state in OrderState:
        extra = ", peripheries=2" if state.is_terminal else ""
        lines.append(f"    {_dot_text(state.value)} [label={_dot_text(state.value)}{extra}];")
    for state, label in _created_in(rules):
        lines.append(f"    __start__ -> {_dot_text(state.value)} [label={_dot_text(label)}];")
    for (source, dest), labels in _edges(rules, timers).items():
        lines.append(
            f"    {_dot_text(source.value)} -> {_dot_text(dest.value)}"
            f" [label={_dot_text(', '.join(labels))}];"
        )
    lines += [f"    {_dot_text(s.value)} -> __end__;" for s in OrderState if s.is_terminal]
    lines.append("}")
    return "\n".join(lines) + "\n"


def diagram(fmt: Literal["mermaid", "dot"] = "mermaid") -> str:
    """The state diagram of the lifecycle, drawn from the table: Mermaid or Graphviz DOT.

    One edge per (source, dest) pair, labelled with the actions that take it; actions
    that keep the order in its state are self-loops; timers are named beside the action
    they fire (``auto_complete (review window timer)``), and a timer that only posts a
    notice is a self-loop of its own. Output is deterministic (table and enum order).
    """
    if fmt == "mermaid":
        return _mermaid(RULES, TIMERS)
    if fmt == "dot":
        return _dot(RULES, TIMERS)
    raise ValueError(f"unknown diagram format {fmt!r}; use 'mermaid' or 'dot'")
