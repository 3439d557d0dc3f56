"""Notifiers: how an outbox row leaves the process (in memory, a callback, a webhook, a
message broker).

Every notifier implements :class:`order_lifecycle.ports.Notifier`: ``send(envelope)``
returns when the envelope is delivered and raises when it is not, and the relay tries
again later. Delivery is therefore *at least once*: a receiver drops duplicates by the
envelope's ``id`` (the outbox row's id, the same on every retry).

The webhook POSTs one JSON document per envelope and signs the exact body bytes with
HMAC-SHA256; a receiver checks it with :func:`verify_signature`. The same JSON document
(:func:`encode_envelope`, read back with :func:`decode_envelope`) is the body of a
:class:`~order_lifecycle.adapters.rabbitmq.RabbitMQNotifier` message; that notifier is
importable from here too, and its driver is loaded only when it is first asked for:

>>> body = b'{"id":1}'
>>> header = sign(body, "s3cret")
>>> header.startswith("sha256=")
True
>>> verify_signature(body, header, "s3cret"), verify_signature(body, header, "other")
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import inspect
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from order_lifecycle.adapters.envelopes import decode_envelope, encode_envelope
from order_lifecycle.adapters.urls import checked_url
from order_lifecycle.errors import NotificationError, ValidationError
from order_lifecycle.ports import Envelope

if TYPE_CHECKING:  # imported on first use (see __getattr__): its driver is an extra
    from order_lifecycle.adapters.rabbitmq import RabbitMQNotifier

__all__ = [
    "SIGNATURE_HEADER",
    "CallbackNotifier",
    "MemoryNotifier",
    "NotificationError",
    "RabbitMQNotifier",
    "WebhookNotifier",
    "decode_envelope",
    "encode_envelope",
    "sign",
    "verify_signature",
]

#: The header that carries ``sha256=<hex HMAC-SHA256 of the body>``.
SIGNATURE_HEADER = "X-Order-Lifecycle-Signature"

_RESERVED_HEADERS = frozenset({"content-type", "idempotency-key", SIGNATURE_HEADER.lower()})
# Enough of a refusing server's reason phrase to act on; the rest is noise.
_MAX_REASON = 200


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes) or not secret:
        raise ValidationError("secret", "must be a non-empty str or bytes")
    return secret


def sign(body: bytes, secret: str | bytes) -> str:
    """The signature header value of ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(_key(secret), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str | bytes) -> bool:
    """Whether ``header`` is the signature of exactly ``body`` under ``secret``.

    For receivers of :class:`WebhookNotifier`: check the raw body bytes as they
    arrived, before parsing them. The comparison takes constant time. A missing
    header (``None``) does not verify.
    """
    if header is None:
        return False
    return hmac.compare_digest(sign(body, secret).encode("ascii"), header.strip().encode())


class MemoryNotifier:
    """Keeps what it is sent, in order: for tests and prototypes.

    ``fail_first`` makes the first N sends raise :class:`NotificationError`, to test
    retries. Safe to share between threads.

    >>> notifier = MemoryNotifier(fail_first=1)
    >>> notifier.sent, notifier.calls
    ([], 0)
    """

    def __init__(self, *, fail_first: int = 0) -> None:
        if not isinstance(fail_first, int) or fail_first < 0:
            raise ValidationError("fail_first", "must be a whole number, 0 or more")
        self._lock = threading.Lock()
        self._sent: list[Envelope] = []
        self._failures_left = fail_first
        self._calls = 0

    @property
    def sent(self) -> list[Envelope]:
        """The envelopes delivered so far, oldest first (a copy)."""
        with self._lock:
            return list(self._sent)

    @property
    def calls(self) -> int:
        """How many times ``send`` was called, failed calls included."""
        with self._lock:
            return self._calls

    def send(self, envelope: Envelope) -> None:
        """Keep ``envelope``, or raise while failures are still due."""
        with self._lock:
            self._calls += 1
            if self._failures_left > 0:
                self._failures_left -= 1
                raise NotificationError(
                    f"Envelope {envelope.id} not delivered: the memory notifier was told to "
                    f"fail ({self._failures_left} more failures to go).",
                    envelope_id=envelope.id,
                )
            self._sent.append(envelope)


class CallbackNotifier:
    """Hands each envelope to a plain function; whatever it raises means "retry later".

    The function is called, never awaited: an ``async def`` one is refused
    (``ValidationError``), since its body would never run while the envelope counted as
    delivered. With :class:`~order_lifecycle.AsyncOrderDesk`, pass a notifier whose
    ``send`` is ``async def`` instead: the desk awaits it on its loop.

    >>> from order_lifecycle.core.model import Role
    >>> seen = []
    >>> CallbackNotifier(seen.append).send(
    ...     Envelope(1, "o1", 2, "bob", Role.seller, "order_accepted", {}, "Accepted.", 1)
    ... )
    >>> [envelope.id for envelope in seen]
    [1]
    """

    def __init__(self, callback: Callable[[Envelope], object]) -> None:
        if not callable(callback):
            raise ValidationError("callback", "must be callable with one envelope")
        if _is_async(callback):
            raise ValidationError(
                "callback",
                "is an async function, which CallbackNotifier would call without awaiting "
                "(so it would never run); pass a plain function, or with AsyncOrderDesk "
                "pass a notifier whose send is `async def send(self, envelope)`",
            )
        self.callback = callback

    def send(self, envelope: Envelope) -> None:
        """Call the callback with ``envelope``; its exception propagates unchanged.

        A callback that returns an awaitable (a coroutine nobody will await) has not
        delivered anything: the awaitable is closed and the send fails with
        ``NotificationError``, so the relay tries again."""
        result = self.callback(envelope)
        if inspect.isawaitable(result):
            close = getattr(result, "close", None)
            if callable(close):
                close()
            raise NotificationError(
                f"Envelope {envelope.id} not delivered: the callback returned an awaitable "
                f"({type(result).__name__}) that CallbackNotifier cannot await. Make the "
                f"callback a plain function, or with AsyncOrderDesk use a notifier whose "
                f"send is async def.",
                envelope_id=envelope.id,
            )


