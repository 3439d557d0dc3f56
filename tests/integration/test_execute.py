"""``OrderDesk.execute``: the one way every command runs, on every storage backend."""

from __future__ import annotations

import attrs
import pendulum
import pytest

from order_lifecycle import (
    ActionNotAvailable,
    Listing,
    ManualClock,
    Money,
    OrderDesk,
    OrderState,
    ValidationError,
    core,
)
from order_lifecycle.core.commands import Command
from order_lifecycle.core.model import Attachment
from order_lifecycle.core.table import RULES
from order_lifecycle.desk.writes import command_fingerprint

LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)


def test_a_story_through_execute_alone(desk: OrderDesk, clock: ManualClock) -> None:
    """Commands built by hand run exactly as the named methods run them."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.execute(order.id, core.Accept(), by="bob")
    delivered = desk.execute(order.id, core.Deliver(files=[("post.png", b"\x89PNG")]), by="bob")
    stored = delivered.deliveries[0].files[0]
    assert isinstance(stored, Attachment)
    assert stored.media_type == "image/png"
    assert stored.uri != "pending:"
    desk.execute(order.id, core.RequestRevision(note="Warmer"), by="alice")
    desk.execute(order.id, core.ProposeUpdate(price="180.00"), by="bob")
    updated = desk.execute(order.id, core.AcceptUpdate(), by="alice")
    assert updated.contract.price == Money("180.00", "USD")
    done = desk.execute(order.id, core.Say(text="Thanks!"), by="alice")
    assert done.state is OrderState.revision
    assert [e.action.value for e in desk.history(order.id)][-3:] == [
        "propose_update",
        "accept_update",
        "say",
    ]


class _CountingBlobs:
    """Blobs that count what they were given."""

    def __init__(self) -> None:
        self.put_names: list[str] = []

    def put(self, name: str, data: bytes, media_type: str) -> Attachment:
        self.put_names.append(name)
        return Attachment(name, len(data), media_type, "0" * 64, f"test:{name}")

    def get(self, sha256: str) -> bytes:
        raise AssertionError("not read in these tests")


def test_a_file_is_stored_only_when_the_command_would_go_through(url: str) -> None:
    """A refused command that carries files stores none of them; an accepted one stores
    each once."""
    blobs = _CountingBlobs()
    with OrderDesk.open(url, blobs=blobs) as desk:
        order = desk.place(buyer="alice", seller="bob", listing=LISTING)
        with pytest.raises(ActionNotAvailable):
            desk.execute(order.id, core.Deliver(files=[("early.png", b"x")]), by="bob")
        long = core.Say(text="x" * 20_000, files=[("a.png", b"y")])
        with pytest.raises(ValidationError) as raised:
            desk.execute(order.id, long, by="bob")
        assert raised.value.field == "text"
        assert blobs.put_names == []
        assert desk.get(order.id).version == 1
        desk.execute(order.id, core.Say(text="hi", files=[("b.png", b"z")]), by="bob")
        assert blobs.put_names == ["b.png"]


def test_something_else_than_a_command_is_refused(desk: OrderDesk) -> None:
    """A typed error, and nothing changes."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    with pytest.raises(ValidationError) as raised:
        desk.execute(order.id, "accept", by="bob")  # type: ignore[arg-type]
    assert raised.value.field == "command"
    assert desk.get(order.id).version == 1


def test_the_idempotency_fingerprint_comes_from_the_command(desk: OrderDesk) -> None:
    """The same key with the same command replays; with other arguments it is refused."""
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    first = desk.execute(order.id, core.Dispute(reason="late"), by="alice", idempotency_key="k1")
    again = desk.dispute(order.id, by="alice", reason="late", idempotency_key="k1")
    assert again == first
    assert desk.get(order.id).version == 3
    with pytest.raises(ValidationError) as raised:
        desk.dispute(order.id, by="alice", reason="very late", idempotency_key="k1")
    assert raised.value.field == "idempotency_key"


def test_fingerprints_differ_by_every_field() -> None:
    """Two commands that differ in any one field, or in file content, have different prints."""
    base = command_fingerprint("o1", "bob", core.Deliver(files=[("a.png", b"1")], note="n"))
    assert base == command_fingerprint("o1", "bob", core.Deliver(files=[("a.png", b"1")], note="n"))
    others = [
        command_fingerprint("o1", "bob", core.Deliver(files=[("a.png", b"2")], note="n")),
        command_fingerprint("o1", "bob", core.Deliver(files=[("b.png", b"1")], note="n")),
        command_fingerprint("o1", "bob", core.Deliver(files=[("a.png", b"1")], note="m")),
        command_fingerprint("o2", "bob", core.Deliver(files=[("a.png", b"1")], note="n")),
        command_fingerprint("o1", "eve", core.Deliver(files=[("a.png", b"1")], note="n")),
        command_fingerprint("o1", "bob", core.Say(text="n", files=[("a.png", b"1")])),
    ]
    assert len({base, *others}) == 1 + len(others)


def test_every_command_of_the_table_is_an_attrs_command_execute_takes() -> None:
    """Each row's command is a frozen ``Command`` whose fields make its fingerprint."""
    for rule in RULES:
        if rule.command is None:
            continue
        assert issubclass(rule.command, Command)
        assert rule.command.action is rule.action
        assert attrs.has(rule.command)
