"""Storage URLs as they may be shown: never with a password."""

from __future__ import annotations

import urllib.parse
from urllib.parse import unquote

from order_lifecycle.errors import ValidationError

__all__ = ["checked_url", "mask_url"]


def checked_url(url: object, schemes: tuple[str, ...]) -> tuple[urllib.parse.SplitResult, str]:
    """``url`` split, refused with ``ValidationError`` (field ``url``) unless it is a
    valid URL of one of ``schemes`` that names a host; and its host as a URL shows it
    (an IPv6 address in brackets)."""
    if not isinstance(url, str):
        raise ValidationError("url", "must be a string")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is what checks it
    except ValueError:
        raise ValidationError("url", "is not a valid URL") from None
    if parts.scheme not in schemes:
        names = " or ".join(f"{s}://" for s in schemes)
        raise ValidationError("url", f"must be an {names} URL")
    if not parts.hostname:
        raise ValidationError("url", "must name a host")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return parts, host


def mask_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``: safe to show and log."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "<not a URL>"
    cut = len(rest)
    for mark in "/?#":
        index = rest.find(mark)
        if index != -1:
            cut = min(cut, index)
    authority, tail = rest[:cut], rest[cut:]
    userinfo, at, hosts = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = f"{userinfo.split(':', 1)[0]}:***@{hosts}"
    path, qmark, query = tail.partition("?")
    if qmark:
        items = []
        for item in query.split("&"):
            name, _, _ = item.partition("=")
            items.append(f"{name}=***" if unquote(name) == "password" else item)
        tail = f"{path}?{'&'.join(items)}"
    return f"{scheme}://{authority}{tail}"
