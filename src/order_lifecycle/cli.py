"""The ``order-lifecycle`` command line: thin over :class:`~order_lifecycle.desk.OrderDesk`.

Exit codes: 0 success; 2 usage error (malformed options included); 3 action not
available, not a participant, or invalid input; 4 not found; 1 anything else. Errors go
to stderr as one sentence. ``--json`` prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import decimal
import json
import os
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final, NoReturn

from order_lifecycle.console import Out, print_chat
from order_lifecycle.jsonview import (
    conversation_json,
    entry_json,
    event_json,
    feed_item_json,
    option_json,
)

__all__ = ["main"]

DEFAULT_DB: Final = "sqlite:///orders.sqlite3"


class UsageError(Exception):
    """A malformed command line: exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


# -- option values -------------------------------------------------------------------


def _instant(text: str) -> Any:
    from order_lifecycle.core.values import to_instant
    from order_lifecycle.errors import ValidationError

    try:
        return to_instant(text, "--now")
    except ValidationError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 instant with a UTC offset "
            "(e.g. 2026-12-01T10:00:00+00:00)"
        ) from error


def _decimal(text: str) -> decimal.Decimal:
    try:
        value = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal amount") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite amount")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 1,000,000")
    return value


def _bounded(kind: Callable[[str], Any], low: Any, high: Any, what: str) -> Callable[[str], Any]:
    """An option value of ``kind`` between ``low`` and ``high``."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} must be between {low:,} and {high:,}")
        return value

    return parse


class _Request(argparse.Action):
    """``--request`` / ``--required-request``: kept in command-line order, with the flag."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        asked = list(getattr(namespace, "requests", None) or [])
        asked.append((str(values), option_string == "--required-request"))
        namespace.requests = asked


# -- the parser ----------------------------------------------------------------------


# -- the order actions, generated from the table ---------------------------------------

#: Older verbs of the CLI, kept as aliases of the actions' own names.
ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "request_revision": ("revise",),
    "propose_update": ("propose",),
    "withdraw_update": ("unpropose",),
}
#: Where an option is not named after its command field.
_FLAGS: Final[Mapping[tuple[str, str], str]] = {("propose_update", "due_at"): "--due"}
#: Fields given as a positional argument (after the options) rather than an option.
_POSITIONAL: Final = frozenset({("say", "text")})


def _action_commands(
    with_id: Callable[..., argparse.ArgumentParser],
) -> None:
    """One subcommand per action a person takes (a row of the table with a command and a
    buyer, seller or CX role), named after the action, with an option per command field."""
    import typing

    import attrs

    from order_lifecycle.core.model import Role
    from order_lifecycle.core.table import RULES

    for rule in RULES:
        if rule.command is None or not rule.roles - {Role.system}:
            continue
        action = rule.action.value
        doc = _summary(rule.command.__doc__ or action)
        made = with_id(
            action.replace("_", "-"),
            doc,
            aliases=ALIASES.get(action, ()),
        )
        made.set_defaults(handler=_act, action=action)
        hints = typing.get_type_hints(rule.command)
        fields = attrs.fields(rule.command)
        if rule.command.carries_files and bool in hints.values():
            # Files, or a flag that says the content is elsewhere (``deliver``): one is needed.
            target: Any = made.add_mutually_exclusive_group(required=True)
        else:
            target = made
        for field in fields:
            _field_option(made, target, action=action, field=field, hint=hints[field.name])


