"""JSON documents for orders and events, with ``cattrs``.

Instants are ISO 8601 strings in UTC with their offset, amounts are decimal strings,
durations are whole microseconds, enums are their values. Events carry their ``kind``.

>>> import pendulum
>>> from order_lifecycle import Money
>>> converter.unstructure(Money("150.00", "USD"))
{'amount': '150.00', 'currency': 'USD'}
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import functools
import json
import types
import typing
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs
import cattrs
import orjson
import pendulum
from cattrs.gen import make_dict_structure_fn
from cattrs.preconf.json import make_converter

from order_lifecycle.core.events import EVENT_TYPES, Event
from order_lifecycle.core.model import (
    Action,
    Actor,
    Listing,
    Money,
    Order,
    Role,
    Timer,
    frozen_answers,
    shared_terms,
)
from order_lifecycle.core.terms import Calendar, Terms
from order_lifecycle.errors import StorageError
from order_lifecycle.instants import iso

__all__ = [
    "compact_json",
    "converter",
    "dump_event",
    "dump_order",
    "event_from_dict",
    "event_to_dict",
    "load_event",
    "load_order",
    "loads",
    "order_from_dict",
    "order_to_dict",
]

converter: Final = make_converter()

_UTC: Final = pendulum.UTC


#: Instants read back, by their text: an order repeats its instants (a delivery's due date
#: is the contract's, its time the order's last change) and is read again and again.
#: Instants are immutable, so one object serves every read. Bounded: when full it starts
#: again.
_INSTANTS_READ: dict[str, pendulum.DateTime] = {}
_INSTANTS_READ_SIZE: Final = 4096


def _instant(value: str, _: object) -> pendulum.DateTime:
    found = _INSTANTS_READ.get(value) if type(value) is str else None
    if found is not None:
        return found
    parsed = _dt.datetime.fromisoformat(value)
    instant = pendulum.DateTime(
        parsed.year,
        parsed.month,
        parsed.day,
        parsed.hour,
        parsed.minute,
        parsed.second,
        parsed.microsecond,
        tzinfo=_UTC,
    )
    if len(_INSTANTS_READ) >= _INSTANTS_READ_SIZE:
        _INSTANTS_READ.clear()
    _INSTANTS_READ[value] = instant
    return instant


_iso: Final = iso


converter.register_unstructure_hook(pendulum.DateTime, _iso)
converter.register_structure_hook(pendulum.DateTime, _instant)
converter.register_unstructure_hook(
    pendulum.Duration, lambda d: d.days * 86_400_000_000 + d.seconds * 1_000_000 + d.microseconds
)
converter.register_structure_hook(
    pendulum.Duration, lambda v, _: pendulum.duration(microseconds=int(v))
)
converter.register_unstructure_hook(decimal.Decimal, str)
converter.register_structure_hook(decimal.Decimal, lambda v, _: decimal.Decimal(v))
converter.register_unstructure_hook(MappingProxyType, dict)
converter.register_structure_hook_func(
    lambda t: t == Mapping[str, str], lambda v, _: frozen_answers(v)
)


@functools.lru_cache(maxsize=65_536)
def _actor(user: str, role: str) -> Actor:
    # Stored actors were checked when they acted; one object per (id, role) is enough.
    return Actor(user, Role(role))


converter.register_structure_hook(Actor, lambda data, _: _actor(data["id"], data["role"]))


def _action(value: str, _: object) -> Action | Timer:
    try:
        return Action(value)
    except ValueError:
        return Timer(value)


converter.register_structure_hook_func(lambda t: t == (Action | Timer), _action)
converter.register_structure_hook(_dt.date, lambda v, _: _dt.date.fromisoformat(v))


def _calendar(calendar: Calendar) -> dict[str, Any]:
    # Sets in a stable order, so that equal calendars are equal documents.
    return {
        "zone": calendar.zone,
        "workdays": sorted(calendar.workdays),
        "holidays": [day.isoformat() for day in sorted(calendar.holidays)],
    }


converter.register_unstructure_hook(Calendar, _calendar)

#: The attrs classes given a hook of their own above (not the fields-as-keys default).
_OWN_HOOKS: Final = frozenset({Calendar})
#: The attrs classes read by a structure hook of their own (registered in this module):
#: the generated decoders call it instead of reading their fields.
_OWN_READERS: Final = frozenset({Actor, Listing, Money, Terms})


@functools.cache
def _terms_hook() -> Callable[[Any, Any], Any]:
    return make_dict_structure_fn(Terms, converter)


_TERMS_READ: dict[bytes, Terms] = {}


def _terms(data: Any, _: object) -> Terms:
    # Orders placed under one policy share its terms: one object for all of them. The
    # documents' own text of the terms is the key (the converter always writes the same
    # fields in the same order; another order only misses the cache).
    try:
        key = orjson.dumps(data)
    except (orjson.JSONEncodeError, TypeError):  # not a document orjson writes: not kept
        return shared_terms(_terms_hook()(data, Terms))
    terms = _TERMS_READ.get(key)
    if terms is None:
        if len(_TERMS_READ) > 1024:
            _TERMS_READ.clear()
        terms = _TERMS_READ[key] = shared_terms(_terms_hook()(data, Terms))
    return terms


converter.register_structure_hook(Terms, _terms)


@functools.cache
def _listing_hook() -> Callable[[Any, Any], Any]:
    return make_dict_structure_fn(Listing, converter)


_LISTINGS_READ: dict[bytes, Listing] = {}


def _listing(data: Any, _: object) -> Listing:
    # Orders of one listing share one (immutable) object: reading it back checks its title,
    # parses its price and builds its duration, about a third of reading an order. The
    # document's own listing is the key, as for the terms.
    try:
        key = orjson.dumps(data)
    except (orjson.JSONEncodeError, TypeError):  # not a document orjson writes: not kept
        return _listing_hook()(data, Listing)  # type: ignore[no-any-return]
    listing = _LISTINGS_READ.get(key)
    if listing is None:
        if len(_LISTINGS_READ) > 1024:
            _LISTINGS_READ.clear()
        listing = _LISTINGS_READ[key] = _listing_hook()(data, Listing)
    return listing


converter.register_structure_hook(Listing, _listing)


@functools.cache
def _money_hook() -> Callable[[Any, Any], Any]:
    return make_dict_structure_fn(Money, converter)


_MONEY_READ: dict[tuple[str, str], Money] = {}


def _money(data: Any, _: object) -> Money:
    # A contract's price is read with every order: one (immutable) object per amount and
    # currency, checked once. Only the documents the library writes (two texts) are kept.
    if type(data) is dict and len(data) == 2:
        amount, currency = data.get("amount"), data.get("currency")
        if type(amount) is str and type(currency) is str:
            found = _MONEY_READ.get((amount, currency))
            if found is None:
                if len(_MONEY_READ) > 1024:
                    _MONEY_READ.clear()
                found = _MONEY_READ[amount, currency] = _money_hook()(data, Money)
            return found
    return _money_hook()(data, Money)  # type: ignore[no-any-return]


converter.register_structure_hook(Money, _money)


# -- compiled encoders -------------------------------------------------------------
#
# What ``converter.unstructure`` writes for an attrs class, as one generated function per
# class: each field's conversion is chosen once from its declared type (an instant's
# ``isoformat``, an enum's value, a nested class's own encoder...) instead of through
# cattrs' per-value dispatch, several times faster on the write path. A type it does not
# know goes through the converter's own hook, so the output is the converter's, field by
# field, values and their types (tests/unit/test_serde_encoders.py compares both on every
# kind of order and event). The encoders read the converter's hooks when they are made, on
# first use: a hook registered on ``converter`` later does not reach them, and a class
# given a hook of its own here must be listed in ``_OWN_HOOKS``.

_PLAIN: Final = (str, int, bool, float)


def _expression(kind: Any, value: str, names: dict[str, Any], parts: bool = False) -> str:
    """Python source converting ``value`` (an expression) of declared type ``kind``."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if kind in _PLAIN or origin is typing.Literal:
        return value
    if origin in (types.UnionType, typing.Union):
        present = [a for a in args if a is not type(None)]
        if len(present) < len(args):  # optional
            inner = present[0] if len(present) == 1 else typing.Union[tuple(present)]  # noqa: UP007
            return f"(None if {value} is None else {_expression(inner, value, names, parts)})"
        if all(isinstance(a, type) and issubclass(a, enum.Enum) for a in present):
            return (
                value if parts or all(issubclass(a, str) for a in present) else f"{value}._value_"
            )
    elif isinstance(kind, type):
        if kind is pendulum.DateTime:
            return f"_iso({value})"
        if kind is pendulum.Duration:
            return f"_duration({value})"
        if kind is decimal.Decimal:
            return f"str({value})"
        if issubclass(kind, enum.Enum):
            # As the converter: a string enum is a string already (orjson writes any enum
            # as its value); another enum, its value.
            return value if parts or issubclass(kind, str) else f"{value}._value_"
        if attrs.has(kind) and kind not in _OWN_HOOKS:
            name = f"_encode_{kind.__name__}_{id(kind):x}"
            names[name] = _encoder(kind)
            return f"_part({name}, {value})" if parts else f"{name}({value})"
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _expression(args[0], "x", names, parts)
        return f"list({value})" if item == "x" else f"[{item} for x in {value}]"
    if origin is Mapping and args == (str, str):
        return f"dict({value})"
    name = f"_hook_{len(names)}"
    names[name] = converter.get_unstructure_hook(kind)
    return f"{name}({value})"


