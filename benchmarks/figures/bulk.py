"""Large datasets for ``tick`` and ``inbox``, bulk-loaded with direct SQL.

Running a million commands would take most of an hour; instead a handful of orders is
walked through the core (pending, accepted with a message, delivered, in revision,
complete, declined), turned into the rows the library writes (``rows.order_row`` and
friends, so the loader follows the schema), and stamped out with new ids and parties:
every loaded document is a real ``serde.dump_order`` of a core order, with its own id.

- **Filler** orders carry their order row and their two participants rows; their timers
  (if armed) fall due weeks after the instants the benchmarks tick at.
- **Due** orders (batches of 100, one per tick round) are delivered orders whose review
  window ends at the batch's instant; they carry their whole history (events).
- **Inbox** orders: the conversations of one user, with their whole history.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pendulum

from benchmarks.stories import T0, as_write, attachment, listing
from order_lifecycle import core
from order_lifecycle.adapters import rows
from order_lifecycle.core.api import Decision
from order_lifecycle.ports import Write

__all__ = [
    "INBOX_USER",
    "Dataset",
    "Template",
    "columns",
    "datasets",
    "due_instant",
    "pattern",
]

INBOX_USER: Final = "inbox_user"
_OID: Final = "zzorderzz"
_BUYER: Final = "zzbuyerzz"
_SELLER: Final = "zzsellerzz"
#: Due batches fall due from here on, one hour apart (filler timers are weeks later).
DUE_BASE: Final = pendulum.datetime(2026, 11, 1, 0, tz="UTC")
BATCH: Final = 100

Row = tuple[Any, ...]


def columns(statement: str) -> tuple[str, list[str]]:
    """The table and columns of one of ``rows``' INSERT statements (for COPY)."""
    found = re.search(r"INSERT INTO (\w+) \(([^)]*)\)", statement)
    if found is None:
        raise ValueError(f"not an INSERT statement: {statement}")
    return found.group(1), [c.strip() for c in found.group(2).split(",")]


def pattern(value: object) -> object:
    """A string field as a %-format (ids substituted per row); anything else as is."""
    if not isinstance(value, str):
        return value
    if _OID not in value and _BUYER not in value and _SELLER not in value:
        return value
    text = value.replace("%", "%%")
    return text.replace(_OID, "%(o)s").replace(_BUYER, "%(b)s").replace(_SELLER, "%(s)s")


class _Row:
    """One row with ids to stamp: the fixed values, and where the ids go."""

    __slots__ = ("base", "slots")

    def __init__(self, row: Sequence[object]) -> None:
        values = [pattern(v) for v in row]
        self.slots = [(i, v) for i, v in enumerate(values) if isinstance(v, str) and "%(" in v]
        self.base = values

    def stamp(self, ids: dict[str, str]) -> Row:
        values = self.base.copy()
        for i, text in self.slots:
            values[i] = text % ids
        return tuple(values)


@dataclass
class Template:
    """The rows of one core-built order, ready to be stamped with new ids."""

    order: _Row
    events: list[_Row]
    participants: list[_Row]

    @classmethod
    def of(cls, writes: Sequence[Write]) -> Template:
        last = writes[-1]
        events = [e for w in writes for e in rows.event_rows(w)]
        people = [p for w in writes for p in rows.participant_rows(w.participants)]
        return cls(_Row(rows.order_row(last)), [_Row(e) for e in events], [_Row(p) for p in people])

    def order_row(self, ids: dict[str, str]) -> Row:
        return self.order.stamp(ids)

    def event_rows(self, ids: dict[str, str]) -> list[Row]:
        return [e.stamp(ids) for e in self.events]

    def participant_rows(self, ids: dict[str, str]) -> list[Row]:
        return [p.stamp(ids) for p in self.participants]


def _walk(
    start: pendulum.DateTime,
    steps: Sequence[tuple[core.Command, str, float]],
    *,
    buyer: str = _BUYER,
) -> Template:
    placed = core.place(buyer=buyer, seller=_SELLER, listing=listing(7), now=start, order_id=_OID)
    writes = [as_write(0, placed)]
    order = placed.order
    now = start
    for command, who, hours in steps:
        now = now.add(minutes=int(hours * 60))
        actor = order.buyer if who == "buyer" else order.seller
        decision: Decision = core.decide(order, command, actor=actor, now=now)
        writes.append(as_write(order.version, decision))
        order = decision.order
    return Template.of(writes)


