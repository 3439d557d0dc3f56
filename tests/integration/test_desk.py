"""``OrderDesk`` on every storage backend: stories, idempotency, timers, races, refusals."""

from __future__ import annotations

import asyncio
import inspect
import multiprocessing
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pendulum
import pytest

from order_lifecycle import (
    Action,
    ActionNotAvailable,
    Actor,
    AsyncOrderDesk,
    ConcurrencyConflict,
    Listing,
    ManualClock,
    Money,
    NotAParticipant,
    OrderDesk,
    OrderNotFound,
    OrderState,
    Policy,
    StorageError,
    SystemClock,
    ValidationError,
)

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)
CX = Actor.cx("carol")


def test_seed_story_accept_deliver_revise_approve(desk: OrderDesk, clock: ManualClock) -> None:
    """The seed's main story, end to end, stored and read back."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    assert desk.get(order.id) == order
    desk.accept(order.id, by="bob")
    clock.advance(days=2)
    delivered = desk.deliver(order.id, by="bob", files=[("post.png", b"\x89PNG...")])
    assert delivered.deliveries[0].files[0].media_type == "image/png"
    desk.request_revision(order.id, by="alice", note="Warmer colours please")
    desk.deliver(order.id, by="bob", outside=True, note="Posted on the account")
    done = desk.approve(order.id, by="alice")
    assert done.state is OrderState.complete
    assert desk.get(order.id) == done
    history = desk.history(order.id)
    assert [e.seq for e in history] == [1, 2, 3, 4, 5, 6]
    assert [e.action for e in history] == [
        Action.place,
        Action.accept,
        Action.deliver,
        Action.request_revision,
        Action.deliver,
        Action.approve,
    ]


def test_dispute_join_resolve(desk: OrderDesk) -> None:
    """A dispute, a CX agent joins and resumes the order."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    desk.dispute(order.id, by="alice", reason="No reply for days")
    desk.join(order.id, by=CX)
    resumed = desk.resolve(order.id, by=CX, outcome="resume", note="Seller is back")
    assert resumed.state is OrderState.accepted
    assert "carol" in desk.get(order.id).agents


def test_a_replaced_policy_rules_the_next_command(desk: OrderDesk) -> None:
    """``desk.policy`` may be replaced between commands: the next one is decided under
    the new policy (here a CX team without carol, so she may not join)."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    desk.dispute(order.id, by="alice", reason="No reply for days")
    desk.policy = Policy(cx_team=frozenset({"dave"}))
    with pytest.raises(NotAParticipant):
        desk.join(order.id, by=CX)
    desk.policy = Policy(cx_team=frozenset({"carol"}))
    assert "carol" in desk.join(order.id, by=CX).agents


def test_contract_update_through_the_desk(desk: OrderDesk) -> None:
    """A plain amount is read in the contract's currency."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    desk.propose_update(order.id, by="bob", price="180.00", revisions=3)
    updated = desk.accept_update(order.id, by="alice")
    assert updated.contract.price == Money("180.00", "USD")
    assert updated.contract.version == 2


def test_strangers_and_missing_orders(desk: OrderDesk) -> None:
    """Plain ids resolve to the parties; anyone else is refused by name."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    with pytest.raises(NotAParticipant):
        desk.accept(order.id, by="mallory")
    with pytest.raises(NotAParticipant):
        desk.actions(order.id, viewer="mallory")
    with pytest.raises(OrderNotFound):
        desk.get("ord_missing")
    with pytest.raises(OrderNotFound):
        desk.accept("ord_missing", by="bob")


def test_actions_and_next_step(desk: OrderDesk) -> None:
    """The viewer's options and prompt come from the core, at the clock's time."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    seller = {o.action: o for o in desk.actions(order.id, viewer="bob")}
    assert seller[Action.accept].available
    assert not seller[Action.deliver].available
    assert desk.next_step(order.id, viewer="bob").startswith("New order for «Instagram post»")


