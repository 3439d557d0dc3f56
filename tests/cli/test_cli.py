"""The ``order-lifecycle`` command line: a whole story as a subprocess, exit codes, output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from order_lifecycle.cli import build_parser
from order_lifecycle.core.model import Role
from order_lifecycle.core.table import RULES

from support import run_cli

T = "2026-12-01T09:00:00+00:00"


def run(db: Path, *args: str, now: str | None = T) -> subprocess.CompletedProcess[str]:
    """The CLI as a subprocess, as a user would run it."""
    command = [sys.executable, "-m", "order_lifecycle", "--db", f"sqlite:///{db}", "--json"]
    if now is not None:
        command += ["--now", now]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        check=False,
    )


#: The ``error`` of the JSON document a refusal prints with ``--json``, by exit code.
ERROR_KINDS: dict[int, set[str]] = {
    2: {"usage_error"},
    3: {"action_not_available", "not_a_participant", "validation_error"},
    4: {"order_not_found"},
}


def ok(done: subprocess.CompletedProcess[str]) -> Any:
    """The JSON document of a successful run."""
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def cli(*args: str) -> tuple[int, str, str]:
    """The CLI in process (fast): exit code, stdout, stderr."""
    return run_cli(*args)


def test_a_whole_story_through_the_cli(tmp_path: Path) -> None:
    """Place, accept, deliver, revise, propose, respond, deliver, tick: every step in JSON."""
    db = tmp_path / "orders.db"
    placed = ok(
        run(
            db,
            "place",
            "--buyer",
            "alice",
            "--seller",
            "bob",
            "--title",
            "Instagram post",
            "--price",
            "150.00",
            "--delivery-days",
            "7",
            "--revisions",
            "1",
            "--request",
            "Colours?",
            "--required-request",
            "Handle?",
            "--answer",
            "warm",
            "--answer",
            "@alice",
        )
    )
    order_id = placed["id"]
    assert (placed["state"], placed["price"], placed["currency"]) == ("pending", "150.00", "USD")
    assert placed["answers"] == {"Colours?": "warm", "Handle?": "@alice"}
    for key in ("buyer", "seller", "title", "revisions_used", "revisions_allowed", "due_at"):
        assert key in placed
    accepted = ok(run(db, "accept", order_id, "--as", "bob", now="2026-12-01T10:00:00+00:00"))
    assert accepted["due_at"] == "2026-12-08T10:00:00+00:00"
    file = tmp_path / "post.png"
    file.write_bytes(b"\x89PNG")
    delivered = ok(
        run(
            db,
            "deliver",
            order_id,
            "--as",
            "bob",
            "--file",
            str(file),
            now="2026-12-02T10:00:00+00:00",
        )
    )
    assert delivered["state"] == "delivered"
    assert delivered["review_due_at"] == "2026-12-09T10:00:00+00:00"
    assert delivered["deliveries"][0]["files"][0]["name"] == "post.png"
    revised = ok(run(db, "revise", order_id, "--as", "alice", "--note", "Warmer"))
    assert (revised["state"], revised["revisions_used"]) == ("revision", 1)
    proposed = ok(
        run(db, "propose", order_id, "--as", "bob", "--extend-days", "3", "--price", "175")
    )
    assert proposed["proposal"]["by"] == "bob"
    updated = ok(run(db, "respond", order_id, "--as", "alice", "accept"))
    assert (updated["price"], updated["due_at"]) == ("175.00", "2026-12-11T10:00:00+00:00")
    actions = ok(run(db, "actions", order_id, "--as", "alice"))
    cancel = next(a for a in actions if a["action"] == "cancel")
    assert cancel["available"] is False
    assert "Cancel becomes available" in cancel["reason"]
    assert {a["action"] for a in actions} >= {"accept", "deliver", "say"}
    ok(run(db, "say", order_id, "--as", "bob", "Almost done!"))
    ok(run(db, "deliver", order_id, "--as", "bob", "--outside", now="2026-12-03T10:00:00+00:00"))
    assert ok(run(db, "tick", now="2026-12-05T10:00:00+00:00")) == []
    fired = ok(run(db, "tick", now="2026-12-11T10:00:00+00:00"))
    assert [(e["action"], e["actor"], e["due_at"]) for e in fired] == [
        ("auto_complete", "system", "2026-12-10T10:00:00+00:00")
    ]
    shown = ok(run(db, "show", order_id))
    assert shown["state"] == "complete"
    history = ok(run(db, "history", order_id))
    assert [e["seq"] for e in history] == list(range(1, shown["version"] + 1))
    assert {"order_id", "seq", "action", "actor", "at"} <= set(history[0])
    chat = ok(run(db, "chat", order_id, "--as", "alice"))
    assert len(chat) == len(history)
    assert chat[6] == {
        "seq": 7,
        "at": chat[6]["at"],
        "kind": "message",
        "author": "bob",
        "text": "Almost done!",
        "files": [],
    }
    inbox = ok(run(db, "inbox", "--as", "bob"))
    assert inbox[0]["order_id"] == order_id
    assert set(inbox[0]) == {
        "order_id",
        "title",
        "state",
        "counterpart",
        "unread",
        "action_waiting",
        "last",
    }
    assert ok(run(db, "next", order_id, "--as", "alice"))["next_step"].startswith("The order is")
    relayed = ok(run(db, "relay"))
    assert relayed["sent"] == len(relayed["notifications"]) > 0


def test_exit_codes(tmp_path: Path) -> None:
    """0 ok, 2 usage, 3 not available / stranger / invalid, 4 not found."""
    db = f"sqlite:///{tmp_path / 'orders.db'}"
    base = ["--db", db, "--now", T, "--json"]
    code, out, _ = cli(
        *base, "place", "--buyer", "a", "--seller", "b", "--title", "T", "--price", "1",
        "--delivery-days", "1", "--revisions", "0",
    )  # fmt: skip
    assert code == 0
    order_id = json.loads(out)["id"]
    cases = [
        ((*base, "approve", order_id, "--as", "a"), 3, "only when it is delivered"),
        ((*base, "accept", order_id, "--as", "mallory"), 3, "neither the buyer nor the seller"),
        ((*base, "accept", "ord_missing", "--as", "b"), 4, "There is no order"),
        ((*base, "decline", order_id, "--as", "b", "--reason", "x" * 3000), 3, "Invalid reason"),
        (("--db", db, "--now", "2026-12-01T10:00:00", "show", order_id), 2, "UTC offset"),
        (("--db", db, "accept", order_id), 2, "--as"),
        (("--db", db, "bogus"), 2, "invalid choice"),
        ((*base, "place", "--buyer", "a", "--seller", "b", "--title", "T", "--price", "abc",
          "--delivery-days", "1", "--revisions", "0"), 2, "not a decimal"),
        ((*base, "place", "--buyer", "a", "--seller", "b", "--title", "T", "--price", "1.005",
          "--delivery-days", "1", "--revisions", "0"), 3, "decimal places"),
        ((*base, "resolve", order_id, "--as", "cx:carol", "--outcome", "refund", "--note", "n"),
         2, "invalid choice"),
        ((*base, "tick", "--limit", "0"), 2, "at least 1"),
    ]  # fmt: skip
    for args, expected, message in cases:
        code, out, err = cli(*args)
        assert code == expected, (args, err)
        assert message in err, (args, err)
        if "--json" in args:  # a refusal is a JSON document too
            assert json.loads(out)["error"] in ERROR_KINDS[expected]
        else:
            assert out == ""
        assert err.count("\n") == 1, err  # one sentence


def test_a_refused_command_leaves_the_database_unchanged(tmp_path: Path) -> None:
    """Byte for byte: not-available, stranger and invalid commands change no file."""
    path = tmp_path / "orders.db"
    base = ["--db", f"sqlite:///{path}", "--now", T, "--json"]
    _, out, _ = cli(
        *base, "place", "--buyer", "a", "--seller", "b", "--title", "T", "--price", "1",
        "--delivery-days", "1", "--revisions", "0",
    )  # fmt: skip
    order_id = json.loads(out)["id"]
    assert cli(*base, "accept", order_id, "--as", "b")[0] == 0

    def snapshot() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}

    before = snapshot()
    for args in (
        ("approve", order_id, "--as", "a"),
        ("accept", order_id, "--as", "mallory"),
        ("say", order_id, "--as", "a", ""),
        ("dispute", order_id, "--as", "a", "--reason", " "),
    ):
        assert cli(*base, *args)[0] == 3
        assert snapshot() == before


def test_diagram_and_help_never_touch_the_database(tmp_path: Path) -> None:
    """Commands that need no storage do not create it."""
    path = tmp_path / "never.db"
    code, out, _ = cli("--db", f"sqlite:///{path}", "diagram")
    assert code == 0
    assert out.startswith("stateDiagram-v2")
    code, out, _ = cli("--db", f"sqlite:///{path}", "diagram", "--format", "dot")
    assert code == 0
    assert out.startswith("digraph")
    assert cli("--db", f"sqlite:///{path}", "--help")[0] == 0
    assert not path.exists()


def test_default_database_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``$ORDER_LIFECYCLE_DB``, else ``orders.sqlite3`` in the current directory."""
    monkeypatch.chdir(tmp_path)
    args = ("--json", "--now", T, "place", "--buyer", "a", "--seller", "b", "--title", "T",
            "--price", "1", "--delivery-days", "1", "--revisions", "0")  # fmt: skip
    assert cli(*args)[0] == 0
    assert (tmp_path / "orders.sqlite3").exists()
    monkeypatch.setenv("ORDER_LIFECYCLE_DB", f"sqlite:///{tmp_path / 'env.db'}")
    assert cli(*args)[0] == 0
    assert (tmp_path / "env.db").exists()


