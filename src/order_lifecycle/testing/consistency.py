"""Consistency checks of stored orders: what crash, load and fault tests assert.

An order is consistent when its history replays through the core to exactly the stored
order, its events are numbered 1..version without a gap, its outbox rows are exactly the
notifications of its events, its participants are its buyer, seller and the CX agents
who joined, it uses no more revisions than its contract allows, and once its history
reaches a terminal state it never leaves it. A command half-written by a crash breaks at
least one of these.

Replaying a history runs the core again: transition coverage does not count it.
"""

from __future__ import annotations

from collections import Counter

from order_lifecycle.core.api import DEFAULT_POLICY
from order_lifecycle.core.model import Policy, Role
from order_lifecycle.core.replay import replay_steps
from order_lifecycle.desk import notifications_for
from order_lifecycle.errors import OrderLifecycleError
from order_lifecycle.ports import Store
from order_lifecycle.testing.coverage import paused

__all__ = ["check_order", "check_store"]


def check_order(store: Store, order_id: str, policy: Policy = DEFAULT_POLICY) -> list[str]:
    """Every way in which the stored order ``order_id`` is inconsistent (empty: none)."""
    with paused():
        return _problems(store, order_id, policy)


def _problems(store: Store, order_id: str, policy: Policy) -> list[str]:
    problems: list[str] = []
    order = store.load(order_id)
    history = store.history(order_id)
    seqs = [e.seq for e in history]
    if seqs != list(range(1, len(history) + 1)):
        problems.append(f"{order_id}: events are numbered {seqs}")
    if order.version != len(history):
        problems.append(f"{order_id}: version {order.version} but {len(history)} events")
    if order.revisions_used > order.contract.revisions:
        problems.append(
            f"{order_id}: {order.revisions_used} revisions used of {order.contract.revisions}"
        )
    ended = next((e for e in history if e.state.is_terminal), None)
    left = [
        e.seq for e in history if ended is not None and e.seq > ended.seq and e.state != ended.state
    ]
    if ended is not None and left:
        problems.append(f"{order_id}: events {left} leave the terminal state {ended.state}")
    expected: Counter[tuple[int, str, str, str]] = Counter()
    replayed = None
    try:
        for event, after in replay_steps(history, policy=policy):
            replayed = after
            for note in notifications_for(after, (event,)):
                expected[(note.seq, note.recipient, note.role.value, note.kind)] += 1
    except OrderLifecycleError as error:
        problems.append(f"{order_id}: the history does not replay: {error}")
    if replayed is not None and replayed != order:
        problems.append(f"{order_id}: the stored order differs from its replayed history")
    stored = Counter(
        (r.seq, r.recipient, r.role.value, r.kind) for r in store.outbox_rows(order_id)
    )
    if stored != expected:
        missing = expected - stored
        extra = stored - expected
        problems.append(f"{order_id}: outbox rows differ: missing {missing}, extra {extra}")
    people = {(p.user_id, p.role) for p in store.participants(order_id)}
    wanted = {(order.buyer, Role.buyer), (order.seller, Role.seller)}
    wanted |= {(agent, Role.cx_agent) for agent in order.agents}
    if people != wanted:
        problems.append(f"{order_id}: participants {sorted(people)} but expected {sorted(wanted)}")
    return problems


def check_store(store: Store, order_ids: list[str], policy: Policy = DEFAULT_POLICY) -> list[str]:
    """``check_order`` for each id; all the problems found."""
    problems: list[str] = []
    for order_id in order_ids:
        problems.extend(check_order(store, order_id, policy))
    return problems
