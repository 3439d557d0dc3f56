"""Sample arguments: valid keyword arguments for any command of the table, in one place.

The test kit never lists the actions: it reads the table, and builds each row's command
class with the samples below, keyed by the name of the command's attrs field. A field
with a default that has no row keeps its default; a required field without a row is a
:class:`~order_lifecycle.errors.LifecycleDefinitionError` that names the row to add, so
a new action whose command has a new kind of argument fails loudly, once, here.

Every sample is valid whatever the order's time and listing (no absolute instants), so
a path found once can be played again on any clock. A field with several samples (the
``outcome`` of ``resolve``) gives one set of arguments per combination.

>>> from order_lifecycle import core
>>> [sorted(kwargs) for kwargs in variants(core.Deliver, None)]
[['note', 'outside']]
"""

from __future__ import annotations

import decimal
import itertools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

import attrs

from order_lifecycle.core.commands import Command
from order_lifecycle.core.model import Order, Outcome
from order_lifecycle.errors import LifecycleDefinitionError

__all__ = ["SAMPLES", "variants"]


def _price(order: Order | None) -> tuple[object, ...]:
    # Twice the contract's price, as a plain amount: read in the contract's currency
    # (whatever the listing), above zero, and a change.
    amount = decimal.Decimal(100) if order is None else order.contract.price.amount
    return (format(amount * 2, "f"),)


def _refund(order: Order | None) -> tuple[object, ...]:
    # The whole price in force, as a plain amount (read in the contract's currency; any
    # smaller share could have more decimal places than the currency has).
    amount = decimal.Decimal(100) if order is None else order.contract.price.amount
    return (format(amount, "f"),)


def _revisions(order: Order | None) -> tuple[object, ...]:
    # One more revision than the contract allows (one fewer at the cap): a change.
    if order is None:
        return (1,)
    revisions = order.contract.revisions
    return (revisions + 1 if revisions < 100 else revisions - 1,)


#: Field name (or ``action.field`` for one command only) -> the sample values for it, given
#: the order the command is for (``None`` when there is none yet: the values must then
#: still be of the right kind).
SAMPLES: Final[Mapping[str, Callable[[Order | None], tuple[object, ...]]]] = MappingProxyType(
    {
        "reason": lambda order: ("A reason given in a test",),
        "note": lambda order: ("A note written in a test",),
        "text": lambda order: ("A message posted in a test",),
        "question": lambda order: ("A question asked in a test?",),
        "answer": lambda order: ("An answer given in a test",),
        "outside": lambda order: (True,),
        "outcome": lambda order: tuple(Outcome),
        "price": _price,
        "revisions": _revisions,
        "rating": lambda order: (4,),
        # Only where a refund is required: elsewhere (resolve, a cancellation request) it
        # is optional, and a resumed dispute takes none.
        "settle.refund": _refund,
    }
)


def variants(command: type[Command], order: Order | None) -> list[dict[str, object]]:
    """Valid keyword arguments for ``command`` on ``order``: one dict per combination of
    the samples of its fields (fields with a default and no sample keep the default)."""
    action = command.action
    if not attrs.has(command):
        raise LifecycleDefinitionError(f"{command.__name__} is not an attrs command class")
    choices: list[list[tuple[str, object]]] = []
    for field in attrs.fields(command):
        sample = SAMPLES.get(f"{action}.{field.name}") or SAMPLES.get(field.name)
        if sample is None:
            if field.default is attrs.NOTHING:
                raise LifecycleDefinitionError(
                    f"The test kit has no sample value for {command.__name__}.{field.name} "
                    f"(action {action}); add a row for {field.name!r} to "
                    "order_lifecycle.testing.arguments.SAMPLES."
                )
            continue
        choices.append([(field.name, value) for value in sample(order)])
    return [dict(combination) for combination in itertools.product(*choices)]
