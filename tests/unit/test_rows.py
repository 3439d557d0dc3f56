"""Instants and chat entries as the SQL stores write and read them back: same values,
same types (``pendulum.DateTime`` in pendulum's UTC), before 1970 too."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_notices import every_event

from order_lifecycle.adapters.rows import from_micros, micros
from order_lifecycle.core.events import EVENT_TYPES, MessagePosted
from order_lifecycle.core.model import Attachment
from order_lifecycle.views import ChatEntry, entry, entry_from_json, entry_to_json, event_entry_json

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_FIRST = micros(dt.datetime(1, 1, 1, tzinfo=dt.UTC))
_LAST = micros(dt.datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC))
assert _FIRST is not None
assert _LAST is not None

_INSTANTS = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.just(pendulum.UTC),
).map(pendulum.instance)


def _is_utc_instant(value: object) -> None:
    assert type(value) is pendulum.DateTime
    assert value.tzinfo is pendulum.UTC
    assert value.fold == 0


@given(st.integers(min_value=_FIRST, max_value=_LAST))
def test_from_micros_is_the_instant_that_many_microseconds_after_the_epoch(value: int) -> None:
    """Exactly the standard library's sum, as a pendulum UTC instant; ``micros`` inverts it."""
    moment = from_micros(value)
    _is_utc_instant(moment)
    expected = _EPOCH + dt.timedelta(microseconds=value)
    assert moment == expected
    assert dt.datetime.isoformat(moment) == expected.isoformat()
    assert micros(moment) == value


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "1970-01-01T00:00:00+00:00"),
        (1, "1970-01-01T00:00:00.000001+00:00"),
        (-1, "1969-12-31T23:59:59.999999+00:00"),
        (-86_400_000_001, "1969-12-30T23:59:59.999999+00:00"),
        (1_798_761_600_000_000, "2027-01-01T00:00:00+00:00"),
        (_FIRST, "0001-01-01T00:00:00+00:00"),
        (_LAST, "9999-12-31T23:59:59.999999+00:00"),
    ],
)
def test_from_micros_at_the_edges(value: int, shown: str) -> None:
    """The epoch, either side of it, and the first and last representable microseconds."""
    moment = from_micros(value)
    _is_utc_instant(moment)
    assert dt.datetime.isoformat(moment) == shown


@pytest.mark.parametrize("value", [_FIRST - 1, _LAST + 1, 10**30])
def test_from_micros_out_of_range(value: int) -> None:
    """Beyond year 1 or 9999: OverflowError, as the standard library's sum raises."""
    with pytest.raises(OverflowError):
        from_micros(value)


_FILE = Attachment("post.png", 4, "image/png", "0" * 64, "blob:" + "0" * 64)


@given(
    seq=st.integers(min_value=1, max_value=2**62),
    at=_INSTANTS,
    message=st.booleans(),
    text=st.text(),
    files=st.lists(st.just(_FILE), max_size=2),
)
def test_a_stored_entry_reads_back_as_it_was(
    seq: int, at: pendulum.DateTime, message: bool, text: str, files: list[Attachment]
) -> None:
    """``entry_from_json`` undoes ``entry_to_json``: values, and ``at`` a UTC instant."""
    item = ChatEntry(
        seq,
        at,
        "message" if message else "notice",
        "alice" if message else None,
        text,
        tuple(files) if message else (),
    )
    stored = entry_to_json(item)
    back = entry_from_json(stored)
    assert back == item
    _is_utc_instant(back.at)
    assert dt.datetime.isoformat(back.at) == dt.datetime.isoformat(at)
    assert type(back.files) is tuple
    assert all(type(f) is Attachment for f in back.files)
    # Read the way json.loads reads it, whatever whitespace surrounds the document.
    assert entry_from_json(f" \n{stored}\t") == item


def test_an_entry_at_another_offset_reads_back_in_utc() -> None:
    """An instant written at another offset reads back as the same instant, in UTC."""
    stored = json.dumps(
        {
            "seq": 2,
            "at": "2026-12-01T11:30:00.5+01:00",
            "kind": "notice",
            "author": None,
            "text": "x",
            "files": [],
        }
    )
    back = entry_from_json(stored)
    _is_utc_instant(back.at)
    assert back.at == pendulum.datetime(2026, 12, 1, 10, 30, 0, 500_000, tz="UTC")


@pytest.mark.parametrize("text", ["", "{", '{"seq": 1} {}', "[1] x", "\ufeff{}"])
def test_a_damaged_entry_fails_as_json_fails(text: str) -> None:
    """Not one JSON document: the error json.loads raises, with its message."""
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as raised:
        entry_from_json(text)
    assert str(raised.value) == str(expected.value)


def test_the_inserts_name_their_tables_columns_and_fit_the_rows_built_for_them(
    tmp_path: Path,
) -> None:
    """Each INSERT, as data, names columns its table has in the schema a store creates;
    its text is built from that data; and the row builders give one value per column."""
    from order_lifecycle import core
    from order_lifecycle.adapters import rows
    from order_lifecycle.adapters.sqlite import SQLiteStore
    from order_lifecycle.core.model import Listing, Money
    from order_lifecycle.desk.writes import write_for

    store = SQLiteStore(str(tmp_path / "orders.db"))
    conn = sqlite3.connect(tmp_path / "orders.db")
    try:
        for insert in (rows.ORDERS, rows.EVENTS, rows.OUTBOX, rows.PARTICIPANTS, rows.KEYS):
            have = {found[1] for found in conn.execute(f"PRAGMA table_info({insert.table})")}
            assert set(insert.columns) <= have, insert.table
            assert insert.sql.startswith(f"INSERT INTO {insert.table} (")
            assert insert.sql.count("?") == len(insert.columns)
    finally:
        conn.close()
        store.close()
    listing = Listing(
        title="A logo", price=Money(100, "USD"), delivery=pendulum.duration(days=3), revisions=1
    )
    now = pendulum.datetime(2026, 1, 5, 9, tz="UTC")
    write = write_for(
        0, core.place(buyer="b", seller="s", listing=listing, now=now), core.DEFAULT_POLICY
    )
    assert len(rows.order_row(write)) == len(rows.ORDERS.columns)
    assert {len(r) for r in rows.event_rows(write)} == {len(rows.EVENTS.columns)}
    assert {len(r) for r in rows.notification_rows(write.notifications, now)} == {
        len(rows.OUTBOX.columns)
    }
    assert {len(r) for r in rows.participant_rows(write.participants)} == {
        len(rows.PARTICIPANTS.columns)
    }
    assert rows.PARTICIPANTS.sql.endswith(" ON CONFLICT DO NOTHING")


def test_the_stored_entry_of_every_event_kind_is_its_chat_entry() -> None:
    """What a write stores as the inbox's newest entry (``event_entry_json``) is the chat
    entry of the event, in UTC, as ``entry_to_json`` writes it, for every kind of event;
    a message keeps its files and its author."""
    events = every_event()
    assert {e.kind for e in events} == set(EVENT_TYPES)
    message = next(e for e in events if isinstance(e, MessagePosted))
    events.append(attrs.evolve(message, files=(_FILE, _FILE), text=""))
    for event in events:
        stored = event_entry_json(event)
        assert stored == entry_to_json(entry(event))
        assert entry_from_json(stored) == entry(event)
