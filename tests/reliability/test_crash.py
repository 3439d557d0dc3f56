"""Crash safety (spec §9): a driver killed with SIGKILL at random moments, again and again,
leaves every order before or after a command, never in between.

The driver (``driver.py``) runs random valid commands, ``tick`` and ``relay`` on one
database; the test kills it at a random moment, checks every stored order, and starts it
again on the same database, where it carries on (first sending again the command it had
in flight, with the same idempotency key). ``ORDER_LIFECYCLE_STRESS=1`` (``make stress``)
runs the long version; ``ORDER_LIFECYCLE_SEED`` replays a run's random choices.
"""

from __future__ import annotations

import collections
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Final

import attrs
import pytest
from driver import check_database, run

from pg import pg_url

STRESS: Final = os.environ.get("ORDER_LIFECYCLE_STRESS") == "1"
#: Kills per backend.
KILLS: Final = 200 if STRESS else 50
#: How long the driver commits before it is killed, in seconds (uniform).
NAP: Final = (0.02, 0.5) if STRESS else (0.02, 0.3)
#: Every how many kills all orders are checked (and always after the last one).
CHECK_EVERY: Final = 10 if STRESS else 5
#: Steps of the last run, which must end by itself with exit code 0.
LAST_STEPS: Final = 1000 if STRESS else 150
#: How many drivers wait, imports done, for their turn.
AHEAD: Final = 2
DRIVER: Final = Path(__file__).with_name("driver.py")
RESULTS: Final = Path(__file__).with_name("results")


class Driver:
    """One driver process, started ahead of time (it waits for ``go``), its stdout read
    line by line as it comes."""

    def __init__(self, url: str, seed: str, workdir: Path, number: int) -> None:
        self.stderr = workdir / f"driver-{number}.stderr"
        if url.startswith("postgresql"):
            url = f"{url}&application_name={_session_name(url)}"
        command = [sys.executable, str(DRIVER), url, seed, "--wait"]
        command += ["--state", str(workdir / "driver.json"), "--log", str(workdir / "received")]
        with self.stderr.open("wb") as errors:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors
            )
        self.opened = threading.Event()
        self.committing = threading.Event()
        self.steps = 0
        self.last = ""
        self.reader = threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True)
        self.reader.start()

    def _read(self, stdout: IO[bytes] | None) -> None:
        assert stdout is not None
        for raw in stdout:
            line = raw.decode("utf-8", "replace").strip()
            self.last = line
            if line == "open":
                self.opened.set()
            elif line.startswith("ok "):
                self.steps += 1
                self.committing.set()
        self.opened.set()  # the process ended: nobody waits any longer
        self.committing.set()

    def go(self, steps: int = 1_000_000) -> None:
        """Let the driver start (it has done its imports meanwhile)."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"go {steps}\n".encode())
        self.process.stdin.close()

    def finish(self, kill: bool) -> int:
        """Kill the process (or let it end), and its exit code."""
        if kill:
            self.process.send_signal(signal.SIGKILL)
        code = self.process.wait(timeout=300)
        self.reader.join(timeout=30)
        assert self.process.stdout is not None
        self.process.stdout.close()
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        return code

    def failure(self) -> str:
        """What the driver said before it ended on its own."""
        return f"last line {self.last!r}; stderr:\n{self.stderr.read_text(errors='replace')}"


def _session_name(url: str) -> str:
    """The ``application_name`` of the drivers' PostgreSQL sessions on ``url``'s schema."""
    return "olt-crash-" + url.rpartition("schema=")[2][:40]


def _settle(url: str) -> bool:
    """Wait until the server has finished what a killed driver sent it.

    A client killed just after sending ``COMMIT`` leaves the server to finish the
    transaction: atomically, but maybe after the kill. The check reads table by table,
    not in one snapshot, so it waits for the driver's sessions to be gone first (and
    says whether it had to).
    """
    if not url.startswith("postgresql"):
        return False
    import psycopg

    deadline = time.monotonic() + 60
    waited = False
    with psycopg.connect(pg_url(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            found = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                (_session_name(url),),
            ).fetchone()
            if found is not None and found[0] == 0:
                return waited
            waited = True
            time.sleep(0.01)
    raise AssertionError("a killed driver's PostgreSQL sessions did not end within 60 s")


@attrs.define
class Tally:
    """What one backend's run did."""

    kills: int = 0
    early_kills: int = 0
    steps: int = 0
    checks: int = 0
    #: Checks that first waited for a killed driver's PostgreSQL sessions to end.
    settled: int = 0
    seconds_checking: float = 0.0
    seconds_waiting: float = 0.0


