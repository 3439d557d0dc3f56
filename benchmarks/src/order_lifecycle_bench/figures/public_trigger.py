"""``core.decide`` as it would be through ``transitions``' public trigger path.

``core.machine.move`` runs ``Transition.execute`` on a route looked up in advance.
:func:`public_move` is the other way ``docs/decisions.md`` weighs: the same shared
machine (the library's own, ``core.machine.machine()``), a throw-away cursor, and
``Event.trigger`` — what ``transitions`` offers for firing an event on a model it does
not hold. :func:`decide_through` runs ``core.decide`` with it in ``move``'s place, so
the two ways are timed on the same commands in the same run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final
from unittest import mock

from order_lifecycle import Action, ActionNotAvailable, OrderState, Timer
from order_lifecycle.core import api
from order_lifecycle.core import machine as core_machine
from transitions import MachineError

from order_lifecycle_bench.baselines.transitions_machines import Cursor

__all__ = ["Move", "decide_through", "public_move"]

#: ``core.machine.move``'s signature.
Move = Callable[[OrderState, Action | Timer, OrderState | None], OrderState]

_STATES: Final = {s.value: s for s in OrderState}


def public_move(
    state: OrderState, trigger: Action | Timer, target: OrderState | None = None
) -> OrderState:
    """``core.machine.move`` through ``Event.trigger`` on the library's shared machine."""
    cursor = Cursor(state)
    try:
        moved = core_machine.machine().events[trigger].trigger(cursor, target=target)
    except (KeyError, MachineError):
        raise ActionNotAvailable(
            str(trigger), f"The order is {state}; {trigger} cannot start from there."
        ) from None
    if not moved:
        raise ActionNotAvailable(
            str(trigger), f"The order cannot go from {state} to {target} by {trigger}."
        )
    return _STATES[cursor.state]


@contextmanager
def decide_through(move: Move) -> Iterator[None]:
    """``core.decide`` (and ``fire``) with ``move`` in place of ``core.machine.move``.

    The core calls ``move`` by the name ``core.api`` imported it under (patching it
    costs nothing per call); the benchmark's tests check that the swap reaches
    ``decide``."""
    with mock.patch.object(api, "move", move):
        yield
