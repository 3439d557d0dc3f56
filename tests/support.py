"""Builders shared by the tests: listings, attachments, and orders walked to each state."""

from __future__ import annotations

import hashlib
import io
import sys
from collections.abc import Callable

import pendulum

from order_lifecycle import Actor, Attachment, BuyerRequest, Listing, Money, Order, Policy, core

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
BUYER = "alice"
SELLER = "bob"
AGENT = "carol"


def listing(revisions: int = 2, *, days: int = 7, requests: bool = False) -> Listing:
    """The seed's listing: an Instagram post for 150.00 USD."""
    asked = (BuyerRequest("Which handle should be tagged?", required=True),) if requests else ()
    return Listing(
        "Instagram post", Money("150.00", "USD"), pendulum.duration(days=days), revisions, asked
    )


def attachment(name: str = "post.png", content: bytes = b"png bytes") -> Attachment:
    """A file as the blob store would have stored it."""
    digest = hashlib.sha256(content).hexdigest()
    return Attachment(name, len(content), "image/png", digest, f"blob:{digest}")


def placed(
    revisions: int = 2, *, policy: Policy = core.DEFAULT_POLICY, at: pendulum.DateTime = T0
) -> Order:
    """A pending order from alice to bob."""
    return core.place(
        buyer=BUYER, seller=SELLER, listing=listing(revisions), now=at, policy=policy, order_id="o1"
    ).order


class Walk:
    """An order walked through the lifecycle with a clock that only moves forward."""

    def __init__(self, revisions: int = 2, policy: Policy = core.DEFAULT_POLICY) -> None:
        self.policy = policy
        self.now = T0
        self.order = placed(revisions, policy=policy)

    def do(self, command: core.Command, actor: Actor | str, *, hours: float = 1) -> Order:
        """Advance the clock, run ``command`` and keep the new order."""
        self.now = self.now.add(hours=hours)  # type: ignore[arg-type]
        self.order = core.decide(
            self.order, command, actor=actor, now=self.now, policy=self.policy
        ).order
        return self.order


def to_accepted(w: Walk) -> Order:
    return w.do(core.Accept(), SELLER)


def to_delivered(w: Walk) -> Order:
    to_accepted(w)
    return w.do(core.Deliver(files=[attachment()]), SELLER)


def to_revision(w: Walk) -> Order:
    to_delivered(w)
    return w.do(core.RequestRevision(note="Warmer colours please"), BUYER)


def to_complete(w: Walk) -> Order:
    to_delivered(w)
    return w.do(core.Approve(), BUYER)


def to_disputed(w: Walk) -> Order:
    to_accepted(w)
    return w.do(core.Dispute(reason="No answer to my messages"), BUYER)


def to_disputed_joined(w: Walk) -> Order:
    to_disputed(w)
    return w.do(core.Join(), Actor.cx(AGENT))


def to_declined(w: Walk) -> Order:
    return w.do(core.Decline(reason="Fully booked"), SELLER)


def to_cancelled_by_party(w: Walk) -> Order:
    to_accepted(w)
    w.now = w.now.add(days=8)
    return w.do(core.Cancel(reason="Nothing delivered"), BUYER)


def to_pending(w: Walk) -> Order:
    return w.order


SCENARIOS: dict[str, Callable[[Walk], Order]] = {
    "pending": to_pending,
    "accepted": to_accepted,
    "delivered": to_delivered,
    "revision": to_revision,
    "complete": to_complete,
    "disputed": to_disputed,
    "disputed_joined": to_disputed_joined,
    "declined": to_declined,
    "cancelled_by_party": to_cancelled_by_party,
}


def run_cli(*args: str, stdout: io.StringIO | None = None) -> tuple[int, str, str]:
    """The CLI in process (fast): exit code, stdout, stderr. ``stdout`` is the stream it
    writes to (a fresh ``StringIO`` unless given)."""
    from order_lifecycle.cli import main

    out, err = stdout if stdout is not None else io.StringIO(), io.StringIO()
    old = sys.stderr
    sys.stderr = err
    try:
        code = main(list(args), stdout=out)
    finally:
        sys.stderr = old
    return code, out.getvalue(), err.getvalue()