def _field_option(
    made: argparse.ArgumentParser, files_or_flag: Any, *, action: str, field: Any, hint: object
) -> None:
    """The option (or positional argument) of one command field, typed by its annotation."""
    import typing

    import attrs
    import pendulum

    from order_lifecycle.core.model import Money, Outcome

    name = field.name
    required = field.default is attrs.NOTHING
    flag = _FLAGS.get((action, name), "--" + name.replace("_", "-"))
    args = set(typing.get_args(hint)) or {hint}
    if (action, name) in _POSITIONAL:
        made.add_argument(
            name,
            nargs="?",
            default="",
            metavar=name.upper(),
            help="the message; put -- before it if it starts with a dash",
        )
    elif name == "files":
        files_or_flag.add_argument(
            "--file", action="append", type=Path, metavar="PATH", dest="files"
        )
    elif hint is bool:
        files_or_flag.add_argument(flag, action="store_true", dest=name)
    elif Outcome in args:
        choices = [o.value for o in Outcome]
        made.add_argument(flag, dest=name, required=required, choices=choices)
    elif Money in args:
        made.add_argument(flag, dest=name, type=_decimal, metavar="AMOUNT")
    elif pendulum.DateTime in args:
        group = made.add_mutually_exclusive_group()
        group.add_argument(flag, dest=name, type=_instant, metavar="ISO")
        if (action, name) == ("propose_update", "due_at"):  # or relative to the due date
            group.add_argument("--extend-days", type=_count, metavar="N")
    elif int in args:
        made.add_argument(flag, dest=name, type=_count, required=required)
    else:
        made.add_argument(flag, dest=name, required=required, default=None if required else "")


