"""The embedding examples run: a custom notifier, the timer worker, and the Flask web host.

``examples`` is not a package (no ``__init__.py``): the examples are imported from the
repository root as a namespace package, the way ``python -m examples.web_host`` runs.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pendulum
import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from order_lifecycle import (
    Action,
    ActionNotAvailable,
    Actor,
    ConcurrencyConflict,
    Listing,
    ManualClock,
    Money,
    OrderDesk,
    StorageError,
)
from order_lifecycle.adapters.notifiers import CallbackNotifier
from order_lifecycle.jsonview import entry_json, order_json
from order_lifecycle.ports import Envelope

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
T0 = pendulum.datetime(2026, 12, 1, 10, tz="UTC")
HOSTILE = '<script>alert("pwned")</script>'
ORDER_KEYS = {
    "id",
    "state",
    "buyer",
    "seller",
    "title",
    "price",
    "currency",
    "revisions_used",
    "revisions_allowed",
    "due_at",
    "review_due_at",
    "version",
}


def escaped(text: str) -> str:
    """``text`` as Jinja's autoescape writes it into a page."""
    return str(escape(text))


def run_example(name: str) -> subprocess.CompletedProcess[str]:
    """Run ``examples/<name>`` as a script, as a user would."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )


def import_example(name: str) -> ModuleType:
    """Import ``examples.<name>`` with the repository root on ``sys.path``."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"examples.{name}")


# -- the custom notifier ---------------------------------------------------------------


def test_custom_notifier_example_retries_after_the_outage() -> None:
    """The mailbox gets each email once; the outage is retried after the back-off."""
    done = run_example("custom_notifier.py")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "first relay:  RelayReport(sent=4, retried=1, dead=0)" in out
    assert "second relay: RelayReport(sent=3, retried=0, dead=0)" in out
    assert "third relay:  RelayReport(sent=0, retried=0, dead=0)" in out
    assert "the mail server did not answer for envelope 1 (attempt 1)" in out
    assert "alice@example.com: 3 email(s)" in out
    assert "cx-team@market.example: 1 email(s)" in out
    assert "bob (order_placed): no email address" in out
    assert "Hello CX team," in out
    assert out.count("<outbox-") == 4


# -- the timer worker ------------------------------------------------------------------


def test_sqlite_timer_worker_example_fires_each_timer_once_when_due() -> None:
    """Each timer fires once, in the first round after it fell due, and is relayed."""
    done = run_example("sqlite_timer_worker.py")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    fired = [line.strip() for line in out.splitlines() if line.strip().startswith("fired ")]
    assert fired == [
        "fired order_expired on «Banner», due Thu 3 Dec 11:30",
        "fired delivery_date_passed on «Logo design», due Sat 5 Dec 09:00",
        "fired order_auto_completed on «Instagram post», due Tue 8 Dec 10:00",
    ]
    assert "[Thu 3 Dec 18:00] round 3: fired 1" in out
    assert "[Wed 2 Dec 18:00] round 2: nothing due" in out
    assert "sent  order_auto_completed -> dan" in out
    assert "worker stopped after 8 rounds: 3 timers fired, 16 notifications sent, 0 dead" in out
    assert "«Banner»: cancelled" in out
    assert "«Instagram post»: complete" in out
    assert "«Logo design»: accepted" in out


@pytest.fixture
def worker() -> ModuleType:
    """The timer worker example, imported."""
    return import_example("sqlite_timer_worker")


