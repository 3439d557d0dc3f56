"""The example web host's pages through Flask's test client: sign in, the inbox, the
order page's forms (built from the command classes), errors on the page, the live update.

The same pages in a real browser: ``test_web_browser.py``.
"""

from __future__ import annotations

import html
import importlib
import io
import re
from collections.abc import Iterator

import pendulum
import pytest
from flask.testing import FlaskClient
from markupsafe import escape

from order_lifecycle import Action, Listing, ManualClock, Money, OrderDesk

T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when the test says so."""
    return ManualClock(T0)


@pytest.fixture
def desk(clock: ManualClock) -> Iterator[OrderDesk]:
    """A desk in memory, on the manual clock."""
    with OrderDesk.open("memory://", clock=clock) as opened:
        yield opened


def client_for(desk: OrderDesk, user: str | None) -> FlaskClient:
    """A test client of the web host, signed in as ``user`` through the sign-in form."""
    app = importlib.import_module("examples.web_host.app").create_app(desk)
    app.testing = True
    client: FlaskClient = app.test_client()
    if user is not None:
        response = client.post("/signin", data={"user": user, "next": "/inbox"})
        assert response.status_code == 303
        assert response.headers["Location"] == "/inbox"
    return client


@pytest.fixture
def order_id(desk: OrderDesk) -> str:
    """A pending order: alice bought bob's logo."""
    listing = Listing("Logo", Money("80.00", "USD"), pendulum.duration(days=3), 1)
    return desk.place(buyer="alice", seller="bob", listing=listing).id


def act(client: FlaskClient, order_id: str, action: str, **form: object) -> str:
    """POST an action's form; return the status and the page (after the redirect)."""
    response = client.post(f"/orders/{order_id}/actions/{action}", data=form)
    if response.status_code == 303:
        assert response.headers["Location"] == f"/orders/{order_id}"
        return "303"
    return f"{response.status_code} {response.get_data(as_text=True)}"


def error_of(page: str) -> str:
    """The text of the page's error banner, tags and spacing removed."""
    found = re.search(r'<div class="error" role="alert" id="error">(.*?)</div>', page, re.S)
    assert found, "the page shows no error"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def test_sign_in_is_a_cookie_and_pages_ask_for_it(desk: OrderDesk, order_id: str) -> None:
    """Pages send a stranger to sign in; a malformed user id is refused with the reason;
    ``next`` never leaves the site."""
    anonymous = client_for(desk, None)
    for path in ("/inbox", f"/orders/{order_id}"):
        response = anonymous.get(path)
        assert (response.status_code, response.headers["Location"]) == (303, f"/?next={path}")
    page = anonymous.get("/").get_data(as_text=True)
    assert "anyone may sign in as anyone" in page
    bad = anonymous.post("/signin", data={"user": "bob smith"})
    assert bad.status_code == 400
    assert "must be a user id without spaces" in bad.get_data(as_text=True)
    away = anonymous.post("/signin", data={"user": "bob", "next": "//evil.example/"})
    assert away.headers["Location"] == "/inbox"
    assert "viewer=bob" in away.headers["Set-Cookie"]
    assert anonymous.get("/inbox").status_code == 200
    assert anonymous.post("/signout").headers["Location"] == "/"
    assert anonymous.get("/inbox").status_code == 303


def test_inbox_shows_unread_and_your_move_and_places_orders(desk: OrderDesk, order_id: str) -> None:
    """bob's inbox: the order, one unread notice, his move. alice places an order from
    hers; a bad price is a 422 naming the field, and nothing is placed."""
    bob = client_for(desk, "bob")
    page = bob.get("/inbox").get_data(as_text=True)
    row = page[page.index(f'<tr data-order="{order_id}">') :]
    row = row[: row.index("</tr>")]
    assert '<span class="badge unread">1</span>' in row
    assert '<span class="move">your move</span>' in row
    alice = client_for(desk, "alice")
    assert "your move" not in alice.get("/inbox").get_data(as_text=True)
    form = {
        "seller": "bob",
        "title": "Banner",
        "price": "12.5.0",
        "currency": "USD",
        "delivery_days": "2",
        "revisions": "0",
    }
    refused = alice.post("/orders", data=form)
    assert refused.status_code == 422
    assert "<strong>Amount</strong>" in refused.get_data(as_text=True)
    assert len(desk.inbox("alice")) == 1
    placed = alice.post("/orders", data={**form, "price": "12.50"})
    assert placed.status_code == 303
    new_id = placed.headers["Location"].rsplit("/", 1)[1]
    assert desk.get(new_id).contract.price == Money("12.50", "USD")
    assert desk.get(new_id).seller == "bob"


