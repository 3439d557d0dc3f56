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

from collections.abc import Iterable, Mapping
from typing import Final

import attrs
import pendulum

from order_lifecycle.clock import Clock, SystemClock
from order_lifecycle.core import api, replay
from order_lifecycle.core import commands as c
from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Actor, Attachment, Listing, Money, Order, Policy, Role
from order_lifecycle.core.prompts import next_step
from order_lifecycle.core.values import (
    check_count,
    check_id,
    check_text,
    check_zone,
    to_instant,
)
from order_lifecycle.desk import files as intake
from order_lifecycle.desk.inbox import conversations_of
from order_lifecycle.desk.relay import relay
from order_lifecycle.desk.stores import open_store
from order_lifecycle.desk.timers import tick
from order_lifecycle.desk.writes import command_fingerprint, fingerprint, write_for
from order_lifecycle.errors import (
    ActionNotAvailable,
    ConcurrencyConflict,
    NotAParticipant,
    ValidationError,
)
from order_lifecycle.ports import BlobStore, IdempotencyRecord, Notifier, Store
from order_lifecycle.views import (
    NEXT_STEP_KIND,
    ChatEntry,
    Conversation,
    OrderView,
    RelayReport,
    entry,
)

__all__ = ["MAX_ATTEMPTS", "OrderDesk"]

#: How many times a command is decided again after a concurrent write.
MAX_ATTEMPTS: Final = 8

Upload = c.Upload