@pytest.fixture
def placed_db(tmp_path: Path) -> str:
    """A SQLite database with one order whose notifications wait in the outbox."""
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    with OrderDesk.open(url, clock=ManualClock(T0)) as desk:
        listing = Listing("Logo design", Money("80.00", "USD"), pendulum.duration(days=2), 1)
        order = desk.place(buyer="alice", seller="bob", listing=listing)
        desk.accept(order.id, by="bob")
    return url


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_worker_stops_cleanly_on_sigterm_between_rounds(worker: ModuleType, placed_db: str) -> None:
    """SIGTERM during the pause ends the run after that round; the handler is restored."""
    before = signal.getsignal(signal.SIGTERM)
    clock = ManualClock(T0)

    def pause(seconds: float) -> None:
        clock.advance(seconds=seconds)
        os.kill(os.getpid(), signal.SIGTERM)

    report = worker.run_worker(
        placed_db,
        clock=clock,
        notifier=CallbackNotifier(lambda envelope: None),
        rounds=None,
        interval=60.0,
        sleep=pause,
    )
    assert report.stopped_by == "SIGTERM"
    assert report.rounds == 1
    assert report.sent == 2
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_worker_finishes_the_current_round_on_sigint(worker: ModuleType, placed_db: str) -> None:
    """Ctrl-C in the middle of a relay lets the round send everything, then stops."""
    sent: list[Envelope] = []

    def send(envelope: Envelope) -> None:
        if not sent:
            os.kill(os.getpid(), signal.SIGINT)
        sent.append(envelope)

    report = worker.run_worker(
        placed_db,
        clock=ManualClock(T0.add(days=3)),
        notifier=CallbackNotifier(send),
        rounds=5,
        interval=0.0,
    )
    assert report.stopped_by == "SIGINT"
    assert report.rounds == 1
    assert [e.kind for e in report.fired] == ["delivery_date_passed"]
    assert report.sent == len(sent) == 4


def test_worker_without_signal_runs_its_rounds(worker: ModuleType, placed_db: str) -> None:
    """A bounded run does every round and reports no stopping signal."""
    clock = ManualClock(T0)
    seen: list[int] = []
    report = worker.run_worker(
        placed_db,
        clock=clock,
        notifier=CallbackNotifier(lambda envelope: None),
        rounds=3,
        interval=86_400.0,
        sleep=lambda seconds: clock.advance(seconds=seconds),
        on_round=lambda done: seen.append(done.number),
    )
    assert (report.rounds, report.stopped_by, seen) == (3, None, [1, 2, 3])
    assert [e.kind for e in report.fired] == ["delivery_date_passed"]


# -- the web host ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def web_host() -> ModuleType:
    """``examples.web_host.app``, imported as ``python -m examples.web_host`` would."""
    return import_example("web_host.app")


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when the test says so."""
    return ManualClock(T0)


@pytest.fixture
def desk(clock: ManualClock) -> Iterator[OrderDesk]:
    """A desk in memory, on the manual clock."""
    with OrderDesk.open("memory://", clock=clock) as opened:
        yield opened


@pytest.fixture
def client(web_host: ModuleType, desk: OrderDesk) -> FlaskClient:
    """A test client of the web host on ``desk``."""
    create_app: Callable[[OrderDesk], Flask] = web_host.create_app
    app = create_app(desk)
    app.testing = True
    return app.test_client()


@pytest.fixture
def order_id(desk: OrderDesk) -> str:
    """A pending order: alice bought bob's logo (with a hostile title)."""
    listing = Listing(f"Logo {HOSTILE}", Money("80.00", "USD"), pendulum.duration(days=3), 1)
    return desk.place(buyer="alice", seller="bob", listing=listing).id


def post(client: FlaskClient, order_id: str, action: str, **body: Any) -> Any:
    """POST an action; return the response."""
    return client.post(f"/api/orders/{order_id}/{action}", json=body)


def test_importing_the_web_host_package_works(web_host: ModuleType) -> None:
    """``examples.web_host`` imports from the repository root and keeps no list of actions:
    it routes every action a person takes, from the table."""
    assert importlib.import_module("examples.web_host").__doc__
    assert not hasattr(web_host, "ACTIONS")
    forms = importlib.import_module("examples.web_host.forms")
    routed = {a for a in Action if forms.command_type(a.value) is not None}
    assert routed == set(Action) - {Action.place, Action.expire, Action.auto_complete}
    assert callable(web_host.create_app)


