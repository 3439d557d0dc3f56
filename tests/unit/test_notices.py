"""The automated chat notices: one human sentence for every kind of event the core records.

Every event here is produced by the core itself (``core.place``, ``core.decide``,
``core.fire``), never built by hand, so a notice is tested on what the chat will show.
"""

from __future__ import annotations

import re
from typing import ClassVar

import attrs
import pendulum
import pytest

from order_lifecycle import (
    Actor,
    Deadline,
    Money,
    Order,
    Policy,
    Reminder,
    Timer,
    ValidationError,
    core,
)
from order_lifecycle.core import events as ev
from order_lifecycle.core.notices import VOIDED_PROPOSAL, notice

from support import AGENT, BUYER, SELLER, T0, attachment, listing

CX = Actor.cx(AGENT)
QUESTION = "Which handle should be tagged?"


class Story:
    """An order told through the pure core, keeping every event it records."""

    def __init__(
        self,
        revisions: int = 2,
        *,
        at: pendulum.DateTime = T0,
        policy: Policy = core.DEFAULT_POLICY,
        answers: dict[str, str] | None = None,
    ) -> None:
        decision = core.place(
            buyer=BUYER,
            seller=SELLER,
            listing=listing(revisions, requests=answers is not None),
            answers=answers,
            now=at,
            policy=policy,
            order_id="o1",
        )
        self.policy = policy
        self.now = at
        self.order: Order = decision.order
        self.events: list[ev.Event] = list(decision.events)

    def do(self, command: core.Command, actor: Actor | str, *, hours: int = 1) -> ev.Event:
        """Advance the clock by ``hours``, run ``command``, keep the order and its event."""
        self.now = self.now.add(hours=hours)
        decision = core.decide(self.order, command, actor=actor, now=self.now, policy=self.policy)
        return self._keep(decision)

    def fire(self, timer: Timer, *, late: pendulum.Duration | None = None) -> ev.Event:
        """Fire ``timer`` when it is due (or ``late`` after that), as ``tick`` would."""
        due = {t.timer: t.due_at for t in core.due_timers(self.order, self.policy)}[timer]
        self.now = due if late is None else due + late
        return self._keep(core.fire(self.order, timer, now=self.now, policy=self.policy))

    def _keep(self, decision: core.Decision) -> ev.Event:
        self.order = decision.order
        self.events.extend(decision.events)
        return decision.events[-1]


def seed_story() -> Story:
    """Place → accept → deliver → revision → deliver again → the review window lapses."""
    story = Story()
    story.do(core.Accept(), SELLER)
    files = [attachment("post.png"), attachment("story.mp4", b"mp4 bytes")]
    story.do(core.Deliver(files=files), SELLER, hours=24)
    story.do(core.RequestRevision(note="Warmer colours please"), BUYER, hours=24)
    story.do(core.Deliver(outside=True, note="Posted from my phone"), SELLER, hours=24)
    story.fire(Timer.review_window, late=pendulum.duration(hours=3))
    return story


