"""The CLI's tables at 60, 80 and 120 columns: every line fits, the essential values show
whole in their row, what is left out is said, and people's text is never read as markup."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
from rich.cells import cell_len

from order_lifecycle import BuyerRequest, Conversation, Listing, ManualClock, Money, OrderDesk
from order_lifecycle.cli import main
from order_lifecycle.stories import STORIES

T0 = pendulum.datetime(2026, 12, 1, 9, tz="UTC")
NOW = "2026-12-20T09:00:00+00:00"
WIDTHS = (60, 80, 120)
# People's text that looks like rich markup: shown as typed, never styled or refused.
TITLE = "A very long listing title: wedding video edit cut to music [/b] [red]4K[/red]"
QUESTION = "Which song should the edit be cut to, and how long should it be?"
ANSWER = "[bold]Perfect[/bold] by Ed Sheeran, three minutes"
MESSAGE = "[red]Hi![/red] Any news on [/i] the edit?"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Bob sells to five buyers: orders pending, accepted, delivered, disputed and
    cancelled, with long titles and names and text that looks like markup."""
    url = f"sqlite:///{tmp_path_factory.mktemp('tables') / 'orders.db'}"
    clock = ManualClock(T0)
    week = pendulum.duration(days=7)
    long = Listing(
        TITLE, Money("1200.00", "USD"), pendulum.duration(days=10), 3, (BuyerRequest(QUESTION),)
    )
    short = Listing("Logo", Money("90.00", "EUR"), week, 1)
    with OrderDesk.open(url, clock=clock) as desk:
        desk.place(buyer="zoë-the-bride", seller="bob", listing=long, answers={QUESTION: ANSWER})
        clock.advance(hours=1)
        accepted = desk.place(buyer="alice", seller="bob", listing=short)
        desk.accept(accepted.id, by="bob")
        desk.say(accepted.id, by="alice", text=MESSAGE)
        clock.advance(hours=1)
        delivered = desk.place(buyer="maximilian-von-longname", seller="bob", listing=long)
        desk.accept(delivered.id, by="bob")
        desk.deliver(delivered.id, by="bob", outside=True, note="Posted it")
        clock.advance(hours=1)
        disputed = desk.place(buyer="li", seller="bob", listing=short)
        desk.accept(disputed.id, by="bob")
        desk.dispute(disputed.id, by="li", reason="No answer to my messages")
        clock.advance(hours=1)
        cancelled = desk.place(buyer="carl", seller="bob", listing=short)
        desk.withdraw(cancelled.id, by="carl", reason="Changed my mind")
    return url


def render(width: int, *args: str, monkeypatch: pytest.MonkeyPatch, fits: bool = True) -> str:
    """The CLI's text output at ``width`` columns (as ``COLUMNS`` sets it); with ``fits``,
    no line of it is wider."""
    monkeypatch.setenv("COLUMNS", str(width))
    out, err = io.StringIO(), io.StringIO()
    old, sys.stderr = sys.stderr, err
    try:
        code = main(list(args), stdout=out)
    finally:
        sys.stderr = old
    assert code == 0, err.getvalue()
    text = out.getvalue()
    if fits:
        assert_fits(text, width)
    return text


def assert_fits(text: str, width: int) -> None:
    """No line of ``text`` is wider than ``width`` columns."""
    for line in text.splitlines():
        assert cell_len(line) <= width, f"wider than {width}: {line!r}"


def rows(text: str) -> list[list[str]]:
    """The cells of each table line with content (box-drawn tables)."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def values_of(text: str, first_value: str) -> list[str]:
    """The values of the row that starts with ``first_value``, in a table or, where the
    columns did not fit side by side, in its block of ``header value`` lines."""
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if first_value in line.split())
    if lines[start].startswith("│"):
        return row_of(text, first_value)
    offset = lines[start].index(first_value)  # where the value column starts
    block = []
    for line in lines[start:]:
        if not line.strip():
            break
        block.append(line[offset:].strip())
    return block


def header_of(text: str) -> list[str]:
    """The column headers of a box-drawn table (a header wrapped onto lines joined)."""
    lines = [
        line.strip().strip("┃").split("┃") for line in text.splitlines() if line.startswith("┃")
    ]
    return [
        " ".join(filter(None, (line[n].strip() for line in lines))) for n in range(len(lines[0]))
    ]


def row_of(text: str, first_cell: str) -> list[str]:
    """The cells of the first line of the row whose first cell is ``first_cell``."""
    for cells in rows(text):
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row starts with {first_cell!r} in:\n{text}")


def column(text: str, first_cell: str, index: int) -> str:
    """Cell ``index`` of a row, with its continuation lines joined by spaces."""
    lines = rows(text)
    start = next(n for n, cells in enumerate(lines) if cells[0] == first_cell)
    parts = [lines[start][index]]
    for cells in lines[start + 1 :]:
        if any(cell for n, cell in enumerate(cells) if n != index):
            break  # the next row: the row's other cells are whole on its first line
        parts.append(cells[index])
    return " ".join(part for part in parts if part)


def caption(text: str) -> str:
    """The output as one line, so that a caption wrapped onto lines reads whole."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def conversations(db: str) -> Iterator[list[Conversation]]:
    """Bob's inbox as the desk gives it."""
    with OrderDesk.open(db, clock=ManualClock(pendulum.parse(NOW))) as desk:
        yield list(desk.inbox("bob"))


