"""Seller and buyer metrics, and review summaries: computed in one place from plain rows.

The desk computes each order's :class:`~order_lifecycle.ports.OrderFacts` when it writes
the order (:func:`facts_of`); a store keeps them indexed by buyer and by seller and lists
a user's rows; :func:`metrics_of` turns those rows into :class:`Metrics`. So a seller's
metrics cost an index read of their own orders, never a scan of all orders.

>>> from order_lifecycle.ports import OrderFacts
>>> hour = 3_600_000_000  # instants and durations in microseconds
>>> done = OrderFacts(0, accepted_at=2 * hour, delivered_at=72 * hour, due_at=168 * hour,
...                   completed_at=96 * hour)
>>> metrics = metrics_of("bob", "seller", None, [done])
>>> metrics.completion_rate, metrics.on_time_rate, metrics.median_accept_time.in_hours()
(1.0, 1.0, 2)
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from typing import Final

import attrs
import pendulum

from order_lifecycle.core import values
from order_lifecycle.core.events import (
    ContentDelivered,
    Event,
    InfoProvided,
    InfoTimedOut,
    OrderAccepted,
    UpdateAccepted,
)
from order_lifecycle.core.model import Order, OrderReview, OrderState, Role
from order_lifecycle.errors import ValidationError
from order_lifecycle.instants import micros
from order_lifecycle.ports import OrderFacts

__all__ = [
    "METRIC_ROLES",
    "Metrics",
    "ReviewSummary",
    "check_role",
    "due_at_first_delivery",
    "facts_of",
    "metrics_of",
    "micros",
    "since_of",
    "summary_of",
]

#: The roles metrics are kept for.
METRIC_ROLES: Final = (Role.seller, Role.buyer)


@attrs.frozen
class ReviewSummary:
    """The published reviews about one user (as buyer and as seller): how many, their
    average rating (``None`` for none), and the reviews themselves, newest first."""

    count: int
    average: float | None
    reviews: tuple[OrderReview, ...]


@attrs.frozen
class Metrics:
    """How a user does as a seller (or a buyer), over the orders placed since ``since``.

    - ``completion_rate``: completed / orders that ended (completed or cancelled);
    - ``on_time_rate``: first deliveries at or before the due date then in force / orders
      delivered at least once;
    - ``revision_rate``: revisions requested / orders delivered at least once;
    - ``dispute_rate``: orders ever disputed / orders;
    - ``median_accept_time`` (placed → accepted) and ``median_delivery_time`` (accepted →
      first delivery), as durations;
    - ``rating_average`` / ``rating_count``: published ratings the user received in this
      role.

    A rate, a median or an average is ``None`` when there is nothing to divide.
    """

    user: str
    role: Role
    since: pendulum.DateTime | None
    orders: int
    completed: int
    cancelled: int
    completion_rate: float | None
    on_time_rate: float | None
    revision_rate: float | None
    dispute_rate: float | None
    median_accept_time: pendulum.Duration | None
    median_delivery_time: pendulum.Duration | None
    rating_average: float | None
    rating_count: int


def check_role(role: object) -> Role:
    """``seller`` or ``buyer`` (a ``Role`` or its name); ``ValidationError`` otherwise."""
    try:
        found = Role(str(role))
    except ValueError:
        found = None
    if found not in METRIC_ROLES:
        raise ValidationError("role", f"{values.shown(role)} is not seller or buyer")
    assert found is not None
    return found


def _rating(order: Order, about: Role) -> int | None:
    if order.reviews_published_at is None:
        return None
    for review in order.reviews:
        if review.about is about:
            return review.rating
    return None


def due_at_first_delivery(history: Iterable[Event]) -> pendulum.DateTime | None:
    """The delivery date in force when the order was first delivered, read from its
    history (for orders whose deliveries do not record it: placed before lifecycle 3)."""
    due: pendulum.DateTime | None = None
    for event in history:
        if isinstance(event, ContentDelivered):
            return due
        if isinstance(event, OrderAccepted):
            due = event.due_at
        elif isinstance(event, UpdateAccepted):
            due = event.contract.due_at
        elif isinstance(event, (InfoProvided, InfoTimedOut)):
            due = event.delivery_due_at
    return None


def facts_of(order: Order, *, first_due: _dt.datetime | None = None) -> OrderFacts:
    """What the metrics count of ``order``, as it is now (``first_due``: the due date in
    force at the first delivery, when the delivery does not record it)."""
    first = order.deliveries[0] if order.deliveries else None
    cancellation = order.cancellation
    placed = micros(order.placed_at)
    assert placed is not None
    return OrderFacts(
        placed_at=placed,
        accepted_at=micros(order.accepted_at),
        delivered_at=None if first is None else micros(first.at),
        due_at=None if first is None else micros(first.due_at or first_due),
        completed_at=micros(order.completed_at) if order.state is OrderState.complete else None,
        cancelled_at=None if cancellation is None else micros(cancellation.at),
        revisions=order.revisions_used,
        disputed=order.dispute is not None,
        buyer_rating=_rating(order, Role.buyer),
        seller_rating=_rating(order, Role.seller),
    )


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _median(durations: Sequence[int]) -> pendulum.Duration | None:
    """The median of durations in microseconds (an even count: the mean of the two
    middle ones, to the microsecond)."""
    if not durations:
        return None
    ordered = sorted(durations)
    half = len(ordered) // 2
    middle = ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) // 2
    return pendulum.duration(microseconds=middle)


def metrics_of(
    user: str, role: Role | str, since: pendulum.DateTime | None, rows: Iterable[OrderFacts]
) -> Metrics:
    """The metrics of ``user`` in ``role`` from the facts of their orders placed since
    ``since`` (rows placed earlier are left out here too)."""
    role = check_role(role)
    start = micros(since)
    found = [f for f in rows if start is None or f.placed_at >= start]
    completed = sum(1 for f in found if f.completed_at is not None)
    cancelled = sum(1 for f in found if f.cancelled_at is not None)
    delivered = [f for f in found if f.delivered_at is not None]
    timed = [(f.delivered_at, f.due_at) for f in delivered if f.due_at is not None]
    on_time = sum(1 for at, due in timed if at is not None and due is not None and at <= due)
    accept_times = [f.accepted_at - f.placed_at for f in found if f.accepted_at is not None]
    delivery_times = [
        f.delivered_at - f.accepted_at
        for f in delivered
        if f.delivered_at is not None and f.accepted_at is not None
    ]
    ratings = [
        r
        for r in (f.seller_rating if role is Role.seller else f.buyer_rating for f in found)
        if r is not None
    ]
    return Metrics(
        user=user,
        role=role,
        since=since,
        orders=len(found),
        completed=completed,
        cancelled=cancelled,
        completion_rate=_rate(completed, completed + cancelled),
        on_time_rate=_rate(on_time, len(timed)),
        revision_rate=_rate(sum(f.revisions for f in delivered), len(delivered)),
        dispute_rate=_rate(sum(1 for f in found if f.disputed), len(found)),
        median_accept_time=_median(accept_times),
        median_delivery_time=_median(delivery_times),
        rating_average=None if not ratings else sum(ratings) / len(ratings),
        rating_count=len(ratings),
    )


def summary_of(user: str, orders: Iterable[Order]) -> ReviewSummary:
    """The published reviews about ``user`` in ``orders``, newest first."""
    about: list[OrderReview] = []
    for order in orders:
        if order.reviews_published_at is None:
            continue
        role = order.party(user)
        about += [r for r in order.reviews if role is not None and r.about is role]
    about.sort(key=lambda r: r.at, reverse=True)
    count = len(about)
    average = None if count == 0 else sum(r.rating for r in about) / count
    return ReviewSummary(count, average, tuple(about))


def since_of(since: object) -> pendulum.DateTime | None:
    """``since`` as an aware instant (``None`` stays ``None``)."""
    return None if since is None else values.to_instant(since, "since")
