"""One order's conversation over HTTP: a small Flask host on an ``OrderDesk``.

Routes:

- ``GET /orders/<id>?as=<user>``: the conversation page (title, state, the chat with the
  automated notices set apart, the viewer's actions with the reasons for the unavailable
  ones, the chatbot's next step). Every text is HTML-escaped by Jinja's autoescape.
- ``GET /api/orders/<id>?as=<user>``: the same as JSON,
  ``{"order": ..., "viewer": ..., "actions": [...], "next_step": "...", "chat": [...]}``,
  with the order and chat entries in the CLI's ``--json`` shapes.
- ``POST /api/orders/<id>/<action>`` with a JSON body ``{"as": "<user>", ...arguments}``:
  run an order action; answers the JSON view of the order after it. An
  ``Idempotency-Key`` header makes a retried request safe.
- ``POST /api/orders/<id>/read`` with ``{"as": "<user>"}``: ``mark_read`` (204).

``tz`` (query string) shows times in the viewer's zone. ``as`` is ``USER`` (the order's
buyer or seller) or ``cx:USER`` (a CX agent). **It stands in for authentication**: a real
host takes the viewer from its session, never from the request, and asserts CX agents
itself.

Library errors map to HTTP statuses: ``ValidationError`` 422 ``{"error": field,
"message": ...}``, ``ActionNotAvailable`` 409 (with the reason sentence),
``NotAParticipant`` 403, ``OrderNotFound`` 404, ``ConcurrencyConflict`` 409,
``StorageError`` 503. A missing or malformed ``as`` is 400.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import pendulum
from flask import Flask, jsonify, render_template_string, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from order_lifecycle import (
    ActionNotAvailable,
    Actor,
    ConcurrencyConflict,
    NotAParticipant,
    Order,
    OrderDesk,
    OrderLifecycleError,
    OrderNotFound,
    StorageError,
    ValidationError,
)
from order_lifecycle.jsonview import entry_json, option_json, order_json
from order_lifecycle.views import OrderView

__all__ = [
    "ACTIONS",
    "MalformedRequest",
    "create_app",
    "parse_viewer",
    "problem",
    "snapshot",
    "view_json",
]

#: Who acts or views: what ``desk`` methods take as ``by=`` / ``viewer=``.
Viewer = Actor | str
#: ``handler(desk, order_id, by, arguments, idempotency_key)`` runs one action.
Handler = Callable[[OrderDesk, str, Viewer, "Arguments", str | None], Order]

# An id as the library takes it: 1 to 200 characters, no spaces or control characters.
_ID: Final = re.compile(r"[^\s\x00-\x1f\x7f]{1,200}")
_CX_PREFIX: Final = "cx:"
# A request body holds at most the files of one message or delivery, base64-encoded.
MAX_BODY_BYTES: Final = 16 * 1024 * 1024


class MalformedRequest(Exception):
    """The request itself is malformed (no viewer, a body that is not a JSON object): 400."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def parse_viewer(text: object) -> Viewer:
    """``USER`` (the buyer or seller, resolved against the order) or ``cx:USER`` (a CX agent)."""
    if not isinstance(text, str) or not text:
        raise MalformedRequest("as", "name who is asking: as=USER, or as=cx:USER for a CX agent")
    if not _ID.fullmatch(text) or text == _CX_PREFIX:
        raise MalformedRequest("as", "must be a user id without spaces, or cx: and a user id")
    if text.startswith(_CX_PREFIX):
        return Actor.cx(text[len(_CX_PREFIX) :])
    return text


