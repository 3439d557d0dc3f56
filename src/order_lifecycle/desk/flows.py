"""What every desk command and query does, written once, without doing any I/O.

Each flow is a generator: it yields a :class:`Call` (a store, blob store or notifier
method by name, with its arguments) whenever it needs the outside world, and receives
the result (or has the exception thrown back in). :class:`~order_lifecycle.OrderDesk`
runs the calls directly; :class:`~order_lifecycle.AsyncOrderDesk` awaits them. So the
decision logic, idempotency, retries on conflicts, file intake, the inbox, ``tick`` and
``relay`` exist once for both.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Mapping
from types import MappingProxyType
from typing import Any, Final, TypeVar, cast

import attrs
import pendulum

from order_lifecycle import stats
from order_lifecycle.core import api, replay
from order_lifecycle.core import commands as c
from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Actor, Attachment, Listing, Order, Policy, Role
from order_lifecycle.core.prompts import next_step
from order_lifecycle.core.values import check_count, check_id, check_text, check_zone, shown
from order_lifecycle.desk import files as intake
from order_lifecycle.desk.inbox import conversations_of
from order_lifecycle.desk.relay import RELAY_LEASE, envelope_of
from order_lifecycle.desk.timers import fire_due
from order_lifecycle.desk.writes import command_fingerprint, fingerprint, write_for
from order_lifecycle.errors import (
    ActionNotAvailable,
    ConcurrencyConflict,
    NotAParticipant,
    OrderLifecycleError,
    ValidationError,
)
from order_lifecycle.ports import (
    ConversationRow,
    FactsRow,
    FeedItem,
    IdempotencyRecord,
    OrderFacts,
    OutboxRow,
    Write,
)
from order_lifecycle.views import (
    NEXT_STEP_KIND,
    ChatEntry,
    Conversation,
    OrderView,
    RelayReport,
    entry,
)

__all__ = ["MAX_ATTEMPTS", "Call", "Flow", "Settings"]

T = TypeVar("T")

#: How many times a command is decided again after a concurrent write.
MAX_ATTEMPTS: Final = 16
#: The pause before deciding again after losing a race on an order read from the store:
#: at random up to ``BACKOFF_BASE * 2**n`` seconds after the n-th loss, at most
#: ``BACKOFF_CAP`` (full jitter: writers that keep meeting on one order spread out
#: instead of meeting again; losing on a cached order first retries at once).
BACKOFF_BASE: Final = 0.0005
BACKOFF_CAP: Final = 0.05


def backoff(losses: int) -> float:
    """Seconds to pause after the ``losses``-th lost race on one command."""
    return random.uniform(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2**losses))  # noqa: S311 - jitter


@attrs.frozen
class Call:
    """A call a flow needs made: ``name`` of the desk's outside world (its store's port
    methods, ``read_files``, ``put_files``, ``send``, ``pause`` for a number of seconds),
    with positional ``args``."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = attrs.field(default=MappingProxyType({}))


#: A flow: yields calls, receives their results, returns its answer.
Flow = Generator[Call, Any, T]


@attrs.frozen
class Settings:
    """What a desk decides with: its policy, its clock (read when a flow needs now), and
    the order its store last committed or read in this process (``recent``: no I/O, so
    a flow asks it directly instead of yielding a call)."""

    policy: Policy
    now: Callable[[], pendulum.DateTime]
    recent: Callable[[str], Order | None] = lambda _: None


def load(order_id: str) -> Flow[Order]:
    """The order as last written."""
    return cast(Order, (yield Call("load", (order_id,))))


def recent(store: object, order_id: str) -> Order | None:
    """The order as ``store`` last committed or read it in this process, if it keeps
    such a cache (``recent``, no I/O); ``None`` otherwise. Possibly stale: a command
    decided on it is written with its version checked, and decided again on the order
    read from the store if that write conflicts or the decision is refused."""
    found: Callable[[str], Order | None] | None = getattr(store, "recent", None)
    return None if found is None else found(order_id)


def history(order_id: str, since: int = 0) -> Flow[list[Event]]:
    """The order's events after ``since``."""
    return cast(list[Event], (yield Call("history", (order_id, since))))


# -- commands ------------------------------------------------------------------------