def every_event() -> list[ev.Event]:
    """Real events of every kind, from several stories walked through the core."""
    found = list(seed_story().events)

    answered = Story(answers={QUESTION: "@alice\n\n(personal account)"})
    answered.do(core.Decline(reason="Fully booked"), SELLER)
    found += answered.events

    withdrawn = Story()
    withdrawn.do(core.Withdraw(), BUYER)
    found += withdrawn.events

    expiring = Story(policy=Policy(acceptance_window=pendulum.duration(hours=48)))
    expiring.fire(Timer.acceptance_window)
    found += expiring.events

    updated = Story(revisions=1)
    updated.do(core.Accept(), SELLER, hours=0)
    updated.fire(Timer.delivery_due)
    new_due = T0.add(days=10)
    updated.do(
        core.ProposeUpdate(price=Money("200.00", "USD"), due_at=new_due, revisions=3), SELLER
    )
    updated.do(core.AcceptUpdate(), BUYER)
    updated.do(core.ProposeUpdate(revisions=4), BUYER)
    updated.do(core.RejectUpdate(), SELLER)
    updated.do(core.ProposeUpdate(price=Money("180.00", "USD")), SELLER)
    updated.do(core.WithdrawUpdate(), SELLER)
    updated.do(core.Deliver(files=[attachment()]), SELLER)
    updated.do(core.ProposeUpdate(revisions=2), BUYER)
    updated.do(core.Approve(), BUYER)
    found += updated.events

    disputed = Story()
    disputed.do(core.Accept(), SELLER)
    disputed.do(core.ProposeUpdate(revisions=3), BUYER)
    disputed.do(core.Dispute(reason="No answer to my messages"), BUYER)
    disputed.do(core.Join(), CX)
    disputed.do(core.Say(text="Hello both, I am looking into it."), CX)
    disputed.do(core.Resolve(outcome="resume", note="Bob will deliver by Friday"), CX)
    found += disputed.events

    for outcome in ("complete", "cancel"):
        ended = Story()
        ended.do(core.Accept(), SELLER)
        ended.do(core.Deliver(outside=True), SELLER)
        ended.do(core.Dispute(reason="The post is not live"), SELLER)
        ended.do(core.Join(), CX)
        ended.do(core.Resolve(outcome=outcome, note="Settled with both parties"), CX)
        found += ended.events

    late = Story()
    late.do(core.Accept(), SELLER)
    late.fire(Timer.delivery_due)
    late.do(core.Cancel(reason="Nothing delivered"), BUYER)
    late.do(core.Join(), CX)
    late.do(core.Settle(refund=Money("100.00", "USD"), note="Two thirds back"), CX)
    found += late.events

    mutual = Story(policy=Policy(cancellation_window=pendulum.duration(days=2)))
    mutual.do(core.Accept(), SELLER)
    mutual.do(core.RequestCancellation(reason="Plans changed", refund="120.00"), BUYER)
    mutual.do(core.WithdrawCancellation(), BUYER)
    mutual.do(core.RequestCancellation(reason="I am ill"), SELLER)
    mutual.do(core.DeclineCancellation(), BUYER)
    mutual.do(core.RequestCancellation(reason="Still ill"), SELLER)
    mutual.fire(Timer.cancellation_window)  # silence accepts by default
    found += mutual.events

    silent = Story(
        policy=Policy(
            cancellation_window=pendulum.duration(days=2), on_cancellation_silence="reject"
        )
    )
    silent.do(core.Accept(), SELLER)
    silent.do(core.RequestCancellation(reason="Plans changed"), BUYER)
    silent.fire(Timer.cancellation_window)
    silent.do(core.RequestCancellation(reason="Plans changed again"), BUYER)
    silent.do(core.AcceptCancellation(), SELLER)
    found += silent.events

    reviewed = Story()
    reviewed.do(core.Accept(), SELLER)
    reviewed.do(core.Deliver(outside=True), SELLER)
    reviewed.do(core.Approve(), BUYER)
    reviewed.do(core.Review(rating=5, text="Lovely\n work"), BUYER)
    reviewed.do(core.Review(rating=4), SELLER)
    found += reviewed.events

    lone = Story()
    lone.do(core.Accept(), SELLER)
    lone.do(core.Deliver(outside=True), SELLER)
    lone.do(core.Approve(), BUYER)
    lone.do(core.Review(rating=3, text="Fine"), SELLER)
    lone.fire(Timer.review_period)
    found += lone.events
    return found + deadline_events()


