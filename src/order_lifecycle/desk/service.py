"""``OrderDesk``: the application service, the one entry point for host applications.

Each command is load → ``core.decide`` → save, as one transaction; a conflicting
concurrent write is retried a bounded number of times by deciding again on the fresh
order (so a racing command that is no longer allowed ends as ``ActionNotAvailable``).
Every command goes one way, :meth:`OrderDesk.execute`; the named methods (``accept``,
``deliver``, ...) build the command and call it.

>>> from order_lifecycle import OrderDesk, Listing, Money, ManualClock, core
>>> import pendulum
>>> desk = OrderDesk.open("memory://", clock=ManualClock(pendulum.datetime(2026, 12, 1, 10)))
>>> listing = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)
>>> order = desk.place(buyer="alice", seller="bob", listing=listing)
>>> desk.accept(order.id, by="bob").state
<OrderState.accepted: 'accepted'>
>>> desk.execute(order.id, core.Deliver(outside=True), by="bob").state
<OrderState.delivered: 'delivered'>
"""

from __future__ import annotations

import time
from typing import Any, TypeVar, cast

from order_lifecycle.clock import Clock
from order_lifecycle.core import api
from order_lifecycle.core import commands as c
from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Actor, Order, Policy
from order_lifecycle.desk import files as intake
from order_lifecycle.desk import flows
from order_lifecycle.desk.base import DEFAULT_CLOCK, DEFAULT_POLICY, DeskBase
from order_lifecycle.desk.flows import MAX_ATTEMPTS
from order_lifecycle.desk.stores import open_store
from order_lifecycle.errors import ValidationError
from order_lifecycle.ports import BlobStore, FeedItem, Notifier, Store
from order_lifecycle.stats import Metrics, ReviewSummary
from order_lifecycle.views import (
    ChatEntry,
    Conversation,
    OrderView,
    RelayReport,
)

__all__ = ["MAX_ATTEMPTS", "OrderDesk"]

T = TypeVar("T")
Upload = c.Upload


