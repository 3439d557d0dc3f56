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
import itertools
import threading
from collections.abc import Iterator

import attrs
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
from order_lifecycle.ports import (
    IdempotencyRecord,
    Notification,
    OrderFacts,
    OrderStore,
    Participant,
    Store,
    Write,
)
from order_lifecycle.stats import micros

__all__ = [
    "T0",
    "ChatStoreContract",
    "OrderStoreContract",
    "placed_write",
    "step_write",
]

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
        waiting=frozenset({"bob"}),
        last_entry='{"seq": 1, "note": "opaque to the store"}',
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


def _race(store: OrderStore, writes: list[Write]) -> list[Write | Exception]:
    """Each write from a thread of its own, released together: the write that landed, or
    the exception it raised, for each."""
    start = threading.Barrier(len(writes))
    outcomes: list[Write | Exception] = [RuntimeError("did not finish")] * len(writes)

    def writer(index: int) -> None:
        start.wait(timeout=30)
        try:
            store.write(writes[index])
        except Exception as error:  # the test looks at what each writer got
            outcomes[index] = error
        else:
            outcomes[index] = writes[index]

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(len(writes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


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

    def test_knows_whether_it_is_empty(self, store: OrderStore) -> None:
        """A fresh store is empty; one order makes it not."""
        assert store.is_empty()
        store.write(placed_write())
        assert not store.is_empty()

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

    def test_feed_gives_every_event_once_in_commit_order(self, store: OrderStore) -> None:
        """Every written event of every order, at strictly increasing positions in the
        order the writes committed; ``after`` and ``limit`` page through it; a refused
        write takes no position."""
        assert store.feed(0, 100) == []
        store.write(placed_write("o1"))
        store.write(placed_write("o2"))
        o1 = store.load("o1")
        store.write(step_write(o1, c.Accept(), "bob", T0.add(hours=1)))
        with pytest.raises(ConcurrencyConflict):
            store.write(step_write(o1, c.Decline(reason="late"), "bob", T0.add(hours=1)))
        o2 = store.load("o2")
        store.write(step_write(o2, c.Say(text="hi"), "alice", T0.add(hours=2)))
        store.write(step_write(store.load("o1"), c.Say(text="yo"), "bob", T0.add(hours=3)))
        items = store.feed(0, 100)
        assert [(i.event.order_id, i.event.seq) for i in items] == [
            ("o1", 1),
            ("o2", 1),
            ("o1", 2),
            ("o2", 2),
            ("o1", 3),
        ]
        positions = [i.position for i in items]
        assert all(a < b for a, b in itertools.pairwise(positions))
        assert positions[0] >= 1
        assert [i.event for i in items if i.event.order_id == "o1"] == store.history("o1")
        assert store.feed(positions[1], 2) == items[2:4]
        assert store.feed(positions[-1], 100) == []
        assert store.feed(0, 1) == items[:1]

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

    def test_two_writers_at_one_version_one_wins(self, store: OrderStore) -> None:
        """Two writers that read the same version write at the same moment, from two
        threads: exactly one write lands, the other raises ``ConcurrencyConflict``, and the
        order and its history are the winner's alone. Run on several orders, so that the
        writes really race."""
        for number in range(8):
            placed = placed_write(f"o{number}")
            store.write(placed)
            order = store.load(placed.order.id)
            writes = [
                step_write(order, c.Accept(), "bob", T0),
                step_write(order, c.Decline(reason="Fully booked"), "bob", T0),
            ]
            outcomes = _race(store, writes)
            assert sorted(type(o).__name__ for o in outcomes) == ["ConcurrencyConflict", "Write"]
            winner = next(o for o in outcomes if isinstance(o, Write))
            assert store.load(order.id) == winner.order
            assert store.history(order.id) == [*placed.events, *winner.events]

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

    def test_facts_come_back_as_written_by_party_and_since(self, store: OrderStore) -> None:
        """``facts`` lists the orders of one party in one role, placed since ``since``,
        exactly as the last write gave them; a write without facts gives ``None``, until
        ``keep_facts`` fills them in (never over facts a write brought)."""
        placed = micros(T0)
        assert placed is not None
        facts = OrderFacts(placed, accepted_at=placed + 3_600_000_000, revisions=1, seller_rating=5)
        store.write(attrs.evolve(placed_write("o1"), facts=facts))
        store.write(placed_write("o2"))  # no facts: written as by an older desk
        rows = {r.order_id: r.facts for r in store.facts("bob", Role.seller, None)}
        assert rows == {"o1": facts, "o2": None}
        assert [r.order_id for r in store.facts("alice", Role.buyer, None)] in (
            ["o1", "o2"],
            ["o2", "o1"],
        )
        assert store.facts("alice", Role.seller, None) == []
        assert store.facts("bob", Role.buyer, None) == []
        later = {r.order_id for r in store.facts("bob", Role.seller, T0.add(seconds=1))}
        assert later == {"o2"}  # o1 was placed earlier; o2 has no facts to tell
        filled = OrderFacts(placed, disputed=True)
        store.keep_facts("o2", filled)
        store.keep_facts("o1", filled)  # o1 has facts: nothing changes
        rows = {r.order_id: r.facts for r in store.facts("bob", Role.seller, None)}
        assert rows == {"o1": facts, "o2": filled}
        assert [o.id for o in store.reviewed("bob")] == ["o1"]
        assert store.reviewed("alice") == []

    def test_a_write_without_events_only_moves_the_timer(self, store: OrderStore) -> None:
        """Rescheduling changes neither the order nor its history."""
        store.write(placed_write())
        order = store.load("o1")
        store.write(Write(order, (), order.version, T0))
        assert store.load("o1") == order
        assert len(store.history("o1")) == 1
        with pytest.raises(ConcurrencyConflict):
            store.write(Write(order, (), order.version + 5, T0))


def _story(store: Store) -> Order:
    """o1 placed, accepted, said; with notifications for the other party of each event."""
    write = placed_write()
    store.write(write)
    order = store.load("o1")
    for command, actor, recipient, role in [
        (c.Accept(), "bob", "alice", Role.buyer),
        (c.Say(text="hi"), "alice", "bob", Role.seller),
    ]:
        step = step_write(order, command, actor, T0.add(hours=1))
        note = Notification(order.id, step.events[0].seq, recipient, role, step.events[0].kind)
        store.write(attrs.evolve(step, notifications=(note,)))
        order = store.load("o1")
    return order


class ChatStoreContract:
    """The outbox and inbox half of a store. Provide a ``store`` fixture in a subclass."""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        """The adapter under test, empty."""
        raise NotImplementedError("subclasses provide the store fixture")

    def test_is_a_full_store(self, store: Store) -> None:
        """The adapter implements the whole port the desk needs."""
        assert isinstance(store, Store)

    def test_outbox_rows_are_written_with_their_command(self, store: Store) -> None:
        """Each notification of a write becomes a pending row, in order."""
        _story(store)
        rows = store.outbox_rows("o1")
        assert [(r.seq, r.recipient, r.status, r.attempts) for r in rows] == [
            (1, "bob", "pending", 0),
            (2, "alice", "pending", 0),
            (3, "bob", "pending", 0),
        ]
        assert store.outbox_rows() == rows

    def test_claims_hold_the_head_row_per_recipient(self, store: Store) -> None:
        """A recipient's later row waits until the earlier one is sent; claims exclude."""
        _story(store)
        lease = pendulum.duration(minutes=1)
        first = store.claim_outbox(T0, 10, lease)
        assert [(i.seq, i.recipient) for i in first] == [(1, "bob"), (2, "alice")]
        assert first[0].event is not None
        assert first[0].event.kind == "order_placed"
        assert first[0].status == "pending"
        assert store.claim_outbox(T0, 10, lease) == []  # claimed by the first relay
        store.finish_outbox(first[0].id, sent=True, error=None, retry_at=None)
        second = store.claim_outbox(T0, 10, lease)
        assert [(i.seq, i.recipient) for i in second] == [(3, "bob")]

    def test_an_expired_claim_is_claimed_again(self, store: Store) -> None:
        """A relay that died mid-way loses its claim when the lease ends: at least once."""
        _story(store)
        lease = pendulum.duration(minutes=1)
        first = store.claim_outbox(T0, 1, lease)
        assert len(first) == 1
        again = store.claim_outbox(T0.add(minutes=2), 1, lease)
        assert [i.id for i in again] == [first[0].id]

    def test_failed_rows_wait_for_their_retry_and_die(self, store: Store) -> None:
        """A failure is retried at its time; a final failure makes the row dead."""
        _story(store)
        lease = pendulum.duration(minutes=1)
        item = store.claim_outbox(T0, 1, lease)[0]
        store.finish_outbox(item.id, sent=False, error="HTTP 500", retry_at=T0.add(minutes=5))
        assert [i.id for i in store.claim_outbox(T0.add(minutes=1), 10, lease)] == [
            r.id for r in store.outbox_rows() if r.recipient == "alice"
        ]
        retried = store.claim_outbox(T0.add(minutes=5), 10, lease)
        assert item.id in [i.id for i in retried]
        assert next(i for i in retried if i.id == item.id).attempts == 1
        store.finish_outbox(item.id, sent=False, error="HTTP 500", retry_at=None)
        row = next(r for r in store.outbox_rows() if r.id == item.id)
        assert (row.status, row.attempts, row.last_error) == ("dead", 2, "HTTP 500")

    def test_conversations_count_unread_entries_of_others(self, store: Store) -> None:
        """Unread: entries after the read mark that the user did not cause."""
        _story(store)
        rows = {r.order_id: r for r in store.conversations("bob")}
        assert rows["o1"].unread == 2  # placed by alice, her message; not bob's accept
        assert rows["o1"].role is Role.seller
        assert rows["o1"].title == "Instagram post"
        assert rows["o1"].version == 3
        assert store.conversations("alice")[0].unread == 1
        store.mark_read("o1", "bob", 3)
        assert store.conversations("bob")[0].unread == 0
        store.mark_read("o1", "bob", 1)  # never moves back
        assert store.conversations("bob")[0].unread == 0
        assert store.conversations("mallory") == []

    def test_conversations_are_newest_first_and_know_who_waits(self, store: Store) -> None:
        """Ordered by latest activity; ``waiting`` names who moves next."""
        store.write(placed_write("o1"))
        store.write(attrs.evolve(placed_write("o2"), order=_later(placed_write("o2").order)))
        assert [r.order_id for r in store.conversations("alice")] == ["o2", "o1"]
        assert store.conversations("bob")[0].waiting == frozenset({"bob"})

    def test_conversations_return_the_inbox_columns_as_written(self, store: Store) -> None:
        """``waiting`` and ``last_entry`` come back exactly as the last write gave them
        (``last_entry`` may be ``None`` for a store that does not keep it); a write
        without events leaves them as they were."""
        write = placed_write("o1")
        store.write(write)
        row = store.conversations("bob")[0]
        assert row.waiting == frozenset({"bob"})
        assert row.last_entry in (write.last_entry, None)
        kept = row.last_entry is not None
        order = store.load("o1")
        step = step_write(order, c.Accept(), "bob", T0.add(hours=1))
        store.write(attrs.evolve(step, waiting=frozenset({"bob", "cx_team"}), last_entry="x"))
        row = store.conversations("alice")[0]
        assert row.waiting == frozenset({"bob", "cx_team"})
        assert row.last_entry == ("x" if kept else None)
        moved = store.load("o1")
        store.write(Write(moved, (), moved.version, T0.add(days=9)))
        assert store.conversations("alice")[0].waiting == frozenset({"bob", "cx_team"})


def _later(order: Order) -> Order:
    return attrs.evolve(order, updated_at=order.updated_at.add(minutes=5))
