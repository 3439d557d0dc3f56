"""The schema of the SQL stores: one list of migrations, one numbering, a statement
per dialect (SQLite, PostgreSQL).

The same tables on both; instants are whole microseconds since the Unix epoch (integers),
documents are the JSON text of ``serde``. On PostgreSQL key columns compare bytewise
(``COLLATE "C"``) and files live in a ``blobs`` table (SQLite keeps them in a folder).
"""

from __future__ import annotations

from typing import Final, Literal

import attrs

from order_lifecycle.errors import StorageError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Dialect", "Migration", "pending"]

Dialect = Literal["sqlite", "postgres"]


@attrs.frozen
class Migration:
    """One step of the schema, from the number before it to its own."""

    number: int
    does: str
    #: The dialect's statements, separated by ``;`` (``""``: nothing to do on it).
    sqlite: str
    postgres: str

    def statements(self, dialect: Dialect) -> list[str]:
        """The step's statements on ``dialect``."""
        script = self.sqlite if dialect == "sqlite" else self.postgres
        return [s.strip() for s in script.split(";") if s.strip()]


#: Positions for the events written before the feed existed: by the latest instant of the
#: order's history up to each event (so an order's events stay in seq order even where an
#: instant went back), then by order id and seq. The same numbering on both dialects.
_NUMBERING: Final = (
    "SELECT order_id, seq, row_number() OVER (ORDER BY reached, order_id, seq) AS position"
    " FROM (SELECT order_id, seq, max(at) OVER (PARTITION BY order_id ORDER BY seq"
    " ROWS UNBOUNDED PRECEDING) AS reached FROM events) AS timed"
)

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        1,
        "the tables",
        sqlite="""
            CREATE TABLE orders (
                id TEXT PRIMARY KEY,
                version INTEGER NOT NULL,
                state TEXT NOT NULL,
                buyer TEXT NOT NULL,
                seller TEXT NOT NULL,
                title TEXT NOT NULL,
                updated_at INTEGER NOT NULL,
                next_timer_at INTEGER,
                lifecycle TEXT NOT NULL,
                doc TEXT NOT NULL
            );
            CREATE INDEX orders_next_timer ON orders (next_timer_at)
                WHERE next_timer_at IS NOT NULL;
            CREATE TABLE events (
                order_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                kind TEXT NOT NULL,
                action TEXT NOT NULL,
                actor TEXT NOT NULL,
                at INTEGER NOT NULL,
                doc TEXT NOT NULL,
                PRIMARY KEY (order_id, seq)
            ) WITHOUT ROWID;
            CREATE TABLE outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                order_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                recipient TEXT NOT NULL,
                role TEXT NOT NULL,
                kind TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER,
                last_error TEXT
            );
            CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE status = 'pending';
            CREATE TABLE idempotency (
                key TEXT PRIMARY KEY,
                fingerprint TEXT NOT NULL,
                order_id TEXT NOT NULL,
                version INTEGER NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE participants (
                user_id TEXT NOT NULL,
                order_id TEXT NOT NULL,
                role TEXT NOT NULL,
                last_read_seq INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (user_id, order_id)
            ) WITHOUT ROWID;
            CREATE INDEX participants_order ON participants (order_id);
        """,
        postgres="""
            CREATE TABLE orders (
                id TEXT COLLATE "C" PRIMARY KEY,
                version BIGINT NOT NULL,
                state TEXT NOT NULL,
                buyer TEXT NOT NULL,
                seller TEXT NOT NULL,
                title TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                next_timer_at BIGINT,
                lifecycle TEXT NOT NULL,
                doc TEXT NOT NULL
            );
            CREATE INDEX orders_next_timer ON orders (next_timer_at)
                WHERE next_timer_at IS NOT NULL;
            CREATE TABLE events (
                order_id TEXT COLLATE "C" NOT NULL,
                seq BIGINT NOT NULL,
                kind TEXT NOT NULL,
                action TEXT NOT NULL,
                actor TEXT NOT NULL,
                at BIGINT NOT NULL,
                doc TEXT NOT NULL,
                PRIMARY KEY (order_id, seq)
            );
            CREATE TABLE outbox (
                id BIGSERIAL PRIMARY KEY,
                order_id TEXT COLLATE "C" NOT NULL,
                seq BIGINT NOT NULL,
                recipient TEXT NOT NULL,
                role TEXT NOT NULL,
                kind TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at BIGINT,
                last_error TEXT
            );
            CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE status = 'pending';
            CREATE TABLE idempotency (
                key TEXT COLLATE "C" PRIMARY KEY,
                fingerprint TEXT NOT NULL,
                order_id TEXT NOT NULL,
                version BIGINT NOT NULL
            );
            CREATE TABLE participants (
                user_id TEXT COLLATE "C" NOT NULL,
                order_id TEXT COLLATE "C" NOT NULL,
                role TEXT NOT NULL,
                last_read_seq BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (user_id, order_id)
            );
            CREATE INDEX participants_order ON participants (order_id);
        """,
    ),
    Migration(
        2,
        "file contents in the database (PostgreSQL only: SQLite keeps files in a folder)",
        sqlite="",
        postgres="""
            CREATE TABLE blobs (
                sha256 TEXT COLLATE "C" PRIMARY KEY,
                size BIGINT NOT NULL,
                data BYTEA NOT NULL
            )
        """,
    ),
    Migration(
        3,
        "who each order waits on; outbox claims; the inbox's indexes",
        sqlite="""
            ALTER TABLE orders ADD COLUMN waiting TEXT NOT NULL DEFAULT '';
            ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;
            CREATE INDEX outbox_order_recipient ON outbox (order_id, recipient, id)
                WHERE status = 'pending';
            CREATE INDEX participants_user ON participants (user_id, order_id)
        """,
        postgres="""
            ALTER TABLE orders ADD COLUMN waiting TEXT NOT NULL DEFAULT '';
            ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
            CREATE INDEX outbox_order_recipient ON outbox (order_id, recipient, id)
                WHERE status = 'pending';
            CREATE INDEX participants_user ON participants (user_id, order_id)
        """,
    ),
    Migration(
        4,
        "the newest chat entry of each order, for the inbox",
        sqlite="""
            ALTER TABLE orders ADD COLUMN last_entry TEXT
        """,
        postgres="""
            ALTER TABLE orders ADD COLUMN last_entry TEXT
        """,
    ),
    Migration(
        5,
        "participants as events name their actor (the unread count compares them)",
        sqlite="""
            ALTER TABLE participants ADD COLUMN actor TEXT NOT NULL DEFAULT '';
            UPDATE participants SET actor = user_id WHERE role <> 'cx_agent';
            UPDATE participants SET actor = 'cx:' || user_id WHERE role = 'cx_agent'
        """,
        postgres="""
            ALTER TABLE participants ADD COLUMN actor TEXT NOT NULL DEFAULT '';
            UPDATE participants SET actor = user_id WHERE role <> 'cx_agent';
            UPDATE participants SET actor = 'cx:' || user_id WHERE role = 'cx_agent'
        """,
    ),
    Migration(
        6,
        "the event feed: a position per event (existing events numbered by time, each"
        " order's in seq order); on PostgreSQL, each event's writing transaction and the"
        " counter of the numbering rounds",
        sqlite=f"""
            ALTER TABLE events ADD COLUMN position INTEGER;
            CREATE TEMP TABLE feed_numbering AS {_NUMBERING};
            UPDATE events SET position = (SELECT n.position FROM temp.feed_numbering n
                WHERE n.order_id = events.order_id AND n.seq = events.seq);
            DROP TABLE temp.feed_numbering;
            CREATE UNIQUE INDEX events_position ON events (position)
        """,  # noqa: S608 - constant text: the numbering above, no input
        postgres=f"""
            ALTER TABLE events ADD COLUMN position BIGINT;
            ALTER TABLE events ADD COLUMN written xid8;
            ALTER TABLE events ALTER COLUMN written SET DEFAULT pg_current_xact_id();
            UPDATE events e SET position = n.position FROM ({_NUMBERING}) n
                WHERE e.order_id = n.order_id AND e.seq = n.seq;
            CREATE UNIQUE INDEX events_position ON events (position)
                WHERE position IS NOT NULL;
            CREATE INDEX events_unnumbered ON events (written, order_id, seq)
                WHERE position IS NULL;
            CREATE TABLE feed_position (
                one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
                last BIGINT NOT NULL
            );
            INSERT INTO feed_position (last) SELECT coalesce(max(position), 0) FROM events
        """,  # noqa: S608 - as above
    ),
    Migration(
        7,
        "what the metrics count of each order, indexed by seller and by buyer (orders"
        " written before have none until the desk first reads them: it fills them in)",
        sqlite="""
            ALTER TABLE orders ADD COLUMN placed_at INTEGER;
            ALTER TABLE orders ADD COLUMN accepted_at INTEGER;
            ALTER TABLE orders ADD COLUMN first_delivered_at INTEGER;
            ALTER TABLE orders ADD COLUMN first_due_at INTEGER;
            ALTER TABLE orders ADD COLUMN completed_at INTEGER;
            ALTER TABLE orders ADD COLUMN cancelled_at INTEGER;
            ALTER TABLE orders ADD COLUMN revisions_used INTEGER;
            ALTER TABLE orders ADD COLUMN disputed INTEGER;
            ALTER TABLE orders ADD COLUMN buyer_rating INTEGER;
            ALTER TABLE orders ADD COLUMN seller_rating INTEGER;
            CREATE INDEX orders_seller_facts ON orders (seller, placed_at, id, accepted_at,
                first_delivered_at, first_due_at, completed_at, cancelled_at, revisions_used,
                disputed, buyer_rating, seller_rating);
            CREATE INDEX orders_buyer_facts ON orders (buyer, placed_at, id, accepted_at,
                first_delivered_at, first_due_at, completed_at, cancelled_at, revisions_used,
                disputed, buyer_rating, seller_rating)
        """,
        postgres="""
            ALTER TABLE orders ADD COLUMN placed_at BIGINT;
            ALTER TABLE orders ADD COLUMN accepted_at BIGINT;
            ALTER TABLE orders ADD COLUMN first_delivered_at BIGINT;
            ALTER TABLE orders ADD COLUMN first_due_at BIGINT;
            ALTER TABLE orders ADD COLUMN completed_at BIGINT;
            ALTER TABLE orders ADD COLUMN cancelled_at BIGINT;
            ALTER TABLE orders ADD COLUMN revisions_used INTEGER;
            ALTER TABLE orders ADD COLUMN disputed INTEGER;
            ALTER TABLE orders ADD COLUMN buyer_rating INTEGER;
            ALTER TABLE orders ADD COLUMN seller_rating INTEGER;
            CREATE INDEX orders_seller_facts ON orders (seller, placed_at) INCLUDE (id,
                accepted_at, first_delivered_at, first_due_at, completed_at, cancelled_at,
                revisions_used, disputed, buyer_rating, seller_rating);
            CREATE INDEX orders_buyer_facts ON orders (buyer, placed_at) INCLUDE (id,
                accepted_at, first_delivered_at, first_due_at, completed_at, cancelled_at,
                revisions_used, disputed, buyer_rating, seller_rating)
        """,
    ),
    Migration(
        8,
        "timers due at one instant taken by order id, from the index (as the memory store"
        " takes them): the due-timer index gains the id",
        sqlite="""
            DROP INDEX orders_next_timer;
            CREATE INDEX orders_next_timer ON orders (next_timer_at, id)
                WHERE next_timer_at IS NOT NULL
        """,
        postgres="""
            DROP INDEX orders_next_timer;
            CREATE INDEX orders_next_timer ON orders (next_timer_at, id)
                WHERE next_timer_at IS NOT NULL
        """,
    ),
)
SCHEMA_VERSION: Final = MIGRATIONS[-1].number

#: SQLite databases written before the two dialects shared one numbering: their versions
#: 1, 2 and 3 are the steps numbered 1, 3 and 4 here (step 2 is PostgreSQL's only).
#: Every database migrated since is at 5 or more, so the two never mix.
LEGACY_SQLITE: Final = {1: 1, 2: 3, 3: 4}


def pending(dialect: Dialect, current: int, where: str) -> list[tuple[int, list[str]]]:
    """The steps after ``current``, each as the dialect's statements; refuses a newer
    database. ``current`` is what the database's ``schema_version`` table says."""
    if dialect == "sqlite" and current < 5:
        current = LEGACY_SQLITE.get(current, current)
    if current > SCHEMA_VERSION:
        raise StorageError(
            f"The database at {where} has schema version {current}, newer than this "
            f"library's {SCHEMA_VERSION}. Upgrade order-lifecycle."
        )
    return [(m.number, m.statements(dialect)) for m in MIGRATIONS if m.number > current]
