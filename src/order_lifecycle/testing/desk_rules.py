"""``DeskRules``: a Hypothesis state machine that drives an ``OrderDesk`` at random.

It places orders and runs random commands (any action of the table, with valid sample
arguments) by random actors (the parties, CX agents, a stranger posing as a party) at
random times, and after every step checks the lifecycle's invariants (spec section 13):

- a command succeeds if and only if ``actions`` listed it available (a refusal carries
  the listed reason and changes nothing; a stranger is refused by both);
- ``get`` equals the replay of ``history`` and ``version == len(history)``, and the rest
  of :func:`~order_lifecycle.testing.consistency.check_order` holds (outbox, participants);
- the chat is the history, entry for event;
- a terminal state never changes, and ``revisions_used <= contract.revisions``;
- each due timer fires once: after ``tick`` none is left due, and none fires twice.

A host subclasses it, overrides :meth:`DeskRules.make_desk` (default ``memory://``) and
adds its own ``@invariant()`` and ``@rule()`` methods; ``TestMine = Mine.TestCase``.
"""

from __future__ import annotations

from typing import ClassVar, Final

import pendulum
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from order_lifecycle.clock import ManualClock
from order_lifecycle.core import api
from order_lifecycle.core.events import Event
from order_lifecycle.core.model import Action, Actor, Listing, OrderState, Role, Timer
from order_lifecycle.core.table import RULES, Rule
from order_lifecycle.desk import OrderDesk
from order_lifecycle.errors import ActionNotAvailable, NotAParticipant
from order_lifecycle.testing.arguments import variants
from order_lifecycle.testing.consistency import check_order
from order_lifecycle.testing.strategies import listings

__all__ = ["DeskRules"]

#: Where the clock of every run starts.
T0: Final = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
#: The rows a party or a CX agent takes (``desk.execute``; the system's are timers').
_DESK_RULES: Final = tuple(
    rule for rule in RULES if rule.command is not None and rule.roles - {Role.system}
)


def _answers_an_open_part(rule: Rule) -> bool:
    """The row answers something open on the order (a proposal, a cancellation request,
    the seller's question): one of its guards refuses when that part is not open."""
    return any(g.reads is not None and g.without is not None for g in rule.guards)


#: How often ``progress`` draws each row: moving on, or answering what is open (a
#: proposal, a request, a question: only available for a while), 4; ending the order 2;
#: staying 1.
_WEIGHT: Final[dict[Action, int]] = {
    rule.action: (
        4
        if _answers_an_open_part(rule)
        else 1
        if rule.stays
        else 2
        if all(d.is_terminal for d in rule.dests)
        else 4
    )
    for rule in _DESK_RULES
}