class Arguments:
    """The JSON body's arguments of one action, read with the types the desk expects."""

    def __init__(self, body: Mapping[str, object]) -> None:
        self._body = body

    def text(self, key: str, *, default: str | None = None) -> str:
        """A string argument; required when there is no ``default``."""
        value = self._body.get(key, default)
        if value is None:
            raise ValidationError(key, "is required")
        if not isinstance(value, str):
            raise ValidationError(key, "must be a string")
        return value

    def flag(self, key: str) -> bool:
        """A ``true``/``false`` argument, ``false`` when absent."""
        value = self._body.get(key, False)
        if not isinstance(value, bool):
            raise ValidationError(key, "must be true or false")
        return value

    def count(self, key: str) -> int | None:
        """A whole number argument, or ``None`` when absent."""
        value = self._body.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(key, "must be a whole number")
        return value

    def optional_text(self, key: str) -> str | None:
        """A string argument, or ``None`` when absent."""
        return None if self._body.get(key) is None else self.text(key)

    def files(self, key: str = "files") -> list[tuple[str, bytes]]:
        """``[{"name": ..., "content_b64": ...}]`` as ``(name, bytes)`` pairs."""
        value = self._body.get(key, [])
        if not isinstance(value, list):
            raise ValidationError(key, 'must be a list of {"name": ..., "content_b64": ...}')
        result: list[tuple[str, bytes]] = []
        for index, item in enumerate(value):
            if not (
                isinstance(item, dict)
                and isinstance(item.get("name"), str)
                and isinstance(item.get("content_b64"), str)
                and set(item) == {"name", "content_b64"}
            ):
                raise ValidationError(
                    f"{key}[{index}]", 'must be {"name": "...", "content_b64": "..."}'
                )
            try:
                content = base64.b64decode(item["content_b64"], validate=True)
            except (binascii.Error, ValueError):
                raise ValidationError(f"{key}[{index}]", "content_b64 is not base64") from None
            result.append((item["name"], content))
        return result


#: Every action the API runs: the arguments it takes, and how it calls the desk.
ACTIONS: Final[dict[str, tuple[frozenset[str], Handler]]] = {
    "accept": (frozenset(), lambda d, i, by, a, k: d.accept(i, by=by, idempotency_key=k)),
    "decline": (
        frozenset({"reason"}),
        lambda d, i, by, a, k: d.decline(
            i, by=by, reason=a.text("reason", default=""), idempotency_key=k
        ),
    ),
    "withdraw": (
        frozenset({"reason"}),
        lambda d, i, by, a, k: d.withdraw(
            i, by=by, reason=a.text("reason", default=""), idempotency_key=k
        ),
    ),
    "deliver": (
        frozenset({"files", "outside", "note"}),
        lambda d, i, by, a, k: d.deliver(
            i,
            by=by,
            files=a.files(),
            outside=a.flag("outside"),
            note=a.text("note", default=""),
            idempotency_key=k,
        ),
    ),
    "approve": (frozenset(), lambda d, i, by, a, k: d.approve(i, by=by, idempotency_key=k)),
    "request_revision": (
        frozenset({"note"}),
        lambda d, i, by, a, k: d.request_revision(i, by=by, note=a.text("note"), idempotency_key=k),
    ),
    "propose_update": (
        # ``price`` is a decimal string ("120.00"): a JSON number would be a float.
        frozenset({"price", "due_at", "revisions"}),
        lambda d, i, by, a, k: d.propose_update(
            i,
            by=by,
            price=a.optional_text("price"),
            due_at=a.optional_text("due_at"),
            revisions=a.count("revisions"),
            idempotency_key=k,
        ),
    ),
    "accept_update": (
        frozenset(),
        lambda d, i, by, a, k: d.accept_update(i, by=by, idempotency_key=k),
    ),
    "reject_update": (
        frozenset(),
        lambda d, i, by, a, k: d.reject_update(i, by=by, idempotency_key=k),
    ),
    "withdraw_update": (
        frozenset(),
        lambda d, i, by, a, k: d.withdraw_update(i, by=by, idempotency_key=k),
    ),
    "dispute": (
        frozenset({"reason"}),
        lambda d, i, by, a, k: d.dispute(i, by=by, reason=a.text("reason"), idempotency_key=k),
    ),
    "join": (frozenset(), lambda d, i, by, a, k: d.join(i, by=by, idempotency_key=k)),
    "resolve": (
        frozenset({"outcome", "note"}),
        lambda d, i, by, a, k: d.resolve(
            i, by=by, outcome=a.text("outcome"), note=a.text("note"), idempotency_key=k
        ),
    ),
    "cancel": (
        frozenset({"reason"}),
        lambda d, i, by, a, k: d.cancel(i, by=by, reason=a.text("reason"), idempotency_key=k),
    ),
    "say": (
        frozenset({"text", "files"}),
        lambda d, i, by, a, k: d.say(
            i, by=by, text=a.text("text", default=""), files=a.files(), idempotency_key=k
        ),
    ),
}