@pytest.mark.parametrize("width", WIDTHS)
def test_inbox_shows_order_state_unread_and_your_move_whole(
    db: str, conversations: list[Conversation], width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each conversation's row holds its id, state, unread count and "your move" whole,
    as separate cells; columns left out at this width are named."""
    text = render(width, "--db", db, "--now", NOW, "inbox", "--as", "bob", monkeypatch=monkeypatch)
    assert {"order", "state", "unread", "your move"} <= set(header_of(text))
    assert len(conversations) == 5
    assert any(c.unread for c in conversations)
    assert any(c.action_waiting for c in conversations)
    assert not all(c.action_waiting for c in conversations)
    for c in conversations:
        cells = row_of(text, c.order_id)
        assert c.state.value in cells
        assert str(c.unread) in cells
        assert ("yes" in cells) == c.action_waiting
    if width >= 120:
        for c in conversations:
            assert c.counterpart in row_of(text, c.order_id)
        assert "A very long" in text
        assert "hidden" not in text
    else:
        assert re.search(rf"not shown at {width} columns: [a-z, ]+", caption(text))


def test_inbox_narrower_than_its_columns_lists_each_conversation_as_a_block(
    db: str, conversations: list[Conversation], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 40 columns the essential columns cannot stand side by side: each conversation
    becomes a block of lines, with every field (none left out)."""
    text = render(40, "--db", db, "--now", NOW, "inbox", "--as", "bob", monkeypatch=monkeypatch)
    assert "not shown" not in text
    for c in conversations:
        values = values_of(text, c.order_id)
        assert values[0] == c.order_id
        assert c.counterpart in values
        assert c.state.value in values
        assert str(c.unread) in values
        assert ("yes" in values) == c.action_waiting


@pytest.mark.parametrize("width", WIDTHS)
def test_actions_show_every_action_its_availability_and_whole_reason(
    db: str, conversations: list[Conversation], width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every action with yes/no, and the reason it is not available, wrapped but whole."""
    order_id = conversations[0].order_id
    with OrderDesk.open(db, clock=ManualClock(pendulum.parse(NOW))) as desk:
        options = desk.actions(order_id, viewer="bob")
    args = ("--db", db, "--now", NOW, "actions", order_id, "--as", "bob")
    text = render(width, *args, monkeypatch=monkeypatch)
    for option in options:
        cells = row_of(text, option.action.value)
        assert cells[1] == ("yes" if option.available else "no")
        assert column(text, option.action.value, 2) == " ".join((option.reason or "").split())


KEYS = ("state", "listing", "buyer", "seller", "price", "revisions", "due", "review until",
        "version", "answer:", "proposal")  # fmt: skip


def fields(text: str) -> dict[str, str]:
    """The key and value columns of ``show``, each field's wrapped lines joined again."""
    lines = text.splitlines()[1:]
    start = re.match(r"state +", lines[0])
    assert start is not None
    found: list[tuple[list[str], list[str]]] = []
    for line in lines:
        key, value = line[: start.end()].strip(), line[start.end() :].strip()
        if key.startswith(KEYS) and (key in KEYS or key.startswith("answer:")):
            found.append(([key], [value]))
        else:
            found[-1][0].append(key)
            found[-1][1].append(value)
    return {" ".join(filter(None, k)): " ".join(filter(None, v)) for k, v in found}


@pytest.mark.parametrize("width", WIDTHS)
def test_show_gives_every_field_whole(
    db: str, conversations: list[Conversation], width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The order's fields: state, price, counts and dates on one line each; long text
    (the title, a question and its answer) wraps and stays whole."""
    pending = next(c for c in conversations if c.counterpart == "zoë-the-bride")
    text = render(width, "--db", db, "show", pending.order_id, monkeypatch=monkeypatch)
    lines = text.splitlines()
    assert lines[0] == pending.order_id
    for key, value in [("state", "pending"), ("buyer", "zoë-the-bride"),
                       ("price", "1,200.00 USD"), ("revisions", "0 of 3 used")]:  # fmt: skip
        assert any(line.split() == [key, *value.split()] for line in lines), (key, value)
    shown = fields(text)
    assert shown["listing"] == TITLE
    assert shown[f"answer: {QUESTION}"] == ANSWER

    delivered = next(c for c in conversations if c.state.value == "delivered")
    text = render(width, "--db", db, "show", delivered.order_id, monkeypatch=monkeypatch)
    date = r"\w{3} \d{1,2} \w{3} \d{4} \d\d:\d\d UTC"
    assert re.search(rf"^due +{date} *$", text, re.M), text
    assert re.search(rf"^review until +{date} *$", text, re.M), text


@pytest.mark.parametrize("width", WIDTHS)
def test_history_shows_seq_event_and_state_whole(
    db: str, conversations: list[Conversation], width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each event's row holds its number, kind and the state it left, whole."""
    order_id = next(c for c in conversations if c.state.value == "disputed").order_id
    text = render(width, "--db", db, "history", order_id, monkeypatch=monkeypatch)
    with OrderDesk.open(db) as desk:
        events = desk.history(order_id)
    table = rows(text)  # one line per event: every column shown is shown whole
    assert [event.kind for event in events] == ["order_placed", "order_accepted", "order_disputed"]
    for event, cells in zip(events, table, strict=True):
        assert str(event.seq) in cells
        assert event.kind in cells
        assert event.state.value in cells
    if width >= 120:
        assert all(event.at.isoformat() in text for event in events)


@pytest.mark.parametrize("width", WIDTHS)
def test_tick_names_the_order_of_each_fired_timer(
    tmp_path: Path, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fired timers of several orders: each row keeps its order id, kind and state."""
    url = f"sqlite:///{tmp_path / 'tick.db'}"
    listing = Listing("Logo", Money("90.00", "EUR"), pendulum.duration(days=1), 1)
    with OrderDesk.open(url, clock=ManualClock(T0)) as desk:
        ids = []
        for buyer in ("alice", "carl"):
            order = desk.place(buyer=buyer, seller="bob", listing=listing)
            desk.accept(order.id, by="bob")
            desk.deliver(order.id, by="bob", outside=True)
            ids.append(order.id)
    text = render(width, "--db", url, "--now", "2027-02-01T00:00:00+00:00", "tick",
                  monkeypatch=monkeypatch)  # fmt: skip
    for order_id in ids:
        cells = values_of(text, order_id)
        assert "order_auto_completed" in cells
        assert "complete" in cells


@pytest.mark.parametrize("width", WIDTHS)
def test_demo_summary_shows_each_story_state_and_price(
    tmp_path: Path, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's closing table: every order's state, events, revisions and price whole,
    as the demo's JSON gives them."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    text = render(width, "--db", url, "demo", monkeypatch=monkeypatch, fits=False)
    other = f"sqlite:///{tmp_path / 'b.db'}"
    played = json.loads(
        render(width, "--db", other, "--json", "demo", monkeypatch=monkeypatch, fits=False)
    )["orders"]
    summary = text[text.rindex(f"demo: {len(STORIES)} orders") :]
    assert_fits(summary, width)  # the chats above are lines the terminal wraps
    headers = header_of(summary)
    expected = [
        {
            "state": order["state"],
            "events": str(order["version"]),
            "revisions": f"{order['revisions_used']}/{order['revisions_allowed']}",
            "price": f"{order['price']} {order['currency']}",
        }
        for order in played
    ]
    table = [cells for cells in rows(summary) if any(cells[1:])]
    assert [dict(zip(headers[1:], cells[1:], strict=True)) for cells in table] == [
        {header: row[header] for header in headers[1:]} for row in expected
    ]
    assert {"story", "state", "revisions", "price"} <= set(headers)
    assert ("events" in headers) == (width >= 80)
    assert column(summary, table[1][0], 0) == played[1]["story"]  # wrapped, not cut


def test_text_that_looks_like_markup_is_shown_as_typed(
    db: str, conversations: list[Conversation], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Titles, answers and messages with square brackets print literally (they used to
    crash the inbox and show, or lose their brackets)."""
    text = render(300, "--db", db, "--now", NOW, "inbox", "--as", "bob", monkeypatch=monkeypatch)
    assert "[/b] [red]4K[/red]" in text
    assert "[red]Hi![/red] Any news on [/i]" in text
    first = next(c for c in conversations if c.counterpart == "zoë-the-bride")
    shown = render(200, "--db", db, "show", first.order_id, monkeypatch=monkeypatch)
    assert ANSWER in shown
    assert TITLE in shown
