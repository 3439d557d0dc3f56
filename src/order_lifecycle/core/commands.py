"""Commands: one attrs class per order action, named after it in CamelCase.

A command holds the arguments of an action as given. It is checked only after the
actor is known to be a participant and the action is available (spec section 4:
participant, availability, arguments), by :meth:`Command.validate`, which returns the
normalised command or raises :class:`~order_lifecycle.errors.ValidationError`.

>>> from order_lifecycle import core
>>> core.RequestRevision(note="Warmer colours please").action
<Action.request_revision: 'request_revision'>
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from typing import Any, ClassVar, Final, Protocol, Self, TypeAlias

import attrs
import pendulum

from order_lifecycle.core import values
from order_lifecycle.core.context import Context
from order_lifecycle.core.model import Action, Attachment, Money, Outcome, Policy
from order_lifecycle.errors import ValidationError

__all__ = [
    "Accept",
    "AcceptCancellation",
    "AcceptUpdate",
    "Amount",
    "Approve",
    "AutoComplete",
    "Cancel",
    "Command",
    "Decline",
    "DeclineCancellation",
    "Deliver",
    "Dispute",
    "Expire",
    "FilePath",
    "Join",
    "ProposeUpdate",
    "ProvideInfo",
    "RejectUpdate",
    "RequestCancellation",
    "RequestInfo",
    "RequestRevision",
    "Resolve",
    "Review",
    "Say",
    "Settle",
    "Upload",
    "Withdraw",
    "WithdrawCancellation",
    "WithdrawUpdate",
]


class FilePath(Protocol):
    """A path to a file (``pathlib.Path`` and the like): what ``os.fspath`` takes."""

    def __fspath__(self) -> str: ...


#: A file as a caller hands it to ``OrderDesk``: a path, or a ``(name, content)`` pair.
#: The desk stores it and puts its :class:`Attachment` in the command before deciding;
#: the core itself only takes attachments.
Upload: TypeAlias = FilePath | str | tuple[str, bytes]


_REASON_CHARS = 2_000


def _as_tuple(value: Iterable[Attachment | Upload]) -> tuple[Attachment | Upload, ...]:
    # Lists become tuples so commands stay hashable; anything else is kept as given and
    # refused by ``validate`` (arguments are checked after participant and availability).
    return tuple(value) if isinstance(value, (list, tuple)) else value  # type: ignore[return-value]


@attrs.frozen
class Command:
    """Base of every command: ``action`` names the row of the table it runs."""

    action: ClassVar[Action]
    #: The command carries files (a ``files`` field): ``OrderDesk`` stores them first.
    carries_files: ClassVar[bool] = False

    def validate(self, ctx: Context) -> Self:
        """Check the arguments against the order and policy; return the normalised command."""
        return self


def check_files(field: str, files: object, policy: Policy) -> tuple[Attachment, ...]:
    """The attachments of a delivery or message, within the policy's limits.

    Files not stored yet (paths, ``(name, bytes)`` pairs) are refused: ``OrderDesk``
    stores them first; the pure core decides on attachments only."""
    if type(files) is tuple:  # what commands hold (lists become tuples)
        items: tuple[Any, ...] = files
    elif isinstance(files, (str, bytes)) or not isinstance(files, Iterable):
        raise ValidationError(field, "must be a sequence of attachments")
    else:
        items = tuple(files)
    if len(items) > policy.max_files:
        raise ValidationError(field, f"holds {len(items)} files; the limit is {policy.max_files}")
    for item in items:
        if not isinstance(item, Attachment):
            raise ValidationError(field, f"holds a {type(item).__name__}, not an Attachment")
        if item.size > policy.max_file_bytes:
            raise ValidationError(
                field,
                f"{item.name!r} is {item.size:,} bytes; the limit is {policy.max_file_bytes:,}",
            )
        allowed = policy.allowed_media_types
        if allowed is not None and item.media_type.lower() not in allowed:
            raise ValidationError(
                field, f"{item.name!r} is {item.media_type}, which this marketplace does not accept"
            )
    return items


def stored(field: str, files: object) -> tuple[Attachment, ...]:
    """``files`` as attachments; ``ValidationError`` for a file not stored yet."""
    if not isinstance(files, tuple):
        raise ValidationError(field, "must be a sequence of attachments")
    for item in files:
        if not isinstance(item, Attachment):
            raise ValidationError(field, f"holds a {type(item).__name__}, not an Attachment")
    return files


#: An amount as a command takes it: ``Money``, or a plain amount in the contract's currency.
Amount: TypeAlias = Money | str | int | decimal.Decimal


def contract_money(field: str, value: object, ctx: Context) -> Money:
    """``value`` as ``Money`` in the contract's currency (a plain amount is taken in it)."""
    currency = ctx.order.contract.price.currency
    if isinstance(value, (str, int, decimal.Decimal)) and not isinstance(value, bool):
        try:
            value = Money(value, currency)
        except ValidationError as error:
            raise ValidationError(field, error.message) from None
    if not isinstance(value, Money):
        raise ValidationError(field, f"must be Money, not {type(value).__name__}")
    if value.currency != currency:
        raise ValidationError(field, f"must be in the contract's currency, {currency}")
    return value


