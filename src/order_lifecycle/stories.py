"""Seed stories played on a desk, with time travel: for the docs, the demo and the tests.

Each story is a function ``(desk, clock) -> order id`` that plays one order of the seed
help article. They use only the public ``OrderDesk`` API.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Final

import pendulum

from order_lifecycle.clock import ManualClock
from order_lifecycle.core.model import Actor, BuyerRequest, Listing, Money, Policy
from order_lifecycle.core.terms import Calendar, Deadline, Reminder
from order_lifecycle.core.values import human_instant
from order_lifecycle.desk import OrderDesk
from order_lifecycle.views import ChatEntry

__all__ = ["DEADLINE_POLICY", "START", "STORIES", "Story", "render_chat", "seed_transcript"]

START: Final = pendulum.datetime(2026, 12, 1, 9, tz="UTC")
CX: Final = Actor.cx("carol")

Story = Callable[[OrderDesk, ManualClock], str]


def _listing(revisions: int = 2, days: int = 7) -> Listing:
    return Listing(
        title="Instagram post",
        price=Money("150.00", "USD"),
        delivery=pendulum.duration(days=days),
        revisions=revisions,
        requests=(BuyerRequest("Which handle should be tagged?", required=True),),
    )


#: A marketplace that counts working days in Paris (8 Dec a holiday), reminds the party
#: who must act a day before the delivery and review deadlines, and lets a question pause
#: the delivery clock for up to three days.
DEADLINE_POLICY: Final = Policy(
    review_window=pendulum.duration(days=3),
    reminders=(
        Reminder(Deadline.delivery, pendulum.duration(days=1)),
        Reminder(Deadline.review, pendulum.duration(days=1)),
    ),
    calendar=Calendar("Europe/Paris", holidays=frozenset({_dt.date(2026, 12, 8)})),
    max_pause=pendulum.duration(days=3),
)


def _place(desk: OrderDesk, buyer: str = "alice", seller: str = "bob", revisions: int = 2) -> str:
    return desk.place(
        buyer=buyer,
        seller=seller,
        listing=_listing(revisions),
        answers={"Which handle should be tagged?": "@alice.makes"},
    ).id


def accepted_and_approved(desk: OrderDesk, clock: ManualClock) -> str:
    """Accepted, delivered with a file, approved."""
    order_id = _place(desk)
    clock.advance(minutes=30)
    desk.say(order_id, by="bob", text="Thanks! Any colours you want me to use?")
    clock.advance(minutes=20)
    desk.say(order_id, by="alice", text="Warm ones, please.")
    desk.accept(order_id, by="bob")
    clock.advance(days=3)
    desk.deliver(order_id, by="bob", files=[("post.png", b"\x89PNG final")], note="Here it is!")
    clock.advance(hours=5)
    desk.approve(order_id, by="alice")
    return order_id


def revised_then_auto_completed(desk: OrderDesk, clock: ManualClock) -> str:
    """Revised twice, then the buyer goes quiet and the review window completes it."""
    order_id = _place(desk)
    clock.advance(hours=2)
    desk.accept(order_id, by="bob")
    for round_ in (1, 2):
        clock.advance(days=1)
        desk.deliver(order_id, by="bob", files=[(f"draft-{round_}.png", b"\x89PNG draft")])
        clock.advance(hours=6)
        desk.request_revision(order_id, by="alice", note=f"Round {round_}: warmer colours")
    clock.advance(days=1)
    desk.deliver(order_id, by="bob", outside=True, note="Posted on the account directly")
    clock.advance(days=8)
    desk.tick()
    return order_id


def late_and_cancelled(desk: OrderDesk, clock: ManualClock) -> str:
    """Nothing delivered by the due date; the buyer cancels and CX settles the money."""
    order_id = _place(desk, buyer="dana")
    desk.accept(order_id, by="bob")
    clock.advance(days=8)
    desk.tick()
    desk.cancel(order_id, by="dana", reason="Nothing was delivered")
    clock.advance(hours=1)
    desk.join(order_id, by=CX)
    desk.say(order_id, by=CX, text="I'm refunding the full amount to dana.")
    return order_id


def disputed_and_resumed(desk: OrderDesk, clock: ManualClock) -> str:
    """A dispute over the delivery; CX joins and resumes the order, restarting the review."""
    order_id = _place(desk, buyer="erin")
    desk.accept(order_id, by="bob")
    clock.advance(days=2)
    desk.deliver(order_id, by="bob", files=[("post.png", b"\x89PNG")])
    clock.advance(hours=3)
    desk.dispute(order_id, by="erin", reason="The wrong handle is tagged")
    clock.advance(hours=2)
    desk.join(order_id, by=CX)
    desk.say(order_id, by=CX, text="bob, can you fix the tag? erin, please re-check after.")
    desk.resolve(order_id, by=CX, outcome="resume", note="Seller will fix the tag")
    clock.advance(hours=1)
    desk.say(order_id, by="bob", text="Fixed!")
    desk.approve(order_id, by="erin")
    return order_id


def contract_update(desk: OrderDesk, clock: ManualClock) -> str:
    """The seller needs more time; the buyer accepts a new due date and price."""
    order_id = _place(desk, buyer="frank")
    desk.accept(order_id, by="bob")
    clock.advance(days=5)
    due = clock.now().add(days=5)
    desk.propose_update(order_id, by="bob", due_at=due, price="180.00")
    clock.advance(hours=4)
    desk.accept_update(order_id, by="frank")
    clock.advance(days=4)
    desk.deliver(order_id, by="bob", outside=True)
    desk.approve(order_id, by="frank")
    return order_id


def reminders_and_working_days(desk: OrderDesk, clock: ManualClock) -> str:
    """Placed under working-day terms with reminders (which the order keeps, whatever
    policy the desk runs later); a question pauses the delivery clock; reminders come a
    day before each deadline; the review window lapses."""
    marketplace = OrderDesk(desk.store, policy=DEADLINE_POLICY, clock=clock, blobs=desk.blobs)
    order_id = _place(marketplace, buyer="gina")
    clock.advance(hours=1)
    desk.accept(order_id, by="bob")  # due in 7 working days: the weekend and 8 Dec skipped
    clock.advance(hours=3)
    desk.request_info(order_id, by="bob", question="Should the post mention the sale?")
    clock.advance(hours=20)
    desk.provide_info(order_id, by="gina", answer="Yes, 20% off until Friday.")
    due = desk.get(order_id).contract.due_at
    assert due is not None
    clock.set(due.subtract(days=1))
    desk.tick()  # the seller's reminder
    clock.advance(hours=2)
    desk.deliver(order_id, by="bob", files=[("sale-post.png", b"\x89PNG sale")])
    review = desk.get(order_id).review_due_at
    assert review is not None
    clock.set(review.subtract(days=1))
    desk.tick()  # the buyer's reminder
    clock.set(review)
    desk.tick()  # the review window lapses: complete
    return order_id


STORIES: Final[dict[str, Story]] = {
    "accepted and approved": accepted_and_approved,
    "revised twice, then auto-completed": revised_then_auto_completed,
    "late and cancelled": late_and_cancelled,
    "disputed, joined by CX and resumed": disputed_and_resumed,
    "a contract update": contract_update,
    "reminders and working days": reminders_and_working_days,
}


def render_chat(entries: list[ChatEntry], tz: str = "UTC") -> str:
    """A chat as plain text: messages by their author, notices set apart with a dot."""
    lines = []
    for item in entries:
        when = human_instant(item.at, tz)
        if item.kind == "message":
            files = f" [{', '.join(f.name for f in item.files)}]" if item.files else ""
            lines.append(f"{when}  {item.author}: {item.text}{files}")
        elif item.kind == "notice":
            lines.append(f"{when}  · {item.text}")
        else:
            lines.append(f"{' ' * len(when)}  » {item.text}")
    return "\n".join(lines)


def seed_transcript(
    story: str = "revised twice, then auto-completed", viewer: str = "alice"
) -> str:
    """The chat of one seed story as ``viewer`` sees it, ending with the chatbot's prompt."""
    clock = ManualClock(START)
    with OrderDesk.open("memory://", clock=clock) as desk:
        order_id = STORIES[story](desk, clock)
        return render_chat(desk.chat(order_id, viewer=viewer, next_step=True))
