"""The pytest plugin (entry point ``order_lifecycle``), loaded once the library is installed
with its ``testing`` extra.

Options:

- ``--lifecycle-coverage``: count the edges of the transition table the tests take and
  print them with their counts at the end of the run, then those never taken;
- ``--lifecycle-coverage-fail-under=PCT``: fail the run below ``PCT`` percent of the
  edges (implies ``--lifecycle-coverage``);
- ``--order-desk-url=URL``: the store of the ``order_desk`` fixture (default
  ``memory://``; give a throwaway database: orders are never deleted).

Fixtures:

- ``lifecycle_clock``: a ``ManualClock`` at 2026-12-01 10:00 UTC;
- ``lifecycle_policy``: the ``Policy`` of ``order_desk`` (the default one; override the
  fixture for your marketplace's);
- ``order_desk``: an ``OrderDesk`` on that clock and policy;
- ``order_in``: a factory, ``order_in(state, **play_kwargs) -> Order``, that plays the
  shortest path to ``state`` on ``order_desk`` (``paths.play``'s keyword arguments; a
  listing's buyer requests are answered unless ``answers=`` is given).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any, Final

import pendulum
import pytest

from order_lifecycle.clock import ManualClock
from order_lifecycle.core.model import Listing, Order, OrderState, Policy
from order_lifecycle.desk import OrderDesk
from order_lifecycle.errors import ValidationError
from order_lifecycle.testing import paths
from order_lifecycle.testing.coverage import Recorder

__all__ = [
    "lifecycle_clock",
    "lifecycle_policy",
    "order_desk",
    "order_in",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtestloop",
    "pytest_terminal_summary",
    "pytest_unconfigure",
]

#: Where ``lifecycle_clock`` starts.
START: Final = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
_RECORDER: Final = pytest.StashKey[Recorder]()
_BELOW: Final = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's command-line options."""
    group = parser.getgroup("order_lifecycle", "order-lifecycle test kit")
    group.addoption(
        "--lifecycle-coverage",
        action="store_true",
        default=False,
        help="print the transition table's edges with how often the tests took each",
    )
    group.addoption(
        "--lifecycle-coverage-fail-under",
        type=float,
        default=None,
        metavar="PCT",
        help="fail if the tests took fewer than PCT percent of the table's edges",
    )
    group.addoption(
        "--order-desk-url",
        default="memory://",
        metavar="URL",
        help="the store of the order_desk fixture (memory://, sqlite:///path, postgresql://...)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Start counting edges when asked to (for the whole session)."""
    threshold = config.getoption("--lifecycle-coverage-fail-under")
    if threshold is not None and not 0 <= threshold <= 100:
        raise pytest.UsageError("--lifecycle-coverage-fail-under takes a percentage, 0 to 100")
    if config.getoption("--lifecycle-coverage") or threshold is not None:
        config.stash[_RECORDER] = Recorder().start()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop counting."""
    recorder = config.stash.get(_RECORDER, None)
    if recorder is not None:
        recorder.stop()
        del config.stash[_RECORDER]


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    """After the tests: below the required coverage, the run fails."""
    result = yield
    recorder = session.config.stash.get(_RECORDER, None)
    threshold = session.config.getoption("--lifecycle-coverage-fail-under")
    if recorder is not None and threshold is not None and recorder.percent() < threshold:
        session.config.stash[_BELOW] = threshold
        session.testsfailed += 1
    return result


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Print the edge table, and the failure to reach the required coverage."""
    recorder = config.stash.get(_RECORDER, None)
    if recorder is None:
        return
    terminalreporter.write_sep("-", "lifecycle coverage: edges of the transition table")
    terminalreporter.write_line(recorder.report())
    threshold = config.stash.get(_BELOW, None)
    if threshold is not None:
        terminalreporter.write_line(
            f"FAIL Required lifecycle coverage of {threshold:g}% not reached: "
            f"{recorder.percent():.1f}%",
            red=True,
        )


@pytest.fixture
def lifecycle_clock() -> ManualClock:
    """A ``ManualClock`` at 2026-12-01 10:00 UTC that moves only when told."""
    return ManualClock(START)


@pytest.fixture
def lifecycle_policy() -> Policy:
    """The policy of ``order_desk``: the default one. Override it for your own."""
    return Policy()


@pytest.fixture
def order_desk(
    request: pytest.FixtureRequest, lifecycle_clock: ManualClock, lifecycle_policy: Policy
) -> Iterator[OrderDesk]:
    """An ``OrderDesk`` on ``lifecycle_clock`` and ``lifecycle_policy``, on ``memory://``
    or on ``--order-desk-url``."""
    url = request.config.getoption("--order-desk-url")
    with OrderDesk.open(url, clock=lifecycle_clock, policy=lifecycle_policy) as desk:
        yield desk


@pytest.fixture
def order_in(order_desk: OrderDesk, lifecycle_clock: ManualClock) -> Callable[..., Order]:
    """``order_in(state, **play_kwargs) -> Order``: a fresh order on ``order_desk`` in
    ``state``, reached by the shortest path there (``paths.shortest``) for the desk's
    policy and the listing given (``listing=``, default ``paths.LISTING``), its buyer
    requests answered as the search answers them unless ``answers=`` is given."""

    def make(state: OrderState | str, **play_kwargs: Any) -> Order:
        try:
            wanted = OrderState(state)
        except ValueError:
            choices = ", ".join(s.value for s in OrderState)
            raise ValidationError(
                "state", f"{state!r} is not a state; use one of {choices}"
            ) from None
        listing: Listing | None = play_kwargs.get("listing")
        found = paths.shortest(order_desk.policy, listing=listing)
        if wanted not in found:
            raise ValidationError("state", f"no path reaches {wanted} under the desk's policy")
        return paths.play(order_desk, found[wanted], clock=lifecycle_clock, **play_kwargs)

    return make
