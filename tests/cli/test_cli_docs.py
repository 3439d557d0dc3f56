"""The CLI reference in docs/cli.md covers the parser: every command and every option."""

from __future__ import annotations

import argparse
from pathlib import Path

from order_lifecycle.cli import build_parser

PAGE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no commands")


def test_every_command_has_a_section() -> None:
    """Each command of the parser has its own section in the reference."""
    text = PAGE.read_text(encoding="utf-8")
    for name in _commands():
        assert f"## `{name}`" in text, name


def test_every_option_is_documented_in_its_section() -> None:
    """Each option string of each command appears in that command's section."""
    text = PAGE.read_text(encoding="utf-8")
    sections = {part.split("`", 1)[0]: part for part in text.split("\n## `")[1:]}
    for name, sub in _commands().items():
        if sub.prog.split()[-1] != name:  # an alias: its section names the command
            assert f"The older name of `{sub.prog.split()[-1]}`." in sections[name]
            continue
        for action in sub._actions:
            for option in action.option_strings:
                assert option in sections[name], (name, option)
            if not action.option_strings and action.dest != "help":
                shown = (
                    "{" + ",".join(action.choices) + "}"
                    if action.choices
                    else str(action.metavar or action.dest)
                )
                assert shown in sections[name], (name, action.dest)
    for option in ("--db", "--now", "--json"):
        assert option in text.split("\n## `")[0]


def test_the_reference_is_current() -> None:
    """docs/cli.md is what ``make docs`` generates from the parser now (help texts
    included): a command or option changed without ``make docs`` fails here."""
    from order_lifecycle.docgen import cli_markdown

    assert PAGE.read_text(encoding="utf-8") == cli_markdown()
