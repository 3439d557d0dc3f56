"""A retry racing its first try with one idempotency key: whichever loses the race gets
the winner's result, not a refusal (``docs/storage.md``), also when the winner commits
between the loser's key lookup and its decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from order_lifecycle import ManualClock, OrderDesk, OrderState

from support import listing


class Interleaved:
    """A store that lets another writer commit right after its next key lookup."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.then: Callable[[], object] | None = None

    def idempotency(self, key: str) -> Any:
        found = self._store.idempotency(key)
        if self.then is not None:
            then, self.then = self.then, None
            then()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_retry_that_loses_the_race_gets_the_first_result(
    desk: OrderDesk, clock: ManualClock
) -> None:
    desk.place(buyer="alice", seller="bob", listing=listing(), order_id="o1")
    store = Interleaved(desk.store)
    retry = OrderDesk(store, clock=clock)
    winner: list[Any] = []
    store.then = lambda: winner.append(desk.accept("o1", by="bob", idempotency_key="K"))
    answer = retry.accept("o1", by="bob", idempotency_key="K")
    assert answer.state is OrderState.accepted
    assert answer == winner[0]
    assert [e.action for e in desk.history("o1")] == ["place", "accept"]
