"""The inbox from the newest entry the desk stored with each order is exactly the inbox
rendered from the orders' events, in UTC and in other zones, for rows written before
entries were stored too."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pendulum
import pytest

from order_lifecycle import Actor, Listing, ManualClock, Money, OrderDesk, ValidationError
from order_lifecycle.views import ChatEntry, Conversation

LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)
T0 = pendulum.datetime(2026, 3, 29, 0, 30, 0, 250_000, tz="UTC")  # the night Paris moves


def _check_same(fast: list[Conversation], general: list[Conversation]) -> None:
    """Equal, and of the same types down to the entries' instants and their zone."""
    assert fast == general
    for mine, theirs in zip(fast, general, strict=True):
        assert type(mine) is Conversation
        assert [type(getattr(mine, f)) for f in ("state", "unread", "action_waiting")] == [
            type(getattr(theirs, f)) for f in ("state", "unread", "action_waiting")
        ]
        assert (mine.last is None) is (theirs.last is None)
        if mine.last is not None and theirs.last is not None:
            assert type(mine.last) is ChatEntry
            assert type(mine.last.at) is type(theirs.last.at) is pendulum.DateTime
            assert mine.last.at.tzinfo is theirs.last.at.tzinfo
            assert dt.datetime.isoformat(mine.last.at) == dt.datetime.isoformat(theirs.last.at)


def _forget_last_entry(url: str, order_id: str | None = None) -> None:
    """Make the order's row (or every row) look as an older schema left it: no stored
    entry."""
    where, params = ("", ()) if order_id is None else (" WHERE id = ?", (order_id,))
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///") :]) as conn:
            conn.execute("UPDATE orders SET last_entry = NULL" + where, params)
        return
    import psycopg

    base, _, query = url.partition("?")
    schema = query.split("schema=", 1)[1]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute("UPDATE orders SET last_entry = NULL" + where.replace("?", "%s"), params)


def test_the_stored_entries_make_the_inbox_the_events_make(durable_url: str) -> None:
    """Buyer, seller and agent; unread and waiting; files; a row with no stored entry."""
    clock = ManualClock(T0)
    with OrderDesk.open(durable_url, clock=clock) as desk:
        first = desk.place(buyer="alice", seller="bob", listing=LISTING)
        clock.advance(minutes=7, microseconds=1)
        desk.say(first.id, by="alice", text="Hi «bob» 👋", files=[("brief.txt", b"tag me")])
        desk.accept(first.id, by="bob")
        clock.advance(hours=1)
        second = desk.place(buyer="carl", seller="bob", listing=LISTING)
        desk.accept(second.id, by="bob")
        desk.deliver(second.id, by="bob", outside=True)
        desk.dispute(second.id, by="carl", reason="Wrong handle tagged")
        desk.join(second.id, by=Actor.cx("carol"))
        clock.advance(seconds=30)
        desk.say(second.id, by=Actor.cx("carol"), text="Looking into it.")
        clock.advance(seconds=1)
        third = desk.place(buyer="bob", seller="dave", listing=LISTING)
        desk.say(third.id, by="bob", text="Here is the brief.", files=[("brief.txt", b"tag me")])
        desk.mark_read(first.id, by="bob")
        clock.advance(days=1)
        fourth = desk.place(buyer="alice", seller="bob", listing=LISTING)
        desk.decline(fourth.id, by="bob", reason="Fully booked")
        _forget_last_entry(durable_url, fourth.id)
        clock.advance(seconds=1)
        fifth = desk.place(buyer="al", seller="alice", listing=LISTING)  # waits on alice

        bob = desk.inbox("bob")
        assert [c.order_id for c in bob] == [fourth.id, third.id, second.id, first.id]
        assert bob[0].last is not None
        assert bob[0].last.seq == 2  # read from its event
        assert bob[1].last is not None
        assert [f.name for f in bob[1].last.files] == ["brief.txt"]
        assert [c.counterpart for c in desk.inbox("carol")] == ["carl / bob"]
        assert desk.inbox("mallory") == []
        assert [(c.order_id, c.action_waiting) for c in desk.inbox("al")] == [(fifth.id, False)]
        assert (desk.inbox("alice")[0].order_id, desk.inbox("alice")[0].action_waiting) == (
            fifth.id,
            True,
        )
        users = ("al", "alice", "bob", "carl", "carol", "dave", "mallory")
        zones = ("UTC", "Europe/Paris", "Asia/Kolkata")
        stored = {(u, tz): desk.inbox(u, tz=tz) for u in users for tz in zones}
        _forget_last_entry(durable_url)
        for (user, tz), inbox in stored.items():
            _check_same(inbox, desk.inbox(user, tz=tz))


def test_the_memory_store_keeps_no_entry_and_lists_the_same_inbox() -> None:
    """The memory store keeps no stored entry: its inbox is rendered from the events."""
    clock = ManualClock(T0)
    with OrderDesk.open("memory://", clock=clock) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
        desk.say(order.id, by="alice", text="Hi")
        assert desk.store.conversations("bob")[0].last_entry is None
        [conversation] = desk.inbox("bob")
        assert conversation.last is not None
        assert (conversation.last.text, conversation.unread) == ("Hi", 2)


@pytest.mark.parametrize("tz", ["Mars/Olympus", ""])
def test_a_bad_zone_is_refused_before_the_store_is_asked(durable_url: str, tz: str) -> None:
    """The zone is checked by the desk, as before."""
    with OrderDesk.open(durable_url) as desk, pytest.raises(ValidationError):
        desk.inbox("bob", tz=tz)


def test_an_agent_who_joined_before_has_an_action_waiting_on_a_new_dispute(
    desk: OrderDesk,
) -> None:
    """Spec §5: action waiting for CX on a disputed order (join/resolve). An agent who
    joined an earlier dispute of the order (resumed since) may join the new one: it waits
    on them as on the whole team, until an agent joins it."""
    carol, dave = Actor.cx("carol"), Actor.cx("dave")
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    desk.dispute(order.id, by="alice", reason="first")
    desk.join(order.id, by=carol)
    desk.resolve(order.id, by=carol, outcome="resume", note="carry on")
    assert [c.action_waiting for c in desk.inbox("carol")] == [False]
    desk.dispute(order.id, by="alice", reason="second")
    assert next(o for o in desk.actions(order.id, viewer=carol) if o.action == "join").available
    assert [c.action_waiting for c in desk.inbox("carol")] == [True]
    desk.join(order.id, by=dave)
    assert [c.action_waiting for c in desk.inbox("carol")] == [False]
    assert [c.action_waiting for c in desk.inbox("dave")] == [True]


def test_newest_activity_first_also_within_one_instant(desk: OrderDesk) -> None:
    """Spec §5: newest activity first. Commands at the same instant (a clock that was not
    moved, or one microsecond) are ordered by which was written last, not by order id."""
    for order_id in ("o-a", "o-b", "o-c"):
        desk.place(buyer="alice", seller="bob", listing=LISTING, order_id=order_id)
    assert [c.order_id for c in desk.inbox("bob")] == ["o-c", "o-b", "o-a"]
    desk.say("o-a", by="alice", text="newest activity is here")
    assert [c.order_id for c in desk.inbox("bob")] == ["o-a", "o-c", "o-b"]
    desk.say("o-b", by="alice", text="and now here")
    assert [c.order_id for c in desk.inbox("bob")] == ["o-b", "o-a", "o-c"]
    assert [c.order_id for c in desk.inbox("alice")] == ["o-b", "o-a", "o-c"]
