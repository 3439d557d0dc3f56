"""Authorization through the desk: every action x state x kind of actor, chat and inbox.

The oracle (tests/oracle.py) is written from the spec's table, not imported from the code.
Actor kinds: buyer, seller, stranger, CX agent not joined, CX agent joined, another CX
agent, the system.
"""

from __future__ import annotations

from collections.abc import Callable

import pendulum
import pytest

from order_lifecycle import (
    Action,
    ActionNotAvailable,
    Actor,
    Listing,
    ManualClock,
    Money,
    NotAParticipant,
    OrderDesk,
    Policy,
    Role,
    ValidationError,
)
from order_lifecycle.core import api
from order_lifecycle.core.replay import replay_steps
from order_lifecycle.ports import Write

from oracle import expected

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 1)
JOINED = Actor.cx("carol")
ACTORS: dict[str, Actor] = {
    "buyer": Actor.buyer("alice"),
    "seller": Actor.seller("bob"),
    "stranger": Actor.buyer("mallory"),
    "cx_unjoined": Actor.cx("zoe"),
    "cx_joined": JOINED,
    "cx_other": Actor.cx("dave"),
    "system": Actor.system(),
}
# The oracle names a joined agent "cx_joined" and any other agent "cx_other".
ORACLE_NAME = {"cx_unjoined": "cx_other"}

Step = Callable[[OrderDesk, str], object]


def _walk(*steps: Step) -> Callable[[OrderDesk], str]:
    def build(desk: OrderDesk) -> str:
        order_id = desk.place(buyer="alice", seller="bob", listing=LISTING).id
        for step in steps:
            step(desk, order_id)
        return order_id

    return build


def accept(d: OrderDesk, o: str) -> object:
    return d.accept(o, by="bob")


def deliver(d: OrderDesk, o: str) -> object:
    return d.deliver(o, by="bob", outside=True)


def revise(d: OrderDesk, o: str) -> object:
    return d.request_revision(o, by="alice", note="again")


def dispute(d: OrderDesk, o: str) -> object:
    return d.dispute(o, by="alice", reason="stuck")


def join(d: OrderDesk, o: str) -> object:
    return d.join(o, by=JOINED)


def propose(d: OrderDesk, o: str) -> object:
    return d.propose_update(o, by="bob", revisions=3)


SCENARIOS: dict[str, Callable[[OrderDesk], str]] = {
    "pending": _walk(),
    "accepted": _walk(accept),
    "accepted+proposal": _walk(accept, propose),
    "delivered": _walk(accept, deliver),
    "revision": _walk(accept, deliver, revise),
    "delivered+exhausted": _walk(accept, deliver, revise, deliver),
    "disputed": _walk(accept, dispute),
    "disputed+joined": _walk(accept, dispute, join),
    "complete": _walk(accept, deliver, lambda d, o: d.approve(o, by="alice")),
    "declined": _walk(lambda d, o: d.decline(o, by="bob")),
}

