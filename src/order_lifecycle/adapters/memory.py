"""The in-memory store (``memory://``): for tests and prototypes, one process, thread-safe.

It keeps the same promises as the durable stores (one write is all or nothing, versions
are checked, due timers are found through an index) so that code tested against it
behaves the same on SQLite and PostgreSQL; the contract suite checks it.
"""

from __future__ import annotations

import array
import heapq
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Final

import pendulum

from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Order, Role
from order_lifecycle.errors import ConcurrencyConflict, OrderNotFound
from order_lifecycle.ports import (
    ConversationRow,
    FactsRow,
    FeedItem,
    IdempotencyRecord,
    Notification,
    OrderFacts,
    OutboxRow,
    Participant,
    Write,
)
from order_lifecycle.stats import facts_of, micros

__all__ = ["MemoryStore"]


class MemoryStore:
    """Orders, events, outbox and idempotency keys in dictionaries, behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._orders: dict[str, Order] = {}
        self._events: dict[str, tuple[Event, ...]] = {}  # exact-size tuples: less memory
        # Every event of every order in write order: an event's feed position is its
        # index + 1 (written under the lock, so positions follow commit order).
        self._feed: list[Event] = []
        self._next_timer: dict[str, pendulum.DateTime] = {}
        # A heap of (due, order_id); entries whose due no longer matches are skipped.
        self._due: list[tuple[pendulum.DateTime, str]] = []
        self._keys: dict[str, IdempotencyRecord] = {}
        # Participants follow from the order itself (buyer, seller, agents who joined);
        # this only indexes each user's orders for the inbox.
        self._by_user: dict[str, list[str]] = {}
        self._read_marks: dict[tuple[str, str], int] = {}
        # Who each order waits on, as the desk computed it (``Write.waiting``).
        self._waiting: dict[str, frozenset[str]] = {}
        # Most orders wait on the same few sets: keep one object per distinct set.
        self._waiting_sets: dict[frozenset[str], frozenset[str]] = {}
        # What the metrics count of each order (``Write.facts``), kept only where it is
        # not what ``facts_of`` reads from the order the store holds: facts from an older
        # writer, or ``None`` (written without facts). The desk's writes leave nothing here.
        self._facts: dict[str, OrderFacts | None] = {}
        # Outbox rows: the notification as a tuple; delivery state only once touched.
        self._outbox = _Outbox()
        self._delivery: dict[int, _Delivery] = {}

    def write(self, write: Write) -> None:
        """Apply ``write`` atomically, checking the version first."""
        order = write.order
        with self._lock:
            current = self._orders.get(order.id)
            version = 0 if current is None else current.version
            if version != write.expected_version or (current is None and not write.events):
                raise ConcurrencyConflict(order.id, write.expected_version)
            if write.idempotency is not None and write.idempotency.key in self._keys:
                raise ConcurrencyConflict(
                    order.id,
                    write.expected_version,
                    f"Idempotency key {write.idempotency.key!r} was used concurrently.",
                )
            if write.events:
                self._orders[order.id] = order
                waiting = write.waiting
                self._waiting[order.id] = self._waiting_sets.setdefault(waiting, waiting)
                if write.facts is not None and write.facts == facts_of(order):
                    self._facts.pop(order.id, None)
                else:
                    self._facts[order.id] = write.facts
                self._events[order.id] = self._events.get(order.id, ()) + write.events
                self._feed.extend(write.events)
                for note in write.notifications:
                    self._outbox.append(note)
                for person in write.participants:
                    mine = self._by_user.setdefault(person.user_id, [])
                    if mine[-1:] != [order.id]:
                        mine.append(order.id)  # a repeat (an agent joining twice) reads once
                if write.idempotency is not None:
                    self._keys[write.idempotency.key] = write.idempotency
            self._schedule(order.id, write.next_timer_at)

    def _schedule(self, order_id: str, due: pendulum.DateTime | None) -> None:
        if due is None:
            self._next_timer.pop(order_id, None)
            return
        if self._next_timer.get(order_id) != due:
            self._next_timer[order_id] = due
            heapq.heappush(self._due, (due, order_id))
            if len(self._due) > len(self._next_timer) + len(self._next_timer) // 4 + 64:
                # Rescheduled timers leave stale entries behind: drop them now and then.
                self._due = [(d, o) for o, d in self._next_timer.items()]
                heapq.heapify(self._due)

    def load(self, order_id: str) -> Order:
        """The order as last written."""
        with self._lock:
            try:
                return self._orders[order_id]
            except KeyError:
                raise OrderNotFound(order_id) from None

    def history(self, order_id: str, since: int = 0) -> list[Event]:
        """Events after ``since``, oldest first."""
        with self._lock:
            if order_id not in self._orders:
                raise OrderNotFound(order_id)
            return [e for e in self._events[order_id] if e.seq > since]

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        """The record stored under ``key``."""
        with self._lock:
            return self._keys.get(key)

    def feed(self, after: int, limit: int) -> list[FeedItem]:
        """Events in write order from position ``after + 1``: positions are list indexes."""
        with self._lock:
            found = self._feed[after : after + limit]
        return [FeedItem(after + n, event) for n, event in enumerate(found, 1)]

    def fire_next_due(self, now: pendulum.DateTime, fire: Callable[[Order], Write]) -> Write | None:
        """Pop the soonest due order (lazily skipping stale heap entries) and fire it."""
        with self._lock:
            while self._due and self._due[0][0] <= now:
                due, order_id = heapq.heappop(self._due)
                if self._next_timer.get(order_id) != due:
                    continue
                del self._next_timer[order_id]
                order = self._orders[order_id]
                try:
                    write = fire(order)
                    self.write(write)
                except BaseException:
                    self._schedule(order_id, due)
                    raise
                return write
            return None

    def participants(self, order_id: str) -> Sequence[Participant]:
        """Who takes part in the conversation."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                return ()
            people = [
                Participant(order_id, order.buyer, Role.buyer),
                Participant(order_id, order.seller, Role.seller),
            ]
            people += [Participant(order_id, agent, Role.cx_agent) for agent in order.agents]
            return tuple(people)

    def _orders_of(self, user_id: str) -> Iterator[Order]:
        """The orders ``user_id`` takes part in (the inbox's index)."""
        for order_id in dict.fromkeys(self._by_user.get(user_id, ())):
            yield self._orders[order_id]

    def facts(self, user_id: str, role: Role, since: pendulum.DateTime | None) -> list[FactsRow]:
        """The facts of the user's orders in ``role`` placed since ``since``."""
        start = micros(since)
        with self._lock:
            found: list[FactsRow] = []
            for order in self._orders_of(user_id):
                if order.party(user_id) is not role:
                    continue
                facts = self._facts_of(order)
                if facts is None or start is None or facts.placed_at >= start:
                    found.append(FactsRow(order.id, facts))
            return found

    def keep_facts(self, order_id: str, facts: OrderFacts) -> None:
        """Keep ``facts`` unless the order has some by now."""
        with self._lock:
            if order_id in self._orders and self._facts.get(order_id, facts) is None:
                self._facts[order_id] = facts

    def reviewed(self, user_id: str) -> list[Order]:
        """The user's orders with a published rating about them."""
        with self._lock:
            found: list[Order] = []
            for order in self._orders_of(user_id):
                facts = self._facts_of(order)
                rating = None
                if facts is not None:
                    mine = order.party(user_id)
                    rating = facts.seller_rating if mine is Role.seller else facts.buyer_rating
                if rating is not None:
                    found.append(order)
            return found

    def _facts_of(self, order: Order) -> OrderFacts | None:
        """The facts last written for ``order`` (computed again when they were its own)."""
        if order.id in self._facts:
            return self._facts[order.id]
        return facts_of(order)

    def is_empty(self) -> bool:
        """Whether the store holds no order at all."""
        with self._lock:
            return not self._orders

    # -- outbox and inbox ------------------------------------------------------------

    def claim_outbox(
        self, now: pendulum.DateTime, limit: int, lease: pendulum.Duration
    ) -> list[OutboxRow]:
        """Claim the due head row of each (order, recipient)."""
        with self._lock:
            heads: dict[tuple[str, str], int] = {}
            for row_id, (order_id, _, recipient, _) in self._outbox.rows():
                state = self._delivery.get(row_id)
                if (state is None or state.status == "pending") and (
                    order_id,
                    recipient,
                ) not in heads:
                    heads[(order_id, recipient)] = row_id
            claimed: list[OutboxRow] = []
            for row_id in heads.values():
                if len(claimed) >= limit:
                    break
                state = self._delivery.get(row_id) or _Delivery()
                due = state.next_attempt_at is None or state.next_attempt_at <= now
                free = state.claimed_until is None or state.claimed_until <= now
                if due and free:
                    state.claimed_until = now + lease
                    self._delivery[row_id] = state
                    order_id, seq, recipient, role = self._outbox.row(row_id)
                    event = self._events[order_id][seq - 1]
                    kind = event.kind
                    claimed.append(
                        OutboxRow(
                            row_id,
                            order_id,
                            seq,
                            recipient,
                            role,
                            kind,
                            "pending",
                            state.attempts,
                            state.last_error,
                            event,
                        )
                    )
            claimed.sort(key=lambda item: item.id)
            return claimed

    def finish_outbox(
        self, item_id: int, *, sent: bool, error: str | None, retry_at: pendulum.DateTime | None
    ) -> None:
        """Record the outcome of one send."""
        with self._lock:
            state = self._delivery.setdefault(item_id, _Delivery())
            state.attempts += 1
            state.claimed_until = None
            if sent:
                state.status, state.last_error = "sent", None
            else:
                state.status = "dead" if retry_at is None else "pending"
                state.next_attempt_at, state.last_error = retry_at, error

    def outbox_rows(self, order_id: str | None = None) -> list[OutboxRow]:
        """Outbox rows, oldest first."""
        with self._lock:
            rows: list[OutboxRow] = []
            for row_id, (owner, seq, recipient, role) in self._outbox.rows():
                kind = self._events[owner][seq - 1].kind
                if order_id is not None and owner != order_id:
                    continue
                state = self._delivery.get(row_id) or _Delivery()
                rows.append(
                    OutboxRow(
                        row_id,
                        owner,
                        seq,
                        recipient,
                        role,
                        kind,
                        state.status,
                        state.attempts,
                        state.last_error,
                    )
                )
            return rows

    def conversations(self, user_id: str) -> list[ConversationRow]:
        """The user's conversations, newest activity first."""
        with self._lock:
            found: list[tuple[pendulum.DateTime, ConversationRow]] = []
            for order_id in dict.fromkeys(self._by_user.get(user_id, ())):
                order = self._orders[order_id]
                for person in self.participants(order_id):
                    if person.user_id != user_id:
                        continue
                    events = self._events[order_id]
                    seen = self._read_marks.get((order_id, user_id), 0)
                    unread = sum(
                        1
                        for e in events
                        if e.seq > seen and (e.actor.id, e.actor.role) != (user_id, person.role)
                    )
                    row = ConversationRow(
                        order_id,
                        order.listing.title,
                        order.state.value,
                        order.buyer,
                        order.seller,
                        person.role,
                        self._waiting.get(order_id, frozenset()),
                        unread,
                        None,  # not kept in memory: the desk renders the last event
                        order.version,
                    )
                    found.append((order.updated_at, row))
            found.sort(key=lambda c: c[1].order_id)
            found.sort(key=lambda c: c[0], reverse=True)
            return self._latest_first_within_instants(found)

    def _latest_first_within_instants(
        self, found: list[tuple[pendulum.DateTime, ConversationRow]]
    ) -> list[ConversationRow]:
        """The rows (newest instant first) with the orders written at one instant in the
        order they were written, the last first, as the SQL stores list them. Only orders
        that share an instant are looked up, from the end of the feed: nothing is kept
        per order for it."""
        shared = Counter(at for at, _ in found)
        tied = {row.order_id for (at, row) in found if shared[at] > 1}
        if not tied:
            return [row for _, row in found]
        rank: dict[str, int] = {}
        for event in reversed(self._feed):
            if event.order_id in tied and event.order_id not in rank:
                rank[event.order_id] = len(rank)
                if len(rank) == len(tied):
                    break
        found.sort(key=lambda c: rank.get(c[1].order_id, len(rank)))
        found.sort(key=lambda c: c[0], reverse=True)
        return [row for _, row in found]

    def mark_read(self, order_id: str, user_id: str, seq: int) -> None:
        """Move the user's read mark forward to ``seq`` (never back)."""
        with self._lock:
            key = (order_id, user_id)
            self._read_marks[key] = max(self._read_marks.get(key, 0), seq)

    def close(self) -> None:
        """Nothing to release."""


