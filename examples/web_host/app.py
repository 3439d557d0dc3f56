"""An order page people use, and a JSON API: a small Flask host on an ``OrderDesk``.

Pages (server-rendered HTML, a few lines of JavaScript for the live update):

- ``GET /``: sign in as a user id (``cx:NAME`` for a CX agent). **This stands in for
  authentication**: anyone may be anyone. A real host takes the viewer from its own
  session and asserts CX agents itself (and adds CSRF protection to the forms).
- ``GET /inbox``: the viewer's conversations, newest first, with unread counts and
  "your move"; a form to place an order, and one to open an order by id.
- ``GET /orders/<id>``: the order page. The chat with the automated notices set apart,
  the chatbot's next step, a button for each action of the viewer's role (the unavailable
  ones disabled, with the reason), a form for each action's arguments and a message box.
  It polls ``GET /orders/<id>/live?version=N`` every two seconds and redraws itself when
  the order has moved on (when the other party acted).
- ``POST /orders/<id>/actions/<action>``: any action, from its form. The command is built
  from the form by :mod:`.forms`, which reads the command class's fields; there is no list
  of actions in this app. Errors are shown on the page: ``ValidationError`` 422,
  ``ActionNotAvailable`` 409 (with the reason), ``NotAParticipant`` 403.

JSON API (``as`` names the viewer, in the query string or the body):

- ``GET /api/orders/<id>?as=<user>``: ``{"order", "viewer", "actions", "next_step",
  "chat"}``, in the CLI's ``--json`` shapes.
- ``POST /api/orders/<id>/<action>`` with a JSON body ``{"as": "<user>", ...fields}``:
  run an action; answers the view after it. An ``Idempotency-Key`` header makes a retried
  request safe.
- ``POST /api/orders/<id>/read`` with ``{"as": "<user>"}``: ``mark_read`` (204).

Library errors map to HTTP statuses: ``ValidationError`` 422, ``ActionNotAvailable``
409, ``NotAParticipant`` 403, ``OrderNotFound`` 404, ``ConcurrencyConflict`` 409,
``StorageError`` 503, each with the library's JSON of it (``jsonview.error_json``:
``{"error": kind, "message": ..., "field" | "action" | "order_id": ...}``). A missing or
malformed ``as`` is 400 ``{"error": "malformed_request", "field": "as", ...}``. Every
text is HTML-escaped by Jinja's autoescape.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, Final

import pendulum
from flask import Flask, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from order_lifecycle import (
    ActionNotAvailable,
    Actor,
    BuyerRequest,
    ConcurrencyConflict,
    Listing,
    Money,
    NotAParticipant,
    OrderDesk,
    OrderLifecycleError,
    OrderNotFound,
    Role,
    StorageError,
    ValidationError,
    core,
)
from order_lifecycle.jsonview import entry_json, error_json, option_json, order_json
from order_lifecycle.views import OrderView

from . import forms

__all__ = [
    "MalformedRequest",
    "create_app",
    "parse_viewer",
    "problem",
    "snapshot",
    "view_json",
]

#: Who acts or views: what ``desk`` methods take as ``by=`` / ``viewer=``.
Viewer = Actor | str

# An id as the library takes it: 1 to 200 characters, no spaces or control characters.
_ID: Final = re.compile(r"[^\s\x00-\x1f\x7f]{1,200}")
_CX_PREFIX: Final = "cx:"
#: The cookie that holds who signed in (the example's stand-in for a session).
COOKIE: Final = "viewer"
# A request body holds at most the files of one message or delivery.
MAX_BODY_BYTES: Final = 16 * 1024 * 1024
#: How often the order page asks whether the order moved on, in milliseconds.
POLL_MS: Final = 2000


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


#: The HTTP status of each library error.
STATUS: Final[dict[type[OrderLifecycleError], int]] = {
    ValidationError: 422,
    ActionNotAvailable: 409,
    ConcurrencyConflict: 409,
    NotAParticipant: 403,
    OrderNotFound: 404,
    StorageError: 503,
}


def problem(error: Exception) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON document for an error of the library or of the request."""
    match error:
        case MalformedRequest():
            return 400, {
                "error": "malformed_request",
                "field": error.field,
                "message": error.message,
            }
        case OrderLifecycleError():  # the library's own JSON of its errors (as the CLI's)
            return STATUS.get(type(error), 500), error_json(error)
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


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise MalformedRequest("body", "send a JSON object with Content-Type: application/json")
    return body


def _whole(field: str, text: str) -> int:
    if not text.strip().isdigit():
        raise ValidationError(field, "must be a whole number")
    return int(text)


