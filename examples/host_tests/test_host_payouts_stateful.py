"""The host's stateful test: the library's ``DeskRules``, with the host's invariant.

``DeskRules`` drives the desk at random and checks the lifecycle's own invariants after
every step; this subclass wires the payout ledger into the desk, adds a rule (the bank
times out now and then) and its invariant: after each relay, every completed order's
seller is paid once, the contract's price, and no other order is paid at all.
"""

from __future__ import annotations

from typing import ClassVar

import pendulum
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import invariant, rule, run_state_machine_as_test
from payouts import Payout, PayoutLedger, PerEnvelopeLedger, open_desk

from order_lifecycle import ManualClock, OrderDesk, OrderState, Policy
from order_lifecycle.testing import DeskRules

POLICY = Policy(acceptance_window=pendulum.duration(days=2))


class Payouts(DeskRules):
    """Random orders on the host's desk; sellers paid exactly once per completed order."""

    ledger_type: ClassVar[type[PayoutLedger]] = PayoutLedger

    def make_desk(self, clock: ManualClock) -> OrderDesk:
        """The host's own wiring, on memory (the library's contract suites cover the
        stores)."""
        self.ledger = self.ledger_type()
        desk, _ = open_desk("memory://", clock=clock, policy=POLICY, ledger=self.ledger)
        return desk

    @rule()
    def the_bank_times_out(self) -> None:
        """The next payout is made, but the bank's answer is lost: the relay retries."""
        self.ledger.unreachable = True

    @invariant()
    def sellers_are_paid_once_per_completed_order(self) -> None:
        """After the relay (the host's worker), each completed order is paid once, the
        contract's price to its seller; any other order, never."""
        self.desk.relay()
        self.clock.advance(minutes=1)  # past the retry delay of a failed envelope
        self.desk.relay()
        for order_id in self.order_ids:
            order = self.desk.get(order_id)
            expected = (
                [Payout(order.id, order.seller, order.contract.price)]
                if order.state is OrderState.complete
                else []
            )
            assert self.ledger.paid(order_id) == expected, (order.state, self.ledger.payouts)


TestPayouts = Payouts.TestCase
TestPayouts.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)


def test_the_invariant_catches_a_ledger_that_pays_per_notification() -> None:
    """The same rules on a ledger that pays on every completion notice fail: the
    invariant has teeth."""

    class PaysTwice(Payouts):
        ledger_type = PerEnvelopeLedger

    hunt = settings(
        max_examples=200,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    with pytest.raises(AssertionError, match="Payout"):
        run_state_machine_as_test(PaysTwice, settings=hunt)
