"""Triage: the form, then the proposed level with its reasons; a clinician may override it."""

from __future__ import annotations

import streamlit as st

from components import runtime, triage_form, triage_result
from components.auth_gate import current_actor
from medspeak.errors import MedspeakError
from medspeak.triage import service
from medspeak.triage.inputs import TriageInputs
from medspeak.triage.plausibility import ImplausibleInputs

store, actor = runtime.store(), current_actor()
st.session_state.setdefault("triage.result", None)
st.session_state.setdefault("triage.issues", [])
patient_id = int(st.query_params["patient"]) if st.query_params.get("patient", "").isdigit() else None

st.title("Triage")
prefill, encounter_id = None, None
if patient_id is not None:
    try:
        prefill, encounter_id = service.prefill(store, actor, patient_id)
    except MedspeakError as exc:
        st.error(str(exc))
        st.stop()
    st.caption(f"Patient {patient_id}: the form is prefilled from the latest visit; check every value.")
triage_form.init(prefill, source=patient_id)

values = triage_form.show()
if values is not None:
    st.session_state["triage.issues"], st.session_state["triage.result"] = [], None
    try:
        inputs = TriageInputs.from_form(values)
        st.session_state["triage.result"] = service.assess(store, actor, inputs, patient_id, encounter_id)
    except ImplausibleInputs as exc:
        st.session_state["triage.issues"] = exc.issues
    except MedspeakError as exc:
        st.error(str(exc))

for i, issue in enumerate(st.session_state["triage.issues"]):
    if issue.converted is None:
        st.error(issue.message)
    else:
        st.warning(issue.message)
        st.button(
            f"Use {issue.converted:g} ({issue.conversion})",
            key=f"triage.convert.{i}",
            on_click=triage_form.accept,
            args=(issue,),
        )
if st.session_state["triage.issues"]:
    st.info("Correct or convert the values above, then propose a level again.")

result = st.session_state["triage.result"]
if result is not None:

    def _override(level: int, reason: str) -> None:
        try:
            service.override(store, actor, result.assessment_id, level, reason)
        except MedspeakError as exc:
            st.error(str(exc))
        else:
            st.success(f"Override recorded: level {level} (the model proposed {result.level.number}).")

    triage_result.show(result, on_override=_override if result.assessment_id else None)