def _global_options(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    """``--db``, ``--now`` and ``--json``, taken before the command and after it. After it
    they default to nothing (``SUPPRESS``), so that a value given only before the command
    is kept, and one given after it wins; their help there is one line each."""
    if after_command:
        group = parser.add_argument_group("global options (also before the command)")
        db: Any = argparse.SUPPRESS
        now: Any = argparse.SUPPRESS
        as_json: Any = argparse.SUPPRESS
        db_help = "storage URL"
    else:
        group = parser.add_argument_group(
            "global options",
            "before or after the command; given in both places, the one after it wins",
        )
        db, now, as_json = None, None, False
        db_help = f"storage URL (default: $ORDER_LIFECYCLE_DB, else {DEFAULT_DB})"
    group.add_argument("--db", default=db, metavar="URL", help=db_help)
    group.add_argument(
        "--now",
        type=_instant,
        default=now,
        metavar="ISO",
        help="act at this ISO 8601 instant (with offset)",
    )
    group.add_argument(
        "--json", action="store_true", default=as_json, help="print one JSON document on stdout"
    )


def build_parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - one statement per option
    """The full command-line parser (also what the CLI reference is checked against)."""
    parser = _Parser(
        prog="order-lifecycle",
        description="Run service orders through their lifecycle from the command line.",
    )
    _global_options(parser, after_command=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(
        name: str, help_text: str, *, who: bool = False, aliases: Sequence[str] = ()
    ) -> argparse.ArgumentParser:
        made = sub.add_parser(name, help=help_text, description=help_text, aliases=aliases)
        made.set_defaults(handler=HANDLERS.get(name))
        if who:
            made.add_argument(
                "--as",
                dest="actor",
                required=True,
                metavar="USER",
                type=_who,
                help="USER or cx:USER",
            )
        return made

    def with_id(
        name: str, help_text: str, *, who: bool = True, aliases: Sequence[str] = ()
    ) -> argparse.ArgumentParser:
        made = command(name, help_text, who=who, aliases=aliases)
        made.add_argument("id", metavar="ID", help="the order id")
        return made

    demo = command("demo", "play the seed stories on a fresh database, with time travel")
    demo.add_argument("--tz", default="UTC", type=_zone, help="show times in this zone")

    place = command("place", "a buyer buys a listing: prints the new order (id first)")
    place.add_argument("--buyer", required=True)
    place.add_argument("--seller", required=True)
    place.add_argument("--title", required=True)
    place.add_argument("--price", required=True, type=_decimal)
    place.add_argument("--currency", default="USD")
    place.add_argument("--delivery-days", required=True, type=_count)
    place.add_argument("--revisions", required=True, type=_count)
    place.add_argument("--request", action=_Request, metavar="Q", help="an optional question")
    place.add_argument("--required-request", action=_Request, metavar="Q", help="a required one")
    place.add_argument(
        "--answer", action="append", default=[], metavar="A", help="answers, in question order"
    )

    _action_commands(with_id)
    respond = with_id("respond", "accept or reject the open contract update")
    respond.add_argument("answer", choices=["accept", "reject"])
    respond.set_defaults(handler=_respond)

    with_id("show", "show the order", who=False)
    actions = with_id("actions", "what you may do now, and why not")
    actions.add_argument("--tz", default="UTC", type=_zone)
    nxt = with_id("next", "the chatbot's next step for you")
    nxt.add_argument("--tz", default="UTC", type=_zone)
    chat = with_id("chat", "the order chat, ending with your next step")
    chat.add_argument("--tz", default="UTC", type=_zone)
    chat.add_argument("--since", type=_count, default=None)
    inbox = command("inbox", "your conversations, newest first", who=True)
    inbox.add_argument("--tz", default="UTC", type=_zone)
    with_id("history", "the order's events, oldest first", who=False)
    feed = command("feed", "every event of every order after a position, in commit order")
    feed.add_argument(
        "--after",
        type=_bounded(int, 0, 2**63 - 1, "a whole number"),
        default=0,
        metavar="N",
        help="start after this position (default 0: from the first event)",
    )
    feed.add_argument(
        "--limit",
        type=_bounded(int, 1, 10_000, "a whole number"),
        default=100,
        metavar="N",
        help="at most N events per read (default 100)",
    )
    feed.add_argument(
        "--follow",
        action="store_true",
        help="keep reading new events as they commit, until interrupted (Ctrl-C); "
        "with --json one JSON object per line",
    )
    feed.add_argument(
        "--interval",
        type=_bounded(float, 0.05, 60.0, "a number of seconds"),
        default=1.0,
        metavar="SECONDS",
        help="with --follow, the pause when there is nothing new (default 1)",
    )

    stats = command("stats", "your metrics as a seller or buyer", who=True)
    stats.add_argument("--role", choices=["seller", "buyer"], default="seller")
    stats.add_argument("--since", type=_instant, default=None, metavar="ISO")
    tick = command("tick", "fire the timers that are due")
    tick.add_argument("--limit", type=_count, default=1000)
    relay = command("relay", "deliver pending notifications")
    relay.add_argument("--limit", type=_count, default=100)
    relay.add_argument(
        "--webhook", metavar="URL", type=_webhook, help="POST them here (default: print them)"
    )
    relay.add_argument(
        "--secret",
        default=None,
        help="the webhook's shared secret (default: $ORDER_LIFECYCLE_WEBHOOK_SECRET)",
    )
    diagram = command("diagram", "the lifecycle diagram, generated from the table")
    diagram.add_argument("--format", choices=["mermaid", "dot"], default="mermaid")
    for made in {id(made): made for made in sub.choices.values()}.values():  # aliases: once
        _global_options(made, after_command=True)
    return parser


def _zone(text: str) -> str:
    from order_lifecycle.core.values import check_zone
    from order_lifecycle.errors import ValidationError

    try:
        return check_zone(text)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(error.message) from error


def _who(text: str) -> str:
    """``--as``: a user id, or ``cx:`` and one (checked here: a malformed value is a usage
    error, exit 2)."""
    from order_lifecycle.errors import ValidationError

    try:
        _actor(text)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(error.message) from error
    return text


def _webhook(text: str) -> str:
    from order_lifecycle.adapters.urls import checked_url
    from order_lifecycle.errors import ValidationError

    try:
        checked_url(text, ("http", "https"))
    except ValidationError as error:
        raise argparse.ArgumentTypeError(error.message) from error
    return text


def _summary(doc: str) -> str:
    """A command's help: the first paragraph of its class's docstring, as one line."""
    paragraph = doc.strip().split("\n\n")[0]
    text = " ".join(paragraph.split()).rstrip(".").replace("``", "")
    return text[0].lower() + text[1:]


# -- output --------------------------------------------------------------------------


# -- commands ------------------------------------------------------------------------


def _actor(text: str) -> Any:
    from order_lifecycle.core.model import Actor
    from order_lifecycle.core.values import check_id

    if text.startswith("cx:"):
        return Actor.cx(check_id("--as", text[3:]))
    return check_id("--as", text)


def _db_url(args: argparse.Namespace) -> str:
    url: str = args.db or os.environ.get("ORDER_LIFECYCLE_DB") or DEFAULT_DB
    return url


@contextlib.contextmanager
def _db_option() -> Iterator[None]:
    """Opening the desk: a ``--db`` the library refuses as a storage URL is a malformed
    option value (exit 2), not invalid input to a command (3)."""
    from order_lifecycle.errors import ValidationError

    try:
        yield
    except ValidationError as error:
        if error.field != "url":
            raise
        raise UsageError(f"Invalid {error.field}: {error.message}.") from error


def _open(args: argparse.Namespace, **extra: Any) -> Any:
    from order_lifecycle.clock import ManualClock, SystemClock
    from order_lifecycle.desk import OrderDesk

    clock = SystemClock() if args.now is None else ManualClock(args.now)
    url = _db_url(args)
    if args.command in READS and not getattr(args, "follow", False) and _missing(url):
        url = "memory://"  # what an empty database answers, and no file made at a typo
    with _db_option():
        return OrderDesk.open(url, clock=clock, **extra)


#: The commands that only read: on a SQLite file that is not there they answer as an
#: empty database would, without making one (``feed --follow`` waits for it, so opens it).
READS: Final = frozenset({"show", "actions", "next", "chat", "inbox", "history", "feed", "stats"})


def _missing(url: str) -> bool:
    """``url`` is a well-formed SQLite URL whose file does not exist."""
    scheme, _, rest = url.partition(":")
    if scheme.lower() != "sqlite" or not rest.startswith("///"):
        return False
    path = rest[len("///") :]
    if not path or path == ":memory:" or "?" in path or "#" in path:
        return False  # refused as it is when opened
    return not os.path.exists(path)


def _place(args: argparse.Namespace, out: Out) -> None:
    import pendulum

    from order_lifecycle.core.model import BuyerRequest, Listing, Money

    asked: list[tuple[str, bool]] = getattr(args, "requests", None) or []
    if len(args.answer) > len(asked):
        raise UsageError("place: there are more --answer options than questions")
    requests = tuple(BuyerRequest(q, required=r) for q, r in asked)
    answers = {q: a for (q, _), a in zip(asked, args.answer, strict=False)}
    listing = Listing(
        title=args.title,
        price=Money(args.price, args.currency),
        delivery=pendulum.duration(days=args.delivery_days),
        revisions=args.revisions,
        requests=requests,
    )
    with _open(args) as desk:
        order = desk.place(buyer=args.buyer, seller=args.seller, listing=listing, answers=answers)
    out.order(order)


def _act(args: argparse.Namespace, out: Out) -> None:
    """Any order action: its command built from the options named after its fields."""
    import attrs

    from order_lifecycle.core.model import Action
    from order_lifecycle.core.table import RULES_BY_ACTION

    command_type = RULES_BY_ACTION[Action(args.action)].command
    assert command_type is not None  # only actions with a command get a subcommand
    given = {f.name: getattr(args, f.name) for f in attrs.fields(command_type)}
    if "files" in given:
        given["files"] = tuple(given["files"] or ())
    for name, value in given.items():  # amounts (price, refund): in the contract's currency
        if isinstance(value, decimal.Decimal):
            given[name] = str(value)
    with _open(args) as desk:
        if getattr(args, "extend_days", None) is not None:
            current = desk.get(args.id).contract.due_at
            # No due date before the order is accepted, where nobody may propose: the
            # command goes as it is, and the desk says who may do what, and when.
            if current is not None:
                given["due_at"] = current.add(days=args.extend_days)
        order = desk.execute(args.id, command_type(**given), by=_actor(args.actor))
    out.order(order)


def _respond(args: argparse.Namespace, out: Out) -> None:
    """``respond ID accept|reject``: answer the open contract update."""
    args.action = "accept_update" if args.answer == "accept" else "reject_update"
    _act(args, out)


def _show(args: argparse.Namespace, out: Out) -> None:
    with _open(args) as desk:
        out.order(desk.get(args.id))


def _actions(args: argparse.Namespace, out: Out) -> None:
    with _open(args) as desk:
        options = desk.actions(args.id, viewer=_actor(args.actor), tz=args.tz)
    if out.as_json:
        out.json([option_json(o) for o in options])
        return
    from rich.text import Text

    from order_lifecycle.termtable import Column, fit_table

    table = fit_table(
        [Column("action"), Column("available"), Column("why not", mode="wrap", min_width=20)],
        [
            (
                option.action.value,
                Text("yes", style="green") if option.available else Text("no", style="red"),
                option.reason or "",
            )
            for option in options
        ],
        width=out.console.width,
        title=f"actions on {args.id} for {args.actor}",
    )
    out.console.print(table)


def _next(args: argparse.Namespace, out: Out) -> None:
    with _open(args) as desk:
        text = desk.next_step(args.id, viewer=_actor(args.actor), tz=args.tz)
    if out.as_json:
        out.json({"order_id": args.id, "next_step": text})
    else:
        out.stream.write(text + "\n")


def _chat(args: argparse.Namespace, out: Out) -> None:
    with _open(args) as desk:
        entries = desk.chat(
            args.id, viewer=_actor(args.actor), since=args.since, tz=args.tz, next_step=True
        )
    if out.as_json:
        out.json([entry_json(e) for e in entries[:-1]])
        return
    print_chat(out, entries, args.tz)


def _inbox(args: argparse.Namespace, out: Out) -> None:
    user = args.actor[3:] if args.actor.startswith("cx:") else args.actor
    with _open(args) as desk:
        conversations = desk.inbox(args.actor, tz=args.tz)
    if out.as_json:
        out.json([conversation_json(c) for c in conversations])
        return
    from rich.text import Text

    from order_lifecycle.termtable import Column, fit_table

    # State, unread and your move are never left out; the listing, the other party and
    # the last entry (previews of what `show` and `chat` give whole) give way in turn.
    table = fit_table(
        [
            Column("order"),
            Column("listing", mode="clip", keep=1),
            Column("with", keep=2),
            Column("state"),
            Column("unread"),
            Column("your move"),
            Column("last", mode="clip", keep=3, min_width=16),
        ],
        [
            (
                c.order_id,
                c.title,
                c.counterpart,
                c.state.value,
                Text(str(c.unread), style="bold") if c.unread else "0",
                Text("yes", style="yellow") if c.action_waiting else "",
                "" if c.last is None else c.last.text,
            )
            for c in conversations
        ],
        width=out.console.width,
        title=f"inbox of {user}",
    )
    out.console.print(table)


def _events(out: Out, events: Sequence[Any], title: str, *, one_order: bool = False) -> None:
    if out.as_json:
        out.json([event_json(e) for e in events])
        return
    from order_lifecycle.termtable import Column, fit_table

    # The event and the state it left are never left out; the order too, unless the
    # title names it.
    table = fit_table(
        [
            Column("order", keep=3 if one_order else None),
            Column("seq"),
            Column("at", keep=1),
            Column("event"),
            Column("by", keep=2),
            Column("state"),
        ],
        [
            (
                event.order_id,
                str(event.seq),
                event.at.isoformat(),
                event.kind,
                str(event.actor),
                event.state.value,
            )
            for event in events
        ],
        width=out.console.width,
        title=title,
    )
    out.console.print(table)


def _history(args: argparse.Namespace, out: Out) -> None:
    with _open(args) as desk:
        events = desk.history(args.id)
    _events(out, events, f"history of {args.id}", one_order=True)


def _feed_line(item: Any, as_json: bool) -> str:
    """One feed item on a line: JSON (``{position, event}``), or text for people."""
    if as_json:
        return json.dumps(feed_item_json(item), ensure_ascii=False) + "\n"
    event = item.event
    return (
        f"{item.position}  {event.at.isoformat()}  {event.order_id} #{event.seq}  "
        f"{event.kind} by {event.actor} → {event.state.value}\n"
    )


def _feed(args: argparse.Namespace, out: Out) -> None:
    """``feed``: one read; with ``--follow``, read again from the last position (a pause
    of ``--interval`` when nothing came) until interrupted, each line flushed as it comes."""
    with _open(args) as desk:
        if not args.follow:
            items = desk.feed(after=args.after, limit=args.limit)
            if out.as_json:
                out.json([feed_item_json(item) for item in items])
            else:
                out.stream.writelines(_feed_line(item, False) for item in items)
            return
        after = args.after
        try:
            while True:
                items = desk.feed(after=after, limit=args.limit)
                for item in items:
                    out.stream.write(_feed_line(item, out.as_json))
                    out.stream.flush()
                    after = item.position
                if len(items) < args.limit:
                    time.sleep(args.interval)
        except KeyboardInterrupt:  # Ctrl-C is how following ends: not an error
            return


def _stats(args: argparse.Namespace, out: Out) -> None:
    from order_lifecycle.jsonview import metrics_json

    user = args.actor[3:] if args.actor.startswith("cx:") else args.actor
    with _open(args) as desk:
        metrics = desk.metrics(user, role=args.role, since=args.since)
    document = metrics_json(metrics)
    if out.as_json:
        out.json(document)
        return
    from order_lifecycle.termtable import Column, fit_table

    def shown(name: str, value: object) -> str:
        if value is None:
            return "—"
        if name.endswith("_time"):
            return _human_duration(float(str(value)))
        if name.endswith("_rate") and name != "revision_rate":
            return f"{float(str(value)):.0%}"
        if isinstance(value, float):
            return f"{value:.2f}"
        return str(value)

    rows = [(name.replace("_", " "), shown(name, value)) for name, value in document.items()]
    table = fit_table(
        [Column("metric"), Column("value")],
        [row for row in rows if row[0] not in ("user", "role", "since")],
        width=out.console.width,
        title=f"{args.role} metrics of {user}",
    )
    out.console.print(table)


def _human_duration(seconds: float) -> str:
    """``2 d 3 h``, ``5 h 10 min`` or ``42 min``: a duration in its two largest units."""
    minutes = int(seconds // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def _tick(args: argparse.Namespace, out: Out) -> None:
    if args.limit < 1:
        raise UsageError("tick: --limit must be at least 1")
    with _open(args) as desk:
        events = desk.tick(limit=args.limit)
    _events(out, events, f"{len(events)} timer(s) fired")


class _PrintNotifier:
    """The CLI's default notifier: prints each notification on stdout, a line of text or
    an item of the JSON document's ``notifications``.

    A notification is sent once it is written out: each is flushed before ``send``
    returns, so one that could not be written (stdout closed: ``| head -1``) is a failed
    send, left in the outbox for a later relay, not marked sent. The JSON document is
    written as it goes for the same reason, and ended by :meth:`end`."""

    def __init__(self, out: Out) -> None:
        self.out = out
        self.count = 0

    def send(self, envelope: Any) -> None:
        stream = self.out.stream
        if self.out.as_json:
            document = {
                "id": envelope.id,
                "order_id": envelope.order_id,
                "seq": envelope.seq,
                "recipient": envelope.recipient,
                "kind": envelope.kind,
                "text": envelope.text,
                "attempt": envelope.attempt,
            }
            item = textwrap.indent(json.dumps(document, ensure_ascii=False, indent=2), "    ")
            stream.write(('{\n  "notifications": [\n' if self.count == 0 else ",\n") + item)
        else:
            stream.write(f"→ {envelope.recipient}: {envelope.text}\n")
        stream.flush()
        self.count += 1

    def end(self, summary: dict[str, int]) -> None:
        """End the JSON document with the relay's ``summary``."""
        if self.count == 0:
            self.out.json({"notifications": [], **summary})
            return
        tail = "".join(f',\n  "{name}": {value}' for name, value in summary.items())
        self.out.stream.write(f"\n  ]{tail}\n}}\n")


def _relay(args: argparse.Namespace, out: Out) -> None:
    if args.limit < 1:
        raise UsageError("relay: --limit must be at least 1")
    printer = _PrintNotifier(out)
    notifier: Any = printer
    if args.webhook:
        from order_lifecycle.adapters.notifiers import WebhookNotifier

        secret = args.secret or os.environ.get("ORDER_LIFECYCLE_WEBHOOK_SECRET")
        if not secret:
            raise UsageError("relay: --webhook needs --secret or $ORDER_LIFECYCLE_WEBHOOK_SECRET")
        notifier = WebhookNotifier(args.webhook, secret)
    with _open(args, notifier=notifier) as desk:
        report = desk.relay(limit=args.limit)
    summary = {"sent": report.sent, "retried": report.retried, "dead": report.dead}
    if out.as_json:
        printer.end(summary)
    else:
        out.stream.write(f"sent {report.sent}, retried {report.retried}, dead {report.dead}\n")


def _diagram(args: argparse.Namespace, out: Out) -> None:
    from order_lifecycle.diagrams import diagram

    text = diagram(args.format)
    if out.as_json:
        out.json({"format": args.format, "diagram": text})
    else:
        out.stream.write(text if text.endswith("\n") else text + "\n")


def _demo(args: argparse.Namespace, out: Out) -> None:
    from order_lifecycle.demo import run_demo

    if args.db:
        url = args.db
    else:
        folder = tempfile.mkdtemp(prefix="order-lifecycle-demo-")
        url = f"sqlite:///{Path(folder) / 'demo.sqlite3'}"
    with _db_option():  # the demo's only URL is --db's, which it opens before anything
        run_demo(url, out=out, tz=args.tz)


HANDLERS: Final[dict[str, Callable[[argparse.Namespace, Out], None]]] = {
    "demo": _demo,
    "place": _place,
    "show": _show,
    "actions": _actions,
    "next": _next,
    "chat": _chat,
    "inbox": _inbox,
    "history": _history,
    "feed": _feed,
    "stats": _stats,
    "tick": _tick,
    "relay": _relay,
    "diagram": _diagram,
}
"""The commands that are not order actions (those are generated from the table)."""


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse; ``say ID --as U TEXT`` puts TEXT after the options, which argparse cannot
    match to a positional that came before them, so it is taken from the leftovers: a
    word without a leading dash, or any word after ``--`` (the end of options)."""
    words = list(sys.argv[1:] if argv is None else argv)
    args, extra = build_parser().parse_known_args(words)
    if extra and getattr(args, "action", None) == "say" and not args.text:
        if extra[0] == "--":
            extra, ended = extra[1:], True
        else:  # argparse leaves the ``--`` among the leftovers, or drops it (by version)
            ended = "--" in words and words[words.index("--") + 1 :][:1] == extra[:1]
        if extra and (ended or not extra[0].startswith("-")):
            args.text, extra = extra[0], extra[1:]
    if extra:
        raise UsageError(f"order-lifecycle: unrecognized arguments: {' '.join(extra)}")
    return args


def _print_error(error: object) -> None:
    """One line on stderr, whatever the message holds (line breaks, surrogates)."""
    text = " ".join(str(error).split())
    sys.stderr.write(text.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")


def _error_document(out: Out, document: dict[str, Any]) -> None:
    """With ``--json``, a refusal is a JSON document on stdout too (its sentence went to
    stderr): a script switches on ``error``, not on the wording."""
    if out.as_json:
        out.json(document)


def _silence(stream: IO[str]) -> None:
    """After a broken pipe on ``stream``: when it is the process's stdout, point its file
    at ``/dev/null`` so the interpreter's last flush at exit does not fail again."""
    if stream is not sys.stdout:
        return
    try:
        fileno = stream.fileno()
    except (OSError, ValueError):  # not a file: nothing will flush it at exit
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)


def main(argv: Sequence[str] | None = None, *, stdout: IO[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    out_stream = sys.stdout if stdout is None else stdout
    try:
        args = _parse(argv)
    except UsageError as error:
        _print_error(error)
        words = sys.argv[1:] if argv is None else list(argv)
        as_json = "--json" in words[: words.index("--")] if "--" in words else "--json" in words
        _error_document(Out(as_json, out_stream), {"error": "usage_error", "message": str(error)})
        return 2
    except SystemExit as done:  # --help and --version print and stop
        return int(done.code or 0)
    out = Out(args.json, out_stream)
    from order_lifecycle.errors import (
        ActionNotAvailable,
        NotAParticipant,
        OrderLifecycleError,
        OrderNotFound,
        ValidationError,
    )
    from order_lifecycle.jsonview import error_json

    try:
        try:
            args.handler(args, out)
        except UsageError as error:
            _print_error(error)
            _error_document(out, {"error": "usage_error", "message": str(error)})
            return 2
        except OrderLifecycleError as error:
            if isinstance(error, ValidationError):
                _print_error(f"Invalid {error.field}: {error.message}.")
            else:
                _print_error(error)
            _error_document(out, error_json(error))
            if isinstance(error, (ActionNotAvailable, NotAParticipant, ValidationError)):
                return 3
            return 4 if isinstance(error, OrderNotFound) else 1
        out_stream.flush()
    except BrokenPipeError:
        # The reader of stdout went away (``| head -1``): stop quietly, as Unix tools do.
        _silence(out_stream)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
