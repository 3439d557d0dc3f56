"""Deadlines as data (spec section 11), rule by rule, on the pure core.

Each test walks an order through ``core.decide`` and ``core.fire`` with the clock in
its hands: reminders, timed proposals, dispute escalation, working-day calendars, the
paused delivery clock and the terms an order keeps.
"""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from order_lifecycle import (
    LIFECYCLE_VERSION,
    Action,
    ActionNotAvailable,
    Actor,
    Calendar,
    Deadline,
    OrderState,
    Policy,
    Reminder,
    Role,
    Terms,
    Timer,
    ValidationError,
    core,
    serde,
)
from order_lifecycle.core import events as ev
from order_lifecycle.core.api import waiting_on
from order_lifecycle.core.recipients import CX_TEAM, notifications_for

from support import AGENT, BUYER, SELLER, T0, Walk, listing

DAY = pendulum.duration(days=1)
HOUR = pendulum.duration(hours=1)
MINUTE = pendulum.duration(minutes=1)


def armed(walk: Walk) -> list[tuple[Timer, pendulum.DateTime]]:
    """The timers armed on the walk's order (under the walk's policy)."""
    return [(t.timer, t.due_at) for t in core.due_timers(walk.order, walk.policy)]


def fire(walk: Walk, timer: Timer, at: pendulum.DateTime) -> ev.Event:
    """Fire ``timer`` at ``at``, keeping the new order; its one event."""
    walk.now = at
    decision = core.fire(walk.order, timer, now=at, policy=walk.policy)
    walk.order = decision.order
    (event,) = decision.events
    return event


# -- reminders ---------------------------------------------------------------------


def test_a_delivery_reminder_goes_to_the_seller_once_before_the_due_date() -> None:
    """Due at deadline - before; one ``reminder_sent`` (state unchanged) to the seller only."""
    walk = Walk(policy=Policy(reminders=(Reminder(Deadline.delivery, DAY),)))
    walk.do(core.Accept(), SELLER, hours=0)
    due = walk.order.contract.due_at
    assert due is not None
    assert (Timer.reminder, due - DAY) in armed(walk)
    with pytest.raises(ActionNotAvailable, match="not yet"):
        core.fire(walk.order, Timer.reminder, now=due - DAY - HOUR, policy=walk.policy)
    event = fire(walk, Timer.reminder, due - DAY)
    assert isinstance(event, ev.ReminderSent)
    assert (event.kind, event.deadline, event.deadline_at) == ("reminder_sent", "delivery", due)
    assert (event.due_at, event.actor, event.state) == (due - DAY, Actor.system(), "accepted")
    assert (event.recipient, event.role) == (SELLER, Role.seller)
    rows = notifications_for(walk.order, [event])
    assert [(n.recipient, n.role) for n in rows] == [(SELLER, Role.seller)]
    assert Timer.reminder not in [t for t, _ in armed(walk)]  # never twice
    with pytest.raises(ActionNotAvailable):
        core.fire(walk.order, Timer.reminder, now=due - HOUR, policy=walk.policy)


def test_a_reminder_is_rearmed_when_the_deadline_moves() -> None:
    """A contract update that moves due_at is a new deadline value: a new reminder."""
    walk = Walk(policy=Policy(reminders=(Reminder(Deadline.delivery, DAY),)))
    walk.do(core.Accept(), SELLER, hours=0)
    due = walk.order.contract.due_at
    assert due is not None
    fire(walk, Timer.reminder, due - DAY)
    later = due.add(days=3)
    walk.do(core.ProposeUpdate(due_at=later), SELLER)
    walk.do(core.AcceptUpdate(), BUYER)
    assert (Timer.reminder, later - DAY) in armed(walk)
    event = fire(walk, Timer.reminder, later - DAY)
    assert isinstance(event, ev.ReminderSent)
    assert event.deadline_at == later
    assert len(walk.order.reminders_sent) == 2


