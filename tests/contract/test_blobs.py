"""The blob-store contract, run against every file store of the library."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from order_lifecycle.adapters.files import FileSystemBlobs, MemoryBlobs
from order_lifecycle.adapters.postgres import PostgresBlobs, PostgresStore
from order_lifecycle.ports import BlobStore
from order_lifecycle.testing.blobs import HOSTILE_NAMES, BlobStoreContract


class TestMemoryBlobs(BlobStoreContract):
    """Files in memory (``memory://``)."""

    @pytest.fixture
    def blobs(self) -> BlobStore:
        """An empty memory store."""
        return MemoryBlobs()


class TestFileSystemBlobs(BlobStoreContract):
    """Files in a folder (beside the SQLite database by default)."""

    @pytest.fixture
    def blobs(self, tmp_path: Path) -> BlobStore:
        """An empty folder inside a sandbox folder."""
        return FileSystemBlobs(tmp_path / "sandbox" / "files")

    def test_nothing_is_written_outside_the_root(self, tmp_path: Path) -> None:
        """Whatever the names, every file lands under the root, named by its digest."""
        root = tmp_path / "sandbox" / "files"
        blobs = FileSystemBlobs(root)
        for name in HOSTILE_NAMES:
            blobs.put(name, name.encode(), "application/octet-stream")
        outside = [
            p for p in tmp_path.rglob("*") if root not in p.parents and p not in root.parents
        ]
        assert [p for p in outside if p != root] == []
        for path in root.rglob("*"):
            if path.is_file():
                assert len(path.name) == 64
                assert path.parent.name == path.name[:2]

    def test_no_temporary_files_are_left(self, tmp_path: Path) -> None:
        """Writes go through a temporary file that is renamed into place."""
        blobs = FileSystemBlobs(tmp_path)
        blobs.put("a.txt", b"a", "text/plain")
        assert not list(tmp_path.rglob(".tmp-*"))
        assert os.listdir(tmp_path)


@pytest.mark.postgres
class TestPostgresBlobs(BlobStoreContract):
    """Files in the database, so every host sees every file."""

    @pytest.fixture
    def pg_store(self, pg_schema_url: str) -> Iterator[PostgresStore]:
        """A store on a fresh schema, closed after the test."""
        store = PostgresStore(pg_schema_url)
        yield store
        store.close()

    @pytest.fixture
    def blobs(self, pg_store: PostgresStore) -> BlobStore:
        """The blob table of that store."""
        return PostgresBlobs(pg_store)
