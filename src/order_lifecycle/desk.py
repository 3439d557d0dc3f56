"""``OrderDesk``: the application service, the one entry point for host applications.

Each command is load → ``core.decide`` → save, as one transaction; a conflicting
concurrent write is retried a bounded number of times by deciding again on the fresh
order (so a racing command that is no longer allowed ends as ``ActionNotAvailable``).

>>> from order_lifecycle import OrderDesk, Listing, Money, ManualClock
>>> import pendulum
>>> desk = OrderDesk.open("memory://", clock=ManualClock(pendulum.datetime(2026, 12, 1, 10)))
>>> listing = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)
>>> order = desk.place(buyer="alice", seller="bob", listing=listing)
>>> desk.accept(order.id, by="bob").state
<OrderState.accepted: 'accepted'>
"""

from __future__ import annotations

import hashlib
import mimetypes
import pathlib
import stat
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import pendulum

from order_lifecycle import serde
from order_lifecycle.clock import Clock, SystemClock
from order_lifecycle.core import api, replay, values
from order_lifecycle.core import commands as c
from order_lifecycle.core.events import Event
from order_lifecycle.core.model import (
    Action,
    Actor,
    Attachment,
    Listing,
    Money,
    Order,
    OrderState,
    Policy,
    Role,
)
from order_lifecycle.core.values import check_count, check_id, check_text, to_instant
from order_lifecycle.errors import (
    ActionNotAvailable,
    ConcurrencyConflict,
    NotAParticipant,
    ValidationError,
)
from order_lifecycle.ports import (
    BlobStore,
    ConversationRow,
    Envelope,
    IdempotencyRecord,
    Notification,
    Notifier,
    Participant,
    Store,
    Write,
)
from order_lifecycle.views import BOT, ChatEntry, Conversation, OrderView, RelayReport, entry

__all__ = ["CX_TEAM", "OrderDesk", "notifications_for", "open_store"]

#: The recipient name of notifications addressed to the whole CX team.
CX_TEAM: Final = "cx_team"
#: How many times a command is decided again after a concurrent write.
MAX_ATTEMPTS: Final = 8
#: How long a relay holds the notifications it claimed before another may take them.
RELAY_LEASE: Final = pendulum.duration(minutes=2)
#: Events that alert the CX team.
_ALERTS_CX: Final = frozenset({"order_disputed", "order_cancelled"})

FileArg = pathlib.Path | str | tuple[str, bytes]