def problem(error: Exception) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON document for an error of the library or of the request."""
    match error:
        case MalformedRequest():
            return 400, {"error": error.field, "message": error.message}
        case ValidationError():
            return 422, {"error": error.field, "message": error.message}
        case ActionNotAvailable():
            return 409, {
                "error": "action_not_available",
                "action": str(error.action),
                "reason": error.reason,
                "message": error.reason,
            }
        case NotAParticipant():
            return 403, {"error": "not_a_participant", "message": str(error)}
        case OrderNotFound():
            return 404, {"error": "order_not_found", "message": str(error)}
        case ConcurrencyConflict():
            return 409, {"error": "concurrency_conflict", "message": str(error)}
        case StorageError():
            return 503, {"error": "storage_unavailable", "message": str(error)}
        case _:
            return 500, {"error": "internal_error", "message": "Something went wrong."}


def snapshot(desk: OrderDesk, order_id: str, viewer: Viewer, *, tz: str = "UTC") -> OrderView:
    """The order, the viewer's actions, the chatbot's next step and the chat, from one read.

    A CX agent who has not joined the conversation yet may see the order and join it,
    but reads its chat only after joining: their ``chat`` is ``None``.
    """
    return desk.view(order_id, viewer=viewer, tz=tz)


def view_json(seen: OrderView) -> dict[str, Any]:
    """The JSON document of a view, in the library's JSON shapes (as the CLI prints them)."""
    viewer = seen.viewer
    return {
        "order": order_json(seen.order),
        "viewer": {"id": viewer.id, "role": viewer.role.value},
        "actions": [option_json(option) for option in seen.actions],
        "next_step": seen.next_step,
        "chat": None if seen.chat is None else [entry_json(item) for item in seen.chat],
    }


def _when(instant: pendulum.DateTime | None, tz: str) -> str | None:
    return None if instant is None else instant.in_timezone(tz).format("ddd D MMM HH:mm zz")


