"""Instructions per durable command: a count that the machine's noise does not move.

Usage: ``python -m order_lifecycle_bench.instructions [--orders N] [--runs N]``. Runs the
Python-time figure's loop (six commands per order through a desk on SQLite, on
``/dev/shm`` where there is one) under ``valgrind --tool=cachegrind``, which counts the
instructions the process executes (``Ir``), and prints them per command: the loop's count
less a run that does the same setup without it (placing the orders, one warm-up round),
divided by the commands. With ``--by-object`` it also splits the count by the shared
object that ran it (the interpreter, ``libsqlite3``, the C library, ``orjson``...), from
``callgrind``. With ``--bytecodes [N]`` it prints instead the Python bytecodes the loop
executes per command, by function, inclusive and own (the top ``N`` of each): a
``sys.settrace`` count, as deterministic as valgrind's and without it, that names the
library's own functions.

Timings on this kind of machine move by ±10 % from one run to the next (``docs/
performance.md``); a count of instructions is the same to within a fraction of a percent
for the same code, so a change of a few percent in the library's Python shows in one
pair of runs. It counts what runs in the process only: not the kernel's work (the
``fsync`` of a commit, a lock's system calls), nor time lost to cold caches. Not part of
``make bench``: a tool for the library's owners; it needs ``valgrind``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from types import CodeType, FrameType
from typing import TYPE_CHECKING

from order_lifecycle import OrderDesk
from order_lifecycle.adapters.sqlite import SQLiteStore

from order_lifecycle_bench.figures import durable

if TYPE_CHECKING:
    from _typeshed import TraceFunction

#: Orders of the warm-up round, placed and moved before the counted part.
WARM: int = 20


def workload(folder: str, orders: int, *, commands: bool) -> int:
    """Place ``orders`` orders on a new database in ``folder`` after a warm-up round; with
    ``commands``, run the six commands on each. The commands run (0 without)."""
    with tempfile.TemporaryDirectory(dir=folder) as where:
        desk = OrderDesk(SQLiteStore(str(Path(where) / "count.db")))
        try:
            durable.lib_commands(desk, durable.lib_place(desk, 0, WARM))
            ids = durable.lib_place(desk, WARM, orders)
            if not commands:
                return 0
            return len(durable.lib_commands(desk, ids).latencies)
        finally:
            desk.close()


def total_ir(text: str) -> int:
    """The ``I refs`` total of cachegrind's summary."""
    found = re.search(r"I\s+refs:\s+([\d,]+)", text)
    if found is None:
        raise ValueError(f"no 'I refs' line in valgrind's output: {text[-500:]!r}")
    return int(found.group(1).replace(",", ""))


def by_object(annotated: str) -> Counter[str]:
    """Instructions per shared object from ``callgrind_annotate --threshold=100``'s lines
    (``N (p%)  file:function [object]``; lines without an object are the interpreter's
    own source files)."""
    found: Counter[str] = Counter()
    for line in annotated.splitlines():
        match = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(.*)$", line)
        if match is None or "PROGRAM TOTALS" in line:
            continue
        count = int(match.group(1).replace(",", ""))
        obj = re.search(r"\[([^\]]*)\]\s*$", match.group(2))
        found[Path(obj.group(1)).name if obj else "python (interpreter sources)"] += count
    return found


def _child(tool: list[str], orders: int, folder: str, *, commands: bool) -> str:
    mode = "run" if commands else "setup"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    argv = [*tool, sys.executable, "-m", "order_lifecycle_bench.instructions"]
    argv += ["--child", mode, "--orders", str(orders), "--dir", folder]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr[-2000:]}")
    return done.stderr


def count(orders: int, folder: str) -> float:
    """Instructions per command: (loop run less setup run) / commands."""
    tool = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
    setup = total_ir(_child(tool, orders, folder, commands=False))
    run = total_ir(_child(tool, orders, folder, commands=True))
    return (run - setup) / (orders * durable.COMMANDS)


def count_by_object(orders: int, folder: str) -> dict[str, float]:
    """Instructions per command per shared object (callgrind, loop less setup)."""
    found: dict[str, Counter[str]] = {}
    with tempfile.TemporaryDirectory() as out:
        for mode in ("setup", "run"):
            path = str(Path(out) / f"callgrind.{mode}")
            tool = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={path}"]
            _child(tool, orders, folder, commands=mode == "run")
            annotated = subprocess.run(
                ["callgrind_annotate", "--threshold=100", path],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            found[mode] = by_object(annotated)
    commands = orders * durable.COMMANDS
    names = set(found["setup"]) | set(found["run"])
    return {n: (found["run"][n] - found["setup"][n]) / commands for n in names}


def bytecodes(folder: str, orders: int) -> tuple[float, Counter[str], Counter[str]]:
    """Bytecodes per command of the loop over ``orders`` placed orders: the total, and per
    function (``file:name``) inclusive of what it calls, and its own."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    names: dict[CodeType, str] = {}
    loop = durable.lib_commands.__code__

    def name(code: CodeType) -> str:
        found = names.get(code)
        if found is None:
            found = names[code] = f"{Path(code.co_filename).name}:{code.co_name}"
        return found

    def local(frame: FrameType, event: str, arg: object) -> TraceFunction:
        if event == "opcode":
            own[name(frame.f_code)] += 1
            seen: set[str] = set()
            walked: FrameType | None = frame
            while walked is not None:
                key = name(walked.f_code)
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += 1
                if walked.f_code is loop:  # the callers above the loop are not counted
                    break
                walked = walked.f_back
        return local

    def tracer(frame: FrameType, event: str, arg: object) -> TraceFunction:
        frame.f_trace_opcodes = True
        return local

    with tempfile.TemporaryDirectory(dir=folder) as where:
        desk = OrderDesk(SQLiteStore(str(Path(where) / "count.db")))
        try:
            durable.lib_commands(desk, durable.lib_place(desk, 0, WARM))
            ids = durable.lib_place(desk, WARM, orders)
            sys.settrace(tracer)
            try:
                commands = len(durable.lib_commands(desk, ids).latencies)
            finally:
                sys.settrace(None)
        finally:
            desk.close()
    total = inclusive[name(loop)]
    return total / commands, inclusive, own


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--by-object", action="store_true")
    parser.add_argument("--bytecodes", type=int, nargs="?", const=40, default=None, metavar="N")
    parser.add_argument("--dir", default="/dev/shm" if Path("/dev/shm").is_dir() else None)
    parser.add_argument("--child", choices=("setup", "run"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    folder = args.dir or tempfile.gettempdir()
    if args.child is not None:
        workload(folder, args.orders, commands=args.child == "run")
        return
    if args.bytecodes is not None:
        per, inclusive, own = bytecodes(folder, args.orders)
        commands = args.orders * durable.COMMANDS
        print(f"bytecodes per command: {per:,.0f}")
        for title, counts in (("inclusive", inclusive), ("own", own)):
            print(f"\n{title}:")
            for key, value in counts.most_common(args.bytecodes):
                print(f"{value / commands:8,.0f}  {100 * value / commands / per:5.1f} %  {key}")
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    for _ in range(args.runs):
        print(f"instructions per command: {count(args.orders, folder):,.0f}")
    if args.by_object:
        split = count_by_object(args.orders, folder)
        for obj, share in sorted(split.items(), key=lambda kv: -kv[1]):
            if abs(share) >= 100:
                print(f"{share:12,.0f}  {obj}")


if __name__ == "__main__":
    main()
