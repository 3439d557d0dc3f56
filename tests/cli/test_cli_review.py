"""The command line where a user meets it: a pipe closed early, a malformed option
value, a mistyped database path, the help text (each failed before its fix)."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from order_lifecycle import OrderDesk, ValidationError
from order_lifecycle.cli import build_parser

from support import run_cli

T = "2026-12-01T09:00:00+00:00"


class ClosedPipe(io.StringIO):
    """A stdout whose reader went away (``| head -1``): writing or flushing fails."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


cli = run_cli


def _placed(db: Path) -> str:
    code, out, err = cli(
        "--db", f"sqlite:///{db}", "--now", T, "--json", "place", "--buyer", "alice",
        "--seller", "bob", "--title", "Post", "--price", "150.00", "--delivery-days", "3",
        "--revisions", "1",
    )  # fmt: skip
    assert code == 0, err
    order_id: str = json.loads(out)["id"]
    return order_id


def test_a_closed_stdout_ends_quietly_with_exit_1(tmp_path: Path) -> None:
    db = tmp_path / "orders.db"
    _placed(db)
    code, _, err = cli("--db", f"sqlite:///{db}", "feed", stdout=ClosedPipe())
    assert code == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_relay_to_a_closed_stdout_keeps_the_notifications_for_the_next_run(
    tmp_path: Path, as_json: bool
) -> None:
    """A notification counts as sent once it is written out: printed into a pipe whose
    reader left, it is a failed send, kept in the outbox, and a later relay (after the
    retry's back-off) prints it."""
    db = tmp_path / "orders.db"
    _placed(db)
    flags = ["--json"] if as_json else []
    code, _, err = cli("--db", f"sqlite:///{db}", "--now", T, *flags, "relay", stdout=ClosedPipe())
    assert code == 1
    assert "Traceback" not in err
    later = "2026-12-02T09:00:00+00:00"
    code, out, err = cli("--db", f"sqlite:///{db}", "--now", later, "--json", "relay")
    assert code == 0, err
    again = json.loads(out)
    assert again["sent"] == 1
    assert [n["recipient"] for n in again["notifications"]] == ["bob"]


@pytest.mark.parametrize(
    "args",
    [
        ("next", "ID", "--as", "alice", "--tz", "Mars/Olympus"),
        ("inbox", "--as", "alice", "--tz", "Nowhere/City"),
        ("relay", "--webhook", "notaurl", "--secret", "s"),
        ("next", "ID", "--as", ""),
        ("inbox", "--as", "cx:"),
        ("inbox", "--as", "has space"),
    ],
    ids=["tz-next", "tz-inbox", "webhook", "as-empty", "as-cx-empty", "as-space"],
)
def test_malformed_option_values_are_usage_errors(tmp_path: Path, args: tuple[str, ...]) -> None:
    db = tmp_path / "orders.db"
    code, _, err = cli("--db", f"sqlite:///{db}", *args)
    assert code == 2, err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ("show", "X"),
        ("history", "X"),
        ("inbox", "--as", "alice"),
        ("feed",),
        ("stats", "--as", "bob"),
    ],
    ids=["show", "history", "inbox", "feed", "stats"],
)
def test_reading_a_database_that_is_not_there_creates_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """A mistyped --db for a command that only reads: the answer of an empty database,
    and no file left behind."""
    db = tmp_path / "typo.db"
    code, out, err = cli("--db", f"sqlite:///{db}", "--json", *args)
    assert code in (0, 4), err
    if code == 0:
        json.loads(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_sqlite_url_with_a_query_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        OrderDesk.open(f"sqlite:///{tmp_path / 'x.db'}?mode=ro")
    assert refused.value.field == "url"
    assert list(tmp_path.iterdir()) == []
    code, _, err = cli("--db", f"sqlite:///{tmp_path / 'x.db'}?mode=ro", "show", "X")
    assert code == 2, err
    assert list(tmp_path.iterdir()) == []


def test_every_commands_help_is_a_whole_sentence() -> None:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, made in sub.choices.items():
        text = made.description or ""
        assert text, name
        assert text.count("(") == text.count(")"), (name, text)
        assert not text.endswith((" the", " a", " to", " of", " by", ",")), (name, text)


@pytest.mark.parametrize(
    ("args", "code", "kind", "extra"),
    [
        (("approve", "{id}", "--as", "alice"), 3, "action_not_available", {"action": "approve"}),
        (("accept", "{id}", "--as", "mallory"), 3, "not_a_participant", {}),
        (("revise", "{id}", "--as", "alice", "--note", " "), 3, "action_not_available", {}),
        (("say", "{id}", "--as", "alice", " "), 3, "validation_error", {"field": "text"}),
        (("show", "nope"), 4, "order_not_found", {"order_id": "nope"}),
        (("tick", "--limit", "0"), 2, "usage_error", {}),
    ],
    ids=["not-available", "not-a-participant", "revise-pending", "invalid", "not-found", "usage"],
)
def test_with_json_a_refusal_is_a_json_document_too(
    tmp_path: Path, args: tuple[str, ...], code: int, kind: str, extra: dict[str, str]
) -> None:
    """``--json`` prints one JSON document on stdout, also when the command is refused
    (the sentence still goes to stderr): a script reads the kind, not the wording."""
    db = tmp_path / "orders.db"
    order_id = _placed(db)
    given = [a.format(id=order_id) for a in args]
    got, out, err = cli("--db", f"sqlite:///{db}", "--now", T, "--json", *given)
    assert got == code, err
    document = json.loads(out)
    assert document["error"] == kind
    assert document["message"]
    assert " ".join(document["message"].split()) in err
    for name, value in extra.items():
        assert document[name] == value
