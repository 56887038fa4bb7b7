"""A document's pages: the page image with the recognised words over it, beside the text.

Session-state keys owned here: ``documents.page``, ``documents.boxes``.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st
from PIL import Image

from medspeak.errors import MedspeakError
from medspeak.ingest.overlay import LOW_CONFIDENCE, draw_words
from medspeak.services.documents import DocumentDetail, FactView

PageImage = Callable[[int], Image.Image]


_CATEGORIES = {
    "medication": "Medications",
    "problem": "Problems",
    "vital": "Vitals",
    "lab": "Labs",
    "allergy": "Allergies",
    "order": "Orders",
}


def _facts(detail: DocumentDetail) -> FactView | None:
    """The extracted facts, each with its evidence; the chosen one is framed on its page."""
    if not detail.facts:
        return None
    st.markdown("**Facts found** (each one points to the words it came from)")
    frame = pd.DataFrame(
        {
            "Kind": [_CATEGORIES.get(f.category, f.category) for f in detail.facts],
            "Fact": [f.label for f in detail.facts],
            "Assertion": [f.assertion for f in detail.facts],
            "Evidence": [f.evidence_text or "" for f in detail.facts],
            "Page": [str(f.page or "") for f in detail.facts],
            "Match": [f.grounding for f in detail.facts],
        }
    )
    event = st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=f"documents.facts.{detail.summary.id}",
    )
    rows = event.selection.rows if event is not None else []
    if not rows:
        st.caption("Select a fact to see its evidence.")
        return None
    fact = detail.facts[rows[0]]
    if fact.evidence_start is not None and fact.evidence_end is not None:
        start, end = fact.evidence_start, fact.evidence_end
        before = detail.text[max(0, start - 120) : start].replace("\n", " ")
        after = detail.text[end : end + 120].replace("\n", " ")
        st.markdown(f"…{_md(before)}:red-background[**{_md(detail.text[start:end])}**]{_md(after)}…")
    return fact


def _md(text: str) -> str:
    """Plain text safe inside Markdown (no emphasis, links or directives from the document)."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|:<>~$" else ch for ch in text)


def show(detail: DocumentDetail, page_image: PageImage) -> None:
    doc = detail.summary
    st.markdown(f"**{doc.display_name}** · {doc.kind.replace('_', ' ')} · status **{doc.status}**")
    if detail.error:
        st.warning(detail.error)
    if not detail.pages:
        st.info("No text yet: the document is waiting to be read, or could not be read.")
        return
    chosen = _facts(detail)
    numbers = [p.number for p in detail.pages]
    number = numbers[0]
    if chosen is not None and chosen.page in numbers:
        st.session_state["documents.page"] = chosen.page  # turn to the page of the chosen evidence
    if len(numbers) > 1:
        number = st.select_slider("Page", options=numbers, key="documents.page")
    page = detail.pages[numbers.index(number)]
    low = sum(1 for w in page.words if w.conf < LOW_CONFIDENCE)
    conf = f"mean confidence {page.mean_confidence:.0f}" if page.mean_confidence is not None else ""
    st.caption(
        f"Page {page.number}: {page.source}, {len(page.words)} words, {conf}, {low} low-confidence "
        f"(amber), read in {page.seconds:.1f} s"
    )
    if page.error:
        st.error(f"Page {page.number} failed: {page.error}")
    left, right = st.columns(2) if detail.has_image else (None, st.container())
    if left is not None:
        with left:
            boxes = st.toggle("Show recognised words", value=True, key="documents.boxes")
            try:
                image = page_image(page.number)
            except MedspeakError as exc:
                st.error(str(exc))
            else:
                highlight = chosen.bbox if chosen is not None and chosen.page == page.number else None
                shown = draw_words(image, page.words if boxes else [], highlight=highlight)
                st.image(shown, width="stretch")
    with right:
        st.text_area(
            "Text",
            page.text,
            height=700 if detail.has_image else 400,
            disabled=True,
            key=f"documents.text.{doc.id}.{page.number}",
        )
