"""order-lifecycle: the lifecycle of service orders in online marketplaces.

A buyer buys a seller's listing; the seller accepts or declines, delivers, the buyer
approves or asks for a revision within a review window; either side may update the
contract, dispute the order or cancel it when the rules allow.

The pure core lives in :mod:`order_lifecycle.core`; value objects and enums are here.
"""

from typing import TYPE_CHECKING, Any

from order_lifecycle.clock import Clock, ManualClock, SystemClock
from order_lifecycle.core.api import ActionOption, Decision, DueTimer
from order_lifecycle.core.events import Event
from order_lifecycle.core.model import (
    LIFECYCLE_VERSION,
    Action,
    Actor,
    Attachment,
    BuyerRequest,
    Cancellation,
    CancellationReason,
    CancellationRequest,
    CompletionReason,
    Contract,
    ContractProposal,
    Delivery,
    DisputeCase,
    InfoRequest,
    Listing,
    Money,
    Order,
    OrderReview,
    OrderState,
    Outcome,
    Policy,
    Role,
    Settlement,
    Timer,
)
from order_lifecycle.core.terms import Calendar, Deadline, Reminder, SentReminder, Terms
from order_lifecycle.errors import (
    ActionNotAvailable,
    ConcurrencyConflict,
    LifecycleDefinitionError,
    NotAParticipant,
    NotificationError,
    OrderLifecycleError,
    OrderNotFound,
    StorageError,
    ValidationError,
)

if TYPE_CHECKING:  # imported on first use below: `import order_lifecycle` stays fast
    from order_lifecycle.adapters.rabbitmq import RabbitMQNotifier
    from order_lifecycle.desk import CX_TEAM, AsyncOrderDesk, OrderDesk
    from order_lifecycle.ports import Envelope, FeedItem, Notifier
    from order_lifecycle.stats import Metrics, ReviewSummary
    from order_lifecycle.views import ChatEntry, Conversation, OrderView, RelayReport

__version__ = "0.1.0"

_LAZY = {
    "AsyncOrderDesk": "order_lifecycle.desk",
    "CX_TEAM": "order_lifecycle.desk",
    "Envelope": "order_lifecycle.ports",
    "FeedItem": "order_lifecycle.ports",
    "Metrics": "order_lifecycle.stats",
    "ReviewSummary": "order_lifecycle.stats",
    "Notifier": "order_lifecycle.ports",
    "OrderView": "order_lifecycle.views",
    "OrderDesk": "order_lifecycle.desk",
    "ChatEntry": "order_lifecycle.views",
    "Conversation": "order_lifecycle.views",
    "RelayReport": "order_lifecycle.views",
    "RabbitMQNotifier": "order_lifecycle.adapters.rabbitmq",
}


def __getattr__(name: str) -> Any:
    """The application-service names, imported when first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'order_lifecycle' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CX_TEAM",
    "LIFECYCLE_VERSION",
    "Action",
    "ActionNotAvailable",
    "ActionOption",
    "Actor",
    "AsyncOrderDesk",
    "Attachment",
    "BuyerRequest",
    "Calendar",
    "Cancellation",
    "CancellationReason",
    "CancellationRequest",
    "ChatEntry",
    "Clock",
    "CompletionReason",
    "ConcurrencyConflict",
    "Contract",
    "ContractProposal",
    "Conversation",
    "Deadline",
    "Decision",
    "Delivery",
    "DisputeCase",
    "DueTimer",
    "Envelope",
    "Event",
    "FeedItem",
    "InfoRequest",
    "LifecycleDefinitionError",
    "Listing",
    "ManualClock",
    "Metrics",
    "Money",
    "NotAParticipant",
    "NotificationError",
    "Notifier",
    "Order",
    "OrderDesk",
    "OrderLifecycleError",
    "OrderNotFound",
    "OrderReview",
    "OrderState",
    "OrderView",
    "Outcome",
    "Policy",
    "RabbitMQNotifier",
    "RelayReport",
    "Reminder",
    "ReviewSummary",
    "Role",
    "SentReminder",
    "Settlement",
    "StorageError",
    "SystemClock",
    "Terms",
    "Timer",
    "ValidationError",
    "__version__",
]