def execute(
    s: Settings, order_id: str, command: c.Command, by: Actor | str, key: str | None
) -> Flow[Order]:
    """``OrderDesk.execute``: participant, availability, arguments; files stored once the
    command would go through; decided again on a concurrent write; idempotent by key."""
    if not isinstance(command, c.Command) or not hasattr(command, "action"):
        raise ValidationError("command", f"must be a core command, not {type(command).__name__}")
    check_id("order_id", order_id)
    who = by if isinstance(by, Actor) else check_id("by", by)
    print_ = "" if key is None else command_fingerprint(order_id, who, command)
    if key is not None:
        first = yield from _idempotent(s, key, print_)
        if first is not None:
            return first
    if intake.needs_intake(command):
        command = yield from _take_files(s, order_id, who, command)
    cached = True  # first decide on the order this process last saw, if it holds one
    losses = 0
    for _ in range(MAX_ATTEMPTS):
        order = s.recent(order_id) if cached else None
        if order is None:
            cached = False
            order = yield from load(order_id)
        try:
            actor = api.as_actor(order, who)
            decision = api.decide(order, command, actor=actor, now=s.now(), policy=s.policy)
        except OrderLifecycleError as refused:
            if not cached:
                # The same key may have won meanwhile (a retry racing its first try,
                # committed after the lookup above): its result is the answer.
                first = yield from _idempotent(s, key, print_)
                if first is not None:
                    return first
                raise refused
            cached = False  # maybe only stale: the answer is the current order's
            continue
        record = (
            None
            if key is None
            else IdempotencyRecord(key, print_, order_id, decision.order.version)
        )
        try:
            yield Call("write", (write_for(order.version, decision, s.policy, record),))
        except ConcurrencyConflict:
            first = yield from _idempotent(s, key, print_)
            if first is not None:
                return first
            if not cached:  # lost to another writer on the order as stored: spread out
                losses += 1
                yield Call("pause", (backoff(losses),))
            cached = False
            continue
        return decision.order
    raise ConcurrencyConflict(
        order_id, -1, f"Order {order_id!r} kept changing under {MAX_ATTEMPTS} attempts; try again."
    )


def place(
    s: Settings,
    *,
    buyer: str,
    seller: str,
    listing: Listing,
    answers: Mapping[str, str] | None,
    key: str | None,
    order_id: str | None,
) -> Flow[Order]:
    """``OrderDesk.place``: a new pending order, idempotent by key."""
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
    first = yield from _idempotent(s, key, print_)
    if first is not None:
        return first
    decision = api.place(
        buyer=buyer,
        seller=seller,
        listing=listing,
        answers=answers,
        now=s.now(),
        policy=s.policy,
        order_id=order_id,
    )
    record = None if key is None else IdempotencyRecord(key, print_, decision.order.id, 1)
    try:
        yield Call("write", (write_for(0, decision, s.policy, record),))
    except ConcurrencyConflict as conflict:
        first = yield from _idempotent(s, key, print_)
        if first is not None:
            return first
        if order_id is None:  # a generated id met another: a race a retry may win
            raise
        # The caller's id is another order's: no retry can succeed.
        raise ValidationError(
            "order_id", f"{shown(order_id)} is already the id of another order; give a new one"
        ) from conflict
    return decision.order


def _take_files(
    s: Settings, order_id: str, who: Actor | str, command: c.Command
) -> Flow[c.Command]:
    """Check the whole command first (participant, availability, every argument) with
    the files described but not stored; store them only when it would go through."""
    files = getattr(command, "files", ())
    if isinstance(files, tuple) and not files:
        return command
    order = yield from load(order_id)
    actor = api.as_actor(order, who)
    api.check_participant(order, actor, s.policy)
    option = next(
        o
        for o in api.options(order, actor=actor, now=s.now(), policy=s.policy)
        if o.action is command.action
    )
    if not option.available:
        raise ActionNotAvailable(str(option.action), option.reason or "", order.id)
    loaded: list[Attachment | intake.Loaded] = yield Call("read_files", (files,))
    described = _with_files(command, intake.describe(loaded))
    api.decide(order, described, actor=actor, now=s.now(), policy=s.policy)
    stored: tuple[Attachment, ...] = yield Call("put_files", (loaded,))
    return _with_files(command, stored)


def _with_files(command: c.Command, files: tuple[Attachment, ...]) -> c.Command:
    """``command`` (one that carries files) with these attachments instead."""
    changes: dict[str, object] = {"files": files}
    return attrs.evolve(command, **changes)


def _idempotent(s: Settings, key: str | None, print_: str) -> Flow[Order | None]:
    """The first result of the command sent with ``key``, if there was one."""
    if key is None:
        return None
    check_text("idempotency_key", key, max_chars=200, multiline=False)
    record: IdempotencyRecord | None = yield Call("idempotency", (key,))
    if record is None:
        return None
    if record.fingerprint != print_:
        raise ValidationError(
            "idempotency_key", f"{key!r} was already used for a different command; use a new key"
        )
    current = yield from load(record.order_id)
    if current.version == record.version:
        return current
    events = yield from history(record.order_id)
    # As the history was written, not under today's policy (another CX team, windows).
    return replay.replay(events, policy=replay.written_under(events, s.policy), upto=record.version)