def _duration(value: _dt.timedelta) -> int:
    return value.days * 86_400_000_000 + value.seconds * 1_000_000 + value.microseconds


#: Parts of documents (a listing, terms, a delivery...) as JSON, by the part object.
_PARTS: dict[int, tuple[object, orjson.Fragment]] = {}
_PARTS_SIZE: Final = 4096


def _part(encode: Callable[[Any], dict[str, Any]], value: object) -> orjson.Fragment:
    """``value`` (an immutable attrs object) as a JSON fragment, written once per object:
    an order keeps its listing, terms, contract and deliveries from version to version."""
    hit = _PARTS.get(id(value))
    if hit is not None:  # the entry keeps its object alive: no other object has its id
        return hit[1]
    fragment = orjson.Fragment(orjson.dumps(encode(value)))
    if len(_PARTS) >= _PARTS_SIZE:
        _PARTS.clear()
    _PARTS[id(value)] = (value, fragment)
    return fragment


_ENCODERS: dict[tuple[type, bool], Callable[[Any], dict[str, Any]]] = {}


def _encoder(cls: type, parts: bool = False) -> Callable[[Any], dict[str, Any]]:
    """The generated encoder of attrs class ``cls`` (made once). With ``parts``, its
    nested attrs objects are JSON fragments (for ``orjson.dumps`` only)."""
    found = _ENCODERS.get((cls, parts))
    if found is not None:
        return found
    hints = typing.get_type_hints(cls)
    names: dict[str, Any] = {"_iso": _iso, "_duration": _duration, "_part": _part}
    body = ", ".join(
        f"{f.name!r}: {_expression(hints[f.name], 'o.' + f.name, names, parts)}"
        for f in attrs.fields(cls)
    )
    source = f"def encode(o):\n    return {{{body}}}\n"
    exec(compile(source, f"<order_lifecycle encoder {cls.__name__}>", "exec"), names)  # noqa: S102 - generated from the class's own fields
    encode: Callable[[Any], dict[str, Any]] = names["encode"]
    _ENCODERS[cls, parts] = encode
    return encode