def test_a_reminder_is_never_sent_at_or_after_its_deadline() -> None:
    """A late tick fires the deadline's own timer, which disarms the reminder."""
    walk = Walk(policy=Policy(reminders=(Reminder(Deadline.review, DAY),)))
    walk.do(core.Accept(), SELLER)
    walk.do(core.Deliver(outside=True), SELLER)
    review = walk.order.review_due_at
    assert review is not None
    with pytest.raises(ActionNotAvailable, match="reminder is skipped"):
        core.fire(walk.order, Timer.reminder, now=review, policy=walk.policy)
    ready = [t for t in core.due_timers(walk.order, walk.policy) if t.ready(review)]
    assert [t.timer for t in ready] == [Timer.review_window]
    fire(walk, Timer.review_window, review)
    assert walk.order.state is OrderState.complete
    assert armed(walk) == []


def test_reminders_are_skipped_once_the_order_moved_on() -> None:
    """Delivering before the reminder's time disarms the delivery reminder."""
    walk = Walk(policy=Policy(reminders=(Reminder(Deadline.delivery, DAY),)))
    walk.do(core.Accept(), SELLER)
    walk.do(core.Deliver(outside=True), SELLER)
    assert Timer.reminder not in [t for t, _ in armed(walk)]


@pytest.mark.parametrize(
    ("deadline", "recipient"),
    [(Deadline.acceptance, SELLER), (Deadline.review, BUYER), (Deadline.proposal, SELLER)],
)
def test_each_deadline_reminds_the_party_who_must_act(deadline: Deadline, recipient: str) -> None:
    """Acceptance: the seller; review: the buyer; a proposal: its counter-party."""
    policy = Policy(
        reminders=(Reminder(deadline, HOUR * 6),),
        acceptance_window=DAY * 2,
        proposal_window=DAY * 2,
    )
    walk = Walk(policy=policy)
    if deadline is not Deadline.acceptance:
        walk.do(core.Accept(), SELLER)
    if deadline is Deadline.review:
        walk.do(core.Deliver(outside=True), SELLER)
    if deadline is Deadline.proposal:
        walk.do(core.ProposeUpdate(revisions=5), BUYER)
    ((_, at),) = [(t, a) for t, a in armed(walk) if t is Timer.reminder]
    event = fire(walk, Timer.reminder, at)
    assert isinstance(event, ev.ReminderSent)
    assert (event.deadline, event.recipient) == (deadline, recipient)


def test_several_reminders_of_one_deadline_fire_soonest_first() -> None:
    """A day and an hour before: two reminders, in that order, each once."""
    walk = Walk(policy=Policy(reminders=(Reminder("delivery", HOUR), Reminder("delivery", DAY))))
    walk.do(core.Accept(), SELLER, hours=0)
    due = walk.order.contract.due_at
    assert due is not None
    late = due - pendulum.duration(minutes=30)  # the worker was down: both are due
    first = fire(walk, Timer.reminder, late)
    second = fire(walk, Timer.reminder, late)
    assert isinstance(first, ev.ReminderSent)
    assert isinstance(second, ev.ReminderSent)
    assert (first.before, second.before) == (DAY, HOUR)
    assert [t for t, _ in armed(walk)] == [Timer.delivery_due]


def test_reminder_values_are_checked() -> None:
    """An unknown deadline, a zero lead or a repeated reminder are refused, naming the field."""
    with pytest.raises(ValidationError, match=r"reminder\.deadline"):
        Reminder("lunch", DAY)
    with pytest.raises(ValidationError, match=r"reminder\.before"):
        Reminder("delivery", pendulum.duration())
    with pytest.raises(ValidationError, match="reminders"):
        Policy(reminders=(Reminder("delivery", DAY), Reminder("delivery", DAY)))
    with pytest.raises(ValidationError, match="reminders"):
        Policy(reminders=("delivery",))


# -- timed proposals and dispute escalation ----------------------------------------


