"""The library's own stateful desk test: the shipped ``DeskRules``, on SQLite.

``DeskRules`` drives the desk with random commands by random actors at random times and
checks the invariants of spec section 13 after every step; among them, that each stored
order is the replay of its stored history through the pure core (so the desk and the
core agree). This subclass adds what a host would: its own store (SQLite in a temporary
folder), a policy that arms every timer of the table (section 4's acceptance window and
every deadline of section 11 but calendars), and rules of its own: deliveries and
messages with files, whose attachments must come back as stored, and the event feed of
spec section 12: every event of every order exactly once, in increasing positions, each
order's events in the order of its history.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pendulum
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from order_lifecycle import (
    ActionNotAvailable,
    Actor,
    ManualClock,
    OrderDesk,
    OrderState,
    Policy,
    Reminder,
    Role,
)
from order_lifecycle.core.events import MessagePosted
from order_lifecycle.testing import DeskRules

DAY = pendulum.duration(days=1)
POLICY = Policy(
    acceptance_window=DAY * 3,
    reminders=(Reminder("delivery", DAY), Reminder("review", DAY), Reminder("proposal", DAY)),
    proposal_window=DAY * 2,
    on_proposal_silence="accept",
    dispute_window=DAY * 2,
    max_pause=DAY * 2,
)
PNG = b"\x89PNG drawn by the seller"


class DeskOnSQLite(DeskRules):
    """``DeskRules`` on a SQLite desk, with files."""

    def make_desk(self, clock: ManualClock) -> OrderDesk:
        """A desk on a SQLite file of its own, under the policy with an acceptance window."""
        self.folder = tempfile.TemporaryDirectory()
        url = f"sqlite:///{Path(self.folder.name) / 'orders.db'}"
        return OrderDesk.open(url, clock=clock, policy=POLICY)

    def teardown(self) -> None:
        """Close the desk and remove its folder."""
        super().teardown()
        self.folder.cleanup()

    @precondition(lambda self: bool(self.order_ids))
    @rule(data=st.data(), with_message=st.booleans())
    def deliver_a_file(self, data: st.DataObject, with_message: bool) -> None:
        """The seller delivers a file (or posts one in the chat) when the order allows it;
        the attachment is stored and recorded with its size and digest."""
        order_id = data.draw(st.sampled_from(self.order_ids))
        seller = Actor(self.seller, Role.seller)
        before = self.desk.get(order_id)
        try:
            if with_message:
                after = self.desk.say(order_id, by=seller, files=[("draft.png", PNG)])
                posted = self.desk.history(order_id)[-1]
                assert isinstance(posted, MessagePosted)
                (attachment,) = posted.files
            else:
                after = self.desk.deliver(order_id, by=seller, files=[("draft.png", PNG)])
                (attachment,) = after.deliveries[-1].files
        except ActionNotAvailable:
            assert before.state not in (OrderState.accepted, OrderState.revision) or with_message
            assert self.desk.get(order_id) == before
            return
        assert after.version == before.version + 1
        assert (attachment.name, attachment.size) == ("draft.png", len(PNG))
        assert attachment.sha256 == hashlib.sha256(PNG).hexdigest()
        assert self.desk.blobs.get(attachment.sha256) == PNG

    @invariant()
    def feed_lists_every_event_once(self) -> None:
        """The feed, read in pages of 7 from position 0, holds each order's history in
        order, every event once, at strictly increasing positions."""
        positions: list[int] = []
        seen: dict[str, list[object]] = {}
        after = 0
        while page := self.desk.feed(after=after, limit=7):
            assert len(page) <= 7
            for item in page:
                positions.append(item.position)
                seen.setdefault(item.event.order_id, []).append(item.event)
            after = page[-1].position
        assert positions == sorted(set(positions))
        assert seen == {order_id: list(self.desk.history(order_id)) for order_id in self.order_ids}


TestDeskOnSQLite = DeskOnSQLite.TestCase
TestDeskOnSQLite.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
