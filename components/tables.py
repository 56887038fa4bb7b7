"""Small tables shared by pages: documents and assessments."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.i18n import N_, _
from medspeak.services.patients import AssessmentSummary, DocumentSummary

_KINDS = {
    "discharge_summary": N_("Discharge summary"),
    "prescription": N_("Prescription"),
    "lab_order": N_("Lab order"),
    "imaging_order": N_("Imaging order"),
    "report": N_("Report"),
    "other": N_("Other"),
}
_STATUSES = {
    "received": N_("received"),
    "queued": N_("queued"),
    "reading": N_("reading"),
    "running": N_("reading"),
    "read": N_("read"),
    "done": N_("read"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
}


_ASSESSMENTS = {"triage": N_("Triage"), "los": N_("Length of stay")}


def kind_label(kind: str) -> str:
    return _(_KINDS[kind]) if kind in _KINDS else kind.replace("_", " ").capitalize()


def status_label(status: str) -> str:
    return _(_STATUSES.get(status, status))


def documents(docs: list[DocumentSummary], *, empty: str = N_("No documents yet.")) -> None:
    if not docs:
        st.caption(_(empty))
        return
    st.dataframe(
        pd.DataFrame(
            {
                _("Received"): [f"{d.received_on:%Y-%m-%d}" if d.received_on else "" for d in docs],
                _("Uploaded"): [d.created_at.strftime("%Y-%m-%d %H:%M") for d in docs],
                _("Document"): [d.display_name for d in docs],
                _("Kind"): [kind_label(d.kind) for d in docs],
                _("Language"): [(d.language or "").upper() for d in docs],
                _("Pages"): [str(d.page_count) if d.page_count else "" for d in docs],
                _("Status"): [status_label(d.status) for d in docs],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def assessments(items: list[AssessmentSummary], *, empty: str = N_("No assessments yet.")) -> None:
    if not items:
        st.caption(_(empty))
        return
    st.dataframe(
        pd.DataFrame(
            {
                _("When"): [a.created_at.strftime("%Y-%m-%d %H:%M") for a in items],
                _("Patient"): [f"{a.patient_name} · {a.patient_mrn}" if a.patient_name else "" for a in items],
                _("Kind"): [_(_ASSESSMENTS[a.kind]) if a.kind in _ASSESSMENTS else a.kind for a in items],
                _("Result"): [a.result for a in items],
            }
        ),
        hide_index=True,
        width="stretch",
    )
