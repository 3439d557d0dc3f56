"""The RabbitMQ notifier against a real broker: the notifier contract, the message as a
consumer sees it (routing key, persistence, message id, body), refusals the relay must
retry (nack, unroutable, lost connection), reconnecting, and a relay end to end."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import attrs
import pendulum
import pika
import pika.exceptions
import pytest
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import BasicProperties

from order_lifecycle import Listing, ManualClock, Money, OrderDesk, ValidationError
from order_lifecycle.adapters import notifiers, rabbitmq
from order_lifecycle.adapters.notifiers import (
    NotificationError,
    RabbitMQNotifier,
    decode_envelope,
    encode_envelope,
)
from order_lifecycle.ports import Envelope
from order_lifecycle.testing.notifier_contract import NotifierContract, Received, make_envelope

from amqp import amqp_url, require_amqp, unique_name

PASSWORD = "s3cret-pw-do-not-leak"


@attrs.frozen
class Message:
    """One message as a consumer got it."""

    routing_key: str
    properties: BasicProperties
    body: bytes


@pytest.fixture(scope="module")
def broker() -> Iterator[pika.BlockingConnection]:
    """A connection of the tests' own to the broker (skips, or fails under CI, without one)."""
    require_amqp()
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url()))
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def admin(broker: pika.BlockingConnection) -> Iterator[BlockingChannel]:
    """A channel for this test (one the broker closes on an error spoils no other test)."""
    channel = broker.channel()
    try:
        yield channel
    finally:
        if channel.is_open:
            channel.close()


@pytest.fixture
def exchange(broker: pika.BlockingConnection) -> Iterator[str]:
    """A name for this test's exchange, deleted after the test (on a channel of its own)."""
    name = unique_name("exchange")
    try:
        yield name
    finally:
        broker.channel().exchange_delete(name)


@pytest.fixture
def consume(
    admin: BlockingChannel, broker: pika.BlockingConnection, exchange: str
) -> Iterator[ConsumerFactory]:
    """Makes queues bound to the test's exchange; deletes them after the test."""
    factory = ConsumerFactory(admin, exchange)
    try:
        yield factory
    finally:
        cleanup = broker.channel()
        for queue in factory.queues:
            cleanup.queue_delete(queue)
        cleanup.close()


class ConsumerFactory:
    """``consume(binding)`` declares the exchange as the notifier does, binds a new queue
    with ``binding`` and returns a function that drains it."""

    def __init__(self, admin: BlockingChannel, exchange: str) -> None:
        self.admin = admin
        self.exchange = exchange
        self.queues: list[str] = []

    def __call__(self, binding: str = "order.#", **arguments: object) -> Queue:
        self.admin.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        name = unique_name("queue")
        # exclusive: gone with the tests' connection, even if the run dies before cleanup
        self.admin.queue_declare(name, exclusive=True, arguments=dict(arguments) or None)
        self.queues.append(name)
        self.admin.queue_bind(name, self.exchange, routing_key=binding)
        return Queue(self.admin, name)


class Queue:
    """A queue of the test: what arrived on it so far, in arrival order."""

    def __init__(self, admin: BlockingChannel, name: str) -> None:
        self.admin = admin
        self.name = name
        self.messages: list[Message] = []

    def drain(self) -> list[Message]:
        """Every message that arrived so far (kept: each call returns them all)."""
        while True:
            method, properties, body = self.admin.basic_get(self.name, auto_ack=True)
            if method is None:
                return list(self.messages)
            assert properties is not None
            assert body is not None
            self.messages.append(Message(str(method.routing_key), properties, body))

    def envelopes(self) -> list[Envelope]:
        """What arrived, decoded as a consumer would."""
        return [decode_envelope(message.body) for message in self.drain()]


