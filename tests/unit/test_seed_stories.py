"""The stories of the seed help article, told through the pure core."""

from __future__ import annotations

import pendulum
import pytest

from order_lifecycle import (
    Action,
    ActionNotAvailable,
    Actor,
    CancellationReason,
    CompletionReason,
    Money,
    NotAParticipant,
    OrderState,
    Policy,
    Timer,
    ValidationError,
    core,
)
from order_lifecycle.core import events as ev
from order_lifecycle.core.notices import notice

from support import AGENT, BUYER, SELLER, T0, Walk, attachment, listing

CX = Actor.cx(AGENT)


def available(walk: Walk, actor: Actor | str, action: Action) -> bool:
    options = core.options(walk.order, actor=actor, now=walk.now, policy=walk.policy)
    return {o.action: o.available for o in options}[action]


def reason_of(walk: Walk, actor: Actor | str, action: Action) -> str | None:
    options = core.options(walk.order, actor=actor, now=walk.now, policy=walk.policy)
    return {o.action: o.reason for o in options}[action]


def test_accepting_an_order_shows_answers_and_sets_the_due_date() -> None:
    """A buyer buys with answers; the seller reviews them, accepts, and delivery is due."""
    decision = core.place(
        buyer=BUYER,
        seller=SELLER,
        listing=listing(requests=True),
        answers={"Which handle should be tagged?": "@alice"},
        now=T0,
    )
    order = decision.order
    assert order.state is OrderState.pending
    assert order.answers == {"Which handle should be tagged?": "@alice"}
    assert decision.events[0].kind == "order_placed"
    prompt = core.next_step(order, actor=SELLER, now=T0)
    assert prompt == (
        "New order for «Instagram post». Review the buyer's answers, then accept or decline."
    )
    accepted = core.decide(order, core.Accept(), actor=SELLER, now=T0.add(hours=2))
    assert accepted.order.state is OrderState.accepted
    assert accepted.order.accepted_at == T0.add(hours=2)
    assert accepted.order.contract.due_at == T0.add(hours=2, days=7)
    event = accepted.events[0]
    assert isinstance(event, ev.OrderAccepted)
    assert event.due_at == accepted.order.contract.due_at


def test_required_buyer_requests_must_be_answered() -> None:
    """An order without an answer to a required request is refused, naming the question."""
    with pytest.raises(ValidationError, match="Which handle") as raised:
        core.place(buyer=BUYER, seller=SELLER, listing=listing(requests=True), now=T0)
    assert raised.value.field == "answers"
    with pytest.raises(ValidationError, match="not a question"):
        core.place(
            buyer=BUYER,
            seller=SELLER,
            listing=listing(),
            answers={"Favourite colour?": "blue"},
            now=T0,
        )


def test_a_seller_cannot_buy_their_own_listing() -> None:
    """buyer ≠ seller."""
    with pytest.raises(ValidationError) as raised:
        core.place(buyer=SELLER, seller=SELLER, listing=listing(), now=T0)
    assert raised.value.field == "seller"


def test_decline_and_withdraw_cancel_a_pending_order() -> None:
    """The seller may decline, the buyer may withdraw, each with its reason recorded."""
    walk = Walk()
    declined = walk.do(core.Decline(reason="Fully booked"), SELLER)
    assert declined.state is OrderState.cancelled
    assert declined.cancellation is not None
    assert declined.cancellation.reason is CancellationReason.declined
    walk = Walk()
    withdrawn = walk.do(core.Withdraw(), BUYER)
    assert withdrawn.cancellation is not None
    assert withdrawn.cancellation.reason is CancellationReason.withdrawn


