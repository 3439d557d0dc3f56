"""Generated documentation: the lifecycle page and its state diagram, read from the table.

Nothing here lists states or actions by hand: the diagram and the tables of
``docs/lifecycle.md`` are built from :data:`~order_lifecycle.core.table.RULES` and
:data:`~order_lifecycle.core.table.TIMERS`, so they cannot drift from the machine.
The only prose kept here is what the table has no field for: what each state means.

Regenerate the page with ``make docs`` (``python -m order_lifecycle.docgen
docs/lifecycle.md``); ``--check`` tells whether it is stale.

>>> from order_lifecycle.docgen import diagram
>>> diagram().splitlines()[:2]
['stateDiagram-v2', '    [*] --> pending: place']
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final

from order_lifecycle.core.model import LIFECYCLE_VERSION, Action, OrderState, Role
from order_lifecycle.core.table import RULES, RULES_BY_ACTION, TIMERS, Rule, TimerRule
from order_lifecycle.diagrams import diagram, timer_name

__all__ = ["STATE_MEANINGS", "diagram", "lifecycle_markdown", "main"]

#: The command that regenerates the page (shown in the page and in ``--check``'s hint).
COMMAND: Final = "python -m order_lifecycle.docgen docs/lifecycle.md"

#: What each state means (spec section 3). The table has no field for it; a state added
#: to :class:`~order_lifecycle.core.model.OrderState` without a meaning here fails the docs.
STATE_MEANINGS: Final[Mapping[OrderState, str]] = {
    OrderState.pending: (
        "bought, waiting for the seller to accept or decline; the buyer's answers are visible"
    ),
    OrderState.accepted: "seller accepted; work in progress; delivery due at `contract.due_at`",
    OrderState.delivered: (
        "content submitted; the buyer has the review window (`Policy.review_window`, "
        "7 days by default)"
    ),
    OrderState.revision: "buyer asked for a revision; the seller reworks and delivers again",
    OrderState.complete: (
        "terminal: the buyer approved, or the review window lapsed, or CX completed it"
    ),
    OrderState.disputed: (
        "a CX agent is alerted and joins the chat; the order is frozen until resolved"
    ),
    OrderState.cancelled: ("terminal: declined, withdrawn, expired, cancelled, or cancelled by CX"),
}


def _meaning(state: OrderState) -> str:
    try:
        return STATE_MEANINGS[state]
    except KeyError:
        raise LookupError(
            f"state {state} has no meaning in order_lifecycle.docgen.STATE_MEANINGS; add one"
        ) from None


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "—"


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    return [_row(header), "|" + "---|" * len(header), *(_row(r) for r in rows)]


def _code(item: object) -> str:
    return f"`{item}`"


def _states(states: Iterable[OrderState]) -> str:
    return ", ".join(_code(s) for s in states)


def _path(rule: Rule) -> str:
    """``pending → accepted``; ``— → pending`` for creation; ``(stays)`` for self-loops."""
    if not rule.sources:
        source = "—"
    elif set(rule.sources) == set(OrderState):
        source = "any state"
    else:
        source = _states(rule.sources)
    if rule.stays:
        return f"{source} (stays)"
    return f"{source} → {_states(rule.dests)}"


def _who(rule: Rule) -> str:
    roles = [_code(role) for role in Role if role in rule.roles]
    text = ", ".join(roles)
    if Role.system in rule.roles:
        fired = [t.timer for t in TIMERS if rule.action in t.actions]
        if fired:
            text += " (" + ", ".join(f"{timer_name(t)} timer" for t in fired) + ")"
    return text


def _action_rows(rules: Iterable[Rule]) -> list[list[str]]:
    return [
        [
            _code(rule.action),
            _path(rule),
            _who(rule),
            "; ".join(guard.doc for guard in rule.guards),
            rule.checks,
            rule.does,
        ]
        for rule in rules
    ]


def _timer_rows(timers: Iterable[TimerRule]) -> list[list[str]]:
    return [[_code(t.timer), _states(t.armed_in), t.at, t.does] for t in timers]


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _everywhere() -> list[str]:
    terminal = [s for s in OrderState if s.is_terminal]
    allowed: list[str] = []
    for rule in RULES:
        where = [s for s in terminal if s in rule.sources]
        if where:
            roles = ", ".join(str(r) for r in Role if r in rule.roles)
            allowed.append(f"{_code(rule.action)} ({roles}; in {_states(where)})")
    active = RULES_BY_ACTION[Action.propose_update].sources
    return [
        f"- **Terminal states absorb.** {_states(terminal)} accept no action but "
        + _and(allowed)
        + "; `join` on a cancelled order only when `cancel` cancelled it, to settle the money.",
        f"- **Leaving the active states ({_states(active)}) voids an open contract proposal**; "
        "the event that leaves records `voided_proposal`.",
        "- **One event per decision.** Every state change, order action and fired timer "
        "records exactly one event in the order's history, and every event shows in the order "
        "chat exactly once: a `say` as the message itself, every other event as an automated "
        "notice. Reading and `mark_read` record nothing.",
        "- **Check order: participant → availability → arguments.** Someone who is not the "
        "buyer, the seller or a CX agent gets `NotAParticipant`; an action whose role, state or "
        "guard (the *guards* column) does not hold is `ActionNotAvailable`, with the same "
        "reason `actions` shows; only then are the command's arguments checked (the "
        "*argument checks* column), failing with `ValidationError`. A refused command changes "
        "nothing.",
        "- **Guards report every unmet condition**, not only the first, as sentences a person "
        "can act on.",
        "- **Time never stops the machine.** Each timer fires at most once; a timer fired late "
        "still fires once, with the time it was due recorded beside the time it ran.",
    ]


def lifecycle_markdown() -> str:
    """The whole of ``docs/lifecycle.md``: states, diagram, actions, timers and rules.

    Built from the transition table (``order_lifecycle.core.table``) at call time; the
    test suite compares it with the committed file to catch a stale page.
    """
    lines = [
        "# Order lifecycle",
        "",
        "<!-- Generated from src/order_lifecycle/core/table.py by `make docs`. Do not edit. -->",
        "",
        "This page is generated from the transition table (`RULES` and `TIMERS` in "
        "`src/order_lifecycle/core/table.py`), the one definition that also drives the "
        "machine, the available actions, the chatbot and the property tests. Do not edit it "
        f"by hand: change the table, then run `make docs` (`{COMMAND}`). "
        "`tests/unit/test_docs.py` fails when this page is stale.",
        "",
        f"Lifecycle definition version: `{LIFECYCLE_VERSION}`.",
        "",
        "## States",
        "",
        *_table(
            ["state", "meaning"],
            [[_code(s), _meaning(s)] for s in OrderState],
        ),
        "",
        "## Diagram",
        "",
        "Actions that keep the order in its state are drawn as self-loops; timers are named "
        "beside the action they fire.",
        "",
        "```mermaid",
        diagram("mermaid").rstrip("\n"),
        "```",
        "",
        "## Actions",
        "",
        "*Guards* decide availability (state, role and time): when one fails, the action is "
        "not available and `actions` says why. *Argument checks* are validation: they never "
        "make an action unavailable, and fail with `ValidationError`.",
        "",
        *_table(
            [
                "action",
                "from → to",
                "who",
                "guards (availability)",
                "argument checks (validation)",
                "effect",
            ],
            _action_rows(RULES),
        ),
        "",
        "## Timers",
        "",
        "Fired by `tick(now)`, as the `system` actor, each at most once whatever the number "
        "of workers.",
        "",
        *_table(["timer", "armed in", "at", "fires"], _timer_rows(TIMERS)),
        "",
        "## Rules that hold everywhere",
        "",
        *_everywhere(),
    ]
    return "\n".join(lines) + "\n"


def cli_markdown() -> str:
    """``docs/cli.md``: the command-line reference, generated from the CLI's own parser."""
    from order_lifecycle.cli import build_parser

    parser = build_parser()
    # argparse wraps help to the terminal (read from $COLUMNS); the page must not vary.
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"
    try:
        return _cli_page(parser)
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def _cli_page(parser: argparse.ArgumentParser) -> str:
    lines = [
        "# Command-line reference",
        "",
        "<!-- Generated from src/order_lifecycle/cli.py by `make docs`. Do not edit. -->",
        "",
        "`order-lifecycle` (also `python -m order_lifecycle`) runs orders from a shell, on",
        "the same storage URLs as `OrderDesk.open`. Exit codes: 0 success; 2 usage error",
        "(malformed option values included: an instant without an offset, an unknown `--tz`",
        "zone, a malformed `--as` or `--webhook`); 3 action not available, not a participant",
        "or invalid input to the command; 4 not found; 1 anything else, and stdout closed",
        "early (`| head -1`: no message). Errors go to stderr as one sentence. With `--json`",
        "every command prints one JSON document on stdout, a refusal too: `error` (its kind:",
        "`usage_error`, `action_not_available`, `not_a_participant`, `validation_error`,",
        "`order_not_found`, `concurrency_conflict`, `storage_error`), `message`, and the",
        "error's fields (`field`, `action`, `order_id`). The commands that only read",
        "(`show`, `actions`, `next`, `chat`, `inbox`, `history`, `feed` without `--follow`,",
        "`stats`) answer as an empty database on a SQLite path that is not there, and make",
        "no file (a mistyped `--db`). `relay` without `--webhook` prints each notification",
        "and flushes it before it counts as sent: one it could not write is retried later.",
        "",
        "```text",
        _plain(parser.format_help()).rstrip(),
        "```",
    ]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            first: dict[int, str] = {}  # an alias shares its command's parser
            for name, sub in action.choices.items():
                if id(sub) in first:
                    lines += ["", f"## `{name}`", "", f"The older name of `{first[id(sub)]}`."]
                    continue
                first[id(sub)] = name
                lines += [
                    "",
                    f"## `{name}`",
                    "",
                    "```text",
                    _plain(sub.format_help()).rstrip(),
                    "```",
                ]
    return "\n".join(lines) + "\n"


def _plain(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines())


PAGES: Final = {"lifecycle": lifecycle_markdown, "cli": cli_markdown}


def main(argv: list[str] | None = None) -> int:
    """Write a generated page to PATH, or with ``--check`` exit 1 when PATH is stale.

    Without PATH the page is printed on standard output.
    """
    parser = argparse.ArgumentParser(
        prog="python -m order_lifecycle.docgen",
        description="Generate docs pages (the lifecycle, the CLI reference) from the code.",
    )
    parser.add_argument("path", nargs="?", type=Path, help="where to write the page")
    parser.add_argument(
        "--page", choices=sorted(PAGES), default="lifecycle", help="which page (lifecycle)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if PATH differs from what would be generated",
    )
    args = parser.parse_args(argv)
    path: Path | None = args.path
    text = PAGES[args.page]()
    if path is None:
        if args.check:
            parser.error("--check needs the PATH of the page to check")
        sys.stdout.write(text)
        return 0
    if args.check:
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != text:
            state = "is missing" if current is None else "is stale"
            print(f"{path} {state}: run `make docs` ({COMMAND}).", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
