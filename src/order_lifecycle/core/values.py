"""Checked conversions at the boundary: instants, durations, texts, ids and money amounts.

Everything that crosses into the core passes through one of these functions, which
either return a normalised value or raise :class:`~order_lifecycle.errors.ValidationError`
naming the field. They are pure: no clock reads, no I/O.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import functools
import re
from typing import Final

import pendulum

from order_lifecycle.errors import ValidationError

__all__ = [
    "CURRENCY_MINOR_UNITS",
    "MAX_ID_CHARS",
    "check_count",
    "check_id",
    "check_text",
    "human_instant",
    "human_relative",
    "shift",
    "shown",
    "to_amount",
    "to_duration",
    "to_instant",
]

UTC: Final = pendulum.UTC
MAX_ID_CHARS: Final = 200
#: The longest duration the library accepts for a window or a delivery time.
MAX_DURATION: Final = _dt.timedelta(days=3660)
#: Instants outside these years are refused: they are typos, and they overflow arithmetic.
MIN_YEAR: Final = 1970
MAX_YEAR: Final = 9000

# ISO 4217 active codes and their minor units (decimal places). Funds and precious
# metals are left out on purpose: a service order is priced in a currency.
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN "
    "BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB "
    "EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS "
    "KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN "
    "MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD "
    "SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS "
    "UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)
CURRENCY_MINOR_UNITS: Final[dict[str, int]] = {
    **dict.fromkeys(_TWO.split(), 2),
    **dict.fromkeys(_ZERO.split(), 0),
    **dict.fromkeys(_THREE.split(), 3),
    **dict.fromkeys(_FOUR.split(), 4),
}

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ID_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f\ud800-\udfff]")
# What a text must not hold: C0 and C1 control characters other than tab, newline and
# carriage return, and unpaired surrogates (told apart only when one is found).
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def check_zone(tz: object) -> str:
    """``tz`` if it names an IANA time zone, else ``ValidationError`` (checked once per name)."""
    if not isinstance(tz, str):
        raise ValidationError("tz", "must be an IANA time zone name such as Europe/Paris")
    return _known_zone(tz)


#: How much of a value an error message shows.
SHOWN_CHARS: Final = 60


def shown(value: object) -> str:
    """``value`` as an error message shows it: its ``repr``, cut to ``SHOWN_CHARS``. A
    value has no ``repr`` to show when it is an int past Python's digit limit for text,
    or its ``__repr__`` fails: then its type (and an int's length) stands for it."""
    if isinstance(value, int) and value.bit_length() > 4 * SHOWN_CHARS:
        # Counted from the bit length (``str`` refuses ints past 4,300 digits): the
        # estimate is the count or one more.
        digits = int(value.bit_length() * 0.30102999566398120) + 1
        if abs(value) < 10 ** (digits - 1):
            digits -= 1
        return f"an int of {digits:,} digits"
    try:
        text = repr(value)
    except Exception:  # nothing to show of it but its type; the message says what is wrong
        return f"a {type(value).__name__}"
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


@functools.lru_cache(maxsize=64)
def _known_zone(tz: str) -> str:
    if tz == "UTC":
        return tz
    try:
        pendulum.timezone(tz)
    except Exception:
        raise ValidationError("tz", f"{shown(tz)} is not a known IANA time zone") from None
    return tz


def check_text(
    field: str, value: object, *, max_chars: int, required: bool = True, multiline: bool = True
) -> str:
    """Return ``value`` as a clean text, or raise ``ValidationError`` naming ``field``.

    A required text must hold something other than white space. Control characters
    (but tab and newlines) and unpaired surrogates are refused: they cannot be stored
    or shown safely.
    """
    if not isinstance(value, str):
        raise ValidationError(field, f"must be text, not {type(value).__name__}")
    if _UNSAFE.search(value) is not None:
        if _SURROGATE.search(value):
            raise ValidationError(field, "contains an unpaired surrogate; send valid Unicode text")
        raise ValidationError(field, "contains control characters; remove them")
    if not multiline and ("\n" in value or "\r" in value):
        raise ValidationError(field, "contains control characters; remove them")
    if required and not value.strip():
        raise ValidationError(field, "must not be empty")
    if len(value) > max_chars:
        raise ValidationError(
            field, f"is {len(value):,} characters long; the limit is {max_chars:,}"
        )
    return value


def check_id(field: str, value: object) -> str:
    """Return a user or order id: 1 to 200 printable characters without spaces."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a text id, not {type(value).__name__}")
    if not value:
        raise ValidationError(field, "must not be empty")
    if len(value) > MAX_ID_CHARS:
        raise ValidationError(field, f"is longer than {MAX_ID_CHARS} characters")
    if _ID_FORBIDDEN.search(value):
        raise ValidationError(field, "must not contain spaces, control characters or surrogates")
    return value


def check_count(field: str, value: object, *, minimum: int = 0, maximum: int = 1000) -> int:
    """Return a whole number within ``minimum..maximum`` (``bool`` is refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"must be a whole number, not {type(value).__name__}")
    if not minimum <= value <= maximum:
        raise ValidationError(field, f"must be between {minimum} and {maximum}, not {shown(value)}")
    return value


def to_instant(value: object, field: str = "now") -> pendulum.DateTime:
    """Return a timezone-aware instant as a UTC ``pendulum.DateTime``.

    Accepts an aware ``datetime`` (pendulum's included) or an ISO 8601 string with an
    offset. A naive ``datetime``, or a string without an offset, is refused: guessing
    its zone is how deadlines end up hours off.
    """
    if type(value) is pendulum.DateTime and value.tzinfo is UTC:
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = _dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(
                field, f"{shown(value)} is not an ISO 8601 instant (e.g. 2026-12-01T10:00:00+00:00)"
            ) from None
        value = parsed
    if not isinstance(value, _dt.datetime):
        raise ValidationError(
            field, f"must be a timezone-aware datetime, not {type(value).__name__}"
        )
    try:
        offset = value.utcoffset()
    except (ValueError, TypeError, OverflowError) as error:  # a tzinfo datetime refuses
        raise ValidationError(
            field, f"has a time zone whose offset is unusable ({error})"
        ) from None
    if value.tzinfo is None or offset is None:
        raise ValidationError(
            field, "has no time zone; give an aware datetime or an ISO 8601 string with an offset"
        )
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(field, f"year {value.year} is outside {MIN_YEAR}..{MAX_YEAR}")
    utc = value.astimezone(_dt.UTC)
    return pendulum.DateTime(
        utc.year,
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second,
        utc.microsecond,
        tzinfo=UTC,
    )


def to_duration(value: object, field: str, *, allow_zero: bool = False) -> pendulum.Duration:
    """Return a positive ``pendulum.Duration`` from a Duration or a ``timedelta``."""
    if isinstance(value, bool) or not isinstance(value, _dt.timedelta):
        raise ValidationError(
            field, f"must be a pendulum.Duration or datetime.timedelta, not {type(value).__name__}"
        )
    if isinstance(value, pendulum.Duration) and (value.years or value.months):
        raise ValidationError(field, "must be given in weeks, days, hours or smaller units")
    if value < _dt.timedelta(0) or (value == _dt.timedelta(0) and not allow_zero):
        raise ValidationError(field, "must be longer than zero")
    if value > MAX_DURATION:
        raise ValidationError(field, f"must be at most {MAX_DURATION.days} days")
    return _duration(value.days, value.seconds, value.microseconds)


@functools.lru_cache(maxsize=4096)
def _duration(days: int, seconds: int, microseconds: int) -> pendulum.Duration:
    # A pendulum Duration carries ~700 bytes of bookkeeping; equal durations are one
    # shared (immutable) object, so a listing snapshot per order costs nothing extra.
    return pendulum.duration(days=days, seconds=seconds, microseconds=microseconds)


def to_amount(value: object, field: str) -> decimal.Decimal:
    """Return a finite ``Decimal`` from ``str``, ``int`` or ``Decimal``; floats are refused."""
    if isinstance(value, (bool, float)):
        raise ValidationError(
            field, "must be a Decimal, an int or a decimal string; floats lose cents"
        )
    if isinstance(value, int):
        amount = _decimal(value)
    elif isinstance(value, decimal.Decimal):
        amount = value
    elif isinstance(value, str):
        try:
            amount = _decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValidationError(field, f"{shown(value)} is not a decimal amount") from None
    else:
        raise ValidationError(field, f"must be a decimal amount, not {type(value).__name__}")
    if not amount.is_finite():
        raise ValidationError(field, "must be a finite amount, not NaN or Infinity")
    # Look at the exponent before any arithmetic: 1e999999999 overflows the context.
    if amount and not -20 <= amount.adjusted() < 15:
        raise ValidationError(field, "is out of range (at most 15 digits, 20 decimals)")
    return amount


@functools.lru_cache(maxsize=4096)
def _decimal(value: str | int) -> decimal.Decimal:
    # The same price text is one shared (immutable) Decimal.
    return decimal.Decimal(value)


_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = (
    *("Jan", "Feb", "Mar", "Apr", "May", "Jun"),
    *("Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
)


@functools.lru_cache(maxsize=4096)
def human_instant(at: _dt.datetime, tz: str = "UTC", *, year: bool = True) -> str:
    """``Tue 1 Dec 2026 10:00 UTC``: an instant as a person reads it, in zone ``tz``.

    pendulum's ``format("ddd D MMM YYYY HH:mm zz")`` in English, written out: the
    formatter parses its pattern on every call and costs more than the rest of a notice.
    """
    zone = at.tzinfo
    if tz == "UTC" and (zone is pendulum.UTC or zone is _dt.UTC):
        local, name = at, "UTC"  # already there: no conversion (the stored chat's case)
    else:
        local = pendulum.instance(at).in_timezone(tz)
        name = str(local.tzname())
    day = f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"
    clock = f"{local.hour:02d}:{local.minute:02d} {name}"
    return f"{day} {local.year} {clock}" if year else f"{day} {clock}"


def human_relative(at: _dt.datetime, now: _dt.datetime) -> str:
    """``in 6 days 23 hours`` / ``2 hours ago``: ``at`` relative to ``now``, in words.

    The two largest units, never rounded up: a deadline in 6 days 23 hours is not "in 7
    days".
    """
    delta = at - now if at >= now else now - at
    if delta < _dt.timedelta(minutes=1):
        return "now"
    whole = _dt.timedelta(seconds=int(delta.total_seconds()) // 60 * 60)
    words = pendulum.duration(seconds=whole.total_seconds()).in_words(locale="en").split(" ")
    short = " ".join(words[:4])
    return f"in {short}" if at >= now else f"{short} ago"


def shift(at: pendulum.DateTime, by: _dt.timedelta) -> pendulum.DateTime:
    """``at + by`` for a UTC instant and a fixed-length duration.

    Durations here never hold months or years (``to_duration`` refuses them) and instants
    are UTC, so the standard library's exact addition gives pendulum's answer at a
    thirtieth of the cost; the result is still a ``pendulum.DateTime``.
    """
    result: pendulum.DateTime = _dt.datetime.__add__(at, by)
    return result