def test_idempotency_keys(desk: OrderDesk) -> None:
    """The same key and command returns the first result; another command is refused."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING, idempotency_key="p1")
    again = desk.place(buyer="alice", seller="bob", listing=LISTING, idempotency_key="p1")
    assert again == order
    accepted = desk.accept(order.id, by="bob", idempotency_key="a1")
    desk.say(order.id, by="alice", text="Thanks!")
    assert desk.accept(order.id, by="bob", idempotency_key="a1") == accepted
    assert len(desk.history(order.id)) == 3
    with pytest.raises(ValidationError) as raised:
        desk.say(order.id, by="alice", text="other", idempotency_key="a1")
    assert raised.value.field == "idempotency_key"
    assert len(desk.history(order.id)) == 3


def test_idempotency_keys_for_files(desk: OrderDesk) -> None:
    """Messages and deliveries with files: a repeat replays the first result (nothing new
    is stored), different files under the same key are refused."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    post = [("post.png", b"\x89PNG first")]
    said = desk.say(order.id, by="alice", text="See this", files=post, idempotency_key="s1")
    assert desk.say(order.id, by="alice", text="See this", files=post, idempotency_key="s1") == (
        said
    )
    done = desk.deliver(order.id, by="bob", files=post, idempotency_key="d1")
    assert desk.deliver(order.id, by="bob", files=post, idempotency_key="d1") == done
    assert len(desk.history(order.id)) == 4
    other = [("post.png", b"\x89PNG second")]
    with pytest.raises(ValidationError) as raised:
        desk.deliver(order.id, by="bob", files=other, idempotency_key="d1")
    assert raised.value.field == "idempotency_key"
    with pytest.raises(ValidationError):
        desk.say(order.id, by="alice", text="See this", files=other, idempotency_key="s1")
    assert len(desk.history(order.id)) == 4


def test_tick_fires_due_timers_once(desk: OrderDesk, clock: ManualClock) -> None:
    """Review window and delivery date: each timer fires once, late ones record due_at."""
    late = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(late.id, by="bob")
    review = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(review.id, by="bob")
    desk.deliver(review.id, by="bob", outside=True)
    assert desk.tick() == []
    clock.advance(days=9)
    fired = desk.tick()
    assert sorted(e.kind for e in fired) == ["delivery_date_passed", "order_auto_completed"]
    for event in fired:
        assert event.at == clock.now()
        assert event.due_at < event.at  # type: ignore[attr-defined]
    assert desk.tick() == []
    assert desk.get(review.id).state is OrderState.complete
    assert desk.get(late.id).state is OrderState.accepted
    clock.advance(days=30)
    assert desk.tick() == []


def test_tick_with_an_earlier_clock_fires_nothing(desk: OrderDesk, clock: ManualClock) -> None:
    """A clock that jumps backwards breaks nothing."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    assert desk.tick(now=T0.subtract(days=30)) == []
    assert desk.get(order.id).version == 2


def test_a_refused_command_changes_nothing(desk: OrderDesk, url: str) -> None:
    """Bad input, an unavailable action or a stranger leaves storage as it was."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    before = _dump(desk, url)
    refusals: list[Callable[[], object]] = [
        lambda: desk.approve(order.id, by="alice"),
        lambda: desk.accept(order.id, by="mallory"),
        lambda: desk.deliver(order.id, by="bob"),
        lambda: desk.deliver(order.id, by="alice", files=[("x.png", b"x")]),
        lambda: desk.say(order.id, by="alice", text=""),
        lambda: desk.say(order.id, by="alice", text="x" * 10_001),
        lambda: desk.propose_update(order.id, by="alice", price=1.5),  # type: ignore[arg-type]
        lambda: desk.dispute(order.id, by="alice", reason="  "),
        lambda: desk.cancel(order.id, by="alice", reason="too slow"),
    ]
    for refuse in refusals:
        with pytest.raises((ValidationError, ActionNotAvailable, NotAParticipant)):
            refuse()
        assert _dump(desk, url) == before


