"""Run a service call under a permission check, inside one audited transaction.

The audit row commits with the work it describes; a denial or a failure is
recorded in a transaction of its own, so it survives the rollback of the work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from medspeak.auth.roles import Actor, Permission
from medspeak.errors import MedspeakError, PermissionDenied, safe_traceback
from medspeak.i18n import N_
from medspeak.store import audit
from medspeak.store.db import Store

__all__ = ["AuditedCall", "audited", "record_alone", "require"]

_log = logging.getLogger(__name__)


@dataclass
class AuditedCall:
    """What the service fills in while it works: the ids and a PHI-free detail."""

    db: Session
    patient_id: int | None = None
    document_id: int | None = None
    detail: str = ""


def record_alone(
    store: Store,
    actor: Actor,
    action: str,
    outcome: str,
    *,
    patient_id: int | None = None,
    document_id: int | None = None,
    detail: str = "",
) -> None:
    with store.transaction() as db:
        audit.record(
            db,
            username=actor.username,
            role=actor.role,
            action=action,
            outcome=outcome,
            patient_id=patient_id,
            document_id=document_id,
            detail=detail,
        )


def require(store: Store, actor: Actor, action: str, permission: Permission) -> None:
    """Check a permission for a call that reveals no patient data (progress polling): only denials are audited.

    Raises:
        PermissionDenied: the actor's role lacks ``permission``.
    """
    if not actor.can(permission):
        record_alone(store, actor, action, "denied", detail=f"role {actor.role} lacks {permission.value}")
        raise PermissionDenied(N_("Your role ({role}) does not allow this ({action})."), role=actor.role, action=action)


@contextmanager
def audited(
    store: Store,
    actor: Actor,
    action: str,
    permission: Permission,
    *,
    patient_id: int | None = None,
    document_id: int | None = None,
) -> Iterator[AuditedCall]:
    """Check ``permission``, open a transaction and audit the outcome of the block.

    Raises:
        PermissionDenied: the actor's role lacks ``permission`` (the denial is audited).
    """
    if not actor.can(permission):
        record_alone(
            store,
            actor,
            action,
            "denied",
            patient_id=patient_id,
            document_id=document_id,
            detail=f"role {actor.role} lacks {permission.value}",
        )
        raise PermissionDenied(N_("Your role ({role}) does not allow this ({action})."), role=actor.role, action=action)
    call: AuditedCall | None = None
    try:
        with store.transaction() as db:
            call = AuditedCall(db, patient_id, document_id)
            yield call
            audit.record(
                db,
                username=actor.username,
                role=actor.role,
                action=action,
                outcome="success",
                patient_id=call.patient_id,
                document_id=call.document_id,
                detail=call.detail,
            )
    except MedspeakError as exc:
        record_alone(
            store,
            actor,
            action,
            "failure",
            patient_id=call.patient_id if call else patient_id,
            document_id=call.document_id if call else document_id,
            detail=type(exc).__name__,
        )
        raise
    except Exception as exc:  # a bug, a full disk, a lost database: still a trace of who tried what
        try:
            record_alone(
                store,
                actor,
                action,
                "failure",
                patient_id=call.patient_id if call else patient_id,
                document_id=call.document_id if call else document_id,
                detail=f"unexpected {type(exc).__name__}",  # the type only: a message may quote patient data
            )
        except Exception as audit_exc:  # noqa: BLE001 - the store itself failed: the original error matters
            _log.error("audit row for a failed %s not written:\n%s", action, safe_traceback(audit_exc))
        raise
