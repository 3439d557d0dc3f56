"""The generated decoders read what the ``cattrs`` converter reads: the same objects, with
every attribute of the same type, from the documents of today's orders and events, from
documents written by earlier releases, and damaged documents fail as ``StorageError``."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_notices import every_event, seed_story
from test_serde_encoders import CALENDAR_POLICY, LISTING, T0

from order_lifecycle import Money, Policy, core, serde
from order_lifecycle.core.events import EVENT_TYPES
from order_lifecycle.core.model import Order
from order_lifecycle.errors import StorageError
from order_lifecycle.testing import strategies
from order_lifecycle.testing.paths import POLICY

FIXTURES = Path(__file__).parent.parent / "fixtures"


def shape(value: Any) -> Any:
    """``value`` as nested (type, ...) tuples: attrs objects field by field, containers item
    by item, so two values compare equal only with the same types all the way down (``==``
    takes ``True`` for ``1`` and a string enum for its string)."""
    kind = type(value)
    if attrs.has(kind):
        return (kind, tuple(shape(getattr(value, f.name)) for f in attrs.fields(kind)))
    if isinstance(value, (tuple, list, frozenset, set)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return (type(value), tuple(shape(v) for v in items))
    if isinstance(value, dict) or type(value).__name__ == "mappingproxy":
        return (type(value), tuple((k, shape(v)) for k, v in sorted(value.items())))
    return (type(value), repr(value))


def test_every_event_kind_reads_back_as_the_converter_reads_it() -> None:
    events = every_event()
    assert {e.kind for e in events} == set(EVENT_TYPES)
    for event in events:
        document = json.loads(serde.dump_event(event))
        body = {k: v for k, v in document.items() if k != "kind"}
        expected = serde.converter.structure(body, EVENT_TYPES[event.kind])
        found = serde.event_from_dict(document)
        assert shape(found) == shape(expected) == shape(event)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([POLICY, CALENDAR_POLICY, Policy()]).flatmap(
        lambda policy: strategies.orders(policy=policy)
    )
)
def test_orders_read_back_as_the_converter_reads_them(order: Order) -> None:
    document = json.loads(serde.dump_order(order))
    expected = serde.converter.structure(document, Order)
    assert shape(serde.order_from_dict(document)) == shape(expected) == shape(order)


def _stored_documents(fixture: Path, folder: Path) -> list[tuple[str, str]]:
    path = folder / fixture.name  # a copy: opening a WAL database writes beside it
    shutil.copyfile(fixture, path)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        orders = [("order", doc) for (doc,) in conn.execute("SELECT doc FROM orders")]
        events = [("event", doc) for (doc,) in conn.execute("SELECT doc FROM events")]
    return orders + events


@pytest.mark.parametrize("fixture", ["release_0_1.sqlite3", "orders-schema-3.sqlite3"])
def test_documents_of_earlier_releases_read_as_the_converter_reads_them(
    fixture: str, tmp_path: Path
) -> None:
    """Documents that lack the fields added since: each read with its defaults, as the
    converter reads it."""
    documents = _stored_documents(FIXTURES / fixture, tmp_path)
    assert {kind for kind, _ in documents} == {"order", "event"}
    for kind, text in documents:
        data = json.loads(text)
        if kind == "order":
            order = serde.converter.structure(data, Order)
            assert shape(serde.order_from_dict(data)) == shape(order)
        else:
            body = {k: v for k, v in data.items() if k != "kind"}
            event = serde.converter.structure(body, EVENT_TYPES[data["kind"]])
            assert shape(serde.event_from_dict(data)) == shape(event)


def _order_document() -> dict[str, Any]:
    return dict(json.loads(serde.dump_order(seed_story().order)))


def _event_document() -> dict[str, Any]:
    delivered = next(e for e in every_event() if e.kind == "content_delivered")
    return dict(json.loads(serde.dump_event(delivered)))


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("buyer"),
        lambda d: d.update(state="lost"),
        lambda d: d.update(placed_at="yesterday"),
        lambda d: d.update(deliveries=[{"at": None}]),
        lambda d: d.update(contract=None),
        lambda d: d.update(version=[]),
        lambda d: d.update(listing="a listing"),
        lambda d: d.update(agents=5),
    ],
)
def test_a_damaged_order_document_is_a_storage_error(damage: Any) -> None:
    document = _order_document()
    damage(document)
    with pytest.raises(StorageError, match="A stored order could not be read back"):
        serde.order_from_dict(document)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("order_id"),
        lambda d: d.update(seq="one"),
        lambda d: d.update(kind="order_lost"),
        lambda d: d.update(actor={"id": "bob"}),
        lambda d: d.update(files=[{"name": "post.png"}]),
        lambda d: d.update(action="fly"),
    ],
)
def test_a_damaged_event_document_is_a_storage_error(damage: Any) -> None:
    document = _event_document()
    damage(document)
    with pytest.raises(StorageError, match="A stored event could not be read back"):
        serde.event_from_dict(document)


def test_values_convert_as_the_converter_converts_them() -> None:
    """A field of another JSON type than written is converted as cattrs converts it
    (``int("7")``, ``str(5)``), not refused or passed through."""
    document = _order_document()
    document.update(version="7", revisions_used=1.0, lifecycle=3)
    expected = serde.converter.structure(document, Order)
    found = serde.order_from_dict(document)
    assert shape(found) == shape(expected)
    assert (found.version, found.revisions_used, found.lifecycle) == (7, 1, "3")


def test_equal_prices_and_instants_read_back_as_one_object_each() -> None:
    """Read back, equal contract prices share one ``Money`` and equal instants one
    ``DateTime``; different ones stay apart, and every order reads back equal."""
    first = core.place(buyer="alice", seller="bob", listing=LISTING, now=T0).order
    second = core.place(buyer="carol", seller="bob", listing=LISTING, now=T0).order
    cheaper = attrs.evolve(LISTING, price=Money("99.00", "USD"))
    later = T0.add(minutes=1)
    third = core.place(buyer="dan", seller="bob", listing=cheaper, now=later).order
    loaded = [serde.load_order(serde.dump_order(o)) for o in (first, second, third)]
    assert loaded == [first, second, third]
    assert loaded[0].contract.price is loaded[1].contract.price
    assert loaded[2].contract.price is not loaded[0].contract.price
    assert loaded[0].placed_at is loaded[1].placed_at is loaded[0].updated_at
    assert loaded[2].placed_at is not loaded[0].placed_at
    assert type(loaded[0].placed_at) is pendulum.DateTime
    assert loaded[0].placed_at.tzinfo is pendulum.UTC


@pytest.mark.parametrize(
    "price",
    [{"amount": 5, "currency": "USD"}, {"amount": "5"}, {"amount": "5.0", "currency": "USD"}],
)
def test_a_price_written_otherwise_reads_as_the_converter_reads_it(price: Any) -> None:
    """Converted as the class converts it (a number, the default currency), not kept."""
    document = _order_document()
    document["contract"] = {**document["contract"], "price": price}
    found = serde.order_from_dict(document)
    assert shape(found) == shape(serde.converter.structure(document, Order))
    assert found.contract.price == Money("5", "USD")


def test_a_price_the_currency_refuses_is_a_storage_error() -> None:
    document = _order_document()
    document["contract"] = {**document["contract"], "price": {"amount": "1.005", "currency": "USD"}}
    with pytest.raises(StorageError, match="could not be read back"):
        serde.order_from_dict(document)
    document["contract"]["price"] = {"amount": "1.00", "currency": "USD"}
    assert serde.order_from_dict(document).contract.price == Money("1", "USD")


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _typed(data: Any) -> Any:
    if isinstance(data, dict):
        return ("dict", {k: _typed(v) for k, v in data.items()})
    if isinstance(data, list):
        return ("list", [_typed(v) for v in data])
    return (type(data), repr(data))  # repr: NaN is not equal to itself


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES, st.booleans(), st.booleans())
def test_documents_read_as_the_standard_library_reads_them(
    value: Any, ascii_only: bool, as_bytes: bool
) -> None:
    """``serde.loads`` is ``json.loads``: the same values of the same types, for whatever
    ``json.dumps`` writes (lone surrogates, integers beyond 64 bits, NaN included), as
    text or as UTF-8 bytes."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    if as_bytes:
        try:
            document: str | bytes = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 bytes for it
            return
    else:
        document = text
    assert _typed(serde.loads(document)) == _typed(json.loads(document))