def _dump(desk: OrderDesk, url: str) -> object:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        with sqlite3.connect(path) as conn:
            return list(conn.iterdump())
    if url.startswith("postgresql"):
        return _pg_dump(url)
    store = desk.store
    return (
        dict(store._orders),  # type: ignore[attr-defined]
        {k: list(v) for k, v in store._events.items()},  # type: ignore[attr-defined]
        store.outbox_rows(),
    )


def _pg_dump(url: str) -> object:
    """Every row of every table of the test schema, in a stable order."""
    import psycopg
    from psycopg import sql

    base, _, query = url.partition("?")
    schema = dict(p.split("=", 1) for p in query.split("&"))["schema"]
    dump: dict[str, object] = {}
    with psycopg.connect(base) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
            " ORDER BY table_name",
            (schema,),
        ).fetchall()
        for (table,) in tables:
            rows = conn.execute(
                sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            ).fetchall()
            dump[table] = sorted(rows, key=repr)
    return dump


def test_racing_threads_record_exactly_one_decision(desk: OrderDesk) -> None:
    """Accept and decline race on each order: exactly one wins, no lost update."""
    orders = [desk.place(buyer="alice", seller="bob", listing=LISTING) for _ in range(10)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
        except (ActionNotAvailable, ConcurrencyConflict) as error:
            errors.append(error)

    with ThreadPoolExecutor(2) as pool:
        for order in orders:
            futures = [
                pool.submit(run, lambda o=order: desk.accept(o.id, by="bob")),  # type: ignore[misc]
                pool.submit(run, lambda o=order: desk.withdraw(o.id, by="alice")),  # type: ignore[misc]
            ]
            for future in futures:
                future.result()
    for order in orders:
        history = desk.history(order.id)
        assert len(history) == 2, [e.kind for e in history]
        assert history[1].kind in ("order_accepted", "order_withdrawn")
        assert desk.get(order.id).version == 2
    assert len(errors) == len(orders)


def _race_worker(url: str, order_ids: list[str], who: str, start: float) -> list[str]:
    import time

    outcomes = []
    with OrderDesk.open(url, clock=ManualClock(T0)) as desk:
        while time.time() < start:
            time.sleep(0.001)
        for order_id in order_ids:
            try:
                if who == "bob":
                    desk.accept(order_id, by="bob")
                else:
                    desk.withdraw(order_id, by="alice")
                outcomes.append("won")
            except (ActionNotAvailable, ConcurrencyConflict):
                outcomes.append("lost")
    return outcomes


def _tick_worker(url: str, now: str) -> list[str]:
    with OrderDesk.open(url, clock=ManualClock(T0)) as desk:
        return [f"{e.order_id}:{e.seq}" for e in desk.tick(now=now)]


def test_racing_processes_and_tick_workers(durable_url: str, tmp_path: Path) -> None:
    """Processes race on the same orders; several tick workers fire each timer once."""
    import time

    url = durable_url
    with OrderDesk.open(url, clock=ManualClock(T0)) as desk:
        ids = [desk.place(buyer="alice", seller="bob", listing=LISTING).id for _ in range(20)]
    ctx = multiprocessing.get_context("spawn")
    start = time.time() + 1.5
    with ctx.Pool(2) as pool:
        results = pool.starmap(_race_worker, [(url, ids, "bob", start), (url, ids, "alice", start)])
    assert [a == "won" or b == "won" for a, b in zip(*results, strict=True)] == [True] * 20
    assert [a != b for a, b in zip(*results, strict=True)] == [True] * 20
    with OrderDesk.open(url, clock=ManualClock(T0)) as desk:
        accepted = [i for i in ids if desk.get(i).state is OrderState.accepted]
        for order_id in ids:
            assert len(desk.history(order_id)) == 2
        for order_id in accepted:
            desk.deliver(order_id, by="bob", outside=True)
    later = T0.add(days=30).isoformat()
    with ctx.Pool(3) as pool:
        fired = pool.starmap(_tick_worker, [(url, later)] * 3)
    everything = [f for worker in fired for f in worker]
    assert len(everything) == len(set(everything)) == len(accepted)
    with OrderDesk.open(url, clock=ManualClock(T0)) as desk:
        for order_id in accepted:
            assert desk.get(order_id).state is OrderState.complete


def test_bad_urls_are_clear_errors(tmp_path: Path) -> None:
    """Unknown schemes are validation errors; an unopenable file is a StorageError."""
    with pytest.raises(ValidationError, match="not a storage URL"):
        OrderDesk.open("mysql://root:hunter2@localhost/db")
    with pytest.raises(ValidationError) as raised:
        OrderDesk.open("mysql://root:hunter2@localhost/db")
    assert "hunter2" not in str(raised.value)
    with pytest.raises(StorageError):
        OrderDesk.open(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'orders.db'}")


@pytest.mark.parametrize("due_at", ["2026-12-30T10:00:00", "tomorrow", 12])
def test_a_proposal_is_checked_participant_availability_then_arguments(
    desk: OrderDesk, due_at: object
) -> None:
    """Spec §4: participant, availability, arguments, in that order: a bad ``due_at``
    (no offset, not an instant, not a date) is refused only once the proposer may
    propose; an unknown order is not found first."""
    pending = desk.place(buyer="alice", seller="bob", listing=LISTING)
    with pytest.raises(NotAParticipant):
        desk.propose_update(pending.id, by="mallory", due_at=due_at)
    with pytest.raises(ActionNotAvailable):  # a CX agent takes part, but never proposes
        desk.propose_update(pending.id, by=CX, due_at=due_at)
    with pytest.raises(ActionNotAvailable):
        desk.propose_update(pending.id, by="bob", due_at=due_at)
    with pytest.raises(OrderNotFound):
        desk.propose_update("no-such-order", by="bob", due_at=due_at)
    desk.accept(pending.id, by="bob")
    with pytest.raises(ValidationError) as raised:
        desk.propose_update(pending.id, by="bob", due_at=due_at)
    assert raised.value.field == "due_at"
    assert len(desk.history(pending.id)) == 2


def test_a_proposal_keeps_its_key_whatever_form_its_instant_takes(
    desk: OrderDesk, clock: ManualClock
) -> None:
    """The same instant as text or as a datetime is the same command for its key."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    when = T0.add(days=20)
    first = desk.propose_update(order.id, by="bob", due_at=when, idempotency_key="u1")
    again = desk.propose_update(
        order.id, by="bob", due_at=when.in_tz("Europe/Paris").isoformat(), idempotency_key="u1"
    )
    assert again == first
    assert len(desk.history(order.id)) == 3


def test_open_names_its_parts_as_the_spec_does() -> None:
    """Spec §6: ``OrderDesk.open(url, *, policy=Policy(), clock=SystemClock(),
    notifier=None, blobs=None)``, and the same keywords on ``AsyncOrderDesk.open``."""
    for opener in (OrderDesk.open, AsyncOrderDesk.open):
        parameters = inspect.signature(opener).parameters
        assert list(parameters) == ["url", "policy", "clock", "notifier", "blobs"]
        assert all(p.kind is p.KEYWORD_ONLY for p in list(parameters.values())[1:])
        assert parameters["policy"].default == Policy()
        assert isinstance(parameters["clock"].default, SystemClock)
        assert parameters["notifier"].default is None
        assert parameters["blobs"].default is None
    with pytest.raises(TypeError):
        OrderDesk.open("memory://", clocks=ManualClock(T0))  # type: ignore[call-arg]


@pytest.mark.parametrize("part", ["clock", "blobs", "notifier"])
def test_open_refuses_parts_that_are_not_what_they_say(part: str) -> None:
    """A clock without ``now``, a blob store without ``put``/``get``, a notifier without
    ``send``: ``ValidationError`` naming the part when the desk opens, not an
    ``AttributeError`` at the first command that needs it."""
    parts: dict[str, Any] = {part: "x"}
    with pytest.raises(ValidationError) as raised:
        OrderDesk.open("memory://", **parts)
    assert raised.value.field == part

    async def open_async() -> None:
        await AsyncOrderDesk.open("memory://", **parts)

    with pytest.raises(ValidationError) as raised:
        asyncio.run(open_async())
    assert raised.value.field == part


def test_url_schemes_are_read_in_any_case(tmp_path: Path) -> None:
    """URL schemes are case-insensitive (RFC 3986): ``MEMORY://``, ``SQLite:///path``."""
    with OrderDesk.open("MEMORY://") as desk:
        assert desk.place(buyer="alice", seller="bob", listing=LISTING).version == 1
    path = tmp_path / "orders.db"
    with OrderDesk.open(f"SQLite:///{path}") as desk:
        placed = desk.place(buyer="alice", seller="bob", listing=LISTING)
    with OrderDesk.open(f"sqlite:///{path}") as desk:
        assert desk.get(placed.id) == placed


def test_an_in_memory_sqlite_url_points_to_memory() -> None:
    """``sqlite:///:memory:`` would be a new empty database per connection (per thread):
    refused, naming ``memory://``."""
    with pytest.raises(ValidationError, match="memory://") as raised:
        OrderDesk.open("sqlite:///:memory:")
    assert raised.value.field == "url"


def test_placing_with_an_id_already_taken_says_so(desk: OrderDesk) -> None:
    """A caller's ``order_id`` that another order has: ``ValidationError`` naming it (a
    retry would never succeed: it is no race), and the first order is untouched."""
    first = desk.place(buyer="alice", seller="bob", listing=LISTING, order_id="checkout-1")
    for _ in range(2):
        with pytest.raises(ValidationError, match="already") as raised:
            desk.place(buyer="carl", seller="bob", listing=LISTING, order_id="checkout-1")
        assert raised.value.field == "order_id"
    assert desk.get("checkout-1") == first
    assert len(desk.history("checkout-1")) == 1


def test_a_repeated_key_answers_after_the_policy_changed(
    desk: OrderDesk, clock: ManualClock
) -> None:
    """Spec §6: the same key and command returns the first result. When the order moved
    on since, that result is the history replayed to it: as the history was written, not
    under the desk's policy of today (an agent who left the CX team since, another dispute
    window or review period)."""
    desk.policy = Policy(cx_team={"carol"}, dispute_window=pendulum.duration(hours=4))
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    desk.dispute(order.id, by="alice", reason="Wrong account tagged")
    clock.advance(hours=5)
    assert [e.kind for e in desk.tick()] == ["dispute_escalated"]
    desk.join(order.id, by=CX)
    desk.resolve(order.id, by=CX, outcome="resume", note="Bob re-tags it")
    said = desk.say(order.id, by="alice", text="Thanks!", idempotency_key="s1")
    desk.say(order.id, by="bob", text="Done.")
    for later in (
        Policy(cx_team={"dave"}),
        Policy(dispute_window=pendulum.duration(days=2)),
        Policy(review_period=pendulum.duration(days=1)),
    ):
        desk.policy = later
        assert desk.say(order.id, by="alice", text="Thanks!", idempotency_key="s1") == said
    assert desk.get(order.id).version == said.version + 1


def test_a_repeated_key_answers_after_the_review_period_changed(
    desk: OrderDesk, clock: ManualClock
) -> None:
    """The review period a publication measured is the one its replay uses."""
    desk.policy = Policy(review_period=pendulum.duration(days=1))
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    desk.deliver(order.id, by="bob", outside=True)
    desk.approve(order.id, by="alice")
    desk.review(order.id, by="alice", rating=4)
    clock.advance(days=2)
    assert [e.kind for e in desk.tick()] == ["reviews_published"]
    said = desk.say(order.id, by="alice", text="Thanks again!", idempotency_key="r1")
    desk.say(order.id, by="bob", text="You're welcome.")
    desk.policy = Policy()  # the default 14-day period
    assert desk.say(order.id, by="alice", text="Thanks again!", idempotency_key="r1") == said