def with_password(url: str, port: int | None = None) -> str:
    """``url`` with the test's secret password (and another port)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{parts.username or 'guest'}:{PASSWORD}@{host}:{port or parts.port or 5672}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def failure(notifier: RabbitMQNotifier, envelope: Envelope | None = None) -> NotificationError:
    """The ``NotificationError`` a send raises; no message shows the password."""
    with pytest.raises(NotificationError) as caught:
        notifier.send(envelope or make_envelope())
    error = caught.value
    for text in (str(error), repr(error), repr(notifier)):
        assert PASSWORD not in text
        assert "guest:" not in text
    return error


class TestRabbitMQNotifier(NotifierContract):
    """What arrives is what a consumer of a queue bound with ``order.#`` decodes."""

    @pytest.fixture
    def queue(self, consume: ConsumerFactory) -> Queue:
        """A queue bound to every order message of the exchange."""
        return consume("order.#")

    @pytest.fixture
    def notifier(self, queue: Queue, exchange: str) -> Iterator[RabbitMQNotifier]:
        """A notifier publishing to the test's exchange."""
        with RabbitMQNotifier(amqp_url(), exchange) as notifier:
            yield notifier

    @pytest.fixture
    def received(self, queue: Queue) -> Received:
        """The bodies the queue got, decoded."""
        return queue.envelopes


class Relay:
    """A TCP relay from 127.0.0.1 to the broker that a test can cut or make refuse."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = int(self.listener.getsockname()[1])
        self.refusing = False
        self.lock = threading.Lock()
        self.open: list[socket.socket] = []
        self.uplinks: list[threading.Thread] = []
        self.accepted = 0
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self._accept)]
        self.threads[0].start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            with self.lock:
                self.accepted += 1
                if self.refusing:
                    client.close()
                    continue
                server = socket.create_connection(self.target, timeout=5)
                client.settimeout(None)
                server.settimeout(None)
                self.open += [client, server]
                for source, sink in ((client, server), (server, client)):
                    thread = threading.Thread(target=self._pump, args=(source, sink))
                    self.threads.append(thread)
                    thread.start()
                self.uplinks.append(self.threads[-2])

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def connections(self) -> int:
        """How many client connections are still open through the relay."""
        with self.lock:
            return sum(1 for uplink in self.uplinks if uplink.is_alive())

    def cut(self) -> None:
        """Drop every open connection, as a broker restart or a network fault would."""
        with self.lock:
            sockets, self.open = self.open, []
        for end in sockets:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def stop(self) -> None:
        """Cut everything and stop accepting."""
        self.stopped.set()
        self.cut()
        for thread in self.threads:
            thread.join(5)
        self.listener.close()


@pytest.fixture
def relay(admin: BlockingChannel) -> Iterator[Relay]:
    """A relay to the test broker."""
    parts = urllib.parse.urlsplit(amqp_url())
    server = Relay((parts.hostname or "127.0.0.1", parts.port or 5672))
    try:
        yield server
    finally:
        server.stop()


def via(relay: Relay) -> str:
    """The test broker's URL, through ``relay``."""
    parts = urllib.parse.urlsplit(amqp_url())
    netloc = f"{parts.username}:{parts.password}@127.0.0.1:{relay.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


# -- the message a consumer gets ---------------------------------------------------------


def test_message_is_persistent_with_routing_key_id_and_webhook_body(
    consume: ConsumerFactory, exchange: str
) -> None:
    """Routing key ``order.<kind>``, delivery mode 2, the outbox id as ``message_id``,
    and the webhook's JSON document as the body."""
    queue = consume("order.#")
    envelope = make_envelope(id=12345, kind="order_delivered", text="Zoë ✓")
    with RabbitMQNotifier(amqp_url(), exchange) as notifier:
        notifier.send(envelope)
    [message] = queue.drain()
    assert message.routing_key == "order.order_delivered"
    assert message.properties.delivery_mode == 2
    assert message.properties.message_id == "12345"
    assert message.properties.content_type == "application/json"
    assert message.properties.type == "order_delivered"
    assert message.properties.app_id == "order-lifecycle"
    assert message.body == encode_envelope(envelope)
    assert b'"id":12345,"kind":"order_delivered"' in message.body  # compact, sorted keys
    assert "Zoë ✓".encode() in message.body
    assert decode_envelope(message.body) == envelope


