"""JSON documents of orders, actions, chat entries, conversations and events.

The shapes the CLI prints with ``--json`` and a web host can return as they are:
instants are ISO 8601 with their UTC offset, money amounts are strings with the
currency's decimals (never floats), durations (in ``terms`` and ``reminders_sent``) whole
microseconds, as in the stored documents.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from order_lifecycle import serde
from order_lifecycle.core.api import ActionOption
from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Attachment, Order
from order_lifecycle.ports import FeedItem
from order_lifecycle.views import ChatEntry, Conversation

__all__ = [
    "conversation_json",
    "entry_json",
    "event_json",
    "feed_item_json",
    "file_json",
    "option_json",
    "order_json",
]


def _iso(value: _dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def order_json(order: Order) -> dict[str, Any]:
    """An order as a JSON document: the CLI's ``--json`` shape, for web hosts too."""
    contract = order.contract
    proposal = order.proposal
    dispute = order.dispute
    cancellation = order.cancellation
    request = order.info_request
    return {
        "id": order.id,
        "state": order.state.value,
        "buyer": order.buyer,
        "seller": order.seller,
        "title": order.listing.title,
        "price": contract.price.minor,
        "currency": contract.price.currency,
        "revisions_used": order.revisions_used,
        "revisions_allowed": contract.revisions,
        "due_at": _iso(contract.due_at),
        "review_due_at": _iso(order.review_due_at),
        "version": order.version,
        "contract_version": contract.version,
        "placed_at": _iso(order.placed_at),
        "accepted_at": _iso(order.accepted_at),
        "delivered_at": _iso(order.delivered_at),
        "completed_at": _iso(order.completed_at),
        "answers": dict(order.answers),
        "deliveries": [
            {
                "at": _iso(d.at),
                "files": [file_json(f) for f in d.files],
                "outside": d.outside,
                "note": d.note,
            }
            for d in order.deliveries
        ],
        "proposal": None
        if proposal is None
        else {
            "by": proposal.by,
            "price": None if proposal.price is None else proposal.price.minor,
            "due_at": _iso(proposal.due_at),
            "revisions": proposal.revisions,
            "expires_at": _iso(proposal.expires_at),
        },
        "dispute": None
        if dispute is None
        else {
            "opened_by": str(dispute.opened_by),
            "reason": dispute.reason,
            "from_state": dispute.from_state.value,
            "agent": dispute.agent,
            "outcome": None if dispute.outcome is None else dispute.outcome.value,
            "escalated_at": _iso(dispute.escalated_at),
        },
        "cancellation": None
        if cancellation is None
        else {
            "by": str(cancellation.by),
            "reason": cancellation.reason.value,
            "note": cancellation.note,
            "agent": cancellation.agent,
        },
        "paused": order.paused,
        "info_request": None
        if request is None
        else {
            "question": request.question,
            "at": _iso(request.at),
            "resume_by": _iso(request.resume_by),
        },
        "lifecycle": order.lifecycle,
        "terms": None if order.terms is None else serde.converter.unstructure(order.terms),
        "reminders_sent": serde.converter.unstructure(order.reminders_sent),
    }


def file_json(item: Attachment) -> dict[str, Any]:
    """An attachment as JSON."""
    return {
        "name": item.name,
        "size": item.size,
        "media_type": item.media_type,
        "sha256": item.sha256,
        "uri": item.uri,
    }


def entry_json(item: ChatEntry) -> dict[str, Any]:
    """A chat entry as JSON: ``{seq, at, kind, author, text, files}``."""
    return {
        "seq": item.seq,
        "at": _iso(item.at),
        "kind": item.kind,
        "author": item.author,
        "text": item.text,
        "files": [file_json(f) for f in item.files],
    }


def event_json(event: Event) -> dict[str, Any]:
    """A history event as JSON: its fields, ``actor`` as ``USER`` / ``cx:USER`` / ``system``."""
    data = serde.event_to_dict(event)
    data["actor"] = str(event.actor)
    data["actor_role"] = event.actor.role.value
    return data


def feed_item_json(item: FeedItem) -> dict[str, Any]:
    """A feed item as JSON: ``{position, event}``, the event as :func:`event_json`."""
    return {"position": item.position, "event": event_json(item.event)}


def option_json(option: ActionOption) -> dict[str, Any]:
    """An available action as JSON: ``{action, available, reason}``."""
    return {"action": option.action.value, "available": option.available, "reason": option.reason}


def conversation_json(conversation: Conversation) -> dict[str, Any]:
    """An inbox conversation as JSON."""
    return {
        "order_id": conversation.order_id,
        "title": conversation.title,
        "state": conversation.state.value,
        "counterpart": conversation.counterpart,
        "unread": conversation.unread,
        "action_waiting": conversation.action_waiting,
        "last": None if conversation.last is None else entry_json(conversation.last),
    }