def test_delivery_with_files_or_outside_then_approval_completes() -> None:
    """Upload files (or mark delivered outside); the buyer has 7 days; approval completes."""
    walk = Walk()
    walk.do(core.Accept(), SELLER)
    with pytest.raises(ValidationError, match="at least one file") as raised:
        walk.do(core.Deliver(), SELLER)
    assert raised.value.field == "files"
    delivered = walk.do(core.Deliver(files=[attachment()], note="Here it is"), SELLER)
    assert delivered.state is OrderState.delivered
    assert delivered.review_due_at == walk.now.add(days=7)
    assert delivered.deliveries[-1].files[0].name == "post.png"
    prompt = core.next_step(delivered, actor=BUYER, now=walk.now)
    assert prompt.startswith("Review the delivery: approve it or request a revision (2 of 2 left)")
    assert "completes automatically" in prompt
    complete = walk.do(core.Approve(), BUYER)
    assert complete.state is OrderState.complete
    assert complete.completion is CompletionReason.approved
    walk2 = Walk()
    walk2.do(core.Accept(), SELLER)
    outside = walk2.do(core.Deliver(outside=True), SELLER)
    assert outside.deliveries[-1].outside is True


def test_revisions_until_exhausted_then_cancel_opens() -> None:
    """Each revision counts; with all used no more revisions, and cancel becomes available."""
    walk = Walk(revisions=2)
    walk.do(core.Accept(), SELLER)
    for used in (1, 2):
        walk.do(core.Deliver(outside=True), SELLER)
        assert not available(walk, SELLER, Action.cancel)
        order = walk.do(core.RequestRevision(note=f"Round {used}"), BUYER)
        assert order.revisions_used == used
        assert order.state is OrderState.revision
    walk.do(core.Deliver(outside=True), SELLER)
    assert not available(walk, BUYER, Action.request_revision)
    options = {o.action: o for o in core.options(walk.order, actor=BUYER, now=walk.now)}
    assert options[Action.request_revision].reason == (
        "All 2 revisions in the contract are used; approve the delivery, or propose a contract "
        "update that adds revisions."
    )
    assert available(walk, SELLER, Action.cancel)
    assert available(walk, BUYER, Action.cancel)
    cancelled = walk.do(core.Cancel(reason="We cannot agree"), SELLER)
    assert cancelled.state is OrderState.cancelled
    assert core.next_step(cancelled, actor=BUYER, now=walk.now) == (
        "The order is cancelled. A customer experience agent will join to settle the money."
    )
    joined = walk.do(core.Join(), CX)
    assert joined.cancellation is not None
    assert joined.cancellation.agent == AGENT
    assert walk.do(core.Say(text="I will refund half."), CX).version == joined.version + 1


def test_cancel_reason_names_the_due_date_and_revisions() -> None:
    """The spec's sentence: when cancel becomes available, in words."""
    walk = Walk(revisions=2)
    walk.do(core.Accept(), SELLER, hours=0)
    reason = reason_of(walk, BUYER, Action.cancel)
    assert reason == (
        "Cancel becomes available when the delivery date passes on Tue 8 Dec 2026 10:00 UTC, "
        "or when all 2 revisions are used."
    )


def test_late_delivery_notice_then_cancel() -> None:
    """The delivery-due timer posts one notice; the buyer may then cancel."""
    walk = Walk()
    walk.do(core.Accept(), SELLER, hours=0)
    due = walk.order.contract.due_at
    assert due is not None
    timers = core.due_timers(walk.order)
    assert [(t.timer, t.due_at) for t in timers] == [(Timer.delivery_due, due)]
    with pytest.raises(ActionNotAvailable, match="not yet"):
        core.fire(walk.order, Timer.delivery_due, now=due.subtract(seconds=1))
    assert not available(walk, BUYER, Action.cancel)
    late = due.add(hours=5)
    fired = core.fire(walk.order, Timer.delivery_due, now=late)
    event = fired.events[0]
    assert isinstance(event, ev.DeliveryDatePassed)
    assert event.due_at == due
    assert event.at == late
    assert event.actor == Actor.system()
    assert core.due_timers(fired.order) == []  # fires once per due date
    walk.order, walk.now = fired.order, late
    assert available(walk, BUYER, Action.cancel)


def test_cancel_is_available_exactly_at_the_due_instant() -> None:
    """Past due is ``now >= due_at``: the same instant the timer fires."""
    walk = Walk()
    walk.do(core.Accept(), SELLER, hours=0)
    due = walk.order.contract.due_at
    assert due is not None
    walk.now = due.subtract(microseconds=1)
    assert not available(walk, BUYER, Action.cancel)
    walk.now = due
    assert available(walk, BUYER, Action.cancel)


