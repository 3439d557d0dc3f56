"""The RabbitMQ notifier: each envelope published to a topic exchange, confirmed.

``RabbitMQNotifier(url, exchange="order_lifecycle")`` publishes every envelope the relay
hands it as one message on ``exchange`` (declared ``topic`` and durable when the
notifier connects) with:

- routing key ``order.<event kind>`` (``order.order_accepted``, ...): bind a queue with
  ``order.#`` for everything, or with the kinds it cares about;
- ``delivery_mode`` 2 (persistent: it survives a broker restart in a durable queue);
- ``message_id`` the outbox row's id, the same on every retry: consumers drop
  duplicates by it (delivery is at least once);
- ``type`` the event kind, ``content_type`` ``application/json``, ``app_id``
  ``order-lifecycle``;
- the body of the webhook: :func:`~order_lifecycle.adapters.notifiers.encode_envelope`,
  read back with :func:`~order_lifecycle.adapters.notifiers.decode_envelope`.

The channel is in publisher-confirm mode and messages are ``mandatory``: ``send``
returns once the broker confirmed the message, and raises
:class:`~order_lifecycle.errors.NotificationError` (so the relay retries it later) when
the broker refuses it (a ``nack``), when no queue is bound to its routing key, or when
the connection cannot be made or is lost. A dropped connection is made again on the next
send; a send on a connection that turns out to be dead tries once more on a new one.

The driver is `pika <https://pypi.org/project/pika/>`_ (``pip install
'order-lifecycle[rabbitmq]'``), with one blocking connection per notifier, used by one
thread at a time.
"""

from __future__ import annotations

import contextlib
import re
import threading
import urllib.parse
from types import TracebackType
from typing import TYPE_CHECKING, Final

from order_lifecycle.adapters.envelopes import encode_envelope
from order_lifecycle.adapters.urls import checked_url
from order_lifecycle.errors import NotificationError, ValidationError
from order_lifecycle.ports import Envelope

try:
    import pika
    import pika.exceptions
except ImportError as _missing:  # pragma: no cover - depends on the installed extras
    _DRIVER_MISSING: ImportError | None = _missing
else:
    _DRIVER_MISSING = None

if TYPE_CHECKING:
    from pika.adapters.blocking_connection import BlockingChannel

__all__ = ["RabbitMQNotifier", "routing_key"]

#: AMQP's rule for exchange names; ``amq.`` names belong to the broker.
_EXCHANGE_NAME: Final = re.compile(r"[A-Za-z0-9_.:-]{1,255}")
_APP_ID: Final = "order-lifecycle"


def routing_key(kind: str) -> str:
    """The routing key of an event kind's messages.

    >>> routing_key("order_accepted")
    'order.order_accepted'
    """
    return f"order.{kind}"


