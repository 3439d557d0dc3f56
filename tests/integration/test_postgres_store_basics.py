"""A smoke test of the PostgreSQL store against a live server.

The server is ``$ORDER_LIFECYCLE_TEST_PG`` (default: the local test server). Each run
works in its own schema, dropped afterwards. Without a reachable server the tests are
skipped, except on CI (``CI=true``) where that is a failure.

The orders of the timer test live in 2001, the others in 2026: a claim at a 2001 instant
only ever sees the timer test's own orders, whatever order the tests run in.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import NoReturn

import pendulum
import pytest

from order_lifecycle import Listing, Money, Order, Role, Timer, core
from order_lifecycle.adapters.postgres import SCHEMA_VERSION, PostgresStore
from order_lifecycle.errors import ConcurrencyConflict, OrderNotFound, StorageError
from order_lifecycle.ports import IdempotencyRecord, Notification, OrderStore, Participant, Write

try:
    import psycopg
    from psycopg import sql
except ImportError:  # pragma: no cover - the dev extras install it
    HAVE_DRIVER = False
else:
    HAVE_DRIVER = True

pytestmark = pytest.mark.postgres

BASE_URL = os.environ.get("ORDER_LIFECYCLE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
ERA_2001 = pendulum.datetime(2001, 3, 1, 9, tz="UTC")
LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a PostgreSQL server is required)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def schema_url() -> Iterator[str]:
    """The test server's URL with a schema of this run's own, dropped afterwards."""
    if not HAVE_DRIVER:
        _unavailable("psycopg is not installed: pip install 'order-lifecycle[postgres]'")
    try:
        admin = psycopg.connect(BASE_URL, connect_timeout=3, autocommit=True)
    except psycopg.Error as error:
        _unavailable(
            f"PostgreSQL is not reachable (set ORDER_LIFECYCLE_TEST_PG to a server): {error}"
        )
    schema = f"olt_{uuid.uuid4().hex}"
    separator = "&" if "?" in BASE_URL else "?"
    try:
        yield f"{BASE_URL}{separator}schema={schema}"
    finally:
        with admin:
            admin.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


@pytest.fixture
def store(schema_url: str) -> Iterator[PostgresStore]:
    """A store on this run's schema, closed afterwards."""
    opened = PostgresStore(schema_url)
    yield opened
    opened.close()


def _next_timer(order: Order) -> pendulum.DateTime | None:
    due = core.due_timers(order)
    return due[0].due_at if due else None


def _placed(order_id: str, at: pendulum.DateTime = T0) -> Write:
    decision = core.place(buyer="alice", seller="bob", listing=LISTING, now=at, order_id=order_id)
    order = decision.order
    return Write(
        order,
        decision.events,
        0,
        _next_timer(order),
        notifications=(Notification(order_id, 1, "bob", Role.seller, decision.events[0].kind),),
        participants=(
            Participant(order_id, "alice", Role.buyer),
            Participant(order_id, "bob", Role.seller),
        ),
        idempotency=IdempotencyRecord(f"key-{order_id}", "place:alice", order_id, 1),
    )


def _decided(order: Order, command: core.Command, actor: str, at: pendulum.DateTime) -> Write:
    decision = core.decide(order, command, actor=actor, now=at)
    return Write(decision.order, decision.events, order.version, _next_timer(decision.order))


def _accepted(store: PostgresStore, at: pendulum.DateTime) -> Order:
    """A new order, placed and accepted at ``at`` (its delivery timer armed)."""
    placed = _placed(f"ord_{uuid.uuid4().hex}", at)
    store.write(placed)
    accepted = _decided(placed.order, core.Accept(), "bob", at)
    store.write(accepted)
    return accepted.order


def _fire_at(now: pendulum.DateTime) -> Callable[[Order], Write]:
    def fire(order: Order) -> Write:
        decision = core.fire(order, core.due_timers(order)[0].timer, now=now)
        return Write(decision.order, decision.events, order.version, _next_timer(decision.order))

    return fire


def test_schema_creation_is_idempotent(schema_url: str) -> None:
    """Opening twice (and twice at once) creates the schema once, at the current version."""
    first = PostgresStore(schema_url)
    second = PostgresStore(schema_url)
    try:
        assert first.schema_version() == SCHEMA_VERSION
        assert second.schema_version() == SCHEMA_VERSION
    finally:
        first.close()
        second.close()
    errors: list[BaseException] = []

    def open_and_close() -> None:
        try:
            PostgresStore(schema_url, min_size=0).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_and_close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    again = PostgresStore(schema_url)
    try:
        assert again.schema_version() == SCHEMA_VERSION
        assert again.url == schema_url
    finally:
        again.close()


