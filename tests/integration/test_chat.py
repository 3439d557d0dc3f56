"""Order chat, inbox, CX alerts, the outbox relay and files, on every storage backend."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest

from order_lifecycle import (
    Actor,
    Listing,
    ManualClock,
    Money,
    NotAParticipant,
    OrderDesk,
    OrderState,
    Policy,
    ValidationError,
)
from order_lifecycle.adapters.notifiers import MemoryNotifier

LISTING = Listing("Instagram post", Money("150.00", "USD"), pendulum.duration(days=7), 2)
CX = Actor.cx("carol")


@pytest.fixture
def notifier() -> MemoryNotifier:
    """Collects what the relay sends."""
    return MemoryNotifier()


@pytest.fixture
def chat_desk(url: str, clock: ManualClock, notifier: MemoryNotifier) -> OrderDesk:
    """A desk with a notifier on the backend under test."""
    return OrderDesk.open(url, clock=clock, notifier=notifier)


def _story(desk: OrderDesk, clock: ManualClock) -> str:
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    clock.advance(hours=1)
    desk.say(order.id, by="alice", text="Hi! Can you tag @alice?")
    desk.accept(order.id, by="bob")
    clock.advance(days=2)
    desk.deliver(order.id, by="bob", files=[("post.png", b"\x89PNG")], note="Draft")
    desk.dispute(order.id, by="alice", reason="Wrong handle tagged")
    desk.join(order.id, by=CX)
    desk.say(order.id, by=CX, text="Looking into it.")
    desk.resolve(order.id, by=CX, outcome="resume", note="Seller will fix the tag")
    return order.id


def test_chat_shows_every_event_once(chat_desk: OrderDesk, clock: ManualClock) -> None:
    """Messages as messages, everything else as a notice; chat length = history length."""
    order_id = _story(chat_desk, clock)
    chat = chat_desk.chat(order_id, viewer="bob")
    history = chat_desk.history(order_id)
    assert [e.seq for e in chat] == [e.seq for e in history]
    assert [e.kind for e in chat] == [
        "notice",
        "message",
        "notice",
        "notice",
        "notice",
        "notice",
        "message",
        "notice",
    ]
    assert chat[1].author == "alice"
    assert chat[1].text == "Hi! Can you tag @alice?"
    assert chat[6].author == "carol"
    assert all(e.author is None for e in chat if e.kind == "notice")
    assert chat[2].text == "bob accepted the order. Delivery is due Tue 8 Dec 2026 11:00 UTC."
    assert chat[3].text.startswith("bob delivered 1 file: post.png.")
    assert chat_desk.chat(order_id, viewer="alice", since=6)[0].seq == 7


def test_chat_renders_in_the_viewers_zone(chat_desk: OrderDesk, clock: ManualClock) -> None:
    """Instants in notices follow the viewer's time zone."""
    order_id = _story(chat_desk, clock)
    accepted = chat_desk.chat(order_id, viewer="alice", tz="Europe/Paris")[2]
    assert accepted.text == "bob accepted the order. Delivery is due Tue 8 Dec 2026 12:00 CET."
    with pytest.raises(ValidationError):
        chat_desk.chat(order_id, viewer="alice", tz="Mars/Olympus")


def test_only_participants_read_the_chat(chat_desk: OrderDesk, clock: ManualClock) -> None:
    """Buyer, seller and CX agents once they joined; everyone else is refused."""
    order = chat_desk.place(buyer="alice", seller="bob", listing=LISTING)
    with pytest.raises(NotAParticipant):
        chat_desk.chat(order.id, viewer="mallory")
    with pytest.raises(NotAParticipant):
        chat_desk.chat(order.id, viewer=CX)
    chat_desk.accept(order.id, by="bob")
    chat_desk.dispute(order.id, by="bob", reason="Buyer unreachable")
    chat_desk.join(order.id, by=CX)
    assert len(chat_desk.chat(order.id, viewer=CX)) == 4
    with pytest.raises(NotAParticipant):
        chat_desk.chat(order.id, viewer=Actor.cx("dave"))


def test_the_chatbot_ends_the_chat_view(chat_desk: OrderDesk) -> None:
    """``next_step=True`` adds the viewer's prompt as the last, unstored entry."""
    order = chat_desk.place(buyer="alice", seller="bob", listing=LISTING)
    chat = chat_desk.chat(order.id, viewer="bob", next_step=True)
    assert chat[-1].kind == "next_step"
    assert chat[-1].text == chat_desk.next_step(order.id, viewer="bob")
    assert len(chat_desk.history(order.id)) == 1