def test_an_unanswered_proposal_expires_by_default() -> None:
    """``update_expired`` at proposed + window; the contract stays as it was."""
    walk = Walk(policy=Policy(proposal_window=DAY * 2))
    walk.do(core.Accept(), SELLER)
    walk.do(core.ProposeUpdate(price="175.00"), SELLER)
    proposal = walk.order.proposal
    assert proposal is not None
    assert proposal.expires_at == walk.now + DAY * 2
    event = fire(walk, Timer.proposal_window, walk.now + DAY * 3)
    assert isinstance(event, ev.UpdateExpired)
    assert (event.due_at, event.action, event.reason) == (
        proposal.expires_at,
        Timer.proposal_window,
        "",
    )
    assert walk.order.proposal is None
    assert walk.order.contract.price.minor == "150.00"


def test_an_unanswered_proposal_is_accepted_by_the_system_when_the_terms_say_so() -> None:
    """``update_accepted`` with actor system; the contract version moves on."""
    walk = Walk(policy=Policy(proposal_window=DAY, on_proposal_silence="accept"))
    walk.do(core.Accept(), SELLER)
    walk.do(core.ProposeUpdate(price="175.00"), SELLER)
    event = fire(walk, Timer.proposal_window, walk.now + DAY)
    assert isinstance(event, ev.UpdateAccepted)
    assert event.actor == Actor.system()
    assert event.due_at == walk.now
    assert (walk.order.contract.price.minor, walk.order.contract.version) == ("175.00", 2)


def test_a_proposal_that_no_longer_fits_expires_with_the_reason() -> None:
    """Fewer revisions than already used: not accepted, even under "accept"."""
    walk = Walk(policy=Policy(proposal_window=DAY, on_proposal_silence="accept"))
    walk.do(core.Accept(), SELLER)
    walk.do(core.Deliver(outside=True), SELLER)
    walk.do(core.ProposeUpdate(revisions=0), SELLER)
    walk.do(core.RequestRevision(note="Warmer"), BUYER)
    event = fire(walk, Timer.proposal_window, walk.now + DAY)
    assert isinstance(event, ev.UpdateExpired)
    assert "already used" in event.reason
    assert walk.order.contract.revisions == 2


def test_an_answered_proposal_disarms_its_window() -> None:
    """Rejecting it in time leaves nothing to expire."""
    walk = Walk(policy=Policy(proposal_window=DAY))
    walk.do(core.Accept(), SELLER)
    walk.do(core.ProposeUpdate(price="175.00"), SELLER)
    walk.do(core.RejectUpdate(), BUYER)
    assert Timer.proposal_window not in [t for t, _ in armed(walk)]


def test_a_stale_dispute_is_escalated_once_to_the_cx_team() -> None:
    """One ``dispute_escalated`` (state unchanged), addressed to ``cx_team`` too."""
    walk = Walk(policy=Policy(dispute_window=DAY * 2))
    walk.do(core.Accept(), SELLER)
    walk.do(core.Dispute(reason="No answer"), BUYER)
    opened = walk.now
    walk.do(core.Join(), Actor.cx(AGENT))
    event = fire(walk, Timer.dispute_window, opened + DAY * 5)
    assert isinstance(event, ev.DisputeEscalated)
    assert (event.due_at, event.state, event.agent) == (opened + DAY * 2, "disputed", AGENT)
    assert CX_TEAM in {n.recipient for n in notifications_for(walk.order, [event])}
    assert armed(walk) == []
    walk.do(core.Resolve(outcome="resume", note="Deliver by Friday"), Actor.cx(AGENT))
    walk.do(core.Dispute(reason="Still nothing"), BUYER)
    assert (Timer.dispute_window, walk.now + DAY * 2) in armed(walk)  # a new dispute


def test_the_dispute_window_is_the_desks_policy_not_the_orders_terms() -> None:
    """Escalation is the CX team's service level: the policy in force decides it."""
    walk = Walk()
    walk.do(core.Accept(), SELLER)
    walk.do(core.Dispute(reason="No answer"), BUYER)
    assert armed(walk) == []
    later = core.due_timers(walk.order, Policy(dispute_window=HOUR))
    assert [t.timer for t in later] == [Timer.dispute_window]


