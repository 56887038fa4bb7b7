"""ED queue: patients still waiting or being seen, most urgent first, then longest waiting; alerts and flags shown."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import runtime
from components.auth_gate import current_actor
from components.i18n import N_, _, error_text
from medspeak.errors import MedspeakError
from medspeak.services import triage as service
from medspeak.triage.levels import LEVELS

_HIGHLIGHT = "background-color: #fde0dc"  # a row with a critical alert or an undecided flag
_SOURCES = {
    "nurse": N_("nurse's decision"),
    "override": N_("override"),
    "model": "medspeak",
    "record": N_("at the door"),
    "none": "",
}

store, actor = runtime.store(), current_actor()
st.title(_("ED queue"))
try:
    entries = service.queue(store, actor)
except MedspeakError as exc:
    st.error(error_text(exc))
    st.stop()
alerted = sum(1 for e in entries if e.alert or e.flagged)
st.caption(
    _(
        "{count} patient(s) waiting or being seen; {alerted} with a critical alert or a "
        "flag (highlighted). Select one to triage."
    ).format(count=len(entries), alerted=alerted)
)
if entries:
    frame = pd.DataFrame(
        {
            _("Level"): [f"{e.level} · {_(LEVELS[e.level].name)}" if e.level else _("not triaged") for e in entries],
            _("From"): [_(_SOURCES[e.source]) if _SOURCES[e.source] else "" for e in entries],
            _("Alert"): [_("possible level 1-2") if e.alert else "" for e in entries],
            _("Flag"): [_("nurse's level may be too low") if e.flagged else "" for e in entries],
            _("Waiting"): [
                f"{e.waiting_minutes // 60} h {e.waiting_minutes % 60} min"
                if e.waiting_minutes >= 60
                else f"{e.waiting_minutes} min"
                for e in entries
            ],
            _("Overdue"): [_("yes") if e.overdue else "" for e in entries],
            _("Patient"): [e.name for e in entries],
            _("MRN"): [e.mrn for e in entries],
            _("Age"): [e.age for e in entries],
            _("Complaint"): [e.chief_complaint or "" for e in entries],
        }
    )
    marked = [e.alert or e.flagged for e in entries]
    styled = frame.style.apply(lambda row: [_HIGHLIGHT if marked[row.name] else "" for cell in row], axis=1)
    event = st.dataframe(
        styled, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row", key="ed_queue.table"
    )
    if event is not None and event.selection.rows:
        st.switch_page("pages/triage.py", query_params={"patient": str(entries[event.selection.rows[0]].patient_id)})
