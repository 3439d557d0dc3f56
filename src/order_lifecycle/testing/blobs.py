"""The blob-store contract: what every file store promises. Provide a ``blobs`` fixture.

Requires ``pytest`` (a test-time dependency of the host).
"""

from __future__ import annotations

import hashlib

import pytest

from order_lifecycle.errors import ValidationError
from order_lifecycle.ports import BlobStore

__all__ = ["HOSTILE_NAMES", "BlobStoreContract"]

#: Names a client may send that must stay names: never paths, never a way out.
HOSTILE_NAMES = (
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\system32\\config",
    "./.hidden",
    "a/b/c.png",
    "~/.ssh/id_rsa",
    "con.txt",
    "名前.png",
    "x" * 255,
)


class BlobStoreContract:
    """Content-addressed storage of attached files."""

    @pytest.fixture
    def blobs(self) -> BlobStore:
        """The blob store under test, empty (close it with ``request.addfinalizer``)."""
        raise NotImplementedError("subclasses provide the blobs fixture")

    def test_is_a_blob_store(self, blobs: BlobStore) -> None:
        """The adapter implements the port."""
        assert isinstance(blobs, BlobStore)

    def test_put_then_get_returns_the_same_bytes(self, blobs: BlobStore) -> None:
        """Content comes back byte for byte, addressed by its sha256."""
        data = bytes(range(256)) * 10
        stored = blobs.put("post.png", data, "image/png")
        assert stored.sha256 == hashlib.sha256(data).hexdigest()
        assert (stored.name, stored.size, stored.media_type) == ("post.png", len(data), "image/png")
        assert blobs.get(stored.sha256) == data

    def test_the_same_content_is_stored_once(self, blobs: BlobStore) -> None:
        """Two names, one content: one blob, two attachments."""
        first = blobs.put("a.txt", b"same", "text/plain")
        second = blobs.put("b.txt", b"same", "text/plain")
        assert first.sha256 == second.sha256
        assert (first.name, second.name) == ("a.txt", "b.txt")
        assert blobs.get(first.sha256) == b"same"

    def test_empty_content_is_a_file_too(self, blobs: BlobStore) -> None:
        """Zero bytes are stored and read back."""
        stored = blobs.put("empty.txt", b"", "text/plain")
        assert blobs.get(stored.sha256) == b""

    @pytest.mark.parametrize("name", HOSTILE_NAMES)
    def test_hostile_names_stay_names(self, blobs: BlobStore, name: str) -> None:
        """A client's file name is kept as metadata and never used as a path."""
        stored = blobs.put(name, b"payload:" + name.encode(), "application/octet-stream")
        assert stored.name == name
        assert blobs.get(stored.sha256) == b"payload:" + name.encode()

    @pytest.mark.parametrize("name", ["", "a\x00b", "line\nbreak", "x" * 256])
    def test_impossible_names_are_refused(self, blobs: BlobStore, name: str) -> None:
        """Empty names, NUL, line breaks and names over 255 characters are refused."""
        with pytest.raises(ValidationError):
            blobs.put(name, b"x", "text/plain")

    @pytest.mark.parametrize("digest", ["", "../x", "A" * 64, "g" * 64, "0" * 63])
    def test_unknown_or_malformed_digests_are_refused(self, blobs: BlobStore, digest: str) -> None:
        """``get`` only takes 64 lowercase hex digits, and only of stored content."""
        with pytest.raises(ValidationError):
            blobs.get(digest)
        with pytest.raises(ValidationError):
            blobs.get("0" * 64)
