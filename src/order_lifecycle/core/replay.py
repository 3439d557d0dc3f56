"""Replay: rebuild an order from its history by running each event's command again.

An event holds the arguments of the command that caused it, so the history alone
implies the order. ``replay`` is how a stored order is checked against its events and
how an idempotent command's first result is recovered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import attrs

from order_lifecycle.core import commands as c
from order_lifecycle.core import events as e
from order_lifecycle.core import values
from order_lifecycle.core.api import DEFAULT_POLICY, decide, fire, placement
from order_lifecycle.core.model import (
    MOST_FILE_BYTES,
    MOST_FILES,
    MOST_MESSAGE_CHARS,
    Order,
    OrderState,
    Policy,
    Timer,
)
from order_lifecycle.errors import ValidationError

__all__ = ["command_of", "replay", "replay_steps", "written_under"]


def command_of(event: e.Event) -> c.Command:
    """The command that recorded ``event`` (not for placement or a timer's notice)."""
    match event:
        case e.OrderAccepted():
            return c.Accept()
        case e.OrderDeclined(reason=reason):
            return c.Decline(reason=reason)
        case e.OrderWithdrawn(reason=reason):
            return c.Withdraw(reason=reason)
        case e.OrderExpired():
            return c.Expire()
        case e.ContentDelivered(files=files, outside=outside, note=note):
            return c.Deliver(files=files, outside=outside, note=note)
        case e.DeliveryApproved():
            return c.Approve()
        case e.RevisionRequested(note=note):
            return c.RequestRevision(note=note)
        case e.OrderAutoCompleted():
            return c.AutoComplete()
        case e.UpdateProposed(price=price, due_at=due_at, revisions=revisions):
            return c.ProposeUpdate(price=price, due_at=due_at, revisions=revisions)
        case e.UpdateAccepted():
            return c.AcceptUpdate()
        case e.UpdateRejected():
            return c.RejectUpdate()
        case e.UpdateWithdrawn():
            return c.WithdrawUpdate()
        case e.OrderDisputed(reason=reason):
            return c.Dispute(reason=reason)
        case e.AgentJoined():
            return c.Join()
        case e.DisputeResolved(outcome=outcome, note=note, refund=refund):
            return c.Resolve(outcome=outcome, note=note, refund=refund)
        case e.OrderCancelled(reason=reason):
            return c.Cancel(reason=reason)
        case e.MessagePosted(text=text, files=files):
            return c.Say(text=text, files=files)
        case e.InfoRequested(question=question):
            return c.RequestInfo(question=question)
        case e.InfoProvided(answer=answer):
            return c.ProvideInfo(answer=answer)
        case e.OrderSettled(refund=refund, note=note):
            return c.Settle(refund=refund, note=note)
        case e.CancellationRequested(reason=reason, refund=refund):
            return c.RequestCancellation(reason=reason, refund=refund)
        case e.CancellationAccepted():
            return c.AcceptCancellation()
        case e.CancellationDeclined():
            return c.DeclineCancellation()
        case e.CancellationWithdrawn():
            return c.WithdrawCancellation()
        case e.ReviewLeft(rating=rating, text=text):
            return c.Review(rating=rating, text=text)
    raise ValidationError("event", f"{event.kind} events are not replayed by a command")


def replay_steps(
    history: Iterable[e.Event], *, policy: Policy = DEFAULT_POLICY
) -> Iterator[tuple[e.Event, Order]]:
    """Each event of ``history`` with the order it implies once that event is applied.

    Raises ``ValidationError`` when the history does not start with the placement or an
    event does not follow from the order before it (its command would be refused, or it
    would record a different event). The placement keeps the terms and lifecycle version
    it recorded; a timer's notice (its ``action`` a timer) is fired again.
    """
    order: Order | None = None
    for event in history:
        if isinstance(event, e.OrderPlaced):
            decision = placement(
                buyer=event.buyer,
                seller=event.seller,
                listing=event.listing,
                answers=event.answers,
                now=event.at,
                policy=policy,
                order_id=event.order_id,
                terms=event.terms,
                lifecycle=event.lifecycle,
            )
        elif order is None:
            raise ValidationError("history", "does not start with the order's placement")
        elif isinstance(event.action, Timer):
            decision = fire(order, event.action, now=event.at, policy=policy)
        else:
            decision = decide(
                order, command_of(event), actor=event.actor, now=event.at, policy=policy
            )
        if decision.events != (event,):
            raise ValidationError(
                "history", f"event {event.seq} ({event.kind}) is not what its command records"
            )
        order = decision.order
        yield event, order


def replay(
    history: Iterable[e.Event], *, policy: Policy = DEFAULT_POLICY, upto: int | None = None
) -> Order:
    """The order that ``history`` implies (up to version ``upto``), under ``policy``."""
    order: Order | None = None
    for event, after in replay_steps(history, policy=policy):
        if upto is not None and event.seq > upto:
            break
        order = after
    if order is None:
        raise ValidationError("history", "is empty")
    return order


def written_under(history: Sequence[e.Event], policy: Policy) -> Policy:
    """``policy`` as far as ``history`` tells the one it was written under, for replaying
    it: what a desk's policy may have changed since and a recorded event depends on.

    The order's own deadline terms are pinned in its placement already; the rest is the
    desk's. Every recorded event was checked when it was written, so the checks that
    could only refuse it now are opened (any CX agent, the largest file, message and
    count limits, the longest review period), and the two service levels a recorded
    timer event measured are read from it: the dispute window (an escalation's ``due_at``
    after its dispute opened) and the review period (the publication's ``due_at`` after
    the order completed). Without such an event they are left as ``policy`` has them
    (a recorded history then holds no event of theirs to match)."""
    changes: dict[str, object] = {
        "cx_team": None,
        "allowed_media_types": None,
        "max_files": MOST_FILES,
        "max_file_bytes": MOST_FILE_BYTES,
        "max_message_chars": MOST_MESSAGE_CHARS,
        "review_period": values.MAX_DURATION,
    }
    opened = completed = None
    for event in history:
        if isinstance(event, e.OrderDisputed):
            opened = event.at
        elif isinstance(event, e.DisputeEscalated) and opened is not None:
            changes["dispute_window"] = event.due_at - opened
        if event.state is OrderState.complete and completed is None:
            completed = event.at
        if isinstance(event, e.ReviewsPublished) and completed is not None:
            changes["review_period"] = event.due_at - completed
    return attrs.evolve(policy, **changes)
