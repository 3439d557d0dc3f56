"""Timers due at one instant fire in the same order on every store: by order id (the
order of ``tick``'s answer, of ``tick(limit=1)``, of the feed's positions)."""

from __future__ import annotations

import pendulum

from order_lifecycle import ManualClock, OrderDesk, Policy

from support import listing

WINDOW = Policy(acceptance_window=pendulum.duration(days=1))


def test_timers_due_at_one_instant_fire_by_order_id(url: str, clock: ManualClock) -> None:
    with OrderDesk.open(url, clock=clock, policy=WINDOW) as desk:
        for order_id in ("zz", "mm", "aa", "qq"):
            desk.place(buyer="alice", seller="bob", listing=listing(), order_id=order_id)
        clock.advance(days=2)
        first = desk.tick(limit=1)
        assert [e.order_id for e in first] == ["aa"]
        rest = desk.tick()
        assert [e.order_id for e in rest] == ["mm", "qq", "zz"]
        assert [item.event.order_id for item in desk.feed()][-4:] == ["aa", "mm", "qq", "zz"]
