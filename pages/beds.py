"""Beds: each ward's occupied beds for the next 14 days, alerts, likely discharges and what-if."""

from __future__ import annotations

import streamlit as st

from components import beds_view, fan_chart, runtime
from components.auth_gate import current_actor
from components.i18n import _, error_text
from medspeak.errors import MedspeakError
from medspeak.services import dashboard
from medspeak.services import stays as los

st.title(_("Beds"))
actor = current_actor()
ctx = runtime.context()
store = ctx.store
wards = {w.code: w.name for w in dashboard.ward_census(store, actor)}  # code -> name shown
plan = beds_view.what_if(wards)
try:
    forecast = los.forecast_occupancy(ctx, actor, 14, plan)
except MedspeakError as exc:
    st.error(error_text(exc), icon=":material/error:")
    st.stop()
    raise

st.caption(
    _("Forecast at {generated_at:%a %d %b %H:%M} UTC, model {model_version}.").format(
        generated_at=forecast.generated_at, model_version=forecast.model_version
    )
)
beds_view.alerts(forecast)
beds_view.summary(forecast)
for ward in forecast.wards:
    fan_chart.show(ward)
beds_view.likely_discharges(forecast.likely_discharges)
beds_view.backtest(los.backtest_figures(actor))
