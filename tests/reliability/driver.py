"""The reliability driver: random valid commands, timers and relays on one database.

Run as a process of its own, to be killed at any moment::

    python tests/reliability/driver.py URL SEED [--steps N] [--state FILE] [--log FILE] [--wait]

It opens a desk on ``URL`` and loops: sometimes places an order, mostly picks a stored
order and an action that is available to its buyer, its seller or a CX agent right now,
and runs it with valid arguments (files as ``(name, bytes)`` pairs now and then); it
also moves its clock forward, fires due timers (``tick``) and delivers notifications
(``relay``) through a receiver that fails now and then and logs every envelope it
accepts, one line each (``--log``). Only a lost race (``ActionNotAvailable``,
``ConcurrencyConflict``) is expected: anything else ends the process with a traceback
and a non-zero exit code.

The state file (``--state``, default ``<sqlite file>.driver.json``) keeps what must
survive a kill: the restart counter (the random choices follow ``SEED`` and it), the
clock (saved before it is used, so time only moves forward across restarts) and the
command in flight. Every command carries an idempotency key and is saved before it
runs; a restarted driver first sends that command again, as a client retrying after a
crash would: the store either recorded it (the first result comes back, nothing is
written) or not (it runs now).

It prints ``open`` once the store is open, then ``ok <count> <what>`` for each step that
completes, so a parent process knows the driver is committing; the last line is
``done ...`` with counts.

The module also holds what the crash and load tests share: :func:`command_for` and
:func:`execute` (pick and run a random valid command) and :func:`check_database` (every
stored order against its history, plus what ``check_order`` cannot see from the store
port: the order table's own columns, the chat, the files, the receiver's log).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import random
import sqlite3
import sys
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs
import pendulum

from order_lifecycle import (
    Action,
    ActionNotAvailable,
    Actor,
    BuyerRequest,
    ConcurrencyConflict,
    Listing,
    ManualClock,
    Money,
    Order,
    OrderDesk,
    Policy,
)
from order_lifecycle.adapters import rows
from order_lifecycle.adapters.notifiers import CallbackNotifier
from order_lifecycle.core import api
from order_lifecycle.core.events import ContentDelivered, MessagePosted
from order_lifecycle.ports import Envelope
from order_lifecycle.testing.consistency import check_order
from order_lifecycle.views import entry

#: Where every driver's clock starts.
T0: Final = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
#: The rules the driver plays by: an acceptance window, so orders also expire.
POLICY: Final = Policy(acceptance_window=pendulum.duration(days=3))
BUYERS: Final = ("alice", "dana", "erin", "frank")
SELLERS: Final = ("bob", "gina")
AGENTS: Final = ("carol", "quinn")
#: The races a caller may lose; anything else is a bug.
EXPECTED: Final = (ActionNotAvailable, ConcurrencyConflict)
#: A request some listings make of the buyer.
QUESTION: Final = "Which handle should be tagged?"
#: Shared file contents (stored once, however often they are sent).
SHARED_FILES: Final = (b"\x89PNG shared image", b"%PDF-1.7 shared brief")

#: A command as JSON-ready data: what the state file keeps and :func:`execute` runs.
Command = dict[str, Any]


# -- picking commands ------------------------------------------------------------------


def place_command(rng: random.Random, key: str | None) -> Command:
    """A new order from a random buyer to a random seller, with a random listing."""
    request = rng.random() < 0.5
    required = request and rng.random() < 0.5
    answers = {QUESTION: rng.choice(["@alice.makes", "@dana", "none"])}
    return {
        "op": "place",
        "key": key,
        "args": {
            "buyer": rng.choice(BUYERS),
            "seller": rng.choice(SELLERS),
            "title": rng.choice(["Instagram post", "Logo", "Voice-over"]),
            "price": f"{rng.randint(5, 500)}.{rng.randint(0, 99):02d}",
            "days": rng.randint(1, 10),
            "revisions": rng.randint(0, 3),
            "request": request,
            "required": required,
            "answers": answers if required or (request and rng.random() < 0.5) else {},
        },
    }


def viewers(order: Order) -> list[str]:
    """Who may act on an order, as :func:`actor` reads them: its parties and CX agents."""
    return [order.buyer, order.seller, *(f"cx:{agent}" for agent in AGENTS)]


def actor(by: str) -> Actor | str:
    """``cx:NAME`` is a CX agent; a plain id is the buyer or seller of the order."""
    return Actor.cx(by[3:]) if by.startswith("cx:") else by


def command_for(
    desk: OrderDesk, rng: random.Random, order_id: str, key: str | None
) -> Command | None:
    """A random action available now on the order to one of its viewers, with valid
    arguments; ``None`` when nobody can do anything."""
    order = desk.get(order_id)
    choices: dict[Action, list[str]] = {}
    for by in viewers(order):
        for option in desk.actions(order_id, viewer=actor(by)):
            if option.available:
                choices.setdefault(option.action, []).append(by)
    if not choices:
        return None
    action = rng.choice(sorted(choices))
    by = rng.choice(choices[action])
    args = _arguments(rng, order, action, desk.clock.now())
    return {"op": str(action), "order": order_id, "by": by, "key": key, "args": args}


def _files(rng: random.Random, most: int) -> list[list[str]]:
    """Up to ``most`` files as ``[name, hex content]``; some share their content."""
    files = []
    for _ in range(rng.randint(0, most)):
        name = rng.choice(["post.png", "draft.pdf", "notes.txt", "clip.mp4", "final cut.mov"])
        if rng.random() < 0.4:
            data = rng.choice(SHARED_FILES)
        else:
            data = rng.randbytes(rng.randint(1, 3000))
        files.append([name, data.hex()])
    return files


def _text(rng: random.Random) -> str:
    return rng.choice(
        [
            "Thanks!",
            "Any news?",
            "Warmer colours, please.",
            "Posted. 🎉",
            "Line one\nline two",
            "x" * rng.randint(1, 400),
        ]
    )


def _arguments(
    rng: random.Random, order: Order, action: Action, now: pendulum.DateTime
) -> dict[str, Any]:
    """Valid arguments for ``action`` on ``order`` at ``now``."""
    if action in (
        Action.accept,
        Action.approve,
        Action.accept_update,
        Action.reject_update,
        Action.withdraw_update,
        Action.join,
        Action.accept_cancellation,
        Action.decline_cancellation,
        Action.withdraw_cancellation,
    ):
        return {}
    if action in (Action.settle, Action.request_cancellation):
        cents = rng.randint(0, int(order.contract.price.amount * 100))
        refund = f"{cents // 100}.{cents % 100:02d}"
        if action is Action.settle:
            return {"refund": refund, "note": rng.choice(["", "Split as agreed"])}
        return {"reason": "Plans changed", "refund": rng.choice([None, refund])}
    if action is Action.review:
        return {"rating": rng.randint(1, 5), "text": rng.choice(["", "Great work", "Slow"])}
    if action in (Action.decline, Action.withdraw):
        return {"reason": rng.choice(["", "Too busy this week", "Changed my mind"])}
    if action in (Action.dispute, Action.cancel):
        return {"reason": rng.choice(["No reply for days", "Wrong handle tagged", "Late"])}
    if action is Action.request_revision:
        return {"note": _text(rng)}
    if action is Action.deliver:
        files = _files(rng, 2)
        return {"files": files, "outside": not files, "note": rng.choice(["", "Here it is!"])}
    if action is Action.resolve:
        outcome = rng.choice(["resume", "complete", "cancel"])
        return {"outcome": outcome, "note": f"Resolved: {outcome}"}
    if action is Action.say:
        files = _files(rng, 1) if rng.random() < 0.3 else []
        return {"text": "" if files and rng.random() < 0.5 else _text(rng), "files": files}
    if action is Action.propose_update:
        return _proposal(rng, order, now)
    if action is Action.request_info:
        return {"question": rng.choice(["Which handle?", "Any colour preference?"])}
    if action is Action.provide_info:
        return {"answer": _text(rng)}
    raise AssertionError(f"the driver has no arguments for {action}")


def _proposal(rng: random.Random, order: Order, now: pendulum.DateTime) -> dict[str, Any]:
    """New terms that change the contract: a new price, a later due date, more revisions."""
    contract = order.contract
    args: dict[str, Any] = {"price": None, "due_at": None, "revisions": None}
    what = rng.choice(["price", "due_at", "revisions", "all"])
    if what in ("price", "all"):
        cents = int(contract.price.amount * 100)
        while cents == contract.price.amount * 100:
            cents = rng.randint(500, 300_000)
        args["price"] = f"{cents // 100}.{cents % 100:02d}"
    if what in ("due_at", "all"):
        # The order's time never runs backwards (its last event may be later than our
        # clock, written by a host whose clock runs ahead): count from the later of both.
        since = max(now, order.updated_at)
        args["due_at"] = since.add(days=rng.randint(3, 14), minutes=rng.randint(1, 600)).isoformat()
    if what in ("revisions", "all"):
        args["revisions"] = min(100, contract.revisions + rng.randint(1, 3))
    return args


# -- running commands ------------------------------------------------------------------


def _listing(args: Mapping[str, Any]) -> Listing:
    requests = (BuyerRequest(QUESTION, required=args["required"]),) if args["request"] else ()
    return Listing(
        args["title"],
        Money(args["price"], "USD"),
        pendulum.duration(days=args["days"]),
        args["revisions"],
        requests,
    )


def _file_pairs(files: Iterable[Sequence[str]]) -> list[tuple[str, bytes]]:
    return [(name, bytes.fromhex(data)) for name, data in files]


def execute(desk: OrderDesk, command: Command) -> Order:
    """Run ``command`` (from :func:`place_command` or :func:`command_for`) on ``desk``."""
    op, args, key = command["op"], command["args"], command["key"]
    if op == "place":
        return desk.place(
            buyer=args["buyer"],
            seller=args["seller"],
            listing=_listing(args),
            answers=args["answers"],
            idempotency_key=key,
        )
    order_id, by = command["order"], actor(command["by"])
    match Action(op):
        case Action.accept:
            return desk.accept(order_id, by=by, idempotency_key=key)
        case Action.decline:
            return desk.decline(order_id, by=by, reason=args["reason"], idempotency_key=key)
        case Action.withdraw:
            return desk.withdraw(order_id, by=by, reason=args["reason"], idempotency_key=key)
        case Action.deliver:
            return desk.deliver(
                order_id,
                by=by,
                files=_file_pairs(args["files"]),
                outside=args["outside"],
                note=args["note"],
                idempotency_key=key,
            )
        case Action.approve:
            return desk.approve(order_id, by=by, idempotency_key=key)
        case Action.request_revision:
            return desk.request_revision(order_id, by=by, note=args["note"], idempotency_key=key)
        case Action.propose_update:
            due = args["due_at"]
            return desk.propose_update(
                order_id,
                by=by,
                price=args["price"],
                due_at=None if due is None else pendulum.parse(due),
                revisions=args["revisions"],
                idempotency_key=key,
            )
        case Action.accept_update:
            return desk.accept_update(order_id, by=by, idempotency_key=key)
        case Action.reject_update:
            return desk.reject_update(order_id, by=by, idempotency_key=key)
        case Action.withdraw_update:
            return desk.withdraw_update(order_id, by=by, idempotency_key=key)
        case Action.dispute:
            return desk.dispute(order_id, by=by, reason=args["reason"], idempotency_key=key)
        case Action.join:
            return desk.join(order_id, by=by, idempotency_key=key)
        case Action.resolve:
            return desk.resolve(
                order_id, by=by, outcome=args["outcome"], note=args["note"], idempotency_key=key
            )
        case Action.cancel:
            return desk.cancel(order_id, by=by, reason=args["reason"], idempotency_key=key)
        case Action.say:
            return desk.say(
                order_id,
                by=by,
                text=args["text"],
                files=_file_pairs(args["files"]),
                idempotency_key=key,
            )
        case Action.request_info:
            return desk.request_info(
                order_id, by=by, question=args["question"], idempotency_key=key
            )
        case Action.provide_info:
            return desk.provide_info(order_id, by=by, answer=args["answer"], idempotency_key=key)
        case Action.settle:
            return desk.settle(
                order_id, by=by, refund=args["refund"], note=args["note"], idempotency_key=key
            )
        case Action.request_cancellation:
            return desk.request_cancellation(
                order_id, by=by, reason=args["reason"], refund=args["refund"], idempotency_key=key
            )
        case Action.accept_cancellation:
            return desk.accept_cancellation(order_id, by=by, idempotency_key=key)
        case Action.decline_cancellation:
            return desk.decline_cancellation(order_id, by=by, idempotency_key=key)
        case Action.withdraw_cancellation:
            return desk.withdraw_cancellation(order_id, by=by, idempotency_key=key)
        case Action.review:
            return desk.review(
                order_id, by=by, rating=args["rating"], text=args["text"], idempotency_key=key
            )
    raise AssertionError(f"the driver cannot run {op}")


def log_line(envelope: Envelope) -> bytes:
    """How the receiver logs an envelope it accepted."""
    return f"{envelope.id} {envelope.order_id} {envelope.seq} {envelope.recipient}\n".encode()


def append(path: Path, line: bytes) -> None:
    """Append one line with one ``write`` call: a kill leaves it whole or absent."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def flaky_receiver(log: Path, rng: random.Random, failure_rate: float) -> CallbackNotifier:
    """A notifier that refuses some envelopes (the relay retries them) and logs the rest."""

    def receive(envelope: Envelope) -> None:
        if rng.random() < failure_rate:
            raise ConnectionError("the receiver is down for a moment")
        append(log, log_line(envelope))

    return CallbackNotifier(receive)


