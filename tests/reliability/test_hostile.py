"""Hostile input: Hypothesis-generated arguments for every ``OrderDesk`` method and every
command of the command line.

Every call either succeeds as the spec says or raises a subclass of
``OrderLifecycleError`` -- never another exception -- and a refused call leaves storage
exactly as it was (spec section 9: "bad input never corrupts"). On the command line every
run exits 0, 2, 3 or 4; a failed run prints one line on stderr, nothing on stdout, no
traceback, and leaves the database and its files folder byte for byte as they were.

The arguments mix valid values with hostile ones: wrong types, huge, empty and
white-space strings, control characters, NUL and unpaired surrogates, SQL-looking and
path-traversal strings, negative and enormous numbers, NaN and Infinity decimals, naive
and far-away datetimes, unknown currencies and time zones, and files with hostile names,
shapes and sizes. Each example runs on a fresh copy of a desk holding orders in every
state, on memory and SQLite; PostgreSQL runs the commands with the most varied input.

While a bug is open the property tests fail (and, shrinking, take longer than the
minute they take when green); each bug found is also pinned by a plain regression test
at the end of this file, so that it fails deterministically until it is fixed.

Device files and FIFOs are kept out of the generated paths: reading them is unbounded
(see the regression tests at the end), which would hang or exhaust the test process.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import datetime as dt
import decimal
import functools
import hashlib
import importlib
import io
import json
import os
import pkgutil
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import traceback
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Final

import pendulum
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.vendor.pretty import RepresentationPrinter

from order_lifecycle import (
    Actor,
    Attachment,
    BuyerRequest,
    Listing,
    ManualClock,
    Money,
    OrderDesk,
    OrderLifecycleError,
    Outcome,
    Policy,
    Role,
)
from order_lifecycle.adapters.files import MemoryBlobs
from order_lifecycle.adapters.memory import MemoryStore
from order_lifecycle.adapters.notifiers import MemoryNotifier
from order_lifecycle.cli import build_parser, main
from order_lifecycle.ports import Write

from pg import pg_url


def _import_the_library() -> None:
    """Import every module of the library before anything is generated.

    Hypothesis mixes constants found in local modules into what it draws, and rescans
    when new modules appear; a module first imported by a run (the CLI imports lazily)
    would make generation differ between runs (``FlakyStrategyDefinition``).
    """
    import order_lifecycle

    for module in pkgutil.walk_packages(order_lifecycle.__path__, "order_lifecycle."):
        if not module.name.endswith("__main__"):
            with contextlib.suppress(ImportError):  # an optional driver not installed
                importlib.import_module(module.name)


_import_the_library()

#: A failing example holding a 20,000-character string makes Hypothesis warn that its
#: repr is large; under ``filterwarnings = error`` that warning would break the run that
#: prints it, which Hypothesis then reports as flaky generation.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)

# -- the world the calls run against ------------------------------------------------

T0: Final = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
#: Small file limits, so that oversize content is cheap to generate; ``.mp4`` is refused.
POLICY: Final = Policy(
    max_file_bytes=64,
    max_files=3,
    allowed_media_types=("image/png", "text/plain", "application/octet-stream"),
)
QUESTION: Final = "Which handle should be tagged?"
SHORT: Final = Listing(
    "Instagram post",
    Money("150.00", "USD"),
    pendulum.duration(days=3),
    1,
    (BuyerRequest(QUESTION, required=True),),
)
LONG: Final = Listing("Logo", Money("90000", "JPY"), pendulum.duration(days=30), 2)
PNG: Final = b"\x89PNG seed"
STATES: Final = (
    "pending",
    "accepted",
    "proposal",
    "delivered",
    "revision",
    "exhausted",
    "disputed",
    "joined",
    "complete",
    "declined",
    "cancelled",
)


def seed(desk: OrderDesk, clock: ManualClock) -> dict[str, str]:
    """Orders in every state, made with valid calls; returns their ids by name.

    The clock ends five days after ``T0``: ``accepted`` is then past due (cancel is
    available), ``exhausted`` is delivered with every revision used, ``proposal`` has an
    open contract update by the seller, ``joined`` a dispute a CX agent joined.
    """

    def new(listing: Listing = LONG) -> str:
        answers = {QUESTION: "@alice"} if listing is SHORT else None
        return desk.place(buyer="alice", seller="bob", listing=listing, answers=answers).id

    short_ones = ("pending", "accepted", "exhausted", "cancelled")
    ids = {name: new(SHORT if name in short_ones else LONG) for name in STATES}
    for name in STATES:
        if name not in ("pending", "declined"):
            desk.accept(ids[name], by="bob")
    desk.propose_update(ids["proposal"], by="bob", revisions=5)
    desk.deliver(
        ids["delivered"],
        by="bob",
        files=[("post.png", PNG)],
        note="Here it is",
        idempotency_key="seed-deliver",
    )
    desk.deliver(ids["revision"], by="bob", outside=True)
    desk.request_revision(ids["revision"], by="alice", note="Warmer colours please")
    desk.deliver(ids["exhausted"], by="bob", outside=True)
    desk.request_revision(ids["exhausted"], by="alice", note="Bigger logo")
    desk.deliver(ids["exhausted"], by="bob", outside=True)
    desk.dispute(ids["disputed"], by="alice", reason="No answer to my messages")
    desk.dispute(ids["joined"], by="bob", reason="The buyer went silent")
    desk.join(ids["joined"], by=Actor.cx("carol"))
    desk.say(ids["joined"], by=Actor.cx("carol"), text="Hello both")
    desk.deliver(ids["complete"], by="bob", outside=True)
    desk.approve(ids["complete"], by="alice")
    desk.decline(ids["declined"], by="bob", reason="Fully booked")
    desk.mark_read(ids["pending"], by="bob")
    clock.advance(days=4)
    desk.cancel(ids["cancelled"], by="alice", reason="Nothing delivered")
    clock.advance(days=1)
    return ids


Snapshot = dict[str, object]


@dataclasses.dataclass
class World:
    """A desk with seeded orders, where sample files live, and how to photograph storage."""

    desk: OrderDesk
    ids: dict[str, str]
    files: Path
    snapshot: Callable[[], Snapshot]
    #: Storage before the call, when it is known without looking (a fresh template copy).
    before: Snapshot | None = None


WorldFactory = Callable[[], contextlib.AbstractContextManager[World]]


def freeze(value: object) -> object:
    """A comparable copy of ``value``'s state, unaffected by later changes to it.

    Frozen attrs instances are kept as they are (they cannot change); containers,
    mutable objects (their ``__slots__`` or ``__dict__``) are copied field by field;
    anything else (counters, say) is kept as its ``repr``.
    """
    if value is None or isinstance(
        value, (str, bytes, int, float, decimal.Decimal, dt.datetime, dt.timedelta)
    ):
        return value
    kind = type(value)
    if getattr(kind.__setattr__, "__name__", "") == "_frozen_setattrs":  # frozen attrs
        return value
    if isinstance(value, Mapping):
        return tuple(sorted((repr(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, collections.deque)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return tuple(sorted((freeze(v) for v in value), key=repr))
    slots = [n for c in kind.__mro__ for n in getattr(c, "__slots__", ())]
    if slots:
        return (kind.__name__, tuple(freeze(getattr(value, n, None)) for n in slots))
    if hasattr(value, "__dict__"):
        return (kind.__name__, freeze(vars(value)))
    return repr(value)


def memory_snapshot(desk: OrderDesk) -> Snapshot:
    """Everything a memory store and its blobs hold, field by field (locks left out).

    Read from the objects' own fields, whatever they are: the public queries do not show
    idempotency keys, read marks, timers or the outbox's retry state, and the store's
    internals change with its optimisations.
    """
    store, blobs = desk.store, desk.blobs
    assert isinstance(store, MemoryStore)
    assert isinstance(blobs, MemoryBlobs)
    state = {f"store.{k}": freeze(v) for k, v in vars(store).items() if "lock" not in k}
    state.update({f"blobs.{k}": freeze(v) for k, v in vars(blobs).items() if "lock" not in k})
    return state


def folder_state(folder: Path) -> dict[str, str]:
    """Each file under ``folder`` (hidden temporary files included) and its sha256."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith("-shm")
    }


