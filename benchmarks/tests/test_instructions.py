"""The instruction counter's parts: its workload and how it reads valgrind's output.

The counting itself needs ``valgrind`` and a minute; these tests check what it is built
from, so a change to the loop or to valgrind's format fails here first.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from order_lifecycle_bench import instructions
from order_lifecycle_bench.figures import durable

CACHEGRIND = """\
==123== Cachegrind, a high-precision tracing profiler
==123==
==123== I   refs:      2,443,427,016
"""

ANNOTATED = """\
--------------------------------------------------------------------------------
1,000,000 (100.0%)  PROGRAM TOTALS
--------------------------------------------------------------------------------
Ir                    file:function
--------------------------------------------------------------------------------
500,000 (50.00%)  /b/Python/ceval.c:_PyEval_EvalFrameDefault [/usr/lib/libpython3.11.so.1.0]
200,000 (20.00%)  ???:sqlite3VdbeExec [/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6]
100,000 (10.00%)  ???:0x00000000000ff650 [/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6]
 50,000 ( 5.00%)  /tmp/build/Python-3.11.7/Objects/dictobject.c:_Py_dict_lookup
"""


def test_total_ir_reads_cachegrinds_summary() -> None:
    assert instructions.total_ir(CACHEGRIND) == 2_443_427_016
    with pytest.raises(ValueError, match="I refs"):
        instructions.total_ir("==1== no summary here")


def test_by_object_adds_up_each_shared_object() -> None:
    found = instructions.by_object(ANNOTATED)
    assert found == {
        "libpython3.11.so.1.0": 500_000,
        "libsqlite3.so.0.8.6": 300_000,
        "python (interpreter sources)": 50_000,
    }


def test_workload_runs_six_commands_per_order_only_when_asked(tmp_path: Path) -> None:
    assert instructions.workload(str(tmp_path), 3, commands=False) == 0
    assert instructions.workload(str(tmp_path), 3, commands=True) == 3 * durable.COMMANDS
    assert list(tmp_path.iterdir()) == []  # its database is gone with it


def test_bytecodes_count_the_loop_by_function_the_same_each_time(tmp_path: Path) -> None:
    first = instructions.bytecodes(str(tmp_path), 2)
    second = instructions.bytecodes(str(tmp_path), 2)
    per, inclusive, own = first
    assert per == second[0] > 0
    assert sys.gettrace() is None  # the tracer is gone
    # The loop's own functions are named; what a command runs is inside the loop.
    loop = inclusive["durable.py:lib_commands"]
    assert loop == per * 2 * durable.COMMANDS
    assert 0 < inclusive["api.py:decide"] < loop
    assert 0 < own["api.py:decide"] <= inclusive["api.py:decide"]
    assert sum(own.values()) == loop
    assert not any(key.startswith("test_instructions.py") for key in inclusive)
