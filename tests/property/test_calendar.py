"""Working-day calendars against a plain day-by-day count (spec section 11).

The reference below walks the calendar one local day at a time, in the standard
library's own zone arithmetic; the library's ``Calendar.shift`` jumps whole weeks. They
must agree for every zone, set of working days, holidays, start and duration, across
daylight-saving changes and year ends.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pendulum
from hypothesis import given
from hypothesis import strategies as st

from order_lifecycle import Calendar

DAY = dt.timedelta(days=1)
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
#: Instants near the changes this test cares about: daylight-saving changes in Europe,
#: North America and Australia, and year ends.
EDGES = [
    dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC),  # Europe springs forward
    dt.datetime(2026, 10, 25, 1, tzinfo=dt.UTC),  # Europe falls back
    dt.datetime(2026, 3, 8, 7, tzinfo=dt.UTC),  # New York springs forward
    dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC),  # New York falls back
    dt.datetime(2026, 4, 4, 16, tzinfo=dt.UTC),  # Sydney falls back
    dt.datetime(2026, 10, 3, 16, tzinfo=dt.UTC),  # Sydney springs forward
    dt.datetime(2026, 12, 31, 12, tzinfo=dt.UTC),
    dt.datetime(2027, 12, 31, 23, tzinfo=dt.UTC),
]


@st.composite
def starts(draw: st.DrawFn) -> pendulum.DateTime:
    """An instant within a few days of an edge, to the minute."""
    edge = draw(st.sampled_from(EDGES))
    minutes = draw(st.integers(-6 * 24 * 60, 6 * 24 * 60))
    return pendulum.instance(edge + dt.timedelta(minutes=minutes))


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    """A zone, 1-7 working days, and holidays around the edges (year ends mostly)."""
    zone = draw(st.sampled_from(ZONES))
    workdays = draw(st.frozensets(st.integers(0, 6), min_size=1))
    holidays = draw(
        st.frozensets(st.dates(dt.date(2026, 3, 1), dt.date(2028, 1, 31)), max_size=12)
        | st.just(frozenset({dt.date(2026, 12, 25), dt.date(2027, 1, 1), dt.date(2028, 1, 3)}))
    )
    return Calendar(zone, workdays, holidays)


DURATIONS = (
    st.integers(1, 60).map(lambda n: pendulum.duration(days=n))
    | st.integers(1, 24 * 60 - 1).map(lambda m: pendulum.duration(minutes=m))
    | st.integers(25, 24 * 9).map(lambda h: pendulum.duration(hours=h))
)


def _working(calendar: Calendar, day: dt.date) -> bool:
    return day.weekday() in calendar.workdays and day not in calendar.holidays


def reference(calendar: Calendar, start: dt.datetime, by: dt.timedelta) -> dt.datetime:
    """Section 11, counted one day at a time."""
    zone = ZoneInfo(calendar.zone)
    local = start.astimezone(zone)
    if by.days >= 1 and by.seconds == 0 and by.microseconds == 0:
        day, left = local.date(), by.days
        while left:
            day += DAY
            if _working(calendar, day):
                left -= 1
        wall = dt.datetime.combine(day, local.time(), tzinfo=zone)
        return wall.astimezone(dt.UTC)
    end = start + by
    day = end.astimezone(zone).date()
    if _working(calendar, day):
        return end.astimezone(dt.UTC)
    day += DAY
    while not _working(calendar, day):
        day += DAY
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


@given(calendar=calendars(), start=starts(), by=DURATIONS)
def test_shift_agrees_with_a_day_by_day_count(
    calendar: Calendar, start: pendulum.DateTime, by: pendulum.Duration
) -> None:
    """The deadline is the reference's, to the microsecond, and stays in UTC."""
    result = calendar.shift(start, by)
    assert result == reference(calendar, start, by)
    assert result.utcoffset() == dt.timedelta(0)
    assert result > start


@given(calendar=calendars(), start=starts(), days=st.integers(1, 40))
def test_whole_days_land_on_a_working_day_that_many_working_days_later(
    calendar: Calendar, start: pendulum.DateTime, days: int
) -> None:
    """A whole-day deadline is a working day, ``days`` working days on, and one more day
    of delay never brings it earlier."""
    result = calendar.shift(start, pendulum.duration(days=days))
    local = result.astimezone(ZoneInfo(calendar.zone))
    assert _working(calendar, local.date())
    assert calendar.working_days_between(start, result) == days
    assert calendar.shift(start, pendulum.duration(days=days + 1)) > result


@given(calendar=calendars(), start=starts(), minutes=st.integers(1, 24 * 60 - 1))
def test_short_deadlines_count_clock_time_or_wait_for_the_next_working_day(
    calendar: Calendar, start: pendulum.DateTime, minutes: int
) -> None:
    """Clock time when it lands on a working day; else midnight of the next one."""
    by = pendulum.duration(minutes=minutes)
    result = calendar.shift(start, by)
    if result != start + by:
        local = result.astimezone(ZoneInfo(calendar.zone))
        assert _working(calendar, local.date())
        assert (local.hour, local.minute) in ((0, 0), (1, 0))  # 01:00 where midnight is skipped
        assert result > start + by


def test_a_known_week_with_christmas() -> None:
    """Friday 18 Dec 2026 10:00 in Paris + 5 working days skips the weekend and Christmas."""
    paris = Calendar("Europe/Paris", holidays={dt.date(2026, 12, 25)})
    friday = pendulum.datetime(2026, 12, 18, 10, tz="Europe/Paris")
    due = paris.shift(pendulum.instance(friday.in_timezone("UTC")), pendulum.duration(days=5))
    assert due == pendulum.datetime(2026, 12, 28, 10, tz="Europe/Paris")


def test_the_same_local_time_across_a_clock_change() -> None:
    """Across Europe's spring change a whole-day deadline keeps 10:00 local (an hour less)."""
    paris = Calendar("Europe/Paris", workdays=frozenset(range(7)))
    start = pendulum.datetime(2026, 3, 28, 9, tz="UTC")  # Saturday 10:00 CET
    due = paris.shift(start, pendulum.duration(days=1))
    assert due == pendulum.datetime(2026, 3, 29, 8, tz="UTC")  # Sunday 10:00 CEST