def refund_of(field: str, value: object, ctx: Context) -> Money:
    """A refund: ``Money`` in the contract's currency, from 0 to the price in force."""
    refund = contract_money(field, value, ctx)
    price = ctx.order.contract.price
    if not 0 <= refund.amount <= price.amount:
        raise ValidationError(field, f"must be from 0 to the price in force, {price}")
    return refund


def _as_money(field: str, value: Amount | None) -> Money | None:
    if value is not None and not isinstance(value, Money):
        raise ValidationError(field, "must be Money once the command is validated")
    return value


def _reason(field: str, value: object, ctx: Context, *, required: bool) -> str:
    limit = min(ctx.policy.max_message_chars, _REASON_CHARS)
    return values.check_text(field, value, max_chars=limit, required=required)


@attrs.frozen
class Accept(Command):
    """The seller accepts a pending order; delivery is due after the listing's delivery time."""

    action: ClassVar[Action] = Action.accept


@attrs.frozen
class Decline(Command):
    """The seller declines a pending order."""

    action: ClassVar[Action] = Action.decline
    reason: str = ""

    def validate(self, ctx: Context) -> Self:
        _reason("reason", self.reason, ctx, required=False)
        return self


@attrs.frozen
class Withdraw(Command):
    """The buyer withdraws a pending order."""

    action: ClassVar[Action] = Action.withdraw
    reason: str = ""

    def validate(self, ctx: Context) -> Self:
        _reason("reason", self.reason, ctx, required=False)
        return self


@attrs.frozen
class Expire(Command):
    """The system cancels a pending order whose acceptance window elapsed."""

    action: ClassVar[Action] = Action.expire


@attrs.frozen
class Deliver(Command):
    """The seller delivers content: at least one file, or ``outside=True``."""

    action: ClassVar[Action] = Action.deliver
    carries_files: ClassVar[bool] = True
    files: tuple[Attachment | Upload, ...] = attrs.field(default=(), converter=_as_tuple)
    outside: bool = False
    note: str = ""

    @property
    def attachments(self) -> tuple[Attachment, ...]:
        """The files, once stored (what ``validate`` checked)."""
        return stored("files", self.files)

    def validate(self, ctx: Context) -> Self:
        files = check_files("files", self.files, ctx.policy)
        if not isinstance(self.outside, bool):
            raise ValidationError("outside", "must be True or False")
        if not files and not self.outside:
            raise ValidationError(
                "files",
                "a delivery needs at least one file, or outside=True for content "
                "delivered outside the platform",
            )
        values.check_text("note", self.note, max_chars=ctx.policy.max_message_chars, required=False)
        return self


@attrs.frozen
class Approve(Command):
    """The buyer approves the delivery; the order completes."""

    action: ClassVar[Action] = Action.approve


@attrs.frozen
class RequestRevision(Command):
    """The buyer asks for a revision, saying what to change."""

    action: ClassVar[Action] = Action.request_revision
    note: str

    def validate(self, ctx: Context) -> Self:
        values.check_text("note", self.note, max_chars=ctx.policy.max_message_chars)
        return self


@attrs.frozen
class AutoComplete(Command):
    """The system completes a delivered order whose review window elapsed."""

    action: ClassVar[Action] = Action.auto_complete


