"""Clocks: where the application layer gets "now". The core never reads one.

>>> import pendulum
>>> clock = ManualClock(pendulum.datetime(2026, 12, 1, 10))
>>> clock.advance(days=7).isoformat()
'2026-12-08T10:00:00+00:00'
"""

from __future__ import annotations

import datetime as _dt
import time
from typing import Final, Protocol, runtime_checkable

import pendulum

from order_lifecycle.core.values import MAX_YEAR, MIN_YEAR, shown, to_instant
from order_lifecycle.errors import ValidationError

__all__ = ["Clock", "ManualClock", "SystemClock"]

_EPOCH: Final = pendulum.DateTime(1970, 1, 1, tzinfo=pendulum.UTC)
_MICROSECOND: Final = _dt.timedelta(microseconds=1)
# The standard library's addition, called directly: it keeps the class and zone of the
# epoch (a UTC ``pendulum.DateTime``) without going through pendulum's Python code.
_add: Final = _dt.datetime.__add__


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current instant, timezone-aware."""

    def now(self) -> pendulum.DateTime:
        """The current instant, in UTC."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> pendulum.DateTime:
        """The current instant, in UTC, to the microsecond (``time.time_ns``: what
        ``pendulum.now("UTC")`` reads, at half its cost)."""
        moment: pendulum.DateTime = _add(_EPOCH, _MICROSECOND * (time.time_ns() // 1000))
        return moment

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that moves only when told: for tests, scripts and the CLI's ``--now``."""

    def __init__(self, start: object = None) -> None:
        self._now = (
            pendulum.datetime(2026, 1, 1, tz="UTC") if start is None else to_instant(start, "start")
        )

    def now(self) -> pendulum.DateTime:
        """The instant the clock was last set to."""
        return self._now

    def set(self, instant: object) -> pendulum.DateTime:
        """Move the clock to ``instant`` (timezone-aware); return it."""
        self._now = to_instant(instant, "instant")
        return self._now

    def advance(self, **units: float) -> pendulum.DateTime:
        """Move the clock forward by pendulum units (``days=7``, ``hours=2``...); return it.

        A result outside the instants the library keeps is a ``ValidationError`` for
        ``units``, and the clock stays where it was.
        """
        given = ", ".join(f"{name}={shown(value)}" for name, value in units.items())
        try:
            moved = self._now.add(**units)  # type: ignore[arg-type]
        except TypeError:  # a unit pendulum does not know, or a value that is no number
            raise ValidationError(
                "units", f"{given}: give whole or decimal numbers of pendulum units (days=2)"
            ) from None
        except (OverflowError, ValueError, ArithmeticError):  # past what ``datetime`` holds
            moved = None
        if moved is None or not MIN_YEAR <= moved.year <= MAX_YEAR:
            raise ValidationError(
                "units",
                f"{given} takes the clock from {self._now.isoformat()} outside the years "
                f"{MIN_YEAR}..{MAX_YEAR}",
            )
        self._now = to_instant(moved, "units")
        return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()!r})"
