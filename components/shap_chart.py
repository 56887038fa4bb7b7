"""The SHAP waterfall of one triage proposal, in clinical words (plotly, no matplotlib in the app)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from medspeak.triage.explain import Explanation


def figure(explanation: Explanation) -> go.Figure:
    """Bars from the baseline to the predicted level's score; labels say which way each input pushed."""
    items = list(reversed(explanation.contributions))  # plotly draws the first bar at the bottom
    labels = [f"{c.label} → {c.direction}" for c in items]
    values = [c.shap for c in items]
    if abs(explanation.other) > 1e-6:
        labels.insert(0, "all other inputs")
        values.insert(0, explanation.other)
    fig = go.Figure(
        go.Waterfall(
            orientation="h",
            y=labels,
            x=values,
            base=explanation.base_value,
            measure=["relative"] * len(values),
            increasing={"marker": {"color": "#d62728"}},
            decreasing={"marker": {"color": "#1f77b4"}},
            text=[f"{v:+.2f}" for v in values],
        )
    )
    fig.update_layout(
        title=f"Why level {explanation.level}: contributions to its score (log-odds)",
        height=80 + 36 * len(values),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        showlegend=False,
    )
    return fig


def show(explanation: Explanation) -> None:
    st.plotly_chart(figure(explanation), key="triage.shap_chart")
    st.caption(
        "Red bars raise the chance of the proposed level, blue bars lower it; the words say whether the input "
        "pushed towards the more or the less urgent levels overall (SHAP, TreeExplainer)."
    )