def test_write_load_history_roundtrip(store: PostgresStore) -> None:
    """What a write stores comes back equal: order, events, participants, idempotency."""
    port: OrderStore = store
    assert isinstance(port, OrderStore)
    placed = _placed(f"ord_{uuid.uuid4().hex}")
    order_id = placed.order.id
    store.write(placed)
    assert store.load(order_id) == placed.order
    assert store.history(order_id) == list(placed.events)

    accepted = _decided(placed.order, core.Accept(), "bob", T0.add(hours=1))
    assert accepted.next_timer_at is not None
    store.write(accepted)
    loaded = store.load(order_id)
    assert loaded == accepted.order
    assert loaded.state == "accepted"
    assert loaded.version == 2
    assert store.history(order_id) == [*placed.events, *accepted.events]
    assert store.history(order_id, since=1) == list(accepted.events)
    assert store.history(order_id, since=2) == []

    assert set(store.participants(order_id)) == set(placed.participants)
    assert store.participants("ord_nobody") == ()
    assert store.idempotency(f"key-{order_id}") == placed.idempotency
    assert store.idempotency("key-never-used") is None
    with pytest.raises(OrderNotFound):
        store.load("ord_missing")
    with pytest.raises(OrderNotFound):
        store.history("ord_missing")


def test_version_conflicts_raise_and_change_nothing(store: PostgresStore) -> None:
    """A stale version, a duplicate order and a reused key are ``ConcurrencyConflict``."""
    placed = _placed(f"ord_{uuid.uuid4().hex}")
    order_id = placed.order.id
    store.write(placed)
    accepted = _decided(placed.order, core.Accept(), "bob", T0.add(hours=1))
    store.write(accepted)

    stale = _decided(placed.order, core.Decline(reason="Fully booked"), "bob", T0.add(hours=2))
    with pytest.raises(ConcurrencyConflict):
        store.write(stale)
    with pytest.raises(ConcurrencyConflict):
        store.write(placed)
    stale_timer = Write(placed.order, (), placed.order.version, None)
    with pytest.raises(ConcurrencyConflict):
        store.write(stale_timer)

    other = _placed(f"ord_{uuid.uuid4().hex}")
    reused = Write(
        other.order,
        other.events,
        0,
        other.next_timer_at,
        idempotency=IdempotencyRecord(f"key-{order_id}", "place:alice", other.order.id, 1),
    )
    with pytest.raises(ConcurrencyConflict):
        store.write(reused)
    with pytest.raises(OrderNotFound):
        store.load(other.order.id)

    assert store.load(order_id) == accepted.order
    assert len(store.history(order_id)) == 2


def test_fire_next_due_claims_each_due_order_once(store: PostgresStore) -> None:
    """A claimed order is skipped by other workers; nothing due gives ``None``."""
    first = _accepted(store, ERA_2001)
    second = _accepted(store, ERA_2001.add(hours=1))
    cleared = _accepted(store, ERA_2001)
    store.write(Write(cleared, (), cleared.version, None))  # no events: only the timer moves
    now = ERA_2001.add(days=30)
    fire = _fire_at(now)

    assert store.fire_next_due(ERA_2001.add(days=1), fire) is None

    claimed = threading.Event()
    release = threading.Event()
    held: list[Write | None] = []
    errors: list[BaseException] = []

    def slow_fire(order: Order) -> Write:
        claimed.set()
        release.wait(timeout=30)
        return fire(order)

    def worker() -> None:
        try:
            held.append(store.fire_next_due(now, slow_fire))
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert claimed.wait(timeout=30)
        other = store.fire_next_due(now, fire)
        assert other is not None
        assert other.order.id == second.id
        assert other.events[0].action == Timer.delivery_due
        assert store.fire_next_due(now, fire) is None  # first is held, the rest is done
    finally:
        release.set()
        thread.join(timeout=30)
    assert errors == []
    assert len(held) == 1
    assert held[0] is not None
    assert held[0].order.id == first.id
    assert store.fire_next_due(now, fire) is None

    events = store.history(first.id)
    assert len(events) == 3
    assert events[-1].action == Timer.delivery_due
    assert store.load(first.id) == held[0].order
    assert store.load(cleared.id) == cleared


def test_unreachable_server_is_a_storage_error_without_the_password() -> None:
    """A server that refuses connections fails fast, naming the URL with its password masked."""
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        PostgresStore("postgresql://postgres:s3cret@127.0.0.1:1/test", connect_timeout=2)
    assert time.monotonic() - started < 10
    error: BaseException | None = caught.value
    message = str(caught.value)
    assert "127.0.0.1:1" in message
    assert "postgres:***@" in message
    while error is not None:
        assert "s3cret" not in str(error)
        error = error.__cause__ or error.__context__