# -- compiled decoders -------------------------------------------------------------
#
# What ``converter.structure`` builds from a document, as one generated function per attrs
# class, the encoders' mirror: each field read with the conversion cattrs chooses for its
# declared type (``str(v)``, ``int(v)``, an enum's member, an instant parsed, a nested
# class's own decoder, a tuple's items each converted, ``None`` kept for an optional
# field), and a field missing from the document left to its default, as cattrs does. A
# type it does not inline goes through the converter's own hook (the listing and terms
# shared between orders, the answers, durations, amounts...). So the result is the
# converter's, object for object (tests/unit/test_serde_decoders.py compares both on every
# kind of order and event, and on documents written by earlier releases); a damaged
# document fails with the first error it meets where cattrs gathers them all (both
# become ``StorageError``). Without cattrs' generic dispatch per optional field and per
# tuple, and with instants and prices shared between reads (``_instant``, ``_money``), an
# order's document reads back in 20 µs instead of 33 (``json.loads`` included).


def _decoding(kind: Any, value: str, names: dict[str, Any]) -> str:
    """Python source reading ``value`` (an expression, evaluated once) as type ``kind``."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (types.UnionType, typing.Union) and type(None) in args:
        present = [a for a in args if a is not type(None)]
        if len(present) == 1:
            inner = _decoding(present[0], "_x", names)
            if inner == "_x":
                return value
            return f"(None if (_x := {value}) is None else {inner})"
    if kind in _PLAIN:
        name = f"_{kind.__name__}"
        names[name] = kind
        return f"{name}({value})"
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        name = f"_enum_{kind.__name__}_{id(kind):x}"
        names[name] = kind
        return f"{name}({value})"
    if kind is pendulum.DateTime:
        return f"_instant({value}, None)"
    if isinstance(kind, type) and attrs.has(kind) and kind not in _OWN_READERS:
        name = f"_decode_{kind.__name__}_{id(kind):x}"
        names[name] = _decoder(kind)
        return f"{name}({value})"
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _decoding(args[0], "_i", names)
        return f"tuple([{item} for _i in {value}])"
    hook = f"_hook_{len(names)}"
    kind_name = f"_kind_{len(names)}"
    names[hook] = converter.get_structure_hook(kind)
    names[kind_name] = kind
    return f"{hook}({value}, {kind_name})"


_DECODERS: dict[type, Callable[[Any], Any]] = {}


def _decoder(cls: type) -> Callable[[Any], Any]:
    """The generated decoder of attrs class ``cls`` (made once)."""
    found = _DECODERS.get(cls)
    if found is not None:
        return found
    hints = typing.get_type_hints(cls)
    names: dict[str, Any] = {"_cls": cls, "_instant": _instant}
    lines = ["def decode(o):"]
    fields = [f for f in attrs.fields(cls) if f.init]
    required = [f for f in fields if f.default is attrs.NOTHING]
    lines.append(
        "    r = {"
        + ", ".join(
            f"{f.alias!r}: {_decoding(hints[f.name], f'o[{f.name!r}]', names)}" for f in required
        )
        + "}"
    )
    for f in fields:
        if f.default is not attrs.NOTHING:
            read = _decoding(hints[f.name], f"o[{f.name!r}]", names)
            lines.append(f"    if {f.name!r} in o:")
            lines.append(f"        r[{f.alias!r}] = {read}")
    lines.append("    return _cls(**r)")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<order_lifecycle decoder {cls.__name__}>", "exec"), names)  # noqa: S102 - generated from the class's own fields
    decode: Callable[[Any], Any] = names["decode"]
    _DECODERS[cls] = decode
    return decode


# Generated on first use: doing it at import would slow the import.
@functools.cache
def _order_hooks() -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    return _encoder(Order), _decoder(Order)


@functools.cache
def _event_hooks(kind: str) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    cls = EVENT_TYPES[kind]
    return _encoder(cls), _decoder(cls)


def order_to_dict(order: Order) -> dict[str, Any]:
    """The order as a JSON-ready dict."""
    result: dict[str, Any] = _order_hooks()[0](order)
    return result


def order_from_dict(data: Mapping[str, Any]) -> Order:
    """The order back from :func:`order_to_dict`'s output."""
    try:
        order: Order = _order_hooks()[1](data)
    except (cattrs.BaseValidationError, KeyError, ValueError, TypeError) as error:
        raise StorageError(f"A stored order could not be read back: {error}") from error
    return order


