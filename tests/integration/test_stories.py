"""The seed stories play to their end on every backend; their chats match their histories."""

from __future__ import annotations

import pytest

from order_lifecycle import ManualClock, OrderDesk, OrderState
from order_lifecycle.stories import START, STORIES

ENDS = {
    "accepted and approved": OrderState.complete,
    "revised twice, then auto-completed": OrderState.complete,
    "late and cancelled": OrderState.cancelled,
    "disputed, joined by CX and resumed": OrderState.complete,
    "a contract update": OrderState.complete,
    "reminders and working days": OrderState.complete,
}


@pytest.mark.parametrize("name", sorted(STORIES))
def test_story_plays_to_its_end(name: str, url: str) -> None:
    """Each story ends where the seed says, with one chat entry per event."""
    clock = ManualClock(START)
    with OrderDesk.open(url, clock=clock) as desk:
        order_id = STORIES[name](desk, clock)
        order = desk.get(order_id)
        assert order.state is ENDS[name]
        history = desk.history(order_id)
        chat = desk.chat(order_id, viewer=order.seller)
        assert (
            [e.seq for e in chat] == [e.seq for e in history] == list(range(1, order.version + 1))
        )
