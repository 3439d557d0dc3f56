"""Blob stores: attached files, content-addressed by sha256.

A client's file name is kept as metadata only; it never becomes part of a path, so
``../../etc/passwd`` is just a name. Sizes are checked before anything is written.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import tempfile
import threading

from order_lifecycle.core.model import Attachment
from order_lifecycle.errors import StorageError, ValidationError

__all__ = ["FileSystemBlobs", "MemoryBlobs"]

_HEX = frozenset("0123456789abcdef")


def _check_digest(sha256: str) -> str:
    if not (isinstance(sha256, str) and len(sha256) == 64 and set(sha256) <= _HEX):
        raise ValidationError("sha256", "must be 64 lowercase hex digits")
    return sha256


class MemoryBlobs:
    """Blobs in a dictionary (``memory://``)."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, name: str, data: bytes, media_type: str) -> Attachment:
        """Keep ``data`` under its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        attachment = Attachment(name, len(data), media_type, digest, f"memory:{digest}")
        with self._lock:
            self._blobs[digest] = bytes(data)
        return attachment

    def get(self, sha256: str) -> bytes:
        """The content stored under ``sha256``."""
        with self._lock:
            try:
                return self._blobs[_check_digest(sha256)]
            except KeyError:
                raise ValidationError("sha256", f"no file {sha256} is stored") from None


class FileSystemBlobs:
    """Blobs in a folder: ``<root>/<first two hex digits>/<sha256>``, written atomically."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = pathlib.Path(root).resolve()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageError(f"Cannot create the file store at {self.root}: {error}") from error

    def _path(self, digest: str) -> pathlib.Path:
        path = (self.root / digest[:2] / digest).resolve()
        if self.root not in path.parents:  # unreachable for hex digests; kept as a guard
            raise ValidationError("sha256", "resolves outside the file store")
        return path

    def put(self, name: str, data: bytes, media_type: str) -> Attachment:
        """Write ``data`` once under its sha256 (a second identical file costs nothing)."""
        digest = hashlib.sha256(data).hexdigest()
        attachment = Attachment(name, len(data), media_type, digest, f"file:{digest}")
        path = self._path(digest)
        if path.exists():
            return attachment
        try:
            path.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, path)
            except BaseException:
                pathlib.Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise StorageError(f"Cannot store {name!r} in {self.root}: {error}") from error
        return attachment

    def get(self, sha256: str) -> bytes:
        """The content stored under ``sha256``."""
        path = self._path(_check_digest(sha256))
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise ValidationError("sha256", f"no file {sha256} is stored") from None
        except OSError as error:
            raise StorageError(f"Cannot read {sha256} from {self.root}: {error}") from error
