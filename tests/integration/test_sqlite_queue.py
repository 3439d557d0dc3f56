"""The SQLite store's writers' queue (``adapters/sqlite_queue.py``): writers of one
database take turns; a lock is never left held by an error, a dead process or a forked
child; the file is shared by the users who share the database; the bound desk, whose
transaction is the host's, never queues."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pendulum
import pytest

from order_lifecycle import (
    ConcurrencyConflict,
    Listing,
    ManualClock,
    Money,
    OrderDesk,
    OrderState,
    StorageError,
    core,
)
from order_lifecycle.adapters.sqlite import SQLiteStore
from order_lifecycle.adapters.sqlite_queue import AVAILABLE, WritersQueue
from order_lifecycle.core import api
from order_lifecycle.desk.writes import write_for
from order_lifecycle.testing.consistency import check_order

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="the writers' queue is a POSIX file lock")

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 1)


def _desk(path: Path, timeout_ms: int = 5_000) -> OrderDesk:
    return OrderDesk(SQLiteStore(str(path), busy_timeout_ms=timeout_ms), clock=ManualClock(T0))


def _store(desk: OrderDesk) -> SQLiteStore:
    store = desk.store
    assert isinstance(store, SQLiteStore)
    return store


def _queue(desk: OrderDesk) -> WritersQueue:
    queue = _store(desk)._queue
    assert queue is not None
    return queue


def _held(queue: WritersQueue) -> bool:
    """Whether some handle holds the queue's lock now (probed through a new handle)."""
    probe = WritersQueue(queue.database, 0.0)
    fd = probe.open()
    try:
        probe.enter(fd, "probe")
    except StorageError:
        return True
    finally:
        probe.leave(fd)
        probe.close()
    return False


def test_two_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    """A lock held through one thread's handle holds back a write from another thread."""
    desk = _desk(tmp_path / "orders.db")
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    queue = _queue(desk)
    mine = queue.open()
    queue.enter(mine, "test")
    done = threading.Event()

    def accept() -> None:
        desk.accept(order.id, by="bob")
        done.set()

    worker = threading.Thread(target=accept)
    worker.start()
    assert not done.wait(0.3)  # waiting its turn
    assert desk.get(order.id).state is OrderState.pending
    queue.leave(mine)
    assert done.wait(5)
    worker.join()
    assert desk.get(order.id).state is OrderState.accepted
    desk.close()


def test_the_lock_is_released_when_a_write_fails(tmp_path: Path) -> None:
    """A conflicting write and a write that fails inside the transaction both leave the
    queue free."""
    desk = _desk(tmp_path / "orders.db")
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    stale = write_for(
        order.version, api.decide(order, core.Accept(), actor="bob", now=T0), desk.policy
    )
    desk.accept(order.id, by="bob")
    queue = _queue(desk)
    with pytest.raises(ConcurrencyConflict):
        desk.store.write(stale)
    assert not _held(queue)

    def broken(*_: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    _store(desk)._apply = broken  # type: ignore[method-assign,assignment]
    with pytest.raises(sqlite3.OperationalError):
        desk.store.write(stale)
    assert not _held(queue)
    desk.close()


def _die_mid_write_after_forking(path: str, child_pid: str) -> None:
    """Place an order, then, inside the next write (holding the queue), fork a child that
    lives on and die at once."""
    desk = OrderDesk(SQLiteStore(path), clock=ManualClock(T0))
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)

    def fork_and_die(*_: object) -> None:
        pid = os.fork()
        if pid == 0:  # the child: stays alive, holding whatever it inherited
            time.sleep(60)
            os._exit(0)
        Path(child_pid).write_text(f"{pid} {order.id}")
        os.kill(os.getpid(), signal.SIGKILL)

    _store(desk)._apply = fork_and_die  # type: ignore[method-assign,assignment]
    desk.accept(order.id, by="bob")