# -- queries -------------------------------------------------------------------------


def get(order_id: str) -> Flow[Order]:
    """``OrderDesk.get``."""
    return (yield from load(check_id("order_id", order_id)))


def events_of(order_id: str) -> Flow[list[Event]]:
    """``OrderDesk.history``."""
    return (yield from history(check_id("order_id", order_id)))


#: The most events one ``feed`` call returns.
MAX_FEED: Final = 10_000


def feed(after: int, limit: int) -> Flow[list[FeedItem]]:
    """The events after position ``after``, at most ``limit`` of them."""
    after = check_count("after", after, maximum=2**63 - 1)
    limit = check_count("limit", limit, minimum=1, maximum=MAX_FEED)
    return cast(list[FeedItem], (yield Call("feed", (after, limit))))


def actions(
    s: Settings, order_id: str, viewer: Actor | str, tz: str
) -> Flow[list[api.ActionOption]]:
    """``OrderDesk.actions``."""
    order = yield from get(order_id)
    return api.options(
        order, actor=api.as_actor(order, viewer), now=s.now(), policy=s.policy, tz=tz
    )


def prompt(s: Settings, order_id: str, viewer: Actor | str, tz: str) -> Flow[str]:
    """``OrderDesk.next_step``."""
    order = yield from get(order_id)
    return next_step(order, actor=api.as_actor(order, viewer), now=s.now(), policy=s.policy, tz=tz)


def _reader(s: Settings, order: Order, viewer: Actor | str) -> Actor:
    """The viewer, if they may read the order's chat: buyer, seller, a CX agent who joined."""
    actor = api.as_actor(order, viewer)
    api.check_participant(order, actor, s.policy)
    if actor.role is Role.cx_agent and actor.id not in order.agents:
        raise NotAParticipant(
            order.id,
            actor.id,
            f"CX agent {actor.id} must join order {order.id} before reading its chat.",
        )
    if actor.role is Role.system:
        raise NotAParticipant(order.id, actor.id, "The system does not read chats.")
    return actor


def chat(
    s: Settings,
    order_id: str,
    viewer: Actor | str,
    *,
    since: int | None,
    tz: str,
    with_prompt: bool,
) -> Flow[list[ChatEntry]]:
    """``OrderDesk.chat``."""
    order = yield from get(order_id)
    actor = _reader(s, order, viewer)
    zone = check_zone(tz)
    after = 0 if since is None else check_count("since", since, maximum=2**62)
    found = yield from history(order.id, after)
    entries = [entry(event, tz=zone) for event in found]
    if with_prompt:
        now = s.now()
        text = next_step(order, actor=actor, now=now, policy=s.policy, tz=zone)
        entries.append(ChatEntry(0, now, NEXT_STEP_KIND, None, text))
    return entries


def view(s: Settings, order_id: str, viewer: Actor | str, tz: str) -> Flow[OrderView]:
    """``OrderDesk.view``."""
    order = yield from get(order_id)
    actor = api.as_actor(order, viewer)
    zone = check_zone(tz)
    now = s.now()
    options = api.options(order, actor=actor, now=now, policy=s.policy, tz=zone)
    text = next_step(order, actor=actor, now=now, policy=s.policy, tz=zone)
    entries: list[ChatEntry] | None = None
    if actor.role is not Role.cx_agent or actor.id in order.agents:
        _reader(s, order, actor)
        found = yield from history(order.id)
        entries = [entry(e, tz=zone) for e in found if e.seq <= order.version]
    return OrderView(_as_seen_by(order, actor), actor, options, text, entries)


def _as_seen_by(order: Order, viewer: Actor) -> Order:
    """``order`` with the reviews ``viewer`` may read: until they are published (spec §12:
    double-blind), a review shows only to the party who wrote it; the others see in the
    chat that it was left."""
    if order.reviews_published_at is not None or not order.reviews:
        return order
    own = tuple(r for r in order.reviews if r.by == viewer.id and r.role is viewer.role)
    return order if len(own) == len(order.reviews) else attrs.evolve(order, reviews=own)


def _user(who: Actor | str) -> str:
    """The user id of ``who``: an ``Actor``'s, or a text id (``cx:USER`` names CX agent
    USER, as for ``by=`` and ``viewer=``)."""
    if isinstance(who, Actor):
        return who.id
    if isinstance(who, str) and who.startswith("cx:"):
        return check_id("user", who[len("cx:") :])
    return check_id("user", who)


