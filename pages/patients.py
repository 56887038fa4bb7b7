"""Patients: search, open a patient (with the record merged from their documents), register a new one."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from components import patient_form, patient_view, record_view, runtime, web_routes
from components.auth_gate import current_actor
from components.i18n import _, error_text
from medspeak.auth.roles import Permission
from medspeak.clinical.patients import SEX_WORDS
from medspeak.errors import MedspeakError
from medspeak.services import documents, patients, record

store, actor = runtime.store(), current_actor()
st.session_state.setdefault("patients.selected_id", None)
if st.query_params.get("patient", "").isdigit():
    st.session_state["patients.selected_id"] = int(st.query_params["patient"])


def _open(patient_id: int) -> None:
    st.session_state["patients.selected_id"] = patient_id
    st.query_params["patient"] = str(patient_id)  # a link a colleague can open (after logging in)


def _close() -> None:
    st.session_state["patients.selected_id"] = None
    st.query_params.pop("patient", None)


def _search() -> None:
    query = st.text_input(_("Search by name or MRN"), key="patients.query", placeholder=_("e.g. Martin or MS000012"))
    results = patients.search_patients(store, actor, query)
    shown = _("{count} patient(s)").format(count=len(results))
    st.caption(shown + (" " + _("shown (refine the search for more)") if len(results) == 50 else ""))
    if not results:
        return
    frame = pd.DataFrame(
        {
            _("MRN"): [r.mrn for r in results],
            _("Name"): [r.name for r in results],
            _("Sex"): [_(SEX_WORDS.get(r.sex, r.sex)) for r in results],
            _("Age"): [r.age for r in results],
            _("Ward now"): [_(r.current_ward) if r.current_ward else "" for r in results],
        }
    )
    event = st.dataframe(
        frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row", key="patients.table"
    )
    if event is not None and event.selection.rows:
        _open(results[event.selection.rows[0]].id)
        st.rerun()


selected = st.session_state["patients.selected_id"]
if selected is None:
    st.title(_("Patients"))
    _search()
    if actor.can(Permission.WRITE_CLINICAL):
        with st.expander(_("Register a patient"), icon=":material/person_add:"):
            patient_form.show(partial(patients.register_patient, store, actor), key="patients.register")
else:
    st.button(_("All patients"), icon=":material/arrow_back:", on_click=_close, key="patients.back")
    try:
        patient_view.show(
            patients.get_patient(store, actor, selected),
            original_url=web_routes.original_url,
        )
    except MedspeakError as exc:
        st.error(error_text(exc))
    else:
        if actor.can(Permission.READ_CLINICAL):  # the service checks too; this only hides what would be refused
            calls = record_view.RecordCalls(
                patient_record=partial(record.patient_record, store, actor),
                export_gold=lambda pid: record.export_gold(store, actor, patient_id=pid),
                document_detail=partial(documents.document_detail, store, actor),
                page_image=partial(documents.page_image, store, actor),
                review_fact=partial(record.review_fact, store, actor) if actor.can(Permission.WRITE_CLINICAL) else None,
                confirm_patient=(
                    (lambda doc, reason: documents.confirm_patient(store, actor, doc, reason=reason))
                    if actor.can(Permission.WRITE_CLINICAL)
                    else None
                ),
            )
            record_view.show(calls, selected)