def test_a_retry_carries_the_same_message_id(consume: ConsumerFactory, exchange: str) -> None:
    """Consumers deduplicate on ``message_id``: it is the outbox id on every attempt."""
    queue = consume()
    with RabbitMQNotifier(amqp_url(), exchange) as notifier:
        notifier.send(make_envelope(id=77, attempt=1))
        notifier.send(make_envelope(id=77, attempt=2))
    assert [m.properties.message_id for m in queue.drain()] == ["77", "77"]
    assert [e.attempt for e in queue.envelopes()] == [1, 2]


def test_queues_subscribe_to_kinds_by_routing_key(consume: ConsumerFactory, exchange: str) -> None:
    """A queue bound to one kind's key gets only that kind; ``order.#`` gets all."""
    everything = consume("order.#")
    deliveries = consume("order.order_delivered")
    kinds = ["order_placed", "order_delivered", "order_accepted", "order_delivered"]
    with RabbitMQNotifier(amqp_url(), exchange) as notifier:
        for n, kind in enumerate(kinds, start=1):
            notifier.send(make_envelope(id=n, kind=kind))
    assert [e.kind for e in everything.envelopes()] == kinds
    assert [e.id for e in deliveries.envelopes()] == [2, 4]


def test_the_exchange_is_declared_topic_and_durable(
    admin: BlockingChannel, consume: ConsumerFactory, exchange: str
) -> None:
    """A missing exchange is declared by the first send, as a durable topic exchange."""
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        admin.connection.channel().exchange_declare(exchange, passive=True)
    with RabbitMQNotifier(amqp_url(), exchange, mandatory=False) as notifier:
        notifier.send(make_envelope())  # nothing bound yet: the broker drops it
    queue = consume("order.#")  # redeclares: same type, same durability, or the broker says no
    for kind, durable in (("direct", True), ("topic", False)):
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as caught:
            admin.connection.channel().exchange_declare(
                exchange, exchange_type=kind, durable=durable
            )
        assert caught.value.reply_code == 406  # PRECONDITION_FAILED: it is a durable topic
    assert queue.drain() == []


# -- what the relay must retry ------------------------------------------------------------


def test_unroutable_message_fails_and_the_send_after_binding_succeeds(
    consume: ConsumerFactory, exchange: str
) -> None:
    """``mandatory``: with no queue for the key the broker returns the message, and the
    send raises (the relay retries) instead of losing it."""
    only_placed = consume("order.order_placed")
    notifier = RabbitMQNotifier(amqp_url(), exchange)
    error = failure(notifier, make_envelope(id=5))
    assert error.envelope_id == 5
    assert "no queue is bound" in str(error)
    assert "order.order_accepted" in str(error)
    everything = consume("order.#")
    notifier.send(make_envelope(id=5, attempt=2))
    notifier.close()
    assert [(e.id, e.attempt) for e in everything.envelopes()] == [(5, 2)]
    assert only_placed.drain() == []


def test_a_nack_fails_the_send(consume: ConsumerFactory, exchange: str) -> None:
    """A queue that rejects new messages makes the broker nack: the send raises, and the
    same notifier publishes again once the queue takes messages."""
    full = consume("order.#", **{"x-max-length": 0, "x-overflow": "reject-publish"})
    notifier = RabbitMQNotifier(amqp_url(), exchange)
    error = failure(notifier, make_envelope(id=6))
    assert "nack" in str(error)
    assert error.envelope_id == 6
    full.admin.queue_unbind(full.name, exchange, routing_key="order.#")
    accepting = consume("order.#")
    notifier.send(make_envelope(id=6, attempt=2))
    notifier.close()
    assert [(e.id, e.attempt) for e in accepting.envelopes()] == [(6, 2)]


def test_exchange_of_another_type_fails_clearly(admin: BlockingChannel, exchange: str) -> None:
    """An existing exchange that is not a durable topic one: the send says so."""
    admin.exchange_declare(exchange, exchange_type="fanout", durable=True)
    error = failure(RabbitMQNotifier(amqp_url(), exchange))
    assert f"could not declare the topic exchange {exchange!r}" in str(error)
    assert "406" in str(error)


