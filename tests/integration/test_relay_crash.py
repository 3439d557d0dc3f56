"""A relay killed between sending and recording loses nothing: the next relay sends again.

Duplicates are allowed (delivery is at least once) but only with the same idempotency
key, the outbox row's id.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pendulum

from order_lifecycle import Listing, ManualClock, Money, OrderDesk
from order_lifecycle.adapters.notifiers import CallbackNotifier
from order_lifecycle.desk import RELAY_LEASE
from order_lifecycle.ports import Envelope

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)


def _record(log: Path, envelope: Envelope) -> None:
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"{envelope.id} {envelope.order_id} {envelope.seq} {envelope.recipient}\n")
        handle.flush()
        os.fsync(handle.fileno())


def _dying_relay(url: str, log: str, die_after: int) -> None:
    sent = 0

    def send(envelope: Envelope) -> None:
        nonlocal sent
        _record(Path(log), envelope)
        sent += 1
        if sent == die_after:
            os.kill(os.getpid(), signal.SIGKILL)  # after sending, before recording it

    desk = OrderDesk.open(url, clock=ManualClock(T0), notifier=CallbackNotifier(send))
    desk.relay(limit=1000)


def test_killed_relay_loses_nothing(durable_url: str, tmp_path: Path) -> None:
    """Kill a relay mid-way; after its lease, another relay delivers every notification."""
    url = durable_url
    with OrderDesk.open(url, clock=ManualClock(T0)) as desk:
        for _ in range(5):
            order = desk.place(buyer="alice", seller="bob", listing=LISTING)
            desk.say(order.id, by="alice", text="Hello")
            desk.accept(order.id, by="bob")
            desk.say(order.id, by="bob", text="On it")
        rows = desk.store.outbox_rows()
    assert len(rows) == 20
    log = tmp_path / "received.log"
    child = multiprocessing.get_context("spawn").Process(
        target=_dying_relay, args=(url, str(log), 7)
    )
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    first = log.read_text(encoding="utf-8").splitlines()
    assert len(first) == 7
    later = ManualClock(T0.add(seconds=int(RELAY_LEASE.total_seconds()) + 1))
    with OrderDesk.open(
        url, clock=later, notifier=CallbackNotifier(lambda e: _record(log, e))
    ) as desk:
        report = desk.relay(limit=1000)
        after = desk.store.outbox_rows()
    assert report.dead == 0
    assert {r.status for r in after} == {"sent"}
    received = log.read_text(encoding="utf-8").splitlines()
    ids = [int(line.split()[0]) for line in received]
    assert set(ids) == {r.id for r in rows}
    by_id: dict[int, set[str]] = {}
    for line in received:
        by_id.setdefault(int(line.split()[0]), set()).add(line)
    assert all(len(copies) == 1 for copies in by_id.values())  # a duplicate is the same message
    assert len(received) - len(set(ids)) <= 7  # only what the dead relay had in hand
    for recipient in ("alice", "bob"):
        for order_id in {r.order_id for r in rows}:
            seqs = [
                int(line.split()[2])
                for line in received[len(first) :]
                if line.split()[1] == order_id and line.split()[3] == recipient
            ]
            assert seqs == sorted(seqs)
