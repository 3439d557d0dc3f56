"""The coverage figure's baseline is ``core.decide`` without its coverage hook, nothing else.

It must decide every story command as ``core.decide`` does, and count nothing while a
recorder runs (``core.decide`` counts every decision then): the two lines it leaves out
are the hook's, and they are what the figure prices.
"""

from __future__ import annotations

from order_lifecycle import core
from order_lifecycle.testing.coverage import Recorder

from order_lifecycle_bench.figures.coverage_figures import decide_without_hook
from order_lifecycle_bench.stories import stories


def test_the_baseline_decides_alike_and_counts_nothing() -> None:
    """Same decisions for every story command; a recorder sees ``core.decide``'s only."""
    steps = [s for story in stories(1) for s in story]
    bare = decide_without_hook()
    with Recorder() as recorder:
        expected = [core.decide(s.order, s.command, actor=s.actor, now=s.now) for s in steps]
        counted = sum(recorder.counts.values())
        got = [bare(s.order, s.command, actor=s.actor, now=s.now) for s in steps]
    assert got == expected
    assert counted == len(steps)
    assert sum(recorder.counts.values()) == counted
