"""Triage: the form (with the nurse's own level), then the level, the critical alert, the second reader's flag,
and her decision, stored and audited; a triage without a patient can be saved to one."""

from __future__ import annotations

import streamlit as st

from components import runtime, triage_form, triage_result
from components.auth_gate import current_actor
from components.i18n import _, error_text, shown
from medspeak.errors import MedspeakError
from medspeak.i18n import N_
from medspeak.services import patients, rationale
from medspeak.services import triage as service
from medspeak.triage.inputs import TriageInputs
from medspeak.triage.plausibility import ImplausibleInputs

_DECISIONS = {"confirmed": N_("confirmed"), "changed": N_("changed")}  # the nurse's decision, as recorded

ctx, actor = runtime.context(), current_actor()
store = ctx.store
st.session_state.setdefault("triage.result", None)
st.session_state.setdefault("triage.issues", [])
st.session_state.setdefault("triage.needed", [])
patient_id = int(st.query_params["patient"]) if st.query_params.get("patient", "").isdigit() else None

st.title(_("Triage"))
prefill, encounter_id, at_door = None, None, None
if patient_id is not None:
    try:
        prefill, encounter_id = service.prefill(store, actor, patient_id)
        label = service.patient_label(store, actor, patient_id)
        at_door = None if encounter_id is None else service.door_level(store, actor, encounter_id)
    except MedspeakError as exc:
        st.error(error_text(exc))
        st.stop()
    st.caption(_("{label}: the form is prefilled from the latest visit; check every value.").format(label=shown(label)))
triage_form.init(prefill, source=patient_id, nurse_level=at_door)


def _assess(inputs: TriageInputs, pid: int | None, encounter: int | None) -> None:
    st.session_state["triage.issues"], st.session_state["triage.needed"] = [], []
    st.session_state["triage.result"] = None
    try:
        st.session_state["triage.result"] = service.assess(
            ctx, actor, inputs, pid, encounter, nurse_level=triage_form.nurse_level()
        )
    except ImplausibleInputs as exc:
        st.session_state["triage.issues"] = exc.issues
    except service.IncompleteInputs as exc:
        st.session_state["triage.needed"] = exc.items(_)
    except MedspeakError as exc:
        st.error(error_text(exc))


values = triage_form.show()
if values is not None:
    try:
        _assess(TriageInputs.from_form(values), patient_id, encounter_id)
    except MedspeakError as exc:
        st.error(error_text(exc))

for i, issue in enumerate(st.session_state["triage.issues"]):
    if issue.converted is None:
        st.error(shown(issue.message))
    else:
        st.warning(shown(issue.message))
        st.button(
            _("Use {converted:g} ({conversion})").format(converted=issue.converted, conversion=issue.conversion),
            key=f"triage.convert.{i}",
            on_click=triage_form.accept,
            args=(issue,),
        )
if st.session_state["triage.issues"]:
    st.info(_("Correct or convert the values above, then propose a level again."))
if st.session_state["triage.needed"]:
    st.info(_("No level yet: not enough is recorded. Please record:"))
    for item in st.session_state["triage.needed"]:
        st.text(f"• {item}")

result = st.session_state["triage.result"]
if result is not None:

    def _decide(level: int, reason: str) -> None:
        try:
            record = service.decide(store, actor, result.assessment_id, level, reason)
        except MedspeakError as exc:
            st.error(error_text(exc))
        else:
            yours = "" if record.nurse_level is None else _("; your level was {level}").format(level=record.nurse_level)
            st.success(
                _("Decision recorded: level {level} ({decision}{yours}; medspeak showed {shown}).").format(
                    level=level, decision=_(_DECISIONS[record.decision]), yours=yours, shown=record.model_level
                )
            )

    model, no_model = rationale.language_model(ctx)
    triage_result.show(
        result,
        on_decide=_decide if result.assessment_id else None,
        on_rationale=None if model is None else lambda: rationale.write(store, actor, result, model),
        no_rationale=no_model,
    )
    if result.assessment_id is None:
        with st.expander(_("Save this triage to a patient"), expanded=True):
            query = st.text_input(_("Find the patient (name or MRN)"), key="triage.save_query")
            found = patients.search_patients(store, actor, query, limit=20) if query.strip() else []
            choice = st.selectbox(
                _("Patient"),
                found,
                index=None,
                format_func=lambda p: f"{p.name} · MRN {p.mrn} · {p.age} years",
                placeholder=_("type a name or MRN above"),
                key="triage.save_patient",
            )
            st.caption(_("A new patient is registered on the Patients page, then found here."))
            if st.button(_("Save to this patient"), key="triage.save", disabled=choice is None) and choice is not None:
                _assess(result.inputs, choice.id, None)
                st.rerun()
