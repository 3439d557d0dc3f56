"""What each party reads, checked against who may act on it: sentences found wrong in
review (each failed before its fix)."""

from __future__ import annotations

import pendulum

from order_lifecycle import Action, Policy, core
from order_lifecycle.core import events as ev
from order_lifecycle.core.notices import VOIDED_CANCELLATION, VOIDED_PROPOSAL, notice

from support import BUYER, SELLER, Walk, to_accepted, to_delivered


def _reason(walk: Walk, actor: str, action: Action) -> str | None:
    found = core.options(walk.order, actor=actor, now=walk.now, policy=walk.policy)
    return {o.action: o.reason for o in found}[action]


def test_the_sellers_cancel_reason_in_delivered_names_only_what_the_seller_can_do() -> None:
    walk = Walk(revisions=2)
    to_delivered(walk)
    seller = _reason(walk, SELLER, Action.cancel)
    buyer = _reason(walk, BUYER, Action.cancel)
    assert seller is not None
    assert buyer is not None
    assert "request a revision, approve" not in seller
    assert "the buyer reviews the delivery" in seller
    assert "dispute the order" in seller
    assert "request a revision, approve, or dispute the order" in buyer


def test_a_late_revision_notice_does_not_claim_nothing_was_delivered() -> None:
    """Delivered on time, a revision asked for after the due date: the delivery date
    passed with the revised delivery outstanding, not 'without a delivery'."""
    walk = Walk(revisions=2)
    to_delivered(walk)
    due = walk.order.contract.due_at
    assert due is not None
    walk.now = due.add(hours=1)
    walk.do(core.RequestRevision(note="Warmer colours"), BUYER, hours=0)
    timers = core.due_timers(walk.order, walk.policy)
    fired = core.fire(walk.order, timers[0].timer, now=walk.now, policy=walk.policy)
    event = fired.events[0]
    assert isinstance(event, ev.DeliveryDatePassed)
    text = notice(event)
    assert "without a delivery" not in text
    assert text.startswith("The delivery date, ")
    assert "passed with the delivery still outstanding" in text


def test_voided_parts_are_called_void_not_withdrawn() -> None:
    """'Withdrawn' is what the proposer does (``withdraw_update``); a part the order's
    move closed is void (the spec's word)."""
    assert "withdrawn" not in VOIDED_PROPOSAL
    assert "withdrawn" not in VOIDED_CANCELLATION
    assert "void" in VOIDED_PROPOSAL
    assert "void" in VOIDED_CANCELLATION


def test_the_buyers_pending_prompt_names_when_an_unanswered_order_expires() -> None:
    walk = Walk(policy=Policy(acceptance_window=pendulum.duration(hours=48)))
    prompt = core.next_step(walk.order, actor=BUYER, now=walk.now, policy=walk.policy)
    assert "You can withdraw the order until then" in prompt
    assert "expires" in prompt
    assert "Thu 3 Dec 2026" in prompt or "3 Dec" in prompt


def test_the_sellers_delivered_prompt_says_cancel_opened_when_no_revision_is_left() -> None:
    walk = Walk(revisions=0)
    to_delivered(walk)
    assert _reason(walk, SELLER, Action.cancel) is None  # cancel is open to the seller
    prompt = core.next_step(walk.order, actor=SELLER, now=walk.now, policy=walk.policy)
    assert "cancel" in prompt


def test_prompts_after_a_window_ended_do_not_offer_a_past_deadline_as_ahead() -> None:
    """The review window ended and no worker has fired the timer yet: the buyer may
    still answer (the spec's guards), but the prompt says the window has ended."""
    walk = Walk(revisions=2)
    to_delivered(walk)
    review = walk.order.review_due_at
    assert review is not None
    walk.now = review.add(days=2)
    buyer = core.next_step(walk.order, actor=BUYER, now=walk.now, policy=walk.policy)
    seller = core.next_step(walk.order, actor=SELLER, now=walk.now, policy=walk.policy)
    for prompt in (buyer, seller):
        assert "ended" in prompt
        assert "completes automatically shortly" in prompt
    assert "approve it or request a revision" in buyer


def test_the_sellers_pending_prompt_after_the_acceptance_window_ended() -> None:
    walk = Walk(policy=Policy(acceptance_window=pendulum.duration(hours=48)))
    walk.now = walk.now.add(days=3)
    seller = core.next_step(walk.order, actor=SELLER, now=walk.now, policy=walk.policy)
    buyer = core.next_step(walk.order, actor=BUYER, now=walk.now, policy=walk.policy)
    for prompt in (seller, buyer):
        assert "ended" in prompt
        assert "expires shortly" in prompt
    assert "accept or decline" in seller


def test_reason_helpers_see_the_accepted_order() -> None:
    walk = Walk()
    to_accepted(walk)
    assert _reason(walk, BUYER, Action.cancel) is not None


def test_a_complete_orders_reasons_do_not_deny_the_review_it_offers() -> None:
    """Complete: the buyer may review, so the reason for the rest says reviews are left."""
    walk = Walk(revisions=1)
    to_delivered(walk)
    walk.do(core.Approve(), BUYER)
    found = core.options(walk.order, actor=BUYER, now=walk.now, policy=walk.policy)
    by_action = {o.action: o for o in found}
    assert by_action[Action.review].available
    reason = by_action[Action.cancel].reason
    assert reason is not None
    assert "only messages" not in reason
    assert "reviews" in reason