def _page_context(seen: OrderView, tz: str) -> dict[str, Any]:
    """What the order page and its live fragments show, from one view of the order."""
    order = seen.order
    role = seen.viewer.role
    mine = set(forms.person_actions(role))
    options = [o for o in seen.actions if o.action in mine]
    say = next((o for o in options if o.action.value == "say"), None)
    actions = [
        (option, forms.inputs(forms_type), forms.describe(forms_type))
        for option in options
        if option.action.value != "say"
        and (forms_type := forms.command_type(option.action.value)) is not None
    ]
    return {
        "order": order,
        "viewer": seen.viewer,
        "viewer_text": str(seen.viewer) if role is Role.cx_agent else seen.viewer.id,
        "role": role.value.replace("_", " "),
        "state": order.state.value,
        "due_at": _when(order.contract.due_at, tz),
        "review_due_at": _when(order.review_due_at, tz),
        "proposal": order.proposal,
        "proposal_due": _when(order.proposal.due_at if order.proposal else None, tz),
        "next_step": seen.next_step,
        "chat": None if seen.chat is None else [(item, _when(item.at, tz)) for item in seen.chat],
        "available": [a for a in actions if a[0].available],
        "unavailable": [a for a in actions if not a[0].available],
        "say": say,
        "tz": tz,
    }


def _tz() -> str:
    return request.args.get("tz", "UTC")


def _page_viewer() -> Viewer | None:
    """Who is looking at a page: ``?as=`` if given, else who signed in (or no one)."""
    text = request.args.get("as") or request.cookies.get(COOKIE)
    return None if text is None else parse_viewer(text)


def _sign_in_first() -> ResponseReturnValue:
    return redirect(f"/?next={request.path}", 303)


def _error_page(status: int, document: dict[str, Any]) -> ResponseReturnValue:
    if request.path.startswith("/api/") or request.path.endswith("/live"):
        return jsonify(document), status
    html = render_template("error.html", status=status, message=document.get("message", ""))
    return html, status


