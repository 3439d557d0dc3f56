"""Large datasets for ``tick`` and ``inbox``, bulk-loaded with direct SQL.

Running a million commands would take most of an hour; instead a handful of orders is
walked through the core (pending, accepted with a message, delivered, in revision,
complete, declined), turned into the rows the library writes (``rows.order_row`` and
friends, so the loader follows the schema), and stamped out with new ids and parties:
every loaded document is a real ``serde.dump_order`` of a core order, with its own id.

- **Filler** orders carry their order row and their two participants rows; their timers
  (if armed) fall due weeks after the instants the benchmarks tick at.
- **Due** orders (batches of 100, one per tick round) are delivered orders, due at the
  batch's instant: half for their review reminder, half (reminded a day earlier) for the
  end of their review window; they carry their whole history (events).

Reminders are on: every order is placed under :data:`POLICY` (a reminder a day before the
delivery and review deadlines), so each order's next timer, reminders included, is what
the index holds.
- **Inbox** orders: the conversations of one user, with their whole history.

The few special orders (due and inbox) are stamped here in Python (:func:`special`). The
filler orders, nearly all the rows, are stamped by the database itself: one
``INSERT ... SELECT`` per table over a series of order numbers (:func:`sqlite_fill`,
:func:`postgres_fill`), the templates' text split at their ids and joined again with each
order's ids, exactly as :meth:`Template.order_row` would. PostgreSQL takes narrow rows
(participants) for less work by COPY, from the same split templates filled in Python
(:func:`postgres_copy`). :func:`filler_rows` is the Python stamping, order by order, kept
as the reference the tests compare with.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import pendulum
from order_lifecycle import Policy, Reminder, Timer, core
from order_lifecycle.adapters import rows
from order_lifecycle.core.api import Decision
from order_lifecycle.desk.writes import write_for
from order_lifecycle.ports import Write

from order_lifecycle_bench.stories import T0, attachment, listing

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "INBOX_USER",
    "POLICY",
    "Dataset",
    "Template",
    "datasets",
    "due_instant",
    "filler_ids",
    "filler_rows",
    "pattern",
    "postgres_copy",
    "postgres_drop_indexes",
    "postgres_fill",
    "special",
    "sqlite_drop_indexes",
    "sqlite_fill",
]

INBOX_USER: Final = "inbox_user"
_OID: Final = "zzorderzz"
_BUYER: Final = "zzbuyerzz"
_SELLER: Final = "zzsellerzz"
#: Due batches fall due from here on, one hour apart (filler timers are weeks later).
DUE_BASE: Final = pendulum.datetime(2026, 11, 1, 0, tz="UTC")
BATCH: Final = 100
#: The policy every loaded order is placed under, and the scale desks run: reminders on.
REMIND_BEFORE: Final = pendulum.duration(days=1)
POLICY: Final = Policy(
    reminders=(Reminder("delivery", REMIND_BEFORE), Reminder("review", REMIND_BEFORE))
)
#: Orders' buyers and sellers are drawn from this many users each (``u<n>``, ``s<n>``).
BUYERS: Final = 40_000
SELLERS: Final = 9_000
#: The tables a filler order has rows in, as the library's INSERTs (data: table, columns).
FILLER_TABLES: Final = (rows.ORDERS, rows.PARTICIPANTS)

Row = tuple[Any, ...]


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
    steps: Sequence[tuple[core.Command | Timer, str, float]],
    *,
    buyer: str = _BUYER,
) -> Template:
    """An order placed at ``start`` under :data:`POLICY`, then each step ``hours`` after the
    one before: a command by the buyer or seller, or a timer fired by the system."""
    placed = core.place(
        buyer=buyer, seller=_SELLER, listing=listing(7), now=start, order_id=_OID, policy=POLICY
    )
    writes = [write_for(0, placed, POLICY)]
    order = placed.order
    now = start
    for step, who, hours in steps:
        now = now.add(minutes=int(hours * 60))
        decision: Decision
        if isinstance(step, Timer):
            decision = core.fire(order, step, now=now, policy=POLICY)
        else:
            actor = order.buyer if who == "buyer" else order.seller
            decision = core.decide(order, step, actor=actor, now=now, policy=POLICY)
        writes.append(write_for(order.version, decision, POLICY))
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


def due_templates(at: pendulum.DateTime) -> tuple[Template, Template]:
    """Two delivered orders due at ``at`` (their review window is 7 days): one for its
    review reminder (the window ends a day later), one for the end of its review window
    (its reminder sent a day before)."""
    delivered = [(core.Accept(), "seller", 1.0), (core.Deliver(outside=True), "seller", 23.0)]
    remind = _walk(at.subtract(days=8) + REMIND_BEFORE, delivered)
    reminded = (Timer.reminder, "system", 24.0 * 6)
    end = _walk(at.subtract(days=8), [*delivered, reminded])
    return remind, end


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


def filler_ids(k: int) -> dict[str, str]:
    """The ids of filler order number ``k`` (its template is ``fillers[k % len(fillers)]``)."""
    return {"o": f"f{k:09d}", "b": f"u{k % BUYERS}", "s": f"s{k % SELLERS}"}


def special(*, batches: int, inbox: int) -> Dataset:
    """The first orders of every dataset, stamped in Python: ``batches`` due batches, then
    the ``inbox`` conversations of the inbox user (``end`` is how many orders)."""
    found = Dataset([], [], [], 0)
    n = 0
    if batches >= REMIND_BEFORE.in_hours():
        raise ValueError("a batch's reminded orders would fall due again within the rounds")
    for b in range(batches):
        both = due_templates(due_instant(b))
        for i in range(BATCH):
            template = both[i % 2]
            ids = {"o": f"d{b}_{i:04d}", "b": f"u{n % BUYERS}", "s": f"s{n % SELLERS}"}
            found.orders.append(template.order_row(ids))
            found.events.extend(template.event_rows(ids))
            found.participants.extend(template.participant_rows(ids))
            n += 1
    mine = inbox_templates()
    for i in range(inbox):
        ids = {"o": f"i{i:06d}", "b": INBOX_USER, "s": f"s{i % SELLERS}"}
        template = mine[i % len(mine)]
        found.orders.append(template.order_row(ids))
        found.events.extend(template.event_rows(ids))
        found.participants.extend(template.participant_rows(ids))
        n += 1
    found.end = n
    return found


def filler_rows(fillers: Sequence[Template], start: int, end: int) -> Dataset:
    """Filler orders ``start <= k < end`` stamped in Python, order by order: what
    :func:`sqlite_fill` and :func:`postgres_fill` write (the tests' reference)."""
    part = Dataset([], [], [], end)
    for k in range(start, end):
        ids = filler_ids(k)
        template = fillers[k % len(fillers)]
        part.orders.append(template.order.stamp(ids))
        part.participants.extend(p.stamp(ids) for p in template.participants)
    return part


def datasets(
    sizes: Sequence[int], *, batches: int, inbox: int, fillers: Sequence[Template]
) -> Iterator[Dataset]:
    """The rows of the largest dataset stamped in Python, in chunks that never straddle one
    of ``sizes``: a dataset of size N is the chunks with ``end <= N``. First ``batches``
    due batches and the ``inbox`` conversations of the inbox user, then filler."""
    first = special(batches=batches, inbox=inbox)
    n = first.end
    if n > min(sizes):
        raise ValueError(f"{n} due and inbox orders do not fit in {min(sizes)}")
    yield first
    chunk = 50_000
    cuts = sorted(sizes)
    while n < cuts[-1]:
        end = min([n + chunk, *(c for c in cuts if c > n)])
        yield filler_rows(fillers, n, end)
        n = end


# Filler orders stamped by the database -------------------------------------------------
#
# Order number k takes the rows of template t = k % len(fillers). A string field with ids
# is the template's text split where ``%`` would put the ids, joined again (``||``) with
# the ids of k, which the database computes as ``filler_ids`` does; every other field is
# the template's value itself, bound as a parameter (integers stay integers, NULLs NULL).
# A table with several rows per template (participants) repeats k once per row: row j of
# template t is key ``t * width + j`` of the fields' CASE.

#: What ``%`` reads in a pattern: ``%%`` (group 1) or an id (group 2).
_TOKEN: Final = re.compile(r"%(?:(%)|\(([obs])\)s)")
_MAX_FILLER: Final = 10**9  # f{k:09d} has nine digits below this


@dataclass(frozen=True)
class _Id:
    """An id in a field: ``o``, ``b`` or ``s`` (the order, its buyer, its seller)."""

    name: str


#: A field of a template row: its value, or the text and ids to join.
_Field = tuple[object, ...]


def _pieces(text: str) -> tuple[str | _Id, ...]:
    """The text and ids ``text % ids`` joins, in order; refuses any other use of ``%``."""
    found: list[str | _Id] = []
    literal: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        literal.append(text[pos : match.start()])
        pos = match.end()
        if match.group(1):
            literal.append("%")
        else:
            found += ["".join(literal), _Id(match.group(2))]
            literal = []
    found.append("".join([*literal, text[pos:]]))
    if "%" in _TOKEN.sub("", text):
        raise ValueError(f"a template field SQL cannot stamp like %: {text[:60]!r}")
    return tuple(p for p in found if p != "")


def _field(row: _Row, i: int) -> _Field:
    """Field ``i`` of a template row: ``("join", pieces)`` or ``("value", type, value)``."""
    for slot, text in row.slots:
        if slot == i:
            return ("join", _pieces(text))
    value = row.base[i]
    return ("value", type(value), value)


class _Binder:
    """Named parameters for one statement: ``value`` binds a field's value (into
    ``column``), ``text`` a piece of text to join; each returns its placeholder."""

    def __init__(self) -> None:
        self.params: dict[str, object] = {}

    def _bind(self, value: object) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return name

    def value(self, value: object, column: str) -> str:
        return f":{self._bind(value)}"

    def text(self, text: str) -> str:
        return f":{self._bind(text)}"


class _PostgresBinder(_Binder):
    """psycopg's placeholders, each value cast to its column's type (as COPY reads it)."""

    def __init__(self, types: dict[str, str]) -> None:
        super().__init__()
        self._types = types

    def value(self, value: object, column: str) -> str:
        return f"%({self._bind(value)})s::{self._types[column]}"

    def text(self, text: str) -> str:
        return f"%({self._bind(text)})s::text"


@dataclass(frozen=True)
class _Table:
    """One table's rows of every filler template, as fields to stamp."""

    name: str
    columns: list[str]
    #: How many rows each template has in the table.
    counts: list[int]
    #: Per column: its field for each (template t, row j), by key ``t * width + j``.
    fields: list[dict[int, _Field]]
    width: int
    #: `` ON CONFLICT ...`` as the library's statement has it (or nothing).
    on_conflict: str

    @classmethod
    def of(cls, insert: rows.Insert, fillers: Sequence[Template]) -> _Table:
        if not fillers:
            raise ValueError("no filler templates")
        name, cols = insert.table, list(insert.columns)
        per_template = [_table_rows(t, insert) for t in fillers]
        width = max(len(r) for r in per_template)
        fields: list[dict[int, _Field]] = [{} for _ in cols]
        for t, found in enumerate(per_template):
            for j, row in enumerate(found):
                if len(row.base) != len(cols):
                    raise ValueError(f"a {name} row has {len(row.base)} fields, not {len(cols)}")
                for i, by_key in enumerate(fields):
                    by_key[t * width + j] = _field(row, i)
        upsert = f" ON CONFLICT {insert.on_conflict}" if insert.on_conflict else ""
        return cls(name, cols, [len(r) for r in per_template], fields, width, upsert)

    def select_list(self, binder: _Binder) -> str:
        """The SELECT list, with ``key`` (``t * width + j``) and the ids ``o``, ``b``,
        ``s`` in scope."""
        found = []
        for column, by_key in zip(self.columns, self.fields, strict=True):
            if len(set(by_key.values())) == 1:  # the same for every row: no CASE
                found.append(_expression(next(iter(by_key.values())), column, binder))
                continue
            branches = " ".join(
                f"WHEN {k} THEN {_expression(f, column, binder)}" for k, f in by_key.items()
            )
            found.append(f"CASE key {branches} END")
        return ", ".join(found)

    def counts_case(self) -> str:
        """How many rows the template ``t`` has in the table."""
        cases = " ".join(f"WHEN {t} THEN {c}" for t, c in enumerate(self.counts))
        return f"CASE t {cases} END"

    def name_list(self) -> str:
        """``table (columns)``, quoted."""
        return f"{_quote(self.name)} ({', '.join(map(_quote, self.columns))})"

    def insert(self) -> str:
        return f"INSERT INTO {self.name_list()}"


def _expression(field: _Field, column: str, binder: _Binder) -> str:
    if field[0] == "value":
        return binder.value(field[2], column)
    pieces = field[1]
    assert isinstance(pieces, tuple)
    return " || ".join(p.name if isinstance(p, _Id) else binder.text(p) for p in pieces)


def _table_rows(template: Template, insert: rows.Insert) -> list[_Row]:
    if insert == rows.ORDERS:
        return [template.order]
    if insert == rows.PARTICIPANTS:
        return template.participants
    if insert == rows.EVENTS:
        return template.events
    raise ValueError(f"no template rows for the table {insert.table}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_fill(
    conn: sqlite3.Connection,
    fillers: Sequence[Template],
    start: int,
    end: int,
    statements: Sequence[rows.Insert] = FILLER_TABLES,
) -> None:
    """Insert filler orders ``start <= k < end`` (their rows in the tables of
    ``statements``) as :func:`filler_rows` stamps them, one statement per table.
    A WITHOUT ROWID table gets its rows in key order (the same rows, written faster)."""
    if start >= end:
        return
    for statement in statements:
        table = _Table.of(statement, fillers)
        if table.width == 0:
            continue
        binder = _Binder()
        select = table.select_list(binder)
        rows_of_k = key = ""
        where = "1"
        if table.width > 1 or min(table.counts) < table.width:
            rows_of_k = ", r(j) AS (VALUES " + ", ".join(f"({j})" for j in range(table.width)) + ")"
            key = f", t * {table.width} + j AS key FROM ids CROSS JOIN r"
            where = f"j < {table.counts_case()}"
        query = (
            "WITH RECURSIVE n(k) AS (SELECT :start WHERE :start <= :last"
            " UNION ALL SELECT k + 1 FROM n WHERE k < :last),"
            f" ids AS (SELECT k % {len(fillers)} AS t, printf('f%09d', k) AS o,"
            f" 'u' || (k % {BUYERS}) AS b, 's' || (k % {SELLERS}) AS s FROM n){rows_of_k}"
            f" {table.insert()} SELECT {select}"
            f" FROM (SELECT *{key or ', t AS key FROM ids'}) WHERE {where}"
            f"{_sqlite_key_order(conn, table)}{table.on_conflict}"
        )
        conn.execute(query, {**binder.params, "start": start, "last": end - 1})


def _sqlite_key_order(conn: sqlite3.Connection, table: _Table) -> str:
    """`` ORDER BY`` the primary key if ``table`` is a WITHOUT ROWID table (stored in key
    order: inserting in that order is appending), else nothing (rowids keep k order)."""
    found = conn.execute("SELECT wr FROM pragma_table_list(?)", (table.name,)).fetchone()
    if found is None or not found[0]:
        return ""
    key = [
        str(name)
        for (name,) in conn.execute(
            "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", (table.name,)
        )
    ]
    if not key or not all(c in table.columns for c in key):
        return ""
    return " ORDER BY " + ", ".join(str(table.columns.index(c) + 1) for c in key)


def sqlite_drop_indexes(conn: sqlite3.Connection, tables: Sequence[str]) -> list[str]:
    """Drop the indexes of ``tables`` made by ``CREATE INDEX`` (a primary key's stays:
    SQLite cannot drop it); the statements that make them again as they were (their
    ``sqlite_master.sql``)."""
    marks = ", ".join("?" * len(tables))
    found = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks}) ORDER BY rowid",
        tuple(tables),
    ).fetchall()
    for name, _ in found:
        conn.execute(f"DROP INDEX {_quote(str(name))}")
    return [str(statement) for _, statement in found]


