"""The event feed under concurrent writers: a consumer polling from its last position
sees every committed event exactly once, in strictly increasing positions.

Several writer processes (the reliability driver: random valid commands on a shared set
of orders, timers and relays, with their lost races) write to one database while the
test polls ``desk.feed(after=last)`` with pages of random sizes. When the writers are
done, the consumer drains the feed; then what it saw must be the whole feed, and the
whole feed every stored event of every order, once each.

On PostgreSQL a trigger makes each write pause for a few milliseconds after inserting its
events, before it commits: the window in which a plain sequence lets a later position
commit first (and be read) while an earlier one is still to commit. Positions taken in
commit order keep the consumer right however wide the window.
"""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

import psycopg
from driver import stored_orders

from order_lifecycle import FeedItem, OrderDesk

STRESS: Final = os.environ.get("ORDER_LIFECYCLE_STRESS") == "1"
WRITERS: Final = 3
#: Steps of each writer (commands, ticks, relays, clock moves).
STEPS: Final = 1000 if STRESS else 150
#: The test fails rather than wait longer than this for the writers.
DEADLINE_SECONDS: Final = 600 if STRESS else 120
DRIVER: Final = Path(__file__).with_name("driver.py")

#: Up to 5 ms between a write's events and its commit (PostgreSQL).
_PAUSE: Final = (
    "CREATE FUNCTION feed_test_pause() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN PERFORM pg_sleep(random() * 0.005); RETURN NULL; END $$",
    "CREATE TRIGGER feed_test_pause AFTER INSERT ON events"
    " FOR EACH STATEMENT EXECUTE FUNCTION feed_test_pause()",
)


def _widen_the_window(url: str) -> None:
    base, _, query = url.partition("?")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{query.split("schema=", 1)[1]}"')
        for statement in _PAUSE:
            conn.execute(statement)


def _writer(url: str, number: int, workdir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    errors = workdir / f"writer-{number}.stderr"
    command = [sys.executable, str(DRIVER), url, f"feed-{number}", "--steps", str(STEPS)]
    command += ["--state", str(workdir / f"writer-{number}.json")]
    command += ["--log", str(workdir / f"writer-{number}.received")]
    with errors.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    return process, errors


def test_a_polling_consumer_sees_every_committed_event_once(
    durable_url: str, tmp_path: Path
) -> None:
    """Writers in processes of their own, a consumer polling the feed meanwhile: the
    consumer sees each event once, in strictly increasing positions, and none is missing
    once the writers are done."""
    rng = random.Random("feed-consumer")
    with OrderDesk.open(durable_url) as consumer:  # creates the schema before the writers
        if durable_url.startswith("postgresql"):
            _widen_the_window(durable_url)
        writers = [_writer(durable_url, n, tmp_path) for n in range(WRITERS)]
        seen: list[FeedItem] = []
        polls_while_writing = 0
        deadline = time.monotonic() + DEADLINE_SECONDS
        try:
            while any(process.poll() is None for process, _ in writers):
                assert time.monotonic() < deadline, "the writers did not finish in time"
                after = seen[-1].position if seen else 0
                seen += consumer.feed(after=after, limit=rng.randint(1, 20))
                polls_while_writing += 1
                time.sleep(rng.random() * 0.004)
        finally:
            for process, _ in writers:
                if process.poll() is None:
                    process.kill()
                process.wait()
        for process, errors in writers:
            assert process.returncode == 0, errors.read_text(encoding="utf-8")[-3000:]
        while page := consumer.feed(after=seen[-1].position if seen else 0, limit=500):
            seen += page
        whole = consumer.feed(limit=10_000)
        stored = {
            (order_id, event.seq): event
            for order_id, *_ in stored_orders(durable_url)
            for event in consumer.history(order_id)
        }
    positions = [item.position for item in seen]
    assert all(a < b for a, b in itertools.pairwise(positions)), "positions went back"
    keys = [(item.event.order_id, item.event.seq) for item in seen]
    assert len(keys) == len(set(keys)), "an event was seen twice"
    missed = [(i.position, i.event.order_id, i.event.seq) for i in whole if i not in seen]
    assert missed == [], "the consumer polled past events that committed later"
    assert seen == whole
    assert {key: item.event for key, item in zip(keys, seen, strict=True)} == stored
    # The run did race: many events, read while they were being written.
    assert len(stored) >= WRITERS * STEPS // 3
    assert polls_while_writing >= 20