# -- working-day calendars ---------------------------------------------------------


def test_whole_day_deadlines_count_working_days() -> None:
    """Accepted on a Friday with 2 days to deliver: due Tuesday, same time; review too."""
    friday = pendulum.datetime(2026, 12, 4, 10, tz="UTC")
    policy = Policy(calendar=Calendar(), review_window=DAY * 3)
    order = core.place(
        buyer=BUYER, seller=SELLER, listing=listing(days=2), now=friday, policy=policy
    ).order
    order = core.decide(order, core.Accept(), actor=SELLER, now=friday, policy=policy).order
    assert order.contract.due_at == pendulum.datetime(2026, 12, 8, 10, tz="UTC")
    delivered = core.decide(
        order, core.Deliver(outside=True), actor=SELLER, now=friday, policy=policy
    ).order
    assert delivered.review_due_at == pendulum.datetime(2026, 12, 9, 10, tz="UTC")
    prompt = core.next_step(order, actor=SELLER, now=friday, policy=policy)
    assert "Tue 8 Dec 2026 10:00 UTC" in prompt
    assert "2 working days" in prompt


def test_short_deadlines_move_off_non_working_days() -> None:
    """A 12-hour acceptance window ending on Saturday ends Monday 00:00 instead."""
    friday = pendulum.datetime(2026, 12, 4, 18, tz="UTC")
    policy = Policy(calendar=Calendar(), acceptance_window=HOUR * 12)
    order = core.place(
        buyer=BUYER, seller=SELLER, listing=listing(), now=friday, policy=policy
    ).order
    monday = pendulum.datetime(2026, 12, 7, tz="UTC")
    assert [(t.timer, t.due_at) for t in core.due_timers(order)] == [
        (Timer.acceptance_window, monday)
    ]


def test_calendar_values_are_checked() -> None:
    """Bad zones, weekdays and holidays are refused, naming the field."""
    with pytest.raises(ValidationError, match=r"calendar\.zone"):
        Calendar("Mars/Olympus")
    with pytest.raises(ValidationError, match=r"calendar\.workdays"):
        Calendar(workdays=frozenset())
    with pytest.raises(ValidationError, match=r"calendar\.workdays"):
        Calendar(workdays=frozenset({7}))
    with pytest.raises(ValidationError, match=r"calendar\.holidays"):
        Calendar(holidays=frozenset({dt.datetime(2026, 12, 25, tzinfo=dt.UTC)}))
    with pytest.raises(ValidationError, match="calendar"):
        Policy(calendar="weekdays")


# -- the paused delivery clock -----------------------------------------------------


def paused_walk(max_pause: pendulum.Duration = DAY * 7) -> Walk:
    """Accepted at T0+1h (due 7 days later), then the seller asks a question an hour on."""
    walk = Walk(policy=Policy(max_pause=max_pause, reminders=(Reminder("delivery", DAY),)))
    walk.do(core.Accept(), SELLER)
    walk.do(core.RequestInfo(question="Which handle?"), SELLER)
    return walk


def test_a_question_pauses_the_delivery_clock() -> None:
    """No delivery-due notice, no delivery reminder, no past-due cancel while paused."""
    walk = paused_walk()
    due = walk.order.contract.due_at
    assert due is not None
    assert walk.order.paused
    assert [t for t, _ in armed(walk)] == [Timer.max_pause]
    after = due.add(hours=1)
    options = {o.action: o for o in core.options(walk.order, actor=BUYER, now=after)}
    assert not options[Action.cancel].available
    assert "paused" in (options[Action.cancel].reason or "")
    assert options[Action.provide_info].available
    assert "paused" in core.next_step(walk.order, actor=SELLER, now=after)
    assert "Which handle?" in core.next_step(walk.order, actor=BUYER, now=after)
    assert waiting_on(walk.order) == {BUYER, SELLER}


