"""The storage contract: one suite that every ``OrderStore`` adapter passes.

Subclass :class:`OrderStoreContract` in a module named ``test_*.py`` with a class named
``Test...`` and provide the ``store`` fixture; the memory, SQLite and PostgreSQL stores
of this library run it as they are, and so can a host application's own adapter::

    class TestMyStore(OrderStoreContract):
        @pytest.fixture
        def store(self) -> Iterator[OrderStore]:
            store = MyStore(...)
            yield store
            store.close()

Requires ``pytest`` (a test-time dependency of the host).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pendulum
import pytest

from order_lifecycle.core import api
from order_lifecycle.core import commands as c
from order_lifecycle.core.model import (
    Actor,
    Attachment,
    Listing,
    Money,
    Order,
    OrderState,
    Role,
    Timer,
)
from order_lifecycle.errors import ConcurrencyConflict, OrderNotFound
from order_lifecycle.ports import IdempotencyRecord, Notification, OrderStore, Participant, Write

__all__ = ["T0", "OrderStoreContract", "placed_write", "step_write"]

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")


def _listing() -> Listing:
    return Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)


def _next_timer(order: Order) -> pendulum.DateTime | None:
    timers = api.due_timers(order)
    return timers[0].due_at if timers else None


def placed_write(order_id: str = "o1", *, key: IdempotencyRecord | None = None) -> Write:
    """The write that places a fresh order from alice to bob at ``T0``."""
    decision = api.place(buyer="alice", seller="bob", listing=_listing(), now=T0, order_id=order_id)
    order = decision.order
    return Write(
        order=order,
        events=decision.events,
        expected_version=0,
        next_timer_at=_next_timer(order),
        notifications=(Notification(order.id, 1, "bob", Role.seller, "order_placed"),),
        participants=(
            Participant(order.id, "alice", Role.buyer),
            Participant(order.id, "bob", Role.seller),
        ),
        idempotency=key,
    )


def step_write(
    order: Order,
    command: c.Command,
    actor: Actor | str,
    now: pendulum.DateTime,
    *,
    expected: int | None = None,
) -> Write:
    """The write of ``command`` on ``order`` (``expected`` overrides the version checked)."""
    decision = api.decide(order, command, actor=actor, now=now)
    return Write(
        order=decision.order,
        events=decision.events,
        expected_version=order.version if expected is None else expected,
        next_timer_at=_next_timer(decision.order),
    )


def _file() -> Attachment:
    digest = hashlib.sha256(b"png").hexdigest()
    return Attachment("post.png", 3, "image/png", digest, f"blob:{digest}")


class OrderStoreContract:
    """What every storage adapter promises. Provide a ``store`` fixture in a subclass."""

    @pytest.fixture
    def store(self) -> Iterator[OrderStore]:
        """The adapter under test, empty."""
        raise NotImplementedError("subclasses provide the store fixture")

    def test_is_an_order_store(self, store: OrderStore) -> None:
        """The adapter implements the port."""
        assert isinstance(store, OrderStore)

    def test_written_order_loads_back_equal(self, store: OrderStore) -> None:
        """An order and its events read back exactly as written."""
        write = placed_write()
        store.write(write)
        assert store.load("o1") == write.order
        assert store.history("o1") == list(write.events)

    def test_unknown_order_is_not_found(self, store: OrderStore) -> None:
        """``load`` and ``history`` of a missing id raise ``OrderNotFound``."""
        with pytest.raises(OrderNotFound):
            store.load("nope")
        with pytest.raises(OrderNotFound):
            store.history("nope")

    def test_history_is_ordered_and_filtered_by_seq(self, store: OrderStore) -> None:
        """Events come oldest first, numbered 1, 2, 3...; ``since`` skips the first ones."""
        store.write(placed_write())
        order = store.load("o1")
        for command, actor in [(c.Accept(), "bob"), (c.Say(text="hi"), "alice")]:
            store.write(step_write(order, command, actor, T0.add(hours=1)))
            order = store.load("o1")
        assert [e.seq for e in store.history("o1")] == [1, 2, 3]
        assert [e.seq for e in store.history("o1", since=1)] == [2, 3]
        assert order.version == 3

    def test_stale_version_is_a_conflict_and_writes_nothing(self, store: OrderStore) -> None:
        """A write expecting an old version raises ``ConcurrencyConflict`` and changes nothing."""
        store.write(placed_write())
        order = store.load("o1")
        store.write(step_write(order, c.Accept(), "bob", T0))
        stale = step_write(order, c.Decline(reason="late"), "bob", T0)
        with pytest.raises(ConcurrencyConflict):
            store.write(stale)
        assert store.load("o1").state is OrderState.accepted
        assert len(store.history("o1")) == 2

    def test_placing_the_same_id_twice_is_a_conflict(self, store: OrderStore) -> None:
        """A second placement with the same order id is refused."""
        store.write(placed_write())
        with pytest.raises(ConcurrencyConflict):
            store.write(placed_write())
        assert len(store.history("o1")) == 1

    def test_idempotency_keys_are_unique(self, store: OrderStore) -> None:
        """A key is stored with its write; reusing it in another write is a conflict."""
        key = IdempotencyRecord("k1", "f" * 64, "o1", 1)
        store.write(placed_write(key=key))
        assert store.idempotency("k1") == key
        assert store.idempotency("k2") is None
        with pytest.raises(ConcurrencyConflict):
            store.write(placed_write("o2", key=IdempotencyRecord("k1", "e" * 64, "o2", 1)))
        with pytest.raises(OrderNotFound):
            store.load("o2")

    def test_participants_are_recorded_once(self, store: OrderStore) -> None:
        """Buyer and seller take part from placement on."""
        store.write(placed_write())
        people = {(p.user_id, p.role) for p in store.participants("o1")}
        assert people == {("alice", Role.buyer), ("bob", Role.seller)}

    def test_due_timer_fires_once_and_only_when_due(self, store: OrderStore) -> None:
        """``fire_next_due`` finds due orders only, and a fired timer is not found again."""
        store.write(placed_write())
        order = store.load("o1")
        store.write(step_write(order, c.Accept(), "bob", T0))
        order = store.load("o1")
        store.write(step_write(order, c.Deliver(files=[_file()]), "bob", T0))
        delivered = store.load("o1")
        assert delivered.review_due_at is not None
        calls: list[Order] = []

        def fire(o: Order) -> Write:
            calls.append(o)
            decision = api.fire(o, Timer.review_window, now=now)
            return Write(decision.order, decision.events, o.version, None)

        now = delivered.review_due_at.subtract(seconds=1)
        assert store.fire_next_due(now, fire) is None
        now = delivered.review_due_at.add(days=1)
        fired = store.fire_next_due(now, fire)
        assert fired is not None
        assert fired.events[0].kind == "order_auto_completed"
        assert store.fire_next_due(now, fire) is None
        assert len(calls) == 1
        assert store.load("o1").state is OrderState.complete

    def test_failed_fire_keeps_the_timer(self, store: OrderStore) -> None:
        """An error while firing rolls back: the timer is still due afterwards."""
        store.write(placed_write())
        order = store.load("o1")
        store.write(step_write(order, c.Accept(), "bob", T0))
        due = store.load("o1").contract.due_at
        assert due is not None

        def broken(_: Order) -> Write:
            raise RuntimeError("worker crashed")

        with pytest.raises(RuntimeError):
            store.fire_next_due(due, broken)
        seen: list[str] = []

        def note(o: Order) -> Write:
            seen.append(o.id)
            return Write(o, (), o.version, None)

        assert store.fire_next_due(due, note) is not None
        assert seen == ["o1"]
        assert store.fire_next_due(due, note) is None

    def test_a_write_without_events_only_moves_the_timer(self, store: OrderStore) -> None:
        """Rescheduling changes neither the order nor its history."""
        store.write(placed_write())
        order = store.load("o1")
        store.write(Write(order, (), order.version, T0))
        assert store.load("o1") == order
        assert len(store.history("o1")) == 1
        with pytest.raises(ConcurrencyConflict):
            store.write(Write(order, (), order.version + 5, T0))
