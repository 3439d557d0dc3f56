"""Test kit for host applications: strategies, paths, stateful rules, transition
coverage, a pytest plugin and the adapter contract suites.

Installed with ``pip install "order-lifecycle[testing]"`` (Hypothesis and pytest). This
package imports neither until a module that needs it is imported:

- :mod:`~order_lifecycle.testing.strategies`: Hypothesis strategies for values, orders
  (reached by real paths) and commands;
- :mod:`~order_lifecycle.testing.paths`: paths through the table, found by a search,
  and played on a desk (their steps: :mod:`~order_lifecycle.testing.moves`, with sample
  arguments from :mod:`~order_lifecycle.testing.arguments`);
- :class:`DeskRules` (:mod:`~order_lifecycle.testing.desk_rules`): the stateful test
  hosts subclass;
- :mod:`~order_lifecycle.testing.coverage`: which edges of the table tests took;
- :mod:`~order_lifecycle.testing.plugin`: the pytest plugin (``--lifecycle-coverage``,
  the ``order_in``, ``order_desk`` and ``lifecycle_clock`` fixtures);
- :mod:`~order_lifecycle.testing.contract` and friends: the adapter contract suites;
- :mod:`~order_lifecycle.testing.consistency`: ``check_order`` for stored orders.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from order_lifecycle.testing.desk_rules import DeskRules

__all__ = ["DeskRules"]


def __getattr__(name: str) -> Any:
    """``DeskRules``, imported (with Hypothesis) when first asked for."""
    if name != "DeskRules":
        raise AttributeError(f"module 'order_lifecycle.testing' has no attribute {name!r}")
    from order_lifecycle.testing.desk_rules import DeskRules

    globals()[name] = DeskRules
    return DeskRules
