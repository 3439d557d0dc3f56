"""``AsyncOrderDesk``: the same commands and queries as coroutines, on every backend."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pendulum
import pytest

from order_lifecycle import (
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
    ValidationError,
    core,
)
from order_lifecycle.adapters.notifiers import MemoryNotifier

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)


def test_the_seed_story_as_coroutines(url: str) -> None:
    """Every command and query of the story, awaited, gives what the sync desk gives."""

    async def story() -> None:
        clock = ManualClock(T0)
        notifier = MemoryNotifier()
        async with await AsyncOrderDesk.open(url, clock=clock, notifier=notifier) as desk:
            order = await desk.place(buyer="alice", seller="bob", listing=LISTING)
            assert (await desk.get(order.id)) == order
            await desk.accept(order.id, by="bob")
            clock.advance(days=1)
            delivered = await desk.deliver(order.id, by="bob", files=[("post.png", b"\x89PNG")])
            assert delivered.deliveries[0].files[0].media_type == "image/png"
            await desk.request_revision(order.id, by="alice", note="Warmer")
            await desk.propose_update(order.id, by="bob", price="180.00")
            await desk.accept_update(order.id, by="alice")
            await desk.say(order.id, by="alice", text="Thanks")
            await desk.execute(order.id, core.Deliver(outside=True), by="bob")
            options = await desk.actions(order.id, viewer="alice")
            assert {str(o.action) for o in options if o.available} >= {"approve", "say"}
            assert "approve" in (await desk.next_step(order.id, viewer="alice")).lower()
            chat = await desk.chat(order.id, viewer="alice", next_step=True)
            assert chat[-1].kind == "next_step"
            view = await desk.view(order.id, viewer="bob")
            assert view.chat is not None
            assert len(view.chat) == view.order.version
            [conversation] = await desk.inbox("alice")
            assert conversation.unread > 0
            await desk.mark_read(order.id, by="alice")
            assert (await desk.inbox("alice"))[0].unread == 0
            clock.advance(days=8)
            fired = await desk.tick()
            assert [e.kind for e in fired] == ["order_auto_completed"]
            report = await desk.relay()
            assert report.sent == len(notifier.sent) > 0
            history = await desk.history(order.id)
            assert (await desk.get(order.id)).state is OrderState.complete
        if url != "memory://":  # what the async desk wrote, the sync desk reads
            with OrderDesk.open(url) as sync_desk:
                assert sync_desk.history(order.id) == history

    asyncio.run(story())


def test_refusals_are_the_same_typed_errors(url: str) -> None:
    """Not found, not a participant, not available, invalid: as the sync desk raises them."""

    async def refusals() -> None:
        async with await AsyncOrderDesk.open(url, clock=ManualClock(T0)) as desk:
            order = await desk.place(buyer="alice", seller="bob", listing=LISTING)
            with pytest.raises(OrderNotFound):
                await desk.get("nope")
            with pytest.raises(NotAParticipant):
                await desk.accept(order.id, by="mallory")
            with pytest.raises(ActionNotAvailable):
                await desk.approve(order.id, by="alice")
            with pytest.raises(ValidationError):
                await desk.decline(order.id, by="bob", reason="x" * 100_000)
            with pytest.raises(ValidationError):
                await desk.relay()
            assert len(await desk.history(order.id)) == 1

    asyncio.run(refusals())


def test_racing_commands_on_one_order_end_with_one_winner(durable_url: str) -> None:
    """Sixteen concurrent coroutines accept and decline one order: exactly one wins."""

    async def race() -> None:
        async with await AsyncOrderDesk.open(durable_url, clock=ManualClock(T0)) as desk:
            order = await desk.place(buyer="alice", seller="bob", listing=LISTING)
            attempts = [
                desk.accept(order.id, by="bob") if i % 2 else desk.decline(order.id, by="bob")
                for i in range(16)
            ]
            results = await asyncio.gather(*attempts, return_exceptions=True)
            wins = [r for r in results if not isinstance(r, BaseException)]
            losses = [r for r in results if isinstance(r, BaseException)]
            assert len(wins) == 1
            assert all(isinstance(e, (ActionNotAvailable, ConcurrencyConflict)) for e in losses)
            assert (await desk.get(order.id)).version == 2

    asyncio.run(race())


def test_concurrent_commands_on_many_orders(durable_url: str) -> None:
    """Sixteen orders placed and accepted at once on one event loop; all land."""

    async def many() -> None:
        async with await AsyncOrderDesk.open(durable_url, clock=ManualClock(T0)) as desk:
            placed = await asyncio.gather(
                *(desk.place(buyer=f"b{i}", seller="bob", listing=LISTING) for i in range(16))
            )
            accepted = await asyncio.gather(*(desk.accept(o.id, by="bob") for o in placed))
            assert {o.state for o in accepted} == {OrderState.accepted}
            assert len(await desk.inbox("bob")) == 16

    asyncio.run(many())


def test_sqlite_calls_leave_the_event_loop_free(tmp_path: Path) -> None:
    """While commands run, another task keeps running: SQLite works in worker threads."""

    async def check() -> None:
        url = f"sqlite:///{tmp_path / 'orders.db'}"
        async with await AsyncOrderDesk.open(url, clock=ManualClock(T0)) as desk:
            beats = 0
            done = asyncio.Event()

            async def heartbeat() -> None:
                nonlocal beats
                while not done.is_set():
                    beats += 1
                    await asyncio.sleep(0)

            beating = asyncio.create_task(heartbeat())
            started = time.perf_counter()
            for i in range(20):
                order = await desk.place(buyer=f"b{i}", seller="bob", listing=LISTING)
                await desk.accept(order.id, by="bob")
            done.set()
            await beating
            assert time.perf_counter() > started
            assert beats >= 40  # the loop ran the heartbeat during every awaited call

    asyncio.run(check())


def test_an_async_notifier_is_awaited(tmp_path: Path) -> None:
    """A notifier whose ``send`` is a coroutine function is awaited on the loop."""

    class Collect:
        def __init__(self) -> None:
            self.kinds: list[str] = []

        async def send(self, envelope: object) -> None:
            await asyncio.sleep(0)
            self.kinds.append(getattr(envelope, "kind", ""))

    async def check() -> None:
        notifier = Collect()
        url = f"sqlite:///{tmp_path / 'orders.db'}"
        async with await AsyncOrderDesk.open(url, notifier=notifier) as desk:  # type: ignore[arg-type]
            order = await desk.place(buyer="alice", seller="bob", listing=LISTING)
            await desk.accept(order.id, by="bob")
            await desk.dispute(order.id, by="alice", reason="Late")
            await desk.join(order.id, by=Actor.cx("carol"))
            report = await desk.relay()
        assert report.sent == len(notifier.kinds)
        assert "order_disputed" in notifier.kinds

    asyncio.run(check())