def _is_async(callback: Callable[..., object]) -> bool:
    """Whether calling ``callback`` makes a coroutine: an ``async def`` function (also
    behind ``functools.partial``) or an object whose ``__call__`` is one."""
    return inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
        type(callback).__call__
    )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse every redirect: the 3xx becomes an ``HTTPError`` (a failed delivery)."""

    def redirect_request(  # noqa: PLR0917 - the signature of the method it overrides
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> None:
        return None


class WebhookNotifier:
    """POSTs each envelope as signed JSON to ``url`` (``http`` or ``https``).

    The body is the UTF-8 JSON document (sorted keys, no spaces)::

        {"attempt":1,"event":{...},"id":7,"kind":"order_accepted","order_id":"o1",
         "recipient":"bob","role":"seller","seq":2,"text":"..."}

    with the headers ``Content-Type: application/json``, ``Idempotency-Key: <id>`` and
    ``X-Order-Lifecycle-Signature: sha256=<hex HMAC-SHA256 of the body with secret>``
    (``headers`` adds more, but cannot replace these three). The receiver checks the
    signature with :func:`verify_signature` and drops an ``Idempotency-Key`` it has
    already processed: that is also the protection against a replayed request.

    Any answer other than 2xx, a redirect (never followed), a timeout or a connection
    error raises :class:`NotificationError`; its message names the status or the
    reason, never the secret nor the URL's path or query (only scheme, host and port).
    Proxy settings from the environment are not used.
    """

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        *,
        timeout: float = 5.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url
        self._target = self._check_url(url)
        self._secret = _key(secret)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ValidationError("timeout", "must be a positive number of seconds")
        self.timeout = float(timeout)
        self.headers = self._check_headers(headers or {})
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())

    def __repr__(self) -> str:
        return f"WebhookNotifier({self._target!r}, timeout={self.timeout})"

    @staticmethod
    def _check_url(url: str) -> str:
        parts, host = checked_url(url, ("http", "https"))
        port = parts.port
        return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")

    @staticmethod
    def _check_headers(headers: Mapping[str, str]) -> dict[str, str]:
        checked: dict[str, str] = {}
        for name, value in headers.items():
            if not (isinstance(name, str) and isinstance(value, str)):
                raise ValidationError("headers", "names and values must be strings")
            if name.lower() in _RESERVED_HEADERS:
                raise ValidationError("headers", f"{name!r} is set by the notifier itself")
            if any(ch in name + value for ch in "\r\n\0") or not name.strip():
                raise ValidationError("headers", f"{name!r} is not a valid header")
            checked[name] = value
        return checked

    def send(self, envelope: Envelope) -> None:
        """POST ``envelope``; return on a 2xx answer, raise ``NotificationError`` otherwise."""
        body = encode_envelope(envelope)
        request = urllib.request.Request(  # noqa: S310 - __init__ allows http(s) URLs only
            self.url,
            data=body,
            method="POST",
            headers={
                "User-Agent": "order-lifecycle-webhook",
                **self.headers,
                "Content-Type": "application/json",
                "Idempotency-Key": str(envelope.id),
                SIGNATURE_HEADER: sign(body, self._secret),
            },
        )
        where = f"Webhook {self._target} did not take envelope {envelope.id}"
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = int(response.status)
                response.read()
        except urllib.error.HTTPError as error:
            status = error.code
            reason = str(error.reason)[:_MAX_REASON]
            error.close()
            hint = " Redirects are not followed: use the final URL." if status < 400 else ""
            raise NotificationError(
                f"{where}: it answered {status} {reason}.{hint}",
                envelope_id=envelope.id,
                status=status,
            ) from None
        except TimeoutError:
            raise self._timed_out(where, envelope) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise self._timed_out(where, envelope) from None
            raise NotificationError(
                f"{where}: could not connect ({error.reason}).", envelope_id=envelope.id
            ) from None
        except (http.client.HTTPException, OSError) as error:
            raise NotificationError(
                f"{where}: the connection failed ({type(error).__name__}: {error}).",
                envelope_id=envelope.id,
            ) from None
        if not 200 <= status < 300:
            raise NotificationError(
                f"{where}: it answered {status}.", envelope_id=envelope.id, status=status
            )

    def _timed_out(self, where: str, envelope: Envelope) -> NotificationError:
        return NotificationError(
            f"{where}: no answer within {self.timeout:g} seconds.", envelope_id=envelope.id
        )


def __getattr__(name: str) -> Any:
    """``RabbitMQNotifier``, imported when first asked for (``pip install
    'order-lifecycle[rabbitmq]'`` brings its driver)."""
    if name != "RabbitMQNotifier":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from order_lifecycle.adapters.rabbitmq import RabbitMQNotifier

    globals()[name] = RabbitMQNotifier
    return RabbitMQNotifier
