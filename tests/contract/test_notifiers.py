"""The notifier contract, run against every notifier of the library, and the webhook's
own promises (signature, idempotency key, failures) against a real HTTP server."""

from __future__ import annotations

import functools
import inspect
import json
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import pendulum
import pytest

from order_lifecycle import Listing, Money, OrderDesk, ValidationError
from order_lifecycle.adapters.notifiers import (
    SIGNATURE_HEADER,
    CallbackNotifier,
    MemoryNotifier,
    NotificationError,
    WebhookNotifier,
    decode_envelope,
    sign,
    verify_signature,
)
from order_lifecycle.ports import Envelope, Notifier
from order_lifecycle.testing.notifier_contract import NotifierContract, Received, make_envelope

SECRET = "whsec-Zq8-do-not-leak-7c1f"


@attrs.frozen
class Request:
    """One request as the test server saw it."""

    path: str
    headers: Message
    body: bytes


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1 that records requests and answers as scripted.

    ``replies`` holds the answers to the next requests, in order: a status code, or
    ``"slow"`` (wait until the test ends, then 200). Once it is empty, every answer is 200.
    """

    daemon_threads = False  # server_close() waits for the handler threads

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.replies: list[int | str] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        """The receiver's base URL."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, request: Request) -> int | str:
        """Keep ``request`` and return the scripted reply to it."""
        with self.lock:
            self.requests.append(request)
            return self.replies.pop(0) if self.replies else 200

    def seen(self) -> list[Request]:
        """The requests so far, oldest first."""
        with self.lock:
            return list(self.requests)

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet when a client gave up (the timeout test) before the answer."""


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        reply = self.server.record(Request(self.path, self.headers, body))
        if reply == "slow":
            self.server.release.wait(10)
            reply = 200
        assert isinstance(reply, int)
        self.send_response(reply)
        if 300 <= reply < 400:
            self.send_header("Location", f"{self.server.url}/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """No request log on stderr."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running receiver, shut down (and its handlers released) after the test."""
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


class TestMemoryNotifier(NotifierContract):
    """The in-memory notifier keeps the same promises."""

    @pytest.fixture
    def notifier(self) -> MemoryNotifier:
        """A fresh memory notifier."""
        return MemoryNotifier()

    @pytest.fixture
    def received(self, notifier: MemoryNotifier) -> Received:
        """What the notifier kept."""
        return lambda: notifier.sent


class TestCallbackNotifier(NotifierContract):
    """A callback receives the envelopes themselves."""

    @pytest.fixture
    def inbox(self) -> list[Envelope]:
        """Where the callback puts what it is given."""
        return []

    @pytest.fixture
    def notifier(self, inbox: list[Envelope]) -> CallbackNotifier:
        """A notifier calling ``inbox.append``."""
        return CallbackNotifier(inbox.append)

    @pytest.fixture
    def received(self, inbox: list[Envelope]) -> Received:
        """What the callback was given."""
        return lambda: list(inbox)


class TestWebhookNotifier(NotifierContract):
    """The webhook keeps them over HTTP: what arrives is what the receiver decodes."""

    @pytest.fixture
    def notifier(self, receiver: Receiver) -> WebhookNotifier:
        """A webhook to the test receiver."""
        return WebhookNotifier(f"{receiver.url}/hooks/orders", SECRET, timeout=2)

    @pytest.fixture
    def received(self, receiver: Receiver) -> Received:
        """The bodies the receiver got, decoded."""
        return lambda: [decode_envelope(request.body) for request in receiver.seen()]


def failure(notifier: Notifier, envelope: Envelope | None = None) -> NotificationError:
    """The ``NotificationError`` a send raises; its text never shows the secret."""
    with pytest.raises(NotificationError) as caught:
        notifier.send(envelope or make_envelope())
    error = caught.value
    for text in (str(error), repr(error), str(error.__cause__), str(error.__context__)):
        assert SECRET not in text
    return error


def test_memory_notifier_fails_first_sends_then_delivers() -> None:
    """``fail_first`` raises for the first N sends and delivers the rest."""
    notifier = MemoryNotifier(fail_first=2)
    envelope = make_envelope()
    for attempt in (1, 2):
        assert failure(notifier, attrs.evolve(envelope, attempt=attempt)).envelope_id == 1
    notifier.send(attrs.evolve(envelope, attempt=3))
    assert notifier.sent == [attrs.evolve(envelope, attempt=3)]
    assert notifier.calls == 3