def _kill_at_random(driver: Driver, rng: random.Random) -> bool:
    """Wait for a random moment of the driver's life; whether it came early (just after
    the store opened: the retried command, reading the orders) rather than mid-run."""
    early = rng.random() < 0.15
    waited = driver.opened if early else driver.committing
    assert waited.wait(timeout=60), "the driver did not start within 60 s"
    time.sleep(rng.uniform(0, 0.03) if early else rng.uniform(*NAP))
    return early


def crash_again_and_again(url: str, workdir: Path, seed: str) -> dict[str, Any]:
    """Kill the driver ``KILLS`` times on ``url``, checking the orders as it goes; then
    let it run to its end; then check every order once more."""
    rng = random.Random(seed)
    tally = Tally()
    logs = [workdir / "received"]
    # Drivers start ahead of their turn, so their imports are done when it comes.
    ahead = collections.deque(Driver(url, seed, workdir, -n) for n in range(AHEAD))
    try:
        for kill in range(1, KILLS + 1):
            driver = ahead.popleft()
            ahead.append(Driver(url, seed, workdir, kill))
            driver.go()
            waiting = time.monotonic()
            early = _kill_at_random(driver, rng)
            tally.seconds_waiting += time.monotonic() - waiting
            code = driver.finish(kill=True)
            assert code == -signal.SIGKILL, f"kill {kill}: exit code {code}; {driver.failure()}"
            driver.stderr.unlink()
            tally.kills += 1
            tally.early_kills += early
            tally.steps += driver.steps
            if kill % CHECK_EVERY == 0 or kill == KILLS:
                checking = time.monotonic()
                tally.settled += _settle(url)
                problems, _ = check_database(url, logs)
                tally.checks += 1
                tally.seconds_checking += time.monotonic() - checking
                assert not problems, f"seed {seed}, after kill {kill}: {problems}"
        following = ahead.popleft()
    finally:
        for waiting_driver in ahead:
            waiting_driver.finish(kill=True)
    following.go(LAST_STEPS)
    code = following.finish(kill=False)
    assert code == 0, f"seed {seed}: the driver failed after the kills; {following.failure()}"
    assert following.last.startswith("done "), following.failure()
    tally.steps += following.steps
    problems, figures = check_database(url, logs)
    tally.checks += 1
    assert not problems, f"seed {seed}, after the last run: {problems}"
    assert tally.steps >= KILLS, f"the driver barely moved: {tally}"
    assert figures.orders >= 10, figures
    assert figures.events >= 2 * KILLS, figures
    assert figures.sent > 0, figures
    return {
        "seed": seed,
        **{k: round(v, 2) if isinstance(v, float) else v for k, v in attrs.asdict(tally).items()},
        **attrs.asdict(figures),
        "last_run": following.last,
    }


