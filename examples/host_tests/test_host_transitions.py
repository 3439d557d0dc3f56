"""Every edge of the transition table, played on SQLite, checked against the ledger.

``paths.transitions()`` gives a path ending with each edge of the library's table: as
the library adds actions and timers, this test covers them with no edit.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from payouts import open_desk

from order_lifecycle import ManualClock, OrderState
from order_lifecycle.testing import paths
from order_lifecycle.testing.coverage import Edge

EDGES = paths.transitions(paths.POLICY)


@pytest.mark.parametrize("edge", list(EDGES), ids=str)
def test_each_transition_pays_only_what_completed(edge: Edge, tmp_path: Path) -> None:
    """Whatever the path, the seller is paid once if and only if the order completed."""
    clock = ManualClock(pendulum.datetime(2026, 12, 1, 10))
    desk, ledger = open_desk(f"sqlite:///{tmp_path / 'host.db'}", clock=clock, policy=paths.POLICY)
    with desk:
        order = paths.play(desk, EDGES[edge], clock=clock)
        desk.relay()
        assert order.state is edge.dest
        assert len(ledger.paid(order.id)) == (1 if order.state is OrderState.complete else 0)