def filler_templates() -> list[Template]:
    """Orders in every state, their timers (if any) after every tick instant."""
    post = attachment()
    accept = (core.Accept(), "seller", 1.0)
    deliver = (core.Deliver(files=[post]), "seller", 30.0)
    say = (core.Say(text="Hi! Please tag @me in the post."), "buyer", 2.0)
    return [
        _walk(T0, []),
        _walk(T0, [accept, say]),
        _walk(T0, [accept, deliver]),
        _walk(T0, [accept, deliver, (core.RequestRevision(note="Warmer colours"), "buyer", 3)]),
        _walk(T0, [accept, say, deliver, (core.Approve(), "buyer", 4.0)]),
        _walk(T0, [accept, deliver, (core.Approve(), "buyer", 4.0)]),
        _walk(T0, [(core.Decline(reason="Fully booked"), "seller", 2.0)]),
    ]


def due_instant(batch: int) -> pendulum.DateTime:
    """When due batch ``batch`` falls due."""
    return DUE_BASE.add(hours=batch)


def due_template(at: pendulum.DateTime) -> Template:
    """A delivered order whose review window ends at ``at``."""
    start = at.subtract(days=8)
    return _walk(
        start,
        [(core.Accept(), "seller", 1.0), (core.Deliver(outside=True), "seller", 23.0)],
    )


def inbox_templates() -> list[Template]:
    """The inbox user's conversations: as buyer, in several states, with messages."""
    post = attachment()
    accept = (core.Accept(), "seller", 1.0)
    return [
        _walk(T0, [], buyer=INBOX_USER),
        _walk(
            T0,
            [accept, (core.Say(text="Hi! Tag @inbox_user please."), "buyer", 2.0)],
            buyer=INBOX_USER,
        ),
        _walk(T0, [accept, (core.Deliver(files=[post]), "seller", 30.0)], buyer=INBOX_USER),
        _walk(
            T0,
            [
                accept,
                (core.Deliver(files=[post]), "seller", 30.0),
                (core.Approve(), "buyer", 3.0),
            ],
            buyer=INBOX_USER,
        ),
    ]


@dataclass
class Dataset:
    """A chunk of rows to load: orders, events and participants; ``end`` is how many
    orders the dataset holds once this chunk is in."""

    orders: list[Row]
    events: list[Row]
    participants: list[Row]
    end: int


def datasets(
    sizes: Sequence[int], *, batches: int, inbox: int, fillers: Sequence[Template]
) -> Iterator[Dataset]:
    """The rows of the largest dataset, in chunks that never straddle one of ``sizes``:
    a dataset of size N is the chunks with ``end <= N``. First ``batches`` due batches
    and the ``inbox`` conversations of the inbox user, then filler."""
    special = Dataset([], [], [], 0)
    n = 0
    for b in range(batches):
        template = due_template(due_instant(b))
        for i in range(BATCH):
            ids = {"o": f"d{b}_{i:04d}", "b": f"u{n % 40_000}", "s": f"s{n % 9_000}"}
            special.orders.append(template.order_row(ids))
            special.events.extend(template.event_rows(ids))
            special.participants.extend(template.participant_rows(ids))
            n += 1
    mine = inbox_templates()
    for i in range(inbox):
        ids = {"o": f"i{i:06d}", "b": INBOX_USER, "s": f"s{i % 9_000}"}
        template = mine[i % len(mine)]
        special.orders.append(template.order_row(ids))
        special.events.extend(template.event_rows(ids))
        special.participants.extend(template.participant_rows(ids))
        n += 1
    if n > min(sizes):
        raise ValueError(f"{n} due and inbox orders do not fit in {min(sizes)}")
    special.end = n
    yield special
    chunk = 50_000
    cuts = sorted(sizes)
    while n < cuts[-1]:
        end = min([n + chunk, *(c for c in cuts if c > n)])
        part = Dataset([], [], [], end)
        for k in range(n, end):
            ids = {"o": f"f{k:09d}", "b": f"u{k % 40_000}", "s": f"s{k % 9_000}"}
            template = fillers[k % len(fillers)]
            part.orders.append(template.order.stamp(ids))
            part.participants.extend(p.stamp(ids) for p in template.participants)
        n = end
        yield part