def postgres_fill(
    conn: psycopg.Connection[Any],
    fillers: Sequence[Template],
    start: int,
    end: int,
    statements: Sequence[rows.Insert] = FILLER_TABLES,
) -> None:
    """Insert filler orders ``start <= k < end`` (their rows in the tables of
    ``statements``) as :func:`filler_rows` stamps them, one statement per table, the rows
    in the order :func:`filler_rows` has them. In the connection's transaction."""
    if start >= end:
        return
    if end > _MAX_FILLER:
        raise ValueError(f"filler order numbers stop below {_MAX_FILLER:,}")
    # Compiling these statements (JIT) took longer than running them at 10k orders, and
    # saved nothing at 1M. SET LOCAL ends with the transaction.
    conn.execute("SET LOCAL jit = off")
    for statement in statements:
        table = _Table.of(statement, fillers)
        if table.width == 0:
            continue
        types = {
            str(name): str(kind)
            for name, kind in conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (_quote(table.name),),
            )
        }
        binder = _PostgresBinder(types)
        select = table.select_list(binder)
        # The rows of k come from a series that depends on k's template (LATERAL): k
        # drives the loop, so the rows arrive in k order, each k's in template order.
        query = (
            f"{table.insert()} SELECT {select}"
            " FROM generate_series(%(start)s::bigint, %(last)s::bigint) AS n(k)"
            f" CROSS JOIN LATERAL (SELECT mod(k, {len(fillers)})::int AS t,"
            f" 'f' || lpad(k::text, 9, '0') AS o, 'u' || mod(k, {BUYERS}) AS b,"
            f" 's' || mod(k, {SELLERS}) AS s) AS ids"
            f" CROSS JOIN LATERAL generate_series(0, {table.counts_case()} - 1) AS r(j)"
            f" CROSS JOIN LATERAL (SELECT t * {table.width} + j AS key) AS keys"
        )
        conn.execute(query, {**binder.params, "start": start, "last": end - 1})


