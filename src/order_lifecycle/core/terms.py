"""Deadline terms: reminders, working-day calendars, and the terms an order is placed under.

An order keeps the deadline terms it was placed under (:class:`Terms`, ``order.terms``):
a desk opened later with another :class:`~order_lifecycle.Policy` changes new orders only.

>>> import datetime, pendulum
>>> week = Calendar("Europe/Paris", holidays={datetime.date(2026, 12, 25)})
>>> friday = pendulum.datetime(2026, 12, 18, 9)   # 10:00 in Paris
>>> week.shift(friday, pendulum.duration(days=5)).isoformat()   # Christmas is off
'2026-12-28T09:00:00+00:00'
>>> week.shift(friday, pendulum.duration(hours=20)).isoformat()  # Saturday: Monday 00:00
'2026-12-20T23:00:00+00:00'
"""

from __future__ import annotations

import datetime as _dt
import enum
import functools
from collections.abc import Iterable
from typing import Any, Final, Literal

import attrs
import pendulum

from order_lifecycle.core import values
from order_lifecycle.errors import ValidationError

__all__ = [
    "DEFAULT_MAX_PAUSE",
    "DEFAULT_REVIEW_WINDOW",
    "Calendar",
    "Deadline",
    "Reminder",
    "SentReminder",
    "Silence",
    "Terms",
]

DEFAULT_REVIEW_WINDOW: Final = pendulum.duration(days=7)
DEFAULT_MAX_PAUSE: Final = pendulum.duration(days=7)
_DAY: Final = _dt.timedelta(days=1)

#: What the system does with a contract update nobody answered in time.
Silence = Literal["reject", "accept"]


class Deadline(enum.StrEnum):
    """A deadline a reminder can point at, and the party it reminds."""

    #: The contract's ``due_at``; reminds the seller.
    delivery = "delivery"
    #: The end of the buyer's review window (``review_due_at``); reminds the buyer.
    review = "review"
    #: The end of the acceptance window; reminds the seller.
    acceptance = "acceptance"
    #: The expiry of an open contract proposal; reminds its counter-party.
    proposal = "proposal"
    #: The expiry of an open cancellation request; reminds its counter-party.
    cancellation = "cancellation"


def _deadline(value: object) -> Deadline:
    if isinstance(value, Deadline):
        return value
    try:
        return Deadline(str(value))
    except ValueError:
        choices = ", ".join(d.value for d in Deadline)
        raise ValidationError(
            "reminder.deadline", f"{values.shown(value)} is not a deadline; use one of {choices}"
        ) from None


def _before(value: object) -> pendulum.Duration:
    return values.to_duration(value, "reminder.before")


@attrs.frozen
class Reminder:
    """Remind the party who must act ``before`` the ``deadline``, once per deadline value.

    >>> Reminder("delivery", pendulum.duration(days=1)).deadline
    <Deadline.delivery: 'delivery'>
    """

    deadline: Deadline = attrs.field(converter=_deadline)
    before: pendulum.Duration = attrs.field(converter=_before)


@attrs.frozen
class SentReminder:
    """A reminder an order has sent: for which deadline, its value then, and how long before.

    The order keeps these so that a reminder is never sent twice for one deadline value,
    even across restarts; a deadline that moves is a new value and re-arms its reminders.
    """

    deadline: Deadline
    at: pendulum.DateTime
    before: pendulum.Duration


def _zone(value: object) -> str:
    try:
        return values.check_zone(value)
    except ValidationError as error:
        raise ValidationError("calendar.zone", error.message) from None


def _frozen(field: str, value: Iterable[Any]) -> frozenset[Any]:
    try:
        return frozenset(value)
    except TypeError:  # an item that cannot be in a set (a list...): not a day either way
        raise ValidationError(field, "holds an item that is not a day") from None


def _workdays(value: object) -> frozenset[int]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("calendar.workdays", "must be a set of weekday numbers 0..6")
    days = _frozen("calendar.workdays", value)
    if not days or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in days
    ):
        raise ValidationError(
            "calendar.workdays", "must be a non-empty set of weekday numbers 0 (Monday)..6"
        )
    return days


def _holidays(value: object) -> frozenset[_dt.date]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("calendar.holidays", "must be a set of datetime.date")
    days = _frozen("calendar.holidays", value)
    for day in days:
        if isinstance(day, _dt.datetime) or not isinstance(day, _dt.date):
            raise ValidationError(
                "calendar.holidays", f"holds a {type(day).__name__}; use datetime.date"
            )
    return days