@attrs.frozen
class ProposeUpdate(Command):
    """A party proposes new contract terms: price, due date and/or revisions."""

    action: ClassVar[Action] = Action.propose_update
    #: A ``Money``, or a plain amount (``str``, ``int``, ``Decimal``) in the contract's currency.
    price: Money | str | int | decimal.Decimal | None = None
    #: ``validate`` makes it a UTC instant (from an aware ``datetime`` or ISO 8601 text with
    #: an offset; anything else is refused there, after participant and availability).
    due_at: pendulum.DateTime | None = None
    revisions: int | None = None

    @property
    def money(self) -> Money | None:
        """The proposed price as ``Money`` (what ``validate`` made of a plain amount)."""
        return _as_money("price", self.price)

    def validate(self, ctx: Context) -> Self:
        contract = ctx.order.contract
        price = self.price
        if price is not None:
            price = contract_money("price", price, ctx)
            if price.amount <= 0:
                raise ValidationError("price", "must be more than zero")
        due_at = None if self.due_at is None else values.to_instant(self.due_at, "due_at")
        if due_at is not None and due_at <= ctx.now:
            raise ValidationError("due_at", "must be in the future")
        revisions = self.revisions
        if revisions is not None:
            values.check_count("revisions", revisions, maximum=100)
            if revisions < ctx.order.revisions_used:
                raise ValidationError(
                    "revisions",
                    f"must be at least the {ctx.order.revisions_used} revisions already used",
                )
        changes = (
            (price is not None and price != contract.price)
            or (due_at is not None and due_at != contract.due_at)
            or (revisions is not None and revisions != contract.revisions)
        )
        if not changes:
            raise ValidationError(
                "update", "change at least one of price, due_at or revisions from the contract"
            )
        return attrs.evolve(self, price=price, due_at=due_at)


@attrs.frozen
class AcceptUpdate(Command):
    """The other party accepts the open proposal; the contract changes."""

    action: ClassVar[Action] = Action.accept_update


@attrs.frozen
class RejectUpdate(Command):
    """The other party rejects the open proposal."""

    action: ClassVar[Action] = Action.reject_update


@attrs.frozen
class WithdrawUpdate(Command):
    """The proposer withdraws the open proposal."""

    action: ClassVar[Action] = Action.withdraw_update


@attrs.frozen
class Dispute(Command):
    """A party disputes the order; a CX agent is alerted to join the chat."""

    action: ClassVar[Action] = Action.dispute
    reason: str

    def validate(self, ctx: Context) -> Self:
        _reason("reason", self.reason, ctx, required=True)
        return self


@attrs.frozen
class Join(Command):
    """A CX agent joins the conversation of a disputed (or cancelled) order."""

    action: ClassVar[Action] = Action.join


def _outcome(value: object) -> Outcome:
    if isinstance(value, Outcome):
        return value
    try:
        return Outcome(str(value))
    except ValueError:
        raise ValidationError(
            "outcome", f"{values.shown(value)} is not an outcome; use resume, complete or cancel"
        ) from None


@attrs.frozen
class Resolve(Command):
    """The CX agent who joined resolves the dispute: resume, complete or cancel.

    Completing or cancelling settles the money: ``refund`` (0 to the price in force) goes
    back to the buyer, the rest to the seller; by default the whole price on cancel and
    nothing on complete. A resumed order is not settled (no ``refund``).
    """

    action: ClassVar[Action] = Action.resolve
    outcome: Outcome | str
    note: str
    refund: Amount | None = None

    @property
    def refund_money(self) -> Money | None:
        """The refund as ``Money`` (what ``validate`` made of a plain amount)."""
        return _as_money("refund", self.refund)

    def validate(self, ctx: Context) -> Self:
        outcome = _outcome(self.outcome)
        _reason("note", self.note, ctx, required=True)
        refund = self.refund
        if refund is not None:
            if outcome is Outcome.resume:
                raise ValidationError(
                    "refund", "a resumed order is not settled; complete or cancel it to refund"
                )
            refund = refund_of("refund", refund, ctx)
        return attrs.evolve(self, outcome=outcome, refund=refund)