def _mask(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url


def open_store(url: str) -> tuple[Store, BlobStore]:
    """The store and default blob store for a storage URL."""
    if not isinstance(url, str):
        raise ValidationError("url", "must be a storage URL such as sqlite:///orders.db")
    from order_lifecycle.adapters.files import FileSystemBlobs, MemoryBlobs

    scheme = url.split(":", 1)[0].lower()
    if url in ("memory://", "memory:"):
        from order_lifecycle.adapters.memory import MemoryStore

        return MemoryStore(), MemoryBlobs()
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or len(url) <= len("sqlite:///"):
            raise ValidationError(
                "url", f"{url!r}: use sqlite:///relative/path.db or sqlite:////absolute/path.db"
            )
        from order_lifecycle.adapters.sqlite import SQLiteStore

        path = url[len("sqlite:///") :]
        return SQLiteStore(path), FileSystemBlobs(f"{path}.files")
    if scheme in ("postgresql", "postgres"):
        from order_lifecycle.adapters.postgres import PostgresStore

        store = PostgresStore(url)
        from order_lifecycle.adapters.postgres import PostgresBlobs

        return store, PostgresBlobs(store)
    raise ValidationError(
        "url",
        f"{_mask(url)!r} is not a storage URL: use memory://, sqlite:///path or postgresql://...",
    )


def notifications_for(order: Order, events: Sequence[Event]) -> tuple[Notification, ...]:
    """The outbox rows of ``events``, given the order as they left it.

    Each event goes to every participant but the one who caused it (the buyer, the seller
    and the CX agents who joined), and disputes and cancellations also to ``cx_team``.
    """
    result: list[Notification] = []
    for event in events:
        targets: list[tuple[str, Role]] = [(order.buyer, Role.buyer), (order.seller, Role.seller)]
        targets += [(agent, Role.cx_agent) for agent in order.agents]
        for user, role in targets:
            if user != event.actor.id or role is not event.actor.role:
                result.append(Notification(order.id, event.seq, user, role, event.kind))
        if event.kind in _ALERTS_CX:
            result.append(Notification(order.id, event.seq, CX_TEAM, Role.cx_agent, event.kind))
    return tuple(result)


def _fingerprint(action: str, order_id: str, actor: str, args: Mapping[str, Any]) -> str:
    # repr, not JSON: it takes any value a caller may pass (recursive lists included) and
    # is the same for equal arguments; invalid ones are refused later anyway.
    text = repr((action, order_id, actor, sorted(args.items())))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _fingerprint_for(
    key: str | None, action: str, order_id: str, actor: str, args: Callable[[], Mapping[str, Any]]
) -> str:
    """The command's fingerprint for its idempotency key; without a key, none is needed
    (and the arguments, file contents included, are not hashed)."""
    return "" if key is None else _fingerprint(action, order_id, actor, args())


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

    # -- helpers -------------------------------------------------------------------

    def _now(self) -> pendulum.DateTime:
        return to_instant(self.clock.now(), "clock")

    def _actor(self, order: Order, who: Actor | str) -> Actor:
        if isinstance(who, Actor):
            return who
        return api.as_actor(order, who)

    def _next_timer(self, order: Order) -> pendulum.DateTime | None:
        timers = api.due_timers(order, self.policy)
        return timers[0].due_at if timers else None

    def _write(
        self,
        before: int,
        decision: api.Decision,
        idempotency: IdempotencyRecord | None = None,
    ) -> Write:
        order = decision.order
        joined = tuple(
            Participant(order.id, e.actor.id, Role.cx_agent)
            for e in decision.events
            if e.action is Action.join
        )
        if before == 0:
            joined = (
                Participant(order.id, order.buyer, Role.buyer),
                Participant(order.id, order.seller, Role.seller),
            )
        return Write(
            order=order,
            events=decision.events,
            expected_version=before,
            next_timer_at=self._next_timer(order),
            notifications=notifications_for(order, decision.events),
            participants=joined,
            idempotency=idempotency,
        )

    def _replayed(self, record: IdempotencyRecord) -> Order:
        current = self.store.load(record.order_id)
        if current.version == record.version:
            return current
        history = self.store.history(record.order_id)
        return replay.replay(history, policy=self.policy, upto=record.version)

    def _idempotent(self, key: str | None, fingerprint: str) -> Order | None:
        if key is None:
            return None
        check_text("idempotency_key", key, max_chars=200, multiline=False)
        record = self.store.idempotency(key)
        if record is None:
            return None
        if record.fingerprint != fingerprint:
            raise ValidationError(
                "idempotency_key",
                f"{key!r} was already used for a different command; use a new key",
            )
        return self._replayed(record)

    def _run(
        self,
        order_id: str,
        by: Actor | str,
        command: c.Command,
        args: Mapping[str, Any],
        idempotency_key: str | None,
        *,
        fingerprint: str | None = None,
    ) -> Order:
        check_id("order_id", order_id)
        who = by if isinstance(by, Actor) else check_id("by", by)
        if fingerprint is None:
            fingerprint = _fingerprint_for(
                idempotency_key, str(command.action), order_id, str(who), lambda: args
            )
        first = self._idempotent(idempotency_key, fingerprint)
        if first is not None:
            return first
        for _ in range(MAX_ATTEMPTS):
            order = self.store.load(order_id)
            actor = self._actor(order, who)
            decision = api.decide(order, command, actor=actor, now=self._now(), policy=self.policy)
            record = (
                None
                if idempotency_key is None
                else IdempotencyRecord(
                    idempotency_key, fingerprint, order_id, decision.order.version
                )
            )
            try:
                self.store.write(self._write(order.version, decision, record))
            except ConcurrencyConflict:
                first = self._idempotent(idempotency_key, fingerprint)
                if first is not None:
                    return first
                continue
            return decision.order
        raise ConcurrencyConflict(
            order_id,
            -1,
            f"Order {order_id!r} kept changing under {MAX_ATTEMPTS} attempts; try again.",
        )

    def _read_files(self, files: object) -> list[tuple[str, bytes, str]]:
        """The files of a command as (name, content, media type), checked; nothing stored."""
        if isinstance(files, (str, bytes, pathlib.Path)) or not isinstance(files, Iterable):
            raise ValidationError("files", "must be a list of paths or (name, bytes) pairs")
        items = list(files)
        if len(items) > self.policy.max_files:
            raise ValidationError(
                "files", f"holds {len(items)} files; the limit is {self.policy.max_files}"
            )
        limit = self.policy.max_file_bytes
        loaded: list[tuple[str, bytes, str]] = []
        for item in items:
            if isinstance(item, (str, pathlib.Path)):
                name, data = _read_path(pathlib.Path(item), limit)
            elif (
                isinstance(item, tuple)
                and len(item) == 2
                and isinstance(item[0], str)
                and isinstance(item[1], (bytes, bytearray))
            ):
                name, data = item[0], bytes(item[1])
            else:
                raise ValidationError("files", "each file is a path or a (name, bytes) pair")
            check_text("file.name", name, max_chars=255, multiline=False)
            if len(data) > limit:
                raise ValidationError(
                    "files", f"{name!r} is {len(data):,} bytes; the limit is {limit:,}"
                )
            media = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
            allowed = self.policy.allowed_media_types
            if allowed is not None and media not in allowed:
                raise ValidationError(
                    "files", f"{name!r} is {media}, which this marketplace does not accept"
                )
            loaded.append((name, data, media))
        return loaded

    def _store_files(
        self,
        order_id: str,
        by: Actor | str,
        files: object,
        command: Callable[[tuple[Attachment, ...]], c.Command],
    ) -> tuple[Attachment, ...]:
        """Check the whole command first (participant, availability, every argument) with
        the files described but not stored; store them only when it would go through."""
        if isinstance(files, (list, tuple)) and not files:
            return ()
        order = self.store.load(check_id("order_id", order_id))
        actor = self._actor(order, by)
        api.check_participant(order, actor, self.policy)
        option = next(
            o
            for o in api.options(order, actor=actor, now=self._now(), policy=self.policy)
            if o.action is command(()).action
        )
        if not option.available:
            raise ActionNotAvailable(str(option.action), option.reason or "", order.id)
        loaded = self._read_files(files)
        described = tuple(
            Attachment(name, len(data), media, hashlib.sha256(data).hexdigest(), "pending:")
            for name, data, media in loaded
        )
        api.decide(order, command(described), actor=actor, now=self._now(), policy=self.policy)
        return tuple(self.blobs.put(name, data, media) for name, data, media in loaded)

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
        fingerprint = _fingerprint_for(
            idempotency_key,
            "place",
            "",
            str(buyer),
            lambda: {
                "buyer": buyer,
                "seller": seller,
                "listing": repr(listing),
                "answers": dict(answers or {}) if isinstance(answers, Mapping) else repr(answers),
                "order_id": order_id,
            },
        )
        first = self._idempotent(idempotency_key, fingerprint)
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
        record = (
            None
            if idempotency_key is None
            else IdempotencyRecord(idempotency_key, fingerprint, decision.order.id, 1)
        )
        try:
            self.store.write(self._write(0, decision, record))
        except ConcurrencyConflict:
            first = self._idempotent(idempotency_key, fingerprint)
            if first is not None:
                return first
            raise
        return decision.order

    def accept(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> Order:
        """The seller accepts the order."""
        return self._run(order_id, by, c.Accept(), {}, idempotency_key)

    def decline(
        self,
        order_id: str,
        *,
        by: Actor | str,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> Order:
        """The seller declines the order."""
        return self._run(
            order_id, by, c.Decline(reason=reason), {"reason": reason}, idempotency_key
        )

    def withdraw(
        self,
        order_id: str,
        *,
        by: Actor | str,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> Order:
        """The buyer withdraws the order before it is accepted."""
        return self._run(
            order_id, by, c.Withdraw(reason=reason), {"reason": reason}, idempotency_key
        )

    def deliver(
        self,
        order_id: str,
        *,
        by: Actor | str,
        files: Iterable[FileArg] = (),
        outside: bool = False,
        note: str = "",
        idempotency_key: str | None = None,
    ) -> Order:
        """The seller delivers files (paths or ``(name, bytes)``), or ``outside=True``."""
        files = list(files) if isinstance(files, (list, tuple)) else files
        fingerprint = _fingerprint_for(
            idempotency_key,
            "deliver",
            order_id,
            str(by),
            lambda: {"files": _file_key(files), "outside": outside, "note": note},
        )
        first = self._idempotent(idempotency_key, fingerprint)
        if first is not None:
            return first
        stored = self._store_files(
            order_id,
            by,
            files,
            lambda described: c.Deliver(files=described, outside=outside, note=note),
        )
        command = c.Deliver(files=stored, outside=outside, note=note)
        return self._run(order_id, by, command, {}, idempotency_key, fingerprint=fingerprint)

    def approve(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> Order:
        """The buyer approves the delivery; the order completes."""
        return self._run(order_id, by, c.Approve(), {}, idempotency_key)

    def request_revision(
        self, order_id: str, *, by: Actor | str, note: str, idempotency_key: str | None = None
    ) -> Order:
        """The buyer asks for a revision."""
        return self._run(
            order_id, by, c.RequestRevision(note=note), {"note": note}, idempotency_key
        )

    def propose_update(
        self,
        order_id: str,
        *,
        by: Actor | str,
        price: Money | str | int | Any = None,
        due_at: object = None,
        revisions: int | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        """Propose new contract terms; a plain amount is in the contract's currency."""
        if price is not None and not isinstance(price, Money):
            order = self.store.load(check_id("order_id", order_id))
            try:
                price = Money(price, order.contract.price.currency)
            except ValidationError as error:
                raise ValidationError("price", error.message) from None
        when = None if due_at is None else to_instant(due_at, "due_at")
        command = c.ProposeUpdate(price=price, due_at=when, revisions=revisions)
        args = {"price": repr(price), "due_at": repr(when), "revisions": repr(revisions)}
        return self._run(order_id, by, command, args, idempotency_key)

    def accept_update(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> Order:
        """The other party accepts the open proposal."""
        return self._run(order_id, by, c.AcceptUpdate(), {}, idempotency_key)

    def reject_update(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> Order:
        """The other party rejects the open proposal."""
        return self._run(order_id, by, c.RejectUpdate(), {}, idempotency_key)

    def withdraw_update(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> Order:
        """The proposer withdraws the open proposal."""
        return self._run(order_id, by, c.WithdrawUpdate(), {}, idempotency_key)

    def dispute(
        self, order_id: str, *, by: Actor | str, reason: str, idempotency_key: str | None = None
    ) -> Order:
        """A party disputes the order; the CX team is alerted."""
        return self._run(
            order_id, by, c.Dispute(reason=reason), {"reason": reason}, idempotency_key
        )

    def join(self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None) -> Order:
        """A CX agent joins the conversation."""
        return self._run(order_id, by, c.Join(), {}, idempotency_key)

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
        return self._run(
            order_id, by, command, {"outcome": str(outcome), "note": note}, idempotency_key
        )

    def cancel(
        self, order_id: str, *, by: Actor | str, reason: str, idempotency_key: str | None = None
    ) -> Order:
        """A party cancels the order when the rules allow; the CX team is alerted."""
        return self._run(order_id, by, c.Cancel(reason=reason), {"reason": reason}, idempotency_key)

    def say(
        self,
        order_id: str,
        *,
        by: Actor | str,
        text: str = "",
        files: Iterable[FileArg] = (),
        idempotency_key: str | None = None,
    ) -> Order:
        """Post a chat message, with optional files."""
        files = list(files) if isinstance(files, (list, tuple)) else files
        fingerprint = _fingerprint_for(
            idempotency_key,
            "say",
            order_id,
            str(by),
            lambda: {"text": text, "files": _file_key(files)},
        )
        first = self._idempotent(idempotency_key, fingerprint)
        if first is not None:
            return first
        stored = self._store_files(
            order_id, by, files, lambda described: c.Say(text=text, files=described)
        )
        command = c.Say(text=text, files=stored)
        return self._run(order_id, by, command, {}, idempotency_key, fingerprint=fingerprint)

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
        from order_lifecycle.core.prompts import next_step

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
        zone = api._zone(tz)
        after = 0 if since is None else check_count("since", since, maximum=2**62)
        entries = [entry(event, tz=zone) for event in self.store.history(order.id, after)]
        if next_step:
            prompt = self.next_step(order.id, viewer=actor, tz=zone)
            entries.append(ChatEntry(0, self._now(), BOT, None, prompt))
        return entries

    def view(self, order_id: str, *, viewer: Actor | str, tz: str = "UTC") -> OrderView:
        """Everything a page about one order shows its viewer, from one read of the order:
        the order, the viewer's actions, the chatbot's prompt and the chat (``None`` for a
        CX agent who has not joined yet and so may not read it)."""
        order = self.get(order_id)
        actor = self._actor(order, viewer)
        zone = api._zone(tz)
        now = self._now()
        options = api.options(order, actor=actor, now=now, policy=self.policy, tz=zone)
        from order_lifecycle.core.prompts import next_step

        prompt = next_step(order, actor=actor, now=now, policy=self.policy, tz=zone)
        chat: list[ChatEntry] | None = None
        if actor.role is not Role.cx_agent or actor.id in order.agents:
            self._reader(order, actor)
            history = self.store.history(order.id)
            chat = [entry(e, tz=zone) for e in history if e.seq <= order.version]
        return OrderView(order, actor, options, prompt, chat)

    def inbox(self, user: str, *, tz: str = "UTC") -> list[Conversation]:
        """Every conversation ``user`` takes part in, newest activity first."""
        from order_lifecycle.ports import InboxStore

        user = check_id("user", user)
        zone = api._zone(tz)
        if isinstance(self.store, InboxStore):  # the SQL stores: the same, built for less
            return self.store.inbox(user, zone)
        return conversations_of(self.store.conversations(user), user, zone)

    def mark_read(self, order_id: str, *, by: Actor | str) -> None:
        """``by`` has read the order's chat up to its newest entry (records no event)."""
        order = self.get(order_id)
        actor = self._reader(order, by)
        self.store.mark_read(order.id, actor.id, order.version)

    # -- notifications -------------------------------------------------------------

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
        sent = retried = dead = 0
        while sent + retried + dead < limit:
            batch = min(100, limit - (sent + retried + dead))
            items = self.store.claim_outbox(instant, batch, RELAY_LEASE)
            if not items:
                break
            for item in items:
                envelope = Envelope(
                    id=item.id,
                    order_id=item.order_id,
                    seq=item.seq,
                    recipient=item.recipient,
                    role=item.role,
                    kind=item.kind,
                    event=serde.event_to_dict(item.event),
                    text=entry(item.event).text,
                    attempt=item.attempts + 1,
                )
                try:
                    self.notifier.send(envelope)
                except Exception as error:
                    attempts = item.attempts + 1
                    reason = f"{type(error).__name__}: {error}"[:2000]
                    if attempts >= self.policy.max_delivery_attempts:
                        self.store.finish_outbox(item.id, sent=False, error=reason, retry_at=None)
                        dead += 1
                    else:
                        retry_at = values.shift(instant, self.policy.retry_delay(attempts))
                        self.store.finish_outbox(
                            item.id, sent=False, error=reason, retry_at=retry_at
                        )
                        retried += 1
                else:
                    self.store.finish_outbox(item.id, sent=True, error=None, retry_at=None)
                    sent += 1
        return RelayReport(sent, retried, dead)

    # -- timers --------------------------------------------------------------------

    def tick(self, now: object = None, *, limit: int = 1000) -> list[Event]:
        """Fire every timer due at ``now`` (default: the clock), one transaction per timer.

        Safe to run in several workers at once: each timer fires once. Returns the events
        fired, in the order they were fired.
        """
        instant = self._now() if now is None else to_instant(now, "now")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError("limit", "must be a whole number of at least 1")
        fired: list[Event] = []
        for _ in range(limit):
            try:
                write = self.store.fire_next_due(instant, lambda o: self._fire(o, instant))
            except ConcurrencyConflict:
                continue  # another worker moved that order first; look again
            if write is None:
                break
            fired.extend(write.events)
        return fired

    def _fire(self, order: Order, now: pendulum.DateTime) -> Write:
        due = [t for t in api.due_timers(order, self.policy) if t.due_at <= now]
        if not due:
            return Write(order, (), order.version, self._next_timer(order))
        decision = api.fire(order, due[0].timer, now=now, policy=self.policy)
        return self._write(order.version, decision)


def _read_path(path: pathlib.Path, limit: int) -> tuple[str, bytes]:
    """A regular file's name and content, read no further than ``limit`` + 1 bytes."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ValidationError("files", f"{str(path)!r} is not a regular file")
        if info.st_size > limit:
            raise ValidationError(
                "files", f"{path.name!r} is {info.st_size:,} bytes; the limit is {limit:,}"
            )
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except (OSError, ValueError) as error:  # ValueError: NUL bytes, unencodable names
        raise ValidationError("files", f"cannot read {str(path)!r}: {error}") from None
    return path.name, data


def conversations_of(found: Iterable[ConversationRow], user: str, tz: str) -> list[Conversation]:
    """``user``'s inbox in zone ``tz`` from a store's ``conversations(user)`` rows: what
    ``OrderDesk.inbox`` returns for a store that does not list it itself (``InboxStore``)."""
    result: list[Conversation] = []
    for row in found:
        if row.role is Role.cx_agent:
            counterpart = f"{row.buyer} / {row.seller}"
        else:
            counterpart = row.seller if row.role is Role.buyer else row.buyer
        result.append(
            Conversation(
                order_id=row.order_id,
                title=row.title,
                state=OrderState(row.state),
                counterpart=counterpart,
                unread=row.unread,
                action_waiting=user in row.waiting,
                last=_last(row, tz),
            )
        )
    return result


def _last(row: ConversationRow, tz: str) -> ChatEntry | None:
    if row.last_entry is not None and tz == "UTC":
        return row.last_entry
    event = row.last_event()
    return None if event is None else entry(event, tz=tz)


def _file_key(files: object) -> object:
    if not isinstance(files, list):
        return repr(files)
    keys: list[object] = []
    for item in files:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], (bytes, bytearray)):
            keys.append([item[0], hashlib.sha256(bytes(item[1])).hexdigest()])
        else:
            keys.append(str(item))
    return keys