def sqlite_snapshot(path: Path) -> Snapshot:
    """The database's SQL dump (read through a second connection) and the files folder.

    The dump rather than the file bytes: the desk keeps its WAL connection open while the
    test runs, so committed pages may sit in ``-wal`` or in the main file.
    """
    with contextlib.closing(sqlite3.connect(path)) as conn:
        dump = list(conn.iterdump())
    return {"sql": dump, "files": folder_state(Path(f"{path}.files"))}


def pg_snapshot(url: str) -> Snapshot:
    """Every row of every table in the test's PostgreSQL schema (blobs included)."""
    import psycopg
    from psycopg import sql

    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    schema = query["schema"][0]
    with psycopg.connect(pg_url()) as conn:
        tables = [
            str(row[0])
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "ORDER BY 1",
                (schema,),
            )
        ]
        return {
            table: conn.execute(
                sql.SQL("SELECT t::text FROM {}.{} AS t ORDER BY 1").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            ).fetchall()
            for table in tables
        }


@dataclasses.dataclass(frozen=True)
class Template:
    """A seeded SQLite database, closed (its WAL checkpointed), copied for each example."""

    root: Path
    path: Path
    ids: dict[str, str]
    now: pendulum.DateTime
    snapshot: Snapshot


def copy_template(template: Template) -> Path:
    """A fresh folder holding a copy of the template's database and files folder."""
    folder = Path(tempfile.mkdtemp(dir=template.root.parent, prefix="example-"))
    for suffix in ("", "-wal"):
        source = Path(f"{template.path}{suffix}")
        if source.exists():
            shutil.copy2(source, folder / f"orders.db{suffix}")
    shutil.copytree(f"{template.path}.files", folder / "orders.db.files")
    return folder / "orders.db"


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real files with hostile names and sizes, a folder, and names that do not exist."""
    root = tmp_path_factory.mktemp("samples")
    for ref in FILE_REFS.values():
        if ref.content is not None:
            path = os.path.join(os.fsencode(root), ref.raw)
            with open(path, "wb") as handle:
                handle.write(ref.content)
    (root / "folder").mkdir()
    return root


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The seeded SQLite database every SQLite example (desk and CLI) starts from."""
    root = tmp_path_factory.mktemp("template")
    path = root / "orders.db"
    clock = ManualClock(T0)
    with OrderDesk.open(f"sqlite:///{path}", clock=clock, policy=POLICY) as desk:
        ids = seed(desk, clock)
    return Template(root, path, ids, clock.now(), sqlite_snapshot(path))


class RecordingStore(MemoryStore):
    """A memory store that keeps a log of what it was asked to write, to replay it."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[Write | tuple[str, str, int]] = []

    def write(self, write: Write) -> None:
        """Write, and remember the write."""
        super().write(write)
        self.log.append(write)

    def mark_read(self, order_id: str, user_id: str, seq: int) -> None:
        """Mark, and remember the mark."""
        super().mark_read(order_id, user_id, seq)
        self.log.append((order_id, user_id, seq))


class RecordingBlobs(MemoryBlobs):
    """Memory blobs that remember what they were given."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, bytes, str]] = []

    def put(self, name: str, data: bytes, media_type: str) -> Attachment:
        """Keep ``data``, and remember it."""
        self.log.append((name, data, media_type))
        return super().put(name, data, media_type)


@dataclasses.dataclass(frozen=True)
class MemoryTemplate:
    """The seeded memory world as the writes that made it, replayed into fresh stores
    (a fraction of the cost of seeding again through the desk)."""

    writes: tuple[Write | tuple[str, str, int], ...]
    blobs: tuple[tuple[str, bytes, str], ...]
    ids: dict[str, str]
    now: pendulum.DateTime

    def desk(self, notifier: MemoryNotifier) -> OrderDesk:
        """A new desk holding exactly what the seeding wrote."""
        store, blobs = MemoryStore(), MemoryBlobs()
        for entry in self.writes:
            if isinstance(entry, Write):
                store.write(entry)
            else:
                store.mark_read(*entry)
        for name, data, media_type in self.blobs:
            blobs.put(name, data, media_type)
        return OrderDesk(
            store, policy=POLICY, clock=ManualClock(self.now), blobs=blobs, notifier=notifier
        )


