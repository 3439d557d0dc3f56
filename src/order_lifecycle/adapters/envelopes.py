"""The JSON document a notifier sends for an envelope, and its reader for receivers."""

from __future__ import annotations

import json

from order_lifecycle.core.model import Role
from order_lifecycle.errors import ValidationError
from order_lifecycle.ports import Envelope

__all__ = ["decode_envelope", "encode_envelope"]


_FIELDS = frozenset(
    {"id", "order_id", "seq", "recipient", "role", "kind", "text", "attempt", "event"}
)


def encode_envelope(envelope: Envelope) -> bytes:
    """The envelope as the UTF-8 JSON document the webhook and RabbitMQ notifiers send.

    Compact, with sorted keys; ``ValidationError`` if the event holds data JSON cannot
    carry.
    """
    document = {
        "id": envelope.id,
        "order_id": envelope.order_id,
        "seq": envelope.seq,
        "recipient": envelope.recipient,
        "role": str(envelope.role.value),
        "kind": envelope.kind,
        "text": envelope.text,
        "attempt": envelope.attempt,
        "event": dict(envelope.event),
    }
    try:
        text = json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as error:
        raise ValidationError("envelope.event", f"is not JSON-ready data: {error}") from None
    return text.encode("utf-8")


def decode_envelope(body: bytes) -> Envelope:
    """The envelope a receiver reads from a body made by :func:`encode_envelope`.

    ``ValidationError`` (field ``body``) when ``body`` is not such a document.

    >>> from order_lifecycle.core.model import Role
    >>> sent = Envelope(1, "o1", 2, "bob", Role.seller, "order_accepted", {}, "Accepted.", 1)
    >>> decode_envelope(encode_envelope(sent)) == sent
    True
    """
    try:
        document = json.loads(body.decode("utf-8"))
        if not isinstance(document, dict) or set(document) != _FIELDS:
            raise ValueError("not an envelope document")
        envelope = Envelope(
            id=_whole(document["id"]),
            order_id=_text(document["order_id"]),
            seq=_whole(document["seq"]),
            recipient=_text(document["recipient"]),
            role=Role(document["role"]),
            kind=_text(document["kind"]),
            event=document["event"],
            text=_text(document["text"]),
            attempt=_whole(document["attempt"]),
        )
        if not isinstance(envelope.event, dict):
            raise ValueError("event is not an object")
    except (UnicodeDecodeError, ValueError, AttributeError) as error:
        raise ValidationError("body", f"is not an order-lifecycle envelope: {error}") from None
    return envelope


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not a whole number")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    return value