@attrs.frozen
class Cancel(Command):
    """A party cancels the order (past due, or delivered with revisions used up)."""

    action: ClassVar[Action] = Action.cancel
    reason: str

    def validate(self, ctx: Context) -> Self:
        _reason("reason", self.reason, ctx, required=True)
        return self


@attrs.frozen
class Say(Command):
    """A chat message: text (1..``Policy.max_message_chars``), files, or both."""

    action: ClassVar[Action] = Action.say
    carries_files: ClassVar[bool] = True
    text: str = ""
    files: tuple[Attachment | Upload, ...] = attrs.field(default=(), converter=_as_tuple)

    @property
    def attachments(self) -> tuple[Attachment, ...]:
        """The files, once stored (what ``validate`` checked)."""
        return stored("files", self.files)

    def validate(self, ctx: Context) -> Self:
        files = check_files("files", self.files, ctx.policy)
        values.check_text(
            "text", self.text, max_chars=ctx.policy.max_message_chars, required=not files
        )
        return self


@attrs.frozen
class RequestInfo(Command):
    """The seller asks the buyer something the work needs; the delivery clock pauses
    until the buyer answers (at most ``Policy.max_pause``)."""

    action: ClassVar[Action] = Action.request_info
    question: str

    def validate(self, ctx: Context) -> Self:
        values.check_text("question", self.question, max_chars=ctx.policy.max_message_chars)
        return self


@attrs.frozen
class ProvideInfo(Command):
    """The buyer answers the seller's question; delivery is due later by the time paused."""

    action: ClassVar[Action] = Action.provide_info
    answer: str

    def validate(self, ctx: Context) -> Self:
        values.check_text("answer", self.answer, max_chars=ctx.policy.max_message_chars)
        return self


@attrs.frozen
class Settle(Command):
    """The CX agent who joined a cancelled order settles its money: ``refund`` to the
    buyer (0 to the price in force), the rest paid out to the seller."""

    action: ClassVar[Action] = Action.settle
    refund: Amount
    note: str = ""

    @property
    def refund_money(self) -> Money:
        """The refund as ``Money`` (what ``validate`` made of a plain amount)."""
        money = _as_money("refund", self.refund)
        assert money is not None  # a required field
        return money

    def validate(self, ctx: Context) -> Self:
        refund = refund_of("refund", self.refund, ctx)
        _reason("note", self.note, ctx, required=False)
        return attrs.evolve(self, refund=refund)


@attrs.frozen
class RequestCancellation(Command):
    """A party asks the other to cancel the order by mutual consent, proposing a
    ``refund`` (default: the whole price)."""

    action: ClassVar[Action] = Action.request_cancellation
    reason: str
    refund: Amount | None = None

    @property
    def refund_money(self) -> Money | None:
        """The proposed refund as ``Money`` (what ``validate`` made of a plain amount)."""
        return _as_money("refund", self.refund)

    def validate(self, ctx: Context) -> Self:
        _reason("reason", self.reason, ctx, required=True)
        refund = None if self.refund is None else refund_of("refund", self.refund, ctx)
        return attrs.evolve(self, refund=refund)


@attrs.frozen
class AcceptCancellation(Command):
    """The other party accepts the cancellation request: the order is cancelled."""

    action: ClassVar[Action] = Action.accept_cancellation


@attrs.frozen
class DeclineCancellation(Command):
    """The other party declines the cancellation request: the work goes on."""

    action: ClassVar[Action] = Action.decline_cancellation


@attrs.frozen
class WithdrawCancellation(Command):
    """The requester withdraws the cancellation request."""

    action: ClassVar[Action] = Action.withdraw_cancellation


#: The longest review text.
REVIEW_CHARS: Final = 2_000


@attrs.frozen
class Review(Command):
    """A party reviews the other after completion: ``rating`` 1..5 and an optional text."""

    action: ClassVar[Action] = Action.review
    rating: int
    text: str = ""

    def validate(self, ctx: Context) -> Self:
        rating = self.rating
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValidationError(
                "rating", f"must be a whole number from 1 to 5, not {values.shown(rating)}"
            )
        values.check_text("text", self.text, max_chars=REVIEW_CHARS, required=False)
        return self
