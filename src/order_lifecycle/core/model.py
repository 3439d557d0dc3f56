"""The value objects of an order: frozen attrs classes, changed only with ``attrs.evolve``.

>>> from order_lifecycle import Money
>>> Money("150.00", "USD")
Money(amount=Decimal('150.00'), currency='USD')
>>> Money(1.5, "USD")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
order_lifecycle.errors.ValidationError: amount: must be a Decimal, an int or a decimal string; ...
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Final

import attrs
import pendulum

from order_lifecycle.core import values
from order_lifecycle.core.terms import (
    DEFAULT_MAX_PAUSE,
    DEFAULT_REVIEW_WINDOW,
    Calendar,
    Reminder,
    SentReminder,
    Silence,
    Terms,
)
from order_lifecycle.errors import ValidationError

__all__ = [
    "ACTIVE_STATES",
    "LIFECYCLE_VERSION",
    "Action",
    "Actor",
    "Attachment",
    "BuyerRequest",
    "Cancellation",
    "CancellationReason",
    "CancellationRequest",
    "CompletionReason",
    "Contract",
    "ContractProposal",
    "Delivery",
    "DisputeCase",
    "InfoRequest",
    "Listing",
    "Money",
    "Order",
    "OrderReview",
    "OrderState",
    "Outcome",
    "Policy",
    "Role",
    "Settlement",
    "Timer",
    "shared_terms",
    "terms_of",
]

#: The version of the lifecycle definition (the transition table). Each order records
#: the one it was placed under, so a later definition can tell old orders apart.
#: Version 2 added the deadline terms pinned per order, reminders, timed proposals,
#: dispute escalation, working-day calendars and the paused delivery clock. Version 3
#: added settlement, mutual cancellation and reviews (and the silence rule of a
#: cancellation request to the terms).
LIFECYCLE_VERSION: Final = "3"


class OrderState(enum.StrEnum):
    """Where an order is in its lifecycle."""

    pending = "pending"
    accepted = "accepted"
    delivered = "delivered"
    revision = "revision"
    complete = "complete"
    disputed = "disputed"
    cancelled = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """``complete`` and ``cancelled`` accept no action but messages."""
        return self in _TERMINAL


_TERMINAL: Final = frozenset({OrderState.complete, OrderState.cancelled})
#: The states where the work is under way: an open contract proposal lives only here.
ACTIVE_STATES: Final = (OrderState.accepted, OrderState.delivered, OrderState.revision)
# Where the delivery clock runs. (A tuple of members: looking a member up on its enum
# class is an attribute lookup through the enum's metaclass, slower than a global.)
_CLOCK_STATES: Final = (OrderState.accepted, OrderState.revision)


class Role(enum.StrEnum):
    """Who an actor is in an order."""

    buyer = "buyer"
    seller = "seller"
    cx_agent = "cx_agent"
    system = "system"


class Action(enum.StrEnum):
    """Every order action of the lifecycle table (spec section 4)."""

    place = "place"
    accept = "accept"
    decline = "decline"
    withdraw = "withdraw"
    expire = "expire"
    deliver = "deliver"
    approve = "approve"
    request_revision = "request_revision"
    auto_complete = "auto_complete"
    propose_update = "propose_update"
    accept_update = "accept_update"
    reject_update = "reject_update"
    withdraw_update = "withdraw_update"
    dispute = "dispute"
    # The spec names this action "join"; it shadows str.join on members, which we never call.
    join = "join"  # type: ignore[assignment]
    resolve = "resolve"
    cancel = "cancel"
    say = "say"
    request_info = "request_info"
    provide_info = "provide_info"
    settle = "settle"
    request_cancellation = "request_cancellation"
    accept_cancellation = "accept_cancellation"
    decline_cancellation = "decline_cancellation"
    withdraw_cancellation = "withdraw_cancellation"
    review = "review"


class Timer(enum.StrEnum):
    """The timers ``tick`` fires (spec section 4, Timers)."""

    review_window = "review_window"
    delivery_due = "delivery_due"
    acceptance_window = "acceptance_window"
    #: A reminder before a deadline (``Policy.reminders``).
    reminder = "reminder"
    #: An open contract update's answer window (``Policy.proposal_window``).
    proposal_window = "proposal_window"
    #: How long a dispute may stay open before it is escalated (``Policy.dispute_window``).
    dispute_window = "dispute_window"
    #: The longest the delivery clock stays paused for an answer (``Policy.max_pause``).
    max_pause = "max_pause"
    #: An open cancellation request's answer window (``Policy.cancellation_window``).
    cancellation_window = "cancellation_window"
    #: The end of the review period: a lone review is published (``Policy.review_period``).
    review_period = "review_period"


class Outcome(enum.StrEnum):
    """How a CX agent resolves a dispute."""

    resume = "resume"
    complete = "complete"
    cancel = "cancel"


class CancellationReason(enum.StrEnum):
    """Why an order ended cancelled."""

    declined = "declined"
    withdrawn = "withdrawn"
    expired = "expired"
    cancelled = "cancelled"
    cancelled_by_cx = "cancelled_by_cx"
    #: Both parties agreed: one asked, the other accepted (or stayed silent).
    mutual = "mutual"


class CompletionReason(enum.StrEnum):
    """Why an order ended complete."""

    approved = "approved"
    review_window_elapsed = "review window elapsed"
    resolved_by_cx = "resolved_by_cx"


def _role(value: object) -> Role:
    if isinstance(value, Role):
        return value
    try:
        return Role(str(value))
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValidationError(
            "role", f"{values.shown(value)} is not a role; use one of {choices}"
        ) from None


# Named converters: the attrs mypy plugin understands functions, not lambdas.


def _actor_id(v: object) -> str:
    return values.check_id("actor.id", v)


def _amount(v: object) -> decimal.Decimal:
    return values.to_amount(v, "amount")


def _question(v: object) -> str:
    return values.check_text("question", v, max_chars=1000, multiline=False)


def _title(v: object) -> str:
    return values.check_text("listing.title", v, max_chars=200, multiline=False)


def _delivery(v: object) -> pendulum.Duration:
    return values.to_duration(v, "listing.delivery")


def _revisions(v: object) -> int:
    return values.check_count("listing.revisions", v, maximum=100)


def _file_name(v: object) -> str:
    return values.check_text("file.name", v, max_chars=255, multiline=False)


def _file_size(v: object) -> int:
    return values.check_count("file.size", v, maximum=2**53)


def _media_type(v: object) -> str:
    return values.check_text("file.media_type", v, max_chars=255, multiline=False)


def _uri(v: object) -> str:
    return values.check_text("file.uri", v, max_chars=2000, multiline=False)


def _review_window(v: object) -> pendulum.Duration:
    return values.to_duration(v, "policy.review_window")


#: The largest limits a policy takes (its files' size, a message's length, files per
#: command).
MOST_FILE_BYTES: Final = 2**40
MOST_MESSAGE_CHARS: Final = 1_000_000
MOST_FILES: Final = 1000


def _max_file_bytes(v: object) -> int:
    return values.check_count("policy.max_file_bytes", v, minimum=1, maximum=MOST_FILE_BYTES)


def _max_message_chars(v: object) -> int:
    return values.check_count("policy.max_message_chars", v, minimum=1, maximum=MOST_MESSAGE_CHARS)


def _max_files(v: object) -> int:
    return values.check_count("policy.max_files", v, minimum=1, maximum=MOST_FILES)


def _max_delivery_attempts(v: object) -> int:
    return values.check_count("policy.max_delivery_attempts", v, minimum=1, maximum=100)


def _retry_base(v: object) -> pendulum.Duration:
    return values.to_duration(v, "policy.retry_base")


def _retry_cap(v: object) -> pendulum.Duration:
    return values.to_duration(v, "policy.retry_cap")


def _proposal_window(v: object) -> pendulum.Duration | None:
    return None if v is None else values.to_duration(v, "policy.proposal_window")


def _dispute_window(v: object) -> pendulum.Duration | None:
    return None if v is None else values.to_duration(v, "policy.dispute_window")


def _cancellation_window(v: object) -> pendulum.Duration | None:
    return None if v is None else values.to_duration(v, "policy.cancellation_window")


def _max_pause(v: object) -> pendulum.Duration:
    return values.to_duration(v, "policy.max_pause")


def _reminders(v: object) -> tuple[Reminder, ...]:
    return Terms(reminders=v).reminders  # Terms checks it


def _silence(v: object) -> Silence:
    return Terms(on_proposal_silence=v).on_proposal_silence


def _calendar(v: object) -> Calendar | None:
    return Terms(calendar=v).calendar


@attrs.frozen
class Actor:
    """Someone acting on an order: its buyer, its seller, a CX agent, or the system (timers).

    >>> Actor.buyer("alice")
    Actor(id='alice', role=<Role.buyer: 'buyer'>)
    """

    id: str = attrs.field(converter=_actor_id)
    role: Role = attrs.field(converter=_role)

    SYSTEM_ID: ClassVar[str] = "system"

    @classmethod
    def buyer(cls, id: str) -> Actor:
        """The buyer with this user id."""
        return cls(id, Role.buyer)

    @classmethod
    def seller(cls, id: str) -> Actor:
        """The seller with this user id."""
        return cls(id, Role.seller)

    @classmethod
    def cx(cls, id: str) -> Actor:
        """A customer-experience agent, as asserted by the host application."""
        return cls(id, Role.cx_agent)

    @classmethod
    def system(cls) -> Actor:
        """The system itself: timers fired by ``tick``."""
        return _SYSTEM

    def __str__(self) -> str:
        if self.role is Role.cx_agent:
            return f"cx:{self.id}"
        return self.id


_SYSTEM: Final = Actor(Actor.SYSTEM_ID, Role.system)


def _currency(value: object) -> str:
    if not isinstance(value, str) or value not in values.CURRENCY_MINOR_UNITS:
        raise ValidationError(
            "currency",
            f"{values.shown(value)} is not an ISO 4217 currency code (e.g. USD, EUR, JPY)",
        )
    return value


@attrs.frozen
class Money:
    """An amount of a currency: a ``Decimal`` (never a float) and an ISO 4217 code.

    The amount may not carry more decimals than the currency has (``1.005 USD`` is refused).
    """

    amount: decimal.Decimal = attrs.field(converter=_amount)
    currency: str = attrs.field(default="USD", converter=_currency)

    def __attrs_post_init__(self) -> None:
        exponent = self.amount.as_tuple().exponent
        assert isinstance(exponent, int)  # finite amounts only (to_amount checked)
        places = values.CURRENCY_MINOR_UNITS[self.currency]
        if -exponent > places and self.amount != self.amount.quantize(
            decimal.Decimal(1).scaleb(-places)
        ):
            raise ValidationError(
                "amount", f"{self.currency} has {places} decimal places; {self.amount} has more"
            )

    @property
    def minor(self) -> str:
        """The amount with exactly the currency's decimals: ``"175.00"`` for 175 USD."""
        places = values.CURRENCY_MINOR_UNITS[self.currency]
        return str(self.amount.quantize(decimal.Decimal(1).scaleb(-places)))

    def __str__(self) -> str:
        places = values.CURRENCY_MINOR_UNITS[self.currency]
        return f"{self.amount.quantize(decimal.Decimal(1).scaleb(-places)):,} {self.currency}"