@pytest.fixture(scope="module")
def memory_template() -> MemoryTemplate:
    """The seeded memory world, recorded once."""
    clock = ManualClock(T0)
    store, blobs = RecordingStore(), RecordingBlobs()
    desk = OrderDesk(store, policy=POLICY, clock=clock, blobs=blobs)
    ids = seed(desk, clock)
    return MemoryTemplate(tuple(store.log), tuple(blobs.log), ids, clock.now())


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, sample_files: Path) -> WorldFactory:
    """A factory of fresh seeded desks, one per example: ``memory://`` or ``sqlite:///...``."""

    @contextlib.contextmanager
    def memory() -> Iterator[World]:
        template: MemoryTemplate = request.getfixturevalue("memory_template")
        desk = template.desk(MemoryNotifier(fail_first=1))
        yield World(desk, template.ids, sample_files, lambda: memory_snapshot(desk))

    @contextlib.contextmanager
    def sqlite() -> Iterator[World]:
        template: Template = request.getfixturevalue("sqlite_template")
        path = copy_template(template)
        try:
            with OrderDesk.open(
                f"sqlite:///{path}",
                clock=ManualClock(template.now),
                policy=POLICY,
                notifier=MemoryNotifier(fail_first=1),
            ) as desk:
                snapshot = functools.partial(sqlite_snapshot, path)
                yield World(desk, template.ids, sample_files, snapshot, template.snapshot)
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)

    return memory if request.param == "memory" else sqlite


# -- hostile values -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OrderRef:
    """An order of the seeded world, by the name of its state (ids differ per world)."""

    name: str

    def __repr__(self) -> str:
        return f"<order {self.name}>"


@dataclasses.dataclass(frozen=True)
class FileRef:
    """A sample file, by name; resolved to a ``Path`` (or a ``str``) in the samples folder."""

    key: str
    raw: bytes
    content: bytes | None
    as_text: bool = False

    def resolve(self, root: Path) -> Path | str:
        """The file's path in ``root``."""
        if self.raw.startswith(b"/"):
            path = Path(os.fsdecode(self.raw))
        else:
            path = root / os.fsdecode(self.raw)
        return str(path) if self.as_text else path

    def __repr__(self) -> str:
        return f"<file {self.key}{' as str' if self.as_text else ''}>"


FILE_REFS: Final = {
    ref.key: ref
    for ref in (
        FileRef("small", b"post.png", b"\x89PNG small"),
        FileRef("big", b"big.bin", b"x" * 100),
        FileRef("empty", b"empty.txt", b""),
        FileRef("newline", b"a\nb.png", b"nl"),
        FileRef("undecodable", b"\xff\xfe.png", b"ff"),
        FileRef("longest", b"x" * 251 + b".png", b"long"),
        FileRef("sql", b"'; DROP TABLE orders; --.png", b"sql"),
        FileRef("dots", b"...", b"dots"),
        FileRef("folder", b"folder", None),
        FileRef("missing", b"missing.png", None),
        FileRef("devnull", b"/dev/null", None),
    )
}

SQL_LIKE: Final = (
    "'; DROP TABLE orders; --",
    "1' OR '1'='1",
    "ord_x'; DELETE FROM events WHERE '1'='1",
    '" OR ""="',
    "Robert'); DROP TABLE participants;--",
    "*/ SELECT * FROM idempotency /*",
    "%s",
    "%(id)s",
    "?",
    "$1",
    "\\",
)
TRAVERSAL: Final = (
    "../../etc/passwd",
    "..",
    ".",
    "/",
    "/etc/passwd",
    "..\\..\\windows\\win.ini",
    "C:\\Windows\\System32",
    "\\\\server\\share\\x",
    "CON",
    "NUL",
    "aux.txt",
    "~/.ssh/id_rsa",
    "file:///etc/passwd",
    "a/../../b",
    "orders.db",
    ".files",
    ".hidden",
    "x\x00y.png",
)
ODD_TEXT: Final = (
    "",
    " ",
    "   ",
    "\t",
    "\n",
    "\r\n",
    "\x00",
    "a\x00b",
    "\x1b[2J",
    "\x7f",
    "\x85",
    "\u2028",
    "\u202e.exe",
    "\ufeff",
    "\u200b",
    "\U0010ffff",
    "\U0001f600",
    "e\u0301",
)
ISO_TEXT: Final = (
    "2026-12-01T10:00:00",
    "2026-12-01T10:00:00+00:00",
    "2026-12-30T10:00:00+05:45",
    "2026-12-01",
    "9999-12-31T23:59:59+00:00",
    "8999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+14:00",
    "1969-12-31T23:59:59+00:00",
    "2026-02-30T00:00:00Z",
    "2026-12-01T10:00:00+25:00",
    "now",
    "tomorrow",
)
BAD_ZONES: Final = (
    "Mars/Olympus_Mons",
    "UTC\x00",
    "../../../../etc/localtime",
    "/etc/localtime",
    "Europe/Paris ",
    "utc",
    "+05:00",
    "GMT+5",
    "Local",
    "posix/../UTC",
)
BAD_CURRENCIES: Final = ("XXX", "usd", "US", "USDD", "BTC", "XAU", "\u20ac", "US D", "123")
LIMIT_LENGTHS: Final = (199, 200, 201, 254, 255, 256, 1999, 2000, 2001, 9999, 10_000, 10_001)

D = decimal.Decimal
DECIMALS: Final = (
    D("NaN"),
    D("-NaN"),
    D("sNaN"),
    D("Infinity"),
    D("-Infinity"),
    D("1E+999999999"),
    D("-1E+999999999"),
    D("1E-999999999"),
    D("0E-1000000"),
    D("0"),
    D("-0"),
    D("-0.01"),
    D("0.001"),
    D("1E+15"),
    D("999999999999999.99"),
)
INTS: Final = (-1, 0, 1, 2**31, 2**63, -(2**63), 10**30, -(10**30), 10**400)
ZONES: Final = st.builds(
    dt.timezone,
    st.timedeltas(
        min_value=-dt.timedelta(hours=23, minutes=59), max_value=dt.timedelta(hours=23, minutes=59)
    ),
)
FAR_INSTANTS: Final = (
    dt.datetime.min,
    dt.datetime.max,
    dt.datetime.min.replace(tzinfo=dt.UTC),
    dt.datetime.max.replace(tzinfo=dt.UTC),
    dt.datetime(1970, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),
    dt.datetime(9000, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-23, minutes=-59))),
    pendulum.datetime(9000, 12, 31, 23, 59, 59, tz="Pacific/Kiritimati"),
    pendulum.datetime(2026, 12, 6, 10, tz="Asia/Kathmandu"),
)


def _circular() -> list[object]:
    looped: list[object] = [1]
    looped.append(looped)
    return looped


def _surrounded(core: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.text(max_size=5), core, st.text(max_size=5)).map("".join)


SURROGATES: Final = st.text(
    alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3
)
CONTROLS: Final = st.text(
    alphabet=st.characters(max_codepoint=0x9F, categories=["Cc"]), min_size=1, max_size=3
)
HUGE: Final = st.tuples(
    st.sampled_from(["x", "\u00e9", "\U0001f600", "a ", "\n", "'", "\x00"]),
    st.integers(0, 20_000),
).map(lambda pair: pair[0] * pair[1])

