"""``AsyncOrderDesk``: every command and query of ``OrderDesk`` as a coroutine.

The same flows as the synchronous desk (:mod:`order_lifecycle.desk.flows`): the decision
logic, idempotency, retries, file intake, the inbox, ``tick`` and ``relay`` exist once;
only the driver awaits. PostgreSQL runs on psycopg's async pool
(:class:`~order_lifecycle.adapters.postgres_async.AsyncPostgresStore`); SQLite and memory
run each storage call in a worker thread (:class:`ThreadedStore`), so the event loop never
blocks on them. Reading files, storing blobs and a notifier's ``send`` run in a worker
thread too (a notifier whose ``send`` is a coroutine function is awaited instead).

>>> import asyncio, pendulum
>>> from order_lifecycle import AsyncOrderDesk, Listing, ManualClock, Money
>>> async def story() -> str:
...     clock = ManualClock(pendulum.datetime(2026, 12, 1, 10))
...     async with await AsyncOrderDesk.open("memory://", clock=clock) as desk:
...         listing = Listing("Post", Money("150.00", "USD"), pendulum.duration(days=7), 2)
...         order = await desk.place(buyer="alice", seller="bob", listing=listing)
...         return (await desk.accept(order.id, by="bob")).state.value
>>> asyncio.run(story())
'accepted'
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

import pendulum

from order_lifecycle.clock import Clock
from order_lifecycle.core import api
from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Actor, Order, Policy, Role
from order_lifecycle.desk import files as intake
from order_lifecycle.desk import flows
from order_lifecycle.desk.base import DEFAULT_CLOCK, DEFAULT_POLICY, DeskBase
from order_lifecycle.desk.stores import open_store
from order_lifecycle.ports import (
    BlobStore,
    ConversationRow,
    FactsRow,
    FeedItem,
    IdempotencyRecord,
    Notifier,
    OrderFacts,
    OutboxRow,
    Participant,
    Store,
    Write,
)
from order_lifecycle.stats import Metrics, ReviewSummary
from order_lifecycle.views import ChatEntry, Conversation, OrderView, RelayReport

__all__ = ["AsyncOrderDesk", "AsyncStore", "ThreadedStore"]

T = TypeVar("T")


@runtime_checkable
class AsyncStore(Protocol):
    """The storage port as coroutines: :class:`~order_lifecycle.ports.Store`'s methods,
    with the same arguments and results."""

    async def write(self, write: Write) -> None:
        """As ``OrderStore.write``."""

    async def load(self, order_id: str) -> Order:
        """As ``OrderStore.load``."""
        ...

    async def history(self, order_id: str, since: int = 0) -> list[Event]:
        """As ``OrderStore.history``."""
        ...

    async def feed(self, after: int, limit: int) -> list[FeedItem]:
        """As ``OrderStore.feed``."""
        ...

    async def idempotency(self, key: str) -> IdempotencyRecord | None:
        """As ``OrderStore.idempotency``."""

    async def fire_next_due(
        self, now: pendulum.DateTime, fire: Callable[[Order], Write]
    ) -> Write | None:
        """As ``OrderStore.fire_next_due``."""

    async def participants(self, order_id: str) -> Sequence[Participant]:
        """As ``OrderStore.participants``."""
        ...

    async def facts(
        self, user_id: str, role: Role, since: pendulum.DateTime | None
    ) -> list[FactsRow]:
        """As ``OrderStore.facts``."""
        ...

    async def keep_facts(self, order_id: str, facts: OrderFacts) -> None:
        """As ``OrderStore.keep_facts``."""

    async def reviewed(self, user_id: str) -> list[Order]:
        """As ``OrderStore.reviewed``."""
        ...

    async def is_empty(self) -> bool:
        """As ``OrderStore.is_empty``."""
        ...

    async def claim_outbox(
        self, now: pendulum.DateTime, limit: int, lease: pendulum.Duration
    ) -> list[OutboxRow]:
        """As ``ChatStore.claim_outbox``."""
        ...

    async def finish_outbox(
        self, item_id: int, *, sent: bool, error: str | None, retry_at: pendulum.DateTime | None
    ) -> None:
        """As ``ChatStore.finish_outbox``."""

    async def outbox_rows(self, order_id: str | None = None) -> list[OutboxRow]:
        """As ``ChatStore.outbox_rows``."""
        ...

    async def conversations(self, user_id: str) -> list[ConversationRow]:
        """As ``ChatStore.conversations``."""
        ...

    async def mark_read(self, order_id: str, user_id: str, seq: int) -> None:
        """As ``ChatStore.mark_read``."""

    async def close(self) -> None:
        """Release connections; the store is not used again."""


class ThreadedStore:
    """A synchronous store behind coroutines: each call runs in a worker thread, so the
    event loop never waits on it (SQLite and memory; any ``Store``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def recent(self, order_id: str) -> Order | None:
        """The store's ``recent`` (no I/O: called directly, not in a thread)."""
        return flows.recent(self.store, order_id)

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.store, name)
        if not callable(method):
            raise AttributeError(name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(method, *args, **kwargs)

        return functools.update_wrapper(call, method)


class AsyncOrderDesk(DeskBase["AsyncStore | ThreadedStore", Coroutine[Any, Any, Order]]):
    """The application service as coroutines: ``OrderDesk``'s commands and queries, with
    the same keywords, on an event loop. The commands are :class:`DeskBase`'s (each
    returns a coroutine of the order); the queries, ``relay`` and ``tick`` are below."""

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        policy: Policy | None = DEFAULT_POLICY,
        clock: Clock | None = DEFAULT_CLOCK,
        notifier: Notifier | None = None,
        blobs: BlobStore | None = None,
    ) -> AsyncOrderDesk:
        """A desk on ``memory://``, ``sqlite:///path`` or ``postgresql://...`` (psycopg's
        async pool); files go where ``OrderDesk.open`` puts them."""
        if isinstance(url, str) and url.split(":", 1)[0].lower() in ("postgresql", "postgres"):
            from order_lifecycle.adapters.postgres_async import AsyncPostgresStore

            store: AsyncStore | ThreadedStore = await AsyncPostgresStore.open(url)
            default_blobs: BlobStore = cast(AsyncPostgresStore, store).blobs
        else:
            sync_store, default_blobs = await asyncio.to_thread(open_store, url)
            store = ThreadedStore(sync_store)
        blobs = default_blobs if blobs is None else blobs
        return cls(store, policy=policy, clock=clock, notifier=notifier, blobs=blobs)

    async def close(self) -> None:
        """Release the store's connections."""
        await self.store.close()

    async def __aenter__(self) -> AsyncOrderDesk:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _drive(self, flow: flows.Flow[T]) -> T:
        """Run ``flow``, awaiting each call it asks for (see ``OrderDesk._drive``)."""
        result: Any = None
        error: Exception | None = None
        while True:
            try:
                call = flow.send(result) if error is None else flow.throw(error)
            except StopIteration as done:
                return cast(T, done.value)
            try:
                result, error = await self._perform(call), None
            except Exception as failure:  # handed to the flow, which raises or handles it
                result, error = None, failure

    async def _perform(self, call: flows.Call) -> Any:
        name = call.name
        if name == "read_files":
            return await asyncio.to_thread(intake.read_files, call.args[0], self.policy)
        if name == "put_files":
            return await asyncio.to_thread(intake.store, call.args[0], self.blobs)
        if name == "send":
            assert self.notifier is not None  # relay checks it before it starts
            send = self.notifier.send
            if inspect.iscoroutinefunction(send):
                return await send(call.args[0])
            return await asyncio.to_thread(send, call.args[0])
        if name == "pause":
            await asyncio.sleep(call.args[0])
            return None
        method: Callable[..., Awaitable[Any]] = getattr(self.store, name)
        return await method(*call.args, **call.kwargs)

    def _command(self, flow: flows.Flow[Order]) -> Coroutine[Any, Any, Order]:
        return self._drive(flow)

    # -- queries -------------------------------------------------------------------

    async def get(self, order_id: str) -> Order:
        """``OrderDesk.get``, awaited."""
        return await self._drive(flows.get(order_id))

    async def history(self, order_id: str) -> list[Event]:
        """``OrderDesk.history``, awaited."""
        return await self._drive(flows.events_of(order_id))

    async def feed(self, after: int = 0, limit: int = 100) -> list[FeedItem]:
        """``OrderDesk.feed``, awaited."""
        return await self._drive(flows.feed(after, limit))

    async def actions(
        self, order_id: str, *, viewer: Actor | str, tz: str = "UTC"
    ) -> list[api.ActionOption]:
        """``OrderDesk.actions``, awaited."""
        return await self._drive(flows.actions(self._settings, order_id, viewer, tz))

    async def next_step(self, order_id: str, *, viewer: Actor | str, tz: str = "UTC") -> str:
        """``OrderDesk.next_step``, awaited."""
        return await self._drive(flows.prompt(self._settings, order_id, viewer, tz))

    async def chat(
        self,
        order_id: str,
        *,
        viewer: Actor | str,
        since: int | None = None,
        tz: str = "UTC",
        next_step: bool = False,
    ) -> list[ChatEntry]:
        """``OrderDesk.chat``, awaited."""
        flow = flows.chat(
            self._settings, order_id, viewer, since=since, tz=tz, with_prompt=next_step
        )
        return await self._drive(flow)

    async def view(self, order_id: str, *, viewer: Actor | str, tz: str = "UTC") -> OrderView:
        """``OrderDesk.view``, awaited."""
        return await self._drive(flows.view(self._settings, order_id, viewer, tz))

    async def inbox(self, user: Actor | str, *, tz: str = "UTC") -> list[Conversation]:
        """``OrderDesk.inbox``, awaited."""
        return await self._drive(flows.inbox(user, tz))

    async def mark_read(self, order_id: str, *, by: Actor | str) -> None:
        """``OrderDesk.mark_read``, awaited."""
        await self._drive(flows.mark_read(self._settings, order_id, by))

    async def reviews(self, user: str) -> ReviewSummary:
        """``OrderDesk.reviews``, awaited."""
        return await self._drive(flows.reviews(user))

    async def metrics(self, user: str, *, role: str = "seller", since: object = None) -> Metrics:
        """``OrderDesk.metrics``, awaited."""
        return await self._drive(flows.metrics(self._settings, user, role, since))

    # -- notifications and timers ----------------------------------------------------

    async def relay(self, limit: int = 100, *, now: object = None) -> RelayReport:
        """``OrderDesk.relay``, awaited."""
        self._check_notifier()
        return await self._drive(flows.relay(self._settings, limit, now))

    async def tick(self, now: object = None, *, limit: int = 1000) -> list[Event]:
        """``OrderDesk.tick``, awaited."""
        return await self._drive(flows.tick(self._settings, now, limit))