def test_reconnects_after_the_connection_drops(
    relay: Relay, consume: ConsumerFactory, exchange: str
) -> None:
    """A connection lost while idle is made again: the next send arrives, with no error."""
    queue = consume()
    notifier = RabbitMQNotifier(via(relay), exchange)
    notifier.send(make_envelope(id=1))
    relay.cut()
    notifier.send(make_envelope(id=2))
    relay.cut()
    notifier.send(make_envelope(id=3))
    assert [e.id for e in queue.envelopes()] == [1, 2, 3]
    assert relay.accepted == 3
    notifier.close()


def test_lost_broker_fails_the_send_until_it_is_back(
    relay: Relay, consume: ConsumerFactory, exchange: str
) -> None:
    """Connection lost and the broker unreachable: the send raises (quickly); once the
    broker answers again, the next send arrives."""
    queue = consume()
    notifier = RabbitMQNotifier(via(relay), exchange, timeout=2)
    notifier.send(make_envelope(id=1))
    relay.refusing = True
    relay.cut()
    started = time.monotonic()
    error = failure(notifier, make_envelope(id=2))
    assert time.monotonic() - started < 2
    assert f"127.0.0.1:{relay.port}" in str(error)
    assert "could not connect" in str(error)
    failure(notifier, make_envelope(id=2, attempt=2))
    relay.refusing = False
    notifier.send(make_envelope(id=2, attempt=3))
    assert [(e.id, e.attempt) for e in queue.envelopes()] == [(1, 1), (2, 3)]
    notifier.close()


def test_close_closes_the_connection_and_a_later_send_reopens_it(
    relay: Relay, consume: ConsumerFactory, exchange: str
) -> None:
    """The notifier connects on its first send (not before), keeps one connection, and
    ``close`` (or leaving ``with``) closes it."""
    queue = consume()
    with RabbitMQNotifier(via(relay), exchange) as notifier:
        assert relay.accepted == 0
        notifier.send(make_envelope(id=1))
        notifier.send(make_envelope(id=2))
        assert (relay.accepted, relay.connections()) == (1, 1)
    wait_for(lambda: relay.connections() == 0)
    notifier.send(make_envelope(id=3))
    assert relay.accepted == 2
    notifier.close()
    assert [e.id for e in queue.envelopes()] == [1, 2, 3]


def wait_for(condition: object, seconds: float = 5) -> None:
    """Wait until ``condition()`` is true (the relay sees a close a moment later)."""
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_wrong_password_fails_without_showing_it(admin: BlockingChannel, exchange: str) -> None:
    """Refused credentials: a clear error that names the broker but not the password."""
    error = failure(RabbitMQNotifier(with_password(amqp_url()), exchange))
    assert "user name or password" in str(error)


