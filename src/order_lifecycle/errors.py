"""The library's errors: one root, one class per failure, data in fields.

Every error the library raises on purpose is an :class:`OrderLifecycleError`. Errors of
the engine (``transitions.MachineError``) and of database drivers never escape: they are
translated into these classes at the boundary.

>>> from order_lifecycle.errors import ActionNotAvailable, OrderLifecycleError
>>> issubclass(ActionNotAvailable, OrderLifecycleError)
True
"""

from __future__ import annotations

__all__ = [
    "ActionNotAvailable",
    "ConcurrencyConflict",
    "LifecycleDefinitionError",
    "NotAParticipant",
    "NotificationError",
    "OrderLifecycleError",
    "OrderNotFound",
    "StorageError",
    "ValidationError",
]


class OrderLifecycleError(Exception):
    """The root of every error this library raises on purpose."""


class ValidationError(OrderLifecycleError, ValueError):
    """Bad input: a value that breaks the contract of the argument it was given for.

    ``field`` names the argument (``"note"``, ``"listing.price"``, ``"now"``...).
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class OrderNotFound(OrderLifecycleError, LookupError):
    """There is no order with this id."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        super().__init__(
            f"There is no order {order_id!r}. Check the id, or list orders in the inbox."
        )


class NotAParticipant(OrderLifecycleError, PermissionError):
    """The actor is not the buyer, the seller or a CX agent of this order."""

    def __init__(self, order_id: str, actor_id: str, message: str) -> None:
        self.order_id = order_id
        self.actor_id = actor_id
        super().__init__(message)


class ActionNotAvailable(OrderLifecycleError):
    """The action exists but this actor cannot take it on this order now.

    ``reason`` is the same sentence :func:`order_lifecycle.core.options` gives for it.
    """

    def __init__(self, action: str, reason: str, order_id: str | None = None) -> None:
        self.action = action
        self.reason = reason
        self.order_id = order_id
        super().__init__(reason)


class ConcurrencyConflict(OrderLifecycleError):
    """Someone else changed the order between reading and writing it: retry on the fresh order."""

    def __init__(self, order_id: str, expected_version: int, message: str | None = None) -> None:
        self.order_id = order_id
        self.expected_version = expected_version
        super().__init__(
            message
            or (
                f"Order {order_id!r} changed while this command ran (expected version "
                f"{expected_version}). Reload the order and try again."
            )
        )


class StorageError(OrderLifecycleError):
    """The storage failed: unreachable, locked beyond its timeout, or broken."""


class LifecycleDefinitionError(OrderLifecycleError):
    """The transition table breaks a structural rule (checked when the machine is built)."""


class NotificationError(OrderLifecycleError):
    """A notifier could not deliver an envelope; the relay tries again later.

    ``envelope_id`` is the outbox row's id; ``status`` is the HTTP status a webhook
    answered with, when it answered at all.
    """

    def __init__(
        self, message: str, *, envelope_id: int | None = None, status: int | None = None
    ) -> None:
        self.envelope_id = envelope_id
        self.status = status
        super().__init__(message)
