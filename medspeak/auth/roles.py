"""Roles, what each may do, and the actor a service acts for.

Access is decided here, in the core: pages and API only hide what the role cannot use.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CLI", "ROLE_PERMISSIONS", "SYSTEM", "SYSTEM_PERMISSIONS", "Actor", "Permission", "Role", "has_permission"]


class Role(StrEnum):
    CLINICIAN = "clinician"
    BED_MANAGER = "bed_manager"
    ADMIN = "admin"


class Permission(StrEnum):
    READ_PATIENTS = "read_patients"  # demographics and stays: who is in which bed
    READ_CLINICAL = "read_clinical"  # documents, facts, assessments
    WRITE_CLINICAL = "write_clinical"  # upload, index, assess, override
    READ_CENSUS = "read_census"  # ward occupancy and forecasts
    MANAGE_USERS = "manage_users"
    READ_AUDIT = "read_audit"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CLINICIAN: frozenset(
        {Permission.READ_PATIENTS, Permission.READ_CLINICAL, Permission.WRITE_CLINICAL, Permission.READ_CENSUS}
    ),
    # Bed managers plan beds: they see stays and census, never documents or clinical facts.
    Role.BED_MANAGER: frozenset({Permission.READ_PATIENTS, Permission.READ_CENSUS}),
    # Administrators run the system: users and the audit trail, no patient data.
    Role.ADMIN: frozenset({Permission.MANAGE_USERS, Permission.READ_AUDIT, Permission.READ_CENSUS}),
}


# The system actor (no account: first start, seeding, the shell's `medspeak` commands) administers: accounts,
# keys and the audit trail, never patient data. "system" is not a Role, so no account can be given it.
SYSTEM_ROLE = "system"
SYSTEM_PERMISSIONS: frozenset[Permission] = frozenset({Permission.MANAGE_USERS, Permission.READ_AUDIT})


def has_permission(role: str, permission: Permission) -> bool:
    """Whether ``role`` grants ``permission``; an unknown role grants nothing."""
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Actor:
    """Who a service call is made for: built by the auth service from a valid session only."""

    user_id: int | None
    username: str
    role: str

    @property
    def is_system(self) -> bool:
        """No account behind it: built in code, never from a session or a key (those always carry a user id)."""
        return self.user_id is None and self.role == SYSTEM_ROLE

    def can(self, permission: Permission) -> bool:
        if self.is_system:
            return permission in SYSTEM_PERMISSIONS
        return has_permission(self.role, permission)


SYSTEM = Actor(user_id=None, username="system", role=SYSTEM_ROLE)
# The system actor as the shell's `medspeak users/audit ...` commands: their rows say "cli" in the trail.
CLI = Actor(user_id=None, username="cli", role=SYSTEM_ROLE)
