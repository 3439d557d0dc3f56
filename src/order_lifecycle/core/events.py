"""History events: one attrs class per kind, one event per decision.

Every event carries ``order_id``, ``seq`` (1, 2, 3... per order), ``action`` (the action
or timer that caused it), ``actor``, ``at`` and ``state`` (the order's state after it).
Events fired by a timer also carry ``due_at``: when the timer was due (``at`` is when it ran).
An event holds everything needed to replay it through the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Final

import attrs
import pendulum

from order_lifecycle.core.model import (
    Action,
    Actor,
    Attachment,
    Contract,
    Listing,
    Money,
    OrderReview,
    OrderState,
    Outcome,
    Role,
    Timer,
)
from order_lifecycle.core.terms import Deadline, Terms

__all__ = [
    "EVENT_TYPES",
    "AgentJoined",
    "CancellationAccepted",
    "CancellationDeclined",
    "CancellationRequested",
    "CancellationWithdrawn",
    "ContentDelivered",
    "DeliveryApproved",
    "DeliveryDatePassed",
    "DisputeEscalated",
    "DisputeResolved",
    "Event",
    "InfoProvided",
    "InfoRequested",
    "InfoTimedOut",
    "MessagePosted",
    "OrderAccepted",
    "OrderAutoCompleted",
    "OrderCancelled",
    "OrderDeclined",
    "OrderDisputed",
    "OrderExpired",
    "OrderPlaced",
    "OrderSettled",
    "OrderWithdrawn",
    "ReminderSent",
    "ReviewLeft",
    "ReviewsPublished",
    "RevisionRequested",
    "UpdateAccepted",
    "UpdateExpired",
    "UpdateProposed",
    "UpdateRejected",
    "UpdateWithdrawn",
]


@attrs.frozen(kw_only=True)
class Event:
    """What happened to an order, recorded once, in order."""

    kind: ClassVar[str] = "event"

    order_id: str
    seq: int
    action: Action | Timer
    actor: Actor
    at: pendulum.DateTime
    state: OrderState
    #: The open contract proposal this event closed without an answer (leaving the
    #: active states voids it).
    voided_proposal: bool = False
    #: The open cancellation request this event closed without an answer (leaving the
    #: active states voids it).
    voided_cancellation: bool = False


@attrs.frozen(kw_only=True)
class OrderPlaced(Event):
    """The buyer bought the listing; the seller is to accept or decline."""

    kind: ClassVar[str] = "order_placed"
    buyer: str
    seller: str
    listing: Listing
    answers: Mapping[str, str]
    lifecycle: str
    #: The deadline terms the order is placed under (``None`` before lifecycle 2).
    terms: Terms | None = None


@attrs.frozen(kw_only=True)
class OrderAccepted(Event):
    """The seller accepted; delivery is due at ``due_at``."""

    kind: ClassVar[str] = "order_accepted"
    due_at: pendulum.DateTime


@attrs.frozen(kw_only=True)
class OrderDeclined(Event):
    """The seller declined the order."""

    kind: ClassVar[str] = "order_declined"
    reason: str = ""


@attrs.frozen(kw_only=True)
class OrderWithdrawn(Event):
    """The buyer withdrew the order before the seller accepted it."""

    kind: ClassVar[str] = "order_withdrawn"
    reason: str = ""


@attrs.frozen(kw_only=True)
class OrderExpired(Event):
    """The seller did not answer within the acceptance window (a timer)."""

    kind: ClassVar[str] = "order_expired"
    due_at: pendulum.DateTime


@attrs.frozen(kw_only=True)
class ContentDelivered(Event):
    """The seller delivered content; the buyer's review window runs to ``review_due_at``."""

    kind: ClassVar[str] = "content_delivered"
    files: tuple[Attachment, ...] = ()
    outside: bool = False
    note: str = ""
    review_due_at: pendulum.DateTime


@attrs.frozen(kw_only=True)
class DeliveryApproved(Event):
    """The buyer approved the delivery; the order is complete."""

    kind: ClassVar[str] = "delivery_approved"


@attrs.frozen(kw_only=True)
class RevisionRequested(Event):
    """The buyer asked for a revision."""

    kind: ClassVar[str] = "revision_requested"
    note: str
    revisions_used: int
    revisions_allowed: int


@attrs.frozen(kw_only=True)
class OrderAutoCompleted(Event):
    """The review window lapsed without an answer; the order completed by itself (a timer)."""

    kind: ClassVar[str] = "order_auto_completed"
    due_at: pendulum.DateTime


