"""LOS page widgets: choosing a stay, the prediction with its interval and drivers, and its history.

Session-state key owned here: ``los.encounter`` (the chosen stay).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from medspeak.services.stays import StayPrediction, StayRef, StayUpdate


def choose(stays: list[StayRef]) -> int | None:
    """A select box of the patients in a bed; a ``?encounter=`` link preselects one."""
    if not stays:
        st.info("Nobody is in a bed now.")
        return None
    ids = [s.encounter_id for s in stays]
    wanted = st.query_params.get("encounter")
    if "los.encounter" not in st.session_state or (wanted and wanted.isdigit() and int(wanted) in ids):
        st.session_state["los.encounter"] = (
            int(wanted) if wanted and wanted.isdigit() and int(wanted) in ids else ids[0]
        )
    labels = {s.encounter_id: f"{s.ward} - {s.name} ({s.mrn})" for s in stays}
    st.selectbox("Patient in a bed", ids, format_func=labels.__getitem__, key="los.encounter")
    return int(st.session_state["los.encounter"])


def prediction(p: StayPrediction) -> None:
    """Expected discharge with its 80 % interval, days so far, and the stay in days."""
    cols = st.columns(4)
    cols[0].metric("Expected discharge", f"{p.discharge[1]:%a %d %b}", help="Median of the predicted stay")
    cols[1].metric("80 % interval", f"{p.discharge[0]:%d %b} - {p.discharge[2]:%d %b}", help="10th to 90th percentile")
    cols[2].metric("Days in hospital", f"{p.elapsed_days:.1f}")
    cols[3].metric(
        "Predicted stay (days)", f"{p.total_days[1]:.1f}", help=f"P10 {p.total_days[0]:.1f}, P90 {p.total_days[2]:.1f}"
    )
    if p.actual_days is not None:
        st.info(f"This stay is over: it lasted {p.actual_days:.1f} days. Shown: the prediction made at admission.")
    st.caption(
        f"Model {p.model_version}: predicted from what was known at admission ({p.reports_seen} report(s) "
        f"written by then), given {p.elapsed_days:.1f} days already in hospital; as of {p.as_of:%d %b %H:%M} UTC. "
        "Reports written since admission do not change it: on the back-test they did not improve it."
    )


def drivers(p: StayPrediction) -> None:
    """What lengthens or shortens this stay (SHAP), as a bar chart and in words."""
    st.subheader("Why")
    if not p.drivers:
        st.write("No input moves this prediction away from the average stay.")
        return
    rows = list(reversed(p.drivers))
    fig = go.Figure(
        go.Bar(
            x=[d.effect_pct for d in rows],
            y=[d.text for d in rows],
            orientation="h",
            marker_color=["#d62728" if d.effect_pct > 0 else "#2ca02c" for d in rows],
        )
    )
    fig.update_layout(
        height=60 + 40 * len(rows),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": "% change of the median stay"},
    )
    st.plotly_chart(fig, key="los.drivers", config={"displayModeBar": False})
    st.markdown("\n".join(f"- {d.sentence}" for d in p.drivers))


def history(updates: list[StayUpdate]) -> None:
    """Each stored prediction of this stay: when, after how many days in hospital, and the predicted stay."""
    st.subheader("History of updates")
    if not updates:
        st.write("No earlier prediction.")
        return
    st.dataframe(
        pd.DataFrame(
            {
                "When": [u.created_at.strftime("%d %b %H:%M") for u in updates],
                "Days in": [round(u.elapsed_days, 1) for u in updates],
                "Reports at admission": [u.reports_seen for u in updates],
                "P10": [round(u.total_days[0], 1) for u in updates],
                "Median stay": [round(u.total_days[1], 1) for u in updates],
                "P90": [round(u.total_days[2], 1) for u in updates],
                "Model": [u.model_version for u in updates],
            }
        ),
        hide_index=True,
        width="stretch",
        key="los.history",
    )
