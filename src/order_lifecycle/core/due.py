"""An armed timer as ``core.due_timers`` reports it: what it fires, and when."""

from __future__ import annotations

import datetime as _dt

import attrs
import pendulum

from order_lifecycle.core.model import Action, Timer
from order_lifecycle.core.terms import Deadline

__all__ = ["DueTimer"]


@attrs.frozen
class DueTimer:
    """An armed timer: what it fires and when it is due.

    A reminder also names the ``deadline`` it reminds of, that deadline's instant
    (``deadline_at``) and how long ``before`` it the reminder is sent. A reminder is
    never sent at or after its deadline: from ``deadline_at`` on, it is skipped.
    """

    timer: Timer
    action: Action | Timer
    due_at: pendulum.DateTime
    deadline: Deadline | None = None
    deadline_at: pendulum.DateTime | None = None
    before: pendulum.Duration | None = None

    def ready(self, now: _dt.datetime) -> bool:
        """Due at ``now``, and (a reminder) its deadline not reached yet."""
        return self.due_at <= now and (self.deadline_at is None or now < self.deadline_at)