def test_each_role_gets_its_own_actions_with_disabled_reasons(
    desk: OrderDesk, order_id: str
) -> None:
    """The seller sees accept and decline; the buyer's approve is disabled with the
    reason ``actions`` gives; no one sees the system's actions."""
    seller = client_for(desk, "bob").get(f"/orders/{order_id}").get_data(as_text=True)
    assert '<form class="action" id="action-accept"' in seller
    assert '<form class="action" id="action-decline"' in seller
    assert 'id="action-approve"' not in seller
    buyer = client_for(desk, "alice").get(f"/orders/{order_id}").get_data(as_text=True)
    reason = next(
        o.reason for o in desk.actions(order_id, viewer="alice") if o.action is Action.approve
    )
    assert reason
    assert (
        f'<button type="button" disabled aria-describedby="why-approve" title="{escape(reason)}">'
        in buyer
    )
    assert f'<p class="reason" id="why-approve">{escape(reason)}</p>' in buyer
    for page in (seller, buyer):
        assert 'id="action-expire"' not in page
        assert 'id="action-auto_complete"' not in page


def test_a_story_through_the_forms(desk: OrderDesk, order_id: str, clock: ManualClock) -> None:
    """Accept, deliver an upload, revise, propose a new due date in the viewer's zone,
    accept it, deliver outside the platform, approve: each form makes its command."""
    bob = client_for(desk, "bob")
    alice = client_for(desk, "alice")
    assert act(bob, order_id, "accept") == "303"
    upload = (io.BytesIO(b"\x89PNG draft"), "logo.png")
    assert act(bob, order_id, "deliver", files=upload, note="Draft 1") == "303"
    (delivery,) = desk.get(order_id).deliveries
    assert [(f.name, f.size) for f in delivery.files] == [("logo.png", 10)]
    assert delivery.note == "Draft 1"
    assert act(alice, order_id, "request_revision", note="Bluer") == "303"
    assert desk.get(order_id).state.value == "revision"
    # datetime-local has no zone: it is read in the page's (?tz=).
    response = bob.post(
        f"/orders/{order_id}/actions/propose_update?tz=Europe/Paris",
        data={"due_at": "2026-12-10T12:00", "price": "", "revisions": ""},
    )
    assert response.status_code == 303
    proposal = desk.get(order_id).proposal
    assert proposal is not None
    assert proposal.due_at == pendulum.datetime(2026, 12, 10, 11, tz="UTC")
    assert (proposal.price, proposal.revisions) == (None, None)
    page = alice.get(f"/orders/{order_id}").get_data(as_text=True)
    assert '<p class="proposal" id="proposal"><strong>Open proposal</strong> by bob:' in page
    assert '<form class="action" id="action-accept_update"' in page
    assert act(alice, order_id, "accept_update") == "303"
    assert desk.get(order_id).contract.due_at == pendulum.datetime(2026, 12, 10, 11, tz="UTC")
    assert act(bob, order_id, "deliver", outside="1") == "303"
    assert desk.get(order_id).deliveries[-1].outside
    assert act(alice, order_id, "approve") == "303"
    assert desk.get(order_id).state.value == "complete"