#: Hostile strings: what a form, a header or a command line can carry.
HOSTILE_TEXT: Final[st.SearchStrategy[str]] = st.one_of(
    st.text(max_size=30),
    st.sampled_from(SQL_LIKE + TRAVERSAL + ODD_TEXT + ISO_TEXT + BAD_ZONES + BAD_CURRENCIES),
    _surrounded(SURROGATES),
    _surrounded(CONTROLS),
    HUGE,
    st.sampled_from(LIMIT_LENGTHS).map(lambda n: "x" * n),
)

_SCALARS: Final[st.SearchStrategy[object]] = st.one_of(
    HOSTILE_TEXT,
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(INTS),
    st.floats(),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 1e308]),
    st.complex_numbers(max_magnitude=1e6),
    st.sampled_from(DECIMALS),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.binary(max_size=80),
    st.binary(max_size=8).map(bytearray),
    st.datetimes(),  # naive, years 1..9999
    st.datetimes(timezones=ZONES),
    st.sampled_from(FAR_INSTANTS),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.sampled_from(
        [
            object(),
            ...,
            NotImplemented,
            type,
            len,
            Path("post.png"),
            pendulum.duration(years=1),
            Actor.system(),
            Money("1", "EUR"),
            SHORT,
            Outcome.resume,
            Role.cx_agent,
            POLICY,
            frozenset({1, "a"}),
            range(3),
        ]
    ),
    st.builds(_circular),
    st.builds(lambda: iter([1, "a"])),
)

#: Anything at all: scalars, and small containers of them (dicts with mixed keys too).
HOSTILE: Final[st.SearchStrategy[object]] = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=3),
    st.tuples(_SCALARS, _SCALARS),
    st.dictionaries(st.one_of(st.text(max_size=4), st.integers(), st.none()), _SCALARS, max_size=3),
    st.sampled_from([{1: "a", "q": "b"}, {("t",): 1}, {None: None}, {"": ""}]),
)


class _Omit:
    """A keyword left out of the call (the method's default applies)."""

    def __repr__(self) -> str:
        return "<omitted>"


OMIT: Final = _Omit()


