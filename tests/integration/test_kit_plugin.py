"""The pytest plugin, as a host's test run sees it (pytest's own ``pytester``).

The plugin is found through its ``pytest11`` entry point: the runs below load nothing
by hand. Each run is in process; its coverage recorder nests inside this run's, if any.
"""

from __future__ import annotations

import pytest

from order_lifecycle.testing.coverage import edges

pytest_plugins = ["pytester"]

#: The table's edges, and the share the example tests below take (4 of them).
EDGES = len(edges())
SHARE = f"{400 / EDGES:.1f}%"

HOST_TESTS = """
from order_lifecycle import ManualClock, OrderDesk, OrderState, core


def test_order_in_delivered(order_in, order_desk, lifecycle_clock):
    order = order_in("delivered")
    assert order.state is OrderState.delivered
    assert order_desk.get(order.id) == order
    assert isinstance(lifecycle_clock, ManualClock)
    assert order_desk.clock is lifecycle_clock
    approved = order_desk.approve(order.id, by=order.buyer)
    assert approved.state is OrderState.complete


def test_order_in_takes_play_arguments(order_in):
    order = order_in(OrderState.disputed, buyer="ann", seller="sam")
    assert (order.buyer, order.seller) == ("ann", "sam")
"""


def test_fixtures_give_orders_in_any_state(pytester: pytest.Pytester) -> None:
    """``order_in(state)`` on ``order_desk`` (memory, on ``lifecycle_clock``); no option
    prints no coverage table."""
    pytester.makepyfile(test_host=HOST_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert "lifecycle coverage" not in result.stdout.str()


def test_coverage_prints_the_edge_table(pytester: pytest.Pytester) -> None:
    """``--lifecycle-coverage`` lists every edge with its count, then those never taken."""
    pytester.makepyfile(test_host=HOST_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--lifecycle-coverage")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*lifecycle coverage: edges of the transition table*",
            "pending --accept--> accepted * 2",
            "pending --decline--> cancelled * 0",
            "delivered --approve--> complete * 1",
            "accepted --dispute--> disputed * 1",
            "never taken (*):",
            "  pending --decline--> cancelled",
            f"lifecycle coverage: 4/{EDGES} edges, {SHARE}",
        ]
    )
    assert result.ret == 0


def test_fail_under_fails_the_run(pytester: pytest.Pytester) -> None:
    """Below ``--lifecycle-coverage-fail-under`` the run fails, saying so, though every
    test passed; at or above it, it passes."""
    pytester.makepyfile(test_host=HOST_TESTS)
    below = pytester.runpytest("-p", "no:cacheprovider", "--lifecycle-coverage-fail-under=50")
    below.assert_outcomes(passed=2)
    assert below.ret == pytest.ExitCode.TESTS_FAILED
    below.stdout.fnmatch_lines([f"FAIL Required lifecycle coverage of 50% not reached: {SHARE}"])
    above = pytester.runpytest("-p", "no:cacheprovider", "--lifecycle-coverage-fail-under=5")
    assert above.ret == pytest.ExitCode.OK


def test_every_transition_played_covers_the_whole_table(pytester: pytest.Pytester) -> None:
    """Playing ``paths.transitions()`` on the desk takes every edge: 100 %."""
    pytester.makepyfile(
        test_all="""
        import pytest
        from order_lifecycle.testing import paths

        @pytest.mark.parametrize("edge", list(paths.transitions()), ids=str)
        def test_edge(edge, order_desk, lifecycle_clock):
            order = paths.play(order_desk, paths.transitions()[edge], clock=lifecycle_clock)
            assert order.state is edge.dest
        """,
        conftest="""
        import pytest
        from order_lifecycle.testing import paths

        @pytest.fixture
        def lifecycle_policy():
            return paths.POLICY
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--lifecycle-coverage-fail-under=100")
    result.assert_outcomes(passed=EDGES)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([f"lifecycle coverage: {EDGES}/{EDGES} edges, 100.0%"])
    assert "never taken" not in result.stdout.str()


def test_order_desk_url_puts_the_desk_on_that_store(pytester: pytest.Pytester) -> None:
    """``--order-desk-url`` opens ``order_desk`` on the store given."""
    database = pytester.path / "host.db"
    pytester.makepyfile(
        test_store="""
        from order_lifecycle.adapters.sqlite import SQLiteStore

        def test_on_sqlite(order_desk, order_in):
            assert isinstance(order_desk.store, SQLiteStore)
            assert order_in("complete").state == "complete"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", f"--order-desk-url=sqlite:///{database}")
    result.assert_outcomes(passed=1)
    assert database.exists()


def test_bad_state_and_bad_threshold_are_clear_errors(pytester: pytest.Pytester) -> None:
    """An unknown state is a ``ValidationError`` naming the states; a threshold outside
    0-100 stops the run before any test."""
    pytester.makepyfile(
        test_bad="""
        import pytest
        from order_lifecycle import ValidationError

        def test_unknown_state(order_in):
            with pytest.raises(ValidationError, match="pending, accepted"):
                order_in("shipped")
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    wrong = pytester.runpytest("-p", "no:cacheprovider", "--lifecycle-coverage-fail-under=120")
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
    wrong.stderr.fnmatch_lines(["*--lifecycle-coverage-fail-under takes a percentage, 0 to 100*"])


def test_order_in_follows_the_desks_policy(pytester: pytest.Pytester) -> None:
    """A host's ``lifecycle_policy`` (here an empty CX team: no dispute is ever resolved)
    is the desk's, and ``order_in`` finds its paths under it."""
    pytester.makepyfile(
        conftest="""
        import pytest
        from order_lifecycle import Policy

        @pytest.fixture
        def lifecycle_policy():
            return Policy(cx_team=set())
        """,
        test_team="""
        def test_each_state(order_in, order_desk):
            assert order_desk.policy.cx_team == frozenset()
            for state in ("pending", "accepted", "delivered", "revision", "complete",
                          "disputed", "cancelled"):
                assert order_in(state).state == state
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_order_in_answers_the_listings_requests(pytester: pytest.Pytester) -> None:
    """For a listing with a required and an optional buyer request, ``order_in`` answers
    both, as the path search does, and reaches every state; ``answers=`` is the host's
    own, used as given."""
    pytester.makepyfile(
        test_requests="""
        import pendulum
        import pytest
        from order_lifecycle import BuyerRequest, Listing, Money, OrderState, ValidationError

        LISTING = Listing(
            "Portrait", Money("60.00", "EUR"), pendulum.duration(days=4), 1,
            requests=(BuyerRequest("Whose?", required=True), BuyerRequest("Colours?")),
        )

        def test_each_state(order_in):
            for state in OrderState:
                order = order_in(state, listing=LISTING)
                assert order.state is state
                assert set(order.answers) == {"Whose?", "Colours?"}

        def test_own_answers(order_in):
            order = order_in("accepted", listing=LISTING, answers={"Whose?": "My cat's"})
            assert dict(order.answers) == {"Whose?": "My cat's"}
            with pytest.raises(ValidationError, match="Whose"):
                order_in("accepted", listing=LISTING, answers={})
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
