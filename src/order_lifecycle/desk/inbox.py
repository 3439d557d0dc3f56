"""The inbox, built in one place from the plain rows a store lists."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from order_lifecycle.core.events import Event
from order_lifecycle.core.model import OrderState, Role
from order_lifecycle.ports import ConversationRow
from order_lifecycle.views import Conversation, entry, entry_from_json

__all__ = ["conversations_of"]

_STATES: Final = {state.value: state for state in OrderState}


def conversations_of(
    found: Iterable[ConversationRow],
    user: str,
    tz: str,
    last_event: Callable[[str, int], Event | None],
) -> list[Conversation]:
    """``user``'s inbox in zone ``tz`` (checked) from a store's ``conversations(user)``.

    The newest entry is the one the desk encoded when it wrote the order (in UTC); in
    another zone, or when the store kept none, ``last_event(order_id, version)`` reads the
    newest event and it is rendered here.
    """
    conversations: list[Conversation] = []
    append = conversations.append
    utc = tz == "UTC"
    for order_id, title, state, buyer, seller, role, waiting, unread, last, version in found:
        if role is Role.cx_agent:
            counterpart = f"{buyer} / {seller}"
        else:
            counterpart = seller if role is Role.buyer else buyer
        last_entry = None if last is None or not utc else entry_from_json(last)
        if last_entry is None:
            event = last_event(order_id, version)
            last_entry = None if event is None else entry(event, tz=tz)
        append(
            Conversation(  # positional: quicker than by keyword, in the fields' order
                order_id,
                title,
                _STATES.get(state) or OrderState(state),
                counterpart,
                unread,
                user in waiting,
                last_entry,
            )
        )
    return conversations
