"""The generated lifecycle docs: fresh, and complete with respect to the transition table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest

from order_lifecycle import Action, OrderState, Role
from order_lifecycle.core.table import RULES, TIMERS, Rule, TimerRule
from order_lifecycle.docgen import STATE_MEANINGS, diagram, lifecycle_markdown, main

ROOT = Path(__file__).resolve().parents[2]
LIFECYCLE_MD = ROOT / "docs" / "lifecycle.md"

_MERMAID_EDGE = re.compile(r"^\s+(\S+) --> (\S+)(?:: (.*))?$")
_DOT_EDGE = re.compile(r'^\s+"?([\w]+)"? -> "?([\w]+)"?(?: \[label="(.*)"\])?;$')
_TIMER_SUFFIX = re.compile(r" \(.*\)$")


def _edges(text: str, pattern: re.Pattern[str]) -> list[tuple[str, str, list[str]]]:
    """(source, dest, action labels) of every edge the diagram draws."""
    edges: list[tuple[str, str, list[str]]] = []
    for line in text.splitlines():
        match = pattern.match(line)
        if match is None:
            continue
        source, dest, label = match.groups()
        labels = [_TIMER_SUFFIX.sub("", part) for part in (label or "").split(", ") if part]
        edges.append((source, dest, labels))
    return edges


def _table_row(markdown: str, first_cell: str) -> list[str]:
    """The cells of the markdown table row that starts with ``first_cell``."""
    for line in markdown.splitlines():
        if line.startswith(f"| {first_cell} |"):
            return [cell.strip().replace("\\|", "|") for cell in line.strip("|").split(" | ")]
    raise AssertionError(f"no table row starts with {first_cell}")


def test_committed_lifecycle_doc_is_fresh() -> None:
    """docs/lifecycle.md is exactly what the table generates; run `make docs` if not."""
    assert LIFECYCLE_MD.exists(), "docs/lifecycle.md is missing: run `make docs`"
    committed = LIFECYCLE_MD.read_text(encoding="utf-8")
    assert committed == lifecycle_markdown(), "docs/lifecycle.md is stale: run `make docs`"


@pytest.mark.parametrize(("fmt", "pattern"), [("mermaid", _MERMAID_EDGE), ("dot", _DOT_EDGE)])
def test_diagram_names_every_state(
    fmt: Literal["mermaid", "dot"], pattern: re.Pattern[str]
) -> None:
    """Every state of the lifecycle is an end of at least one edge of the diagram."""
    text = diagram(fmt)
    ends = {end for source, dest, _ in _edges(text, pattern) for end in (source, dest)}
    assert {str(s) for s in OrderState} <= ends


@pytest.mark.parametrize(("fmt", "pattern"), [("mermaid", _MERMAID_EDGE), ("dot", _DOT_EDGE)])
def test_diagram_labels_every_action(
    fmt: Literal["mermaid", "dot"], pattern: re.Pattern[str]
) -> None:
    """Every action but ``place`` labels an edge or a self-loop; ``place`` enters pending."""
    text = diagram(fmt)
    edges = _edges(text, pattern)
    labels = {label for _, _, names in edges for label in names}
    missing = {str(a) for a in Action if a is not Action.place} - labels
    assert not missing, f"actions missing from the {fmt} diagram: {sorted(missing)}"
    assert any(dest == "pending" and "place" in names for _, dest, names in edges)


def test_mermaid_diagram_marks_start_and_terminal_states() -> None:
    """The Mermaid diagram starts at pending and ends at each terminal state."""
    lines = diagram("mermaid").splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert "    [*] --> pending: place" in lines
    for state in OrderState:
        assert (f"    {state} --> [*]" in lines) == state.is_terminal


def test_diagram_shows_timers() -> None:
    """Timers appear beside what they fire; a notice-only timer is a self-loop of its own."""
    text = diagram()
    assert "delivered --> complete: approve, auto_complete (review window timer)" in text
    assert "expire (acceptance window timer)" in text
    for state in ("accepted", "revision"):
        line = next(ln for ln in text.splitlines() if ln.startswith(f"    {state} --> {state}:"))
        assert line.endswith("delivery due timer (notice)")


def test_dot_diagram_is_a_digraph_with_every_state_as_node() -> None:
    """The DOT output is one digraph that declares every state as a node."""
    text = diagram("dot")
    assert text.startswith("digraph order_lifecycle {\n")
    assert text.rstrip().endswith("}")
    for state in OrderState:
        assert re.search(rf'^\s+"{state}" \[label="{state}"', text, re.MULTILINE), state


def test_diagram_is_deterministic() -> None:
    """Two calls draw the same diagram, in both formats."""
    assert diagram("mermaid") == diagram("mermaid")
    assert diagram("dot") == diagram("dot")


def test_every_state_has_a_meaning_in_the_states_table() -> None:
    """The states table has one row per state, with its meaning."""
    markdown = lifecycle_markdown()
    assert set(STATE_MEANINGS) == set(OrderState)
    for state in OrderState:
        assert _table_row(markdown, f"`{state}`") == [f"`{state}`", STATE_MEANINGS[state]]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: str(rule.action))
def test_every_rule_is_a_row_of_the_actions_table(rule: Rule) -> None:
    """Each row of RULES shows in the actions table with its states, roles, guards and effect."""
    row = _table_row(lifecycle_markdown(), f"`{rule.action}`")
    assert len(row) == 6
    _, path, who, guards, checks, does = row
    if set(rule.sources) != set(OrderState):
        for state in rule.sources:
            assert f"`{state}`" in path.split("→")[0]
    for state in rule.dests:
        assert f"`{state}`" in path.split("→")[1]
    assert ("(stays)" in path) == rule.stays
    assert {r for r in Role if f"`{r}`" in who} == set(rule.roles)
    for guard in rule.guards:
        assert guard.doc in guards
    assert checks == (rule.checks or "—")
    assert does == rule.does


@pytest.mark.parametrize("timer", TIMERS, ids=lambda timer: str(timer.timer))
def test_every_timer_is_a_row_of_the_timers_table(timer: TimerRule) -> None:
    """Each timer shows in the timers table: where it is armed, when it is due, what it fires."""
    row = _table_row(lifecycle_markdown(), f"`{timer.timer}`")
    assert row == [
        f"`{timer.timer}`",
        ", ".join(f"`{s}`" for s in timer.armed_in),
        timer.at,
        timer.does,
    ]


def test_main_writes_the_page_and_check_accepts_it(tmp_path: Path) -> None:
    """``docgen PATH`` writes the page; ``--check PATH`` then exits 0."""
    page = tmp_path / "docs" / "lifecycle.md"
    assert main([str(page)]) == 0
    assert page.read_text(encoding="utf-8") == lifecycle_markdown()
    assert main(["--check", str(page)]) == 0


def test_check_reports_a_stale_page_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--check`` exits 1 on a stale or missing page, with a one-line hint to run make docs."""
    page = tmp_path / "lifecycle.md"
    page.write_text(lifecycle_markdown().replace("pending", "waiting"), encoding="utf-8")
    assert main(["--check", str(page)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "make docs" in err
    assert main(["--check", str(tmp_path / "missing.md")]) == 1
    assert "make docs" in capsys.readouterr().err


def test_package_import_does_not_load_docgen() -> None:
    """``import order_lifecycle`` stays fast: it never imports the doc generator."""
    code = "import sys, order_lifecycle; sys.exit('order_lifecycle.docgen' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