def test_page_shows_chat_notices_actions_and_escapes_text(
    client: FlaskClient, desk: OrderDesk, order_id: str, clock: ManualClock
) -> None:
    """The page lists messages and notices apart, the viewer's actions and the next step;
    hostile text in the title and in a message is shown escaped, never as markup."""
    desk.accept(order_id, by="bob")
    clock.advance(hours=1)
    desk.say(order_id, by="alice", text=HOSTILE)
    response = client.get(f"/orders/{order_id}?as=alice")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<script>" not in page
    assert f"<h1>Logo {escaped(HOSTILE)}</h1>" in page
    assert f'<div class="text">{escaped(HOSTILE)}</div>' in page  # the message
    assert page.count('class="notice"') == 2  # placed, accepted
    assert page.count('<li class="message') == 1
    assert escaped(desk.next_step(order_id, viewer="alice")) in page
    options = {o.action: o for o in desk.actions(order_id, viewer="alice")}
    assert options[Action.dispute].available
    assert '<form class="action" id="action-dispute"' in page
    reason = options[Action.approve].reason
    assert reason is not None
    assert escaped(reason) in page
    assert 'id="action-expire"' not in page  # the system's own actions are not offered
    assert 'id="action-accept"' not in page  # nor the other party's
    assert "accepted" in page


def test_json_view_has_the_cli_shapes(client: FlaskClient, desk: OrderDesk, order_id: str) -> None:
    """``GET /api/orders/<id>`` answers the order, actions, next step and chat as the CLI's
    ``--json`` does."""
    desk.say(order_id, by="alice", text="Hello!")
    response = client.get(f"/api/orders/{order_id}?as=bob")
    assert response.status_code == 200
    document = response.get_json()
    assert {"order", "actions", "next_step", "chat", "viewer"} <= set(document)
    assert set(document["order"]) >= ORDER_KEYS
    assert document["order"] == order_json(desk.get(order_id))
    assert document["viewer"] == {"id": "bob", "role": "seller"}
    assert document["next_step"] == desk.next_step(order_id, viewer="bob")
    assert document["actions"] == [
        {"action": o.action.value, "available": o.available, "reason": o.reason}
        for o in desk.actions(order_id, viewer="bob")
    ]
    assert document["chat"] == [entry_json(e) for e in desk.chat(order_id, viewer="bob")]
    assert [e["kind"] for e in document["chat"]] == ["notice", "message"]
    assert set(document["chat"][1]) == {"seq", "at", "kind", "author", "text", "files"}


def test_seller_accepts_through_a_post(client: FlaskClient, order_id: str) -> None:
    """``POST .../accept`` by the seller answers 200 with the accepted order."""
    response = post(client, order_id, "accept", **{"as": "bob"})
    assert response.status_code == 200, response.get_json()
    document = response.get_json()
    assert document["order"]["state"] == "accepted"
    assert document["order"]["due_at"] == T0.add(days=3).isoformat()


def test_action_in_the_wrong_state_is_409_with_the_reason(
    client: FlaskClient, desk: OrderDesk, order_id: str
) -> None:
    """The buyer cannot approve a pending order: 409 with the sentence ``actions`` gives,
    and nothing changes."""
    before = desk.get(order_id)
    response = post(client, order_id, "approve", **{"as": "alice"})
    assert response.status_code == 409
    document = response.get_json()
    option = next(o for o in desk.actions(order_id, viewer="alice") if o.action is Action.approve)
    assert document["error"] == "action_not_available"
    assert document["action"] == "approve"
    assert document["reason"] == option.reason
    assert document["message"] == option.reason
    assert desk.get(order_id) == before


