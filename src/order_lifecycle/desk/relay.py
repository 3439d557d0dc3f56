"""The outbox relay's parts: how long a claim lasts, and the envelope of a claimed row
(the relay itself is ``flows.relay``)."""

from __future__ import annotations

from typing import Any, Final

import pendulum

from order_lifecycle import serde
from order_lifecycle.core.events import Event, ReviewLeft
from order_lifecycle.ports import Envelope, OutboxRow
from order_lifecycle.views import entry

__all__ = ["RELAY_LEASE", "envelope_of"]

#: How long a relay holds the notifications it claimed before another may take them.
RELAY_LEASE: Final = pendulum.duration(minutes=2)


def _shown(event: Event) -> dict[str, Any]:
    """The event as its recipients may see it: a review that is not published yet
    (double-blind) travels without its rating and text, like its chat notice."""
    data = serde.event_to_dict(event)
    if isinstance(event, ReviewLeft) and not event.published:
        del data["rating"], data["text"]
    return data


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
        event=_shown(item.event),
        text=entry(item.event).text,
        attempt=item.attempts + 1,
    )