class OrderDesk:
    """The application service: commands, queries and timers over one store."""

    def __init__(
        self,
        store: Store,
        *,
        policy: Policy | None = None,
        clock: Clock | None = None,
        blobs: BlobStore | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        from order_lifecycle.adapters.files import MemoryBlobs

        self.store = store
        self.policy = Policy() if policy is None else policy
        self.clock: Clock = SystemClock() if clock is None else clock
        self.blobs: BlobStore = MemoryBlobs() if blobs is None else blobs
        self.notifier = notifier
        if not isinstance(self.policy, Policy):
            raise ValidationError("policy", "must be a Policy")

    @classmethod
    def open(
        cls,
        url: str,
        *,
        policy: Policy | None = None,
        clock: Clock | None = None,
        notifier: Notifier | None = None,
        blobs: BlobStore | None = None,
    ) -> OrderDesk:
        """A desk on ``memory://``, ``sqlite:///path`` or ``postgresql://...``.

        With ``blobs=None`` files go where they work out of the box: in memory, in a
        folder beside the SQLite file (``orders.db.files/``), or in the PostgreSQL database.
        """
        store, default_blobs = open_store(url)
        return cls(
            store,
            policy=policy,
            clock=clock,
            blobs=default_blobs if blobs is None else blobs,
            notifier=notifier,
        )

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()

    def __enter__(self) -> OrderDesk:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _now(self) -> pendulum.DateTime:
        return to_instant(self.clock.now(), "clock")

    def _actor(self, order: Order, who: Actor | str) -> Actor:
        return api.as_actor(order, who)

    # -- the one way to run a command ------------------------------------------------

    def execute(
        self,
        order_id: str,
        command: c.Command,
        *,
        by: Actor | str,
        idempotency_key: str | None = None,
    ) -> Order:
        """Run ``command`` (a ``core`` command: ``core.Accept()``, ``core.Deliver(...)``,
        ...) on the order for ``by``; the order as the command left it.

        Checked in the order of the spec: participant, availability, arguments. A command
        that carries files may hold paths or ``(name, bytes)`` pairs: they are stored only
        once the rest of the command would go through. With ``idempotency_key``, a repeat
        of the same command returns the first result and changes nothing.
        """
        if not isinstance(command, c.Command) or not hasattr(command, "action"):
            raise ValidationError(
                "command", f"must be a core command, not {type(command).__name__}"
            )
        check_id("order_id", order_id)
        who = by if isinstance(by, Actor) else check_id("by", by)
        key = idempotency_key
        print_ = "" if key is None else command_fingerprint(order_id, who, command)
        first = self._idempotent(key, print_)
        if first is not None:
            return first
        if intake.needs_intake(command):
            command = self._take_files(order_id, who, command)
        return self._run(order_id, who, command, key, print_)

    def _run(
        self, order_id: str, who: Actor | str, command: c.Command, key: str | None, print_: str
    ) -> Order:
        for _ in range(MAX_ATTEMPTS):
            order = self.store.load(order_id)
            actor = self._actor(order, who)
            decision = api.decide(order, command, actor=actor, now=self._now(), policy=self.policy)
            record = (
                None
                if key is None
                else IdempotencyRecord(key, print_, order_id, decision.order.version)
            )
            try:
                self.store.write(write_for(order.version, decision, self.policy, record))
            except ConcurrencyConflict:
                first = self._idempotent(key, print_)
                if first is not None:
                    return first
                continue
            return decision.order
        raise ConcurrencyConflict(
            order_id,
            -1,
            f"Order {order_id!r} kept changing under {MAX_ATTEMPTS} attempts; try again.",
        )

    def _take_files(self, order_id: str, who: Actor | str, command: c.Command) -> c.Command:
        """Check the whole command first (participant, availability, every argument) with
        the files described but not stored; store them only when it would go through."""
        files = getattr(command, "files", ())
        if isinstance(files, tuple) and not files:
            return command
        order = self.store.load(order_id)
        actor = self._actor(order, who)
        api.check_participant(order, actor, self.policy)
        option = next(
            o
            for o in api.options(order, actor=actor, now=self._now(), policy=self.policy)
            if o.action is command.action
        )
        if not option.available:
            raise ActionNotAvailable(str(option.action), option.reason or "", order.id)
        loaded = intake.read_files(files, self.policy)
        described = _with_files(command, intake.describe(loaded))
        api.decide(order, described, actor=actor, now=self._now(), policy=self.policy)
        stored = intake.store(loaded, self.blobs)
        return _with_files(command, stored)

    def _replayed(self, record: IdempotencyRecord) -> Order:
        current = self.store.load(record.order_id)
        if current.version == record.version:
            return current
        history = self.store.history(record.order_id)
        return replay.replay(history, policy=self.policy, upto=record.version)

    def _idempotent(self, key: str | None, print_: str) -> Order | None:
        """The first result of the command sent with ``key``, if there was one."""
        if key is None:
            return None
        check_text("idempotency_key", key, max_chars=200, multiline=False)
        record = self.store.idempotency(key)
        if record is None:
            return None
        if record.fingerprint != print_:
            raise ValidationError(
                "idempotency_key",
                f"{key!r} was already used for a different command; use a new key",
            )
        return self._replayed(record)

    # -- commands ------------------------------------------------------------------

    def place(
        self,
        *,
        buyer: str,
        seller: str,
        listing: Listing,
        answers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        order_id: str | None = None,
    ) -> Order:
        """A buyer buys a listing: a new ``pending`` order for the seller to accept.

        ``order_id`` lets the host use its own id (e.g. its checkout's); by default a
        random ``ord_...`` id is drawn.
        """
        key = idempotency_key
        print_ = ""
        if key is not None:
            given = dict(answers) if isinstance(answers, Mapping) else answers
            args = {
                "buyer": buyer,
                "seller": seller,
                "listing": listing,
                "answers": given,
                "order_id": order_id,
            }
            print_ = fingerprint("place", "", str(buyer), args.items())
        first = self._idempotent(key, print_)
        if first is not None:
            return first
        decision = api.place(
            buyer=buyer,
            seller=seller,
            listing=listing,
            answers=answers,
            now=self._now(),
            policy=self.policy,
            order_id=order_id,
        )
        record = None if key is None else IdempotencyRecord(key, print_, decision.order.id, 1)
        try:
            self.store.write(write_for(0, decision, self.policy, record))
        except ConcurrencyConflict:
            first = self._idempotent(key, print_)
            if first is not None:
                return first
            raise
        return decision.order

    def accept(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> Order:
        """The seller accepts the order."""
        return self.execute(order_id, c.Accept(), by=by, idempotency_key=idempotency_key)

    def decline(
        self,
        order_id: str,
        *,
        by: Actor | str,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> Order:
        """The seller declines the order."""
        command = c.Decline(reason=reason)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def withdraw(
        self,
        order_id: str,
        *,
        by: Actor | str,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> Order:
        """The buyer withdraws the order before it is accepted."""
        command = c.Withdraw(reason=reason)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def deliver(
        self,
        order_id: str,
        *,
        by: Actor | str,
        files: Iterable[Upload] = (),
        outside: bool = False,
        note: str = "",
        idempotency_key: str | None = None,
    ) -> Order:
        """The seller delivers files (paths or ``(name, bytes)``), or ``outside=True``."""
        command = c.Deliver(files=files, outside=outside, note=note)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def approve(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> Order:
        """The buyer approves the delivery; the order completes."""
        return self.execute(order_id, c.Approve(), by=by, idempotency_key=idempotency_key)

    def request_revision(
        self, order_id: str, *, by: Actor | str, note: str, idempotency_key: str | None = None
    ) -> Order:
        """The buyer asks for a revision."""
        command = c.RequestRevision(note=note)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def propose_update(
        self,
        order_id: str,
        *,
        by: Actor | str,
        price: Money | str | int | None = None,
        due_at: object = None,
        revisions: int | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        """Propose new contract terms; a plain amount is in the contract's currency."""
        when = None if due_at is None else to_instant(due_at, "due_at")
        command = c.ProposeUpdate(price=price, due_at=when, revisions=revisions)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def accept_update(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> Order:
        """The other party accepts the open proposal."""
        return self.execute(order_id, c.AcceptUpdate(), by=by, idempotency_key=idempotency_key)

    def reject_update(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> Order:
        """The other party rejects the open proposal."""
        return self.execute(order_id, c.RejectUpdate(), by=by, idempotency_key=idempotency_key)

    def withdraw_update(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> Order:
        """The proposer withdraws the open proposal."""
        command = c.WithdrawUpdate()
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def dispute(
        self, order_id: str, *, by: Actor | str, reason: str, idempotency_key: str | None = None
    ) -> Order:
        """A party disputes the order; the CX team is alerted."""
        command = c.Dispute(reason=reason)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def join(self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None) -> Order:
        """A CX agent joins the conversation."""
        return self.execute(order_id, c.Join(), by=by, idempotency_key=idempotency_key)

    def resolve(
        self,
        order_id: str,
        *,
        by: Actor | str,
        outcome: str,
        note: str,
        idempotency_key: str | None = None,
    ) -> Order:
        """The CX agent who joined resolves the dispute: resume, complete or cancel."""
        command = c.Resolve(outcome=outcome, note=note)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def cancel(
        self, order_id: str, *, by: Actor | str, reason: str, idempotency_key: str | None = None
    ) -> Order:
        """A party cancels the order when the rules allow; the CX team is alerted."""
        command = c.Cancel(reason=reason)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def say(
        self,
        order_id: str,
        *,
        by: Actor | str,
        text: str = "",
        files: Iterable[Upload] = (),
        idempotency_key: str | None = None,
    ) -> Order:
        """Post a chat message, with optional files."""
        command = c.Say(text=text, files=files)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    # -- queries -------------------------------------------------------------------

    def get(self, order_id: str) -> Order:
        """The order; ``OrderNotFound`` if there is none."""
        return self.store.load(check_id("order_id", order_id))

    def history(self, order_id: str) -> list[Event]:
        """The order's events, oldest first."""
        return self.store.history(check_id("order_id", order_id))

    def actions(
        self, order_id: str, *, viewer: Actor | str, tz: str = "UTC"
    ) -> list[api.ActionOption]:
        """Every action as ``viewer`` sees it now: available, or why not."""
        order = self.get(order_id)
        return api.options(
            order, actor=self._actor(order, viewer), now=self._now(), policy=self.policy, tz=tz
        )

    def next_step(self, order_id: str, *, viewer: Actor | str, tz: str = "UTC") -> str:
        """The chatbot's prompt for ``viewer`` now."""
        order = self.get(order_id)
        return next_step(
            order, actor=self._actor(order, viewer), now=self._now(), policy=self.policy, tz=tz
        )

    # -- chat and inbox ------------------------------------------------------------

    def _reader(self, order: Order, viewer: Actor | str) -> Actor:
        """The viewer, if they may read the order's chat: buyer, seller, a CX agent who joined."""
        actor = self._actor(order, viewer)
        api.check_participant(order, actor, self.policy)
        if actor.role is Role.cx_agent and actor.id not in order.agents:
            raise NotAParticipant(
                order.id,
                actor.id,
                f"CX agent {actor.id} reads order {order.id}'s chat after joining it.",
            )
        if actor.role is Role.system:
            raise NotAParticipant(order.id, actor.id, "The system does not read chats.")
        return actor

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
        order = self.get(order_id)
        actor = self._reader(order, viewer)
        zone = check_zone(tz)
        after = 0 if since is None else check_count("since", since, maximum=2**62)
        entries = [entry(event, tz=zone) for event in self.store.history(order.id, after)]
        if next_step:
            prompt = self.next_step(order.id, viewer=actor, tz=zone)
            entries.append(ChatEntry(0, self._now(), NEXT_STEP_KIND, None, prompt))
        return entries

    def view(self, order_id: str, *, viewer: Actor | str, tz: str = "UTC") -> OrderView:
        """Everything a page about one order shows its viewer, from one read of the order:
        the order, the viewer's actions, the chatbot's prompt and the chat (``None`` for a
        CX agent who has not joined yet and so may not read it)."""
        order = self.get(order_id)
        actor = self._actor(order, viewer)
        zone = check_zone(tz)
        now = self._now()
        options = api.options(order, actor=actor, now=now, policy=self.policy, tz=zone)
        prompt = next_step(order, actor=actor, now=now, policy=self.policy, tz=zone)
        chat: list[ChatEntry] | None = None
        if actor.role is not Role.cx_agent or actor.id in order.agents:
            self._reader(order, actor)
            history = self.store.history(order.id)
            chat = [entry(e, tz=zone) for e in history if e.seq <= order.version]
        return OrderView(order, actor, options, prompt, chat)

    def inbox(self, user: str, *, tz: str = "UTC") -> list[Conversation]:
        """Every conversation ``user`` takes part in, newest activity first."""
        user = check_id("user", user)
        zone = check_zone(tz)
        return conversations_of(self.store.conversations(user), user, zone, self._last_event)

    def _last_event(self, order_id: str, version: int) -> Event | None:
        found = self.store.history(order_id, version - 1)
        return found[0] if found else None  # the event at ``version``

    def mark_read(self, order_id: str, *, by: Actor | str) -> None:
        """``by`` has read the order's chat up to its newest entry (records no event)."""
        order = self.get(order_id)
        actor = self._reader(order, by)
        self.store.mark_read(order.id, actor.id, order.version)

    # -- notifications and timers ----------------------------------------------------

    def relay(self, limit: int = 100, *, now: object = None) -> RelayReport:
        """Deliver pending notifications through the notifier: at least once, in order per
        order and recipient, retried with exponential back-off, dead after
        ``Policy.max_delivery_attempts`` failures. Safe to run in several workers."""
        if self.notifier is None:
            raise ValidationError(
                "notifier", "this desk has no notifier; open it with notifier=..."
            )
        limit = check_count("limit", limit, minimum=1, maximum=1_000_000)
        instant = self._now() if now is None else to_instant(now, "now")
        return relay(self.store, self.notifier, self.policy, instant, limit)

    def tick(self, now: object = None, *, limit: int = 1000) -> list[Event]:
        """Fire every timer due at ``now`` (default: the clock), one transaction per timer.

        Safe to run in several workers at once: each timer fires once. Returns the events
        fired, in the order they were fired.
        """
        instant = self._now() if now is None else to_instant(now, "now")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError("limit", "must be a whole number of at least 1")
        return tick(self.store, self.policy, instant, limit)


def _with_files(command: c.Command, files: tuple[Attachment, ...]) -> c.Command:
    """``command`` (one that carries files) with these attachments instead."""
    changes: dict[str, object] = {"files": files}
    return attrs.evolve(command, **changes)
