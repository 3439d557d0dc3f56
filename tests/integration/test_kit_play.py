"""``paths.play`` as spec section 13 writes it: ``Step(action, role, wait, args)``, a
timer step named by the action its timer fires, and a listing whose buyer requests
``play`` answers as the path search does.

The timer steps and the answers are checked on every store; the rest on memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pendulum
import pytest

from order_lifecycle import (
    Action,
    ActionNotAvailable,
    BuyerRequest,
    Calendar,
    Listing,
    ManualClock,
    Money,
    OrderDesk,
    OrderState,
    Role,
    Timer,
    ValidationError,
    core,
)
from order_lifecycle.testing import paths
from order_lifecycle.testing.moves import take

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
#: A listing with one question the buyer must answer and one the buyer may leave.
ASKING = Listing(
    "Portrait",
    Money("60.00", "EUR"),
    pendulum.duration(days=4),
    1,
    requests=(BuyerRequest("Whose portrait?", required=True), BuyerRequest("Any colours?")),
)
#: The actions only a timer takes (no party can): what a timer step may be named by.
TIMED = (Action.expire, Action.auto_complete)


@pytest.fixture
def kit_desk(url: str) -> Iterator[tuple[OrderDesk, ManualClock]]:
    """A desk on each store, under the kit's default policy, on a manual clock."""
    clock = ManualClock(T0)
    with OrderDesk.open(url, clock=clock, policy=paths.POLICY) as desk:
        yield desk, clock


@pytest.fixture
def memory_desk() -> Iterator[tuple[OrderDesk, ManualClock]]:
    """A desk in memory, under the kit's default policy, on a manual clock."""
    clock = ManualClock(T0)
    with OrderDesk.open("memory://", clock=clock, policy=paths.POLICY) as desk:
        yield desk, clock


# -- timer steps -----------------------------------------------------------------------


@pytest.mark.parametrize("action", TIMED)
def test_a_timer_edge_plays_with_its_last_step_named_either_way(
    kit_desk: tuple[OrderDesk, ManualClock], action: Action
) -> None:
    """The path ``transitions()`` gives for an ``expire`` or ``auto_complete`` edge ends
    with a tick named by its timer; the same step named by the action the timer fires,
    as the spec writes a step, plays the same: the tick fires that action."""
    desk, clock = kit_desk
    found = paths.transitions()
    edge = next(e for e in found if e.action is action)
    steps = found[edge]
    last = steps[-1]
    assert isinstance(last.action, Timer)
    named = paths.Step(action, Role.system, last.wait, last.args)
    assert named.is_timer
    for path in (steps, (*steps[:-1], named)):
        order = paths.play(desk, path, clock=clock)
        assert order.state is edge.dest, path
        history = desk.history(order.id)
        assert (history[-1].action, history[-1].state) == (action, edge.dest), path
        assert history[-1].actor.role is Role.system
        placed = core.place(
            buyer="buyer", seller="seller", listing=paths.LISTING, now=T0, policy=paths.POLICY
        )
        on_core, now, moved = placed.order, T0, None
        for step in path:  # the pure core takes it as the desk does
            moved = take(on_core, now, step, paths.POLICY)
            assert moved is not None, step
            on_core, now = moved.order, moved.at
        assert moved is not None
        assert (moved.edges[-1], moved.step) == (edge, path[-1])


def test_a_system_step_is_a_tick(memory_desk: tuple[OrderDesk, ManualClock]) -> None:
    """A step by ``system`` ticks, whatever it names: after the review window a
    delivered order completes by itself; after the acceptance window a pending one
    expires."""
    desk, clock = memory_desk
    week = pendulum.duration(days=7)
    delivered = paths.shortest()[OrderState.delivered]
    complete = paths.play(
        desk, (*delivered, paths.Step(Action.auto_complete, Role.system, week)), clock=clock
    )
    assert complete.state is OrderState.complete
    assert complete.completion == "review window elapsed"
    days = pendulum.duration(days=3)
    expired = paths.play(desk, [paths.Step(Action.expire, Role.system, days)], clock=clock)
    assert expired.cancellation is not None
    assert expired.cancellation.reason == "expired"
    assert str(paths.Step(Action.expire, Role.system, days)) == "after 3 days: tick (expire)"


