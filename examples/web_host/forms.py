"""Each action's form, and the command it sends, read off the command class's fields.

There is no list of actions here: an action is a row of ``order_lifecycle.core.table``
with a command class, and its form has one input per attrs field of that class, typed by
the field's annotation (the way the CLI makes an option per field):

====================  ===========================================================
field                 input
====================  ===========================================================
``files``             a file upload (several files); sent as ``(name, bytes)`` pairs
``bool``              a checkbox
``Outcome``           a select of the outcomes
``Money`` (price)     an amount in the contract's currency
``pendulum.DateTime`` a ``datetime-local`` input, read in the page's time zone
``int``               a number
``str``               a text area
====================  ===========================================================

Values are passed on as given when they cannot be converted (a date that is not one, a
number that is not one): the desk then refuses them with a ``ValidationError`` naming the
field, after it has checked who is acting and that the action is available.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import typing
from collections.abc import Mapping
from typing import Any

import attrs
import pendulum

from order_lifecycle import Action, Money, Outcome, Role, ValidationError
from order_lifecycle.core.commands import Command
from order_lifecycle.core.table import RULES, RULES_BY_ACTION

__all__ = [
    "Input",
    "command_from_form",
    "command_from_json",
    "command_type",
    "describe",
    "inputs",
    "label",
    "person_actions",
    "routed",
]


@attrs.frozen
class Input:
    """One input of an action's form: the command field it fills and how it is entered."""

    name: str
    #: ``files``, ``checkbox``, ``select``, ``amount``, ``datetime``, ``number`` or ``textarea``.
    kind: str
    required: bool
    choices: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The field's name as a person reads it: ``due_at`` is "Due at"."""
        return label(self.name)


def label(name: str) -> str:
    """``request_revision`` as a button says it: "Request revision"."""
    words = name.replace("_", " ")
    return words[:1].upper() + words[1:]


def describe(command: type[Command]) -> str:
    """The first sentence of a command's docstring, without reStructuredText quotes."""
    first = (command.__doc__ or "").strip().splitlines()
    return first[0].replace("``", "") if first else ""


def person_actions(role: Role) -> list[Action]:
    """The actions a person in ``role`` may take at some point, in the table's order."""
    return [r.action for r in RULES if r.command is not None and role in r.roles]


def routed() -> list[str]:
    """Every action a person takes (a buyer, a seller or a CX agent), in the table's order."""
    return [r.action.value for r in RULES if r.command is not None and r.roles - {Role.system}]


def command_type(action: str) -> type[Command] | None:
    """The command class of an action a person takes, or ``None`` (unknown, system's own)."""
    try:
        rule = RULES_BY_ACTION[Action(action)]
    except (ValueError, KeyError):
        return None
    if rule.command is None or not rule.roles - {Role.system}:
        return None
    return rule.command


def inputs(command: type[Command]) -> list[Input]:
    """The form inputs of ``command``, one per field, in the field order."""
    hints = typing.get_type_hints(command)
    made = []
    for field in attrs.fields(command):
        hint = hints[field.name]
        kinds = set(typing.get_args(hint)) or {hint}
        required = field.default is attrs.NOTHING
        choices: tuple[str, ...] = ()
        if field.name == "files":
            kind = "files"
        elif hint is bool:
            kind = "checkbox"
        elif Outcome in kinds:
            kind, choices = "select", tuple(o.value for o in Outcome)
        elif Money in kinds:
            kind = "amount"
        elif pendulum.DateTime in kinds:
            kind = "datetime"
        elif int in kinds:
            kind = "number"
        else:
            kind = "textarea"
        made.append(Input(field.name, kind, required, choices))
    return made


def _number(text: str) -> int | str:
    stripped = text.strip()
    return int(stripped) if stripped.isdigit() else text


def _local_instant(text: str, tz: str) -> pendulum.DateTime | str:
    """A ``datetime-local`` value (no offset) in the page's zone; other text as given."""
    try:
        parsed = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    if parsed.tzinfo is None:
        return pendulum.instance(parsed, tz=tz)
    return pendulum.instance(parsed)


def command_from_form(
    command: type[Command],
    form: Mapping[str, str],
    uploads: list[tuple[str, bytes]],
    *,
    tz: str = "UTC",
) -> Command:
    """The command an HTML form sends: empty optional inputs are left out, uploads become
    the command's ``files`` as ``(name, bytes)`` pairs."""
    given: dict[str, Any] = {}
    for item in inputs(command):
        raw = form.get(item.name, "")
        if item.kind == "files":
            given["files"] = tuple(uploads)
        elif item.kind == "checkbox":
            given[item.name] = item.name in form
        elif raw == "" and not item.required:
            continue
        elif item.kind == "number":
            given[item.name] = _number(raw)
        elif item.kind == "datetime":
            given[item.name] = _local_instant(raw, tz)
        else:
            given[item.name] = raw
    return command(**given)


def command_from_json(command: type[Command], body: Mapping[str, object]) -> Command:
    """The command a JSON body sends: one key per field (``price`` a decimal string,
    ``due_at`` ISO 8601 with an offset, ``files`` a list of ``{"name", "content_b64"}``).

    ``ValidationError`` for a key that is not a field, a required field left out, or a
    file that is not base64."""
    names = {item.name: item for item in inputs(command)}
    for key in body:
        if key not in names:
            raise ValidationError(key, f"is not an argument of {command.action.value}")
    for name, item in names.items():
        if item.required and name not in body:
            raise ValidationError(name, "is required")
    given = dict(body)
    if "files" in given:
        given["files"] = _json_files(given["files"])
    return command(**given)


def _json_files(value: object) -> tuple[tuple[str, bytes], ...]:
    """``[{"name": ..., "content_b64": ...}]`` as ``(name, bytes)`` pairs."""
    if not isinstance(value, list):
        raise ValidationError("files", 'must be a list of {"name": ..., "content_b64": ...}')
    result: list[tuple[str, bytes]] = []
    for index, item in enumerate(value):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("content_b64"), str)
            and set(item) == {"name", "content_b64"}
        ):
            raise ValidationError(
                f"files[{index}]", 'must be {"name": "...", "content_b64": "..."}'
            )
        try:
            content = base64.b64decode(item["content_b64"], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(f"files[{index}]", "content_b64 is not base64") from None
        result.append((item["name"], content))
    return tuple(result)
