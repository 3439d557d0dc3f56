"""The inbox built from a store's conversation rows."""

from __future__ import annotations

from collections.abc import Iterable

from order_lifecycle.core.model import OrderState, Role
from order_lifecycle.ports import ConversationRow
from order_lifecycle.views import ChatEntry, Conversation, entry

__all__ = ["conversations_of"]


def conversations_of(found: Iterable[ConversationRow], user: str, tz: str) -> list[Conversation]:
    """``user``'s inbox in zone ``tz`` from a store's ``conversations(user)`` rows: what
    ``OrderDesk.inbox`` returns for a store that does not list it itself (``InboxStore``)."""
    result: list[Conversation] = []
    for row in found:
        if row.role is Role.cx_agent:
            counterpart = f"{row.buyer} / {row.seller}"
        else:
            counterpart = row.seller if row.role is Role.buyer else row.buyer
        result.append(
            Conversation(
                order_id=row.order_id,
                title=row.title,
                state=OrderState(row.state),
                counterpart=counterpart,
                unread=row.unread,
                action_waiting=user in row.waiting,
                last=_last(row, tz),
            )
        )
    return result


def _last(row: ConversationRow, tz: str) -> ChatEntry | None:
    if row.last_entry is not None and tz == "UTC":
        return row.last_entry
    event = row.last_event()
    return None if event is None else entry(event, tz=tz)
