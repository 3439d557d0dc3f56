"""This process's id without a system call per use: the stores check it on every command
to tell whether they were forked (a connection, a pool or a lock handle belongs to the
process that opened it), and ``os.getpid`` asks the kernel each time. The id is read once
and again in a forked child, by an ``os.register_at_fork`` hook.
"""

from __future__ import annotations

import os

__all__ = ["pid"]

_pid = os.getpid()


def pid() -> int:
    """This process's id (``os.getpid()``), kept current across ``fork``."""
    return _pid


def _after_fork_in_child() -> None:
    global _pid  # noqa: PLW0603 - the one place it changes
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
