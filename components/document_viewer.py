"""A document's pages: the page image with the recognised words over it, beside the text.

Session-state keys owned here: ``documents.page``, ``documents.boxes``.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from PIL import Image

from medspeak.errors import MedspeakError
from medspeak.ingest.overlay import LOW_CONFIDENCE, draw_words
from medspeak.services.documents import DocumentDetail

PageImage = Callable[[int], Image.Image]


def show(detail: DocumentDetail, page_image: PageImage) -> None:
    doc = detail.summary
    st.markdown(f"**{doc.display_name}** · {doc.kind.replace('_', ' ')} · status **{doc.status}**")
    if detail.error:
        st.warning(detail.error)
    if not detail.pages:
        st.info("No text yet: the document is waiting to be read, or could not be read.")
        return
    numbers = [p.number for p in detail.pages]
    number = numbers[0]
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
                st.image(draw_words(image, page.words) if boxes else image, width="stretch")
    with right:
        st.text_area(
            "Text",
            page.text,
            height=700 if detail.has_image else 400,
            disabled=True,
            key=f"documents.text.{doc.id}.{page.number}",
        )