def test_inbox_unread_and_action_waiting(chat_desk: OrderDesk, clock: ManualClock) -> None:
    """A new order is unread for the seller and waits on them; mark_read clears it."""
    first = chat_desk.place(buyer="alice", seller="bob", listing=LISTING)
    clock.advance(minutes=5)
    second = chat_desk.place(buyer="carl", seller="bob", listing=LISTING)
    inbox = chat_desk.inbox("bob")
    assert [c.order_id for c in inbox] == [second.id, first.id]
    top = inbox[0]
    assert (top.counterpart, top.unread, top.action_waiting, top.state) == (
        "carl",
        1,
        True,
        OrderState.pending,
    )
    assert top.title == "Instagram post"
    assert top.last is not None
    assert top.last.kind == "notice"
    buyer_view = chat_desk.inbox("alice")[0]
    assert (buyer_view.unread, buyer_view.action_waiting) == (0, False)
    chat_desk.mark_read(second.id, by="bob")
    assert chat_desk.inbox("bob")[0].unread == 0
    clock.advance(minutes=5)
    chat_desk.accept(first.id, by="bob")
    chat_desk.deliver(first.id, by="bob", outside=True)
    bob_top = chat_desk.inbox("bob")[0]
    assert (bob_top.order_id, bob_top.action_waiting) == (first.id, False)
    alice_top = chat_desk.inbox("alice")[0]
    assert (alice_top.unread, alice_top.action_waiting) == (2, True)  # not her own placement
    assert chat_desk.history(first.id)[-1].kind == "content_delivered"
    with pytest.raises(NotAParticipant):
        chat_desk.mark_read(first.id, by="mallory")
    assert chat_desk.inbox("mallory") == []


def test_proposals_and_disputes_wait_on_the_right_person(
    chat_desk: OrderDesk,
) -> None:
    """The other party answers a proposal; the joined agent resolves the dispute."""
    order = chat_desk.place(buyer="alice", seller="bob", listing=LISTING)
    chat_desk.accept(order.id, by="bob")
    chat_desk.propose_update(order.id, by="bob", revisions=3)
    assert chat_desk.inbox("alice")[0].action_waiting
    chat_desk.dispute(order.id, by="alice", reason="x")
    chat_desk.join(order.id, by=CX)
    carol = chat_desk.inbox("carol")
    assert [(c.order_id, c.action_waiting, c.counterpart) for c in carol] == [
        (order.id, True, "alice / bob")
    ]
    assert not chat_desk.inbox("alice")[0].action_waiting


def test_relay_addresses_every_event_and_alerts_the_cx_team(
    chat_desk: OrderDesk, clock: ManualClock, notifier: MemoryNotifier
) -> None:
    """Each event goes to the other participants; disputes also to the CX team."""
    order_id = _story(chat_desk, clock)
    report = chat_desk.relay()
    assert (report.retried, report.dead) == (0, 0)
    sent = notifier.sent
    assert report.sent == len(sent)
    team = [e for e in sent if e.recipient == "cx_team"]
    assert [e.kind for e in team] == ["order_disputed"]
    placed = [e for e in sent if e.kind == "order_placed"]
    assert [e.recipient for e in placed] == ["bob"]
    assert placed[0].text.startswith("alice bought «Instagram post»")
    assert placed[0].event["kind"] == "order_placed"
    for recipient in ("alice", "bob"):
        seqs = [e.seq for e in sent if e.recipient == recipient]
        assert seqs == sorted(seqs)
    assert all(e.order_id == order_id and e.attempt == 1 for e in sent)
    assert len({e.id for e in sent}) == len(sent)
    assert chat_desk.relay().sent == 0


def test_relay_retries_with_backoff_then_dead_letters(url: str, clock: ManualClock) -> None:
    """A failing notifier is retried later, in order; after N failures the row is dead."""
    flaky = MemoryNotifier(fail_first=1)
    desk = OrderDesk.open(url, clock=clock, notifier=flaky)
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    desk.say(order.id, by="bob", text="hello")
    first = desk.relay()
    # bob's copy of the placement failed; alice's two copies went through in order.
    assert (first.sent, first.retried, first.dead) == (2, 1, 0)
    assert [(e.recipient, e.kind) for e in flaky.sent] == [
        ("alice", "order_accepted"),
        ("alice", "message_posted"),
    ]
    assert desk.relay() == type(first)(0, 0, 0)  # bob's retry is not due yet
    clock.advance(seconds=30)
    second = desk.relay()
    assert (second.sent, second.retried) == (1, 0)
    bob = [e for e in flaky.sent if e.recipient == "bob"]
    assert [(e.kind, e.attempt) for e in bob] == [("order_placed", 2)]

    dead_desk = OrderDesk.open(url, clock=clock, notifier=MemoryNotifier(fail_first=100))
    other = dead_desk.place(buyer="alice", seller="bob", listing=LISTING)
    for _ in range(dead_desk.policy.max_delivery_attempts):
        dead_desk.relay()
        clock.advance(hours=7)
    rows = dead_desk.store.outbox_rows(other.id)
    assert [(r.status, r.attempts) for r in rows] == [
        ("dead", dead_desk.policy.max_delivery_attempts)
    ]
    assert rows[0].last_error is not None
    assert "NotificationError" in rows[0].last_error


