"""ED queue: today's emergency patients, most urgent first, then longest waiting."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import runtime
from components.auth_gate import current_actor
from medspeak.errors import MedspeakError
from medspeak.triage import service
from medspeak.triage.levels import LEVELS

store, actor = runtime.store(), current_actor()
st.title("ED queue")
try:
    entries = service.queue(store, actor)
except MedspeakError as exc:
    st.error(str(exc))
    st.stop()
st.caption(f"{len(entries)} patient(s) arrived in the last 24 hours. Select one to triage.")
if entries:
    frame = pd.DataFrame(
        {
            "Level": [f"{e.level} · {LEVELS[e.level].name}" if e.level else "not triaged" for e in entries],
            "From": [e.source for e in entries],
            "Waiting (min)": [e.waiting_minutes for e in entries],
            "Overdue": ["yes" if e.overdue else "" for e in entries],
            "MRN": [e.mrn for e in entries],
            "Name": [e.name for e in entries],
            "Complaint": [e.chief_complaint or "" for e in entries],
        }
    )
    event = st.dataframe(
        frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row", key="ed_queue.table"
    )
    if event is not None and event.selection.rows:
        st.switch_page("pages/triage.py", query_params={"patient": str(entries[event.selection.rows[0]].patient_id)})
