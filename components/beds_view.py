"""Beds page widgets: what-if planned admissions, alerts, ward summary, likely discharges, back-test.

Session-state keys owned here: ``beds.whatif_ward``, ``beds.whatif_count``, ``beds.whatif_day``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from medspeak.services.beds import ALERT_THRESHOLD, LikelyDischarge, OccupancyForecast, PlannedElectives

_MAX_ELECTIVES = 30


def what_if(wards: dict[str, str]) -> list[PlannedElectives]:
    """Sidebar controls: add N planned admissions to a ward on a day; returns the plan (empty when N = 0)."""
    for key, default in (
        ("beds.whatif_ward", next(iter(wards), "")),
        ("beds.whatif_count", 0),
        ("beds.whatif_day", 1),
    ):
        st.session_state.setdefault(key, default)
    with st.sidebar:
        st.subheader("What if")
        st.selectbox("Ward", list(wards), key="beds.whatif_ward", format_func=lambda code: wards.get(code, code))
        st.number_input(
            "Extra elective admissions", min_value=0, max_value=_MAX_ELECTIVES, step=1, key="beds.whatif_count"
        )
        st.slider("Days from today", min_value=1, max_value=14, key="beds.whatif_day")
    count = int(st.session_state["beds.whatif_count"])
    ward = str(st.session_state["beds.whatif_ward"])
    return [PlannedElectives(ward, count, int(st.session_state["beds.whatif_day"]))] if count and ward else []


def alerts(forecast: OccupancyForecast) -> None:
    """One error line per ward whose chance of running out of beds passes the threshold."""
    flagged = [w for w in forecast.wards if w.alert_days]
    for ward in flagged:
        first = ward.alert_days[0]
        st.error(
            f"{ward.name}: {first.p_exceed:.0%} chance of more patients than its {ward.capacity} beds on "
            f"{first.day:%a %d %b} (alert above {ALERT_THRESHOLD:.0%}).",
            icon=":material/warning:",
        )
    if not flagged:
        st.success(
            f"No ward passes a {ALERT_THRESHOLD:.0%} chance of running out of beds "
            f"in the next {forecast.horizon_days} days."
        )


def summary(forecast: OccupancyForecast) -> None:
    """Per ward: beds, in use now, tomorrow's median and 90 % band, discharges expected today and tomorrow."""
    rows = []
    for w in forecast.wards:
        tomorrow = w.days[0]
        rows.append(
            {
                "Ward": w.name,
                "Beds": w.capacity,
                "In beds now": w.occupied_now,
                "Tomorrow (median)": tomorrow.p50,
                "Tomorrow (90 % band)": f"{tomorrow.p05}-{tomorrow.p95}",
                "Discharges today": round(w.discharges_today, 1),
                "Discharges tomorrow": round(w.discharges_tomorrow, 1),
                "Max P(full)": round(100 * w.peak_p_exceed, 1),
                "Electives added": w.electives_added,
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        key="beds.summary",
        column_config={"Max P(full)": st.column_config.NumberColumn("Max P(over capacity)", format="%.1f %%")},
    )


def likely_discharges(rows: list[LikelyDischarge] | None, limit: int = 15) -> None:
    if rows is None:
        return
    st.subheader("Patients likely to leave")
    if not rows:
        st.info("Nobody is in a bed now.")
        return
    frame = pd.DataFrame(
        {
            "Patient": [r.name for r in rows[:limit]],
            "MRN": [r.mrn for r in rows[:limit]],
            "Ward": [r.ward_name or r.ward_code for r in rows[:limit]],
            "Today": [round(100 * r.p_today) for r in rows[:limit]],
            "By end of tomorrow": [round(100 * r.p_by_tomorrow) for r in rows[:limit]],
            "Expected discharge": [r.expected_discharge.strftime("%a %d %b %H:%M") for r in rows[:limit]],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        key="beds.leaving",
        column_config={
            "Today": st.column_config.ProgressColumn("P(leaves today)", format="%d %%", min_value=0, max_value=100),
            "By end of tomorrow": st.column_config.ProgressColumn(
                "P(leaves by tomorrow)", format="%d %%", min_value=0, max_value=100
            ),
        },
    )


def backtest(figures: dict[str, Any]) -> None:
    """The figures a bed manager can check the forecast against (from the model's training run)."""
    st.subheader("How good is this forecast?")
    occ, los = figures.get("occupancy"), figures.get("los")
    if not occ or not los:
        st.info("No evaluation figures: the model was not trained with `medspeak train los`.")
        return
    cols = st.columns(4)
    cols[0].metric(
        "Census error (median, beds)", f"{occ['mae_beds']:.2f}", help=f"Mean census {occ['mean_census']} beds"
    )
    cols[1].metric("Inside the 90 % band", f"{occ['coverage_90']:.0%}", help="Target 85-95 %")
    cols[2].metric(
        "Stay error (days)",
        f"{los['mae_days']:.2f}",
        help=f"Baseline (median for all): {los['baseline_mae_days']:.2f} days",
    )
    cols[3].metric("Stays inside P10-P90", f"{los['coverage_80']:.0%}", help="Target 75-85 %")
    horizon = list(range(1, len(occ["mae_by_horizon"]) + 1))
    fig = go.Figure(go.Bar(x=horizon, y=occ["mae_by_horizon"], name="error (beds)"))
    fig.update_layout(
        title="Back-test: census error by days ahead",
        height=260,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"title": "days ahead"},
    )
    st.plotly_chart(fig, key="beds.backtest", config={"displayModeBar": False})
    st.caption(
        f"Replay of the MIMIC-IV demo ({occ['days']} forecast days x {occ['horizon_days']} days ahead); "
        f"length of stay by 5-fold cross-validation grouped by patient on {los['admissions']} admissions. "
        "See models/los/MODEL_CARD.md."
    )