def or_hostile(valid: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Mostly ``valid``, a hostile value one time in four: a call with several arguments
    then often gets past the participant and availability checks with one bad value,
    which is where a refused command could already have written something."""
    return st.integers(0, 3).flatmap(lambda n: valid if n else HOSTILE)


def mixed(*valid: object) -> st.SearchStrategy[object]:
    """A valid value (one of ``valid``), or a hostile one."""
    return or_hostile(st.sampled_from(valid))


def optional(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """``strategy``, or the keyword left out."""
    return st.one_of(st.just(OMIT), strategy)


NOW: Final = T0.add(days=5)
ORDER: Final = or_hostile(
    st.one_of(
        st.sampled_from(STATES).map(OrderRef),
        st.sampled_from(["ord_missing", "ord_" + "0" * 24]),
    )
)
WHO: Final = mixed(
    "alice",
    "bob",
    "mallory",
    Actor.buyer("alice"),
    Actor.seller("bob"),
    Actor.buyer("bob"),
    Actor.seller("alice"),
    Actor.cx("carol"),
    Actor.cx("dave"),
    Actor.buyer("mallory"),
    Actor.system(),
)
TEXT: Final = mixed("Warmer colours please", "ok", "", " ", "x" * 10_001)
KEY: Final = optional(
    or_hostile(st.one_of(st.sampled_from(["k-1", "seed-deliver"]), st.text(max_size=8)))
)
FILE_ITEM: Final = or_hostile(
    st.one_of(
        st.tuples(
            st.one_of(st.sampled_from(["post.png", "final cut.mp4", "a" * 255]), HOSTILE_TEXT),
            st.one_of(st.binary(max_size=64), st.binary(min_size=65, max_size=200)),
        ),
        st.builds(
            lambda ref, as_text: dataclasses.replace(ref, as_text=as_text),
            st.sampled_from(list(FILE_REFS.values())),
            st.booleans(),
        ),
    )
)
FILES: Final = optional(
    or_hostile(
        st.one_of(
            st.lists(FILE_ITEM, min_size=1, max_size=4),
            st.lists(FILE_ITEM, min_size=1, max_size=2).map(tuple),
            st.just(()),
        )
    )
)
INSTANT: Final = or_hostile(
    st.one_of(
        st.timedeltas(min_value=dt.timedelta(days=-60), max_value=dt.timedelta(days=400)).map(
            lambda delta: NOW + delta
        ),
        st.sampled_from(ISO_TEXT),
    )
)
PRICE: Final = mixed(
    Money("200.00", "USD"),
    Money("100000", "JPY"),
    Money("1", "EUR"),
    "175.00",
    "120000",
    175,
    D("99.99"),
    "0",
    "-5",
    "1.005",
)
ZONE: Final = optional(mixed("UTC", "Europe/Paris", "Asia/Kathmandu", *BAD_ZONES))
LISTING: Final = mixed(SHORT, LONG, Listing("Tiny", Money("1", "USD"), dt.timedelta(hours=1), 0))
ANSWERS: Final = optional(
    or_hostile(
        st.one_of(
            st.sampled_from([None, {}, {QUESTION: "@alice"}, {QUESTION: ""}, {"Other?": "x"}]),
            st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT, max_size=2),
        )
    )
)
USER_ID: Final = mixed("alice", "bob", "carol", "mallory", "cx_team")


@dataclasses.dataclass(frozen=True)
class Call:
    """One call of a desk method; shown with long values cut, so failures stay readable."""

    method: str
    args: tuple[object, ...]
    kwargs: Mapping[str, object]

    def __repr__(self) -> str:
        parts = [short(a) for a in self.args]
        parts += [f"{k}={short(v)}" for k, v in self.kwargs.items() if v is not OMIT]
        return f"desk.{self.method}({', '.join(parts)})"

    def _repr_pretty_(self, printer: RepresentationPrinter, cycle: bool) -> None:
        """How Hypothesis shows a drawn call: as ``repr``, long values cut."""
        printer.text(repr(self))


def short(value: object, limit: int = 160) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}...<{len(text)} chars>"


def call(
    method: str, *args: st.SearchStrategy[object], **kwargs: st.SearchStrategy[object]
) -> st.SearchStrategy[Call]:
    """A strategy of calls of ``method`` with arguments drawn from the given strategies."""
    return st.builds(
        lambda *a, **k: Call(method, tuple(a), k),
        *args,
        **kwargs,
    )


def _by(method: str, **extra: st.SearchStrategy[object]) -> st.SearchStrategy[Call]:
    return call(method, ORDER, by=WHO, idempotency_key=KEY, **extra)


CALLS: Final[dict[str, st.SearchStrategy[Call]]] = {
    "place": call(
        "place",
        buyer=mixed("alice", "carol"),
        seller=mixed("bob", "alice"),
        listing=LISTING,
        answers=ANSWERS,
        idempotency_key=KEY,
    ),
    "accept": _by("accept"),
    "decline": _by("decline", reason=optional(TEXT)),
    "withdraw": _by("withdraw", reason=optional(TEXT)),
    "deliver": _by(
        "deliver", files=FILES, outside=optional(mixed(True, False)), note=optional(TEXT)
    ),
    "approve": _by("approve"),
    "request_revision": _by("request_revision", note=TEXT),
    "propose_update": _by(
        "propose_update",
        price=optional(PRICE),
        due_at=optional(INSTANT),
        revisions=optional(or_hostile(st.integers(0, 6))),
    ),
    "accept_update": _by("accept_update"),
    "reject_update": _by("reject_update"),
    "withdraw_update": _by("withdraw_update"),
    "dispute": _by("dispute", reason=TEXT),
    "join": _by("join"),
    "resolve": _by("resolve", outcome=mixed("resume", "complete", "cancel", *Outcome), note=TEXT),
    "cancel": _by("cancel", reason=TEXT),
    "say": _by("say", text=optional(TEXT), files=FILES),
    "get": call("get", ORDER),
    "history": call("history", ORDER),
    "actions": call("actions", ORDER, viewer=WHO, tz=ZONE),
    "next_step": call("next_step", ORDER, viewer=WHO, tz=ZONE),
    "chat": call(
        "chat",
        ORDER,
        viewer=WHO,
        since=optional(or_hostile(st.one_of(st.none(), st.integers(0, 40)))),
        tz=ZONE,
        next_step=optional(mixed(True, False)),
    ),
    "inbox": call("inbox", USER_ID, tz=ZONE),
    "mark_read": call("mark_read", ORDER, by=WHO),
    "tick": call("tick", now=optional(INSTANT), limit=optional(or_hostile(st.integers(1, 50)))),
    "relay": call("relay", limit=optional(or_hostile(st.integers(1, 50))), now=optional(INSTANT)),
}
#: Methods that read only: they must leave storage unchanged even when they succeed.
QUERIES: Final = frozenset({"get", "history", "actions", "next_step", "chat", "inbox"})


def resolve(value: object, world: World) -> object:
    """``value`` with order and file references replaced (one level into lists and tuples)."""
    if isinstance(value, OrderRef):
        return world.ids[value.name]
    if isinstance(value, FileRef):
        return value.resolve(world.files)
    if isinstance(value, (list, tuple)) and any(isinstance(v, (OrderRef, FileRef)) for v in value):
        items = [resolve(v, world) for v in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def tail(error: BaseException) -> str:
    """Where ``error`` came from: the library's innermost frames, the last frame, the error."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if f"{os.sep}order_lifecycle{os.sep}" in f.filename][-3:]
    if frames and (not ours or ours[-1] is not frames[-1]):
        ours.append(frames[-1])
    lines = traceback.format_list(ours)
    return "".join(lines) + "".join(traceback.format_exception_only(error))


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """The parts of storage that differ."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def check_call(world: World, made: Call) -> None:
    """Run ``made``: it returns, or raises an ``OrderLifecycleError`` and changes nothing."""
    method = getattr(world.desk, made.method)
    args = [resolve(a, world) for a in made.args]
    kwargs = {k: resolve(v, world) for k, v in made.kwargs.items() if v is not OMIT}
    before = world.snapshot() if world.before is None else world.before
    refused: OrderLifecycleError | None = None
    escaped: BaseException | None = None
    try:
        method(*args, **kwargs)
    except OrderLifecycleError as error:
        refused = error
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        escaped = error
    if escaped is not None:
        where = tail(escaped)
        pytest.fail(
            f"{made!r} raised {type(escaped).__name__}, not an OrderLifecycleError:\n{where}",
            pytrace=False,
        )
    if refused is not None or made.method in QUERIES:
        diff = changed(before, world.snapshot())
        why = "succeeded" if refused is None else f"was refused ({short(repr(refused))})"
        assert not diff, f"{made!r} {why} but changed storage: {diff}"


def budget(dev: int) -> int:
    """``dev`` examples under the dev profile (50), scaled to the active profile."""
    return max(5, dev * settings().max_examples // 50)


HEALTH: Final = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
]


# -- the desk ------------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(CALLS))
@settings(max_examples=budget(12), deadline=None, suppress_health_check=HEALTH)
@given(data=st.data())
def test_every_desk_method_refuses_hostile_input_cleanly(
    world: WorldFactory, method: str, data: st.DataObject
) -> None:
    """Each public ``OrderDesk`` method, with valid and hostile arguments mixed, on a fresh
    seeded desk: it returns, or raises an ``OrderLifecycleError`` and storage (orders,
    events, chat, outbox, idempotency keys, read marks, files) is unchanged."""
    made = data.draw(CALLS[method], label="call")
    with world() as seeded:
        check_call(seeded, made)


PG_METHODS: Final = ("place", "deliver", "say", "propose_update")


@pytest.mark.postgres
@pytest.mark.parametrize("method", PG_METHODS)
@settings(
    max_examples=budget(8),
    deadline=None,
    suppress_health_check=HEALTH,
    # No shrinking: a PostgreSQL example costs a round trip per table, and the desk
    # carries over what earlier examples did; the memory and SQLite runs shrink.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(data=st.data())
def test_hostile_input_on_postgres(pg_desk: World, method: str, data: st.DataObject) -> None:
    """The same property on PostgreSQL (its blobs table included), for the commands that
    take the most varied input. The desk is seeded once per test and carries over what
    earlier examples did; each example compares the schema's rows before and after."""
    check_call(pg_desk, data.draw(CALLS[method], label="call"))


@pytest.fixture
def pg_desk(pg_schema_url: str, sample_files: Path) -> Iterator[World]:
    """A seeded desk on a PostgreSQL schema of its own."""
    clock = ManualClock(T0)
    with OrderDesk.open(pg_schema_url, clock=clock, policy=POLICY) as desk:
        ids = seed(desk, clock)
        yield World(desk, ids, sample_files, lambda: pg_snapshot(pg_schema_url))


VALUE_PARTS: Final = st.fixed_dictionaries(
    {
        "amount": HOSTILE,
        "currency": mixed("USD", "JPY", "KWD", *BAD_CURRENCIES),
        "title": mixed("Logo"),
        "delivery": mixed(pendulum.duration(days=3), dt.timedelta(hours=5)),
        "revisions": mixed(0, 2, 100, 101),
        "question": mixed("Colour?"),
        "required": mixed(True, False),
        "actor_id": mixed("alice"),
        "role": mixed("buyer", Role.seller, "cx_agent", "system"),
        "limit": mixed(1, 64, 2**40),
        "other": HOSTILE,
    }
)


@settings(max_examples=budget(100), deadline=None, suppress_health_check=HEALTH)
@given(parts=VALUE_PARTS)
def test_value_objects_refuse_hostile_input_cleanly(parts: dict[str, object]) -> None:
    """What a host builds before calling the desk -- ``Money``, ``Listing``,
    ``BuyerRequest``, ``Actor``, ``Policy`` -- is built, or refused with an
    ``OrderLifecycleError``."""
    p = parts
    price = Money("10", "USD") if p["amount"] is None else p["amount"]
    attempts: list[tuple[str, Callable[[], object]]] = [
        ("Money", lambda: Money(p["amount"], p["currency"])),
        ("Money", lambda: Money(D(7), p["currency"])),
        ("BuyerRequest", lambda: BuyerRequest(p["question"], p["required"])),  # type: ignore[arg-type]
        ("Actor", lambda: Actor(p["actor_id"], p["role"])),
        ("Listing", lambda: Listing(p["title"], price, p["delivery"], p["revisions"])),
        (
            "Policy",
            lambda: Policy(
                review_window=p["delivery"],
                acceptance_window=p["other"],
                max_file_bytes=p["limit"],
                cx_team=p["other"],
            ),
        ),
    ]
    for name, build in attempts:
        escaped: BaseException | None = None
        try:
            build()
        except OrderLifecycleError:
            pass
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            escaped = error
        if escaped is not None:
            where = tail(escaped)
            pytest.fail(f"{name}(...) raised {type(escaped).__name__}:\n{where}", pytrace=False)


# -- the command line ----------------------------------------------------------------


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """The CLI in process: exit code, stdout, stderr; an escaping exception fails the test."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stderr
    sys.stderr = err
    try:
        code = main(argv, stdout=out)
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        where = tail(error)
        pytest.fail(
            f"main({short(argv, 400)}) raised {type(error).__name__}:\n{where}", pytrace=False
        )
    finally:
        sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("the CLI has no subcommands")


SUBCOMMANDS: Final = _subcommands()

#: Valid (or meaningful) values per option ``dest``; each is mixed with hostile text.
CLI_VALUES: Final[dict[str, tuple[str, ...]]] = {
    "actor": ("bob", "alice", "mallory", "cx:carol", "cx:dave", "cx:", "cx:cx:bob"),
    "buyer": ("alice", "carol"),
    "seller": ("bob", "alice"),
    "title": ("Logo", "x" * 201),
    "price": ("150.00", "0.01", "1e999999999", "NaN", "-5", "1.005", "0"),
    "currency": ("USD", "JPY", "XXX", "usd"),
    "delivery_days": ("3", "0", "-1", "3660", "3661", str(10**30), "1.5"),
    "revisions": ("0", "2", "101", "-1", str(10**30)),
    "request": (QUESTION, ""),
    "required_request": (QUESTION, "Colour?"),
    "answer": ("@alice", ""),
    "reason": ("Nothing delivered", ""),
    "note": ("Warmer colours please", ""),
    "text": ("Hello", ""),
    "outcome": ("resume", "complete", "cancel"),
    "due": ("2026-12-30T10:00:00+00:00", "2026-12-01T10:00:00+00:00", "2026-12-30T10:00:00"),
    "extend_days": ("1", "0", "-1", "3000000", str(10**20)),
    "tz": ("UTC", "Europe/Paris", "Mars/Olympus"),
    "since": ("0", "3", "-1", str(2**63)),
    "limit": ("1", "5", "0", str(10**30)),
    "webhook": ("http://127.0.0.1:9/hook", "file:///etc/passwd", "ftp://example.invalid/x"),
    "secret": ("s3cret", ""),
    "format": ("mermaid", "dot"),
}
UNKNOWN_OPTIONS: Final = ("--bogus", "-x", "--", "--as", "--json", "--db", "extra", "-1")
NOW_VALUES: Final = (
    "2026-12-06T10:00:00+00:00",
    "2026-12-06T11:00:00+01:00",
    "2027-01-01T00:00:00Z",
)


def _not_help(token: str) -> str:
    """``token``, unless argparse would read it as ``-h``/``--help`` (they print and exit 0)."""
    name = token.partition("=")[0]
    if token.startswith("-h") or (name.startswith("--h") and "--help".startswith(name)):
        return f"x{token}"
    return token


def sparse(valid: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Mostly ``valid``, hostile text one time in four: a command line with several
    options then often gets through parsing to the desk with one bad value."""
    return st.integers(0, 3).flatmap(lambda n: valid if n else HOSTILE_TEXT)


def _value(action: argparse.Action) -> st.SearchStrategy[object]:
    """A value for ``action``: an order id, a sample file, a valid value, or hostile text."""
    if action.dest == "id":
        return sparse(st.sampled_from(STATES).map(OrderRef))
    if action.dest == "files":
        refs = [dataclasses.replace(ref, as_text=True) for ref in FILE_REFS.values()]
        return sparse(st.sampled_from(refs))
    valid = tuple(action.choices or ()) or CLI_VALUES.get(action.dest, ())
    if not valid:
        return HOSTILE_TEXT
    return sparse(st.sampled_from(valid))


@st.composite
def _cli_groups(draw: st.DrawFn, command: str) -> list[list[object]]:
    """The subcommand's arguments as groups (an option and its value stay together), some
    required ones missing, unknown ones added, in a random order."""
    groups: list[list[object]] = []
    for action in SUBCOMMANDS[command]._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if "--follow" in action.option_strings:
            continue  # runs until Ctrl-C by design: tests/cli/test_cli_feed.py stops it
        if not action.option_strings:  # a positional
            if draw(st.integers(0, 7)) > 0:
                groups.append([draw(_value(action))])
            continue
        repeats = isinstance(action, argparse._AppendAction) or action.dest in (
            "request",
            "required_request",
        )
        times = (
            draw(st.integers(0, 3))
            if repeats
            else int(draw(st.integers(0, 7)) > (0 if action.required else 3))
        )
        for _ in range(times):
            flag = draw(st.sampled_from(action.option_strings))
            if action.nargs == 0:
                groups.append([flag])
                continue
            value = draw(_value(action))
            if isinstance(value, str) and draw(st.integers(0, 4)) == 0:
                groups.append([f"{flag}={value}"])
            else:
                groups.append([flag, value])
    groups += [
        [draw(st.sampled_from(UNKNOWN_OPTIONS))] for _ in range(draw(st.integers(0, 7)) // 7)
    ]
    return draw(st.permutations(groups))


@dataclasses.dataclass(frozen=True)
class CliRun:
    """A generated command line (order and file references still symbolic)."""

    tokens: list[object]
    as_json: bool

    def __repr__(self) -> str:
        return f"order-lifecycle {' '.join(short(t, 80) for t in self.tokens)}"

    def _repr_pretty_(self, printer: RepresentationPrinter, cycle: bool) -> None:
        """How Hypothesis shows it: long values cut (a full repr can be megabytes)."""
        printer.text(repr(self))


@st.composite
def cli_runs(draw: st.DrawFn, command: str) -> CliRun:
    """A command line for ``command`` (``--db`` is added when it runs)."""
    prefix: list[list[object]] = []
    as_json = draw(st.booleans())
    if as_json:
        prefix.append(["--json"])
    now = draw(st.one_of(sparse(st.sampled_from(NOW_VALUES)), st.none()))
    if now is not None:
        prefix.append(["--now", now])
    groups = draw(_cli_groups(command))
    argv = [t for g in draw(st.permutations(prefix)) for t in g] + [command]
    return CliRun(argv + [t for g in groups for t in g], as_json)


def _argv(tokens: list[object], db: Path, ids: Mapping[str, str], files: Path) -> list[str]:
    argv = ["--db", f"sqlite:///{db}"]
    for token in tokens:
        if isinstance(token, OrderRef):
            argv.append(ids[token.name])
        elif isinstance(token, FileRef):
            argv.append(str(token.resolve(files)))
        else:
            assert isinstance(token, str)
            argv.append(_not_help(token))
    return argv


def check_cli(argv: list[str], folder: Path, as_json: bool) -> None:
    """Run the CLI: exit 0, 2, 3 or 4; a failure is one line on stderr, on stdout nothing
    (or, with ``--json``, one JSON document of the error), no traceback, and the
    database and its files unchanged."""
    # Byte-for-byte, not a dump: the CLI closes its connections before returning, which
    # checkpoints the WAL into the main file, so reading the files is stable (a run that
    # writes nothing leaves every byte, -wal included, as it was).
    before = folder_state(folder)
    code, out, err = run_cli(argv)
    shown = short(argv, 400)
    assert "Traceback" not in err, f"{shown} printed a traceback:\n{err}"
    assert code in (0, 2, 3, 4), f"{shown} exited {code}: {err!r}"
    if code == 0:
        if as_json:
            try:
                json.loads(out)
            except ValueError as error:
                pytest.fail(f"{shown} --json printed no JSON document ({error}): {out[:300]!r}")
        return
    if as_json or (out and "--json" in argv):  # a hostile value may be "--json" itself
        try:
            document = json.loads(out)
        except ValueError as error:
            pytest.fail(f"{shown} --json printed no JSON document of its error ({error}): {out!r}")
        assert set(document) >= {"error", "message"}, f"{shown}: {document!r}"
    else:
        assert out == "", f"{shown} exited {code} but printed on stdout: {out[:300]!r}"
    one_line = bool(err.strip()) and err.endswith("\n") and err.count("\n") == 1
    assert one_line, f"{shown} exited {code}; stderr is not one line: {err[:500]!r}"
    after = folder_state(folder)
    diff = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not diff, f"{shown} exited {code} but changed {diff}"


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
@settings(max_examples=budget(10), deadline=None, suppress_health_check=HEALTH)
@given(data=st.data())
def test_every_cli_command_refuses_hostile_input_cleanly(
    sqlite_template: Template, sample_files: Path, command: str, data: st.DataObject
) -> None:
    """Each command with generated arguments (hostile values, missing required options,
    unknown ones, any order) on a fresh copy of a seeded SQLite database."""
    run = data.draw(cli_runs(command), label="argv")
    db = copy_template(sqlite_template)
    try:
        argv = _argv(run.tokens, db, sqlite_template.ids, sample_files)
        check_cli(argv, db.parent, run.as_json)
    finally:
        shutil.rmtree(db.parent, ignore_errors=True)


# -- regressions: failures these tests found (kept as plain, deterministic tests) -----------


@pytest.fixture
def seeded(sample_files: Path) -> Iterator[World]:
    """A seeded memory desk."""
    clock = ManualClock(T0)
    with OrderDesk.open("memory://", clock=clock, policy=POLICY) as desk:
        ids = seed(desk, clock)
        yield World(desk, ids, sample_files, lambda: memory_snapshot(desk))


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("place", {"answers": {1: "a", QUESTION: "@alice"}}),
        ("decline", {"reason": {1: "a", "b": "c"}}),
        ("deliver", {"outside": True, "note": {("t",): 1}}),
        ("say", {"text": _circular()}),
        ("request_revision", {"note": {None: 1, "a": 2}}),
    ],
    ids=["place-answers", "decline-reason", "deliver-note", "say-text", "revise-note"],
)
def test_unserialisable_arguments_are_validation_errors(
    seeded: World, method: str, kwargs: dict[str, object]
) -> None:
    """Arguments JSON cannot encode or sort (dicts with mixed or tuple keys, lists that
    contain themselves) are refused as bad input: the idempotency fingerprint once raised
    ``TypeError`` / ``ValueError`` on them before any validation ran."""
    targets: dict[str, dict[str, object]] = {
        "place": {"buyer": "alice", "seller": "bob", "listing": SHORT},
        "decline": {"by": "bob"},
        "deliver": {"by": "bob"},
        "say": {"by": "bob"},
        "request_revision": {"by": "alice"},
    }
    target = targets[method]
    where = {"decline": "pending", "deliver": "accepted", "say": "pending"}.get(method, "delivered")
    args = () if method == "place" else (seeded.ids[where],)
    check_call(seeded, Call(method, args, {**target, **kwargs}))