def test_memory_notifier_is_thread_safe() -> None:
    """Concurrent sends are all kept."""
    notifier = MemoryNotifier()

    def send_many(start: int) -> None:
        for n in range(start, start + 200):
            notifier.send(make_envelope(id=n))

    threads = [threading.Thread(target=send_many, args=(k * 1000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = [k * 1000 + n for k in range(4) for n in range(200)]
    assert sorted(envelope.id for envelope in notifier.sent) == expected


def test_callback_exception_propagates() -> None:
    """Whatever the callback raises reaches the relay unchanged."""

    def refuse(envelope: Envelope) -> None:
        raise ConnectionError(f"chat service down for {envelope.id}")

    with pytest.raises(ConnectionError, match="chat service down for 1"):
        CallbackNotifier(refuse).send(make_envelope())


async def _deliver(envelope: Envelope) -> None:
    """A coroutine function: what a callback must not be."""
    raise AssertionError(f"envelope {envelope.id} reached a coroutine that was never awaited")


class _AsyncCallable:
    async def __call__(self, envelope: Envelope) -> None:
        await _deliver(envelope)


@pytest.mark.parametrize(
    "callback",
    [_deliver, _AsyncCallable(), functools.partial(_deliver)],
    ids=["async def", "async __call__", "partial of async def"],
)
def test_an_async_callback_is_refused(callback: Callable[[Envelope], object]) -> None:
    """Called without an await it would never run, yet the send would count as delivered:
    refused when the notifier is made, with what to use instead."""
    with pytest.raises(ValidationError) as caught:
        CallbackNotifier(callback)
    assert caught.value.field == "callback"
    assert "AsyncOrderDesk" in caught.value.message
    assert "async def send" in caught.value.message


def test_a_callback_returning_an_awaitable_is_a_failed_send() -> None:
    """A plain function that hands back a coroutine: the coroutine is closed (never left
    to warn) and the send fails, so the relay tries again instead of marking it sent."""
    made: list[Coroutine[Any, Any, None]] = []

    def start(envelope: Envelope) -> Coroutine[Any, Any, None]:
        made.append(_deliver(envelope))
        return made[-1]

    error = failure(CallbackNotifier(start))
    assert error.envelope_id == 1
    assert "awaitable" in str(error)
    assert [inspect.getcoroutinestate(c) for c in made] == [inspect.CORO_CLOSED]


def test_a_send_that_returned_an_awaitable_is_retried_not_marked_sent() -> None:
    """At least once: the outbox row stays pending for the next relay."""
    made: list[Coroutine[Any, Any, None]] = []

    def start(envelope: Envelope) -> Coroutine[Any, Any, None]:
        made.append(_deliver(envelope))
        return made[-1]

    listing = Listing("Logo", Money("90.00", "USD"), pendulum.duration(days=5), 1)
    with OrderDesk.open("memory://", notifier=CallbackNotifier(start)) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=listing)
        report = desk.relay()
        assert (report.sent, report.retried) == (0, 1)
        assert [r.status for r in desk.store.outbox_rows(order.id)] == ["pending"]
        assert [r.attempts for r in desk.store.outbox_rows(order.id)] == [1]
    assert all(inspect.getcoroutinestate(c) == inspect.CORO_CLOSED for c in made)


def test_signature_verifies_only_with_the_secret_and_the_exact_body(receiver: Receiver) -> None:
    """The receiver checks the body with the shared secret; another secret or a changed
    body fails."""
    WebhookNotifier(receiver.url, SECRET).send(make_envelope())
    [request] = receiver.seen()
    header = request.headers[SIGNATURE_HEADER]
    assert header == sign(request.body, SECRET)
    assert verify_signature(request.body, header, SECRET)
    assert verify_signature(request.body, header, SECRET.encode())
    assert not verify_signature(request.body, header, "another-secret")
    tampered = request.body.replace(b'"attempt":1', b'"attempt":2')
    assert tampered != request.body
    assert not verify_signature(tampered, header, SECRET)
    assert not verify_signature(request.body, "sha256=" + "0" * 64, SECRET)


def test_body_and_headers_are_as_documented(receiver: Receiver) -> None:
    """Compact, sorted, UTF-8 JSON with the three protocol headers and the caller's own."""
    envelope = make_envelope(id=12345, text="Zoë ✓")
    notifier = WebhookNotifier(f"{receiver.url}/hook", SECRET, headers={"X-Tenant": "acme"})
    notifier.send(envelope)
    [request] = receiver.seen()
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == "12345"
    assert request.headers["X-Tenant"] == "acme"
    document = json.loads(request.body)
    expected = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert request.body == expected.encode("utf-8")
    assert "Zoë ✓".encode() in request.body
    assert decode_envelope(request.body) == envelope


def test_idempotency_key_is_the_envelope_id_on_every_attempt(receiver: Receiver) -> None:
    """A retry carries the same ``Idempotency-Key``: the receiver drops the duplicate."""
    notifier = WebhookNotifier(receiver.url, SECRET)
    notifier.send(make_envelope(id=77, attempt=1))
    notifier.send(make_envelope(id=77, attempt=2))
    assert [r.headers["Idempotency-Key"] for r in receiver.seen()] == ["77", "77"]


def test_server_error_fails_and_a_later_success_delivers(receiver: Receiver) -> None:
    """A 500 raises ``NotificationError`` with the status; the retry that gets 200 succeeds."""
    receiver.replies.append(500)
    notifier = WebhookNotifier(receiver.url, SECRET)
    error = failure(notifier, make_envelope(attempt=1))
    assert error.status == 500
    assert "500" in str(error)
    notifier.send(make_envelope(attempt=2))
    assert [decode_envelope(r.body).attempt for r in receiver.seen()] == [1, 2]


def test_redirect_is_a_failure_and_is_not_followed(receiver: Receiver) -> None:
    """A 302 is not followed: it fails, and only one request reaches the server."""
    receiver.replies.append(302)
    error = failure(WebhookNotifier(receiver.url, SECRET))
    assert error.status == 302
    assert [r.path for r in receiver.seen()] == ["/"]


def test_dead_endpoint_fails_quickly() -> None:
    """Nobody listening: ``NotificationError`` at once, not after the timeout."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    error = failure(WebhookNotifier(f"http://127.0.0.1:{port}/hook", SECRET, timeout=5))
    assert time.monotonic() - started < 2
    assert "connect" in str(error)


def test_slow_endpoint_times_out(receiver: Receiver) -> None:
    """An answer later than ``timeout`` is a failure, raised after about ``timeout``."""
    receiver.replies.append("slow")
    started = time.monotonic()
    error = failure(WebhookNotifier(receiver.url, SECRET, timeout=0.5))
    assert time.monotonic() - started < 2
    assert "0.5 seconds" in str(error)


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/hook", "file:///etc/passwd", "127.0.0.1:8000/hook", "http://", ""]
)
def test_only_http_urls_are_accepted(url: str) -> None:
    """Anything but an ``http(s)://host`` URL is refused when the notifier is made."""
    with pytest.raises(ValidationError) as caught:
        WebhookNotifier(url, SECRET)
    assert caught.value.field == "url"


def test_bad_settings_are_refused() -> None:
    """An empty secret, a non-positive timeout or a protocol header override is refused."""
    with pytest.raises(ValidationError):
        WebhookNotifier("http://127.0.0.1:9/", "")
    with pytest.raises(ValidationError):
        WebhookNotifier("http://127.0.0.1:9/", SECRET, timeout=0)
    with pytest.raises(ValidationError):
        WebhookNotifier("http://127.0.0.1:9/", SECRET, headers={"idempotency-key": "x"})


def test_errors_show_neither_the_secret_nor_the_url_path(receiver: Receiver) -> None:
    """Messages name scheme, host and port only: a token in the path or query stays out."""
    receiver.replies.extend([500, 404])
    url = f"{receiver.url}/hooks/tok-abc123?key=qwerty"
    notifier = WebhookNotifier(url, SECRET)
    for _ in range(2):
        message = str(failure(notifier))
        assert receiver.url in message
        assert "tok-abc123" not in message
        assert "qwerty" not in message
    assert SECRET not in repr(notifier)
