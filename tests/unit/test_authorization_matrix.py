"""Every action x every state x every kind of actor, against an oracle written from the spec.

The oracle below is written from SPEC.md section 4 by hand; it imports nothing of the
core's table or guards, so a mistake in the table cannot hide behind itself.
"""

from __future__ import annotations

import itertools

import pendulum
import pytest

from order_lifecycle import (
    Action,
    ActionNotAvailable,
    Actor,
    NotAParticipant,
    Order,
    OrderState,
    Policy,
    Role,
    ValidationError,
    core,
)

from oracle import ACTORS, VALID, expected
from support import AGENT, BUYER, SCENARIOS, SELLER, Walk


def _scenario_orders() -> list[tuple[str, Order, pendulum.DateTime]]:
    cases: list[tuple[str, Order, pendulum.DateTime]] = []
    for name, walk_to in SCENARIOS.items():
        walk = Walk(revisions=1)
        order = walk_to(walk)
        cases.append((name, order, walk.now))
        cases.append((f"{name}+9d", order, walk.now.add(days=9)))
    proposal = Walk(revisions=1)
    SCENARIOS["accepted"](proposal)
    proposal.do(core.ProposeUpdate(revisions=3), BUYER)
    cases.append(("accepted+proposal", proposal.order, proposal.now))
    exhausted = Walk(revisions=1)
    SCENARIOS["revision"](exhausted)
    exhausted.do(core.Deliver(outside=True), SELLER)
    cases.append(("delivered+exhausted", exhausted.order, exhausted.now))
    paused = Walk(revisions=1)
    SCENARIOS["accepted"](paused)
    paused.do(core.RequestInfo(question="Which handle?"), SELLER)
    cases.append(("accepted+question", paused.order, paused.now))
    cases.append(("accepted+question+9d", paused.order, paused.now.add(days=9)))
    asked = Walk(revisions=1, policy=Policy(cancellation_window=pendulum.duration(days=2)))
    SCENARIOS["delivered"](asked)
    asked.do(core.RequestCancellation(reason="Plans changed"), BUYER)
    cases.append(("delivered+cancellation", asked.order, asked.now))
    cases.append(("delivered+cancellation+3d", asked.order, asked.now.add(days=3)))
    rejecting = Policy(
        cancellation_window=pendulum.duration(days=2), on_cancellation_silence="reject"
    )
    silent = Walk(revisions=1, policy=rejecting)
    SCENARIOS["accepted"](silent)
    silent.do(core.RequestCancellation(reason="Plans changed"), SELLER)
    cases.append(
        ("accepted+cancellation+3d, silence rejects", silent.order, silent.now.add(days=3))
    )
    reviewed = Walk(revisions=1)
    SCENARIOS["complete"](reviewed)
    reviewed.do(core.Review(rating=4), SELLER)
    cases.append(("complete+review", reviewed.order, reviewed.now))
    cases.append(("complete+review+15d", reviewed.order, reviewed.now.add(days=15)))
    joined = Walk(revisions=1)
    SCENARIOS["cancelled_by_party"](joined)
    joined.do(core.Join(), Actor.cx(AGENT))
    cases.append(("cancelled+joined", joined.order, joined.now))
    joined.do(core.Settle(refund="20.00"), Actor.cx(AGENT))
    cases.append(("cancelled+settled", joined.order, joined.now))
    return cases


CASES = _scenario_orders()
POLICIES = {
    "default": Policy(),
    "acceptance_1d": Policy(acceptance_window=pendulum.duration(days=1)),
    "silence_rejects": Policy(on_cancellation_silence="reject"),
}


