"""The notifier contract: one suite that every ``Notifier`` adapter passes.

Subclass :class:`NotifierContract` in a module named ``test_*.py`` with a class named
``Test...`` and provide two fixtures: ``notifier``, the adapter under test, and
``received``, a function that returns the envelopes that have arrived at the other end
so far, in arrival order, as the receiver decoded them (so a lossy wire format shows)::

    class TestMyNotifier(NotifierContract):
        @pytest.fixture
        def inbox(self) -> list[Envelope]:
            return []

        @pytest.fixture
        def notifier(self, inbox: list[Envelope]) -> Notifier:
            return MyNotifier(deliver_to=inbox.append)

        @pytest.fixture
        def received(self, inbox: list[Envelope]) -> Received:
            return lambda: list(inbox)

Requires ``pytest`` (a test-time dependency of the host).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeAlias

import attrs
import pytest

from order_lifecycle.core.model import Role
from order_lifecycle.ports import Envelope, Notifier

__all__ = ["NotifierContract", "Received", "make_envelope"]

#: What the ``received`` fixture returns: a function giving what has arrived so far.
Received: TypeAlias = Callable[[], Sequence[Envelope]]


def make_envelope(id: int = 1, **changes: Any) -> Envelope:
    """An ``order_accepted`` envelope for seller bob of order ``o1``; ``changes`` override."""
    envelope = Envelope(
        id=id,
        order_id="o1",
        seq=2,
        recipient="bob",
        role=Role.seller,
        kind="order_accepted",
        event={
            "kind": "order_accepted",
            "order_id": "o1",
            "seq": 2,
            "action": "accept",
            "actor": {"id": "bob", "role": "seller"},
            "at": "2026-12-01T11:00:00+00:00",
            "state": "in_progress",
            "due_at": "2026-12-08T11:00:00+00:00",
            "price": {"amount": "150.00", "currency": "USD"},
            "note": None,
            "requests": [],
            "answers": {},
        },
        text="bob accepted the order. Delivery is due on 2026-12-08 11:00 UTC.",
        attempt=1,
    )
    return attrs.evolve(envelope, **changes)


class NotifierContract:
    """What every notifier promises. Provide ``notifier`` and ``received`` in a subclass."""

    @pytest.fixture
    def notifier(self) -> Iterator[Notifier]:
        """The adapter under test, delivering to a fresh, empty receiver."""
        raise NotImplementedError("subclasses provide the notifier fixture")

    @pytest.fixture
    def received(self) -> Received:
        """A function returning the envelopes that arrived so far, in arrival order."""
        raise NotImplementedError("subclasses provide the received fixture")

    def test_is_a_notifier(self, notifier: Notifier) -> None:
        """The adapter implements the port."""
        assert isinstance(notifier, Notifier)

    def test_nothing_arrives_before_a_send(self, notifier: Notifier, received: Received) -> None:
        """The receiver starts empty: what arrives later was sent by the test."""
        assert list(received()) == []

    def test_sent_envelope_arrives_once_intact(
        self, notifier: Notifier, received: Received
    ) -> None:
        """One send, one arrival, with every field as sent (the event data included)."""
        envelope = make_envelope(id=41, seq=7, recipient="cx", role=Role.cx_agent, attempt=3)
        notifier.send(envelope)
        assert list(received()) == [envelope]

    def test_unicode_text_survives(self, notifier: Notifier, received: Received) -> None:
        """Text outside ASCII arrives unchanged: accents, CJK, right-to-left, emoji."""
        text = 'Zoë accepted · 注文を承認しました · تم القبول 🎉 \u2028 line\nbreak "q" \\'
        envelope = make_envelope(
            recipient="zoë",
            text=text,
            event={**make_envelope().event, "note": text},
        )
        notifier.send(envelope)
        assert list(received()) == [envelope]

    def test_envelopes_arrive_in_send_order(self, notifier: Notifier, received: Received) -> None:
        """Several sends, one after the other, arrive in the same order."""
        envelopes = [
            make_envelope(id=n, seq=n, recipient=("bob", "alice")[n % 2]) for n in range(1, 6)
        ]
        for envelope in envelopes:
            notifier.send(envelope)
        assert list(received()) == envelopes

    def test_a_retry_is_delivered_again(self, notifier: Notifier, received: Received) -> None:
        """A notifier does not drop a resend: the receiver drops duplicates by ``id``."""
        first = make_envelope(id=9, attempt=1)
        retry = attrs.evolve(first, attempt=2)
        notifier.send(first)
        notifier.send(retry)
        assert list(received()) == [first, retry]
