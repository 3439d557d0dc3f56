"""Quick start: one order's whole story on the embedded SQLite default, with time travel.

Run it with ``make demo`` or ``python examples/quickstart.py [path/to/orders.db]``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pendulum

from order_lifecycle import Actor, BuyerRequest, Listing, ManualClock, Money, OrderDesk


def main(argv: list[str] | None = None) -> int:
    """Play a seed story and print each step, the chatbot's prompts and the history."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(tempfile.mkdtemp(prefix="order-lifecycle-"))
    path = Path(args[0]) if args else folder / "orders.db"
    clock = ManualClock(pendulum.datetime(2026, 12, 1, 9, tz="UTC"))
    listing = Listing(
        title="Instagram post",
        price=Money("150.00", "USD"),
        delivery=pendulum.duration(days=7),
        revisions=2,
        requests=(BuyerRequest("Which handle should be tagged?", required=True),),
    )
    with OrderDesk.open(f"sqlite:///{path}", clock=clock) as desk:
        order = desk.place(
            buyer="alice",
            seller="bob",
            listing=listing,
            answers={"Which handle should be tagged?": "@alice.makes"},
        )
        print(f"order {order.id} on {path}")

        def show(step: str) -> None:
            current = desk.get(order.id)
            print(f"\n[{clock.now().format('ddd D MMM HH:mm')}] {step} -> {current.state}")
            print(f"  seller bot: {desk.next_step(order.id, viewer='bob')}")
            print(f"  buyer bot:  {desk.next_step(order.id, viewer='alice')}")

        show("alice bought «Instagram post»")
        clock.advance(hours=3)
        desk.accept(order.id, by="bob")
        show("bob accepted")
        clock.advance(days=3)
        desk.deliver(order.id, by="bob", files=[("post.png", b"\x89PNG draft")], note="Draft 1")
        show("bob delivered post.png")
        clock.advance(days=1)
        desk.request_revision(order.id, by="alice", note="Warmer colours please")
        show("alice asked for a revision")
        clock.advance(days=1)
        desk.deliver(order.id, by="bob", files=[("post-v2.png", b"\x89PNG final")])
        show("bob delivered again")
        clock.advance(days=8)
        fired = desk.tick()
        show(f"tick fired {[e.kind for e in fired]} (alice did not answer in 7 days)")
        cancel = next(o for o in desk.actions(order.id, viewer="alice") if o.action == "cancel")
        print(f"\nalice may cancel? {cancel.available}: {cancel.reason}")
        print("\nhistory:")
        for event in desk.history(order.id):
            print(
                f"  {event.seq:>2} {event.at.format('D MMM HH:mm')} {event.kind:<22} {event.actor}"
            )
        cx = Actor.cx("carol")
        print(f"\na CX agent sees: {desk.next_step(order.id, viewer=cx)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
