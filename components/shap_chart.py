"""Why a triage proposal: P(level 1-2) input by input, in percentage points (plotly, no matplotlib in the app).

What the nurse reads: "SpO2 85 % → +13 points towards level 1-2", only the inputs that move it by a point
or more, grouped (vitals, complaint, age and sex, arrival); the rest in one bar.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from components.i18n import N_, _, shown
from medspeak.triage.explain import Points

_SECTIONS = {  # the core's section of each driver -> its heading
    "vitals": N_("Vitals"),
    "complaint": N_("Complaint"),
    "age and sex": N_("Age and sex"),
    "arrival": N_("Arrival"),
    "other": N_("Other"),
}


def _words(points: float) -> str:
    said = _("{points:+.0f} points towards level 1-2") if points > 0 else _("{points:+.0f} points away from level 1-2")
    return said.format(points=points)


def figure(points: Points) -> go.Figure:
    """Bars from the average patient's P(level 1-2) to this patient's; each bar one input, in points."""
    items = list(reversed(points.drivers))  # plotly draws the first bar at the bottom
    labels = [f"{shown(d.label)} ({_(_SECTIONS.get(d.section, d.section)).lower()})" for d in items]
    values = [d.points for d in items]
    if abs(points.other) >= 0.5:
        labels.insert(0, _("all other inputs"))
        values.insert(0, points.other)
    fig = go.Figure(
        go.Waterfall(
            orientation="h",
            y=labels,
            x=values,
            base=points.base,
            measure=["relative"] * len(values),
            increasing={"marker": {"color": "#d62728"}},
            decreasing={"marker": {"color": "#1f77b4"}},
            text=[f"{v:+.0f}" for v in values],
        )
    )
    fig.update_layout(
        title=_("P(level 1-2): {base:.0f} % for the average patient → {probability:.0f} % for this one").format(
            base=points.base, probability=points.probability
        ),
        xaxis_title=_("percent"),
        height=100 + 36 * len(values),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        showlegend=False,
    )
    return fig


def show(points: Points) -> None:
    for (
        section,
        heading,
    ) in _SECTIONS.items():  # grouped, strongest first within each; the complaint in the nurse's words
        drivers = [d for d in points.drivers if d.section == section]
        if drivers:
            st.caption(_(heading))
        for driver in drivers:
            st.text(f"• {shown(driver.label)} → {_words(driver.points)}")
    if not points.drivers:
        st.write(_("No single input moves P(level 1-2) by a point or more."))
    st.plotly_chart(figure(points), key="triage.shap_chart")
    st.caption(
        _(
            "Red bars raise the probability of level 1-2, blue bars lower it, in percentage points of the calibrated "
            "probability (SHAP values of the model, TreeExplainer, turned into probability along the way from the "
            "average patient to this one). Inputs that move it by less than one point are summed in 'all other inputs'."
        )
    )