@pytest.mark.parametrize(
    "document",
    [
        '"\\ud800"',
        "[1e400, -1e400]",
        "NaN",
        "18446744073709551616",
        "-9223372036854775809",
        "9223372036854775807",
        '{"delivery": 86399999999999999999, "note": "x"}',
        '{"a": "1234567890123456789", "b": 1}',
        "[0.1234567890123456789]",
        '{"a": 1, "a": 2}',
        " \n\t{}\n ",
        '{"a": 1}'.encode("utf-16"),
        '{"a": "é"}'.encode("utf-32"),
        '{"a": "é"}'.encode(),
    ],
)
def test_what_orjson_would_read_otherwise_is_read_by_the_standard_library(
    document: str | bytes,
) -> None:
    assert _typed(serde.loads(document)) == _typed(json.loads(document))


@pytest.mark.parametrize(
    "document",
    ["", "{", '{"a": 1} {}', "\ufeff{}", b"\xff\xfe{", b'"\\ud800"\xff', "[" * 2000 + "]" * 2000],
)
def test_a_document_json_loads_refuses_is_refused_alike(document: str | bytes) -> None:
    with pytest.raises((ValueError, RecursionError)) as expected:
        json.loads(document)
    with pytest.raises(type(expected.value)) as found:
        serde.loads(document)
    assert str(found.value) == str(expected.value)
