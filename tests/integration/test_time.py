"""Time: daylight saving and leap days in the viewer's zone, timers due exactly now,
clocks that jump backwards."""

from __future__ import annotations

import pendulum
import pytest

from order_lifecycle import Listing, ManualClock, Money, OrderDesk, OrderState, Timer, core

LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 1)


def test_due_dates_across_daylight_saving_show_the_local_time(url: str) -> None:
    """Seven days are 168 hours: across the March change the local hour moves by one."""
    clock = ManualClock(pendulum.datetime(2027, 3, 10, 15, tz="UTC"))  # 10:00 EST
    with OrderDesk.open(url, clock=clock) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
        desk.accept(order.id, by="bob")
        due = desk.get(order.id).contract.due_at
        assert due == pendulum.datetime(2027, 3, 17, 15, tz="UTC")
        accepted = desk.chat(order.id, viewer="alice", tz="America/New_York")[1]
        assert "Wed 17 Mar 2027 11:00 EDT" in accepted.text
        prompt = desk.next_step(order.id, viewer="bob", tz="America/New_York")
        assert "Wed 17 Mar 2027 11:00 EDT" in prompt
        reason = next(
            o.reason
            for o in desk.actions(order.id, viewer="alice", tz="Europe/Paris")
            if o.action == "cancel"
        )
        assert reason is not None
        assert "Wed 17 Mar 2027 16:00 CET" in reason


def test_the_autumn_change_and_a_leap_day(url: str) -> None:
    """The November change in New York, and 29 February in Tokyo."""
    clock = ManualClock(pendulum.datetime(2027, 10, 31, 14, tz="UTC"))  # 10:00 EDT
    with OrderDesk.open(url, clock=clock) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
        desk.accept(order.id, by="bob")
        text = desk.chat(order.id, viewer="bob", tz="America/New_York")[1].text
        assert "Sun 7 Nov 2027 09:00 EST" in text
        clock.set(pendulum.datetime(2028, 2, 22, 9, tz="UTC"))
        leap = desk.place(buyer="alice", seller="bob", listing=LISTING)
        desk.accept(leap.id, by="bob")
        assert desk.get(leap.id).contract.due_at == pendulum.datetime(2028, 2, 29, 9, tz="UTC")
        text = desk.chat(leap.id, viewer="bob", tz="Asia/Tokyo")[1].text
        assert "Tue 29 Feb 2028 18:00 JST" in text


def test_timers_due_exactly_now_fire(url: str) -> None:
    """A timer due at ``now`` fires at ``now``, not a microsecond earlier."""
    clock = ManualClock(pendulum.datetime(2026, 12, 1, 10, tz="UTC"))
    with OrderDesk.open(url, clock=clock) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
        desk.accept(order.id, by="bob")
        desk.deliver(order.id, by="bob", outside=True)
        due = desk.get(order.id).review_due_at
        assert due is not None
        assert desk.tick(now=due.subtract(microseconds=1)) == []
        fired = desk.tick(now=due)
        assert [(e.kind, e.at) for e in fired] == [("order_auto_completed", due)]
        assert desk.get(order.id).state is OrderState.complete


def test_a_clock_that_jumps_backwards_breaks_nothing(url: str) -> None:
    """Earlier ticks fire nothing; earlier commands are recorded at the last event's time."""
    clock = ManualClock(pendulum.datetime(2026, 12, 10, 10, tz="UTC"))
    with OrderDesk.open(url, clock=clock) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
        desk.accept(order.id, by="bob")
        clock.set(pendulum.datetime(2026, 12, 1, 10, tz="UTC"))  # nine days back
        assert desk.tick() == []
        desk.say(order.id, by="alice", text="Is my clock wrong?")
        history = desk.history(order.id)
        instants = [e.at for e in history]
        assert instants == sorted(instants)
        assert history[-1].at == pendulum.datetime(2026, 12, 10, 10, tz="UTC")
        assert desk.get(order.id).state is OrderState.accepted


@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
)
def test_core_reasons_render_in_any_zone(zone: str) -> None:
    """Reasons and prompts render in zones with odd offsets; instants stay UTC inside."""
    now = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
    order = core.place(buyer="alice", seller="bob", listing=LISTING, now=now).order
    order = core.decide(order, core.Accept(), actor="bob", now=now).order
    assert order.contract.due_at is not None
    assert order.contract.due_at.tzinfo == pendulum.UTC
    reason = {o.action: o for o in core.options(order, actor="alice", now=now, tz=zone)}[
        core.Cancel.action
    ].reason
    local = order.contract.due_at.in_timezone(zone)
    assert reason is not None
    assert local.format("HH:mm") in reason
    assert core.due_timers(order)[0].timer is Timer.delivery_due
