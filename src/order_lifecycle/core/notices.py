"""Automated chat notices: one human sentence (or a few) for every kind of history event.

The order chat shows every event exactly once (spec section 4): a ``message_posted``
event as the message itself, every other event as an automated notice written here.

>>> import pendulum
>>> from order_lifecycle import core, Listing, Money
>>> from order_lifecycle.core.notices import notice
>>> now = pendulum.datetime(2026, 12, 1, 9)
>>> listing = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)
>>> placed = core.place(buyer="alice", seller="bob", listing=listing, now=now, order_id="o1")
>>> notice(placed.events[0])
'alice bought «Instagram post» for 150.00 USD. bob, review the order and accept or decline it.'
>>> accepted = core.decide(placed.order, core.Accept(), actor="bob", now=now)
>>> notice(accepted.events[0], tz="Europe/Paris")
'bob accepted the order. Delivery is due Tue 8 Dec 2026 10:00 CET.'

Conventions:

- People are named by their user id; timer events (fired by the system) speak
  impersonally, and the word "system" never appears as a name. Where an event does not
  carry a party's id, the notice names the party by role ("the buyer", "the seller").
- Instants are shown in the viewer's zone ``tz`` with :func:`values.human_instant`.
- Texts a person typed (reasons, notes, answers) are quoted in “curly quotes” and their
  white space is folded to single spaces, so a notice is always one paragraph.
- A notice is pure and cheap: no clock, no I/O, no parsing of dates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import pendulum

from order_lifecycle.core import values
from order_lifecycle.core.events import (
    EVENT_TYPES,
    AgentJoined,
    CancellationAccepted,
    CancellationDeclined,
    CancellationRequested,
    CancellationWithdrawn,
    ContentDelivered,
    DeliveryApproved,
    DeliveryDatePassed,
    DisputeEscalated,
    DisputeResolved,
    Event,
    InfoProvided,
    InfoRequested,
    InfoTimedOut,
    MessagePosted,
    OrderAccepted,
    OrderAutoCompleted,
    OrderCancelled,
    OrderDeclined,
    OrderDisputed,
    OrderExpired,
    OrderPlaced,
    OrderSettled,
    OrderWithdrawn,
    ReminderSent,
    ReviewLeft,
    ReviewsPublished,
    RevisionRequested,
    UpdateAccepted,
    UpdateExpired,
    UpdateProposed,
    UpdateRejected,
    UpdateWithdrawn,
)
from order_lifecycle.core.model import (
    Actor,
    Contract,
    Money,
    OrderReview,
    OrderState,
    Outcome,
    Role,
)
from order_lifecycle.core.terms import Deadline
from order_lifecycle.errors import ValidationError

__all__ = ["VOIDED_CANCELLATION", "VOIDED_PROPOSAL", "notice"]

#: Appended to the notice of any event that voided an open contract proposal.
VOIDED_PROPOSAL: Final = "The open contract update is now void."
#: Appended to the notice of any event that voided an open cancellation request.
VOIDED_CANCELLATION: Final = "The open cancellation request is now void."
#: A quote ending in its own ``.``, ``!`` or ``?`` followed by the sentence's full stop,
#: and what it becomes.
_DOUBLED_STOPS: Final = tuple((f"{mark}”.", f"{mark}”") for mark in ".!?")


def _name(actor: Actor) -> str:
    # Timer events never name their actor; this only guards against a stray system actor.
    return "The marketplace" if actor.role is Role.system else actor.id


def _flat(text: str) -> str:
    return " ".join(text.split())


def _quote(text: str) -> str:
    return f"“{_flat(text)}”"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _other_party(actor: Actor) -> str:
    return "The seller" if actor.role is Role.buyer else "The buyer"


def _terms(
    price: Money | None, due_at: pendulum.DateTime | None, revisions: int | None, tz: str
) -> str:
    parts: list[str] = []
    if price is not None:
        parts.append(f"price {price}")
    if due_at is not None:
        parts.append(f"delivery due {values.human_instant(due_at, tz)}")
    if revisions is not None:
        parts.append(_plural(revisions, "revision"))
    return ", ".join(parts)


# One renderer per event kind. Each returns the notice without the voided-proposal line.


def _order_placed(event: OrderPlaced, tz: str) -> str:
    bought = f"{event.buyer} bought «{event.listing.title}» for {event.listing.price}."
    answers = [
        f"{_flat(question)} {_quote(answer)}"
        for question, answer in event.answers.items()
        if answer.strip()
    ]
    if not answers:
        return f"{bought} {event.seller}, review the order and accept or decline it."
    return (
        f"{bought} Answers: {'; '.join(answers)}. "
        f"{event.seller}, review the answers and accept or decline the order."
    )


def _order_accepted(event: OrderAccepted, tz: str) -> str:
    due = values.human_instant(event.due_at, tz)
    return f"{_name(event.actor)} accepted the order. Delivery is due {due}."


def _with_reason(sentence: str, reason: str) -> str:
    return f"{sentence}: {_quote(reason)}." if reason.strip() else f"{sentence}."


def _order_declined(event: OrderDeclined, tz: str) -> str:
    return _with_reason(f"{_name(event.actor)} declined the order", event.reason)


def _order_withdrawn(event: OrderWithdrawn, tz: str) -> str:
    return _with_reason(f"{_name(event.actor)} withdrew the order", event.reason)


def _order_expired(event: OrderExpired, tz: str) -> str:
    due = values.human_instant(event.due_at, tz)
    return f"The order expired: it was not accepted or declined by {due}."


def _content_delivered(event: ContentDelivered, tz: str) -> str:
    who = _name(event.actor)
    names = ", ".join(f.name for f in event.files)
    if event.files and event.outside:
        what = (
            f"{who} delivered {_plural(len(event.files), 'file')}: {names}, and marked the "
            "content as delivered outside the platform."
        )
    elif event.files:
        what = f"{who} delivered {_plural(len(event.files), 'file')}: {names}."
    else:
        what = f"{who} marked the content as delivered outside the platform."
    note = f" Note from {who}: {_quote(event.note)}." if event.note.strip() else ""
    review = values.human_instant(event.review_due_at, tz)
    return (
        f"{what}{note} The buyer has until {review} to review it; after that the order "
        "completes automatically."
    )


def _delivery_approved(event: DeliveryApproved, tz: str) -> str:
    return f"{_name(event.actor)} approved the delivery. The order is complete."


def _revision_requested(event: RevisionRequested, tz: str) -> str:
    count = f"{event.revisions_used} of {event.revisions_allowed}"
    return f"{_name(event.actor)} asked for a revision ({count}): {_quote(event.note)}"


def _order_auto_completed(event: OrderAutoCompleted, tz: str) -> str:
    ended = values.human_instant(event.due_at, tz)
    return f"The review window ended on {ended}; the order completed automatically."


def _update_proposed(event: UpdateProposed, tz: str) -> str:
    terms = _terms(event.price, event.due_at, event.revisions, tz)
    text = (
        f"{_name(event.actor)} proposed a contract update: {terms}. "
        f"{_other_party(event.actor)} can accept or reject it"
    )
    if event.expires_at is None:
        return text + "."
    return f"{text} until {values.human_instant(event.expires_at, tz)}; then it closes by itself."


def _contract(contract: Contract, tz: str) -> str:
    terms = _terms(contract.price, contract.due_at, contract.revisions, tz)
    return f"Contract version {contract.version} is now in force: {terms}."


def _update_accepted(event: UpdateAccepted, tz: str) -> str:
    if event.actor.role is Role.system and event.due_at is not None:
        ended = values.human_instant(event.due_at, tz)
        accepted = (
            f"Nobody answered the contract update by {ended}; as the marketplace's terms "
            "say, it was accepted."
        )
    else:
        accepted = f"{_name(event.actor)} accepted the contract update."
    return f"{accepted} {_contract(event.contract, tz)}"


def _update_expired(event: UpdateExpired, tz: str) -> str:
    ended = values.human_instant(event.due_at, tz)
    text = (
        f"Nobody answered the contract update by {ended}; it expired and the contract "
        "stays as it was."
    )
    if event.reason:
        return f"{text} It could not be accepted: {event.reason}"
    return text


def _update_rejected(event: UpdateRejected, tz: str) -> str:
    return f"{_name(event.actor)} rejected the contract update; the contract stays as it was."


def _update_withdrawn(event: UpdateWithdrawn, tz: str) -> str:
    return f"{_name(event.actor)} withdrew the contract update; the contract stays as it was."


def _order_disputed(event: OrderDisputed, tz: str) -> str:
    return (
        f"{_name(event.actor)} disputed the order: {_quote(event.reason)}. A customer "
        "experience agent has been alerted and will join the chat."
    )


def _agent_joined(event: AgentJoined, tz: str) -> str:
    joined = f"{event.agent} from the customer experience team joined the chat"
    if event.state is OrderState.disputed:
        return f"{joined} to resolve the dispute."
    return f"{joined} to settle the money of the cancelled order."


_RESUMED: Final[Mapping[OrderState, str]] = {
    OrderState.accepted: "The seller continues the work.",
    OrderState.revision: "The seller continues the revision.",
    OrderState.delivered: "The buyer reviews the delivery again.",
}


def _money(refund: Money, payout: Money) -> str:
    return f"{refund} goes back to the buyer and {payout} is paid to the seller."


def _dispute_resolved(event: DisputeResolved, tz: str) -> str:
    who = _name(event.actor)
    note = _quote(event.note)
    money = ""
    if event.refund is not None and event.payout is not None:
        money = " " + _money(event.refund, event.payout)
    if event.outcome is Outcome.complete:
        return f"{who} resolved the dispute and completed the order: {note}.{money}"
    if event.outcome is Outcome.cancel:
        return f"{who} resolved the dispute and cancelled the order: {note}.{money}"
    text = f"{who} resolved the dispute and resumed the order: {note}."
    if event.state is OrderState.delivered and event.review_due_at is not None:
        review = values.human_instant(event.review_due_at, tz)
        return (
            f"{text} The buyer's review window restarts: it ends {review}, and then the "
            "order completes automatically."
        )
    then = _RESUMED.get(event.state)
    return text if then is None else f"{text} {then}"


def _order_cancelled(event: OrderCancelled, tz: str) -> str:
    return (
        f"{_name(event.actor)} cancelled the order: {_quote(event.reason)}. A customer "
        "experience agent will join to settle the money."
    )


def _message_posted(event: MessagePosted, tz: str) -> str:
    return event.text


def _delivery_date_passed(event: DeliveryDatePassed, tz: str) -> str:
    due = values.human_instant(event.due_at, tz)
    return (
        f"The delivery date, {due}, passed with the delivery still outstanding. Either party "
        "may now cancel the order or propose a new date."
    )


_REMINDED_TO: Final[Mapping[Deadline, str]] = {
    Deadline.delivery: "deliver by {at}",
    Deadline.review: "review the delivery by {at}; after that the order completes automatically",
    Deadline.acceptance: "accept or decline the order by {at}, or it expires",
    Deadline.proposal: "answer the contract update by {at}, or it closes by itself",
    Deadline.cancellation: "answer the cancellation request by {at}, or it closes by itself",
}


def _reminder_sent(event: ReminderSent, tz: str) -> str:
    what = _REMINDED_TO[event.deadline].format(at=values.human_instant(event.deadline_at, tz))
    return f"Reminder for {event.recipient}, the {event.role}: {what}."


def _dispute_escalated(event: DisputeEscalated, tz: str) -> str:
    since = values.human_instant(event.due_at, tz)
    return (
        f"The dispute is still unresolved on {since}; it was escalated to the customer "
        "experience team."
    )


def _info_requested(event: InfoRequested, tz: str) -> str:
    latest = values.human_instant(event.resume_by, tz)
    return (
        f"{_name(event.actor)} asked the buyer: {_quote(event.question)}. The delivery clock "
        f"is paused until the buyer answers, and runs again by itself on {latest} at the latest."
    )


def _info_provided(event: InfoProvided, tz: str) -> str:
    due = values.human_instant(event.delivery_due_at, tz)
    return (
        f"{_name(event.actor)} answered: {_quote(event.answer)}. The delivery clock runs "
        f"again: delivery is now due {due}."
    )


def _info_timed_out(event: InfoTimedOut, tz: str) -> str:
    asked = values.human_instant(event.due_at, tz)
    due = values.human_instant(event.delivery_due_at, tz)
    return (
        f"The buyer did not answer the seller's question by {asked}; the delivery clock runs "
        f"again by itself. Delivery is now due {due}."
    )


def _order_settled(event: OrderSettled, tz: str) -> str:
    settled = _with_reason(f"{_name(event.actor)} settled the money of the order", event.note)
    return f"{settled} {_money(event.refund, event.payout)}"


def _cancellation_requested(event: CancellationRequested, tz: str) -> str:
    refund = "the whole price" if event.refund is None else str(event.refund)
    text = (
        f"{_name(event.actor)} asked to cancel the order: {_quote(event.reason)}, with "
        f"{refund} back to the buyer. {_other_party(event.actor)} can accept or decline."
    )
    if event.expires_at is not None:
        text += f" Without an answer by {values.human_instant(event.expires_at, tz)}, it closes."
    return text


def _cancellation_accepted(event: CancellationAccepted, tz: str) -> str:
    if event.actor.role is Role.system:
        agreed = "The cancellation request was not answered in time, so it was accepted:"
    else:
        agreed = f"{_name(event.actor)} accepted the cancellation request:"
    return (
        f"{agreed} the order is cancelled by mutual consent. {_money(event.refund, event.payout)}"
    )


def _cancellation_declined(event: CancellationDeclined, tz: str) -> str:
    if event.actor.role is Role.system:
        return "The cancellation request was not answered in time and closed; the work goes on."
    return f"{_name(event.actor)} declined the cancellation request; the work goes on."


def _cancellation_withdrawn(event: CancellationWithdrawn, tz: str) -> str:
    return f"{_name(event.actor)} withdrew the cancellation request."


def _stars(review: OrderReview) -> str:
    text = f": {_quote(review.text)}" if review.text.strip() else ""
    return f"{review.by} rated the {review.about} {review.rating}/5{text}"


def _published(reviews: tuple[OrderReview, ...]) -> str:
    return "; ".join(_stars(r) for r in reviews) + "."


def _review_left(event: ReviewLeft, tz: str) -> str:
    left = f"{_name(event.actor)} left a review."
    if event.published:
        return f"{left} Both reviews are now published: {_published(event.published)}"
    return f"{left} It stays hidden until both parties review or the review period ends."


def _reviews_published(event: ReviewsPublished, tz: str) -> str:
    return f"The review period ended; the review is published: {_published(event.reviews)}"


_RENDERERS: Final[Mapping[str, Callable[[Any, str], str]]] = {
    OrderPlaced.kind: _order_placed,
    OrderAccepted.kind: _order_accepted,
    OrderDeclined.kind: _order_declined,
    OrderWithdrawn.kind: _order_withdrawn,
    OrderExpired.kind: _order_expired,
    ContentDelivered.kind: _content_delivered,
    DeliveryApproved.kind: _delivery_approved,
    RevisionRequested.kind: _revision_requested,
    OrderAutoCompleted.kind: _order_auto_completed,
    UpdateProposed.kind: _update_proposed,
    UpdateAccepted.kind: _update_accepted,
    UpdateRejected.kind: _update_rejected,
    UpdateWithdrawn.kind: _update_withdrawn,
    OrderDisputed.kind: _order_disputed,
    AgentJoined.kind: _agent_joined,
    DisputeResolved.kind: _dispute_resolved,
    OrderCancelled.kind: _order_cancelled,
    MessagePosted.kind: _message_posted,
    DeliveryDatePassed.kind: _delivery_date_passed,
    UpdateExpired.kind: _update_expired,
    ReminderSent.kind: _reminder_sent,
    DisputeEscalated.kind: _dispute_escalated,
    InfoRequested.kind: _info_requested,
    InfoProvided.kind: _info_provided,
    InfoTimedOut.kind: _info_timed_out,
    OrderSettled.kind: _order_settled,
    CancellationRequested.kind: _cancellation_requested,
    CancellationAccepted.kind: _cancellation_accepted,
    CancellationDeclined.kind: _cancellation_declined,
    CancellationWithdrawn.kind: _cancellation_withdrawn,
    ReviewLeft.kind: _review_left,
    ReviewsPublished.kind: _reviews_published,
}


def notice(event: Event, *, tz: str = "UTC") -> str:
    """The chat text of ``event``: the automated notice a marketplace user reads.

    Instants show in the IANA zone ``tz`` (``ValidationError`` if it is unknown). A
    ``message_posted`` event is not a notice: the chat shows it as the message itself,
    so its text is returned unchanged (empty for a message of files only; the files
    travel beside it). When the event voided an open contract proposal the notice ends
    with :data:`VOIDED_PROPOSAL`. An event of a kind this module does not know raises
    ``ValidationError`` naming the kind; every kind of ``EVENT_TYPES`` has a notice.
    """
    if not isinstance(event, Event):
        raise ValidationError("event", f"must be a history event, not {type(event).__name__}")
    renderer = _RENDERERS.get(event.kind)
    cls = EVENT_TYPES.get(event.kind)
    if renderer is None or cls is None or not isinstance(event, cls):
        raise ValidationError(
            "event",
            f"{event.kind!r} is not an event kind with a notice; "
            f"known kinds: {', '.join(sorted(_RENDERERS))}",
        )
    text = renderer(event, values.check_zone(tz))
    if "”." in text:  # a quote that ends its own sentence needs no second full stop
        for doubled, single in _DOUBLED_STOPS:
            text = text.replace(doubled, single)
    if event.voided_proposal:
        text = f"{text} {VOIDED_PROPOSAL}"
    if event.voided_cancellation:
        text = f"{text} {VOIDED_CANCELLATION}"
    return text
