"""The timer worker a host runs beside its web app, on the embedded SQLite default.

The web app handles commands; nothing in it fires timers or sends notifications. A
worker does, in a loop: ``desk.tick()`` fires every timer that is due (the review window
that completes a delivered order, the delivery date that lets the buyer cancel, the
acceptance window that expires a pending order) and ``desk.relay()`` sends the outbox
through the notifier. Both are safe to run in several workers at once.

A real host runs it for ever, with the system clock, a real notifier and the *same
policy* as its web app (the policy decides when timers fall due), stopped by its process
manager::

    from order_lifecycle import SystemClock
    from order_lifecycle.adapters.notifiers import WebhookNotifier

    run_worker(
        "sqlite:///orders.db",
        clock=SystemClock(),
        notifier=WebhookNotifier("https://hooks.example/orders", secret),
        rounds=None,          # for ever
        interval=5.0,         # seconds between rounds
    )

SIGTERM (``systemctl stop``, ``docker stop``, Kubernetes) or SIGINT (Ctrl-C) lets the
current round finish, then the worker exits cleanly; the wait between rounds wakes up at
once. A round that dies half-way is safe too: a timer fires in one transaction, and an
outbox row a crashed relay had claimed is sent again once its lease lapses.

This example never runs for ever: ``main()`` places orders on a temporary database and
runs eight rounds, one simulated day apart, on a ``ManualClock``.

Run it with ``python examples/sqlite_timer_worker.py``.
"""

from __future__ import annotations

import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from types import FrameType

import pendulum

from order_lifecycle import (
    Clock,
    Event,
    Listing,
    ManualClock,
    Money,
    OrderDesk,
    Policy,
    RelayReport,
    StorageError,
)
from order_lifecycle.adapters.notifiers import CallbackNotifier
from order_lifecycle.core.events import DeliveryDatePassed, OrderAutoCompleted, OrderExpired
from order_lifecycle.ports import Envelope, Notifier

#: The signals that ask the worker to stop after the current round.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class Round:
    """What one round of the worker did."""

    number: int
    at: pendulum.DateTime
    fired: list[Event]
    relay: RelayReport


@dataclass
class WorkerReport:
    """What a whole run did, and why it stopped."""

    rounds: int = 0
    fired: list[Event] = field(default_factory=list)
    sent: int = 0
    retried: int = 0
    dead: int = 0
    #: The signal that stopped the worker (``"SIGTERM"``...), or ``None`` if it ran out of rounds.
    stopped_by: str | None = None


class StopRequest:
    """Set by a stop signal; the worker checks it between rounds and waits on it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal: str | None = None

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self._event.is_set()

    def ask(self, signum: int, _frame: FrameType | None = None) -> None:
        """Ask the worker to stop (a signal handler)."""
        self.signal = signal.Signals(signum).name
        self._event.set()

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when a stop is asked for meanwhile."""
        self._event.wait(seconds)


@contextmanager
def stop_on_signals(stop: StopRequest) -> Iterator[StopRequest]:
    """Route SIGTERM and SIGINT to ``stop`` while the worker runs; restore them after.

    Handlers can only be set in the main thread: elsewhere the host's own shutdown
    (e.g. calling ``stop.ask``) stops the worker.
    """
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.signal(signum, stop.ask) for signum in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_worker(
    url: str,
    *,
    clock: Clock,
    notifier: Notifier,
    rounds: int | None,
    interval: float,
    policy: Policy | None = None,
    sleep: Callable[[float], object] | None = None,
    on_round: Callable[[Round], object] | None = None,
) -> WorkerReport:
    """Tick, then relay, ``rounds`` times (``None``: until SIGTERM or SIGINT).

    ``interval`` is the pause between rounds in seconds; ``sleep`` replaces the pause
    (a test or this example advances a ``ManualClock`` instead of waiting). ``policy``
    must be the web app's. A ``StorageError`` (a locked or unreachable database) skips
    the rest of the round: the next round tries again.
    """
    report = WorkerReport()
    stop = StopRequest()
    pause = stop.wait if sleep is None else sleep
    with (
        stop_on_signals(stop),
        OrderDesk.open(url, clock=clock, notifier=notifier, policy=policy) as desk,
    ):
        for number in count(1) if rounds is None else range(1, rounds + 1):
            if stop.requested:
                break
            fired: list[Event] = []
            relayed = RelayReport(0, 0, 0)
            try:
                fired = desk.tick()
                relayed = desk.relay()
            except StorageError as error:
                print(
                    f"round {number}: storage unavailable, trying again: {error}", file=sys.stderr
                )
            report.rounds += 1
            report.fired.extend(fired)
            report.sent += relayed.sent
            report.retried += relayed.retried
            report.dead += relayed.dead
            if on_round is not None:
                on_round(Round(number, clock.now(), fired, relayed))
            if stop.requested or (rounds is not None and number >= rounds):
                break
            pause(interval)
    report.stopped_by = stop.signal
    return report


