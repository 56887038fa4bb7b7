"""Documents: reading an original back (clinicians only, audited)."""

from __future__ import annotations

from medspeak.auth.roles import Actor, Permission
from medspeak.errors import NotFound
from medspeak.services.audited import audited
from medspeak.services.patients import DocumentSummary, document_summary
from medspeak.store.db import Store
from medspeak.store.files import DocumentStorage
from medspeak.store.models import Document

__all__ = ["read_original"]


def read_original(store: Store, actor: Actor, document_id: int) -> tuple[DocumentSummary, bytes]:
    """The stored original of a document, for download or display."""
    with audited(store, actor, "document.read", Permission.READ_CLINICAL, document_id=document_id) as call:
        doc = call.db.get(Document, document_id)
        if doc is None:
            raise NotFound(f"No document with id {document_id}.")
        call.patient_id = doc.patient_id
        try:
            content = DocumentStorage(store.settings.documents_dir).read(doc.storage_key)
        except (OSError, ValueError) as exc:
            raise NotFound("The original file of this document is missing from storage.") from exc
        return document_summary(doc), content