def test_demo_plays_every_state(tmp_path: Path) -> None:
    """The demo runs on a fresh database, shows every state, and refuses a used one."""
    db = tmp_path / "demo.db"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1", "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "order_lifecycle", "--db", f"sqlite:///{db}", "demo"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for state in (
        "pending",
        "accepted",
        "delivered",
        "revision",
        "complete",
        "disputed",
        "cancelled",
    ):
        assert f"→ {state}" in done.stdout, state
    assert "» next:" in done.stdout
    again = subprocess.run(
        [sys.executable, "-m", "order_lifecycle", "--db", f"sqlite:///{db}", "demo"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )
    assert again.returncode == 3
    assert "already holds orders" in again.stderr


def test_demo_without_db_uses_a_new_temporary_database(tmp_path: Path) -> None:
    """No ``--db``: a fresh file in a temporary folder, never the working directory's."""
    code, out, _ = cli("--json", "demo")
    assert code == 0
    document = json.loads(out)
    assert document["db"].startswith("sqlite:///")
    assert "orders.sqlite3" not in document["db"]
    assert {o["state"] for o in document["orders"]} == {"complete", "cancelled"}


def test_every_command_of_the_spec_exists() -> None:
    """The parser offers the spec's commands, and each action a person takes under its
    own name too (the spec's older verbs are aliases of those)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    spec = {
        "demo", "place", "accept", "decline", "withdraw", "deliver", "approve", "revise",
        "propose", "respond", "unpropose", "dispute", "join", "resolve", "cancel", "say",
        "show", "actions", "next", "chat", "inbox", "history", "tick", "relay", "diagram",
        "stats",
    }  # fmt: skip
    spec |= {"feed"}  # section 12
    people = {
        r.action.value.replace("_", "-") for r in RULES if r.command and r.roles - {Role.system}
    }
    assert set(sub.choices) == spec | people  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("revise", "request-revision"),
        ("propose", "propose-update"),
        ("unpropose", "withdraw-update"),
    ],
)
def test_the_older_verbs_run_the_same_action(alias: str, name: str) -> None:
    """``revise`` and ``request-revision`` parse to the same action with the same options."""
    extra = {"revise": ["--note", "n"], "propose": ["--revisions", "3"], "unpropose": []}[alias]
    old = build_parser().parse_args([alias, "o1", "--as", "alice", *extra])
    new = build_parser().parse_args([name, "o1", "--as", "alice", *extra])
    assert old.action == new.action == name.replace("-", "_")
    assert {k: v for k, v in vars(old).items() if k != "command"} == {
        k: v for k, v in vars(new).items() if k != "command"
    }


def test_extend_days_on_an_order_without_a_due_date_is_not_available(tmp_path: Path) -> None:
    """``propose --extend-days`` on a pending order: exit 3 with the desk's reason (the
    stranger: not a participant), as for any other proposal there; never a usage error."""
    base = ["--db", f"sqlite:///{tmp_path / 'orders.db'}", "--now", T, "--json"]
    _, out, _ = cli(
        *base, "place", "--buyer", "a", "--seller", "b", "--title", "T", "--price", "1",
        "--delivery-days", "1", "--revisions", "0",
    )  # fmt: skip
    order_id = json.loads(out)["id"]
    for who, expected in (("b", "only when it is accepted"), ("mallory", "neither the buyer")):
        code, _, err = cli(*base, "propose", order_id, "--as", who, "--extend-days", "2")
        assert code == 3, err
        assert expected in err


def _place_one(base: list[str]) -> str:
    """A pending order placed through the CLI (buyer ``a``, seller ``b``): its id."""
    code, out, err = cli(
        *base, "place", "--buyer", "a", "--seller", "b", "--title", "T", "--price", "1",
        "--delivery-days", "1", "--revisions", "0",
    )  # fmt: skip
    assert code == 0, err
    return str(json.loads(out)["id"])


def test_global_options_are_taken_before_or_after_every_command() -> None:
    """``--db``, ``--now`` and ``--json`` parse on either side of each command; given on both
    sides, the one after the command wins; one given only before is kept."""
    from order_lifecycle.cli import _parse

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():  # type: ignore[union-attr]
        for option in ("--db", "--now", "--json"):
            assert option in command._option_string_actions, (name, option)
    later = "2026-12-05T09:00:00+00:00"
    after = _parse(["show", "o1", "--db", "memory://", "--json", "--now", T])
    assert (after.db, after.json, after.now.isoformat()) == ("memory://", True, T)
    before = _parse(["--db", "memory://", "--json", "--now", T, "show", "o1"])
    assert (before.db, before.json, before.now.isoformat()) == ("memory://", True, T)
    both = _parse(["--db", "memory://", "--now", T, "show", "o1", "--db", "sqlite:///x.db"])
    assert (both.db, both.json, both.now.isoformat()) == ("sqlite:///x.db", False, T)
    both = _parse(["--now", T, "accept", "o1", "--as", "b", "--now", later])
    assert both.now.isoformat() == later
    neither = _parse(["show", "o1"])
    assert (neither.db, neither.json, neither.now) == (None, False, None)
    code, _, err = cli("show", "o1", "--now", "2026-12-01T10:00:00")  # a malformed value: 2
    assert code == 2
    assert "UTC offset" in err


def test_global_options_after_the_command_run_it(tmp_path: Path) -> None:
    """``show ID --json --db URL``, ``accept ID --as U --now ISO``: the options after the
    command act as they do before it, and win over the ones before."""
    db = f"sqlite:///{tmp_path / 'orders.db'}"
    code, out, err = cli(
        "place", "--buyer", "a", "--seller", "b", "--title", "T", "--price", "1",
        "--delivery-days", "1", "--revisions", "0", "--db", db, "--now", T, "--json",
    )  # fmt: skip
    assert code == 0, err
    first = json.loads(out)["id"]
    second = _place_one(["--db", db, "--now", T, "--json"])
    code, out, err = cli("show", first, "--json", "--db", db)
    assert code == 0, err
    assert json.loads(out)["state"] == "pending"
    code, out, err = cli("--db", db, "accept", first, "--as", "b", "--json", "--now", T)
    assert code == 0, err
    assert json.loads(out)["due_at"] == "2026-12-02T09:00:00+00:00"
    later = "2026-12-05T09:00:00+00:00"
    code, out, err = cli("--db", db, "--now", T, "accept", second, "--as", "b", "--now", later)
    assert code == 0, err
    code, out, err = cli("--db", "memory://", "show", second, "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out)["due_at"] == "2026-12-06T09:00:00+00:00"


def test_a_malformed_db_url_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``--db`` the library refuses as a storage URL exits 2 (a malformed option value),
    before or after the command, the demo included; other invalid input stays 3."""
    monkeypatch.chdir(tmp_path)
    place = ("place", "--buyer", "a", "--seller", "b", "--title", "T", "--price", "1",
             "--delivery-days", "1", "--revisions", "0")  # fmt: skip
    for url in ("bogus://x", "sqlite:///", "orders.db"):
        for args in (
            ("--db", url, "show", "o1"),
            ("show", "o1", "--db", url),
            ("--db", url, "--now", T, "--json", *place),
            ("--db", url, "--json", "demo"),
        ):
            code, out, err = cli(*args)
            assert code == 2, (args, err)
            assert err.startswith("Invalid url: "), (args, err)
            assert err.count("\n") == 1, err
            assert out == "" if "--json" not in args else json.loads(out)["error"] == "usage_error"
    assert list(tmp_path.iterdir()) == []
    db = f"sqlite:///{tmp_path / 'orders.db'}"
    code, _, err = cli("--db", db, "--now", T, *place[:-4], "1", "--revisions", "-1")
    assert code == 2, err  # malformed option value
    code, _, err = cli("--db", db, "--now", T, *place[:8], "1.005", *place[9:])
    assert code == 3, err
    assert "decimal places" in err


