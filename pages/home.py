"""Home: the hospital at a glance, from the store."""

from __future__ import annotations

import streamlit as st

from components import census, runtime, tables
from components.auth_gate import current_actor
from components.i18n import N_, _
from medspeak.services import dashboard

data = dashboard.overview(runtime.store(), current_actor())

st.title(_("Home"))
cols = st.columns(5)
cols[0].metric(_("Patients"), data.patients)
cols[1].metric(_("In beds now"), data.inpatients)
cols[2].metric(_("ED visits, last 24 h"), data.ed_visits_24h)
if data.documents is not None:
    cols[3].metric(_("Documents"), data.documents)
if data.assessments is not None:
    cols[4].metric(_("Assessments"), data.assessments)
st.page_link("pages/demo.py", label=_("Presenting medspeak? Follow the guided demo"), icon=":material/slideshow:")

st.subheader(_("Ward census"))
census.show(data.census)

if data.recent_documents is not None:
    st.subheader(_("Recent documents"))
    tables.documents(data.recent_documents)
if data.recent_assessments is not None:
    st.subheader(_("Recent assessments"))
    tables.assessments(data.recent_assessments, empty=N_("No triage or length-of-stay assessment recorded yet."))
