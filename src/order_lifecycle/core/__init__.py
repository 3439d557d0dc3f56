"""The pure core: the order state machine, as functions of (order, actor, now, policy).

No I/O and no clock reads: time is an argument. The core imports only the standard
library, ``attrs``, ``transitions`` and ``pendulum``.

>>> import pendulum
>>> from order_lifecycle import core, Listing, Money
>>> now = pendulum.datetime(2026, 12, 1, 10)
>>> listing = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)
>>> placed = core.place(buyer="alice", seller="bob", listing=listing, now=now, order_id="o1")
>>> accepted = core.decide(placed.order, core.Accept(), actor="bob", now=now)
>>> accepted.order.state, accepted.events[0].kind
(<OrderState.accepted: 'accepted'>, 'order_accepted')
"""

from order_lifecycle.core.api import (
    DEFAULT_POLICY,
    ActionOption,
    Decision,
    DueTimer,
    decide,
    due_timers,
    fire,
    options,
    place,
)
from order_lifecycle.core.commands import (
    Accept,
    AcceptCancellation,
    AcceptUpdate,
    Approve,
    AutoComplete,
    Cancel,
    Command,
    Decline,
    DeclineCancellation,
    Deliver,
    Dispute,
    Expire,
    Join,
    ProposeUpdate,
    ProvideInfo,
    RejectUpdate,
    RequestCancellation,
    RequestInfo,
    RequestRevision,
    Resolve,
    Review,
    Say,
    Settle,
    Withdraw,
    WithdrawCancellation,
    WithdrawUpdate,
)
from order_lifecycle.core.prompts import next_step
from order_lifecycle.core.terms import Calendar, Deadline, Reminder, SentReminder, Terms

__all__ = [
    "DEFAULT_POLICY",
    "Accept",
    "AcceptCancellation",
    "AcceptUpdate",
    "ActionOption",
    "Approve",
    "AutoComplete",
    "Calendar",
    "Cancel",
    "Command",
    "Deadline",
    "Decision",
    "Decline",
    "DeclineCancellation",
    "Deliver",
    "Dispute",
    "DueTimer",
    "Expire",
    "Join",
    "ProposeUpdate",
    "ProvideInfo",
    "RejectUpdate",
    "Reminder",
    "RequestCancellation",
    "RequestInfo",
    "RequestRevision",
    "Resolve",
    "Review",
    "Say",
    "SentReminder",
    "Settle",
    "Terms",
    "Withdraw",
    "WithdrawCancellation",
    "WithdrawUpdate",
    "decide",
    "due_timers",
    "fire",
    "next_step",
    "options",
    "place",
]