@pytest.mark.parametrize(("scenario", "order", "now"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("policy_name", sorted(POLICIES))
def test_every_action_for_every_actor(
    scenario: str, order: Order, now: pendulum.DateTime, policy_name: str
) -> None:
    """Allowed exactly where the spec says; otherwise the right typed error, order unchanged."""
    policy = POLICIES[policy_name]
    for (who, actor), action in itertools.product(ACTORS.items(), VALID):
        before = order
        if who == "stranger":
            with pytest.raises(NotAParticipant):
                core.decide(order, VALID[action](), actor=actor, now=now, policy=policy)
            with pytest.raises(NotAParticipant):
                core.options(order, actor=actor, now=now, policy=policy)
            continue
        option = {o.action: o for o in core.options(order, actor=actor, now=now, policy=policy)}[
            action
        ]
        want = expected(action, order, who, now, policy)
        assert option.available is want, (scenario, who, action, option.reason)
        if want:
            decision = core.decide(order, VALID[action](), actor=actor, now=now, policy=policy)
            assert len(decision.events) == 1
            assert decision.order.version == order.version + 1
        else:
            assert option.reason
            with pytest.raises(ActionNotAvailable) as raised:
                core.decide(order, VALID[action](), actor=actor, now=now, policy=policy)
            assert raised.value.reason == option.reason
            assert raised.value.action == action
        assert order == before


def test_options_lists_every_action_once() -> None:
    """``options`` shows every action of the table, in a stable order, once each."""
    order = CASES[0][1]
    listed = [o.action for o in core.options(order, actor=BUYER, now=CASES[0][2])]
    assert listed == list(Action)


def test_terminal_states_absorb() -> None:
    """In complete and cancelled only ``say``, CX ``join`` and ``settle`` after ``cancel``,
    and the parties' ``review`` of a complete order are available."""
    for scenario, order, now in CASES:
        if not order.state.is_terminal:
            continue
        for who, actor in ACTORS.items():
            if who == "stranger":
                continue
            open_actions = {
                o.action for o in core.options(order, actor=actor, now=now) if o.available
            }
            allowed = {Action.say, Action.join, Action.settle, Action.review}
            assert open_actions <= allowed, (scenario, who, open_actions)
            assert order.state is OrderState.complete or Action.review not in open_actions


def test_plain_user_ids_resolve_to_the_orders_parties() -> None:
    """``actor="bob"`` is the seller of the order; a stranger's id is refused by name."""
    walk = Walk()
    assert core.decide(walk.order, core.Accept(), actor=SELLER, now=walk.now).order.state == (
        OrderState.accepted
    )
    with pytest.raises(NotAParticipant, match="mallory"):
        core.decide(walk.order, core.Accept(), actor="mallory", now=walk.now)


def test_cx_team_allow_list_is_enforced() -> None:
    """With ``Policy.cx_team`` set, a CX agent outside it is not a participant."""
    policy = Policy(cx_team={"carol"})
    walk = Walk(policy=policy)
    SCENARIOS["disputed"](walk)
    with pytest.raises(NotAParticipant, match="CX team"):
        core.decide(walk.order, core.Join(), actor=Actor.cx("dave"), now=walk.now, policy=policy)
    joined = core.decide(
        walk.order, core.Join(), actor=Actor.cx("carol"), now=walk.now, policy=policy
    )
    assert joined.order.dispute is not None
    assert joined.order.dispute.agent == "carol"


def test_checks_run_participant_then_availability_then_arguments() -> None:
    """A stranger with bad arguments is NotAParticipant; an unavailable action with bad
    arguments is ActionNotAvailable; only an available one reaches ValidationError."""
    walk = Walk()
    bad = core.RequestRevision(note="")
    with pytest.raises(NotAParticipant):
        core.decide(walk.order, bad, actor=Actor.buyer("mallory"), now=walk.now)
    with pytest.raises(ActionNotAvailable):
        core.decide(walk.order, bad, actor=BUYER, now=walk.now)
    SCENARIOS["delivered"](walk)
    with pytest.raises(ValidationError) as raised:
        core.decide(walk.order, bad, actor=BUYER, now=walk.now)
    assert raised.value.field == "note"


def test_system_role_is_only_the_system() -> None:
    """Nobody may act as the system under another id."""
    walk = Walk()
    with pytest.raises(NotAParticipant):
        core.options(walk.order, actor=Actor("mallory", Role.system), now=walk.now)