class OrderDesk(DeskBase[Store, Order]):
    """The application service: commands, queries and timers over one store.

    Commands (``execute``, ``place``, ``accept``, ...) are :class:`DeskBase`'s; the
    queries, ``relay`` and ``tick`` are below.
    """

    @classmethod
    def open(
        cls,
        url: str,
        *,
        policy: Policy | None = DEFAULT_POLICY,
        clock: Clock | None = DEFAULT_CLOCK,
        notifier: Notifier | None = None,
        blobs: BlobStore | None = None,
    ) -> OrderDesk:
        """A desk on ``memory://``, ``sqlite:///path`` or ``postgresql://...``.

        With ``blobs=None`` files go where they work out of the box: in memory, in a
        folder beside the SQLite file (``orders.db.files/``), or in the PostgreSQL database.
        ``None`` for the policy or the clock is the default one.
        """
        store, default_blobs = open_store(url)
        blobs = default_blobs if blobs is None else blobs
        return cls(store, policy=policy, clock=clock, notifier=notifier, blobs=blobs)

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()

    def bound(self, connection: object) -> OrderDesk:
        """This desk inside the caller's open transaction on ``connection`` (a psycopg 3
        ``Connection`` for a PostgreSQL desk, a ``sqlite3.Connection`` for a SQLite one).

        Each command runs under a savepoint: a refused or conflicting command rolls back
        to it and leaves the caller's transaction usable. The bound desk never commits:
        the order, its events and its outbox rows commit or roll back with the caller's
        own rows. Files are stored in the desk's blob store as usual (content-addressed:
        a rolled-back command leaves at most an unreferenced file). Run ``relay`` on the
        desk itself.
        """
        binder = getattr(self.store, "bound", None)
        if binder is None:
            raise ValidationError(
                "connection",
                f"{type(self.store).__name__} cannot join a caller's transaction; "
                "open the desk on sqlite:/// or postgresql://",
            )
        store: Store = binder(connection)
        return OrderDesk(
            store, policy=self.policy, clock=self.clock, blobs=self.blobs, notifier=self.notifier
        )

    def __enter__(self) -> OrderDesk:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _drive(self, flow: flows.Flow[T]) -> T:
        """Run ``flow``, making each call it asks for and handing back the result (or
        throwing the call's exception back in, where the flow may handle it)."""
        result: Any = None
        error: Exception | None = None
        while True:
            try:
                call = flow.send(result) if error is None else flow.throw(error)
            except StopIteration as done:
                return cast(T, done.value)
            try:
                result, error = self._perform(call), None
            except Exception as failure:  # handed to the flow, which raises or handles it
                result, error = None, failure

    def _perform(self, call: flows.Call) -> Any:
        name = call.name
        if name == "write":  # every command's: first
            return self.store.write(*call.args, **call.kwargs)
        if name == "pause":
            time.sleep(call.args[0])
            return None
        if name == "read_files":
            return intake.read_files(call.args[0], self.policy)
        if name == "put_files":
            return intake.store(call.args[0], self.blobs)
        if name == "send":
            assert self.notifier is not None  # relay checks it before it starts
            return self.notifier.send(call.args[0])
        return getattr(self.store, name)(*call.args, **call.kwargs)

    def _command(self, flow: flows.Flow[Order]) -> Order:
        return self._drive(flow)

    # -- queries -------------------------------------------------------------------

    def get(self, order_id: str) -> Order:
        """The order; ``OrderNotFound`` if there is none."""
        return self._drive(flows.get(order_id))

    def history(self, order_id: str) -> list[Event]:
        """The order's events, oldest first."""
        return self._drive(flows.events_of(order_id))

    def feed(self, after: int = 0, limit: int = 100) -> list[FeedItem]:
        """Up to ``limit`` (1 to 10,000) events of every order after position ``after``,
        in position order: the store-wide event feed.

        Positions grow strictly, and an event committed later is never given a position
        below one already read, even with many writers at once: a consumer that asks
        again from the last position it saw never misses an event, nor sees one twice.
        Start from ``after=0``.
        """
        return self._drive(flows.feed(after, limit))

    def actions(
        self, order_id: str, *, viewer: Actor | str, tz: str = "UTC"
    ) -> list[api.ActionOption]:
        """Every action as ``viewer`` sees it now: available, or why not."""
        return self._drive(flows.actions(self._settings, order_id, viewer, tz))

    def next_step(self, order_id: str, *, viewer: Actor | str, tz: str = "UTC") -> str:
        """The chatbot's prompt for ``viewer`` now."""
        return self._drive(flows.prompt(self._settings, order_id, viewer, tz))

    def chat(
        self,
        order_id: str,
        *,
        viewer: Actor | str,
        since: int | None = None,
        tz: str = "UTC",
        next_step: bool = False,
    ) -> list[ChatEntry]:
        """The order's chat for ``viewer``: messages and automated notices, oldest first.

        ``since`` keeps only entries after that ``seq``; ``tz`` is the viewer's time zone;
        ``next_step=True`` ends the list with the chatbot's prompt (``kind == "next_step"``,
        not stored). Only the buyer, the seller and CX agents who joined may read it.
        """
        flow = flows.chat(
            self._settings, order_id, viewer, since=since, tz=tz, with_prompt=next_step
        )
        return self._drive(flow)

    def view(self, order_id: str, *, viewer: Actor | str, tz: str = "UTC") -> OrderView:
        """Everything a page about one order shows its viewer, from one read of the order:
        the order, the viewer's actions, the chatbot's prompt and the chat (``None`` for a
        CX agent who has not joined yet and so may not read it)."""
        return self._drive(flows.view(self._settings, order_id, viewer, tz))

    def inbox(self, user: Actor | str, *, tz: str = "UTC") -> list[Conversation]:
        """Every conversation ``user`` takes part in, newest activity first (``user``: an
        id, ``cx:USER`` or an ``Actor``, as ``viewer=`` takes them)."""
        return self._drive(flows.inbox(user, tz))

    def mark_read(self, order_id: str, *, by: Actor | str) -> None:
        """``by`` has read the order's chat up to its newest entry (records no event)."""
        self._drive(flows.mark_read(self._settings, order_id, by))

    def reviews(self, user: str) -> ReviewSummary:
        """The published reviews about ``user`` (as buyer and as seller): count, average
        rating and the reviews, newest first. A review still hidden (double-blind) is not
        counted."""
        return self._drive(flows.reviews(user))

    def metrics(self, user: str, *, role: str = "seller", since: object = None) -> Metrics:
        """How ``user`` does as a ``seller`` (or ``buyer``) over the orders placed at or
        after ``since``: completion, on-time, revision and dispute rates, median times to
        accept and deliver, ratings. Read from an index of the user's own orders."""
        return self._drive(flows.metrics(self._settings, user, role, since))

    # -- notifications and timers ----------------------------------------------------

    def relay(self, limit: int = 100, *, now: object = None) -> RelayReport:
        """Deliver pending notifications through the notifier: at least once, in order per
        order and recipient, retried with exponential back-off, dead after
        ``Policy.max_delivery_attempts`` failures. Safe to run in several workers."""
        self._check_notifier()
        return self._drive(flows.relay(self._settings, limit, now))

    def tick(self, now: object = None, *, limit: int = 1000) -> list[Event]:
        """Fire every timer due at ``now`` (default: the clock), one transaction per timer.

        Safe to run in several workers at once: each timer fires once. Returns the events
        fired, in the order they were fired.
        """
        return self._drive(flows.tick(self._settings, now, limit))