class RabbitMQNotifier:
    """Publishes each envelope to a RabbitMQ topic exchange, persistent and confirmed.

    ``url`` is an AMQP URL, ``amqp://user:password@host:port/vhost`` (``amqps://`` for
    TLS; pika's query parameters such as ``heartbeat`` apply). ``timeout`` bounds
    connecting and a connection the broker blocks. ``mandatory=False`` lets the broker
    drop a message no queue is bound for instead of failing the send.

    Messages name the broker as ``scheme://host:port/vhost``, never the credentials.
    ``close()`` (or leaving a ``with`` block) closes the connection; a later send opens
    a new one.
    """

    def __init__(
        self,
        url: str,
        exchange: str = "order_lifecycle",
        *,
        timeout: float = 5.0,
        mandatory: bool = True,
    ) -> None:
        if _DRIVER_MISSING is not None:
            raise NotificationError(
                f"The RabbitMQ driver is not installed ({_DRIVER_MISSING}). Install it with: "
                "pip install 'order-lifecycle[rabbitmq]'"
            )
        self._target = self._check_url(url)
        if not isinstance(exchange, str) or not _EXCHANGE_NAME.fullmatch(exchange):
            raise ValidationError(
                "exchange",
                "must be 1 to 255 letters, digits, '-', '_', '.' or ':'",
            )
        if exchange.startswith("amq."):
            raise ValidationError("exchange", "names starting with 'amq.' belong to the broker")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ValidationError("timeout", "must be a positive number of seconds")
        if not isinstance(mandatory, bool):
            raise ValidationError("mandatory", "must be True or False")
        try:
            self._parameters = pika.URLParameters(url)
        except (ValueError, TypeError) as error:
            raise ValidationError("url", f"is not a valid AMQP URL: {error}") from None
        self._parameters.socket_timeout = float(timeout)
        self._parameters.stack_timeout = float(timeout)
        self._parameters.blocked_connection_timeout = float(timeout)
        self._parameters.client_properties = {"connection_name": "order-lifecycle notifier"}
        self._password = urllib.parse.unquote(urllib.parse.urlsplit(url).password or "")
        self.exchange = exchange
        self.timeout = float(timeout)
        self.mandatory = mandatory
        self._lock = threading.Lock()
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def __repr__(self) -> str:
        return f"RabbitMQNotifier({self._target!r}, exchange={self.exchange!r})"

    @staticmethod
    def _check_url(url: str) -> str:
        parts, host = checked_url(url, ("amqp", "amqps"))
        port = parts.port
        port = port if port is not None else (5671 if parts.scheme == "amqps" else 5672)
        vhost = urllib.parse.unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
        return f"{parts.scheme}://{host}:{port}/{urllib.parse.quote(vhost, safe='')}"

    def send(self, envelope: Envelope) -> None:
        """Publish ``envelope``; return once the broker confirmed it, raise otherwise."""
        body = encode_envelope(envelope)
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=str(envelope.id),
            type=envelope.kind,
            app_id=_APP_ID,
        )
        key = routing_key(envelope.kind)
        where = f"RabbitMQ {self._target} did not take envelope {envelope.id}"
        with self._lock:
            reused = self._channel is not None and self._channel.is_open
            while True:
                channel = self._open_channel(where, envelope)
                try:
                    channel.basic_publish(
                        self.exchange, key, body, properties, mandatory=self.mandatory
                    )
                except pika.exceptions.UnroutableError:
                    raise NotificationError(
                        f"{where}: no queue is bound to exchange {self.exchange!r} for "
                        f"routing key {key!r} (bind one, e.g. with 'order.#').",
                        envelope_id=envelope.id,
                    ) from None
                except pika.exceptions.NackError:
                    raise NotificationError(
                        f"{where}: the broker refused the message (nack), e.g. a full queue "
                        "that rejects new messages.",
                        envelope_id=envelope.id,
                    ) from None
                except (pika.exceptions.AMQPError, OSError) as error:
                    self._drop()
                    if reused:  # a connection that died while idle: one try on a new one
                        reused = False
                        continue
                    raise NotificationError(
                        f"{where}: {self._describe(error)}", envelope_id=envelope.id
                    ) from None
                return

    def _open_channel(self, where: str, envelope: Envelope) -> BlockingChannel:
        """The open confirm-mode channel, connecting (and declaring the exchange) if needed."""
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self._drop()
        try:
            connection = pika.BlockingConnection(self._parameters)
        except (pika.exceptions.AMQPError, OSError) as error:
            raise NotificationError(
                f"{where}: could not connect ({self._describe(error)}).", envelope_id=envelope.id
            ) from None
        self._connection = connection
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        except (pika.exceptions.AMQPError, OSError) as error:
            self._drop()
            raise NotificationError(
                f"{where}: could not declare the topic exchange {self.exchange!r} "
                f"({self._describe(error)}).",
                envelope_id=envelope.id,
            ) from None
        self._channel = channel
        return channel

    def _drop(self) -> None:
        """Forget the connection, closing it if it is still open."""
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            # A connection that fails to close is going away anyway: nothing to keep.
            with contextlib.suppress(pika.exceptions.AMQPError, OSError):
                connection.close()

    def _describe(self, error: BaseException) -> str:
        text = _driver_error(error)
        return text.replace(self._password, "***") if self._password else text

    def close(self) -> None:
        """Close the connection to the broker (a later ``send`` opens a new one)."""
        with self._lock:
            self._drop()

    def __enter__(self) -> RabbitMQNotifier:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _driver_error(error: BaseException) -> str:
    """A driver error as a short sentence part (callers scrub the password from it)."""
    if isinstance(error, pika.exceptions.ChannelClosed | pika.exceptions.ConnectionClosed):
        return f"{type(error).__name__} {error.reply_code}: {error.reply_text}"
    if isinstance(error, pika.exceptions.ProbableAuthenticationError):
        return "the broker refused the user name or password"
    if isinstance(error, pika.exceptions.ProbableAccessDeniedError):
        return "the user may not use this virtual host"
    # pika's connection errors carry their cause in args, and some print only with repr.
    text = str(error) or "; ".join(str(arg) or repr(arg) for arg in error.args) or "no details"
    return f"{type(error).__name__}: {text}"
