"""Files and folders only this install's user can read: database, originals, credentials (0600, 0700).

The process umask is the operator's (often 022, which leaves files world-readable); modes are therefore
set explicitly, and an existing install's files are tightened when the store opens them.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["private_dir", "private_file"]


def private_dir(path: Path, *, tighten: bool = False) -> Path:
    """``path`` and every folder created for it, mode 0700.

    ``tighten``: an existing ``path`` is set to 0700 too: only for the install's own folders (``var/``),
    never for a folder the operator chose for other uses (``/tmp``).
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # another thread or process made it first
            pass
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    if tighten and path.is_dir() and path.stat().st_uid == os.getuid():
        os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if missing; tighten it to 0600 if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path
