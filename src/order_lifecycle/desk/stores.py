"""From a storage URL to a store and its default blob store."""

from __future__ import annotations

from order_lifecycle.adapters.urls import mask_url
from order_lifecycle.errors import ValidationError
from order_lifecycle.ports import BlobStore, Store

__all__ = ["open_store"]


def open_store(url: str) -> tuple[Store, BlobStore]:
    """The store and default blob store for a storage URL."""
    if not isinstance(url, str):
        raise ValidationError("url", "must be a storage URL such as sqlite:///orders.db")
    from order_lifecycle.adapters.files import FileSystemBlobs, MemoryBlobs

    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()  # schemes are case-insensitive (RFC 3986); the rest is not
    if scheme == "memory" and rest in ("//", ""):
        from order_lifecycle.adapters.memory import MemoryStore

        return MemoryStore(), MemoryBlobs()
    if scheme == "sqlite":
        if not rest.startswith("///") or len(rest) <= len("///"):
            raise ValidationError(
                "url", f"{url!r}: use sqlite:///relative/path.db or sqlite:////absolute/path.db"
            )
        path = rest[len("///") :]
        if "?" in path or "#" in path:
            raise ValidationError(
                "url",
                f"{url!r}: a sqlite:/// URL takes no query or fragment (the path is all of "
                "it, and the store's settings are its own)",
            )
        if path == ":memory:":
            raise ValidationError(
                "url",
                "sqlite:///:memory: would be a new empty database for every connection: "
                "use memory:// for orders kept in memory",
            )
        from order_lifecycle.adapters.sqlite import SQLiteStore

        return SQLiteStore(path), FileSystemBlobs(f"{path}.files")
    if scheme in ("postgresql", "postgres"):
        from order_lifecycle.adapters.postgres import PostgresBlobs, PostgresStore

        store = PostgresStore(url)
        return store, PostgresBlobs(store)
    shown = mask_url(url) if "://" in url else url
    raise ValidationError(
        "url",
        f"{shown!r} is not a storage URL: use memory://, sqlite:///path or postgresql://...",
    )
