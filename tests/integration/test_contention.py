"""Writers that keep meeting on one order: a command that loses the race is decided again
after a pause at random (growing with each loss), so writers spread out instead of
meeting again; under ordinary contention no caller sees ``ConcurrencyConflict``."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from order_lifecycle import ConcurrencyConflict, ManualClock, OrderDesk
from order_lifecycle.desk import flows
from order_lifecycle.ports import Write

from support import listing


class Contended:
    """A store whose first ``losses`` writes lose to another writer."""

    def __init__(self, store: Any, losses: int) -> None:
        self._store = store
        self.losses = losses

    def write(self, write: Write) -> None:
        if self.losses:
            self.losses -= 1
            raise ConcurrencyConflict(write.order.id, write.expected_version)
        self._store.write(write)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_lost_race_pauses_at_random_before_deciding_again(
    desk: OrderDesk, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = desk.place(buyer="alice", seller="bob", listing=listing())
    pauses: list[float] = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    contended = OrderDesk(Contended(desk.store, losses=4), clock=clock)
    contended.say(order.id, by="alice", text="Hello")
    # The first loss may be on the order this process held (decided again at once); every
    # loss on the order as stored pauses, each at most twice as long as the one before.
    assert 3 <= len(pauses) <= 4
    for n, pause in enumerate(pauses, 1):
        assert 0 <= pause <= min(flows.BACKOFF_CAP, flows.BACKOFF_BASE * 2**n)
    assert [e.action for e in desk.history(order.id)] == ["place", "say"]


def test_a_command_that_never_wins_is_a_conflict_after_its_attempts(
    desk: OrderDesk, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = desk.place(buyer="alice", seller="bob", listing=listing())
    monkeypatch.setattr(time, "sleep", lambda _: None)
    contended = OrderDesk(Contended(desk.store, losses=10**6), clock=clock)
    with pytest.raises(ConcurrencyConflict):
        contended.say(order.id, by="alice", text="Hello")
    assert [e.action for e in desk.history(order.id)] == ["place"]


@pytest.mark.parametrize("writers", [4])
def test_writers_on_one_order_all_get_through(url: str, writers: int) -> None:
    with OrderDesk.open(url) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=listing())
        failures: list[BaseException] = []

        def write(who: str) -> None:
            mine = desk if url == "memory://" else OrderDesk.open(url)
            try:
                for n in range(30):
                    mine.say(order.id, by=who, text=f"{who} {n}")
            except BaseException as error:  # reported below, with the others
                failures.append(error)
            finally:
                if mine is not desk:
                    mine.close()

        threads = [
            threading.Thread(target=write, args=("alice" if n % 2 else "bob",))
            for n in range(writers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert len(desk.history(order.id)) == 1 + 30 * writers
