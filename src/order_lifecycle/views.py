"""What a participant sees: chat entries and inbox conversations.

The order chat is the order's history rendered for a viewer: a ``say`` is shown as the
message itself, every other event as an automated notice. Nothing here is stored, so
entries render in the viewer's time zone and can never disagree with the history.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Final

import attrs
import pendulum

from order_lifecycle import serde
from order_lifecycle.core.api import ActionOption
from order_lifecycle.core.events import Event, MessagePosted
from order_lifecycle.core.model import Actor, Attachment, Order, OrderState
from order_lifecycle.core.notices import notice
from order_lifecycle.instants import iso

__all__ = [
    "NEXT_STEP_KIND",
    "ChatEntry",
    "Conversation",
    "OrderView",
    "RelayReport",
    "entry",
    "entry_from_json",
    "entry_to_json",
    "event_entry_json",
]

_EPOCH: Final = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_EPOCH_PENDULUM: Final = pendulum.DateTime(1970, 1, 1, tzinfo=pendulum.UTC)
# The standard library's arithmetic, called directly: pendulum's ``-`` builds an Interval
# (20 times slower), and its ``+`` goes through Python code.
_add: Final = _dt.datetime.__add__
_sub: Final = _dt.datetime.__sub__
_from_iso: Final = _dt.datetime.fromisoformat
_DECODER: Final = json.JSONDecoder()

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


def entry_to_json(item: ChatEntry) -> str:
    """A chat entry as JSON: what the inbox keeps of an order's newest entry
    (``Write.last_entry``), decoded by :func:`entry_from_json`."""
    document = {
        "seq": item.seq,
        "at": iso(item.at),
        "kind": item.kind,
        "author": item.author,
        "text": item.text,
        "files": [serde.converter.unstructure(f) for f in item.files],
    }
    return serde.compact_json(document)


def event_entry_json(event: Event) -> str:
    """``entry_to_json(entry(event))`` (instants in UTC), without the ``ChatEntry``
    between them: what every command stores as the inbox's newest entry."""
    if isinstance(event, MessagePosted):
        files = event.files
        author: str | None = event.actor.id
        kind, text = "message", event.text
    else:
        files = ()
        author, kind, text = None, "notice", notice(event)
    document = {
        "seq": event.seq,
        "at": iso(event.at),
        "kind": kind,
        "author": author,
        "text": text,
        "files": [serde.converter.unstructure(f) for f in files] if files else [],
    }
    return serde.compact_json(document)


def entry_from_json(text: str) -> ChatEntry:
    """The chat entry ``entry_to_json`` wrote."""
    # ``json.loads`` without its wrappers, which skip whitespace around the document:
    # ``json.dumps`` writes none, and anything else is read by ``json.loads`` itself.
    try:
        data, end = _DECODER.raw_decode(text)
    except json.JSONDecodeError:
        end = -1
    if end != len(text):
        data = json.loads(text)
    at = _from_iso(data["at"])
    stored = data["files"]
    files: tuple[Attachment, ...] = ()
    if stored != []:
        files = tuple([serde.converter.structure(f, Attachment) for f in stored])
    return ChatEntry(
        data["seq"],
        _add(_EPOCH_PENDULUM, _sub(at, _EPOCH)),
        data["kind"],
        data["author"],
        data["text"],
        files,
    )