def test_review_window_lapses_into_auto_complete() -> None:
    """Seven days without an answer: the review-window timer completes the order."""
    walk = Walk()
    walk.do(core.Accept(), SELLER)
    delivered = walk.do(core.Deliver(outside=True), SELLER)
    review_due = delivered.review_due_at
    assert review_due is not None
    with pytest.raises(ActionNotAvailable):
        core.decide(
            delivered, core.AutoComplete(), actor=Actor.system(), now=review_due.subtract(seconds=1)
        )
    fired = core.fire(delivered, Timer.review_window, now=review_due.add(days=2))
    assert fired.order.state is OrderState.complete
    assert fired.order.completion is CompletionReason.review_window_elapsed
    event = fired.events[0]
    assert isinstance(event, ev.OrderAutoCompleted)
    assert (event.due_at, event.at) == (review_due, review_due.add(days=2))


def test_acceptance_window_expires_pending_orders() -> None:
    """With ``Policy.acceptance_window`` set, an unanswered order expires."""
    policy = Policy(acceptance_window=pendulum.duration(hours=48))
    walk = Walk(policy=policy)
    assert "Answer by Thu 3 Dec 2026 10:00 UTC" in core.next_step(
        walk.order, actor=SELLER, now=walk.now, policy=policy
    )
    fired = core.fire(walk.order, Timer.acceptance_window, now=T0.add(hours=48), policy=policy)
    assert fired.order.state is OrderState.cancelled
    assert fired.order.cancellation is not None
    assert fired.order.cancellation.reason is CancellationReason.expired
    # The order keeps the terms it was placed under, whatever policy is passed later;
    # an order placed under the default policy has no window.
    assert [t.timer for t in core.due_timers(walk.order)] == [Timer.acceptance_window]
    assert core.due_timers(Walk().order, policy) == []


def test_contract_update_changes_terms_and_rearms_the_due_timer() -> None:
    """Propose new terms; the other party accepts; the contract version moves on."""
    walk = Walk(revisions=1)
    walk.do(core.Accept(), SELLER, hours=0)
    old_due = walk.order.contract.due_at
    assert old_due is not None
    walk.order = core.fire(walk.order, Timer.delivery_due, now=old_due).order
    walk.now = old_due
    new_due = old_due.add(days=3)
    walk.do(core.ProposeUpdate(price=Money("200.00", "USD"), due_at=new_due, revisions=3), SELLER)
    assert not available(walk, SELLER, Action.accept_update)
    assert available(walk, SELLER, Action.withdraw_update)
    assert available(walk, BUYER, Action.accept_update)
    assert not available(walk, BUYER, Action.propose_update)
    assert "The seller proposed a contract update" in core.next_step(
        walk.order, actor=BUYER, now=walk.now
    )
    updated = walk.do(core.AcceptUpdate(), BUYER)
    assert updated.contract.version == 2
    assert updated.contract.price == Money("200.00", "USD")
    assert (updated.contract.due_at, updated.contract.revisions) == (new_due, 3)
    assert updated.proposal is None
    assert [t.due_at for t in core.due_timers(updated)] == [new_due]


def test_contract_update_validation() -> None:
    """Proposals must change something, keep due dates ahead and revisions ≥ used."""
    walk = Walk(revisions=1)
    walk.do(core.Accept(), SELLER)
    bad = [
        (core.ProposeUpdate(), "update"),
        (core.ProposeUpdate(price=Money("150.00", "USD")), "update"),
        (core.ProposeUpdate(price=Money("0", "USD")), "price"),
        (core.ProposeUpdate(price=Money("10", "EUR")), "price"),
        (core.ProposeUpdate(due_at=walk.now.subtract(days=1)), "due_at"),
        (core.ProposeUpdate(revisions=-1), "revisions"),
    ]
    for command, field in bad:
        with pytest.raises(ValidationError) as raised:
            core.decide(walk.order, command, actor=BUYER, now=walk.now)
        assert raised.value.field == field
    naive = core.ProposeUpdate(due_at=walk.now.naive())
    with pytest.raises(ValidationError, match="time zone"):
        core.decide(walk.order, naive, actor=BUYER, now=walk.now)