class DeskRules(RuleBasedStateMachine):
    """Random orders, commands, actors and clock moves on a desk; the invariants of the
    lifecycle checked after every step. Subclass it; ``TestX = Subclass.TestCase``.

    The desk is ``self.desk``, its ``ManualClock`` ``self.clock`` and the ids of the
    orders placed ``self.order_ids``.
    """

    #: Orders a run keeps open at once: it places another while fewer are open (not yet
    #: complete or cancelled), up to four times as many in all, so that a run whose
    #: orders ended early goes on with a fresh one instead of only chatting.
    max_orders: ClassVar[int] = 3
    #: The ids the runs use: the parties, CX agents (taken from the policy's CX team when
    #: it has one) and a stranger who poses as a party.
    buyer: ClassVar[str] = "alice"
    seller: ClassVar[str] = "bob"
    cx_agents: ClassVar[tuple[str, ...]] = ("carol", "dave")
    stranger: ClassVar[str] = "mallory"

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(T0)
        self.desk = self.make_desk(self.clock)
        self.policy = self.desk.policy
        self.order_ids: list[str] = []
        self._ended: dict[str, OrderState] = {}
        self._fired: set[tuple[str, Action | Timer, pendulum.DateTime, object]] = set()
        team = self.policy.cx_team
        self._agents = self.cx_agents if team is None else tuple(sorted(team))[:2] or ("carol",)

    def make_desk(self, clock: ManualClock) -> OrderDesk:
        """The desk under test, on ``clock``: override it for another store, policy or
        notifier (the default is ``memory://``)."""
        return OrderDesk.open("memory://", clock=clock)

    def teardown(self) -> None:
        """Close the desk."""
        self.desk.close()

    # -- rules -------------------------------------------------------------------------

    def may_place(self) -> bool:
        """Whether ``place`` may run: fewer than ``max_orders`` orders open, fewer than
        four times as many placed in all."""
        placed = len(self.order_ids)
        return placed - len(self._ended) < self.max_orders and placed < 4 * self.max_orders

    @precondition(lambda self: self.may_place())
    @rule(listing=listings())
    def place(self, listing: Listing) -> None:
        """The buyer buys a listing (answering its questions)."""
        answers = {request.question: "An answer" for request in listing.requests}
        order = self.desk.place(
            buyer=self.buyer, seller=self.seller, listing=listing, answers=answers
        )
        assert order.state is OrderState.pending
        self.order_ids.append(order.id)

    @precondition(lambda self: bool(self.order_ids))
    @rule(data=st.data())
    def act(self, data: st.DataObject) -> None:
        """Any action of the table by anyone: it succeeds exactly when it was listed
        available to that actor; a refusal gives the listed reason and changes nothing."""
        order_id = data.draw(st.sampled_from(self.order_ids), label="order")
        chosen = data.draw(st.sampled_from(_DESK_RULES), label="action")
        actor = data.draw(st.sampled_from(self._cast()), label="actor")
        self._run(data, order_id, chosen.action, actor)

    @precondition(lambda self: bool(self.order_ids))
    @rule(data=st.data(), moves=st.integers(1, 6))
    def progress(self, data: st.DataObject, moves: int) -> None:
        """A few actions that some party or CX agent may take now, so that runs go deep:
        those that move the order on are drawn more often than those that end it or
        leave it where it is."""
        # An order that may still move on, when there is one: in a terminal state only
        # the chat and the reviews are left (``act`` still draws any order).
        live = [o for o in self.order_ids if not self.desk.get(o).state.is_terminal]
        order_id = data.draw(st.sampled_from(live or self.order_ids), label="order")
        for _ in range(moves):
            takers: dict[Action, list[Actor]] = {}
            for actor in self._cast():
                try:
                    shown = self.desk.actions(order_id, viewer=actor)
                except NotAParticipant:
                    continue
                for option in shown:
                    if option.available and option.action in _WEIGHT:
                        takers.setdefault(option.action, []).append(actor)
            if not takers:
                return
            weighted = [action for action in takers for _ in range(_WEIGHT[action])]
            action = data.draw(st.sampled_from(weighted), label="move")
            actor = data.draw(st.sampled_from(takers[action]), label="by")
            self._run(data, order_id, action, actor)

    @rule(data=st.data(), hours=st.integers(1, 48), to_deadline=st.booleans())
    def advance(self, data: st.DataObject, hours: int, to_deadline: bool) -> None:
        """Time passes, by a few hours or to exactly the instant a timer falls due; then
        the due timers fire."""
        now = self.clock.now()
        due = sorted(
            timer.due_at
            for order_id in self.order_ids
            for timer in api.due_timers(self.desk.get(order_id), self.policy)
            if timer.due_at > now
        )
        if to_deadline and due:
            self.clock.set(data.draw(st.sampled_from(due), label="deadline"))
        else:
            self.clock.advance(hours=hours)
        self._tick()

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def orders_are_consistent(self) -> None:
        """Each order replays from its history, version == len(history), its outbox and
        participants follow from its events, revisions_used <= contract.revisions."""
        for order_id in self.order_ids:
            assert check_order(self.desk.store, order_id, self.policy) == []

    @invariant()
    def the_chat_is_the_history(self) -> None:
        """The chat shows one entry per event, in order."""
        for order_id in self.order_ids:
            order = self.desk.get(order_id)
            chat = self.desk.chat(order_id, viewer=Actor(order.buyer, Role.buyer))
            assert [e.seq for e in chat] == [e.seq for e in self.desk.history(order_id)]

    @invariant()
    def terminal_states_never_change(self) -> None:
        """Once complete or cancelled, an order stays so."""
        for order_id in self.order_ids:
            state = self.desk.get(order_id).state
            ended = self._ended.get(order_id)
            assert ended is None or state is ended, (order_id, ended, state)
            if state.is_terminal:
                self._ended[order_id] = state

    # -- helpers -----------------------------------------------------------------------

    def _cast(self) -> list[Actor]:
        return [
            Actor(self.buyer, Role.buyer),
            Actor(self.seller, Role.seller),
            *(Actor(agent, Role.cx_agent) for agent in self._agents),
            Actor(self.stranger, Role.buyer),
            Actor(self.stranger, Role.seller),
        ]

    def _run(self, data: st.DataObject, order_id: str, action: Action, actor: Actor) -> None:
        before = self.desk.get(order_id)
        command = next(r.command for r in _DESK_RULES if r.action is action)
        assert command is not None
        kwargs = data.draw(st.sampled_from(variants(command, before)), label="arguments")
        try:
            option = next(
                o for o in self.desk.actions(order_id, viewer=actor) if o.action is action
            )
        except NotAParticipant:
            option = None
        refused: NotAParticipant | ActionNotAvailable | None = None
        try:
            after = self.desk.execute(order_id, command(**kwargs), by=actor)
        except (NotAParticipant, ActionNotAvailable) as error:
            refused = error
        if option is None:  # not a participant: refused as such by the command too
            assert isinstance(refused, NotAParticipant), (action, actor, refused)
        elif option.available:
            assert refused is None, (action, actor, "listed available, but", refused)
            assert after.version == before.version + 1
            assert after == self.desk.get(order_id)
            return
        else:
            assert isinstance(refused, ActionNotAvailable), (action, actor, option, refused)
            assert refused.reason == option.reason
        assert self.desk.get(order_id) == before  # a refusal changes nothing
        assert len(self.desk.history(order_id)) == before.version

    def _tick(self) -> None:
        """``tick``; every timer due fires, once."""
        now = self.clock.now()
        fired: list[Event] = self.desk.tick()
        for event in fired:
            due = getattr(event, "due_at", now)
            key = (event.order_id, event.action, due, getattr(event, "deadline", None))
            assert key not in self._fired, ("fired twice", key)
            self._fired.add(key)
        for order_id in self.order_ids:
            order = self.desk.get(order_id)
            late = [t for t in api.due_timers(order, self.policy) if t.ready(now)]
            assert not late, (order_id, late)
