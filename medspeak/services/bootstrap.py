"""First start: demo accounts, one per role, with random passwords shown once."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, select

from medspeak.auth.passwords import generate_password
from medspeak.auth.roles import Role
from medspeak.services.read_models import ReadModel
from medspeak.services.users import add_user
from medspeak.store import audit
from medspeak.store.db import Store
from medspeak.store.models import User
from medspeak.store.private import private_dir

__all__ = ["DEMO_USERS", "DemoCredential", "ensure_demo_users"]

DEMO_USERS: tuple[tuple[str, str, Role], ...] = (
    ("clinician", "Dr. Demo Clinician", Role.CLINICIAN),
    ("bedmanager", "Demo Bed Manager", Role.BED_MANAGER),
    ("admin", "Demo Administrator", Role.ADMIN),
)


class DemoCredential(ReadModel):
    username: str
    role: str
    password: str


def ensure_demo_users(store: Store) -> list[DemoCredential]:
    """Create the demo accounts when the store has no user at all; return them (else ``[]``).

    The passwords are also written to ``credentials_file`` with mode 0600.
    """
    created: list[DemoCredential] = []
    with store.transaction() as db:
        if (db.scalar(select(func.count(User.id))) or 0) > 0:
            return []
        for username, name, role in DEMO_USERS:
            password = generate_password()
            add_user(db, username, name, role.value, password, rounds=store.settings.bcrypt_rounds)
            created.append(DemoCredential(username=username, role=role.value, password=password))
        audit.record(
            db,
            username="system",
            role="system",
            action="user.bootstrap",
            outcome="success",
            detail=f"{len(created)} demo accounts",
        )
    _write_private(store.settings.credentials_file, created)
    return created


def _write_private(path: Path, credentials: list[DemoCredential]) -> None:
    private_dir(path.parent)
    lines = ["# medspeak demo accounts: change or disable them before real use.", "# username\trole\tpassword"]
    lines += [f"{c.username}\t{c.role}\t{c.password}" for c in credentials]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)  # O_CREAT's mode is ignored when the file already existed
