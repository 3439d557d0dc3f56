"""What a participant sees: chat entries and inbox conversations.

The order chat is the order's history rendered for a viewer: a ``say`` is shown as the
message itself, every other event as an automated notice. Nothing here is stored, so
entries render in the viewer's time zone and can never disagree with the history.
"""

from __future__ import annotations

from typing import Final

import attrs
import pendulum

from order_lifecycle.core.api import ActionOption
from order_lifecycle.core.events import Event, MessagePosted
from order_lifecycle.core.model import Actor, Attachment, Order, OrderState
from order_lifecycle.core.notices import notice

__all__ = ["NEXT_STEP_KIND", "ChatEntry", "Conversation", "OrderView", "RelayReport", "entry"]

#: The ``kind`` of the chatbot's prompt when a chat view includes it (it is not stored).
NEXT_STEP_KIND: Final = "next_step"


@attrs.frozen
class ChatEntry:
    """One entry of an order's chat.

    ``kind`` is ``"message"`` (``author`` is who wrote it) or ``"notice"`` (automated,
    ``author`` is ``None``); a chat view that asks for it ends with the chatbot's prompt,
    ``kind == "next_step"`` with ``seq == 0``, computed for the viewer and never stored.
    """

    seq: int
    at: pendulum.DateTime
    kind: str
    author: str | None
    text: str
    files: tuple[Attachment, ...] = ()


@attrs.frozen
class Conversation:
    """One conversation of a user's inbox (the chat bubble)."""

    order_id: str
    title: str
    state: OrderState
    #: The other party (buyer or seller); for a CX agent, both: ``"alice / bob"``.
    counterpart: str
    #: Entries since the user's last ``mark_read`` that the user did not cause.
    unread: int
    #: The user is the one expected to move the order next.
    action_waiting: bool
    last: ChatEntry | None


@attrs.frozen
class OrderView:
    """One order as one viewer sees it now (``OrderDesk.view``), from a single read."""

    order: Order
    viewer: Actor
    actions: list[ActionOption]
    next_step: str
    #: ``None`` when the viewer may not read the chat (a CX agent who has not joined).
    chat: list[ChatEntry] | None


@attrs.frozen
class RelayReport:
    """What one ``relay`` did: sent, failed and scheduled again, failed for good."""

    sent: int
    retried: int
    dead: int


def entry(event: Event, *, tz: str = "UTC") -> ChatEntry:
    """The chat entry of ``event``, with instants in ``tz``."""
    if isinstance(event, MessagePosted):
        return ChatEntry(event.seq, event.at, "message", event.actor.id, event.text, event.files)
    return ChatEntry(event.seq, event.at, "notice", None, notice(event, tz=tz))