def test_a_forked_child_does_not_keep_a_dead_writers_lock(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    note = tmp_path / "child"
    ctx = multiprocessing.get_context("spawn")
    dying = ctx.Process(target=_die_mid_write_after_forking, args=(str(path), str(note)))
    dying.start()
    deadline = time.monotonic() + 60
    while dying.is_alive() and time.monotonic() < deadline:  # not join: the child holds
        time.sleep(0.05)  # the process's sentinel pipe open
    assert dying.exitcode == -signal.SIGKILL
    child, order_id = note.read_text().split()
    try:
        desk = _desk(path, timeout_ms=1_000)
        assert desk.accept(order_id, by="bob").state is OrderState.accepted
        assert check_order(desk.store, order_id) == []
        desk.close()
    finally:
        os.kill(int(child), signal.SIGKILL)


def _fork_and_write(path: str, report: str) -> None:
    """Place an order, fork; the child accepts it and says whether it wrote through a
    connection of its own; then the parent delivers it through its own."""
    desk = _desk(Path(path))
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    inherited = _store(desk)._conn()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            own = _store(desk)._conn() is not inherited
            desk.accept(order.id, by="bob")
            Path(report).write_text(f"{'own' if own else 'inherited'} {order.id}")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert _store(desk)._conn() is inherited  # the parent keeps its own
    desk.deliver(order.id, by="bob", outside=True, note="Posted")
    desk.close()


def test_a_forked_child_writes_through_a_connection_of_its_own(tmp_path: Path) -> None:
    """A connection belongs to the process that opened it: a forked child's first
    command opens its own (a SQLite connection must not cross a fork), and the parent
    goes on with its own."""
    path = tmp_path / "orders.db"
    report = tmp_path / "report"
    ctx = multiprocessing.get_context("spawn")
    parent = ctx.Process(target=_fork_and_write, args=(str(path), str(report)))
    parent.start()
    parent.join(60)
    assert parent.exitcode == 0
    which, order_id = report.read_text().split()
    assert which == "own"
    desk = _desk(path)
    assert desk.get(order_id).state is OrderState.delivered
    assert [e.kind for e in desk.history(order_id)][-2:] == ["order_accepted", "content_delivered"]
    desk.close()


def test_the_file_takes_the_databases_mode(tmp_path: Path) -> None:
    """Made with the database file's mode whatever the writer's umask, as SQLite makes
    its -wal and -shm: users who may write the database may use the queue."""
    path = tmp_path / "orders.db"
    desk = _desk(path)
    path.chmod(0o664)
    before = os.umask(0o077)
    try:
        desk.place(buyer="alice", seller="bob", listing=LISTING)
    finally:
        os.umask(before)
    made = Path(f"{path}-writer")
    assert stat.S_IMODE(made.stat().st_mode) == 0o664
    assert sorted(p.name for p in tmp_path.iterdir() if "writer" in p.name) == [made.name]
    desk.close()


def test_the_bound_desk_never_queues(tmp_path: Path) -> None:
    """The host's transaction holds SQLite's lock itself: a bound desk writes while the
    queue is held elsewhere."""
    path = tmp_path / "orders.db"
    desk = _desk(path)
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    queue = _queue(desk)
    other = queue.open()
    queue.enter(other, "test")
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        assert desk.bound(conn).accept(order.id, by="bob").state is OrderState.accepted
        conn.execute("COMMIT")
        conn.close()
        assert time.monotonic() - started < 1.0
    finally:
        queue.leave(other)
    assert desk.get(order.id).state is OrderState.accepted
    desk.close()


def test_an_unusable_queue_file_is_a_clear_error(tmp_path: Path) -> None:
    """A directory where the file should be: StorageError naming it, nothing written."""
    path = tmp_path / "orders.db"
    desk = _desk(path)
    Path(f"{path}-writer").mkdir()
    with pytest.raises(StorageError, match="writers' lock file"):
        desk.place(buyer="alice", seller="bob", listing=LISTING)
    assert desk.store.conversations("alice") == []
    desk.close()