def main() -> int:
    """Place orders whose timers fall due on different days; run the worker over them."""
    start = pendulum.datetime(2026, 12, 1, 9, tz="UTC")
    clock = ManualClock(start)
    # The web app and the worker share this policy: pending orders expire after 2 days.
    policy = Policy(acceptance_window=pendulum.duration(days=2))
    sent: list[Envelope] = []
    notifier = CallbackNotifier(sent.append)

    with tempfile.TemporaryDirectory(prefix="order-lifecycle-worker-") as folder:
        url = f"sqlite:///{Path(folder) / 'orders.db'}"
        titles: dict[str, str] = {}
        # What the web app did during the day (it has no notifier: the worker relays).
        with OrderDesk.open(url, clock=clock, policy=policy) as web:

            def place(title: str, buyer: str, days: int) -> str:
                listing = Listing(title, Money("50.00", "USD"), pendulum.duration(days=days), 1)
                order = web.place(buyer=buyer, seller="bob", listing=listing)
                titles[order.id] = title
                return order.id

            logo = place("Logo design", "alice", days=4)
            web.accept(logo, by="bob")  # delivery due Sat 5 Dec 09:00
            clock.advance(hours=1)
            post = place("Instagram post", "dan", days=2)
            web.accept(post, by="bob")
            web.deliver(post, by="bob", outside=True)  # review window ends Tue 8 Dec 10:00
            clock.advance(hours=1, minutes=30)
            banner = place("Banner", "erin", days=3)  # never accepted: expires Thu 3 Dec 11:30
            clock.advance(minutes=30)
            intro = place("Podcast intro", "frank", days=1)
            web.accept(intro, by="bob")
            web.deliver(intro, by="bob", files=[("intro.mp3", b"ID3")])
            web.approve(intro, by="frank")  # complete: no timer left

        # The worker wakes up once a day at 18:00 here (a real one: every few seconds).
        clock.set(start.add(hours=9))

        def show(done: Round) -> None:
            when = done.at.format("ddd D MMM HH:mm")
            if not done.fired and not done.relay.sent:
                print(f"[{when}] round {done.number}: nothing due")
            else:
                print(f"[{when}] round {done.number}: fired {len(done.fired)}, {done.relay}")
            for event in done.fired:
                due = ""
                # A timer's event records when it was due beside when it ran (``at``).
                if isinstance(event, (DeliveryDatePassed, OrderAutoCompleted, OrderExpired)):
                    due = f", due {event.due_at.format('ddd D MMM HH:mm')}"
                print(f"  fired {event.kind} on «{titles[event.order_id]}»{due}")
            for envelope in sent:
                print(f"  sent  {envelope.kind} -> {envelope.recipient}")
            sent.clear()

        report = run_worker(
            url,
            clock=clock,
            notifier=notifier,
            rounds=8,
            interval=pendulum.duration(days=1).in_seconds(),
            policy=policy,
            sleep=lambda seconds: clock.advance(seconds=seconds),
            on_round=show,
        )
        print(
            f"\nworker stopped after {report.rounds} rounds: {len(report.fired)} timers fired, "
            f"{report.sent} notifications sent, {report.dead} dead"
        )
        with OrderDesk.open(url, clock=clock, policy=policy) as desk:
            for order_id in (logo, post, banner, intro):
                order = desk.get(order_id)
                print(f"  «{titles[order_id]}»: {order.state}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