def test_reject_and_withdraw_close_the_proposal() -> None:
    """The other party rejects, or the proposer withdraws: the contract stays."""
    walk = Walk()
    walk.do(core.Accept(), SELLER)
    walk.do(core.ProposeUpdate(revisions=5), BUYER)
    rejected = walk.do(core.RejectUpdate(), SELLER)
    assert rejected.proposal is None
    assert rejected.contract.revisions == 2
    walk.do(core.ProposeUpdate(revisions=5), BUYER)
    assert walk.do(core.WithdrawUpdate(), BUYER).proposal is None


def test_dispute_join_and_resume_restarts_the_review_window() -> None:
    """A dispute freezes the order; a CX agent joins and resumes it where it was."""
    walk = Walk()
    walk.do(core.Accept(), SELLER)
    walk.do(core.Deliver(outside=True), SELLER)
    walk.do(core.ProposeUpdate(revisions=4), SELLER)
    disputed = walk.do(core.Dispute(reason="The post is not what we agreed"), BUYER)
    assert disputed.state is OrderState.disputed
    assert disputed.proposal is None  # leaving the active states voids it
    assert disputed.dispute is not None
    assert disputed.dispute.from_state is OrderState.delivered
    assert "customer experience agent has been alerted" in core.next_step(
        disputed, actor=SELLER, now=walk.now
    )
    assert not available(walk, BUYER, Action.approve)
    assert not available(walk, CX, Action.resolve)
    walk.do(core.Join(), CX)
    with pytest.raises(ActionNotAvailable, match="carol handles"):
        walk.do(core.Resolve(outcome="resume", note="x"), Actor.cx("dave"))
    with pytest.raises(ValidationError) as raised:
        walk.do(core.Resolve(outcome="refund", note="x"), CX)
    assert raised.value.field == "outcome"
    resumed = walk.do(core.Resolve(outcome="resume", note="Seller will redo it"), CX, hours=30)
    assert resumed.state is OrderState.delivered
    assert resumed.review_due_at == walk.now.add(days=7)


@pytest.mark.parametrize(
    ("outcome", "state"), [("complete", OrderState.complete), ("cancel", OrderState.cancelled)]
)
def test_dispute_resolved_by_completing_or_cancelling(outcome: str, state: OrderState) -> None:
    """The agent may also end the order either way."""
    walk = Walk()
    walk.do(core.Accept(), SELLER)
    walk.do(core.Dispute(reason="Stuck"), SELLER)
    walk.do(core.Join(), CX)
    resolved = walk.do(core.Resolve(outcome=outcome, note="Settled"), CX)
    assert resolved.state is state
    assert not available(walk, Actor.cx("dave"), Action.join)


def test_say_everywhere_but_only_for_participants() -> None:
    """Messages in every state; a CX agent posts only after joining; texts are checked."""
    walk = Walk()
    walk.do(core.Say(text="Hi! Questions?"), SELLER)
    with pytest.raises(ActionNotAvailable, match="after joining"):
        walk.do(core.Say(text="Hello"), CX)
    for text in ("", "   ", "x" * 10_001, "nul\x00byte", "\ud800"):
        with pytest.raises(ValidationError):
            walk.do(core.Say(text=text), BUYER)
    assert walk.do(core.Say(files=[attachment()]), BUYER).version == 3


def test_instants_must_be_timezone_aware() -> None:
    """A naive datetime or an offset-less string is refused; strings with offsets work."""
    walk = Walk()
    with pytest.raises(ValidationError, match="time zone"):
        core.decide(walk.order, core.Accept(), actor=SELLER, now=T0.naive())
    with pytest.raises(ValidationError):
        core.decide(walk.order, core.Accept(), actor=SELLER, now="2026-12-01T10:00:00")
    decision = core.decide(walk.order, core.Accept(), actor=SELLER, now="2026-12-01T12:00:00+02:00")
    assert decision.order.accepted_at == T0


def test_time_never_runs_backwards_for_an_order() -> None:
    """An instant before the order's last event counts as that event's instant."""
    walk = Walk()
    walk.do(core.Accept(), SELLER, hours=5)
    earlier = walk.now.subtract(hours=3)
    said = core.decide(walk.order, core.Say(text="hi"), actor=BUYER, now=earlier)
    assert said.events[0].at == walk.now