PAGE: Final = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ order.listing.title }} · {{ order.id }}</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; }
  .state { padding: .1rem .5rem; border-radius: 1rem; background: #e8eefc; }
  ol.chat { list-style: none; padding: 0; }
  .chat li { margin: .5rem 0; }
  .message { padding: .4rem .7rem; border-radius: .5rem; background: #f3f3f3; }
  .message .author { font-weight: 600; }
  .notice { color: #555; font-style: italic; text-align: center; font-size: .9em;
            border-top: 1px dashed #ccc; border-bottom: 1px dashed #ccc; padding: .3rem; }
  .next-step { border-left: 4px solid #3a6ff7; padding: .3rem .8rem; background: #f5f8ff; }
  .unavailable { color: #777; }
  time { color: #888; font-size: .85em; }
</style>
</head>
<body>
<h1>{{ order.listing.title }}</h1>
<p>Order <code>{{ order.id }}</code> · <span class="state">{{ state }}</span>
 · {{ order.contract.price }} · you are {{ viewer }} ({{ role or "not a party" }})</p>
<p>Buyer {{ order.buyer }} · seller {{ order.seller }} · revisions
 {{ order.revisions_used }} of {{ order.contract.revisions }} used
 {%- if due_at %} · delivery due {{ due_at }}{% endif %}
 {%- if review_due_at %} · review until {{ review_due_at }}{% endif %}</p>

<section class="next-step"><h2>Next step</h2><p>{{ next_step }}</p></section>

<section><h2>Chat</h2>
{% if chat is none %}
<p class="notice">Join the conversation to read the chat.</p>
{% else %}
<ol class="chat">
{% for item, when in chat %}
  {% if item.kind == "notice" %}
  <li class="notice"><time>{{ when }}</time> {{ item.text }}</li>
  {% else %}
  <li class="message"><span class="author">{{ item.author }}</span>
    <time>{{ when }}</time><br>{{ item.text }}
    {% for file in item.files %}<br>📎 {{ file.name }} ({{ file.size }} bytes){% endfor %}</li>
  {% endif %}
{% endfor %}
</ol>
{% endif %}
</section>

<section><h2>Your actions</h2>
<ul class="actions">
{% for option in actions if option.available %}
  <li class="available"><code>{{ option.action.value }}</code>
   — <code>POST /api/orders/{{ order.id }}/{{ option.action.value }}</code></li>
{% endfor %}
{% for option in actions if not option.available %}
  <li class="unavailable"><code>{{ option.action.value }}</code>: {{ option.reason }}</li>
{% endfor %}
</ul>
</section>
</body>
</html>
"""


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise MalformedRequest("body", "send a JSON object with Content-Type: application/json")
    return body


def create_app(desk: OrderDesk) -> Flask:
    """A Flask application serving one order's conversation from ``desk`` at a time.

    The desk is shared by every request (its stores are thread-safe); the host owns it
    and closes it. Timers and notifications are not the web app's job: a worker runs
    ``desk.tick()`` and ``desk.relay()`` beside it (``examples/sqlite_timer_worker.py``).
    """
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    def tz() -> str:
        return request.args.get("tz", "UTC")

    @app.get("/orders/<order_id>")
    def page(order_id: str) -> ResponseReturnValue:
        viewer = parse_viewer(request.args.get("as"))
        zone = tz()
        seen = snapshot(desk, order_id, viewer, tz=zone)
        order = seen.order
        return render_template_string(
            PAGE,
            order=order,
            state=order.state.value,
            viewer=seen.viewer.id,
            role=seen.viewer.role.value,
            due_at=_when(order.contract.due_at, zone),
            review_due_at=_when(order.review_due_at, zone),
            # Only the actions this host routes: the system's own (expire...) are not offered.
            actions=[option for option in seen.actions if option.action.value in ACTIONS],
            next_step=seen.next_step,
            chat=None
            if seen.chat is None
            else [(item, _when(item.at, zone)) for item in seen.chat],
        )

    @app.get("/api/orders/<order_id>")
    def get_order(order_id: str) -> ResponseReturnValue:
        viewer = parse_viewer(request.args.get("as"))
        return jsonify(view_json(snapshot(desk, order_id, viewer, tz=tz())))

    @app.post("/api/orders/<order_id>/read")
    def mark_read(order_id: str) -> ResponseReturnValue:
        viewer = parse_viewer(_body().get("as"))
        desk.mark_read(order_id, by=viewer)
        return "", 204

    @app.post("/api/orders/<order_id>/<action>")
    def act(order_id: str, action: str) -> ResponseReturnValue:
        if action not in ACTIONS:
            known = ", ".join(sorted(ACTIONS))
            return jsonify(
                {"error": "unknown_action", "message": f"{action!r} is not one of: {known}."}
            ), 404
        body = _body()
        viewer = parse_viewer(body.get("as"))
        allowed, handler = ACTIONS[action]
        unknown = sorted(set(body) - allowed - {"as"})
        if unknown:
            raise ValidationError(unknown[0], f"is not an argument of {action}")
        key = request.headers.get("Idempotency-Key")
        handler(desk, order_id, viewer, Arguments(body), key)
        return jsonify(view_json(snapshot(desk, order_id, viewer, tz=tz())))

    def error_page(status: int, document: dict[str, Any]) -> ResponseReturnValue:
        if request.path.startswith("/api/"):
            return jsonify(document), status
        html = render_template_string(
            "<!doctype html><title>{{ status }}</title><h1>{{ status }}</h1><p>{{ message }}</p>",
            status=status,
            message=document.get("message", ""),
        )
        return html, status

    @app.errorhandler(OrderLifecycleError)
    def library_error(error: OrderLifecycleError) -> ResponseReturnValue:
        return error_page(*problem(error))

    @app.errorhandler(MalformedRequest)
    def bad_request(error: MalformedRequest) -> ResponseReturnValue:
        return error_page(*problem(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        if not request.path.startswith("/api/"):
            return error
        name = (error.name or "error").lower().replace(" ", "_")
        return jsonify({"error": name, "message": error.description}), error.code or 500

    return app