def _last(events: tuple[Event, ...]) -> Event | None:
    return events[-1] if events else None


_ROLES: Final = tuple(Role)


class _Outbox:
    """Outbox rows in parallel arrays: ~21 bytes a row instead of ~80 for a tuple.

    A row's id is its index + 1; its kind is its event's, read from the history; the
    order id and recipient strings are the order's own, shared.
    """

    __slots__ = ("order_ids", "recipients", "roles", "seqs")

    def __init__(self) -> None:
        self.order_ids: list[str] = []
        self.seqs = array.array("I")
        self.recipients: list[str] = []
        self.roles = bytearray()

    def append(self, note: Notification) -> None:
        self.order_ids.append(note.order_id)
        self.seqs.append(note.seq)
        self.recipients.append(note.recipient)
        self.roles.append(_ROLES.index(note.role))

    def row(self, row_id: int) -> tuple[str, int, str, Role]:
        i = row_id - 1
        return self.order_ids[i], self.seqs[i], self.recipients[i], _ROLES[self.roles[i]]

    def rows(self) -> Iterator[tuple[int, tuple[str, int, str, Role]]]:
        for i in range(len(self.order_ids)):
            yield i + 1, self.row(i + 1)


class _Delivery:
    """The delivery state of an outbox row that a relay has touched."""

    __slots__ = ("attempts", "claimed_until", "last_error", "next_attempt_at", "status")

    def __init__(self) -> None:
        self.status = "pending"
        self.attempts = 0
        self.next_attempt_at: pendulum.DateTime | None = None
        self.claimed_until: pendulum.DateTime | None = None
        self.last_error: str | None = None
