"""One patient's page: identity, stays and visits, documents and assessments."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from components import tables
from components.i18n import _
from components.safe_text import md
from medspeak.clinical.vitals import TRIAGE_VITALS
from medspeak.services.patients import DocumentSummary, EncounterSummary, PatientView

OriginalUrl = Callable[[int], str]  # document id -> where the browser downloads its original

_SEX = {"female": "F", "male": "M", "unknown": "?"}
_VITALS = (*((v.key, v) for v in TRIAGE_VITALS), ("mental_status", None))
_SPECS = {v.key: v for v in TRIAGE_VITALS}


def _encounters_frame(encounters: list[EncounterSummary]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            _("Type"): [_("ED visit") if e.kind == "emergency" else _("Admission") for e in encounters],
            _("Start"): [e.started_at.strftime("%Y-%m-%d %H:%M") for e in encounters],
            _("End"): [e.ended_at.strftime("%Y-%m-%d %H:%M") if e.ended_at else _("ongoing") for e in encounters],
            _("Ward"): [_(e.ward) if e.ward else "" for e in encounters],
            _("Stay (days)"): [_blank(e.length_of_stay_days) for e in encounters],
            _("Chief complaint"): [e.chief_complaint or "" for e in encounters],
            _("Acuity"): [_blank(e.acuity) for e in encounters],
            _("Arrival"): [e.arrival_mode or "" for e in encounters],
        }
    )


def _blank(value: object) -> str:
    return "" if value is None else str(value)


def _latest_vitals(encounters: list[EncounterSummary]) -> None:
    visit = next((e for e in encounters if e.vitals), None)
    if visit is None or visit.vitals is None:
        return
    where = _("ED visit") if visit.kind == "emergency" else _("admission")
    st.markdown(
        _("**Latest vitals** ({where}, {started_at:%Y-%m-%d %H:%M})").format(where=where, started_at=visit.started_at)
    )
    cols = st.columns(len(_VITALS))
    for col, (key, spec) in zip(cols, _VITALS, strict=True):
        col.metric(spec.column_label_in(_) if spec else "AVPU", _shown(key, visit.vitals.get(key)))


def _shown(key: str, value: object) -> str:
    """A vital as a nurse writes it: "98", "37.4" (the spec's decimals), never "98.0"."""
    if value is None:
        return _("missing")
    spec = _SPECS.get(key)
    if spec is not None and isinstance(value, int | float) and not isinstance(value, bool):
        return spec.number_format % value
    return str(value)


def _originals(docs: list[DocumentSummary], original_url: OriginalUrl) -> None:
    """A link to the chosen original on the server's download route (this browser's session; audited)."""
    names = {d.id: f"{tables.kind_label(d.kind)} · {d.display_name}" for d in docs}
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    chosen = c1.selectbox(
        _("Original document"), list(names), format_func=names.__getitem__, key="patient_view.original"
    )
    if chosen is not None:
        c2.link_button(_("Download original"), original_url(chosen), icon=":material/download:")


def show(view: PatientView, original_url: OriginalUrl | None = None) -> None:
    p = view.patient
    st.header(p.name)
    st.caption(
        _("MRN {mrn} · {_SEX} · {age} years (born {birth_date:%Y-%m-%d}) · language {language} · {value}").format(
            mrn=p.mrn,
            _SEX=_SEX.get(p.sex, p.sex),
            age=p.age,
            birth_date=p.birth_date,
            language=view.language.upper(),
            value=_("in {ward}").format(ward=_(p.current_ward)) if p.current_ward else _("not in a bed"),
        )
    )
    _latest_vitals(view.encounters)
    st.subheader(_("Visits and stays"))
    if view.encounters:
        st.dataframe(_encounters_frame(view.encounters), hide_index=True, width="stretch")
    else:
        st.caption(_("No visit or stay recorded."))
    if view.documents is not None:
        st.subheader(_("Documents"))
        tables.documents(view.documents)
        for doc in view.documents:
            text = view.document_texts.get(doc.id)
            if text:
                with st.expander(f"{tables.kind_label(doc.kind)} · {md(doc.display_name)}"):
                    st.text(text)
        if view.documents and original_url is not None:
            _originals(view.documents, original_url)
    if view.assessments is not None:
        st.subheader(_("Assessments"))
        tables.assessments(view.assessments)
