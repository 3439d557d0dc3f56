"""Where the time goes: cProfile of ``decide``, ``options`` and a durable command.

Usage: ``python -m order_lifecycle_bench.hotspots [--top N] [--sort tottime|cumulative]
[--only decide|options|sqlite|postgres|inbox|import ...]``. Prints the top functions of each
(by own time by default), and for the import the modules that take longest
(``-X importtime``). Not part of ``make bench``: a tool for the library's owners.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from order_lifecycle_bench.harness import REPO

PARTS = ("decide", "options", "sqlite", "postgres", "inbox", "import")


def _profile(title: str, fn: Callable[[], object], top: int, sort: str) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats(sort).print_stats(top)
    text = out.getvalue()
    body = text[text.find("   ncalls") :] if "   ncalls" in text else text
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    print(f"\n## {title} (total {total:.2f}s own time, sorted by {sort})\n")
    print(body.rstrip())


def _imports(top: int) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import order_lifecycle"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    rows: list[tuple[int, int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own_us, cumulative_us, name = line[len("import time:") :].split("|")
        rows.append((int(own_us), int(cumulative_us), name.rstrip()))
    print(f"\n## import order_lifecycle: top {top} modules by own import time\n")
    print(f"{'own ms':>8} {'cumulative ms':>14}  module")
    for own, cumulative, name in sorted(rows, reverse=True)[:top]:
        print(f"{own / 1000:8.1f} {cumulative / 1000:14.1f}  {name}")
    tops = [r for r in rows if not r[2].startswith("  ")]
    print("\ntop-level imports (cumulative):")
    for _, cumulative, name in sorted(tops, key=lambda r: -r[1])[:top]:
        print(f"{cumulative / 1000:8.1f} ms  {name.strip()}")


def main(argv: list[str] | None = None) -> int:
    from order_lifecycle import OrderDesk, core

    from order_lifecycle_bench.figures import durable
    from order_lifecycle_bench.figures.postgres_figures import drop_schemas, pg_unreachable, pg_url
    from order_lifecycle_bench.figures.postgres_figures import with_schema as pg_schema
    from order_lifecycle_bench.stories import stories

    parser = argparse.ArgumentParser(description="cProfile hotspots of the library")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    parser.add_argument("--only", action="append", choices=PARTS)
    args = parser.parse_args(argv)
    parts = args.only or list(PARTS)
    steps = [s for story in stories(10) for s in story]

    if "decide" in parts:

        def decide() -> None:
            for _ in range(20):
                for s in steps:
                    core.decide(s.order, s.command, actor=s.actor, now=s.now)

        _profile(f"core.decide, {20 * len(steps)} mixed commands", decide, args.top, args.sort)

    if "options" in parts:

        def options() -> None:
            for _ in range(10):
                for s in steps:
                    core.options(s.order, actor=s.actor, now=s.now)

        _profile(f"core.options, {10 * len(steps)} calls", options, args.top, args.sort)

    if "sqlite" in parts:
        with tempfile.TemporaryDirectory() as tmp:
            desk = OrderDesk.open(f"sqlite:///{tmp}/hot.db")
            ids = durable.lib_place(desk, 0, 100)
            title = f"SQLite durable command (desk), {100 * durable.COMMANDS} commands"
            _profile(title, lambda: durable.lib_commands(desk, ids), args.top, args.sort)
            desk.close()

    if "postgres" in parts:
        url = pg_url()
        reason = pg_unreachable(url)
        if reason is not None:
            print(f"\n## PostgreSQL durable command: skipped ({reason})")
        else:
            schema = f"bench_{uuid.uuid4().hex[:12]}_hot"
            try:
                desk = OrderDesk.open(pg_schema(url, schema))
                ids = durable.lib_place(desk, 0, 50)
                title = f"PostgreSQL durable command (desk), {50 * durable.COMMANDS} commands"
                _profile(title, lambda: durable.lib_commands(desk, ids), args.top, args.sort)
                desk.close()
            finally:
                drop_schemas(url, schema)

    if "inbox" in parts:
        from dataclasses import replace

        from order_lifecycle_bench.figures import bulk
        from order_lifecycle_bench.figures.scale import SQLiteTarget
        from order_lifecycle_bench.harness import Config

        cfg = replace(Config.smoke(), sizes=(10_000,))
        with tempfile.TemporaryDirectory() as tmp:
            target = SQLiteTarget(cfg, 10_000, Path(tmp))
            for data in bulk.datasets(
                (10_000,), batches=3, inbox=1_000, fillers=bulk.filler_templates()
            ):
                target.write(data)
            target.count()
            desk = target.desk

            def inbox() -> None:
                for _ in range(10):
                    desk.inbox(bulk.INBOX_USER)

            _profile(
                "SQLite inbox(user), 1,000 conversations, 10 calls", inbox, args.top, args.sort
            )
            _profile(
                "SQLite tick, 100 due timers",
                lambda: desk.tick(now=bulk.due_instant(0).add(minutes=1)),
                args.top,
                args.sort,
            )
            target.close()

    if "import" in parts:
        _imports(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