def test_who_may_see_and_act(client: FlaskClient, desk: OrderDesk, order_id: str) -> None:
    """A stranger is 403, an unknown order 404, a missing or malformed viewer 400."""
    assert client.get(f"/api/orders/{order_id}?as=mallory").status_code == 403
    assert client.get(f"/orders/{order_id}?as=mallory").status_code == 403
    stranger = post(client, order_id, "accept", **{"as": "mallory"})
    assert stranger.status_code == 403
    assert stranger.get_json()["error"] == "not_a_participant"
    assert client.get("/api/orders/ord_missing?as=bob").status_code == 404
    missing = post(client, "ord_missing", "accept", **{"as": "bob"})
    assert (missing.status_code, missing.get_json()["error"]) == (404, "order_not_found")
    page = client.get("/orders/ord_missing?as=bob")
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    for query in ("", "?as=", "?as=cx:", "?as=bob%20smith"):
        response = client.get(f"/api/orders/{order_id}{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"] == "malformed_request"
        assert response.get_json()["field"] == "as"
    assert post(client, order_id, "accept").status_code == 400
    assert desk.get(order_id).state == "pending"


def test_bad_arguments_are_422_naming_the_field(
    client: FlaskClient, desk: OrderDesk, order_id: str
) -> None:
    """An empty note, an unknown argument, bad base64 or a float price: 422 and the field."""
    desk.accept(order_id, by="bob")
    desk.deliver(order_id, by="bob", outside=True)
    empty = post(client, order_id, "request_revision", **{"as": "alice", "note": ""})
    assert empty.status_code == 422
    assert empty.get_json()["error"] == "validation_error"
    assert empty.get_json()["field"] == "note"
    assert empty.get_json()["message"]
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("request_revision", {"as": "alice"}, "note"),
        ("request_revision", {"as": "alice", "note": 7}, "note"),
        ("approve", {"as": "alice", "note": "thanks"}, "note"),
        ("say", {"as": "bob", "files": [{"name": "a.txt", "content_b64": "%%%"}]}, "files[0]"),
        ("say", {"as": "bob", "files": "a.txt"}, "files"),
        ("propose_update", {"as": "bob", "price": 90.5}, "price"),
        ("say", {"as": "bob", "text": ""}, "text"),
    ]
    for action, body, field in cases:
        response = post(client, order_id, action, **body)
        assert response.status_code == 422, (action, body, response.get_json())
        assert response.get_json()["error"] == "validation_error", (action, body)
        assert response.get_json()["field"] == field, (action, body)
    assert desk.get(order_id).state == "delivered"
    assert len(desk.history(order_id)) == 3


def test_malformed_requests_are_answered_in_json(client: FlaskClient, order_id: str) -> None:
    """An unknown action is 404, a body that is not a JSON object 400, a GET on an action 405."""
    unknown = post(client, order_id, "teleport", **{"as": "bob"})
    assert unknown.status_code == 404
    assert "accept" in unknown.get_json()["message"]
    text = client.post(f"/api/orders/{order_id}/accept", data="as=bob")
    assert (text.status_code, text.get_json()["field"]) == (400, "body")
    array = client.post(f"/api/orders/{order_id}/accept", json=["bob"])
    assert array.status_code == 400
    assert client.get(f"/api/orders/{order_id}/accept").status_code == 405


def test_error_mapping_covers_every_library_error(web_host: ModuleType) -> None:
    """Conflicts are 409, storage failures 503, refusals 409 with their reason."""
    problem: Callable[[Exception], tuple[int, dict[str, Any]]] = web_host.problem
    assert problem(ConcurrencyConflict("o1", 3))[0] == 409
    assert problem(StorageError("database is locked"))[0] == 503
    status, document = problem(ActionNotAvailable("cancel", "Not yet."))
    assert (status, document["reason"]) == (409, "Not yet.")


