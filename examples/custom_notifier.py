"""A host's own notifier: each notification becomes an email in an in-memory mailbox.

A notifier is any object with ``send(envelope)`` (the ``Notifier`` protocol): it returns
when the envelope is delivered and raises when it is not, and ``desk.relay()`` tries again
later with back-off. Delivery is *at least once*, so the notifier drops an envelope whose
``id`` it has already delivered (the id is the outbox row's, the same on every retry).

This one renders an email per recipient, skips recipients the host has no address for
(returning without raising: there is nothing to retry), and fails once, as a mail server
outage would, so that the relay retries.

Run it with ``python examples/custom_notifier.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pendulum

from order_lifecycle import Actor, Listing, ManualClock, Money, NotificationError, OrderDesk
from order_lifecycle.desk import CX_TEAM
from order_lifecycle.ports import Envelope

#: Where the marketplace's web pages live (links in the emails).
SITE: Final = "https://market.example"


@dataclass(frozen=True)
class Email:
    """One rendered email, as a mail server would take it."""

    message_id: str
    to: str
    subject: str
    body: str


class MailServerDown(NotificationError):
    """The simulated outage: the mail server did not answer."""


class MailboxNotifier:
    """Renders envelopes as emails into ``mailbox`` (address -> emails, oldest first).

    ``addresses`` maps a recipient (a user id, or ``cx_team`` for the CX team's alerts) to
    an email address; a recipient without one is skipped and noted in ``skipped``.
    ``outages`` makes the first N sends fail, to show the relay's retries.
    """

    def __init__(self, addresses: dict[str, str], *, outages: int = 0) -> None:
        self.addresses = dict(addresses)
        self.mailbox: dict[str, list[Email]] = {}
        self.skipped: list[str] = []
        self.failures: list[str] = []
        self._outages_left = outages
        self._delivered: set[int] = set()

    def send(self, envelope: Envelope) -> None:
        """Deliver ``envelope`` as an email, or raise so that the relay retries it."""
        if self._outages_left > 0:
            self._outages_left -= 1
            error = MailServerDown(
                f"the mail server did not answer for envelope {envelope.id} "
                f"(attempt {envelope.attempt})",
                envelope_id=envelope.id,
            )
            self.failures.append(str(error))
            raise error
        if envelope.id in self._delivered:
            return  # a retry of something already delivered: at least once, shown once
        address = self.addresses.get(envelope.recipient)
        if address is None:
            # Returning (not raising) marks it sent: retrying would not give us an address.
            self.skipped.append(f"{envelope.recipient} ({envelope.kind}): no email address")
            self._delivered.add(envelope.id)
            return
        greeting = "CX team" if envelope.recipient == CX_TEAM else envelope.recipient
        email = Email(
            message_id=f"<outbox-{envelope.id}@market.example>",
            to=address,
            subject=f"[{envelope.order_id}] {envelope.kind.replace('_', ' ').capitalize()}",
            body=(
                f"Hello {greeting},\n\n{envelope.text}\n\n"
                f"Open the conversation: {SITE}/orders/{envelope.order_id}"
            ),
        )
        self.mailbox.setdefault(address, []).append(email)
        self._delivered.add(envelope.id)


def main() -> int:
    """Play a short story, relay through the mailbox notifier, retry after the outage."""
    clock = ManualClock(pendulum.datetime(2026, 12, 1, 9, tz="UTC"))
    notifier = MailboxNotifier(
        {
            "alice": "alice@example.com",
            "carol": "carol@cx.market.example",
            "cx_team": "cx-team@market.example",
            # bob turned email notifications off: the host has no address for him.
        },
        outages=1,
    )
    listing = Listing("Logo design", Money("80.00", "USD"), pendulum.duration(days=3), 1)
    carol = Actor.cx("carol")
    with OrderDesk.open("memory://", notifier=notifier, clock=clock) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=listing)
        clock.advance(hours=2)
        desk.accept(order.id, by="bob")
        clock.advance(days=1)
        desk.deliver(order.id, by="bob", files=[("logo.svg", b"<svg/>")], note="First draft")
        clock.advance(hours=5)
        desk.dispute(order.id, by="alice", reason="The logo is not the one we agreed on.")
        clock.advance(hours=1)
        desk.join(order.id, by=carol)
        print(f"order {order.id}: {desk.get(order.id).state}, {len(desk.history(order.id))} events")

        first = desk.relay()
        print(f"first relay:  {first}")
        delay = desk.policy.retry_delay(1)
        clock.advance(seconds=delay.in_seconds() + 1)
        print(f"clock moved {delay.in_seconds() + 1} s past the outage")
        second = desk.relay()
        print(f"second relay: {second}")
        third = desk.relay()
        print(f"third relay:  {third} (nothing left)")

    print("\nmailbox:")
    for address, emails in sorted(notifier.mailbox.items()):
        print(f"  {address}: {len(emails)} email(s)")
        for email in emails:
            print(f"    {email.message_id} {email.subject}")
    print("\nfailed sends (retried by the relay):")
    for line in notifier.failures:
        print(f"  {line}")
    print("\nskipped:")
    for line in notifier.skipped:
        print(f"  {line}")
    sample = notifier.mailbox["cx-team@market.example"][0]
    print(f"\nTo: {sample.to}\nSubject: {sample.subject}\n\n{sample.body}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
