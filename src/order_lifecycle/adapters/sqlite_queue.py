"""The SQLite store's writers' queue: an operating-system file lock (``flock``) that the
library's writers of one database take in turn around each write transaction.

A writer that finds SQLite's write lock taken sleeps in SQLite's busy handler, whose
waits grow in steps of milliseconds (1, 2, 5, 10 ms...): with two busy processes the
slowest commands took 10-20 ms. Through the queue a writer that finds the lock taken
looks again after 10 µs, then at most every 0.1 ms, so it writes soon after the other
one commits. The waits are in no particular order (polling, not first come, first
served), and bounded by the store's busy timeout.

- The file is ``<database>-writer``, made by the first write with the database file's
  own mode (and owner, when made by root), as SQLite makes its ``-wal`` and ``-shm``:
  users who share the database share it. It holds no data.
- Each connection (one per thread) has its own handle: a lock held through one open file
  excludes every other, in this process too. The kernel releases a lock when the last
  handle on it closes, so a process that dies holding it releases it; handles a forked
  child inherits are closed in the child at once (``os.register_at_fork``), or the child
  would keep a dead parent's lock.
- Without ``fcntl`` (Windows) there is no queue: SQLite's busy handler alone.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import threading
import time
import weakref
from typing import Final

from order_lifecycle.errors import StorageError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["AVAILABLE", "WritersQueue"]

#: Whether this platform has the queue.
AVAILABLE: Final = fcntl is not None

#: How long a writer waits before it looks again (seconds): 10 µs first, doubling up to
#: 0.1 ms, well under the time a command holds the lock (a writer that looked less often
#: let the other process take it again and again: 0.25 ms made the slowest commands of
#: two processes 2.4-3.4 x the floor's, 0.1 ms 1.0-1.8 x).
FIRST_WAIT: Final = 0.000_01
LONGEST_WAIT: Final = 0.000_1

_QUEUES: weakref.WeakSet[WritersQueue] = weakref.WeakSet()


class WritersQueue:
    """The queue of the SQLite database at ``database``; waits end after ``timeout_s``."""

    def __init__(self, database: str, timeout_s: float) -> None:
        self.database = database
        self.path = f"{database}-writer"
        self.timeout_s = timeout_s
        self._handles: list[int] = []
        self._lock = threading.Lock()
        _QUEUES.add(self)

    def open(self) -> int:
        """A new handle on the queue (made with the database's mode if it is not there)."""
        try:
            fd = self._open()
        except OSError as error:
            raise StorageError(
                f"Cannot open the writers' lock file {self.path!r} beside the database: {error}"
            ) from error
        with self._lock:
            self._handles.append(fd)
        return fd

    def _open(self) -> int:
        flags = os.O_CLOEXEC
        try:
            return os.open(self.path, os.O_RDWR | flags)
        except FileNotFoundError:
            self._make()
            return os.open(self.path, os.O_RDWR | flags)
        except PermissionError:
            # Read-only is enough to lock a local file (not on NFS, where flock needs a
            # handle open for writing and fails clearly).
            return os.open(self.path, os.O_RDONLY | flags)

    def _make(self) -> None:
        """Publish the file whole: made aside with the database's mode and owner, then
        linked in place (a writer never sees it half made; of two makers one wins)."""
        aside = f"{self.path}.{os.getpid()}.{threading.get_ident()}"
        fd = os.open(aside, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            found = os.stat(self.database)
            os.fchmod(fd, stat.S_IMODE(found.st_mode))
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                os.fchown(fd, found.st_uid, found.st_gid)
            try:
                os.link(aside, self.path)
            except FileExistsError:  # another writer made it first
                pass
            except OSError:  # a file system without hard links: made in place instead
                with contextlib.suppress(FileExistsError):
                    made = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
                    os.fchmod(made, stat.S_IMODE(found.st_mode))
                    os.close(made)
        finally:
            os.close(fd)
            os.unlink(aside)

    def enter(self, fd: int, what: str) -> None:
        """Take the lock through ``fd``, waiting at most ``timeout_s``."""
        assert fcntl is not None
        wanted = fcntl.LOCK_EX | fcntl.LOCK_NB
        deadline = 0.0
        pause = FIRST_WAIT
        while True:
            try:
                fcntl.flock(fd, wanted)
                return
            except BlockingIOError:
                pass
            except OSError as error:
                raise StorageError(
                    f"SQLite {what} failed: cannot lock the writers' queue {self.path!r}: {error}"
                ) from error
            now = time.monotonic()
            if not deadline:
                deadline = now + self.timeout_s
            elif now >= deadline:
                raise StorageError(
                    f"SQLite {what} failed: the database stayed locked by another writer "
                    f"(its queue, {self.path!r}) beyond the busy timeout. Retry, or look for "
                    "a long-running writer."
                )
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_WAIT)

    def leave(self, fd: int) -> None:
        """Release the lock held through ``fd`` (nothing if it is not held). A failure
        while another exception is on its way out is noted on that exception instead."""
        assert fcntl is not None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError as error:
            failure = StorageError(f"Cannot release the writers' queue {self.path!r}: {error}")
            pending = sys.exc_info()[1]
            if pending is None:
                raise failure from error
            pending.add_note(str(failure))

    def close(self) -> None:
        """Close every handle this queue opened."""
        with self._lock:
            handles, self._handles = self._handles, []
        for fd in handles:
            with contextlib.suppress(OSError):  # best effort: nothing left to protect
                os.close(fd)

    def _forget_inherited(self) -> None:
        # In a forked child, alone: the parent's handles (and any lock held through them)
        # are the parent's. Closing the child's copies leaves the parent's lock as it is.
        handles, self._handles = self._handles, []
        self._lock = threading.Lock()
        for fd in handles:
            with contextlib.suppress(OSError):
                os.close(fd)


def _after_fork_in_child() -> None:
    for queue in list(_QUEUES):
        queue._forget_inherited()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