# -- the process -----------------------------------------------------------------------


@attrs.define
class State:
    """What survives a kill: restarts so far, the clock, the command in flight."""

    restarts: int = 0
    now: str = T0.isoformat()
    pending: Command | None = None

    @classmethod
    def load(cls, path: Path) -> State:
        """The saved state, or a fresh one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        return cls(data["restarts"], data["now"], data["pending"])

    def save(self, path: Path) -> None:
        """Replace the file at once (write aside, then rename): never half written."""
        aside = path.with_name(f"{path.name}.tmp")
        aside.write_text(json.dumps(attrs.asdict(self)), encoding="utf-8")
        os.replace(aside, path)


def _advance(rng: random.Random, clock: ManualClock) -> None:
    unit, low, high = rng.choice(
        [("minutes", 1, 90), ("minutes", 1, 90), ("hours", 1, 20), ("days", 1, 3), ("days", 4, 9)]
    )
    clock.advance(**{unit: rng.randint(low, high)})


def run(url: str, seed: str, steps: int, state_path: Path, log: Path) -> int:
    """The driver's loop; returns the exit code (0: every step ran as expected)."""
    state = State.load(state_path)
    state.restarts += 1
    state.save(state_path)
    rng = random.Random(f"{seed}:{state.restarts}")
    clock = ManualClock(pendulum.parse(state.now))
    receiver = flaky_receiver(log, random.Random(f"{seed}:{state.restarts}:receiver"), 0.1)
    counts = {"ok": 0, "commands": 0, "lost_races": 0, "fired": 0, "sent": 0, "retried": 0}

    def report(what: str) -> None:
        counts["ok"] += 1
        print(f"ok {counts['ok']} {what}", flush=True)

    with OrderDesk.open(url, clock=clock, policy=POLICY, notifier=receiver) as desk:
        print("open", flush=True)
        if state.pending is not None:  # sent before the last kill: recorded, or not yet
            try:
                execute(desk, state.pending)
            except EXPECTED:
                counts["lost_races"] += 1
            report("retried the command in flight")
        known = sorted({c.order_id for user in BUYERS for c in desk.inbox(user)})
        for step in range(steps):
            key = f"{seed}:{state.restarts}:{step}"
            roll = rng.random()
            if roll < 0.08:
                _advance(rng, clock)
                state.now = clock.now().isoformat()
                state.save(state_path)
                report("clock")
                continue
            if roll < 0.14:
                counts["fired"] += len(desk.tick())
                report("tick")
                continue
            if roll < 0.20:
                relayed = desk.relay(limit=rng.randint(1, 40))
                counts["sent"] += relayed.sent
                counts["retried"] += relayed.retried
                report("relay")
                continue
            wanted = 0.5 if len(known) < 5 else 0.12 if len(known) < 40 else 0.03
            if roll < 0.20 + wanted or not known:
                command: Command | None = place_command(rng, key)
            else:
                command = command_for(desk, rng, rng.choice(known), key)
            if command is None:
                continue
            state.pending = command
            state.save(state_path)
            try:
                order = execute(desk, command)
            except EXPECTED:
                counts["lost_races"] += 1
                continue
            if order.id not in known:
                known.append(order.id)
            counts["commands"] += 1
            report(command["op"])
    print("done " + " ".join(f"{k}={v}" for k, v in counts.items()), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``driver.py URL SEED [--steps N] [--state FILE] [--log FILE]
    [--wait]``; with ``--wait`` the driver starts only when a line ``go [STEPS]`` comes
    on stdin (a parent starts it ahead of time and pays no start-up cost at the kill)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("url")
    parser.add_argument("seed")
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--state", type=Path, default=None)
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--wait", action="store_true")
    options = parser.parse_args(argv)
    if options.wait:
        backend = "sqlite" if options.url.startswith("sqlite") else "postgres"
        importlib.import_module(f"order_lifecycle.adapters.{backend}")  # before the wait
        words = sys.stdin.readline().split()
        if not words or words[0] != "go":
            return 0  # not needed after all
        if len(words) > 1:
            options.steps = int(words[1])
    state = options.state
    if state is None:
        if not options.url.startswith("sqlite:///"):
            parser.error("--state is needed for a database that is not a SQLite file")
        state = Path(options.url[len("sqlite:///") :] + ".driver.json")
    log = options.log or state.with_name(state.name + ".received")
    return run(options.url, options.seed, options.steps, state, log)


# -- checking a database ---------------------------------------------------------------


@attrs.frozen
class Figures:
    """What a check saw."""

    orders: int
    events: int
    outbox: int
    sent: int


def stored_orders(url: str) -> list[tuple[str, int, str, int | None]]:
    """``(id, version, state, next_timer_at)`` of every order row, read with plain SQL
    (not through the store: a row the store would not show still counts)."""
    query = "SELECT id, version, state, next_timer_at FROM orders ORDER BY id"
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///") :]) as conn:
            found = conn.execute(query).fetchall()
    else:
        import psycopg
        from psycopg import sql

        parts = urllib.parse.urlsplit(url)
        params = urllib.parse.parse_qsl(parts.query)
        schema = dict(params).get("schema")
        rest = urllib.parse.urlencode([(k, v) for k, v in params if k != "schema"])
        with psycopg.connect(urllib.parse.urlunsplit(parts._replace(query=rest))) as conn:
            if schema is not None:
                conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            found = conn.execute(query).fetchall()
    return [(str(i), int(v), str(s), None if t is None else int(t)) for i, v, s, t in found]


def received(logs: Iterable[Path]) -> set[int]:
    """The outbox ids the receivers logged."""
    ids: set[int] = set()
    for log in logs:
        if log.exists():
            ids |= {int(line.split()[0]) for line in log.read_text(encoding="utf-8").splitlines()}
    return ids


def check_database(url: str, logs: Iterable[Path] = ()) -> tuple[list[str], Figures]:
    """Every problem of every stored order, and what was checked.

    ``check_order`` for each order (its history replays to it, events numbered
    1..version, outbox rows are the notifications of its events, participants), and
    beyond it: the order row's own columns agree with its document (version, state, the
    next timer ``tick`` looks for), the chat shows exactly the events, every attached
    file is stored with its content, and every outbox row marked sent reached the
    receiver's log (``logs``; nothing marked sent was lost).
    """
    problems: list[str] = []
    events = outbox = sent = 0
    logged = received(logs)
    with OrderDesk.open(url, clock=ManualClock(T0), policy=POLICY) as desk:
        store = desk.store
        found = stored_orders(url)
        for order_id, version, state, next_timer_at in found:
            problems.extend(check_order(store, order_id, POLICY))
            order = store.load(order_id)
            history = store.history(order_id)
            events += len(history)
            if (version, state) != (order.version, str(order.state)):
                problems.append(f"{order_id}: row says {version}/{state}, document otherwise")
            timers = api.due_timers(order, POLICY)
            expected = rows.micros(timers[0].due_at) if timers else None
            if next_timer_at != expected:
                problems.append(f"{order_id}: next timer {next_timer_at}, expected {expected}")
            chat = desk.chat(order_id, viewer=order.buyer)
            if chat != [entry(event) for event in history]:
                problems.append(f"{order_id}: the chat differs from the events")
            for event in history:
                files = event.files if isinstance(event, ContentDelivered | MessagePosted) else ()
                for file in files:
                    try:
                        data = desk.blobs.get(file.sha256)
                    except Exception as error:  # any failure to read is a lost file
                        problems.append(f"{order_id}: file {file.name} is lost: {error}")
                        continue
                    if hashlib.sha256(data).hexdigest() != file.sha256:
                        problems.append(f"{order_id}: file {file.name} has other content")
            for row in store.outbox_rows(order_id):
                outbox += 1
                if row.status == "sent":
                    sent += 1
                    if logs and row.id not in logged:
                        problems.append(f"{order_id}: outbox row {row.id} is sent, never received")
    return problems, Figures(len(found), events, outbox, sent)


if __name__ == "__main__":
    sys.exit(main())