def test_say_text_may_start_with_a_dash_after_the_separator(tmp_path: Path) -> None:
    """``say ID --as U -- "-text"``: after ``--`` the text is taken as it is; without it a
    leading dash is still an unknown option, and ``say ID --as U TEXT --file PATH`` works."""
    base = ["--db", f"sqlite:///{tmp_path / 'orders.db'}", "--now", T, "--json"]
    order_id = _place_one(base)
    brief = tmp_path / "brief.txt"
    brief.write_text("the brief", encoding="utf-8")
    for args in (
        ("--", "-dash text"),
        ("--", "--double dash"),
        ("--", "plain"),
        ("with a file", "--file", str(brief)),
        ("--file", str(brief), "--", "-file first"),
    ):
        code, _, err = cli(*base, "say", order_id, "--as", "a", *args)
        assert code == 0, (args, err)
    code, out, err = cli(*base, "chat", order_id, "--as", "b")
    assert code == 0, err
    texts = [entry["text"] for entry in json.loads(out) if entry["kind"] == "message"]
    assert texts == ["-dash text", "--double dash", "plain", "with a file", "-file first"]
    refused: list[tuple[list[str], str]] = [
        (["-dash"], "unrecognized arguments: -dash"),
        (["--", "one", "two"], "unrecognized arguments: two"),
    ]
    for words, message in refused:
        code, _, err = cli(*base, "say", order_id, "--as", "a", *words)
        assert code == 2, (words, err)
        assert message in err
