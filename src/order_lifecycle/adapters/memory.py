"""The in-memory store (``memory://``): for tests and prototypes, one process, thread-safe.

It keeps the same promises as the durable stores (one write is all or nothing, versions
are checked, due timers are found through an index) so that code tested against it
behaves the same on SQLite and PostgreSQL; the contract suite checks it.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Sequence

import pendulum

from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Order
from order_lifecycle.errors import ConcurrencyConflict, OrderNotFound
from order_lifecycle.ports import IdempotencyRecord, Notification, Participant, Write

__all__ = ["MemoryStore"]


class MemoryStore:
    """Orders, events, outbox and idempotency keys in dictionaries, behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._orders: dict[str, Order] = {}
        self._events: dict[str, list[Event]] = {}
        self._next_timer: dict[str, pendulum.DateTime] = {}
        # A heap of (due, order_id); entries whose due no longer matches are skipped.
        self._due: list[tuple[pendulum.DateTime, str]] = []
        self._keys: dict[str, IdempotencyRecord] = {}
        self._participants: dict[str, list[Participant]] = {}
        self.outbox: list[Notification] = []

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
                self._events.setdefault(order.id, []).extend(write.events)
                self.outbox.extend(write.notifications)
                if write.participants:
                    known = self._participants.setdefault(order.id, [])
                    for person in write.participants:
                        if all(p.user_id != person.user_id for p in known):
                            known.append(person)
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
            return tuple(self._participants.get(order_id, ()))

    def close(self) -> None:
        """Nothing to release."""
