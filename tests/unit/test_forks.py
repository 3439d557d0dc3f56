"""``adapters.forks.pid``: this process's id without a system call per use, current in a
forked child too (the stores compare it on every command to tell whether they were
forked and must open connections of their own)."""

from __future__ import annotations

import os
import sys

import pytest

from order_lifecycle.adapters.forks import pid


def test_pid_is_this_process_id() -> None:
    assert pid() == os.getpid()


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32", reason="needs fork")
def test_a_forked_child_sees_its_own_id() -> None:
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report and leave at once
        try:
            os.write(write, f"{pid()} {os.getpid()}".encode())
        finally:
            os._exit(0)
    os.close(write)
    try:
        reported = os.read(read, 100).decode().split()
    finally:
        os.close(read)
        os.waitpid(child, 0)
    assert reported == [str(child), str(child)]
    assert pid() == os.getpid() != child
