"""The host's example tests: orders in any state from the plugin's ``order_in``.

``order_desk`` is overridden here to wire the payout ledger (and keeps the plugin's
``--order-desk-url``); ``order_in`` and ``lifecycle_clock`` come from the plugin as
they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from payouts import Payout, PayoutLedger, open_desk

from order_lifecycle import ManualClock, Money, Order, OrderDesk, OrderState, Policy

OrderIn = Callable[..., Order]


@pytest.fixture
def ledger() -> PayoutLedger:
    """The host's payout ledger, empty."""
    return PayoutLedger()


@pytest.fixture
def order_desk(
    request: pytest.FixtureRequest,
    lifecycle_clock: ManualClock,
    lifecycle_policy: Policy,
    ledger: PayoutLedger,
) -> Iterator[OrderDesk]:
    """The plugin's desk, wired to the ledger as the host's application wires it."""
    url = request.config.getoption("--order-desk-url")
    desk, _ = open_desk(url, clock=lifecycle_clock, policy=lifecycle_policy, ledger=ledger)
    with desk:
        yield desk


def test_approving_a_delivery_pays_the_seller_once(
    order_in: OrderIn, order_desk: OrderDesk, ledger: PayoutLedger
) -> None:
    """The buyer approves; after the relay the seller is paid the contract's price."""
    order = order_in("delivered", seller="studio-7")
    order_desk.approve(order.id, by=order.buyer)
    order_desk.relay()
    order_desk.relay()
    assert ledger.paid(order.id) == [Payout(order.id, "studio-7", Money("100.00", "USD"))]


def test_an_order_left_in_review_completes_and_is_paid(
    order_in: OrderIn, order_desk: OrderDesk, ledger: PayoutLedger, lifecycle_clock: ManualClock
) -> None:
    """Seven days after delivery the review window ends: the order completes by itself
    when the timers run, and the seller is paid."""
    order = order_in(OrderState.delivered)
    lifecycle_clock.advance(days=7)
    order_desk.tick()
    order_desk.relay()
    assert order_desk.get(order.id).state is OrderState.complete
    assert len(ledger.paid(order.id)) == 1


def test_a_cancelled_order_is_never_paid(
    order_in: OrderIn, order_desk: OrderDesk, ledger: PayoutLedger
) -> None:
    """Cancelled, whichever way: nothing to pay."""
    order = order_in("cancelled")
    order_desk.relay()
    assert ledger.paid(order.id) == []


def test_a_retried_notification_pays_once(
    order_in: OrderIn, order_desk: OrderDesk, ledger: PayoutLedger, lifecycle_clock: ManualClock
) -> None:
    """The bank times out after paying: the relay sends the envelope again, later; the
    ledger recognises the order and pays nothing more."""
    order = order_in("delivered")
    ledger.unreachable = True
    order_desk.approve(order.id, by=order.buyer)
    first = order_desk.relay()
    lifecycle_clock.advance(minutes=5)
    second = order_desk.relay()
    assert (first.retried, second.sent) == (1, 1)
    assert len(ledger.paid(order.id)) == 1
