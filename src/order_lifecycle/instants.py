"""An instant's stored forms: its ISO 8601 text (documents) and its microseconds since the
epoch (indexed columns, metrics facts), each computed once per instant object.

An order keeps the same instant objects from version to version (``placed_at``, a
delivery's ``at``, a due date...), and every command writes the whole order again: its
document, its facts and its columns. Formatting an aware ``pendulum`` instant costs a
microsecond or more (its time zone's offset is looked up in Python); a recent one is
looked up by identity instead. The caches hold the instants they describe, so an entry
found under ``id(at)`` is ``at``'s own: no other live object has that id while the entry
keeps its instant alive. They are bounded: when full they start again. A UTC instant
met for the first time (a command's "now") is read from its fields, without asking its
zone for the offset (half a microsecond per call, through ``zoneinfo``).

>>> import pendulum
>>> at = pendulum.datetime(2026, 12, 1, 10, 30, tz="UTC")
>>> iso(at), micros(at)
('2026-12-01T10:30:00+00:00', 1796121000000000)
"""

from __future__ import annotations

import datetime as _dt
from typing import Final, overload

import pendulum

__all__ = ["iso", "micros"]

#: Instants remembered per form: a few hundred orders' worth.
SIZE: Final = 2048

_EPOCH: Final = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_EPOCH_DAY: Final = _EPOCH.toordinal()
#: The zones whose offset is always zero, told by identity (pendulum's and the standard one).
_UTC: Final = pendulum.UTC
_STD_UTC: Final = _dt.UTC
_texts: dict[int, tuple[_dt.datetime, str]] = {}
_micros: dict[int, tuple[_dt.datetime, int]] = {}


def iso(at: _dt.datetime) -> str:
    """``at.isoformat()``."""
    hit = _texts.get(id(at))
    if hit is not None:  # its instant is ``at`` (see the module's docstring)
        return hit[1]
    zone = at.tzinfo
    if zone is _UTC or zone is _STD_UTC:
        naive = _dt.datetime(
            at.year, at.month, at.day, at.hour, at.minute, at.second, at.microsecond
        )
        text = naive.isoformat() + "+00:00"
    else:
        text = _dt.datetime.isoformat(at)
    if len(_texts) >= SIZE:
        _texts.clear()
    _texts[id(at)] = (at, text)
    return text


@overload
def micros(at: _dt.datetime) -> int: ...
@overload
def micros(at: None) -> None: ...
@overload
def micros(at: _dt.datetime | None) -> int | None: ...
def micros(at: _dt.datetime | None) -> int | None:
    """Whole microseconds since the Unix epoch (``None`` stays ``None``)."""
    if at is None:
        return None
    hit = _micros.get(id(at))
    if hit is not None:  # its instant is ``at`` (see the module's docstring)
        return hit[1]
    zone = at.tzinfo
    if zone is _UTC or zone is _STD_UTC:
        day = at.toordinal() - _EPOCH_DAY
        seconds = day * 86_400 + (at.hour * 60 + at.minute) * 60 + at.second
        value = seconds * 1_000_000 + at.microsecond
    else:
        # The standard library's subtraction: pendulum's builds an Interval, 20 times slower.
        delta = _dt.datetime.__sub__(at, _EPOCH)
        value = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if len(_micros) >= SIZE:
        _micros.clear()
    _micros[id(at)] = (at, value)
    return value