def _order_page(
    desk: OrderDesk,
    order_id: str,
    viewer: Viewer,
    *,
    error: dict[str, Any] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The order page; reading it marks the chat read."""
    zone = _tz()
    seen = snapshot(desk, order_id, viewer, tz=zone)
    if seen.chat is not None:
        desk.mark_read(order_id, by=seen.viewer)
    context = _page_context(seen, zone)
    return render_template("order.html", error=error, poll_ms=POLL_MS, **context), status


def _inbox_page(
    desk: OrderDesk, viewer: Viewer, *, error: dict[str, Any] | None = None, status: int = 200
) -> ResponseReturnValue:
    zone = _tz()
    user = viewer.id if isinstance(viewer, Actor) else viewer
    rows = [(c, _when(c.last.at if c.last else None, zone)) for c in desk.inbox(user, tz=zone)]
    html = render_template(
        "inbox.html",
        viewer_text=str(viewer),
        is_cx=isinstance(viewer, Actor),
        conversations=rows,
        error=error,
        form=request.form if error else {},
    )
    return html, status


def _place(desk: OrderDesk, viewer: Viewer) -> ResponseReturnValue:
    """Place an order from the inbox's form, the viewer buying."""
    form = request.form
    try:
        if isinstance(viewer, Actor):
            raise ValidationError("buyer", "a CX agent does not buy; sign in as a user")
        question = form.get("request", "").strip()
        listing = Listing(
            form.get("title", ""),
            Money(form.get("price", "").strip(), form.get("currency", "USD")),
            pendulum.duration(days=_whole("delivery_days", form.get("delivery_days", ""))),
            _whole("revisions", form.get("revisions", "")),
            requests=(BuyerRequest(question, required=True),) if question else (),
        )
        order = desk.place(
            buyer=viewer,
            seller=form.get("seller", "").strip(),
            listing=listing,
            answers={question: form.get("answer", "")} if question else {},
            idempotency_key=form.get("idempotency_key") or None,
        )
    except ValidationError as error:
        status, document = problem(error)
        return _inbox_page(desk, viewer, error=document, status=status)
    return redirect(f"/orders/{order.id}", 303)


def create_app(desk: OrderDesk) -> Flask:
    """A Flask application serving the order pages and the JSON API from ``desk``.

    The desk is shared by every request (its stores are thread-safe); the host owns it
    and closes it. Timers and notifications are not the web app's job: a worker runs
    ``desk.tick()`` and ``desk.relay()`` beside it (``examples/sqlite_timer_worker.py``).
    """
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    # A fresh idempotency key per form: a form sent twice (a double click) acts once.
    app.jinja_env.globals.update(token=lambda: secrets.token_hex(16), label=forms.label)
    _add_pages(app, desk)
    _add_api(app, desk)
    _add_error_handlers(app)
    return app


def _add_pages(app: Flask, desk: OrderDesk) -> None:
    """The sign-in page, the inbox and the order page, with their forms."""

    @app.get("/")
    def sign_in_page() -> ResponseReturnValue:
        return render_template("signin.html", next=request.args.get("next", "/inbox"))

    @app.post("/signin")
    def sign_in() -> ResponseReturnValue:
        text = request.form.get("user", "").strip()
        target = request.form.get("next", "/inbox")
        if not target.startswith("/") or target.startswith("//"):
            target = "/inbox"
        try:
            parse_viewer(text)
        except MalformedRequest as error:
            page = render_template("signin.html", next=target, error=error.message, user=text)
            return page, 400
        response = redirect(target, 303)
        response.set_cookie(COOKIE, text, httponly=True, samesite="Lax")
        return response

    @app.post("/signout")
    def sign_out() -> ResponseReturnValue:
        response = redirect("/", 303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/inbox")
    def inbox() -> ResponseReturnValue:
        viewer = _page_viewer()
        return _sign_in_first() if viewer is None else _inbox_page(desk, viewer)

    @app.get("/open")
    def open_order() -> ResponseReturnValue:
        order_id = request.args.get("id", "").strip()
        return redirect(f"/orders/{order_id}" if order_id else "/inbox", 303)

    @app.post("/orders")
    def place() -> ResponseReturnValue:
        viewer = _page_viewer()
        return _sign_in_first() if viewer is None else _place(desk, viewer)

    @app.get("/orders/<order_id>")
    def page(order_id: str) -> ResponseReturnValue:
        viewer = _page_viewer()
        return _sign_in_first() if viewer is None else _order_page(desk, order_id, viewer)

    @app.get("/orders/<order_id>/live")
    def live(order_id: str) -> ResponseReturnValue:
        """The order's version; with the page's fragments when it differs from ``version``."""
        viewer = _page_viewer()
        if viewer is None:
            raise MalformedRequest("as", "sign in first")
        order = desk.get(order_id)
        # Who may not see the order learns nothing of it, its version neither.
        core.options(order, actor=viewer, now=desk.clock.now(), policy=desk.policy)
        if request.args.get("version") == str(order.version):
            return jsonify({"version": order.version})
        zone = _tz()
        seen = snapshot(desk, order_id, viewer, tz=zone)
        if seen.chat is not None:
            desk.mark_read(order_id, by=seen.viewer)
        context = _page_context(seen, zone)
        return jsonify(
            {
                "version": seen.order.version,
                "status": render_template("_status.html", **context),
                "actions": render_template("_actions.html", **context),
                "message": render_template("_message.html", **context),
            }
        )

    @app.post("/orders/<order_id>/actions/<action>")
    def act_from_form(order_id: str, action: str) -> ResponseReturnValue:
        viewer = _page_viewer()
        if viewer is None:
            return _sign_in_first()
        command_type = forms.command_type(action)
        if command_type is None:
            return _error_page(404, {"message": f"{action!r} is not an action a person takes."})
        uploads = [
            (upload.filename, upload.read())
            for upload in request.files.getlist("files")
            if upload.filename
        ]
        try:
            command = forms.command_from_form(command_type, request.form, uploads, tz=_tz())
            key = request.form.get("idempotency_key") or None
            desk.execute(order_id, command, by=viewer, idempotency_key=key)
        except (ValidationError, ActionNotAvailable, ConcurrencyConflict) as error:
            status, document = problem(error)
            document["action"] = action
            return _order_page(desk, order_id, viewer, error=document, status=status)
        return redirect(f"/orders/{order_id}", 303)


def _add_api(app: Flask, desk: OrderDesk) -> None:
    """The JSON API: the view of an order, any action, mark read."""

    @app.get("/api/orders/<order_id>")
    def get_order(order_id: str) -> ResponseReturnValue:
        viewer = parse_viewer(request.args.get("as"))
        return jsonify(view_json(snapshot(desk, order_id, viewer, tz=_tz())))

    @app.post("/api/orders/<order_id>/read")
    def mark_read(order_id: str) -> ResponseReturnValue:
        viewer = parse_viewer(_body().get("as"))
        desk.mark_read(order_id, by=viewer)
        return "", 204

    @app.post("/api/orders/<order_id>/<action>")
    def act(order_id: str, action: str) -> ResponseReturnValue:
        command_type = forms.command_type(action)
        if command_type is None:
            message = f"{action!r} is not one of: {', '.join(forms.routed())}."
            return jsonify({"error": "unknown_action", "message": message}), 404
        body = _body()
        viewer = parse_viewer(body.pop("as", None))
        command = forms.command_from_json(command_type, body)
        key = request.headers.get("Idempotency-Key")
        desk.execute(order_id, command, by=viewer, idempotency_key=key)
        return jsonify(view_json(snapshot(desk, order_id, viewer, tz=_tz())))


def _add_error_handlers(app: Flask) -> None:
    """Library errors as HTTP statuses: JSON under ``/api/``, a page elsewhere."""

    @app.errorhandler(OrderLifecycleError)
    def library_error(error: OrderLifecycleError) -> ResponseReturnValue:
        return _error_page(*problem(error))

    @app.errorhandler(MalformedRequest)
    def bad_request(error: MalformedRequest) -> ResponseReturnValue:
        return _error_page(*problem(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        if not request.path.startswith("/api/"):
            return error
        name = (error.name or "error").lower().replace(" ", "_")
        return jsonify({"error": name, "message": error.description}), error.code or 500
