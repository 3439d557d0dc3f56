"""What both desks share: their parts, the settings their flows read, and every command.

``OrderDesk`` runs a command's flow and returns the order; ``AsyncOrderDesk`` returns a
coroutine of it. The commands below are written once for both: ``R`` is what a command
returns (``Order``, or an awaitable of one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Generic, TypeVar

import pendulum

from order_lifecycle.clock import Clock, SystemClock
from order_lifecycle.core import commands as c
from order_lifecycle.core.model import Actor, Listing, Money, Order, Policy
from order_lifecycle.core.values import to_instant
from order_lifecycle.desk import flows
from order_lifecycle.errors import ValidationError
from order_lifecycle.ports import BlobStore, Notifier

__all__ = ["DEFAULT_CLOCK", "DEFAULT_POLICY", "DeskBase"]

S = TypeVar("S")
R = TypeVar("R")


#: ``open``'s defaults, as the spec writes them (both immutable: one object serves all).
DEFAULT_POLICY: Final = Policy()
DEFAULT_CLOCK: Final = SystemClock()


class DeskBase(Generic[S, R]):
    """A desk over store ``S`` whose commands return ``R``."""

    def __init__(
        self,
        store: S,
        *,
        policy: Policy | None = None,
        clock: Clock | None = None,
        blobs: BlobStore | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        from order_lifecycle.adapters.files import MemoryBlobs

        self.store = store
        self.policy = Policy() if policy is None else policy
        self.clock: Clock = SystemClock() if clock is None else clock
        self.blobs: BlobStore = MemoryBlobs() if blobs is None else blobs
        self.notifier = notifier
        self._settings_made: flows.Settings | None = None
        if not isinstance(self.policy, Policy):
            raise ValidationError("policy", "must be a Policy")
        # Checked here, not at the first command that needs them (protocols: by their methods).
        if not isinstance(self.clock, Clock):
            raise ValidationError("clock", f"must be a clock with now(), not {_kind(clock)}")
        if not isinstance(self.blobs, BlobStore):
            raise ValidationError(
                "blobs", f"must be a blob store with put() and get(), not {_kind(blobs)}"
            )
        if notifier is not None and not isinstance(notifier, Notifier):
            raise ValidationError(
                "notifier", f"must be a notifier with send(envelope), not {_kind(notifier)}"
            )

    def _now(self) -> pendulum.DateTime:
        return to_instant(self.clock.now(), "clock")

    def _recent(self, order_id: str) -> Order | None:
        return flows.recent(self.store, order_id)

    @property
    def _settings(self) -> flows.Settings:
        # Made once, and again only when the desk's policy is replaced (the clock is read
        # through ``_now`` at each use).
        made = self._settings_made
        if made is None or made.policy is not self.policy:
            made = self._settings_made = flows.Settings(self.policy, self._now, self._recent)
        return made

    def _command(self, flow: flows.Flow[Order]) -> R:
        """Run a command's flow: the order it leaves (or an awaitable of it)."""
        raise NotImplementedError

    def _check_notifier(self) -> None:
        if self.notifier is None:
            raise ValidationError(
                "notifier", "this desk has no notifier; open it with notifier=..."
            )

    # -- the one way to run a command ------------------------------------------------

    def execute(
        self,
        order_id: str,
        command: c.Command,
        *,
        by: Actor | str,
        idempotency_key: str | None = None,
    ) -> R:
        """Run ``command`` (a ``core`` command: ``core.Accept()``, ``core.Deliver(...)``,
        ...) on the order for ``by``; the order as the command left it.

        Checked in the order of the spec: participant, availability, arguments. A command
        that carries files may hold paths or ``(name, bytes)`` pairs: they are stored only
        once the rest of the command would go through. With ``idempotency_key``, a repeat
        of the same command returns the first result and changes nothing.
        """
        flow = flows.execute(self._settings, order_id, command, by, idempotency_key)
        return self._command(flow)

    # -- commands ------------------------------------------------------------------

    def place(
        self,
        *,
        buyer: str,
        seller: str,
        listing: Listing,
        answers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        order_id: str | None = None,
    ) -> R:
        """A buyer buys a listing: a new ``pending`` order for the seller to accept.

        ``order_id`` lets the host use its own id (e.g. its checkout's); by default a
        random ``ord_...`` id is drawn.
        """
        flow = flows.place(
            self._settings,
            buyer=buyer,
            seller=seller,
            listing=listing,
            answers=answers,
            key=idempotency_key,
            order_id=order_id,
        )
        return self._command(flow)

    # -- the named commands: each builds its command and runs it ----------------------

    def accept(self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None) -> R:
        """The seller accepts the order."""
        return self.execute(order_id, c.Accept(), by=by, idempotency_key=idempotency_key)

    def decline(
        self,
        order_id: str,
        *,
        by: Actor | str,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> R:
        """The seller declines the order."""
        command = c.Decline(reason=reason)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def withdraw(
        self,
        order_id: str,
        *,
        by: Actor | str,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> R:
        """The buyer withdraws the order before it is accepted."""
        command = c.Withdraw(reason=reason)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def deliver(
        self,
        order_id: str,
        *,
        by: Actor | str,
        files: Iterable[c.Upload] = (),
        outside: bool = False,
        note: str = "",
        idempotency_key: str | None = None,
    ) -> R:
        """The seller delivers files (paths or ``(name, bytes)``), or ``outside=True``."""
        command = c.Deliver(files=files, outside=outside, note=note)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def approve(self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None) -> R:
        """The buyer approves the delivery; the order completes."""
        return self.execute(order_id, c.Approve(), by=by, idempotency_key=idempotency_key)

    def request_revision(
        self, order_id: str, *, by: Actor | str, note: str, idempotency_key: str | None = None
    ) -> R:
        """The buyer asks for a revision."""
        command = c.RequestRevision(note=note)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def request_info(
        self, order_id: str, *, by: Actor | str, question: str, idempotency_key: str | None = None
    ) -> R:
        """The seller asks the buyer something the work needs; the delivery clock pauses."""
        command = c.RequestInfo(question=question)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def provide_info(
        self, order_id: str, *, by: Actor | str, answer: str, idempotency_key: str | None = None
    ) -> R:
        """The buyer answers; delivery is due later by the time the clock was paused."""
        command = c.ProvideInfo(answer=answer)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def propose_update(
        self,
        order_id: str,
        *,
        by: Actor | str,
        price: Money | str | int | None = None,
        due_at: object = None,
        revisions: int | None = None,
        idempotency_key: str | None = None,
    ) -> R:
        """Propose new contract terms; a plain amount is in the contract's currency."""
        command = c.ProposeUpdate(
            price=price, due_at=_instant_or_as_given(due_at), revisions=revisions
        )
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def accept_update(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> R:
        """The other party accepts the open proposal."""
        return self.execute(order_id, c.AcceptUpdate(), by=by, idempotency_key=idempotency_key)

    def reject_update(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> R:
        """The other party rejects the open proposal."""
        return self.execute(order_id, c.RejectUpdate(), by=by, idempotency_key=idempotency_key)

    def withdraw_update(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> R:
        """The proposer withdraws the open proposal."""
        command = c.WithdrawUpdate()
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def dispute(
        self, order_id: str, *, by: Actor | str, reason: str, idempotency_key: str | None = None
    ) -> R:
        """A party disputes the order; the CX team is alerted."""
        command = c.Dispute(reason=reason)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def join(self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None) -> R:
        """A CX agent joins the conversation."""
        return self.execute(order_id, c.Join(), by=by, idempotency_key=idempotency_key)

    def resolve(
        self,
        order_id: str,
        *,
        by: Actor | str,
        outcome: str,
        note: str,
        refund: c.Amount | None = None,
        idempotency_key: str | None = None,
    ) -> R:
        """The CX agent who joined resolves the dispute: resume, complete or cancel.
        Completing or cancelling settles the money: ``refund`` back to the buyer (by
        default the whole price on cancel, nothing on complete), the rest to the seller."""
        command = c.Resolve(outcome=outcome, note=note, refund=refund)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def cancel(
        self, order_id: str, *, by: Actor | str, reason: str, idempotency_key: str | None = None
    ) -> R:
        """A party cancels the order when the rules allow; the CX team is alerted."""
        command = c.Cancel(reason=reason)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def say(
        self,
        order_id: str,
        *,
        by: Actor | str,
        text: str = "",
        files: Iterable[c.Upload] = (),
        idempotency_key: str | None = None,
    ) -> R:
        """Post a chat message, with optional files."""
        command = c.Say(text=text, files=files)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def settle(
        self,
        order_id: str,
        *,
        by: Actor | str,
        refund: c.Amount,
        note: str = "",
        idempotency_key: str | None = None,
    ) -> R:
        """The CX agent who joined a cancelled order settles its money, once: ``refund``
        (0 to the price in force) back to the buyer, the rest paid to the seller."""
        command = c.Settle(refund=refund, note=note)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def request_cancellation(
        self,
        order_id: str,
        *,
        by: Actor | str,
        reason: str,
        refund: c.Amount | None = None,
        idempotency_key: str | None = None,
    ) -> R:
        """A party asks the other to cancel by mutual consent (default: a full refund)."""
        command = c.RequestCancellation(reason=reason, refund=refund)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def accept_cancellation(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> R:
        """The other party accepts the cancellation request: cancelled, settled as asked."""
        command = c.AcceptCancellation()
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def decline_cancellation(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> R:
        """The other party declines the cancellation request."""
        command = c.DeclineCancellation()
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def withdraw_cancellation(
        self, order_id: str, *, by: Actor | str, idempotency_key: str | None = None
    ) -> R:
        """The requester withdraws the cancellation request."""
        command = c.WithdrawCancellation()
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)

    def review(
        self,
        order_id: str,
        *,
        by: Actor | str,
        rating: int,
        text: str = "",
        idempotency_key: str | None = None,
    ) -> R:
        """A party reviews the other after completion, once: ``rating`` 1..5 and a text
        up to 2,000 characters (hidden from the other party until both reviewed or the
        review period ends)."""
        command = c.Review(rating=rating, text=text)
        return self.execute(order_id, command, by=by, idempotency_key=idempotency_key)


def _instant_or_as_given(value: object) -> Any:
    """A proposal's ``due_at`` as a UTC instant when it is one (equal instants in any form
    make one idempotency fingerprint); otherwise as given, for ``ProposeUpdate.validate``
    to refuse in its turn, after the participant and availability checks (spec §4)."""
    if value is None:
        return None
    try:
        return to_instant(value, "due_at")
    except ValidationError:
        return value  # the command raises this same error once the proposer may propose


def _kind(value: object) -> str:
    return type(value).__name__