def deadline_events() -> list[ev.Event]:
    """The events of spec section 11: reminders, timed proposals, escalation, the pause."""
    day = pendulum.duration(days=1)
    found: list[ev.Event] = []
    for deadline in (Deadline.delivery, Deadline.acceptance):
        reminded = Story(
            policy=Policy(reminders=(Reminder(deadline, day),), acceptance_window=day * 2)
        )
        if deadline is Deadline.delivery:
            reminded.do(core.Accept(), SELLER)
        reminded.fire(Timer.reminder)
        found += reminded.events
    paused = Story(policy=Policy(max_pause=day * 2))
    paused.do(core.Accept(), SELLER)
    paused.do(core.RequestInfo(question="Which handle,\n exactly?"), SELLER)
    paused.do(core.ProvideInfo(answer="@alice"), BUYER, hours=5)
    paused.do(core.RequestInfo(question="And the colours?"), SELLER)
    paused.fire(Timer.max_pause)
    found += paused.events
    for silence in ("reject", "accept"):
        timed = Story(policy=Policy(proposal_window=day * 2, on_proposal_silence=silence))
        timed.do(core.Accept(), SELLER)
        timed.do(core.ProposeUpdate(price=Money("175.00", "USD")), SELLER)
        timed.fire(Timer.proposal_window)
        found += timed.events
    unfit = Story(policy=Policy(proposal_window=day * 2, on_proposal_silence="accept"))
    unfit.do(core.Accept(), SELLER)
    unfit.do(core.Deliver(outside=True), SELLER)
    unfit.do(core.ProposeUpdate(revisions=0), SELLER)
    unfit.do(core.RequestRevision(note="Warmer"), BUYER)
    unfit.fire(Timer.proposal_window)
    found += unfit.events
    escalated = Story(policy=Policy(dispute_window=day * 3))
    escalated.do(core.Accept(), SELLER)
    escalated.do(core.Dispute(reason="No answer"), BUYER)
    escalated.fire(Timer.dispute_window)
    found += escalated.events
    return found


EVENTS = every_event()


def events_of(kind: str) -> list[ev.Event]:
    """The test events of one kind."""
    return [e for e in EVENTS if e.kind == kind]


def only(kind: str, *, index: int = 0) -> str:
    """The notice of the ``index``-th test event of ``kind``, in UTC."""
    return notice(events_of(kind)[index])


# --- coverage and invariants -----------------------------------------------------------


def test_every_event_kind_has_a_real_test_event() -> None:
    """No kind of ``EVENT_TYPES`` is left without an event produced by the core."""
    missing = sorted(kind for kind in ev.EVENT_TYPES if not events_of(kind))
    assert missing == [], f"no test event for: {', '.join(missing)}"


_ENUM_REPR = re.compile(r"<\w+\.\w+: |\b(OrderState|Outcome|Role|Action|Timer)\.\w+")


@pytest.mark.parametrize("kind", sorted(ev.EVENT_TYPES))
def test_every_notice_is_one_clean_paragraph(kind: str) -> None:
    """Non-empty, one paragraph, no ``None``, no "system", no enum reprs, in every zone."""
    assert events_of(kind), f"no test event for {kind}"
    for event in events_of(kind):
        for tz in ("UTC", "Europe/Paris", "America/New_York"):
            text = notice(event, tz=tz)
            assert text.strip() == text != ""
            assert "\n" not in text
            assert "  " not in text
            assert "None" not in text
            assert "system" not in text.lower()
            assert "cx:" not in text
            assert not _ENUM_REPR.search(text), text
            assert text.endswith((".", "”")), text


def test_an_unknown_event_kind_is_a_clear_error() -> None:
    """An event kind without a notice is refused, naming the kind."""

    @attrs.frozen(kw_only=True)
    class Mystery(ev.Event):
        kind: ClassVar[str] = "mystery"

    event = Mystery(
        order_id="o1",
        seq=9,
        action=core.Say.action,
        actor=Actor.buyer(BUYER),
        at=T0,
        state=EVENTS[0].state,
    )
    with pytest.raises(ValidationError, match="'mystery' is not an event kind") as raised:
        notice(event)
    assert raised.value.field == "event"


def test_an_unknown_time_zone_is_a_validation_error() -> None:
    """``tz`` must name an IANA zone."""
    with pytest.raises(ValidationError, match="Mars/Olympus") as raised:
        notice(EVENTS[1], tz="Mars/Olympus")
    assert raised.value.field == "tz"


# --- the seed story, sentence by sentence ---------------------------------------------


def test_the_seed_story_reads_as_a_conversation() -> None:
    """place → accept → deliver → revision → deliver → auto-complete, exactly."""
    assert [notice(e) for e in seed_story().events] == [
        "alice bought «Instagram post» for 150.00 USD. bob, review the order and accept "
        "or decline it.",
        "bob accepted the order. Delivery is due Tue 8 Dec 2026 11:00 UTC.",
        "bob delivered 2 files: post.png, story.mp4. The buyer has until Wed 9 Dec 2026 "
        "11:00 UTC to review it; after that the order completes automatically.",
        "alice asked for a revision (1 of 2): “Warmer colours please”",
        "bob marked the content as delivered outside the platform. Note from bob: “Posted "
        "from my phone”. The buyer has until Fri 11 Dec 2026 11:00 UTC to review it; after "
        "that the order completes automatically.",
        "The review window ended on Fri 11 Dec 2026 11:00 UTC; the order completed automatically.",
    ]