@pytest.mark.parametrize("required", ["", "yes", 1, None])
def test_a_buyer_request_with_a_non_bool_required_is_a_validation_error(required: object) -> None:
    """``BuyerRequest(question, required=...)`` refuses a non-bool with a ``ValidationError``,
    like every other value object, not the ``TypeError`` of an attrs validator."""
    with pytest.raises(OrderLifecycleError):
        BuyerRequest("Colour?", required)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["1e999999999", D("-1E+999999999"), "1E+1000000"])
def test_amounts_with_huge_exponents_are_validation_errors(amount: object) -> None:
    """``Money`` with an exponent beyond the decimal context's range is refused as bad input,
    not a ``decimal.Overflow``."""
    with pytest.raises(OrderLifecycleError):
        Money(amount, "USD")


def test_proposed_price_with_huge_exponent_is_a_validation_error(seeded: World) -> None:
    """The desk's plain-amount path of ``propose_update`` refuses it too."""
    check_call(
        seeded,
        Call("propose_update", (seeded.ids["accepted"],), {"by": "bob", "price": "1e999999999"}),
    )


@pytest.mark.parametrize("as_path", [False, True], ids=["str", "Path"])
@pytest.mark.parametrize(
    ("method", "where", "name"),
    [
        ("deliver", "accepted", "x\x00y.png"),
        ("say", "pending", "x\x00y.png"),
        ("deliver", "accepted", "\ud800.png"),
        ("say", "pending", "\ud800.png"),
    ],
    ids=["deliver-nul", "say-nul", "deliver-surrogate", "say-surrogate"],
)
def test_a_file_path_the_os_cannot_take_is_a_validation_error(
    seeded: World, method: str, where: str, name: str, as_path: bool
) -> None:
    """A path holding NUL, or an unpaired surrogate the file system encoding cannot
    encode, names no file: refused as bad input, not ``ValueError`` /
    ``UnicodeEncodeError`` from ``os.stat``."""
    files = [Path(name) if as_path else name]
    check_call(seeded, Call(method, (seeded.ids[where],), {"by": "bob", "files": files}))