def test_errors_are_shown_on_the_page_and_change_nothing(desk: OrderDesk, order_id: str) -> None:
    """422 names the field, 409 gives the reason, 403 for a stranger, 404 for an action
    no person takes; the order is as it was."""
    bob = client_for(desk, "bob")
    alice = client_for(desk, "alice")
    before = desk.get(order_id)
    refused = act(alice, order_id, "approve")
    assert refused.startswith("409 ")
    reason = next(
        o.reason for o in desk.actions(order_id, viewer="alice") if o.action is Action.approve
    )
    assert error_of(refused) == f"Approve is not available: {reason}"
    assert act(bob, order_id, "accept") == "303"
    empty = act(bob, order_id, "deliver", note="nothing attached")
    assert empty.startswith("422 ")
    assert error_of(empty).startswith("Deliver — Files: a delivery needs at least one file")
    late = act(bob, order_id, "propose_update", due_at="2020-01-01T10:00")
    assert error_of(late) == "Propose update — Due at: must be in the future"
    garbled = act(bob, order_id, "propose_update", due_at="next week")
    assert error_of(garbled).startswith("Propose update — Due at: 'next week' is not an ISO")
    revisions = act(bob, order_id, "propose_update", revisions="-1")
    assert error_of(revisions).startswith("Propose update — Revisions: must be a whole number")
    assert act(bob, order_id, "say", text="   ").startswith("422 ")
    stranger = client_for(desk, "mallory")
    assert act(stranger, order_id, "say", text="hi").startswith("403 ")
    assert act(bob, order_id, "expire").startswith("404 ")
    assert act(bob, order_id, "teleport").startswith("404 ")
    after = desk.get(order_id)
    assert after.state.value == "accepted"
    assert after.version == before.version + 1


def test_a_form_sent_twice_acts_once(desk: OrderDesk, order_id: str) -> None:
    """Each form carries a fresh idempotency key: a double click posts one message."""
    alice = client_for(desk, "alice")
    page = alice.get(f"/orders/{order_id}").get_data(as_text=True)
    keys = re.findall(r'name="idempotency_key" value="([0-9a-f]{32})"', page)
    assert len(keys) == len(set(keys)) >= 2
    for _ in range(2):
        assert act(alice, order_id, "say", text="Hello?", idempotency_key=keys[0]) == "303"
    messages = [e for e in desk.chat(order_id, viewer="bob") if e.kind == "message"]
    assert [m.text for m in messages] == ["Hello?"]


def test_live_answers_the_version_and_the_fragments_when_it_moved(
    desk: OrderDesk, order_id: str
) -> None:
    """The page polls ``/live?version=N``: the same version answers only the version; a
    newer one answers the redrawn parts, and marks the chat read."""
    bob = client_for(desk, "bob")
    version = desk.get(order_id).version
    page = bob.get(f"/orders/{order_id}").get_data(as_text=True)
    assert f'data-version="{version}"' in page
    assert bob.get(f"/orders/{order_id}/live?version={version}").get_json() == {"version": version}
    desk.say(order_id, by="alice", text="Any news?")
    assert desk.inbox("bob")[0].unread == 1
    moved = bob.get(f"/orders/{order_id}/live?version={version}").get_json()
    assert moved["version"] == version + 1
    assert "Any news?" in moved["status"]
    assert 'id="action-accept"' in moved["actions"]
    assert 'name="text"' in moved["message"]
    assert desk.inbox("bob")[0].unread == 0
    stranger = client_for(desk, "mallory").get(f"/orders/{order_id}/live?version=0")
    assert stranger.status_code == 403
    assert stranger.get_json()["error"] == "not_a_participant"
    # Even when the stranger guesses the version: the answer tells nothing of the order.
    now = desk.get(order_id).version
    guessed = client_for(desk, "mallory").get(f"/orders/{order_id}/live?version={now}")
    assert guessed.status_code == 403
    assert guessed.get_json()["error"] == "not_a_participant"


def test_a_cx_agent_joins_and_resolves_from_the_page(desk: OrderDesk, order_id: str) -> None:
    """cx:carol opens a disputed order: no chat until she joins; then she resolves it
    with the outcome chosen in a select."""
    desk.accept(order_id, by="bob")
    desk.dispute(order_id, by="alice", reason="No news from bob.")
    carol = client_for(desk, "cx:carol")
    assert carol.get(f"/open?id={order_id}").headers["Location"] == f"/orders/{order_id}"
    page = carol.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Join the conversation to read the chat." in page
    assert '<form class="action" id="action-join"' in page
    assert 'id="place"' not in carol.get("/inbox").get_data(as_text=True)
    assert act(carol, order_id, "join") == "303"
    page = carol.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "No news from bob." in page
    assert '<select name="outcome"><option>resume</option>' in page
    assert act(carol, order_id, "resolve", outcome="complete", note="Delivered by mail.") == "303"
    assert desk.get(order_id).state.value == "complete"
    assert [c.order_id for c in desk.inbox("carol")] == [order_id]
