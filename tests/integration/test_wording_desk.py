"""What the desk tells a CX agent and a dashboard: sentences found wrong in review."""

from __future__ import annotations

import pytest

from order_lifecycle import NotAParticipant, OrderDesk, Policy

from support import listing

TEAM = Policy(cx_team=frozenset({"carol", "dave"}))


def test_a_cx_agent_who_has_not_joined_is_told_to_join_first(url: str) -> None:
    with OrderDesk.open(url, policy=TEAM) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=listing())
        desk.accept(order.id, by="bob")
        desk.dispute(order.id, by="alice", reason="No answer")
        with pytest.raises(NotAParticipant) as refused:
            desk.chat(order.id, viewer="cx:dave")
        assert "must join" in str(refused.value)
        assert "before reading its chat" in str(refused.value)


def test_the_inbox_of_a_cx_agent_named_as_everywhere_else(url: str) -> None:
    """``cx:carol`` names CX agent carol for ``by=`` and ``viewer=``; the inbox takes it
    too (and an ``Actor``), not as another user with no conversations."""
    from order_lifecycle import Actor

    with OrderDesk.open(url, policy=TEAM) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=listing())
        desk.accept(order.id, by="bob")
        desk.dispute(order.id, by="alice", reason="No answer")
        desk.join(order.id, by="cx:carol")
        plain = desk.inbox("carol")
        assert [c.order_id for c in plain] == [order.id]
        assert desk.inbox("cx:carol") == plain
        assert desk.inbox(Actor.cx("carol")) == plain