def test_an_answer_moves_due_at_later_by_the_time_paused() -> None:
    """``info_provided``: due_at + (answered - asked); the clock runs again."""
    walk = paused_walk()
    due = walk.order.contract.due_at
    assert due is not None
    answered = walk.now.add(hours=30)
    decision = core.decide(walk.order, core.ProvideInfo(answer="@alice"), actor=BUYER, now=answered)
    walk.order = decision.order
    (event,) = decision.events
    assert isinstance(event, ev.InfoProvided)
    assert (event.paused, event.delivery_due_at) == (HOUR * 30, due + HOUR * 30)
    assert walk.order.contract.due_at == due + HOUR * 30
    assert walk.order.contract.version == 1  # not a contract update
    assert not walk.order.paused
    assert event.state is OrderState.accepted
    assert (Timer.delivery_due, due + HOUR * 30) in armed(walk)


def test_past_max_pause_the_clock_resumes_by_itself() -> None:
    """``info_timed_out`` at asked + max_pause; due_at moves by max_pause exactly."""
    walk = paused_walk(max_pause=DAY * 2)
    due, asked = walk.order.contract.due_at, walk.now
    assert due is not None
    event = fire(walk, Timer.max_pause, asked + DAY * 5)
    assert isinstance(event, ev.InfoTimedOut)
    assert (event.due_at, event.paused, event.delivery_due_at) == (
        asked + DAY * 2,
        DAY * 2,
        due + DAY * 2,
    )
    assert walk.order.contract.due_at == due + DAY * 2
    with pytest.raises(ActionNotAvailable, match="not asked you"):
        core.decide(walk.order, core.ProvideInfo(answer="late"), actor=BUYER, now=walk.now)


def test_a_delivery_ends_the_pause_and_credits_it() -> None:
    """Delivering while paused closes the question; due_at keeps the time paused."""
    walk = paused_walk()
    due = walk.order.contract.due_at
    assert due is not None
    walk.do(core.Deliver(outside=True), SELLER, hours=10)
    assert walk.order.info_request is None
    assert walk.order.contract.due_at == due + HOUR * 10


def test_the_clock_pauses_once_and_never_past_due() -> None:
    """A second question, or one after the due date, is refused with the reason."""
    walk = paused_walk()
    with pytest.raises(ActionNotAvailable, match="resumes when they answer"):
        core.decide(walk.order, core.RequestInfo(question="Again?"), actor=SELLER, now=walk.now)
    late = Walk()
    late.do(core.Accept(), SELLER)
    due = late.order.contract.due_at
    assert due is not None
    with pytest.raises(ActionNotAvailable, match="can no longer be paused"):
        core.decide(late.order, core.RequestInfo(question="Hm?"), actor=SELLER, now=due)
    with pytest.raises(ValidationError, match="question"):
        core.decide(late.order, core.RequestInfo(question="  "), actor=SELLER, now=late.now)
    with pytest.raises(ActionNotAvailable, match="Only the seller"):
        core.decide(late.order, core.RequestInfo(question="Hm?"), actor=BUYER, now=late.now)


# -- terms pinned per order --------------------------------------------------------


def test_an_order_keeps_the_terms_it_was_placed_under() -> None:
    """Another policy later changes nothing for it: review window, reminders, windows."""
    first = Policy(review_window=DAY * 3, reminders=(Reminder("review", HOUR),))
    walk = Walk(policy=first)
    assert walk.order.terms == first.terms
    assert walk.order.lifecycle == LIFECYCLE_VERSION == "3"
    walk.policy = Policy(review_window=DAY * 14, acceptance_window=HOUR)
    walk.do(core.Accept(), SELLER)
    walk.do(core.Deliver(outside=True), SELLER)
    assert walk.order.review_due_at == walk.now + DAY * 3
    assert [t for t, _ in armed(walk)] == [Timer.reminder, Timer.review_window]