def test_placing_with_answers_quotes_them_on_one_line() -> None:
    """The seller sees the buyer's answers; a multi-line answer is folded to one line."""
    assert only("order_placed", index=1) == (
        "alice bought «Instagram post» for 150.00 USD. Answers: Which handle should be "
        "tagged? “@alice (personal account)”. bob, review the answers and accept or decline "
        "the order."
    )


def test_one_file_and_files_with_outside_delivery() -> None:
    """One file is "1 file"; files and ``outside`` together say both."""
    story = Story()
    story.do(core.Accept(), SELLER, hours=0)
    event = story.do(core.Deliver(files=[attachment()], outside=True), SELLER, hours=0)
    assert notice(event) == (
        "bob delivered 1 file: post.png, and marked the content as delivered outside the "
        "platform. The buyer has until Tue 8 Dec 2026 10:00 UTC to review it; after that "
        "the order completes automatically."
    )


def test_multi_line_notes_fold_into_one_paragraph() -> None:
    """A revision note typed on several lines is quoted on one."""
    story = Story()
    story.do(core.Accept(), SELLER)
    story.do(core.Deliver(outside=True), SELLER)
    event = story.do(core.RequestRevision(note="Warmer colours\n\n  please "), BUYER)
    assert notice(event) == "alice asked for a revision (1 of 2): “Warmer colours please”"


# --- ending before acceptance --------------------------------------------------------


def test_decline_withdraw_and_expire() -> None:
    """Reasons are quoted when given; the acceptance timer speaks impersonally."""
    assert only("order_declined") == "bob declined the order: “Fully booked”."
    assert only("order_withdrawn") == "alice withdrew the order."
    assert only("order_expired") == (
        "The order expired: it was not accepted or declined by Thu 3 Dec 2026 10:00 UTC."
    )


@pytest.mark.parametrize("mark", [".", "!", "?"])
def test_a_quote_that_ends_its_own_sentence_gets_no_second_full_stop(mark: str) -> None:
    """“Bought by mistake.” ends the notice; a quote ending otherwise gets the stop."""
    story = Story()
    event = story.do(core.Withdraw(reason=f"Bought by mistake{mark}"), BUYER)
    assert notice(event) == f"alice withdrew the order: “Bought by mistake{mark}”"
    inside = Story()
    event = inside.do(core.Withdraw(reason=f"Not {mark} sure"), BUYER)
    assert notice(event) == f"alice withdrew the order: “Not {mark} sure”."


def test_withdraw_with_a_reason() -> None:
    """A withdrawal reason, when given, is quoted."""
    story = Story()
    event = story.do(core.Withdraw(reason="Bought by mistake"), BUYER)
    assert notice(event) == "alice withdrew the order: “Bought by mistake”."


# --- contract updates ----------------------------------------------------------------


def test_contract_updates_list_only_the_proposed_terms() -> None:
    """A proposal names its terms; acceptance states the contract now in force."""
    assert [notice(e) for e in events_of("update_proposed")[:3]] == [
        "bob proposed a contract update: price 200.00 USD, delivery due Fri 11 Dec 2026 "
        "10:00 UTC, 3 revisions. The buyer can accept or reject it.",
        "alice proposed a contract update: 4 revisions. The seller can accept or reject it.",
        "bob proposed a contract update: price 180.00 USD. The buyer can accept or reject it.",
    ]
    assert only("update_accepted") == (
        "alice accepted the contract update. Contract version 2 is now in force: price "
        "200.00 USD, delivery due Fri 11 Dec 2026 10:00 UTC, 3 revisions."
    )
    assert only("update_rejected") == (
        "bob rejected the contract update; the contract stays as it was."
    )
    assert only("update_withdrawn") == (
        "bob withdrew the contract update; the contract stays as it was."
    )