def event_to_dict(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready dict with its ``kind``."""
    data: dict[str, Any] = _event_hooks(event.kind)[0](event)
    data["kind"] = event.kind
    return data


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """The event back from :func:`event_to_dict`'s output."""
    try:
        kind = data["kind"]
        body = {k: v for k, v in data.items() if k != "kind"}
        event: Event = _event_hooks(kind)[1](body)
    except (cattrs.BaseValidationError, KeyError, ValueError, TypeError) as error:
        raise StorageError(f"A stored event could not be read back: {error}") from error
    return event


def compact_json(data: Any) -> str:
    """``data`` (JSON-ready) as compact JSON text, non-ASCII characters as themselves:
    what ``json.dumps(data, separators=(",", ":"), ensure_ascii=False)`` writes.

    ``orjson`` writes it several times faster; what it refuses (a lone surrogate, an
    integer beyond 64 bits) the standard library writes."""
    try:
        return orjson.dumps(data).decode()
    except orjson.JSONEncodeError:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def dump_order(order: Order) -> str:
    """The order as a compact JSON text."""
    try:
        return orjson.dumps(_encoder(Order, parts=True)(order)).decode()
    except orjson.JSONEncodeError:  # what orjson refuses: see compact_json
        return compact_json(order_to_dict(order))


#: Bytes as digits (``0``) or not (a space): a document's numbers as runs of ``0``.
_DIGITS: Final = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
#: A run of 19 digits: an integer that may not fit in 64 bits.
_LONG_RUN: Final = b"0" * 19


def loads(text: str | bytes) -> Any:
    """``json.loads(text)``: what the stored documents are read with.

    ``orjson`` reads a document in two fifths of the instructions. It refuses what it
    cannot read exactly (a lone surrogate, ``NaN``, text in UTF-16...), which the
    standard library then reads or refuses with its own error; but it reads an integer
    beyond 64 bits as a float, so a document with a run of 19 digits anywhere goes to the
    standard library too (found in C: ``bytes.translate`` and ``find``; a regular
    expression would cost more than the parse)."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if raw.translate(_DIGITS).find(_LONG_RUN) < 0:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def load_order(text: str | bytes) -> Order:
    """The order from :func:`dump_order`'s text."""
    return order_from_dict(loads(text))


def dump_event(event: Event) -> str:
    """The event as a compact JSON text."""
    return compact_json(event_to_dict(event))


def load_event(text: str | bytes) -> Event:
    """The event from :func:`dump_event`'s text."""
    return event_from_dict(loads(text))