@pytest.mark.parametrize(
    "named",
    [Action.auto_complete, Timer.review_window],
    ids=str,
)
def test_a_timer_step_that_fires_something_else_is_refused(
    memory_desk: tuple[OrderDesk, ManualClock], named: Action | Timer
) -> None:
    """A tick that fires timers, but not the one the step names (a pending order
    expires where the step expected the review window), raises ``ActionNotAvailable``
    saying what fired, with the note naming the step; ``moves.take`` on the pure core
    gives no move for it."""
    desk, clock = memory_desk
    step = paths.Step(named, Role.system, pendulum.duration(days=3))
    with pytest.raises(ActionNotAvailable, match=rf"fired .*expire.*not {named}") as refused:
        paths.play(desk, [step], clock=clock)
    assert refused.value.action == named
    assert refused.value.__notes__ == [f"while playing step 1 of 1: {step}"]
    placed = core.place(
        buyer="buyer", seller="seller", listing=paths.LISTING, now=T0, policy=paths.POLICY
    )
    assert take(placed.order, T0, step, paths.POLICY) is None  # nor on the pure core


@pytest.mark.parametrize("action", [Action.accept, Action.say, Action.place], ids=str)
def test_a_system_step_naming_an_action_no_timer_fires_is_refused(
    memory_desk: tuple[OrderDesk, ManualClock], action: Action
) -> None:
    """``system`` takes only what a timer fires: any other action is a
    ``ValidationError`` that says so, before anything is placed or the clock moves."""
    desk, clock = memory_desk
    steps = [paths.Step(Action.accept, Role.seller), paths.Step(action, Role.system)]
    with pytest.raises(ValidationError, match=rf"step 2: no timer fires {action}"):
        paths.play(desk, steps, clock=clock)
    assert desk.store.is_empty()
    assert clock.now() == T0


# -- buyer requests --------------------------------------------------------------------


def test_play_answers_the_listings_requests_as_the_search_does(
    kit_desk: tuple[OrderDesk, ManualClock],
) -> None:
    """With no ``answers``, ``play`` answers every request of the listing, required or
    not, as ``shortest`` does: its path to each state plays on a desk."""
    desk, clock = kit_desk
    found = paths.shortest(listing=ASKING)
    assert list(found) == list(OrderState)
    for state, steps in found.items():
        order = paths.play(desk, steps, clock=clock, listing=ASKING)
        assert order.state is state
        assert order.listing == ASKING
        assert set(order.answers) == {request.question for request in ASKING.requests}


def test_answers_given_to_play_are_used_as_they_are(
    memory_desk: tuple[OrderDesk, ManualClock],
) -> None:
    """``answers=`` overrides the kit's: used as given, so leaving out a required one is
    the desk's own refusal."""
    desk, clock = memory_desk
    mine = {"Whose portrait?": "My cat's"}
    order = paths.play(desk, (), clock=clock, listing=ASKING, answers=mine)
    assert dict(order.answers) == mine
    with pytest.raises(ValidationError, match="Whose portrait"):
        paths.play(desk, (), clock=clock, listing=ASKING, answers={})


#: The kit's default policy (every window, a reminder of every deadline) with working
#: days counted (Paris), a one-day acceptance window and a cancellation window:
#: deadlines that fall elsewhere depending on the day an order is placed.
WORKING_DAYS = attrs.evolve(
    paths.POLICY,
    calendar=Calendar("Europe/Paris"),
    acceptance_window=pendulum.duration(days=1),
    cancellation_window=pendulum.duration(days=2),
)


@pytest.mark.parametrize(
    "start",
    [
        pendulum.datetime(2026, 12, 4, 10, tz="UTC"),  # a Friday: the weekend comes first
        pendulum.datetime(2026, 12, 24, 16, tz="UTC"),  # Christmas Eve, late
        pendulum.datetime(2026, 3, 28, 23, 30, tz="UTC"),  # Sunday in Paris, clocks change
    ],
    ids=["friday", "christmas-eve", "summer-time"],
)
def test_every_edge_plays_under_working_days_from_any_day(start: pendulum.DateTime) -> None:
    """The paths are found from the search's own start; under a calendar the same wait
    lands elsewhere from another day, so ``play`` moves the clock to the deadline the
    path waited for, not by the wait as it was."""
    found = paths.transitions(WORKING_DAYS)
    assert Action.expire in {edge.action for edge in found}
    for edge, steps in found.items():
        clock = ManualClock(start)
        with OrderDesk.open("memory://", clock=clock, policy=WORKING_DAYS) as desk:
            order = paths.play(desk, steps, clock=clock)
            assert order.state is edge.dest, f"{edge}: {order.state}"


def test_a_wait_written_by_hand_is_taken_as_it_is(
    memory_desk: tuple[OrderDesk, ManualClock],
) -> None:
    """A wait that ends past a deadline, not on it, is not moved to the deadline."""
    desk, clock = memory_desk
    steps = (
        paths.Step(Action.accept, Role.seller),
        paths.Step(
            Action.cancel, Role.buyer, pendulum.duration(days=4, hours=5), {"reason": "Late"}
        ),
    )
    order = paths.play(desk, steps, clock=clock)
    assert order.state is OrderState.cancelled
    assert clock.now() == T0.add(days=4, hours=5)