def test_cx_agent_sees_the_order_and_reads_the_chat_once_joined(
    client: FlaskClient, desk: OrderDesk, order_id: str
) -> None:
    """Before joining, a CX agent gets the order and ``join`` but no chat; after, the chat."""
    desk.accept(order_id, by="bob")
    desk.dispute(order_id, by="alice", reason="No news from bob.")
    before = client.get(f"/api/orders/{order_id}?as=cx:carol").get_json()
    assert before["chat"] is None
    assert before["viewer"] == {"id": "carol", "role": "cx_agent"}
    join = next(a for a in before["actions"] if a["action"] == "join")
    assert join["available"] is True
    page = client.get(f"/orders/{order_id}?as=cx:carol").get_data(as_text=True)
    assert "Join the conversation to read the chat." in page
    joined = post(client, order_id, "join", **{"as": "cx:carol"})
    assert joined.status_code == 200
    assert [e["kind"] for e in joined.get_json()["chat"]][-1] == "notice"


def test_a_whole_story_through_the_api(
    client: FlaskClient, desk: OrderDesk, order_id: str, clock: ManualClock
) -> None:
    """Accept, chat, deliver a file, revise, deliver outside, dispute, resume, approve."""
    content = b"\x89PNG first draft"

    def step(action: str, who: str, expected: str, **body: Any) -> dict[str, Any]:
        clock.advance(hours=2)
        response = post(client, order_id, action, **{"as": who}, **body)
        assert response.status_code == 200, (action, response.get_json())
        document: dict[str, Any] = response.get_json()
        assert document["order"]["state"] == expected, action
        return document

    step("accept", "bob", "accepted")
    step("say", "alice", "accepted", text="Blue, please <3")
    files = [{"name": "logo.png", "content_b64": base64.b64encode(content).decode()}]
    delivered = step("deliver", "bob", "delivered", files=files, note="Draft 1")
    (attached,) = delivered["order"]["deliveries"][0]["files"]
    assert attached["name"] == "logo.png"
    assert attached["sha256"] == hashlib.sha256(content).hexdigest()
    step("request_revision", "alice", "revision", note="Bluer")
    step("deliver", "bob", "delivered", outside=True)
    step("dispute", "alice", "disputed", reason="This is not blue.")
    step("join", "cx:carol", "disputed")
    resumed = step("resolve", "cx:carol", "delivered", outcome="resume", note="It is blue.")
    assert resumed["order"]["review_due_at"] is not None
    done = step("approve", "alice", "complete")
    kinds = [e["kind"] for e in done["chat"]]
    assert kinds.count("message") == 1
    assert len(kinds) == len(desk.history(order_id)) == 10
    assert done["chat"][2]["text"] == "Blue, please <3"
    page = client.get(f"/orders/{order_id}?as=bob").get_data(as_text=True)
    assert "Blue, please &lt;3" in page
    assert "logo.png" in page
    carol = client.get(f"/api/orders/{order_id}?as=cx:carol").get_json()
    assert len(carol["chat"]) == 10


def test_idempotency_key_and_mark_read(client: FlaskClient, desk: OrderDesk, order_id: str) -> None:
    """A retried POST with the same ``Idempotency-Key`` posts once; ``read`` clears unread."""
    for _ in range(2):
        response = client.post(
            f"/api/orders/{order_id}/say",
            json={"as": "alice", "text": "Are you there?"},
            headers={"Idempotency-Key": "say-1"},
        )
        assert response.status_code == 200
    assert [e.kind for e in desk.chat(order_id, viewer="bob")].count("message") == 1
    assert desk.inbox("bob")[0].unread == 2
    read = client.post(f"/api/orders/{order_id}/read", json={"as": "bob"})
    assert read.status_code == 204
    assert desk.inbox("bob")[0].unread == 0
    assert client.post(f"/api/orders/{order_id}/read", json={"as": "zed"}).status_code == 403


def test_cx_agent_as_actor_matches_the_library(web_host: ModuleType) -> None:
    """``cx:carol`` is ``Actor.cx("carol")``; a plain id stays a plain id."""
    parse: Callable[[object], Actor | str] = web_host.parse_viewer
    assert parse("cx:carol") == Actor.cx("carol")
    assert parse("bob") == "bob"