def test_every_event_kind_names_its_action_and_sequence() -> None:
    """Events count 1, 2, 3... and the order's version is the history's length."""
    walk = Walk()
    seen = [1]
    for command, actor in [
        (core.Accept(), SELLER),
        (core.Say(text="hello"), BUYER),
        (core.Deliver(outside=True), SELLER),
        (core.Approve(), BUYER),
    ]:
        decision = core.decide(walk.order, command, actor=actor, now=walk.now)
        (event,) = decision.events
        assert event.seq == walk.order.version + 1 == decision.order.version
        assert event.action == command.action
        assert event.order_id == walk.order.id
        walk.order = decision.order
        seen.append(event.seq)
    assert seen == [1, 2, 3, 4, 5]


def test_one_revision_reads_in_the_singular() -> None:
    """Reasons speak of "the one revision", not "all 1 revisions"."""
    walk = Walk(revisions=1)
    walk.do(core.Accept(), SELLER, hours=0)
    reason = reason_of(walk, BUYER, Action.cancel)
    assert reason is not None
    assert reason.endswith("or when the one revision is used.")
    walk.do(core.Deliver(outside=True), SELLER)
    walk.do(core.RequestRevision(note="again"), BUYER)
    walk.do(core.Deliver(outside=True), SELLER)
    revise = reason_of(walk, BUYER, Action.request_revision)
    assert revise is not None
    assert revise.startswith("The one revision in the contract is used;")


def test_a_party_cannot_act_as_a_cx_agent_on_their_own_order() -> None:
    """The buyer (or seller) claiming the CX role in their own order is refused."""
    walk = Walk()
    walk.do(core.Accept(), SELLER)
    walk.do(core.Dispute(reason="stuck"), BUYER)
    for party in (BUYER, SELLER):
        with pytest.raises(NotAParticipant, match="cannot act on it as a CX agent"):
            core.decide(walk.order, core.Join(), actor=Actor.cx(party), now=walk.now)


def test_timer_functions_refuse_bad_arguments() -> None:
    """Unknown timers and wrong types are typed errors."""
    walk = Walk()
    with pytest.raises(ValidationError) as raised:
        core.fire(walk.order, "bogus", now=walk.now)  # type: ignore[arg-type]
    assert raised.value.field == "timer"
    with pytest.raises(ValidationError):
        core.due_timers(None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        core.due_timers(walk.order, None)  # type: ignore[arg-type]


def test_past_due_words_say_either_party_may_cancel() -> None:
    """Past due, both parties may cancel (spec §4): the notice and the seller's prompt say
    so, as the seller's own options do."""
    walk = Walk()
    walk.do(core.Accept(), SELLER, hours=0)
    due = walk.order.contract.due_at
    assert due is not None
    fired = core.fire(walk.order, Timer.delivery_due, now=due)
    walk.order, walk.now = fired.order, due
    assert available(walk, SELLER, Action.cancel)
    assert available(walk, BUYER, Action.cancel)
    assert "Either party may now cancel the order" in notice(fired.events[0])
    prompt = core.next_step(walk.order, actor=SELLER, now=walk.now)
    assert "either of you may now cancel the order" in prompt
    assert "the buyer may cancel" not in prompt


def test_cancel_reason_in_revision_names_only_what_can_still_happen() -> None:
    """In ``revision`` with every revision used, the reason does not offer "when the
    revisions are used" (already true): the seller's next delivery is what opens it."""
    walk = Walk(revisions=1)
    walk.do(core.Accept(), SELLER, hours=0)
    walk.do(core.Deliver(outside=True), SELLER)
    walk.do(core.RequestRevision(note="again"), BUYER)
    assert walk.order.revisions_used == walk.order.contract.revisions == 1
    reason = reason_of(walk, BUYER, Action.cancel)
    assert reason == (
        "Cancel becomes available when the delivery date passes on Tue 8 Dec 2026 10:00 UTC, "
        "or when the seller delivers again (no revision is left)."
    )
    walk.do(core.Deliver(outside=True), SELLER)
    assert available(walk, BUYER, Action.cancel)
