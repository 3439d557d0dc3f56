"""Docs cannot drift: their runnable Python blocks run, generated parts are current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from order_lifecycle.stories import seed_transcript

from amqp import DEFAULT_URL as DEFAULT_AMQP_URL
from amqp import amqp_url, require_amqp

DOCS = Path(__file__).resolve().parents[2] / "docs"
CHAT_DOC = DOCS / "chat-and-notifications.md"


def _blocks(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.S)


RUNNABLE = [
    (path.name, i, block)
    for path in sorted(DOCS.glob("*.md"))
    for i, block in enumerate(_blocks(path))
    if "desk." not in block.split("\n", 1)[0]  # fragments on an existing desk are shown only
]


@pytest.mark.parametrize(
    ("name", "index", "block"), RUNNABLE, ids=[f"{n}-{i}" for n, i, _ in RUNNABLE]
)
def test_doc_block_runs(name: str, index: int, block: str) -> None:
    """A self-contained Python block of the docs runs as it is (a RabbitMQ one needs the
    test broker: it skips without one, and fails under CI)."""
    if DEFAULT_AMQP_URL in block:
        require_amqp()
        block = block.replace(DEFAULT_AMQP_URL, amqp_url())
    exec(compile(block, f"{name}#{index}", "exec"), {"__name__": "docs"})


def test_chat_transcript_is_current() -> None:
    """The transcript in the chat docs is what the code renders today."""
    text = CHAT_DOC.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- transcript:start -->\n```text\n(.*?)\n```\n<!-- transcript:end -->", text, re.S
    )
    assert found is not None
    assert found.group(1) == seed_transcript(), (
        "regenerate with order_lifecycle.stories.seed_transcript()"
    )


def _shell_commands() -> list[tuple[str, list[str]]]:
    import shlex

    found: list[tuple[str, list[str]]] = []
    for path in [DOCS.parent / "README.md", *sorted(DOCS.glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"```sh\n(.*?)```", text, re.S):
            joined = block.replace("\\\n", " ")
            for line in joined.splitlines():
                words = shlex.split(line, comments=True)
                if words and words[0] == "order-lifecycle":
                    found.append((path.name, words[1:]))
    return found


SHELL = _shell_commands()


@pytest.mark.parametrize(("name", "argv"), SHELL, ids=[" ".join(a[:3]) for _, a in SHELL])
def test_doc_command_lines_parse(name: str, argv: list[str]) -> None:
    """Every ``order-lifecycle`` line in the README and docs is a valid command line."""
    from order_lifecycle.cli import _parse

    args = _parse(argv)
    assert args.command


def test_docs_show_command_lines() -> None:
    """The README shows the command line (so the check above checks something)."""
    assert len(SHELL) >= 5