@attrs.frozen(kw_only=True)
class UpdateProposed(Event):
    """A party proposed new contract terms; ``None`` fields stay as they are."""

    kind: ClassVar[str] = "update_proposed"
    price: Money | None = None
    due_at: pendulum.DateTime | None = None
    revisions: int | None = None
    #: When it closes unanswered (``Policy.proposal_window``), if ever.
    expires_at: pendulum.DateTime | None = None


@attrs.frozen(kw_only=True)
class UpdateAccepted(Event):
    """The other party accepted the proposal; ``contract`` is now in force.

    Accepted by the system (its ``action`` the ``proposal_window`` timer) when nobody
    answered in time and ``Policy.on_proposal_silence`` is ``"accept"``; ``due_at`` is
    then when the proposal's window ended.
    """

    kind: ClassVar[str] = "update_accepted"
    contract: Contract
    due_at: pendulum.DateTime | None = None


@attrs.frozen(kw_only=True)
class UpdateExpired(Event):
    """Nobody answered the contract update by ``due_at``; the system closed it and the
    contract stays as it was. ``reason`` says why it was not accepted when the policy
    accepts unanswered updates (it no longer fit the order)."""

    kind: ClassVar[str] = "update_expired"
    due_at: pendulum.DateTime
    reason: str = ""


@attrs.frozen(kw_only=True)
class UpdateRejected(Event):
    """The other party rejected the proposal."""

    kind: ClassVar[str] = "update_rejected"


@attrs.frozen(kw_only=True)
class UpdateWithdrawn(Event):
    """The proposer withdrew the proposal."""

    kind: ClassVar[str] = "update_withdrawn"


@attrs.frozen(kw_only=True)
class OrderDisputed(Event):
    """A party disputed the order; the CX team is alerted and the order is frozen."""

    kind: ClassVar[str] = "order_disputed"
    reason: str
    from_state: OrderState


@attrs.frozen(kw_only=True)
class AgentJoined(Event):
    """A CX agent joined the conversation (to resolve a dispute or settle a cancellation)."""

    kind: ClassVar[str] = "agent_joined"
    agent: str


@attrs.frozen(kw_only=True)
class DisputeResolved(Event):
    """The CX agent resolved the dispute: resumed, completed or cancelled the order."""

    kind: ClassVar[str] = "dispute_resolved"
    outcome: Outcome
    note: str
    review_due_at: pendulum.DateTime | None = None
    #: The settlement of a dispute completed or cancelled (``None`` when resumed): what
    #: the buyer gets back and the seller is paid.
    refund: Money | None = None
    payout: Money | None = None


@attrs.frozen(kw_only=True)
class OrderCancelled(Event):
    """A party cancelled the order (past due, or revisions exhausted); CX settles the money."""

    kind: ClassVar[str] = "order_cancelled"
    reason: str


@attrs.frozen(kw_only=True)
class MessagePosted(Event):
    """A chat message from a participant."""

    kind: ClassVar[str] = "message_posted"
    text: str = ""
    files: tuple[Attachment, ...] = ()


@attrs.frozen(kw_only=True)
class DeliveryDatePassed(Event):
    """The delivery date passed with a delivery outstanding (a one-time notice per due
    date): nothing delivered yet, or a revision not yet delivered."""

    kind: ClassVar[str] = "delivery_date_passed"
    due_at: pendulum.DateTime


@attrs.frozen(kw_only=True)
class ReminderSent(Event):
    """A reminder to ``recipient`` (the party who must act) that ``deadline`` falls at
    ``deadline_at``; sent at ``due_at``, ``before`` ahead of it. The state is unchanged."""

    kind: ClassVar[str] = "reminder_sent"
    due_at: pendulum.DateTime
    deadline: Deadline
    deadline_at: pendulum.DateTime
    before: pendulum.Duration
    recipient: str
    role: Role


@attrs.frozen(kw_only=True)
class DisputeEscalated(Event):
    """The dispute stayed unresolved for ``Policy.dispute_window``: the CX team is alerted
    again (once per dispute). The state is unchanged."""

    kind: ClassVar[str] = "dispute_escalated"
    due_at: pendulum.DateTime
    agent: str | None = None


@attrs.frozen(kw_only=True)
class InfoRequested(Event):
    """The seller asked the buyer something the work needs; the delivery clock is paused
    until the buyer answers, or until ``resume_by`` at the latest."""

    kind: ClassVar[str] = "info_requested"
    question: str
    resume_by: pendulum.DateTime