COMMANDS: dict[Action, Callable[[OrderDesk, str, Actor], object]] = {
    Action.accept: lambda d, o, a: d.accept(o, by=a),
    Action.decline: lambda d, o, a: d.decline(o, by=a, reason="busy"),
    Action.withdraw: lambda d, o, a: d.withdraw(o, by=a),
    Action.deliver: lambda d, o, a: d.deliver(o, by=a, outside=True),
    Action.approve: lambda d, o, a: d.approve(o, by=a),
    Action.request_revision: lambda d, o, a: d.request_revision(o, by=a, note="n"),
    Action.propose_update: lambda d, o, a: d.propose_update(o, by=a, price="175.00"),
    Action.accept_update: lambda d, o, a: d.accept_update(o, by=a),
    Action.reject_update: lambda d, o, a: d.reject_update(o, by=a),
    Action.withdraw_update: lambda d, o, a: d.withdraw_update(o, by=a),
    Action.dispute: lambda d, o, a: d.dispute(o, by=a, reason="r"),
    Action.join: lambda d, o, a: d.join(o, by=a),
    Action.resolve: lambda d, o, a: d.resolve(o, by=a, outcome="complete", note="n"),
    Action.cancel: lambda d, o, a: d.cancel(o, by=a, reason="r"),
    Action.say: lambda d, o, a: d.say(o, by=a, text="hi"),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("later", [0, 9], ids=["now", "+9d"])
def test_desk_allows_exactly_what_the_spec_allows(scenario: str, later: int) -> None:
    """``actions`` and the command agree with the oracle for every kind of actor."""
    clock = ManualClock(T0)
    desk = OrderDesk.open("memory://", clock=clock)
    order_id = SCENARIOS[scenario](desk)
    clock.advance(days=later)
    for who, actor in ACTORS.items():
        for action, run in COMMANDS.items():
            before = desk.get(order_id)
            if who == "stranger" or (actor.role is Role.system and action is Action.place):
                with pytest.raises(NotAParticipant):
                    run(desk, order_id, actor)
                continue
            options = {o.action: o for o in desk.actions(order_id, viewer=actor)}
            want = expected(action, before, ORACLE_NAME.get(who, who), clock.now(), Policy())
            assert options[action].available is want, (scenario, who, action)
            if not want:
                with pytest.raises(ActionNotAvailable) as raised:
                    run(desk, order_id, actor)
                assert raised.value.reason == options[action].reason
                assert desk.get(order_id) == before
                continue
            # Try it on a copy of the story so the next actor sees the same order.
            copy_clock = ManualClock(T0)
            copy = OrderDesk.open("memory://", clock=copy_clock)
            copy_id = _replay(copy, copy_clock, desk, order_id)
            after = run(copy, copy_id, actor)
            assert copy.get(copy_id).version == before.version + 1, after
        with pytest.raises(NotAParticipant):
            desk.actions(order_id, viewer=ACTORS["stranger"])


def _replay(copy: OrderDesk, clock: ManualClock, desk: OrderDesk, order_id: str) -> str:
    """The same order on another desk: placed under the same id, events replayed."""
    for event, after in replay_steps(desk.history(order_id)):
        timers = api.due_timers(after)
        copy.store.write(
            Write(
                order=after,
                events=(event,),
                expected_version=event.seq - 1,
                next_timer_at=timers[0].due_at if timers else None,
            )
        )
    clock.set(desk.clock.now())
    return order_id


def test_nobody_acts_for_another() -> None:
    """An id acts only in its own role; claiming the other party's role is refused."""
    desk = OrderDesk.open("memory://", clock=ManualClock(T0))
    order_id = desk.place(buyer="alice", seller="bob", listing=LISTING).id
    for impostor in (Actor.seller("alice"), Actor.buyer("bob"), Actor("system", Role.system)):
        with pytest.raises((NotAParticipant, ActionNotAvailable)):
            desk.accept(order_id, by=impostor)
    with pytest.raises(NotAParticipant):
        desk.accept(order_id, by=Actor.seller("alice"))
    with pytest.raises(NotAParticipant):
        desk.withdraw(order_id, by=Actor.buyer("bob"))
    assert desk.get(order_id).version == 1


def test_chat_read_access_and_inbox_contents() -> None:
    """Buyer, seller and the agent who joined read the chat; their inboxes list it."""
    desk = OrderDesk.open("memory://", clock=ManualClock(T0))
    order_id = SCENARIOS["disputed+joined"](desk)
    other = desk.place(buyer="carl", seller="bob", listing=LISTING).id
    for reader in ("alice", "bob", JOINED):
        assert len(desk.chat(order_id, viewer=reader)) == 4
    for outsider in (
        "mallory",
        Actor.cx("dave"),
        Actor.cx("zoe"),
        Actor.system(),
        Actor.buyer("bob"),
    ):
        with pytest.raises(NotAParticipant):
            desk.chat(order_id, viewer=outsider)
        with pytest.raises(NotAParticipant):
            desk.mark_read(order_id, by=outsider)
    assert [c.order_id for c in desk.inbox("alice")] == [order_id]
    assert {c.order_id for c in desk.inbox("bob")} == {order_id, other}
    assert [c.order_id for c in desk.inbox("carol")] == [order_id]
    assert desk.inbox("dave") == []
    assert desk.inbox("mallory") == []


def test_cx_team_allow_list_is_enforced() -> None:
    """With ``Policy.cx_team`` set, only its members act or read as CX agents."""
    desk = OrderDesk.open("memory://", clock=ManualClock(T0), policy=Policy(cx_team={"carol"}))
    order_id = SCENARIOS["disputed"](desk)
    with pytest.raises(NotAParticipant, match="CX team"):
        desk.join(order_id, by=Actor.cx("dave"))
    with pytest.raises(NotAParticipant):
        desk.actions(order_id, viewer=Actor.cx("dave"))
    desk.join(order_id, by=JOINED)
    assert len(desk.chat(order_id, viewer=JOINED)) == 4
    with pytest.raises(NotAParticipant):
        desk.chat(order_id, viewer=Actor.cx("dave"))


def test_bad_viewer_values_are_validation_errors() -> None:
    """A viewer that is not an id nor an Actor is refused with a typed error."""
    desk = OrderDesk.open("memory://", clock=ManualClock(T0))
    order_id = desk.place(buyer="alice", seller="bob", listing=LISTING).id
    for bad in ("", " alice", "a" * 300):
        with pytest.raises(ValidationError):
            desk.actions(order_id, viewer=bad)