def test_a_voided_proposal_is_mentioned() -> None:
    """Approving (or disputing) with a proposal open withdraws it, and the notice says so."""
    approved = only("delivery_approved")
    assert approved == f"alice approved the delivery. The order is complete. {VOIDED_PROPOSAL}"
    assert VOIDED_PROPOSAL == "The open contract update is now void."
    assert only("order_disputed").endswith(f" {VOIDED_PROPOSAL}")
    assert sum(e.voided_proposal for e in EVENTS) == 2
    assert all(
        notice(e).endswith(VOIDED_PROPOSAL) == e.voided_proposal
        for e in EVENTS
        if e.kind != "message_posted"
    )


# --- disputes and cancellations ------------------------------------------------------


def test_dispute_join_and_resolutions() -> None:
    """The dispute alerts CX; the agent joins by name; each outcome reads differently."""
    assert only("order_disputed") == (
        "alice disputed the order: “No answer to my messages”. A customer experience agent "
        f"has been alerted and will join the chat. {VOIDED_PROPOSAL}"
    )
    assert only("order_disputed", index=1) == (
        "bob disputed the order: “The post is not live”. A customer experience agent has "
        "been alerted and will join the chat."
    )
    assert only("agent_joined") == (
        "carol from the customer experience team joined the chat to resolve the dispute."
    )
    assert [notice(e) for e in events_of("dispute_resolved")] == [
        "carol resolved the dispute and resumed the order: “Bob will deliver by Friday”. "
        "The seller continues the work.",
        "carol resolved the dispute and completed the order: “Settled with both parties”. "
        "0.00 USD goes back to the buyer and 150.00 USD is paid to the seller.",
        "carol resolved the dispute and cancelled the order: “Settled with both parties”. "
        "150.00 USD goes back to the buyer and 0.00 USD is paid to the seller.",
    ]


def test_resuming_a_delivered_order_restarts_the_review_window() -> None:
    """Resume to ``delivered`` names the new end of the review window."""
    story = Story()
    story.do(core.Accept(), SELLER, hours=0)
    story.do(core.Deliver(outside=True), SELLER, hours=0)
    story.do(core.Dispute(reason="Wrong account tagged"), BUYER, hours=0)
    story.do(core.Join(), CX, hours=0)
    event = story.do(core.Resolve(outcome="resume", note="Bob re-tags it"), CX, hours=24)
    assert notice(event) == (
        "carol resolved the dispute and resumed the order: “Bob re-tags it”. The buyer's "
        "review window restarts: it ends Wed 9 Dec 2026 10:00 UTC, and then the order "
        "completes automatically."
    )


def test_late_delivery_then_cancel_then_cx_settles() -> None:
    """The delivery-due timer is impersonal; cancel calls CX in to settle the money."""
    assert only("delivery_date_passed") == (
        "The delivery date, Tue 8 Dec 2026 10:00 UTC, passed with the delivery still "
        "outstanding. Either party may now cancel the order or propose a new date."
    )
    assert only("order_cancelled") == (
        "alice cancelled the order: “Nothing delivered”. A customer experience agent will "
        "join to settle the money."
    )
    assert only("agent_joined", index=-1) == (
        "carol from the customer experience team joined the chat to settle the money of "
        "the cancelled order."
    )


def test_a_message_is_its_own_text() -> None:
    """``say`` is shown as the message itself: the notice is its text, unchanged."""
    assert only("message_posted") == "Hello both, I am looking into it."
    story = Story()
    lines = story.do(core.Say(text="Line one\n\nLine two"), BUYER)
    assert notice(lines) == "Line one\n\nLine two"
    files_only = story.do(core.Say(files=[attachment()]), BUYER)
    assert notice(files_only) == ""  # the files travel beside the (empty) text


# --- time zones, DST and the leap day -------------------------------------------------


def test_instants_show_in_the_viewers_zone() -> None:
    """Paris sees CET in winter and CEST in summer; the same event, other words."""
    accepted = events_of("order_accepted")[0]
    assert notice(accepted) == "bob accepted the order. Delivery is due Tue 8 Dec 2026 11:00 UTC."
    assert notice(accepted, tz="Europe/Paris") == (
        "bob accepted the order. Delivery is due Tue 8 Dec 2026 12:00 CET."
    )
    summer = Story(at=pendulum.datetime(2026, 7, 1, 10))
    event = summer.do(core.Accept(), SELLER, hours=0)
    assert notice(event, tz="Europe/Paris") == (
        "bob accepted the order. Delivery is due Wed 8 Jul 2026 12:00 CEST."
    )