#: COPY's text format: what a field's text must escape.
_COPY_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(field: _Field) -> str:
    """A field as a %-pattern of its COPY text (what psycopg's ``write_row`` sends)."""
    if field[0] == "join":
        pieces = field[1]
        assert isinstance(pieces, tuple)
        return "".join(
            f"%({p.name})s" if isinstance(p, _Id) else p.translate(_COPY_ESCAPES).replace("%", "%%")
            for p in pieces
        )
    value = field[2]
    if value is None:
        return "\\N"
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"no COPY text for a {type(value).__name__} field")
    return str(value).translate(_COPY_ESCAPES).replace("%", "%%")


def postgres_copy(
    conn: psycopg.Connection[Any],
    fillers: Sequence[Template],
    start: int,
    end: int,
    statements: Sequence[rows.Insert] = FILLER_TABLES,
) -> None:
    """The same rows as :func:`postgres_fill`, in the same order, by COPY: each template's
    rows as one pattern of COPY text, stamped in Python. Cheaper than ``INSERT ...
    SELECT`` for narrow rows (participants: COPY inserts rows a page at a time)."""
    if start >= end:
        return
    chunk = 20_000
    for statement in statements:
        table = _Table.of(statement, fillers)
        if table.width == 0:
            continue
        patterns = [
            "".join(
                "\t".join(_copy_field(by_key[t * table.width + j]) for by_key in table.fields)
                + "\n"
                for j in range(count)
            )
            for t, count in enumerate(table.counts)
        ]
        n = len(patterns)
        with conn.cursor() as cur, cur.copy(f"COPY {table.name_list()} FROM STDIN") as copy:
            for at in range(start, end, chunk):
                stop = min(end, at + chunk)
                copy.write("".join(patterns[k % n] % filler_ids(k) for k in range(at, stop)))


def postgres_drop_indexes(conn: psycopg.Connection[Any], tables: Sequence[str]) -> list[str]:
    """Drop every index of ``tables`` (found on the connection's search path), those of
    primary keys and other constraints included; the statements that build them again as
    they were (``pg_get_indexdef``, ``pg_get_constraintdef``)."""
    found = conn.execute(
        "SELECT x.indrelid::regclass::text, x.indexrelid::regclass::text, c.conname,"
        " pg_get_constraintdef(c.oid), pg_get_indexdef(x.indexrelid)"
        " FROM pg_index x LEFT JOIN pg_constraint c"
        " ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid"
        " WHERE x.indrelid = ANY(%s::regclass[]) ORDER BY x.indexrelid",
        ([_quote(t) for t in tables],),
    ).fetchall()
    restore = []
    for table, index, constraint, constraint_def, index_def in found:
        if constraint is None:
            conn.execute(f"DROP INDEX {index}")
            restore.append(str(index_def))
        else:
            name = _quote(str(constraint))
            conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            restore.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {constraint_def}")
    return restore