def test_nobody_listening_fails_quickly() -> None:
    """No broker on the port: ``NotificationError`` at once, naming host and port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    notifier = RabbitMQNotifier(with_password(amqp_url(), port), unique_name("exchange"))
    started = time.monotonic()
    error = failure(notifier)
    assert time.monotonic() - started < 2
    assert f"127.0.0.1:{port}" in str(error)
    assert "ConnectionRefused" in str(error)


# -- a relay, end to end ------------------------------------------------------------------


def test_relay_publishes_the_outbox_and_retries_while_the_broker_is_away(
    relay: Relay, consume: ConsumerFactory, exchange: str, tmp_path: Path
) -> None:
    """``OrderDesk.relay`` through the notifier: one message per outbox row, its id the
    row's id; with the broker away the rows are retried later, and then arrive."""
    queue = consume()
    clock = ManualClock(pendulum.datetime(2026, 12, 1, 10, tz="UTC"))
    listing = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)
    with (
        RabbitMQNotifier(via(relay), exchange) as notifier,
        OrderDesk.open(
            f"sqlite:///{tmp_path / 'orders.db'}", clock=clock, notifier=notifier
        ) as desk,
    ):
        order = desk.place(buyer="alice", seller="bob", listing=listing)
        desk.accept(order.id, by="bob")
        first = desk.relay()
        assert (first.sent, first.retried, first.dead) == (2, 0, 0)
        rows = {row.id: row for row in desk.store.outbox_rows()}

        desk.say(order.id, by="alice", text="Hello")
        relay.refusing = True
        relay.cut()
        away = desk.relay()
        assert (away.sent, away.retried, away.dead) == (0, 1, 0)
        [pending] = [row for row in desk.store.outbox_rows() if row.status == "pending"]
        assert "could not connect" in (pending.last_error or "")
        relay.refusing = False
        clock.advance(minutes=1)
        back = desk.relay()
        assert (back.sent, back.retried, back.dead) == (1, 0, 0)

    messages = queue.drain()
    assert [m.routing_key for m in messages] == [
        "order.order_placed",
        "order.order_accepted",
        "order.message_posted",
    ]
    assert all(m.properties.delivery_mode == 2 for m in messages)
    envelopes = [decode_envelope(m.body) for m in messages]
    assert [int(m.properties.message_id or 0) for m in messages] == [e.id for e in envelopes]
    assert {e.id for e in envelopes[:2]} == set(rows)
    assert [(e.recipient, e.order_id) for e in envelopes] == [
        ("bob", order.id),
        ("alice", order.id),
        ("bob", order.id),
    ]
    assert envelopes[2].id == pending.id
    assert envelopes[2].attempt == 2


# -- settings and the driver ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:5672/", "127.0.0.1:5672", "amqp://", "amqp://host:99999/", "", None],
)
def test_only_amqp_urls_are_accepted(url: str) -> None:
    """Anything but an ``amqp(s)://host`` URL is refused when the notifier is made."""
    with pytest.raises(ValidationError) as caught:
        RabbitMQNotifier(url)
    assert caught.value.field == "url"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"exchange": ""}, "exchange"),
        ({"exchange": "has space"}, "exchange"),
        ({"exchange": "x" * 256}, "exchange"),
        ({"exchange": "amq.topic"}, "exchange"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"mandatory": "yes"}, "mandatory"),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, object], field: str) -> None:
    """A bad exchange name, timeout or flag is refused, naming the setting."""
    with pytest.raises(ValidationError) as caught:
        RabbitMQNotifier(amqp_url(), **settings)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_repr_names_the_broker_without_credentials() -> None:
    """The representation shows scheme, host, port and virtual host only."""
    notifier = RabbitMQNotifier(with_password("amqp://guest:x@broker.example:5673/shop"), "ex")
    assert repr(notifier) == "RabbitMQNotifier('amqp://broker.example:5673/shop', exchange='ex')"
    assert repr(RabbitMQNotifier("amqps://u:p@h")) == (
        "RabbitMQNotifier('amqps://h:5671/%2F', exchange='order_lifecycle')"
    )


def test_missing_driver_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without pika, making the notifier says which extra to install."""
    monkeypatch.setattr(rabbitmq, "_DRIVER_MISSING", ImportError("No module named 'pika'"))
    with pytest.raises(NotificationError, match=r"order-lifecycle\[rabbitmq\]"):
        RabbitMQNotifier(amqp_url())


def test_the_driver_is_imported_only_when_the_notifier_is_asked_for() -> None:
    """``import order_lifecycle`` and its notifiers module leave pika alone; the notifier
    is the same class from either module."""
    code = (
        "import sys, order_lifecycle, order_lifecycle.adapters.notifiers as n\n"
        "assert 'pika' not in sys.modules\n"
        "n.RabbitMQNotifier\n"
        "assert 'pika' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert notifiers.RabbitMQNotifier is rabbitmq.RabbitMQNotifier


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff",
        b"[]",
        b'{"id":1}',
        encode_envelope(make_envelope()).replace(b'"id":1', b'"id":"1"'),
    ],
)
def test_decode_envelope_refuses_what_is_not_an_envelope(body: bytes) -> None:
    """A consumer's decode fails with a ``ValidationError`` on a foreign body."""
    with pytest.raises(ValidationError) as caught:
        decode_envelope(body)
    assert caught.value.field == "body"
