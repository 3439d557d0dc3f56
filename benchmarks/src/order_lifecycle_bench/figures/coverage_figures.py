"""Transition coverage recording (``order_lifecycle.testing.coverage``): what it costs.

``core.decide`` calls the coverage hook only while a recorder runs; off, the hook is
``None`` and each decision pays one global lookup and one comparison. The baseline is
``core.decide`` itself compiled again without those two lines, timed on the same
commands, so the figure shows exactly what the check costs.
"""

from __future__ import annotations

import inspect
import textwrap
import time
from collections.abc import Callable
from typing import Any

from order_lifecycle.core import api
from order_lifecycle.testing.coverage import Recorder

from order_lifecycle_bench.harness import Config, Figure, interleaved
from order_lifecycle_bench.stories import stories

__all__ = ["coverage_figures"]

#: How many times each round runs its list of commands.
LOOPS = 2
#: The lines of ``core.decide`` the baseline leaves out.
HOOK = "    if edge_hook is not None:\n        edge_hook(order.state, rule.action, state)\n"


def decide_without_hook() -> Callable[..., Any]:
    """``core.decide`` compiled again from its source without the coverage hook, in a copy
    of its module's namespace (the same globals, looked up the same way)."""
    source = textwrap.dedent(inspect.getsource(api.decide))
    if HOOK not in source:
        raise RuntimeError("core.decide no longer calls the edge hook as this figure expects")
    flags = annotations.compiler_flag  # the feature ``from __future__`` bound above
    code = compile(source.replace(HOOK, ""), api.__file__, "exec", flags=flags, dont_inherit=True)
    namespace = dict(vars(api))
    exec(code, namespace)
    bare: Callable[..., Any] = namespace["decide"]
    return bare


def coverage_figures(cfg: Config) -> list[Figure]:
    """``core.decide`` with recording off against the same function without the hook, and
    with a recorder counting every edge (informative)."""
    walked = stories(cfg.story_sets)
    steps = [s for story in walked for s in story]
    count = len(steps) * LOOPS
    decide = api.decide
    bare = decide_without_hook()
    recorder = Recorder()

    def timed(function: Callable[..., Any]) -> float:
        start = time.perf_counter_ns()
        for _ in range(LOOPS):
            for s in steps:
                function(s.order, s.command, actor=s.actor, now=s.now)
        return (time.perf_counter_ns() - start) / count / 1000

    def run_recording() -> float:
        with recorder:
            return timed(decide)

    assert api.edge_hook is None, "a recorder is running: the figure measures recording off"
    got = interleaved(
        {
            "off": lambda: timed(decide),
            "bare": lambda: timed(bare),
            "on": run_recording,
        },
        rounds=cfg.rounds,
        warmup=cfg.warmup,
    )
    taken = sum(recorder.counts.values())
    return [
        Figure(
            "core.decide, transition coverage recording off",
            "µs",
            got["off"],
            "the same core.decide compiled without the coverage hook",
            got["bare"],
            "≤ 1.03 x baseline (within the noise)",
            lambda m, b, r: r is not None and r <= 1.03,
            note=f"{len(steps)} commands of {len(walked)} orders, x{LOOPS} per round",
        ),
        Figure(
            "core.decide, transition coverage recording on",
            "µs",
            got["on"],
            "recording off",
            got["off"],
            "informative",
            note=f"{taken} edges counted",
            conditions={"every decision counted once": taken == count * (cfg.rounds + cfg.warmup)},
        ),
    ]
