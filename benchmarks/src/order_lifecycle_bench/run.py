"""``make bench``: measure every figure against its baseline, print the table, write JSON.

Usage: ``python -m order_lifecycle_bench [--quick] [--only GROUP ...] [--out PATH]``
(``make bench ARGS="..."`` passes its arguments).

The full run writes ``benchmarks/results.json``; ``--quick`` (fewer rounds, smaller
datasets) writes ``benchmarks/results-quick.json`` unless ``--out`` says otherwise.
Groups: startup, core, attach, memory, sqlite, postgres, async, scale. PostgreSQL is found at
``$ORDER_LIFECYCLE_BENCH_PG`` (else ``$ORDER_LIFECYCLE_TEST_PG``, else
``postgresql://postgres@127.0.0.1:5432/test``); without it those figures are skipped.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GROUPS = ("startup", "core", "attach", "sqlite", "postgres", "async", "scale", "memory")


def main(argv: list[str] | None = None) -> int:
    """Run the groups asked for (all by default), print the table, write the results."""
    from order_lifecycle_bench.figures import memory
    from order_lifecycle_bench.figures.core_figures import (
        attach_figures,
        decide_figures,
        options_figures,
    )
    from order_lifecycle_bench.figures.coverage_figures import coverage_figures
    from order_lifecycle_bench.figures.postgres_figures import (
        pg_unreachable,
        pg_url,
        postgres_figures,
        server_version,
        skipped_figures,
    )
    from order_lifecycle_bench.figures.scale import run_scale
    from order_lifecycle_bench.figures.sqlite_figures import sqlite_durable
    from order_lifecycle_bench.figures.startup import startup_figures
    from order_lifecycle_bench.harness import (
        PROJECT,
        REPO,
        Config,
        Figure,
        Results,
        machine_info,
        print_table,
        skipped,
        source_tree,
        versions,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller datasets")
    parser.add_argument("--only", action="append", choices=GROUPS, help="run only these groups")
    parser.add_argument("--out", type=Path, help="where to write the JSON results")
    args = parser.parse_args(argv)
    cfg = Config.smoke() if args.quick else Config.full()
    groups = args.only or list(GROUPS)
    out = args.out or PROJECT / ("results-quick.json" if args.quick else "results.json")

    began = time.perf_counter()
    figures: list[Figure] = []
    loads: dict[str, float] = {}
    extra_versions: dict[str, str] = {}
    timings: dict[str, float] = {}

    def log(text: str) -> None:
        print(f"[{time.perf_counter() - began:6.1f}s] {text}", file=sys.stderr, flush=True)

    url = pg_url()
    needs_pg = {"postgres", "async", "scale"} & set(groups)
    no_pg = pg_unreachable(url) if needs_pg else None
    if no_pg is None and needs_pg:
        extra_versions["postgresql"] = server_version(url)
    background: list[subprocess.Popen[str]] = []

    def start_memory() -> None:
        # The memory figure's orders are built while the largest datasets load (untimed).
        if "memory" in groups:
            log("memory: building orders in the background while the datasets load")
            background.append(memory.start(cfg))

    def wait_memory() -> None:
        if background and background[0].poll() is None:
            log("waiting for the memory figure before timing")
            background[0].wait()

    with tempfile.TemporaryDirectory(prefix="order-lifecycle-bench-") as tmp:
        workdir = Path(tmp)
        for group in GROUPS:
            if group not in groups:
                continue
            log(f"{group} ...")
            started = time.perf_counter()
            if group == "startup":
                figures += startup_figures(cfg)
            elif group == "core":
                figures += decide_figures(cfg)
                figures += options_figures(cfg)
                figures += coverage_figures(cfg)
            elif group == "attach":
                figures += attach_figures(cfg)
            elif group == "sqlite":
                figures += sqlite_durable(cfg, workdir)
            elif group == "postgres":
                figures += skipped_figures(no_pg, cfg) if no_pg else postgres_figures(cfg, url)
            elif group == "async":
                from order_lifecycle_bench.figures.async_figures import async_figures

                if no_pg:
                    name = "async commands/s, PostgreSQL, 16 concurrent on one event loop"
                    figures.append(skipped(name, "cmd/s", "≥ 0.70 x baseline", no_pg))
                else:
                    figures += async_figures(cfg, url)
            elif group == "scale":
                scale, took = run_scale(
                    cfg,
                    workdir,
                    None if no_pg else url,
                    while_loading=start_memory,
                    before_timing=wait_memory,
                )
                figures += scale
                loads.update(took)
                if no_pg:
                    figures += skipped_figures(no_pg, cfg, scale=True)
            elif group == "memory":
                figures += memory.collect(cfg, background[0] if background else memory.start(cfg))
            timings[group] = round(time.perf_counter() - started, 1)
            log(f"{group} done in {timings[group]:.1f}s")

    total = time.perf_counter() - began
    results = Results(
        machine_info(),
        versions(extra_versions),
        figures,
        extra={
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": "make bench" + (" ARGS=--quick" if args.quick else ""),
            "quick": cfg.quick,
            "source": source_tree(REPO),
            "seconds": round(total, 1),
            "group_seconds": timings,
            "load_seconds": {k: round(v, 1) for k, v in loads.items()},
        },
    )
    print()
    print_table(figures)
    print()
    missed = [f for f in figures if f.met is False]
    print(f"{len(missed)} target(s) not met; {sum(f.skipped for f in figures)} skipped.")
    print(f"Ran in {total:.0f}s; results in {out}")
    results.write(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
