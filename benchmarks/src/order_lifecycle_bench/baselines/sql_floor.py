"""Storage floors: the rows of a command written by hand-written SQL, nothing else.

Per command the floor reads the order (its version and document), then writes what the
library writes for that command: the order's new version, state, times and document with
a version check, its event (which the chat shows as its notice) and the outbox row
for the other party. Every value is computed before the clock starts (the documents are
the library's own JSON for the same story), so the floor spends no time deciding or
serialising: it is the least the database can cost for a command.

The order's UPDATE sets the columns the library's own ``rows.UPDATE_ORDER`` sets (so the
floor follows the schema as it grows: the version check, the document, the inbox's
pre-rendered last entry...), and its event row is the library's: on SQLite numbered in
the feed inside the write transaction (``adapters.sqlite.INSERT_EVENT``), on PostgreSQL
left for the feed's readers to number (its ``written`` column's default); the rest is
written here.

- SQLite: one ``BEGIN IMMEDIATE`` transaction (SELECT, UPDATE, 2 INSERTs, COMMIT) on a
  connection with the library's settings (WAL, ``synchronous=FULL``).
- PostgreSQL: a SELECT, then one write statement (UPDATE with version check and both
  INSERTs chained in a data-modifying CTE) in autocommit: two round trips, one commit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from order_lifecycle.adapters import rows
from order_lifecycle.adapters.sqlite import INSERT_EVENT

__all__ = ["FloorCommand", "pg_command", "sqlite_command", "sqlite_connect"]

SELECT: Final = "SELECT version, doc FROM orders WHERE id = ?"
UPDATE: Final = rows.UPDATE_ORDER
EVENT: Final = INSERT_EVENT
OUTBOX: Final = rows.INSERT_OUTBOX
PG_SELECT: Final = "SELECT version, doc FROM orders WHERE id = %s"


def _chained(insert: rows.Insert) -> str:
    """``insert`` fed by the updated row's id (its first column) in a CTE chain."""
    marks = ", ".join(["%s"] * (len(insert.columns) - 1))
    return f"INSERT INTO {insert.table} ({', '.join(insert.columns)}) SELECT id, {marks} FROM u"


PG_WRITE: Final = (
    "WITH u AS ("
    + rows.pg(rows.UPDATE_ORDER)
    + " RETURNING id), e AS ("
    + _chained(rows.EVENTS)
    + ") "
    + _chained(rows.OUTBOX)
)


class FloorConflict(Exception):
    """The order was not at the expected version (never happens in the benchmarks)."""


@dataclass(frozen=True)
class FloorCommand:
    """Everything one command writes, precomputed."""

    order_id: str
    expected: int
    #: The parameters of ``rows.UPDATE_ORDER`` (ending with the id and expected version).
    update: tuple[Any, ...]
    #: seq, kind, action, actor, at, doc
    event: tuple[Any, ...]
    #: seq, recipient, role, kind, created_at
    outbox: tuple[Any, ...]


def sqlite_connect(path: str) -> sqlite3.Connection:
    """A connection with the library's default settings: WAL, ``synchronous=FULL``."""
    conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def sqlite_command(conn: sqlite3.Connection, cmd: FloorCommand) -> None:
    """One command in one ``BEGIN IMMEDIATE`` transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = conn.execute(SELECT, (cmd.order_id,)).fetchone()
        if found is None or found[0] != cmd.expected:
            raise FloorConflict(cmd.order_id)
        moved = conn.execute(UPDATE, cmd.update)
        if moved.rowcount != 1:
            raise FloorConflict(cmd.order_id)
        conn.execute(EVENT, (cmd.order_id, *cmd.event))
        conn.execute(OUTBOX, (cmd.order_id, *cmd.outbox))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def pg_command(conn: Any, cmd: FloorCommand) -> None:
    """A SELECT, then one write statement (autocommit: it commits by itself)."""
    found: Sequence[Any] | None = conn.execute(PG_SELECT, (cmd.order_id,)).fetchone()
    if found is None or found[0] != cmd.expected:
        raise FloorConflict(cmd.order_id)
    cur = conn.execute(PG_WRITE, (*cmd.update, *cmd.event, *cmd.outbox))
    if cur.rowcount != 1:
        raise FloorConflict(cmd.order_id)