def _seed(backend: str) -> str:
    return os.environ.get("ORDER_LIFECYCLE_SEED") or f"{backend}-{random.randrange(10**9)}"


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_killed_driver_leaves_every_order_consistent(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Kill the driver at random moments ``KILLS`` times on one database: after the kills
    every order replays from its history, numbers its events 1..version, has the outbox
    rows, chat and files of its events, and nothing sent was lost; the driver carries on."""
    url = (
        f"sqlite:///{tmp_path / 'orders.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_schema_url")
    )
    started = time.monotonic()
    summary = {"backend": backend, **crash_again_and_again(url, tmp_path, _seed(backend))}
    summary["seconds"] = round(time.monotonic() - started, 1)
    print(f"\ncrash {backend}: {json.dumps(summary)}")
    assert summary["kills"] == KILLS
    if STRESS:
        RESULTS.mkdir(exist_ok=True)
        target = RESULTS / f"crash-{backend}.json"
        target.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


# -- the check catches what it must ----------------------------------------------------


def _delete_an_outbox_row(db: sqlite3.Connection, _: Path) -> None:
    db.execute("DELETE FROM outbox WHERE id = (SELECT max(id) FROM outbox)")


def _delete_the_last_event(db: sqlite3.Connection, _: Path) -> None:
    order_id, seq = db.execute(
        "SELECT order_id, seq FROM events WHERE seq > 1 ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    db.execute("DELETE FROM events WHERE order_id = ? AND seq = ?", (order_id, seq))


def _change_the_state_in_the_document(db: sqlite3.Connection, _: Path) -> None:
    db.execute(
        "UPDATE orders SET doc = json_set(doc, '$.state', 'complete')"
        " WHERE id = (SELECT id FROM orders WHERE state != 'complete' LIMIT 1)"
    )


def _delete_a_participant(db: sqlite3.Connection, _: Path) -> None:
    db.execute(
        "DELETE FROM participants WHERE (user_id, order_id) ="
        " (SELECT user_id, order_id FROM participants LIMIT 1)"
    )


def _move_the_version_column(db: sqlite3.Connection, _: Path) -> None:
    db.execute("UPDATE orders SET version = version + 1 WHERE id = (SELECT min(id) FROM orders)")


def _lose_the_next_timer(db: sqlite3.Connection, _: Path) -> None:
    db.execute(
        "UPDATE orders SET next_timer_at = NULL"
        " WHERE id = (SELECT min(id) FROM orders WHERE next_timer_at IS NOT NULL)"
    )


def _lose_what_was_received(_: sqlite3.Connection, workdir: Path) -> None:
    (workdir / "received").write_text("", encoding="utf-8")


def _lose_a_file(_: sqlite3.Connection, workdir: Path) -> None:
    files = sorted(p for p in (workdir / "orders.db.files").rglob("*") if p.is_file())
    files[0].unlink()


@pytest.mark.parametrize(
    ("tamper", "reported"),
    [
        (_delete_an_outbox_row, "outbox rows differ"),
        (_delete_the_last_event, "events"),
        (_change_the_state_in_the_document, "differs from its replayed history"),
        (_delete_a_participant, "participants"),
        (_move_the_version_column, "row says"),
        (_lose_the_next_timer, "next timer"),
        (_lose_what_was_received, "never received"),
        (_lose_a_file, "is lost"),
    ],
)
def test_the_check_catches_a_corrupted_database(
    tamper: Callable[[sqlite3.Connection, Path], None],
    reported: str,
    filled: Path,
    tmp_path: Path,
) -> None:
    """A database the driver filled passes the check; tampered with, it does not (so the
    crash test can fail)."""
    workdir = tmp_path / "copy"
    shutil.copytree(filled, workdir)
    url = f"sqlite:///{workdir / 'orders.db'}"
    logs = [workdir / "received"]
    with sqlite3.connect(workdir / "orders.db") as db:
        tamper(db, workdir)
    db.close()
    problems, _ = check_database(url, logs)
    assert problems, "the tampering went unnoticed"
    assert any(reported in problem for problem in problems), problems


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a SQLite database the driver filled, and its receiver's log; it
    passes the check."""
    workdir = tmp_path_factory.mktemp("filled")
    url = f"sqlite:///{workdir / 'orders.db'}"
    logs = [workdir / "received"]
    assert run(url, "tamper", 200, workdir / "driver.json", logs[0]) == 0
    problems, figures = check_database(url, logs)
    assert problems == []
    assert figures.orders >= 5
    assert figures.sent > 0
    return workdir