def inbox(user: Actor | str, tz: str) -> Flow[list[Conversation]]:
    """``OrderDesk.inbox``: the rows in one call, then the last events the rows need."""
    user = _user(user)
    zone = check_zone(tz)
    rows: list[ConversationRow] = yield Call("conversations", (user,))
    wanted = [(r.order_id, r.version) for r in rows if r.last_entry is None or zone != "UTC"]
    last: dict[tuple[str, int], Event | None] = {}
    for order_id, version in wanted:
        found = yield from history(order_id, version - 1)
        last[(order_id, version)] = found[0] if found else None  # the event at ``version``
    return conversations_of(rows, user, zone, lambda o, v: last.get((o, v)))


def reviews(user: str) -> Flow[stats.ReviewSummary]:
    """``OrderDesk.reviews``: the published reviews about ``user``."""
    user = check_id("user", user)
    found: list[Order] = yield Call("reviewed", (user,))
    return stats.summary_of(user, found)


def metrics(s: Settings, user: str, role: object, since: object) -> Flow[stats.Metrics]:
    """``OrderDesk.metrics``: the user's facts rows from the store's index, the Metrics
    computed from them here. An order written before the store kept facts gets them now,
    from its history replayed (and keeps them)."""
    user = check_id("user", user)
    as_role = stats.check_role(role)
    start = stats.since_of(since)
    rows: list[FactsRow] = yield Call("facts", (user, as_role, start))
    found: list[OrderFacts] = []
    for row in rows:
        facts = row.facts
        if facts is None:
            facts = yield from _backfill(s, row)
        found.append(facts)
    return stats.metrics_of(user, as_role, start, found)


def _backfill(s: Settings, row: FactsRow) -> Flow[OrderFacts]:
    """The facts of an order written before the store kept them: from the order and its
    history (which tells the due date in force at the first delivery)."""
    order = yield from load(row.order_id)
    events = yield from history(row.order_id)
    facts = stats.facts_of(order, first_due=stats.due_at_first_delivery(events))
    yield Call("keep_facts", (row.order_id, facts))
    return facts


def mark_read(s: Settings, order_id: str, by: Actor | str) -> Flow[None]:
    """``OrderDesk.mark_read``."""
    order = yield from get(order_id)
    actor = _reader(s, order, by)
    yield Call("mark_read", (order.id, actor.id, order.version))


# -- timers and notifications --------------------------------------------------------


def tick(s: Settings, now: object, limit: int) -> Flow[list[Event]]:
    """``OrderDesk.tick``: one transaction per timer; a timer another worker took first
    is looked for again."""
    from order_lifecycle.core.values import to_instant

    instant = s.now() if now is None else to_instant(now, "now")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValidationError("limit", "must be a whole number of at least 1")
    fired: list[Event] = []

    def fire(order: Order) -> Write:
        return fire_due(order, instant, s.policy)

    for _ in range(limit):
        try:
            write: Write | None = yield Call("fire_next_due", (instant, fire))
        except ConcurrencyConflict:
            continue  # another worker moved that order first; look again
        if write is None:
            break
        fired.extend(write.events)
    return fired


def relay(s: Settings, limit: int, now: object) -> Flow[RelayReport]:
    """``OrderDesk.relay``: at least once, retried with back-off, dead after the policy's
    number of attempts."""
    from order_lifecycle.core import values

    limit = check_count("limit", limit, minimum=1, maximum=1_000_000)
    instant = s.now() if now is None else values.to_instant(now, "now")
    policy = s.policy
    sent = retried = dead = 0
    while sent + retried + dead < limit:
        batch = min(100, limit - (sent + retried + dead))
        items: list[OutboxRow] = yield Call("claim_outbox", (instant, batch, RELAY_LEASE))
        if not items:
            break
        for item in items:
            try:
                yield Call("send", (envelope_of(item),))
            except Exception as error:  # any failure means "not delivered": retry or dead
                attempts = item.attempts + 1
                reason = f"{type(error).__name__}: {error}"[:2000]
                if attempts >= policy.max_delivery_attempts:
                    yield _finish(item.id, sent=False, error=reason, retry_at=None)
                    dead += 1
                else:
                    retry_at = values.shift(instant, policy.retry_delay(attempts))
                    yield _finish(item.id, sent=False, error=reason, retry_at=retry_at)
                    retried += 1
            else:
                yield _finish(item.id, sent=True, error=None, retry_at=None)
                sent += 1
    return RelayReport(sent, retried, dead)


def _finish(item_id: int, **outcome: object) -> Call:
    return Call("finish_outbox", (item_id,), outcome)