@attrs.frozen
class Calendar:
    """Working days in a time zone: what whole-day deadlines count.

    With a calendar, a deadline given in whole days counts working days in ``zone`` and
    lands at the same local time of day; a shorter one counts clock time, but a deadline
    that lands on a non-working day moves to the start of the next working day. Weekdays
    are numbered as ``date.weekday()`` (0 is Monday); ``holidays`` are dates in ``zone``.
    """

    zone: str = attrs.field(default="UTC", converter=_zone)
    workdays: frozenset[int] = attrs.field(default=frozenset({0, 1, 2, 3, 4}), converter=_workdays)
    holidays: frozenset[_dt.date] = attrs.field(default=frozenset(), converter=_holidays)

    def is_working_day(self, day: _dt.date) -> bool:
        """Whether ``day`` (a date in the calendar's zone) is a working day."""
        return day.weekday() in self.workdays and day not in self.holidays

    def next_working_day(self, day: _dt.date) -> _dt.date:
        """The first working day after ``day``."""
        day += _DAY
        while not self.is_working_day(day):
            day += _DAY
        return day

    def add_working_days(self, day: _dt.date, count: int) -> _dt.date:
        """The date ``count`` working days after ``day`` (``day`` itself never counts)."""
        per_week = len(self.workdays)
        weeks = max(count - 1, 0) // per_week
        end = day + _dt.timedelta(weeks=weeks)
        # Whole weeks hold ``per_week`` working days each, less the holidays among them.
        lost = sum(1 for h in self.holidays if day < h <= end and h.weekday() in self.workdays)
        counted = weeks * per_week - lost
        while counted < count:
            end += _DAY
            if self.is_working_day(end):
                counted += 1
        return end

    def working_days_between(self, start: _dt.datetime, end: _dt.datetime) -> int:
        """Working days after ``start``'s local date, up to and including ``end``'s."""
        first, last = self._local(start).date(), self._local(end).date()
        count = 0
        while first < last:
            first += _DAY
            count += self.is_working_day(first)
        return count

    def _local(self, at: _dt.datetime) -> _dt.datetime:
        return at.astimezone(pendulum.timezone(self.zone))

    def _instant(self, day: _dt.date, time: _dt.time) -> pendulum.DateTime:
        # fold=0: an ambiguous local time is its first occurrence; a local time that a
        # clock change skips is read with the offset before the change (a later instant).
        local = _dt.datetime.combine(day, time, tzinfo=pendulum.timezone(self.zone))
        return values.to_instant(local.replace(fold=0), "deadline")

    def shift(self, at: pendulum.DateTime, by: _dt.timedelta) -> pendulum.DateTime:
        """The deadline ``by`` after ``at`` under this calendar (a UTC instant)."""
        return _shift(self, at, by)


@functools.lru_cache(maxsize=4096)
def _shift(calendar: Calendar, at: pendulum.DateTime, by: _dt.timedelta) -> pendulum.DateTime:
    if by.days >= 1 and not by.seconds and not by.microseconds:  # whole days
        local = calendar._local(at)
        day = calendar.add_working_days(local.date(), by.days)
        return calendar._instant(day, local.time())
    end = values.shift(at, by)
    local_day = calendar._local(end).date()
    if calendar.is_working_day(local_day):
        return end
    return calendar._instant(calendar.next_working_day(local_day), _dt.time())


def _acceptance_window(value: object) -> pendulum.Duration | None:
    return None if value is None else values.to_duration(value, "acceptance_window")


def _proposal_window(value: object) -> pendulum.Duration | None:
    return None if value is None else values.to_duration(value, "proposal_window")


def _cancellation_window(value: object) -> pendulum.Duration | None:
    return None if value is None else values.to_duration(value, "cancellation_window")


def _silence(value: object) -> Silence:
    if value == "reject":
        return "reject"
    if value == "accept":
        return "accept"
    raise ValidationError(
        "on_proposal_silence", f"must be 'reject' or 'accept', not {values.shown(value)}"
    )


def _cancellation_silence(value: object) -> Silence:
    if value == "accept":
        return "accept"
    if value == "reject":
        return "reject"
    raise ValidationError(
        "on_cancellation_silence", f"must be 'accept' or 'reject', not {values.shown(value)}"
    )


def _calendar(value: object) -> Calendar | None:
    if value is None or isinstance(value, Calendar):
        return value
    raise ValidationError("calendar", f"must be a Calendar or None, not {type(value).__name__}")


def _reminders(value: object) -> tuple[Reminder, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("reminders", "must be a sequence of Reminder")
    items = tuple(value)
    for item in items:
        if not isinstance(item, Reminder):
            raise ValidationError("reminders", f"holds a {type(item).__name__}; use Reminder(...)")
    if len(set(items)) != len(items):
        raise ValidationError("reminders", "holds the same reminder twice")
    return items


def _review_window(value: object) -> pendulum.Duration:
    return values.to_duration(value, "review_window")


def _max_pause(value: object) -> pendulum.Duration:
    return values.to_duration(value, "max_pause")


@attrs.frozen
class Terms:
    """The deadline terms an order is placed under, kept with it (``order.terms``).

    ``Policy.terms`` gives the terms a desk places new orders under; every deadline rule
    reads the order's own terms, so changing the policy never changes orders already
    placed. ``on_proposal_silence`` says what closes a contract update nobody answered
    within ``proposal_window``: ``"reject"`` or ``"accept"``; ``on_cancellation_silence``
    what answers a cancellation request nobody answered within ``cancellation_window``.
    """

    review_window: pendulum.Duration = attrs.field(
        default=DEFAULT_REVIEW_WINDOW, converter=_review_window
    )
    acceptance_window: pendulum.Duration | None = attrs.field(
        default=None, converter=_acceptance_window
    )
    proposal_window: pendulum.Duration | None = attrs.field(
        default=None, converter=_proposal_window
    )
    on_proposal_silence: Silence = attrs.field(default="reject", converter=_silence)
    calendar: Calendar | None = attrs.field(default=None, converter=_calendar)
    reminders: tuple[Reminder, ...] = attrs.field(default=(), converter=_reminders)
    max_pause: pendulum.Duration = attrs.field(default=DEFAULT_MAX_PAUSE, converter=_max_pause)
    #: How long a mutual cancellation request stays open unanswered (spec section 12).
    cancellation_window: pendulum.Duration | None = attrs.field(
        default=None, converter=_cancellation_window
    )
    #: What silence does to a cancellation request when its window ends.
    on_cancellation_silence: Silence = attrs.field(
        default="accept", converter=_cancellation_silence
    )

    def shift(self, at: pendulum.DateTime, by: _dt.timedelta) -> pendulum.DateTime:
        """The deadline ``by`` after ``at``: working days under a calendar, else clock time."""
        if self.calendar is None:
            return values.shift(at, by)
        return self.calendar.shift(at, by)