def test_an_order_from_before_terms_follows_the_policy_and_reads_back() -> None:
    """A stored document without ``terms`` loads with ``terms=None`` and the policy rules."""
    order = Walk().order
    document = serde.order_to_dict(order)
    for field in ("terms", "info_request", "reminders_sent"):
        del document[field]
    document["lifecycle"] = "1"
    old = serde.order_from_dict(document)
    assert old.terms is None
    assert old.lifecycle == "1"
    policy = Policy(acceptance_window=HOUR)
    assert [t.timer for t in core.due_timers(old, policy)] == [Timer.acceptance_window]
    assert serde.order_from_dict(serde.order_to_dict(old)) == old


def test_terms_read_back_as_one_shared_object() -> None:
    """Orders placed under one policy share its terms in memory, stored or not."""
    policy = Policy(calendar=Calendar("Europe/Paris", holidays={dt.date(2026, 12, 25)}))
    a, b = Walk(policy=policy).order, Walk(policy=policy).order
    assert a.terms is b.terms is policy.terms
    loaded = [serde.load_order(serde.dump_order(o)) for o in (a, b)]
    assert loaded[0].terms is loaded[1].terms
    assert loaded[0].terms == Terms(calendar=policy.calendar)
    assert loaded[0] == a


def test_the_seed_is_unchanged_with_every_new_field_off() -> None:
    """Default terms: no new timer, no new option available, the seed's timers only."""
    walk = Walk()
    walk.do(core.Accept(), SELLER, hours=0)
    assert armed(walk) == [(Timer.delivery_due, T0 + DAY * 7)]
    walk.do(core.Deliver(outside=True), SELLER)
    assert [t for t, _ in armed(walk)] == [Timer.review_window]


@pytest.mark.parametrize("paused", [HOUR * 23 + MINUTE * 59, DAY, DAY + MINUTE, DAY * 3])
def test_under_a_calendar_the_pause_moves_due_at_by_exactly_the_time_paused(
    paused: pendulum.Duration,
) -> None:
    """Spec §11: ``due_at`` moves later by the time paused: clock time, also under a
    working-day calendar (a measured pause is not a deadline given in days), so a longer
    pause never gives an earlier date."""
    walk = Walk(policy=Policy(calendar=Calendar()))
    walk.do(core.Accept(), SELLER)
    walk.do(core.RequestInfo(question="Which handle?"), SELLER)
    due = walk.order.contract.due_at
    assert due is not None
    answered = walk.now + paused
    decision = core.decide(walk.order, core.ProvideInfo(answer="@alice"), actor=BUYER, now=answered)
    assert decision.order.contract.due_at == due + paused


@pytest.mark.parametrize("late", [pendulum.duration(), DAY * 3])
def test_a_proposals_fit_is_judged_when_its_window_ends_however_late_the_tick(
    late: pendulum.Duration,
) -> None:
    """Spec §11: "unanswered when its window ends ... accepted when it still fits", and §4:
    a timer fired late still fires once. A proposed due date still ahead when the window
    ended is accepted, also by a tick that runs after that date."""
    walk = Walk(policy=Policy(proposal_window=DAY * 2, on_proposal_silence="accept"))
    walk.do(core.Accept(), SELLER)
    proposed = walk.now + DAY * 4
    walk.do(core.ProposeUpdate(due_at=proposed), SELLER)
    ends = walk.now + DAY * 2
    event = fire(walk, Timer.proposal_window, ends + late)
    assert isinstance(event, ev.UpdateAccepted)
    assert (event.due_at, event.at) == (ends, ends + late)
    assert walk.order.contract.due_at == proposed


def test_a_proposed_date_already_past_when_the_window_ends_expires() -> None:
    """Under "accept", a proposed due date at or before the window's end no longer fits."""
    walk = Walk(policy=Policy(proposal_window=DAY * 2, on_proposal_silence="accept"))
    walk.do(core.Accept(), SELLER)
    walk.do(core.ProposeUpdate(due_at=walk.now + DAY), SELLER)
    event = fire(walk, Timer.proposal_window, walk.now + DAY * 2)
    assert isinstance(event, ev.UpdateExpired)
    assert "already passed" in event.reason
