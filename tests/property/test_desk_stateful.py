"""The core's random walks, run through ``OrderDesk`` on SQLite and mirrored in the pure core.

After every step the stored order equals the pure core's order, the stored history equals
the events the core produced, and a refused command leaves both untouched.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pendulum
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from order_lifecycle import (
    Actor,
    Attachment,
    Listing,
    ManualClock,
    Money,
    Order,
    OrderDesk,
    OrderLifecycleError,
    Policy,
    Reminder,
    core,
)
from order_lifecycle.core.events import Event
from order_lifecycle.errors import ConcurrencyConflict

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
ACTORS = [
    Actor.buyer("alice"),
    Actor.seller("bob"),
    Actor.cx("carol"),
    Actor.cx("dave"),
    Actor.buyer("mallory"),
]
DAY = pendulum.duration(days=1)
#: Section 4's acceptance window and every deadline of section 11 but calendars.
POLICY = Policy(
    acceptance_window=DAY * 3,
    reminders=(Reminder("delivery", DAY), Reminder("review", DAY), Reminder("proposal", DAY)),
    proposal_window=DAY * 2,
    on_proposal_silence="accept",
    dispute_window=DAY * 2,
    max_pause=DAY * 2,
)

# (desk method, core command factory, keyword arguments); files are stored by the desk,
# so the mirror builds the same Attachment the blob store returns.
_PNG = b"\x89PNG"


def _attachment() -> Attachment:
    import hashlib

    digest = hashlib.sha256(_PNG).hexdigest()
    return Attachment("post.png", len(_PNG), "image/png", digest, f"file:{digest}")


COMMANDS: list[tuple[str, core.Command, dict[str, object]]] = [
    ("accept", core.Accept(), {}),
    ("decline", core.Decline(reason="busy"), {"reason": "busy"}),
    ("withdraw", core.Withdraw(), {}),
    ("deliver", core.Deliver(outside=True), {"outside": True}),
    ("deliver", core.Deliver(files=[_attachment()]), {"files": [("post.png", _PNG)]}),
    ("deliver", core.Deliver(), {}),
    ("approve", core.Approve(), {}),
    ("request_revision", core.RequestRevision(note="again"), {"note": "again"}),
    ("request_revision", core.RequestRevision(note=""), {"note": ""}),
    (
        "propose_update",
        core.ProposeUpdate(price=Money("200.00", "USD")),
        {"price": Money("200.00", "USD")},
    ),
    ("propose_update", core.ProposeUpdate(revisions=4), {"revisions": 4}),
    ("accept_update", core.AcceptUpdate(), {}),
    ("reject_update", core.RejectUpdate(), {}),
    ("withdraw_update", core.WithdrawUpdate(), {}),
    ("dispute", core.Dispute(reason="stuck"), {"reason": "stuck"}),
    ("join", core.Join(), {}),
    ("resolve", core.Resolve(outcome="resume", note="ok"), {"outcome": "resume", "note": "ok"}),
    (
        "resolve",
        core.Resolve(outcome="complete", note="ok"),
        {"outcome": "complete", "note": "ok"},
    ),
    ("cancel", core.Cancel(reason="late"), {"reason": "late"}),
    ("say", core.Say(text="hello"), {"text": "hello"}),
    ("request_info", core.RequestInfo(question="Which?"), {"question": "Which?"}),
    ("provide_info", core.ProvideInfo(answer="This"), {"answer": "This"}),
]


class DeskMirrorsCore(RuleBasedStateMachine):
    """Random commands and clock moves; the desk on SQLite and the pure core agree."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.clock = ManualClock(T0)
        self.desk = OrderDesk.open(
            f"sqlite:///{Path(self.folder.name) / 'orders.db'}", clock=self.clock, policy=POLICY
        )
        self.mirror: dict[str, Order] = {}
        self.events: dict[str, list[Event]] = {}

    def teardown(self) -> None:
        self.desk.close()
        self.folder.cleanup()

    @precondition(lambda self: len(self.mirror) < 3)
    @rule(revisions=st.integers(0, 2))
    def place(self, revisions: int) -> None:
        """A new order; the mirror places the same one under the same id."""
        listing = Listing("Post", Money("150.00", "USD"), pendulum.duration(days=5), revisions)
        order = self.desk.place(buyer="alice", seller="bob", listing=listing)
        pure = core.place(
            buyer="alice",
            seller="bob",
            listing=listing,
            now=self.clock.now(),
            policy=POLICY,
            order_id=order.id,
        )
        assert pure.order == order
        self.mirror[order.id] = pure.order
        self.events[order.id] = list(pure.events)

    @precondition(lambda self: bool(self.mirror))
    @rule(
        data=st.data(),
        command=st.sampled_from(COMMANDS),
        actor=st.sampled_from(ACTORS),
    )
    def act(
        self,
        data: st.DataObject,
        command: tuple[str, core.Command, dict[str, object]],
        actor: Actor,
    ) -> None:
        """The same command through the desk and the core: same outcome, same order."""
        order_id = data.draw(st.sampled_from(sorted(self.mirror)))
        method, pure_command, kwargs = command
        expected: Order | None = None
        expected_error: type[Exception] | None = None
        try:
            decision = core.decide(
                self.mirror[order_id],
                pure_command,
                actor=actor,
                now=self.clock.now(),
                policy=POLICY,
            )
            expected = decision.order
        except OrderLifecycleError as error:
            expected_error = type(error)
        got_error: type[Exception] | None = None
        try:
            stored = getattr(self.desk, method)(order_id, by=actor, **kwargs)
        except ConcurrencyConflict:
            raise
        except OrderLifecycleError as error:
            got_error = type(error)
        assert got_error is expected_error, (method, actor, got_error, expected_error)
        if got_error is not None:
            return
        assert expected_error is None, (method, actor, expected_error)
        assert stored == expected
        self.mirror[order_id] = stored
        self.events[order_id].extend(decision.events)

    @rule(hours=st.integers(1, 24 * 8))
    def advance(self, hours: int) -> None:
        """Time passes; due timers fire through ``tick`` and through ``core.fire`` (each
        order's ready timers soonest first, until none is ready)."""
        self.clock.advance(hours=hours)
        now = self.clock.now()
        fired = self.desk.tick()
        expected: list[Event] = []
        for order_id in sorted(self.mirror):
            while ready := [
                t for t in core.due_timers(self.mirror[order_id], POLICY) if t.ready(now)
            ]:
                order = self.mirror[order_id]
                decision = core.fire(order, ready[0].timer, now=now, policy=POLICY)
                self.mirror[order_id] = decision.order
                self.events[order_id].extend(decision.events)
                expected.extend(decision.events)
        key = sorted((e.order_id, e.seq) for e in fired)
        assert key == sorted((e.order_id, e.seq) for e in expected)

    @invariant()
    def stored_equals_core(self) -> None:
        """The stored order and history equal the pure core's."""
        for order_id, order in self.mirror.items():
            assert self.desk.get(order_id) == order
            history = self.desk.history(order_id)
            assert history == self.events[order_id]
            chat = self.desk.chat(order_id, viewer="alice")
            assert [(e.seq, e.kind == "message") for e in chat] == [
                (e.seq, e.kind == "message_posted") for e in history
            ]
            assert all(e.text for e in chat if e.kind == "notice")


TestDeskMirrorsCore = DeskMirrorsCore.TestCase
TestDeskMirrorsCore.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
