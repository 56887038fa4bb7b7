"""Original documents on disk, content-addressed by SHA-256.

A file is stored once under a generated name (``ab/abcdef....pdf``): the
client's filename never reaches the file system. Writes go through a temporary
file and an atomic rename, so a crash never leaves half a document.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
from pathlib import Path

from medspeak.errors import StorageFull
from medspeak.store.private import private_dir

__all__ = ["DocumentStorage", "StoredFile"]

_EXTENSION = re.compile(r"^[a-z0-9]{1,5}$")


class StoredFile:
    __slots__ = ("created", "key", "sha256", "size")

    def __init__(self, sha256: str, key: str, size: int, created: bool) -> None:
        self.sha256, self.key, self.size, self.created = sha256, key, size, created


class DocumentStorage:
    """A folder of originals; keys are relative paths made by this class only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, content: bytes, extension: str) -> StoredFile:
        """Store ``content`` once; a second identical upload returns the same key, ``created=False``."""
        if not _EXTENSION.match(extension):
            raise ValueError(f"unsafe extension {extension!r}")
        digest = hashlib.sha256(content).hexdigest()
        key = f"{digest[:2]}/{digest}.{extension}"
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
                    "The disk is full: the document was not saved. Ask an administrator to free disk space."
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

    def discard(self, key: str) -> None:
        """Remove a file this request created and no record points to (its transaction failed)."""
        self.path(key).unlink(missing_ok=True)

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()
