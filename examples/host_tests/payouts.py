"""A host application's own code: sellers are paid when their orders complete.

The ledger is fed by the desk's outbox, as a ``Notifier``: the relay hands it every
notification, at least once (a retry after a failure may hand it one again), one per
recipient. Its promise, which the host's tests check: each seller is paid once per
completed order, the contract's price, and never for an order that did not complete.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from order_lifecycle import Clock, Envelope, Money, Order, OrderDesk, Policy


@attrs.frozen
class Payout:
    """Money sent to a seller for one order."""

    order_id: str
    seller: str
    amount: Money


class PayoutLedger:
    """Pays the seller of each order that completes, once (a ``Notifier``).

    ``orders`` looks an order up (``OrderDesk.get``) for its seller and price.
    ``unreachable`` makes the next ``send`` record the payout, then fail as a timed-out
    bank call would: the relay tries the envelope again later.
    """

    def __init__(self, orders: Callable[[str], Order] | None = None) -> None:
        self.orders = orders
        self.payouts: list[Payout] = []
        self.unreachable = False

    def send(self, envelope: Envelope) -> None:
        """Pay for an order whose event completed it, unless it is paid already."""
        if envelope.event["state"] != "complete" or self.paid(envelope.order_id):
            return
        assert self.orders is not None, "connect the ledger to a desk first"
        order = self.orders(envelope.order_id)
        self.payouts.append(Payout(order.id, order.seller, order.contract.price))
        if self.unreachable:
            self.unreachable = False
            raise TimeoutError("the bank did not answer in time")

    def paid(self, order_id: str) -> list[Payout]:
        """The payouts made for one order."""
        return [payout for payout in self.payouts if payout.order_id == order_id]


class PerEnvelopeLedger(PayoutLedger):
    """The bug the host's tests are there to catch: it pays on every completion
    notification, one per recipient and per retry."""

    def send(self, envelope: Envelope) -> None:
        """Pay for every completion notification."""
        if envelope.event["state"] == "complete":
            assert self.orders is not None
            order = self.orders(envelope.order_id)
            self.payouts.append(Payout(order.id, order.seller, order.contract.price))


def open_desk(
    url: str, *, clock: Clock, policy: Policy, ledger: PayoutLedger | None = None
) -> tuple[OrderDesk, PayoutLedger]:
    """The host's wiring: a desk whose notifications feed the payout ledger."""
    ledger = PayoutLedger() if ledger is None else ledger
    desk = OrderDesk.open(url, clock=clock, policy=policy, notifier=ledger)
    ledger.orders = desk.get
    return desk, ledger
