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
from order_lifecycle.core.model import Attachment, Money, Order, OrderReview
from order_lifecycle.errors import (
    ActionNotAvailable,
    ConcurrencyConflict,
    NotAParticipant,
    OrderLifecycleError,
    OrderNotFound,
    StorageError,
    ValidationError,
)
from order_lifecycle.ports import FeedItem
from order_lifecycle.stats import Metrics
from order_lifecycle.views import ChatEntry, Conversation

__all__ = [
    "conversation_json",
    "duration_json",
    "entry_json",
    "error_json",
    "event_json",
    "feed_item_json",
    "file_json",
    "metrics_json",
    "option_json",
    "order_json",
    "review_json",
]


def _iso(value: _dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _money(value: Money | None) -> str | None:
    return None if value is None else value.minor


def review_json(review: OrderReview, *, published: bool) -> dict[str, Any]:
    """A review as JSON; one not published yet shows only who left it, and when."""
    shown: dict[str, Any] = {"by": review.by, "role": review.role.value, "at": _iso(review.at)}
    if published:
        shown.update(about=review.about.value, rating=review.rating, text=review.text)
    return shown


def order_json(order: Order) -> dict[str, Any]:
    """An order as a JSON document: the CLI's ``--json`` shape, for web hosts too.

    Reviews not published yet (double-blind) show only who left them, and when.
    """
    contract = order.contract
    proposal = order.proposal
    dispute = order.dispute
    cancellation = order.cancellation
    request = order.info_request
    settlement = order.settlement
    cancel_request = order.cancellation_request
    published = order.reviews_published_at is not None
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
        "settlement": None
        if settlement is None
        else {
            "refund": settlement.refund.minor,
            "payout": settlement.payout.minor,
            "currency": settlement.refund.currency,
            "by": str(settlement.by),
            "at": _iso(settlement.at),
            "note": settlement.note,
        },
        "cancellation_request": None
        if cancel_request is None
        else {
            "by": cancel_request.by,
            "role": cancel_request.role.value,
            "reason": cancel_request.reason,
            "refund": _money(cancel_request.refund),
            "at": _iso(cancel_request.at),
            "expires_at": _iso(cancel_request.expires_at),
        },
        "reviews": [review_json(r, published=published) for r in order.reviews],
        "reviews_published_at": _iso(order.reviews_published_at),
    }


def duration_json(value: _dt.timedelta | None) -> float | None:
    """A duration as JSON: seconds (``None`` stays ``null``)."""
    return None if value is None else value.total_seconds()


def metrics_json(metrics: Metrics) -> dict[str, Any]:
    """A user's metrics as JSON: rates as fractions (0..1), durations in seconds."""
    return {
        "user": metrics.user,
        "role": metrics.role.value,
        "since": _iso(metrics.since),
        "orders": metrics.orders,
        "completed": metrics.completed,
        "cancelled": metrics.cancelled,
        "completion_rate": metrics.completion_rate,
        "on_time_rate": metrics.on_time_rate,
        "revision_rate": metrics.revision_rate,
        "dispute_rate": metrics.dispute_rate,
        "median_accept_time": duration_json(metrics.median_accept_time),
        "median_delivery_time": duration_json(metrics.median_delivery_time),
        "rating_average": metrics.rating_average,
        "rating_count": metrics.rating_count,
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


def error_json(error: OrderLifecycleError) -> dict[str, Any]:
    """A refusal or failure as JSON: ``error`` (its kind, to switch on), ``message`` (the
    sentence) and the error's own fields: ``field`` of a validation error, ``action``,
    ``reason`` (the sentence ``actions`` gives) and ``order_id`` of an unavailable
    action, ``order_id`` and ``actor`` of a stranger, ``order_id`` of a missing order or a
    conflict."""
    document: dict[str, Any]
    match error:
        case ValidationError():
            document = {"error": "validation_error", "message": error.message}
            document["field"] = error.field
        case ActionNotAvailable():
            document = {"error": "action_not_available", "message": error.reason}
            document |= {"action": str(error.action), "reason": error.reason}
            document["order_id"] = error.order_id
        case NotAParticipant():
            document = {"error": "not_a_participant", "message": str(error)}
            document |= {"order_id": error.order_id, "actor": error.actor_id}
        case OrderNotFound():
            document = {"error": "order_not_found", "message": str(error)}
            document["order_id"] = error.order_id
        case ConcurrencyConflict():
            document = {"error": "concurrency_conflict", "message": str(error)}
            document["order_id"] = error.order_id
        case StorageError():
            document = {"error": "storage_error", "message": str(error)}
        case _:
            document = {"error": "error", "message": str(error)}
    return document


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