def test_daylight_saving_time_in_new_york() -> None:
    """Seven days later is the same UTC hour, but an hour on (March) or back (November)."""
    spring = Story(at=pendulum.datetime(2027, 3, 10, 15))  # 10:00 EST
    march = spring.do(core.Accept(), SELLER, hours=0)
    assert notice(march, tz="America/New_York") == (
        "bob accepted the order. Delivery is due Wed 17 Mar 2027 11:00 EDT."
    )
    autumn = Story(at=pendulum.datetime(2027, 11, 3, 15))  # 11:00 EDT
    november = autumn.do(core.Accept(), SELLER, hours=0)
    assert notice(november, tz="America/New_York") == (
        "bob accepted the order. Delivery is due Wed 10 Nov 2027 10:00 EST."
    )


def test_the_leap_day() -> None:
    """A review window ending on 29 Feb 2028 shows that day; in Tokyo it is already 1 March."""
    story = Story(at=pendulum.datetime(2028, 2, 21, 16))
    story.do(core.Accept(), SELLER, hours=0)
    delivered = story.do(core.Deliver(outside=True), SELLER, hours=24)
    assert notice(delivered) == (
        "bob marked the content as delivered outside the platform. The buyer has until "
        "Tue 29 Feb 2028 16:00 UTC to review it; after that the order completes automatically."
    )
    completed = story.fire(Timer.review_window, late=pendulum.duration(hours=15))
    assert completed.at == pendulum.datetime(2028, 3, 1, 7)
    assert notice(completed) == (
        "The review window ended on Tue 29 Feb 2028 16:00 UTC; the order completed automatically."
    )
    assert notice(completed, tz="America/New_York") == (
        "The review window ended on Tue 29 Feb 2028 11:00 EST; the order completed automatically."
    )
    assert notice(completed, tz="Asia/Tokyo") == (
        "The review window ended on Wed 1 Mar 2028 01:00 JST; the order completed automatically."
    )


def test_settlement_and_mutual_cancellation_notices() -> None:
    """Settling names both amounts; a cancellation request names its refund and window;
    silence speaks impersonally."""
    assert only("order_settled") == (
        "carol settled the money of the order: “Two thirds back”. 100.00 USD goes back to "
        "the buyer and 50.00 USD is paid to the seller."
    )
    assert only("cancellation_requested") == (
        "alice asked to cancel the order: “Plans changed”, with 120.00 USD back to the buyer. "
        "The seller can accept or decline. Without an answer by Thu 3 Dec 2026 12:00 UTC, it "
        "closes."
    )
    assert only("cancellation_withdrawn") == "alice withdrew the cancellation request."
    assert only("cancellation_declined") == (
        "alice declined the cancellation request; the work goes on."
    )
    assert only("cancellation_accepted") == (
        "The cancellation request was not answered in time, so it was accepted: the order is "
        "cancelled by mutual consent. 150.00 USD goes back to the buyer and 0.00 USD is paid "
        "to the seller."
    )
    assert only("cancellation_declined", index=1) == (
        "The cancellation request was not answered in time and closed; the work goes on."
    )
    assert only("cancellation_accepted", index=1).startswith("bob accepted the cancellation")


def test_review_notices_keep_the_first_review_hidden() -> None:
    """The first review's notice says only that a review was left; the second publishes
    both; the timer publishes a lone one."""
    first, second = (notice(e) for e in events_of("review_left")[:2])
    assert first == (
        "alice left a review. It stays hidden until both parties review or the review period ends."
    )
    assert "5" not in first
    assert second == (
        "bob left a review. Both reviews are now published: alice rated the seller 5/5: "
        "“Lovely work”; bob rated the buyer 4/5."
    )
    assert only("reviews_published") == (
        "The review period ended; the review is published: bob rated the buyer 3/5: “Fine”."
    )