@attrs.frozen(kw_only=True)
class InfoProvided(Event):
    """The buyer answered; the delivery clock resumes and delivery is due ``paused``
    later, at ``delivery_due_at``."""

    kind: ClassVar[str] = "info_provided"
    answer: str
    paused: pendulum.Duration
    delivery_due_at: pendulum.DateTime


@attrs.frozen(kw_only=True)
class InfoTimedOut(Event):
    """Nobody answered the seller's question by ``due_at`` (``Policy.max_pause``): the
    delivery clock resumed by itself, delivery due ``paused`` later, at ``delivery_due_at``."""

    kind: ClassVar[str] = "info_timed_out"
    due_at: pendulum.DateTime
    paused: pendulum.Duration
    delivery_due_at: pendulum.DateTime


@attrs.frozen(kw_only=True)
class OrderSettled(Event):
    """The CX agent settled the money of a cancelled order: ``refund`` to the buyer,
    ``payout`` to the seller (the host moves it)."""

    kind: ClassVar[str] = "order_settled"
    refund: Money
    payout: Money
    note: str = ""


@attrs.frozen(kw_only=True)
class CancellationRequested(Event):
    """A party asked to cancel by mutual consent; ``refund`` as proposed (``None``: all)."""

    kind: ClassVar[str] = "cancellation_requested"
    reason: str
    refund: Money | None = None
    expires_at: pendulum.DateTime | None = None


@attrs.frozen(kw_only=True)
class CancellationAccepted(Event):
    """The other party accepted (or, by the system, silence did): the order is cancelled
    and settled. A timer's event has ``due_at``."""

    kind: ClassVar[str] = "cancellation_accepted"
    refund: Money
    payout: Money
    due_at: pendulum.DateTime | None = None


@attrs.frozen(kw_only=True)
class CancellationDeclined(Event):
    """The other party declined the cancellation request (or silence did: ``due_at``)."""

    kind: ClassVar[str] = "cancellation_declined"
    due_at: pendulum.DateTime | None = None


@attrs.frozen(kw_only=True)
class CancellationWithdrawn(Event):
    """The requester withdrew the cancellation request."""

    kind: ClassVar[str] = "cancellation_withdrawn"


@attrs.frozen(kw_only=True)
class ReviewLeft(Event):
    """A party reviewed the other. Until published, the other party sees only that a
    review was left; ``published`` holds the reviews this event made public (both, when
    it is the second)."""

    kind: ClassVar[str] = "review_left"
    rating: int
    text: str = ""
    published: tuple[OrderReview, ...] = ()


@attrs.frozen(kw_only=True)
class ReviewsPublished(Event):
    """The review period ended with one review left: it is published (a timer)."""

    kind: ClassVar[str] = "reviews_published"
    due_at: pendulum.DateTime
    reviews: tuple[OrderReview, ...] = ()


EVENT_TYPES: Final[Mapping[str, type[Event]]] = {
    cls.kind: cls
    for cls in (
        OrderPlaced,
        OrderAccepted,
        OrderDeclined,
        OrderWithdrawn,
        OrderExpired,
        ContentDelivered,
        DeliveryApproved,
        RevisionRequested,
        OrderAutoCompleted,
        UpdateProposed,
        UpdateAccepted,
        UpdateRejected,
        UpdateWithdrawn,
        OrderDisputed,
        AgentJoined,
        DisputeResolved,
        OrderCancelled,
        MessagePosted,
        DeliveryDatePassed,
        UpdateExpired,
        ReminderSent,
        DisputeEscalated,
        InfoRequested,
        InfoProvided,
        InfoTimedOut,
        OrderSettled,
        CancellationRequested,
        CancellationAccepted,
        CancellationDeclined,
        CancellationWithdrawn,
        ReviewLeft,
        ReviewsPublished,
    )
}

#: The timer behind each timer-fired action.
TIMER_OF: Final[Mapping[Action | Timer, Timer]] = {
    Action.auto_complete: Timer.review_window,
    Action.expire: Timer.acceptance_window,
    Timer.delivery_due: Timer.delivery_due,
    Timer.reminder: Timer.reminder,
    Timer.proposal_window: Timer.proposal_window,
    Timer.dispute_window: Timer.dispute_window,
    Timer.max_pause: Timer.max_pause,
    Action.accept_cancellation: Timer.cancellation_window,
    Action.decline_cancellation: Timer.cancellation_window,
    Timer.review_period: Timer.review_period,
}
