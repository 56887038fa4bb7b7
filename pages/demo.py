"""Demo: the guided path for a room of stakeholders, each step one click to the right page and patient."""

from __future__ import annotations

import streamlit as st

from components import demo_steps, navigation, runtime
from components.auth_gate import current_actor
from components.i18n import _, error_text
from medspeak.auth.roles import Permission
from medspeak.errors import MedspeakError
from medspeak.services import demo

store, actor = runtime.store(), current_actor()
st.title(_("Demo: the story in five minutes"))
st.caption(
    _(
        "For presenters: six steps, each with one sentence to say and one click to the page it speaks of, "
        "with the story's patient already chosen."
    )
)
patient = None
if actor.can(Permission.READ_PATIENTS):  # the service checks too: an administrator reads no patient
    try:
        patient = demo.demo_patient(store, actor)
    except MedspeakError as exc:
        st.error(error_text(exc))
if patient is not None:
    st.info(_("The story's patient: {patient}").format(patient=patient.label), icon=":material/person:")
elif actor.can(Permission.READ_PATIENTS):
    st.warning(_("No patient in a bed after an emergency visit: seed the demo data first (`medspeak demo seed`)."))
allowed = {spec.file for spec in navigation.specs_for(actor.role)}
demo_steps.show(demo_steps.steps(patient), allowed)
if runtime.settings().demo:
    st.caption(_("Demo install: an administrator puts the data back as seeded on the Administration page."))
