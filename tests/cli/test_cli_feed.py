"""``order-lifecycle feed``: one read, paged by ``--after`` and ``--limit``, or followed
(``--follow``) until Ctrl-C, each event printed and flushed as it commits."""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

import pytest

from order_lifecycle.cli import main

T = "2026-12-01T09:00:00+00:00"


def cli(*args: str) -> tuple[int, str, str]:
    """The CLI in process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    old, sys.stderr = sys.stderr, err
    try:
        return main(list(args), stdout=out), out.getvalue(), err.getvalue()
    finally:
        sys.stderr = old


def _place(db: Path, buyer: str) -> str:
    code, out, err = cli(
        "--db", f"sqlite:///{db}", "--now", T, "--json", "place", "--buyer", buyer,
        "--seller", "bob", "--title", "Post", "--price", "150.00",
        "--delivery-days", "7", "--revisions", "1",
    )  # fmt: skip
    assert code == 0, err
    order_id: str = json.loads(out)["id"]
    return order_id


def _feed(db: Path, *args: str, as_json: bool = True) -> tuple[int, Any, str]:
    flags = ["--json"] if as_json else []
    code, out, err = cli("--db", f"sqlite:///{db}", *flags, "feed", *args)
    return code, json.loads(out) if as_json and code == 0 else out, err


def test_feed_prints_every_event_with_its_position(tmp_path: Path) -> None:
    """``--json``: a list of ``{position, event}``; ``--after`` and ``--limit`` page."""
    db = tmp_path / "orders.db"
    first = _place(db, "alice")
    code, _, err = cli("--db", f"sqlite:///{db}", "--now", T, "accept", first, "--as", "bob")
    assert code == 0, err
    second = _place(db, "carl")
    code, items, _ = _feed(db)
    assert code == 0
    assert [(i["event"]["order_id"], i["event"]["seq"], i["event"]["kind"]) for i in items] == [
        (first, 1, "order_placed"),
        (first, 2, "order_accepted"),
        (second, 1, "order_placed"),
    ]
    assert [i["position"] for i in items] == [1, 2, 3]
    assert items[1]["event"]["actor"] == "bob"
    assert _feed(db, "--after", "1")[1] == items[1:]
    assert _feed(db, "--after", "1", "--limit", "1")[1] == items[1:2]
    assert _feed(db, "--after", "3")[1] == []


def test_feed_as_text_is_one_line_per_event(tmp_path: Path) -> None:
    """Without ``--json``: position, instant, order and seq, event, actor and state."""
    db = tmp_path / "orders.db"
    order_id = _place(db, "alice")
    code, out, _ = _feed(db, as_json=False)
    assert code == 0
    assert out == f"1  2026-12-01T09:00:00+00:00  {order_id} #1  order_placed by alice → pending\n"


@pytest.mark.parametrize(
    "args",
    [
        ["--after", "-1"],
        ["--after", "x"],
        ["--after", str(2**63)],
        ["--limit", "0"],
        ["--limit", "10001"],
        ["--interval", "0"],
        ["--interval", "61"],
    ],
)
def test_bad_feed_options_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    """Malformed or out-of-range option values: exit code 2, one line on stderr."""
    code, _, err = _feed(tmp_path / "orders.db", *args)
    assert code == 2
    assert err.count("\n") == 1
    assert not (tmp_path / "orders.db").exists()


def _lines(stream: IO[str]) -> queue.Queue[str | None]:
    """The stream's lines as they come (``None`` once it ends)."""
    found: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in stream:
            found.put(line)
        found.put(None)

    threading.Thread(target=read, daemon=True).start()
    return found


@pytest.mark.parametrize("as_json", [True, False])
def test_follow_prints_events_as_they_commit_until_ctrl_c(tmp_path: Path, as_json: bool) -> None:
    """``feed --follow`` in a process of its own prints the events already there, then
    each new one as it commits (flushed at once, not when the process ends); Ctrl-C
    (SIGINT) ends it with exit code 0 and nothing on stderr."""
    db = tmp_path / "orders.db"
    first = _place(db, "alice")
    command = [sys.executable, "-m", "order_lifecycle", "--db", f"sqlite:///{db}"]
    command += ["--json"] if as_json else []
    command += ["feed", "--follow", "--interval", "0.1", "--limit", "2"]
    # Buffered as a pipe is by default, so that only flushing makes lines come one by one.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(PYTHONIOENCODING="utf-8", NO_COLOR="1")
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
    ) as follower:
        try:
            _follow(follower, db, first, as_json)
        finally:
            if follower.poll() is None:
                follower.kill()


def _follow(follower: subprocess.Popen[str], db: Path, first: str, as_json: bool) -> None:
    assert follower.stdout is not None
    assert follower.stderr is not None
    lines = _lines(follower.stdout)

    def next_event() -> tuple[int, str, str]:
        line = lines.get(timeout=30)
        assert line is not None, "the follower stopped"
        if as_json:
            item = json.loads(line)
            return item["position"], item["event"]["order_id"], item["event"]["kind"]
        position, _, order_id, _, kind, *_ = line.split()
        return int(position), order_id, kind

    assert next_event() == (1, first, "order_placed")
    second = _place(db, "carl")
    assert next_event() == (2, second, "order_placed")
    code, _, err = cli("--db", f"sqlite:///{db}", "--now", T, "accept", first, "--as", "bob")
    assert code == 0, err
    assert next_event() == (3, first, "order_accepted")
    follower.send_signal(signal.SIGINT)
    assert follower.wait(timeout=30) == 0
    assert lines.get(timeout=30) is None  # nothing more was printed
    assert follower.stderr.read() == ""
