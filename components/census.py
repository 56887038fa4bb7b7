"""Ward census table: occupied and free beds against capacity."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from medspeak.services.dashboard import WardCensus


def show(census: list[WardCensus]) -> None:
    if not census:
        st.info("No wards are defined yet.")
        return
    frame = pd.DataFrame(
        {
            "Ward": [w.name for w in census],
            "Capacity": [w.capacity for w in census],
            "Occupied": [w.occupied for w in census],
            "Free": [w.free for w in census],
            "Occupancy": [round(100 * w.occupancy, 1) for w in census],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "Occupancy": st.column_config.ProgressColumn("Occupancy", format="%.0f %%", min_value=0, max_value=100),
        },
    )
