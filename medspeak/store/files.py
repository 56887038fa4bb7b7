"""Original documents, content-addressed by SHA-256: on a local disk, or in the database.

A file is stored once under a generated key (``ab/abcdef....pdf``): the client's filename never reaches
storage. Two implementations of one interface (:class:`FileStorage`), chosen by ``MEDSPEAK_FILE_STORE``:

- ``disk`` (the default, one machine): a folder; writes go through a temporary file and an atomic rename,
  so a crash never leaves half a document;
- ``database`` (several machines): a table of blobs keyed by SHA-256, in the store every worker already
  reaches; the blob commits with the document row that points to it, or not at all.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from medspeak.errors import StorageFull
from medspeak.i18n import N_
from medspeak.store.models import DocumentBlob
from medspeak.store.private import private_dir

if TYPE_CHECKING:
    from medspeak.store.db import Store

__all__ = ["DatabaseStorage", "DocumentStorage", "FileStorage", "StoredFile", "open_storage"]

_EXTENSION = re.compile(r"^[a-z0-9]{1,5}$")
_KEY = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{64})\.[a-z0-9]{1,5}$")


class StoredFile:
    __slots__ = ("created", "key", "sha256", "size")

    def __init__(self, sha256: str, key: str, size: int, created: bool) -> None:
        self.sha256, self.key, self.size, self.created = sha256, key, size, created


class FileStorage(Protocol):
    """Where originals live. ``db``: the caller's open transaction, which a database storage writes in."""

    def put(self, content: bytes, extension: str, db: Session | None = None) -> StoredFile:
        """Store ``content`` once; a second identical upload returns the same key, ``created=False``."""
        ...

    def read(self, key: str) -> bytes:
        """The original; ``FileNotFoundError`` when missing, ``ValueError`` for a key this storage never made."""
        ...

    def discard(self, key: str, db: Session | None = None) -> None:
        """Remove an original no document points to (the upload's transaction failed)."""
        ...


def _address(content: bytes, extension: str) -> tuple[str, str]:
    if not _EXTENSION.match(extension):
        raise ValueError(f"unsafe extension {extension!r}")
    digest = hashlib.sha256(content).hexdigest()
    return digest, f"{digest[:2]}/{digest}.{extension}"


class DocumentStorage:
    """A folder of originals; keys are relative paths made by this class only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, content: bytes, extension: str, db: Session | None = None) -> StoredFile:
        digest, key = _address(content, extension)
        path = self.path(key)
        if path.exists():
            return StoredFile(digest, key, len(content), created=False)
        private_dir(self.root, tighten=True)
        private_dir(path.parent, tighten=True)  # originals are patient data: folders 0700, files 0600 (mkstemp)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull(
                    N_("The disk is full: the document was not saved. Ask an administrator to free disk space.")
                ) from exc
            raise
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredFile(digest, key, len(content), created=True)

    def path(self, key: str) -> Path:
        """The file for a key; refuses anything that would leave the storage folder."""
        root = self.root.resolve()
        path = (root / key).resolve()
        if root not in path.parents:
            raise ValueError("storage key outside the storage folder")
        return path

    def discard(self, key: str, db: Session | None = None) -> None:
        self.path(key).unlink(missing_ok=True)

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()


class DatabaseStorage:
    """Originals as rows of ``document_blobs`` (one per SHA-256), reachable from every worker of the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def put(self, content: bytes, extension: str, db: Session | None = None) -> StoredFile:
        digest, key = _address(content, extension)
        if db is None:
            with self.store.transaction() as own:
                return self.put(content, extension, own)
        if db.get(DocumentBlob, digest) is not None:  # the common duplicate: no second copy of the bytes sent
            return StoredFile(digest, key, len(content), created=False)
        # A concurrent writer of the same bytes may commit first: its row wins, this insert does nothing.
        insert = pg_insert if self.store.engine.dialect.name == "postgresql" else sqlite_insert
        inserted = db.scalar(
            insert(DocumentBlob)
            .values(sha256=digest, size_bytes=len(content), content=content)
            .on_conflict_do_nothing(index_elements=["sha256"])
            .returning(DocumentBlob.sha256)
        )
        return StoredFile(digest, key, len(content), created=inserted is not None)

    def read(self, key: str) -> bytes:
        digest = _digest(key)
        with self.store.read() as db:  # a read-only transaction: on SQLite it waits for no writer
            content = db.scalar(select(DocumentBlob.content).where(DocumentBlob.sha256 == digest))
        if content is None:
            raise FileNotFoundError(f"no stored original {digest[:12]}...")
        return bytes(content)

    def discard(self, key: str, db: Session | None = None) -> None:
        if db is None:
            with self.store.transaction() as own:
                self.discard(key, own)
            return
        db.execute(delete(DocumentBlob).where(DocumentBlob.sha256 == _digest(key)))


def _digest(key: str) -> str:
    match = _KEY.match(key)
    if match is None or match.group(1) != match.group(2)[:2]:
        raise ValueError("not a storage key")
    return match.group(2)


def open_storage(store: Store) -> FileStorage:
    """The storage the settings choose (``MEDSPEAK_FILE_STORE``): ``disk`` or ``database``."""
    if store.settings.file_store == "database":
        return DatabaseStorage(store)
    return DocumentStorage(store.settings.documents_dir)
