"""The outbox relay: pending notifications, delivered at least once through a notifier."""

from __future__ import annotations

from typing import Final

import pendulum

from order_lifecycle import serde
from order_lifecycle.core import values
from order_lifecycle.core.model import Policy
from order_lifecycle.ports import ChatStore, Envelope, Notifier, OutboxRow
from order_lifecycle.views import RelayReport, entry

__all__ = ["RELAY_LEASE", "envelope_of", "relay"]

#: How long a relay holds the notifications it claimed before another may take them.
RELAY_LEASE: Final = pendulum.duration(minutes=2)


def envelope_of(item: OutboxRow) -> Envelope:
    """The envelope a notifier sends for a claimed outbox row (one with its event)."""
    if item.event is None:
        raise ValueError(f"outbox row {item.id} was not claimed: it carries no event")
    return Envelope(
        id=item.id,
        order_id=item.order_id,
        seq=item.seq,
        recipient=item.recipient,
        role=item.role,
        kind=item.kind,
        event=serde.event_to_dict(item.event),
        text=entry(item.event).text,
        attempt=item.attempts + 1,
    )


def relay(
    store: ChatStore, notifier: Notifier, policy: Policy, now: pendulum.DateTime, limit: int
) -> RelayReport:
    """Send up to ``limit`` due notifications; see ``OrderDesk.relay``."""
    sent = retried = dead = 0
    while sent + retried + dead < limit:
        batch = min(100, limit - (sent + retried + dead))
        items = store.claim_outbox(now, batch, RELAY_LEASE)
        if not items:
            break
        for item in items:
            try:
                notifier.send(envelope_of(item))
            except Exception as error:  # any failure means "not delivered": retry or dead
                attempts = item.attempts + 1
                reason = f"{type(error).__name__}: {error}"[:2000]
                if attempts >= policy.max_delivery_attempts:
                    store.finish_outbox(item.id, sent=False, error=reason, retry_at=None)
                    dead += 1
                else:
                    retry_at = values.shift(now, policy.retry_delay(attempts))
                    store.finish_outbox(item.id, sent=False, error=reason, retry_at=retry_at)
                    retried += 1
            else:
                store.finish_outbox(item.id, sent=True, error=None, retry_at=None)
                sent += 1
    return RelayReport(sent, retried, dead)
