"""Small tables shared by pages: documents and assessments."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from medspeak.services.patients import AssessmentSummary, DocumentSummary

_KINDS = {
    "discharge_summary": "Discharge summary",
    "prescription": "Prescription",
    "lab_order": "Lab order",
    "imaging_order": "Imaging order",
}


_ASSESSMENTS = {"triage": "Triage", "los": "Length of stay"}


def kind_label(kind: str) -> str:
    return _KINDS.get(kind, kind.replace("_", " ").capitalize())


def documents(docs: list[DocumentSummary], *, empty: str = "No documents yet.") -> None:
    if not docs:
        st.caption(empty)
        return
    st.dataframe(
        pd.DataFrame(
            {
                "Received": [f"{d.received_on:%Y-%m-%d}" if d.received_on else "" for d in docs],
                "Uploaded": [d.created_at.strftime("%Y-%m-%d %H:%M") for d in docs],
                "Document": [d.display_name for d in docs],
                "Kind": [kind_label(d.kind) for d in docs],
                "Language": [(d.language or "").upper() for d in docs],
                "Pages": [str(d.page_count) if d.page_count else "" for d in docs],
                "Status": [d.status for d in docs],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def assessments(items: list[AssessmentSummary], *, empty: str = "No assessments yet.") -> None:
    if not items:
        st.caption(empty)
        return
    st.dataframe(
        pd.DataFrame(
            {
                "When": [a.created_at.strftime("%Y-%m-%d %H:%M") for a in items],
                "Patient": [f"{a.patient_name} · {a.patient_mrn}" if a.patient_name else "" for a in items],
                "Kind": [_ASSESSMENTS.get(a.kind, a.kind) for a in items],
                "Result": [a.result for a in items],
            }
        ),
        hide_index=True,
        width="stretch",
    )
