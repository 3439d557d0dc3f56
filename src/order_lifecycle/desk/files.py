"""File intake: the files a command carries, read, checked and stored as attachments.

A command that carries files (``Command.carries_files``) may hold paths or ``(name,
bytes)`` pairs; the desk checks the whole command first (participant, availability,
every argument) with the files described but not stored, and stores them only when the
command would go through.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import pathlib
import stat
from collections.abc import Iterable

import attrs

from order_lifecycle.core.commands import Command
from order_lifecycle.core.model import Attachment, Policy
from order_lifecycle.core.values import check_text
from order_lifecycle.errors import ValidationError
from order_lifecycle.ports import BlobStore

__all__ = ["Loaded", "describe", "file_key", "needs_intake", "read_files", "store"]

#: The ``uri`` of an attachment described for the checks, not stored yet.
PENDING_URI = "pending:"


@attrs.frozen
class Loaded:
    """A file read and checked, not stored yet."""

    name: str
    data: bytes
    media_type: str


def needs_intake(command: Command) -> bool:
    """Whether ``command`` carries files that are not stored attachments yet."""
    if not command.carries_files:
        return False
    files = getattr(command, "files", ())
    return not isinstance(files, tuple) or any(not isinstance(f, Attachment) for f in files)


def read_files(files: object, policy: Policy) -> list[Attachment | Loaded]:
    """The files of a command, read and checked against ``policy``; nothing stored.

    Attachments already stored are kept as they are."""
    if isinstance(files, (str, bytes, pathlib.Path)) or not isinstance(files, Iterable):
        raise ValidationError("files", "must be a list of paths or (name, bytes) pairs")
    items = list(files)
    if len(items) > policy.max_files:
        raise ValidationError("files", f"holds {len(items)} files; the limit is {policy.max_files}")
    limit = policy.max_file_bytes
    loaded: list[Attachment | Loaded] = []
    for item in items:
        if isinstance(item, Attachment):
            loaded.append(item)
            continue
        if isinstance(item, (str, os.PathLike)):
            name, data = _read_path(pathlib.Path(item), limit)
        elif (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], (bytes, bytearray))
        ):
            name, data = item[0], bytes(item[1])
        else:
            raise ValidationError("files", "each file is a path or a (name, bytes) pair")
        check_text("file.name", name, max_chars=255, multiline=False)
        if len(data) > limit:
            raise ValidationError(
                "files", f"{name!r} is {len(data):,} bytes; the limit is {limit:,}"
            )
        media = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
        allowed = policy.allowed_media_types
        if allowed is not None and media not in allowed:
            raise ValidationError(
                "files", f"{name!r} is {media}, which this marketplace does not accept"
            )
        loaded.append(Loaded(name, data, media))
    return loaded


def describe(files: list[Attachment | Loaded]) -> tuple[Attachment, ...]:
    """The attachments the files will be, for the checks (``uri`` not known yet)."""
    return tuple(
        f
        if isinstance(f, Attachment)
        else Attachment(
            f.name, len(f.data), f.media_type, hashlib.sha256(f.data).hexdigest(), PENDING_URI
        )
        for f in files
    )


def store(files: list[Attachment | Loaded], blobs: BlobStore) -> tuple[Attachment, ...]:
    """Store the files not stored yet; the attachments, in the order given."""
    return tuple(
        f if isinstance(f, Attachment) else blobs.put(f.name, f.data, f.media_type) for f in files
    )


def _read_path(path: pathlib.Path, limit: int) -> tuple[str, bytes]:
    """A regular file's name and content, read no further than ``limit`` + 1 bytes."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ValidationError("files", f"{str(path)!r} is not a regular file")
        if info.st_size > limit:
            raise ValidationError(
                "files", f"{path.name!r} is {info.st_size:,} bytes; the limit is {limit:,}"
            )
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except (OSError, ValueError) as error:  # ValueError: NUL bytes, unencodable names
        raise ValidationError("files", f"cannot read {str(path)!r}: {error}") from None
    return path.name, data


def file_key(files: object) -> object:
    """What identifies ``files`` in a command's fingerprint: names and content hashes."""
    if not isinstance(files, (list, tuple)):
        return repr(files)
    keys: list[object] = []
    for item in files:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], (bytes, bytearray)):
            keys.append([item[0], hashlib.sha256(bytes(item[1])).hexdigest()])
        elif isinstance(item, Attachment):
            keys.append([item.name, item.sha256])
        else:
            keys.append(str(item))
    return keys
