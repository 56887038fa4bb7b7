"""Link a document to a patient, or move it from the wrong one, with the reason (the service audits it)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components import patient_picker
from components.i18n import _, error_text
from medspeak.errors import MedspeakError
from medspeak.services.patients import DocumentSummary

Link = Callable[[int, str], DocumentSummary]


def show(
    summary: DocumentSummary, search: patient_picker.Search, lookup: patient_picker.Lookup, link: Link
) -> DocumentSummary | None:
    """Draw the link form for one document; return the document once linked or moved."""
    moving = summary.patient_id is not None
    title = _("Move to another patient") if moving else _("Link to a patient")
    key = f"documents.link.{summary.id}"
    with st.expander(title, icon=":material/link:", expanded=not moving):
        target = patient_picker.show(
            key,
            search,
            lookup,
            title=_("Patient to file it under"),
            none_label=_("Choose a patient"),
            search_label=_("Find the patient (name or MRN)"),
        )
        reason = st.text_input(
            _("Reason"),
            key=f"{key}.reason",
            placeholder=_("e.g. uploaded before the patient was registered"),
            max_chars=500,
        )
        action = _("Move the document") if moving else _("Link the document")
        if st.button(action, type="primary", key=f"{key}.go", disabled=target is None or target == summary.patient_id):
            try:
                return link(target or 0, reason)
            except MedspeakError as exc:
                st.error(error_text(exc))
    return None