def test_relay_needs_a_notifier(url: str, clock: ManualClock) -> None:
    """Without a notifier, relay says what to do."""
    desk = OrderDesk.open(url, clock=clock)
    with pytest.raises(ValidationError, match="notifier"):
        desk.relay()


def test_hostile_file_names_and_sizes(tmp_path: Path, clock: ManualClock) -> None:
    """Names stay names; oversize and disallowed files are refused and write nothing."""
    db = tmp_path / "db" / "orders.db"
    db.parent.mkdir()
    policy = Policy(max_file_bytes=1_000, allowed_media_types={"image/png", "text/plain"})
    desk = OrderDesk.open(f"sqlite:///{db}", clock=clock, policy=policy)
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.accept(order.id, by="bob")
    root = tmp_path / "db" / "orders.db.files"
    before = sorted(tmp_path.rglob("*"))
    for files in (
        [("big.png", b"x" * 1_001)],
        [("script.exe", b"MZ")],
        [("", b"x")],
        [("nul\x00.png", b"x")],
        [("ok.png", "not bytes")],
        "post.png",
        [tmp_path / "missing.png"],
    ):
        with pytest.raises(ValidationError):
            desk.deliver(order.id, by="bob", files=files)  # type: ignore[arg-type]
        assert sorted(tmp_path.rglob("*")) == before
    too_many = [(f"{i}.png", b"x") for i in range(policy.max_files + 1)]
    with pytest.raises(ValidationError):
        desk.say(order.id, by="alice", files=too_many)
    assert sorted(tmp_path.rglob("*")) == before
    delivered = desk.deliver(
        order.id, by="bob", files=[("../../etc/passwd.png", b"png"), ("/abs/x.txt", b"t")]
    )
    names = [f.name for f in delivered.deliveries[0].files]
    assert names == ["../../etc/passwd.png", "/abs/x.txt"]
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.parent.parent == root]
    assert len(written) == 2
    assert all(root in p.parents for p in tmp_path.rglob("*") if p not in before and p != root)
    blob = delivered.deliveries[0].files[0]
    assert desk.blobs.get(blob.sha256) == b"png"
    desk.close()


def test_files_from_paths(tmp_path: Path, url: str, clock: ManualClock) -> None:
    """A path is read, stored and described by name, size and media type."""
    path = tmp_path / "story.mp4"
    path.write_bytes(b"\x00\x00\x00 ftypmp4")
    desk = OrderDesk.open(url, clock=clock)
    order = desk.place(buyer="alice", seller="bob", listing=LISTING)
    desk.say(order.id, by="bob", text="A preview", files=[path])
    (entry,) = desk.chat(order.id, viewer="alice", since=1)
    desk.close()
    assert (entry.kind, entry.author, entry.text) == ("message", "bob", "A preview")
    (attached,) = entry.files
    assert (attached.name, attached.size, attached.media_type) == (
        "story.mp4",
        len(path.read_bytes()),
        "video/mp4",
    )


def test_view_reads_everything_a_page_needs_at_once(chat_desk: OrderDesk) -> None:
    """``view``: the order, the viewer's actions, the prompt and the chat, consistently."""
    order = chat_desk.place(buyer="alice", seller="bob", listing=LISTING, order_id="ord_host_1")
    assert order.id == "ord_host_1"
    chat_desk.accept(order.id, by="bob")
    chat_desk.dispute(order.id, by="alice", reason="Not what we agreed on.")
    seen = chat_desk.view(order.id, viewer="alice")
    assert seen.order == chat_desk.get(order.id)
    assert seen.viewer == Actor.buyer("alice")
    assert [e.seq for e in seen.chat or []] == [1, 2, 3]
    assert seen.next_step == chat_desk.next_step(order.id, viewer="alice")
    assert {o.action for o in seen.actions} == {
        o.action for o in chat_desk.actions(order.id, viewer="alice")
    }
    assert (seen.chat or [])[2].text.startswith(
        "alice disputed the order: “Not what we agreed on.” A"
    )
    unjoined = chat_desk.view(order.id, viewer="cx:carol")
    assert unjoined.viewer == CX
    assert unjoined.chat is None
    assert {o.action for o in unjoined.actions if o.available} == {"join"}
    chat_desk.join(order.id, by="cx:carol")
    assert chat_desk.view(order.id, viewer="cx:carol").chat is not None
    with pytest.raises(NotAParticipant):
        chat_desk.view(order.id, viewer="mallory")
