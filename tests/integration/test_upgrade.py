"""Databases written by release 0.1 open, migrate in place and keep working.

The fixtures in ``tests/fixtures`` were written by release 0.1 (``make_release_0_1.py``):
orders in every state, with armed timers and undelivered outbox rows, placed before
orders pinned their terms. The current library opens them, reads every order as its
history implies, and runs commands and timers on them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from fixtures.make_release_0_1 import POLICY, T0
from order_lifecycle import LIFECYCLE_VERSION, ManualClock, OrderDesk, OrderState
from order_lifecycle.core.replay import replay

from pg import drop_schema, new_schema, pg_url, require_pg, schema_url

FIXTURES = Path(__file__).parent.parent / "fixtures"
#: The instant the release-0.1 desk stopped at (see make_release_0_1.py).
STOPPED = T0.add(days=4)
STATES = {
    "pending": OrderState.cancelled,
    "late": OrderState.accepted,
    "delivered": OrderState.delivered,
    "revision": OrderState.revision,
    "disputed": OrderState.disputed,
    "complete": OrderState.complete,
    "declined": OrderState.cancelled,
    "proposal": OrderState.accepted,
    "accepted": OrderState.accepted,
    "expiring": OrderState.pending,
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A copy of the release-0.1 database, as a URL."""
    if request.param == "sqlite":
        path = tmp_path / "orders.db"
        shutil.copy(FIXTURES / "release_0_1.sqlite3", path)
        yield f"sqlite:///{path}"
        return
    require_pg()
    schema = new_schema()
    script = (FIXTURES / "release_0_1.pg.sql").read_text().replace("release_0_1", schema)
    with psycopg.connect(pg_url(), autocommit=True) as conn:
        conn.execute(script.encode())
    try:
        yield schema_url(schema)
    finally:
        drop_schema(schema)


def test_old_database_opens_and_every_order_reads_back(old_url: str) -> None:
    """Every order loads, is what its history implies, and keeps its lifecycle version."""
    clock = ManualClock(STOPPED)
    with OrderDesk.open(old_url, clock=clock, policy=POLICY) as desk:
        for order_id, state in STATES.items():
            order = desk.get(order_id)
            assert order.state is state
            assert order.lifecycle == "1"
            assert order.terms is None  # placed before terms were pinned: the policy rules
            history = desk.history(order_id)
            assert order.version == len(history)
            assert replay(history, policy=POLICY) == order
            assert desk.chat(order_id, viewer="alice")
            assert desk.actions(order_id, viewer="bob")
            assert desk.next_step(order_id, viewer="alice")
        assert {c.order_id for c in desk.inbox("alice")} == set(STATES)


def test_old_orders_take_commands_and_timers(old_url: str) -> None:
    """Commands and ``tick`` run on the old orders; new orders get this release's lifecycle."""
    clock = ManualClock(STOPPED)
    with OrderDesk.open(old_url, clock=clock, policy=POLICY) as desk:
        assert desk.deliver("late", by="bob", outside=True).state is OrderState.delivered
        assert desk.accept_update("proposal", by="alice").contract.price.minor == "175.00"
        desk.resolve("disputed", by="cx:carol", outcome="complete", note="Done")
        assert desk.get("disputed").state is OrderState.complete
        clock.advance(days=7)
        fired = {(e.order_id, e.kind) for e in desk.tick()}
        assert fired == {
            ("delivered", "order_auto_completed"),
            ("late", "order_auto_completed"),
            ("accepted", "delivery_date_passed"),
            ("expiring", "order_expired"),
        }
        assert desk.tick() == []
        new = desk.place(buyer="alice", seller="bob", listing=desk.get("late").listing)
        assert new.lifecycle == LIFECYCLE_VERSION
        assert new.terms == POLICY.terms
        assert desk.get(new.id) == new
        assert desk.get("late").terms is None  # a write does not pin an old order's terms
        for order_id in STATES:
            history = desk.history(order_id)
            assert replay(history, policy=POLICY) == desk.get(order_id)