@pytest.mark.parametrize(
    ("method", "where", "kwargs"),
    [
        ("deliver", "accepted", {"note": "x" * 10_001}),
        ("deliver", "accepted", {"note": "\x00"}),
        ("deliver", "accepted", {"outside": "yes"}),
        ("say", "pending", {"text": "x" * 10_001}),
    ],
    ids=["deliver-long-note", "deliver-nul-note", "deliver-outside-not-bool", "say-long-text"],
)
def test_a_refused_delivery_or_message_stores_no_file(
    sqlite_template: Template,
    sample_files: Path,
    method: str,
    where: str,
    kwargs: dict[str, object],
) -> None:
    """Valid files with an invalid other argument: the command is refused, and the file is
    not written to the files folder beside the database either (the files are stored
    before the arguments are validated)."""
    path = copy_template(sqlite_template)
    try:
        with OrderDesk.open(
            f"sqlite:///{path}", clock=ManualClock(sqlite_template.now), policy=POLICY
        ) as desk:
            world = World(desk, sqlite_template.ids, sample_files, lambda: sqlite_snapshot(path))
            files = [("fresh.png", b"never stored before")]
            args = (sqlite_template.ids[where],)
            check_call(world, Call(method, args, {"by": "bob", "files": files, **kwargs}))
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def test_an_endless_device_file_is_refused(tmp_path: Path) -> None:
    """``/dev/zero`` reports a size of 0 and never ends: the desk must refuse it (a regular
    file is expected, or at most ``max_file_bytes + 1`` bytes read), not read it until
    memory runs out. Run in a child process capped at 1 GiB of address space."""
    script = textwrap.dedent(
        """
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from pathlib import Path
        import pendulum
        from order_lifecycle import Listing, ManualClock, Money, OrderDesk, Policy
        from order_lifecycle.errors import OrderLifecycleError
        desk = OrderDesk.open("memory://", clock=ManualClock(pendulum.datetime(2026, 12, 1)),
                              policy=Policy(max_file_bytes=64))
        listing = Listing("Logo", Money("10", "USD"), pendulum.duration(days=3), 1)
        order = desk.place(buyer="alice", seller="bob", listing=listing)
        desk.accept(order.id, by="bob")
        try:
            desk.deliver(order.id, by="bob", files=[Path("/dev/zero")])
        except OrderLifecycleError as error:
            print("refused:", type(error).__name__)
        except BaseException as error:
            print("escaped:", type(error).__name__)
        else:
            print("accepted")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.stdout.startswith("refused:"), (done.stdout, done.stderr[-500:])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(seeded: World, tmp_path: Path) -> None:
    """A FIFO blocks its reader until someone writes: the desk must refuse it (not a
    regular file) instead of hanging the command. Unblocked after 2 s by this test."""
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def deliver() -> None:
        try:
            seeded.desk.deliver(seeded.ids["accepted"], by="bob", files=[fifo])
        except BaseException as error:
            outcome.append(error)
        else:
            outcome.append(None)

    worker = threading.Thread(target=deliver, daemon=True)
    worker.start()
    worker.join(2)
    blocked = worker.is_alive()
    if blocked:  # let the reader see end-of-file, so the thread ends
        fd = os.open(fifo, os.O_WRONLY)
        os.close(fd)
        worker.join(10)
    assert not blocked, "deliver(files=[FIFO]) blocked reading the FIFO"
    assert outcome, "deliver(files=[FIFO]) ended without an outcome"
    assert isinstance(outcome[0], OrderLifecycleError), outcome


_PLACE: Final = ["place", "--buyer", "alice", "--seller", "bob", "--title", "T"]


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(
            ["propose", "{accepted}", "--as", "bob", "--extend-days", str(10**20)],
            id="extend-days-huge",
        ),
        pytest.param(
            ["propose", "{accepted}", "--as", "bob", "--extend-days", "3000000"],
            id="extend-days-past-year-9999",
        ),
        pytest.param(
            [*_PLACE, "--price", "10", "--delivery-days", str(10**30), "--revisions", "1"],
            id="delivery-days-huge",
        ),
        pytest.param(
            [*_PLACE, "--price", "1e999999999", "--delivery-days", "3", "--revisions", "1"],
            id="price-exponent",
        ),
        pytest.param(
            ["deliver", "{accepted}", "--as", "bob", "--file", "x\x00y.png"], id="file-nul"
        ),
        pytest.param(
            ["say", "{pending}", "--as", "bob", "--file", "\ud800.png"], id="file-surrogate"
        ),
        pytest.param(["show", "{pending}", "two\nlines"], id="unknown-argument-newline"),
    ],
)
def test_cli_regressions(sqlite_template: Template, argv: list[str]) -> None:
    """Command lines the property test found: each must end with exit 2, 3 or 4 and one
    line on stderr, not an exception escaping ``main`` or a message over several lines."""
    db = copy_template(sqlite_template)
    try:
        filled = [token.format(**sqlite_template.ids) for token in argv]
        check_cli(["--db", f"sqlite:///{db}", "--now", NOW.isoformat(), *filled], db.parent, False)
    finally:
        shutil.rmtree(db.parent, ignore_errors=True)