@attrs.frozen
class BuyerRequest:
    """A question the buyer answers when buying (``required`` ones must be answered)."""

    question: str = attrs.field(converter=_question)
    required: bool = attrs.field(default=False)

    @required.validator
    def _check_required(self, _: object, value: object) -> None:
        if not isinstance(value, bool):
            raise ValidationError("required", f"must be True or False, not {type(value).__name__}")


def _requests(value: object) -> tuple[BuyerRequest, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("listing.requests", "must be a sequence of BuyerRequest")
    items = tuple(value)
    for item in items:
        if not isinstance(item, BuyerRequest):
            raise ValidationError(
                "listing.requests", f"holds a {type(item).__name__}; use BuyerRequest(...)"
            )
    questions = [r.question for r in items]
    if len(set(questions)) != len(questions):
        raise ValidationError("listing.requests", "asks the same question twice")
    if len(items) > 50:
        raise ValidationError("listing.requests", "holds more than 50 questions")
    return items


def _price(value: object) -> Money:
    if not isinstance(value, Money):
        raise ValidationError("listing.price", f"must be Money, not {type(value).__name__}")
    if value.amount <= 0:
        raise ValidationError("listing.price", "must be more than zero")
    return value


@attrs.frozen
class Listing:
    """What the buyer bought, as it was at purchase (a snapshot, not a reference)."""

    title: str = attrs.field(converter=_title)
    price: Money = attrs.field(converter=_price)
    delivery: pendulum.Duration = attrs.field(converter=_delivery)
    revisions: int = attrs.field(converter=_revisions)
    requests: tuple[BuyerRequest, ...] = attrs.field(default=(), converter=_requests)


@attrs.frozen
class Contract:
    """The terms in force.

    ``due_at`` is set on acceptance; each accepted update bumps ``version``.
    """

    price: Money
    revisions: int
    due_at: pendulum.DateTime | None = None
    version: int = 1


@attrs.frozen
class Attachment:
    """A stored file: what the blob store kept, and where."""

    name: str = attrs.field(converter=_file_name)
    size: int = attrs.field(converter=_file_size)
    media_type: str = attrs.field(converter=_media_type)
    sha256: str = attrs.field()
    uri: str = attrs.field(converter=_uri)

    @sha256.validator
    def _check_sha256(self, _: object, value: object) -> None:
        if not (
            isinstance(value, str)
            and len(value) == 64
            and all(c in "0123456789abcdef" for c in value)
        ):
            raise ValidationError("file.sha256", "must be 64 lowercase hex digits")


@attrs.frozen
class Delivery:
    """One delivery of content: files, and/or a note that it was delivered outside the platform.

    ``due_at`` is the delivery date in force when it was delivered (``None`` for a
    delivery recorded before the library kept it).
    """

    at: pendulum.DateTime
    files: tuple[Attachment, ...] = ()
    outside: bool = False
    note: str = ""
    due_at: pendulum.DateTime | None = None


@attrs.frozen
class ContractProposal:
    """An open contract update, waiting for the other party. ``None`` fields stay as they are."""

    by: str
    role: Role
    at: pendulum.DateTime
    price: Money | None = None
    due_at: pendulum.DateTime | None = None
    revisions: int | None = None
    #: When the proposal closes unanswered (``Terms.proposal_window``); ``None``: never.
    expires_at: pendulum.DateTime | None = None


@attrs.frozen
class DisputeCase:
    """The order's latest dispute. ``agent`` is the CX agent who joined, once one has."""

    opened_by: Actor
    reason: str
    from_state: OrderState
    at: pendulum.DateTime
    agent: str | None = None
    joined_at: pendulum.DateTime | None = None
    outcome: Outcome | None = None
    resolved_at: pendulum.DateTime | None = None
    #: When the dispute was escalated for staying open past ``Policy.dispute_window``.
    escalated_at: pendulum.DateTime | None = None


@attrs.frozen
class InfoRequest:
    """A question the seller asked the buyer; the delivery clock is paused until it is
    answered, or until ``resume_by`` (``Terms.max_pause`` after ``at``)."""

    question: str
    at: pendulum.DateTime
    resume_by: pendulum.DateTime


@attrs.frozen
class Cancellation:
    """How the order was cancelled. ``agent`` is the CX agent who joined to settle the money."""

    by: Actor
    reason: CancellationReason
    at: pendulum.DateTime
    note: str = ""
    agent: str | None = None
    joined_at: pendulum.DateTime | None = None


@attrs.frozen
class Settlement:
    """What the money of an order comes to: ``refund`` to the buyer, ``payout`` to the
    seller (together the price in force). The library records it; the host moves it."""

    refund: Money
    payout: Money
    by: Actor
    at: pendulum.DateTime
    note: str = ""


@attrs.frozen
class CancellationRequest:
    """A party's open request to cancel by mutual consent, waiting for the other party.

    ``refund`` is what the requester proposes the buyer gets back (``None``: the whole
    price); ``expires_at`` is when silence answers it (``Policy.cancellation_window``).
    """

    by: str
    role: Role
    reason: str
    at: pendulum.DateTime
    refund: Money | None = None
    expires_at: pendulum.DateTime | None = None


@attrs.frozen
class OrderReview:
    """A party's review of the other party, after completion: a rating 1..5 and a text."""

    by: str
    role: Role
    rating: int
    at: pendulum.DateTime
    text: str = ""

    @property
    def about(self) -> Role:
        """The role of the party reviewed (the buyer reviews the seller, and back)."""
        return Role.seller if self.role is Role.buyer else Role.buyer


_NO_ANSWERS: Final[Mapping[str, str]] = MappingProxyType({})


def frozen_answers(value: Mapping[str, str]) -> Mapping[str, str]:
    """A buyer's answers as an immutable mapping (one shared empty mapping for none)."""
    if isinstance(value, MappingProxyType):
        return value
    # Most listings ask nothing: every such order shares one empty mapping.
    return MappingProxyType(dict(value)) if value else _NO_ANSWERS


@attrs.frozen(slots=False)  # a dict, not slots: copying one for each change is C-fast
class Order:
    """One order: plain, immutable data. The machine is shared; an order never holds one.

    ``version`` counts the events the order has recorded (its history's length) and is
    what optimistic concurrency compares.
    """

    id: str
    buyer: str
    seller: str
    listing: Listing
    state: OrderState
    contract: Contract
    placed_at: pendulum.DateTime
    updated_at: pendulum.DateTime
    answers: Mapping[str, str] = attrs.field(default=_NO_ANSWERS, converter=frozen_answers)
    revisions_used: int = 0
    deliveries: tuple[Delivery, ...] = ()
    proposal: ContractProposal | None = None
    dispute: DisputeCase | None = None
    cancellation: Cancellation | None = None
    agents: tuple[str, ...] = ()
    accepted_at: pendulum.DateTime | None = None
    review_due_at: pendulum.DateTime | None = None
    completed_at: pendulum.DateTime | None = None
    completion: CompletionReason | None = None
    #: The ``contract.due_at`` whose "delivery date passed" notice has fired, if any.
    due_notice_for: pendulum.DateTime | None = None
    version: int = 1
    lifecycle: str = LIFECYCLE_VERSION
    #: The deadline terms the order was placed under; ``None`` for an order placed before
    #: lifecycle version 2, which follows the policy of the desk that runs it.
    terms: Terms | None = None
    #: The seller's open question to the buyer: the delivery clock is paused meanwhile.
    info_request: InfoRequest | None = None
    #: The reminders sent, so that none is sent twice for one deadline value.
    reminders_sent: tuple[SentReminder, ...] = ()

    @property
    def delivered_at(self) -> pendulum.DateTime | None:
        """When the latest delivery was made (``None`` before the first).

        Derived from ``deliveries``, not stored: an order keeps at most 29 fields, the
        most CPython 3.11 shares one key table for, which keeps each order's attribute
        dictionary at about 300 bytes instead of 1,600 (and copying it fast)."""
        deliveries = self.deliveries
        return deliveries[-1].at if deliveries else None

    @property
    def paused(self) -> bool:
        """The delivery clock is paused: the seller is waiting for the buyer's answer."""
        return self.info_request is not None

    #: What the money came to, once a CX agent (or mutual consent) settled it.
    settlement: Settlement | None = None
    #: An open request to cancel by mutual consent.
    cancellation_request: CancellationRequest | None = None
    #: The parties' reviews after completion (each at most one), published or not.
    reviews: tuple[OrderReview, ...] = ()
    #: When the reviews became visible to both parties (both reviewed, or the period ended).
    reviews_published_at: pendulum.DateTime | None = None

    @property
    def revisions_left(self) -> int:
        """Revisions the buyer may still ask for under the contract in force."""
        return max(self.contract.revisions - self.revisions_used, 0)

    @property
    def revisions_exhausted(self) -> bool:
        """All revisions the contract allows are used."""
        return self.revisions_used >= self.contract.revisions

    def is_past_due(self, now: _dt.datetime) -> bool:
        """In progress (accepted or revision), the delivery clock running (not paused),
        and the delivery date has come."""
        due = self.contract.due_at
        return (
            self.state in _CLOCK_STATES
            and due is not None
            and now >= due
            and self.info_request is None
        )

    def party(self, user_id: str) -> Role | None:
        """``buyer`` or ``seller`` for this order's parties; ``None`` for anyone else."""
        if user_id == self.buyer:
            return Role.buyer
        if user_id == self.seller:
            return Role.seller
        return None


_DEFAULT_REVIEW_PERIOD: Final = pendulum.duration(days=14)


def _cancellation_silence(v: object) -> Silence:
    return Terms(on_cancellation_silence=v).on_cancellation_silence


def _review_period(value: object) -> pendulum.Duration:
    return values.to_duration(value, "policy.review_period")


def _acceptance_window(value: object) -> pendulum.Duration | None:
    return None if value is None else values.to_duration(value, "policy.acceptance_window")


def _team(value: object) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("policy.cx_team", "must be a collection of user ids, or None")
    return frozenset(values.check_id("policy.cx_team", v) for v in value)


def _media_types(value: object) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("policy.allowed_media_types", "must be a collection, or None")
    return frozenset(
        values.check_text("policy.allowed_media_types", v, max_chars=255, multiline=False).lower()
        for v in value
    )


@attrs.frozen
class Policy:
    """The rules a marketplace sets: windows, the CX team, file and message limits.

    >>> Policy().review_window.in_days()
    7
    """

    review_window: pendulum.Duration = attrs.field(
        default=DEFAULT_REVIEW_WINDOW,
        converter=_review_window,
    )
    acceptance_window: pendulum.Duration | None = attrs.field(
        default=None, converter=_acceptance_window
    )
    cx_team: frozenset[str] | None = attrs.field(default=None, converter=_team)
    max_file_bytes: int = attrs.field(
        default=50 * 1024 * 1024,
        converter=_max_file_bytes,
    )
    allowed_media_types: frozenset[str] | None = attrs.field(default=None, converter=_media_types)
    max_message_chars: int = attrs.field(
        default=10_000,
        converter=_max_message_chars,
    )
    max_files: int = attrs.field(
        default=20,
        converter=_max_files,
    )
    max_delivery_attempts: int = attrs.field(
        default=8,
        converter=_max_delivery_attempts,
    )
    #: The first retry of a failed notification waits this long; each next one twice as
    #: long, up to ``retry_cap``.
    retry_base: pendulum.Duration = attrs.field(
        default=pendulum.duration(seconds=30), converter=_retry_base
    )
    retry_cap: pendulum.Duration = attrs.field(
        default=pendulum.duration(hours=6), converter=_retry_cap
    )
    #: Reminders before deadlines, each sent once per deadline value to the party who
    #: must act (spec section 11). Off by default.
    reminders: tuple[Reminder, ...] = attrs.field(default=(), converter=_reminders)
    #: How long a contract update stays open unanswered; ``None``: until answered.
    proposal_window: pendulum.Duration | None = attrs.field(
        default=None, converter=_proposal_window
    )
    #: What closes an unanswered contract update: ``"reject"`` or ``"accept"`` (if it
    #: still fits the order).
    on_proposal_silence: Silence = attrs.field(default="reject", converter=_silence)
    #: How long a dispute may stay unresolved before it is escalated to the CX team.
    dispute_window: pendulum.Duration | None = attrs.field(default=None, converter=_dispute_window)
    #: Working days for whole-day deadlines; ``None``: every day counts.
    calendar: Calendar | None = attrs.field(default=None, converter=_calendar)
    #: The longest the delivery clock stays paused waiting for the buyer's answer.
    max_pause: pendulum.Duration = attrs.field(default=DEFAULT_MAX_PAUSE, converter=_max_pause)
    #: How long a mutual cancellation request stays open unanswered (spec section 12);
    #: ``None``: until the other party answers.
    cancellation_window: pendulum.Duration | None = attrs.field(
        default=None, converter=_cancellation_window
    )
    #: What silence does to a cancellation request when its window ends: ``"accept"``
    #: (the order is cancelled as requested) or ``"reject"``. Pinned with the terms.
    on_cancellation_silence: Silence = attrs.field(
        default="accept", converter=_cancellation_silence
    )
    #: How long after completion each party may review the other (reviews stay hidden
    #: until both reviewed or this period ends).
    review_period: pendulum.Duration = attrs.field(
        default=_DEFAULT_REVIEW_PERIOD, converter=_review_period
    )
    #: The deadline terms new orders are placed under (and keep): computed from the fields.
    terms: Terms = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        terms = Terms(
            review_window=self.review_window,
            acceptance_window=self.acceptance_window,
            proposal_window=self.proposal_window,
            on_proposal_silence=self.on_proposal_silence,
            calendar=self.calendar,
            reminders=self.reminders,
            max_pause=self.max_pause,
            cancellation_window=self.cancellation_window,
            on_cancellation_silence=self.on_cancellation_silence,
        )
        object.__setattr__(self, "terms", shared_terms(terms))

    def retry_delay(self, attempts: int) -> pendulum.Duration:
        """How long to wait after the ``attempts``-th failed try (exponential, capped)."""
        delay = self.retry_base * (2 ** max(attempts - 1, 0))
        return min(delay, self.retry_cap)  # type: ignore[no-any-return]

    def is_cx_member(self, user_id: str) -> bool:
        """Whether ``user_id`` may act as a CX agent under this policy."""
        return self.cx_team is None or user_id in self.cx_team


_TERMS: dict[Terms, Terms] = {}


def shared_terms(terms: Terms) -> Terms:
    """One object per distinct terms: every order placed under a policy, and every one read
    back from storage, shares its terms."""
    if len(_TERMS) > 1024:
        _TERMS.clear()
    return _TERMS.setdefault(terms, terms)


def terms_of(order: Order, policy: Policy) -> Terms:
    """The deadline terms that govern ``order``: its own, or (for an order placed before
    lifecycle version 2, which has none) the policy's."""
    terms = order.terms
    return policy.terms if terms is None else terms


_NEW: Final = object.__new__
_SET: Final = object.__setattr__
_ORDER_FIELDS: Final = frozenset(a.name for a in attrs.fields(Order))


def replace_order(order: Order, changes: dict[str, Any]) -> Order:
    """``attrs.evolve`` for the core's effects, at a fraction of its cost.

    ``attrs.evolve`` walks the fields and runs ``__init__`` (converters included) again;
    an order changes on every command, by the core's own effects, with values already
    checked: copying its attribute dictionary is enough.
    """
    if not _ORDER_FIELDS.issuperset(changes):
        unknown = sorted(changes.keys() - _ORDER_FIELDS)
        raise TypeError(f"Order has no field {unknown[0]!r}")
    # A copy of the whole dictionary, then the changes: half the cost of filling an
    # empty one (which grows several times on the way).
    fields = order.__dict__.copy()
    fields.update(changes)
    new: Order = _NEW(Order)
    _SET(new, "__dict__", fields)  # a frozen class: its own __setattr__ refuses
    return new
