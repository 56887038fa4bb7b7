"""Length of stay: one patient's predicted stay, its interval, drivers and history of updates."""

from __future__ import annotations

from functools import partial

import streamlit as st

from components import runtime, stay_view
from components.auth_gate import current_actor
from components.i18n import _, error_text
from medspeak.auth.roles import Permission
from medspeak.errors import MedspeakError
from medspeak.services import stays as los

st.title(_("Length of stay"))
actor = current_actor()
ctx = runtime.context()
store = ctx.store
try:
    stays = los.current_stays(store, actor)
except MedspeakError as exc:  # a role that may not read stays: say so, draw nothing of the hospital
    st.error(error_text(exc), icon=":material/error:")
    st.stop()
    raise
encounter_id = stay_view.choose(stays)
if encounter_id is not None:
    try:
        prediction = los.predict_stay(ctx, actor, encounter_id)
    except MedspeakError as exc:
        st.error(error_text(exc), icon=":material/error:")
        st.stop()
        raise
    stay_view.prediction(prediction)
    # Reading the prediction writes nothing; a clinician stores it in the stay's history by clicking Save.
    may_save = actor.can(Permission.WRITE_CLINICAL)
    stay_view.save(partial(los.predict_stay, ctx, actor, encounter_id, save=True) if may_save else None)
    stay_view.drivers(prediction)
    stay_view.history(los.stay_history(store, actor, encounter_id))
