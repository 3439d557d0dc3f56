"""Storage URLs as they may be shown: never with a password."""

from __future__ import annotations

from urllib.parse import unquote

__all__ = ["mask_url"]


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
