"""A document's pages: the page image with the recognised words over it, beside the text.

``show_evidence`` shows one fact's words (highlighted in the text, framed on the page image) for
other views, such as the patient record. Session-state keys owned here: ``documents.page``,
``documents.boxes``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import pandas as pd
import streamlit as st
from PIL import Image

from components.i18n import N_, _, error_text, stored
from components.safe_text import md
from medspeak.errors import MedspeakError
from medspeak.indexing.grounding import mention_of
from medspeak.ingest.overlay import LOW_CONFIDENCE, crop_around, draw_words
from medspeak.services.documents import DocumentDetail, FactView

PageImage = Callable[[int], Image.Image]
Review = Callable[[FactView], None]


class Evidence(Protocol):
    """Where a fact's words are: a ``FactView`` or a record line's ``Source``."""

    @property
    def evidence_start(self) -> int | None: ...
    @property
    def evidence_end(self) -> int | None: ...
    @property
    def page(self) -> int | None: ...
    @property
    def bbox(self) -> tuple[float, float, float, float] | None: ...


_CATEGORIES = {
    "medication": N_("Medications"),
    "problem": N_("Problems"),
    "finding": N_("Findings"),
    "vital": N_("Vitals"),
    "lab": N_("Labs"),
    "allergy": N_("Allergies"),
    "order": N_("Orders"),
    "demographics": N_("Demographics"),
    "encounter": N_("Encounter"),
    "procedure": N_("Procedures"),
    "follow_up": N_("Follow-up"),
}


# Background colour of each kind of fact in the highlighted text; denied facts are grey. Streamlit has
# eight background colours: visit facts (demographics, encounter, follow-up) share one, procedures
# take the last; orders stay grey like the rest.
_COLOURS = {
    "medication": "blue",
    "problem": "orange",
    "finding": "orange",
    "vital": "green",
    "lab": "violet",
    "allergy": "red",
    "procedure": "yellow",
    "encounter": "primary",
    "demographics": "primary",
    "follow_up": "primary",
}
_LEGEND = {"primary": N_("visit (patient, encounter, follow-up)")}


def _all_facts_markdown(text: str, facts: list[FactView]) -> str:
    """The document text with every fact's words on the colour of its kind (first of overlapping spans)."""
    spans = sorted(
        (
            (f.evidence_start, f.evidence_end, f)
            for f in facts
            if f.evidence_start is not None and f.evidence_end is not None
        ),
        key=lambda span: (span[0], -span[1]),  # the longest of spans starting together
    )
    out, pos = [], 0
    for start, end, fact in spans:
        if start < pos:
            continue  # "BP 142/88" carries two vitals over one span
        colour = "gray" if fact.assertion == "absent" else _COLOURS.get(fact.category, "gray")
        out.append(_md(text[pos:start]).replace("\n", "  \n"))
        out.append(f":{colour}-background[{_md(text[start:end]).replace(chr(10), ' ')}]")
        pos = end
    out.append(_md(text[pos:]).replace("\n", "  \n"))
    return "".join(out)


def _facts(detail: DocumentDetail) -> FactView | None:
    """The extracted facts, each with its evidence; the chosen one is framed on its page."""
    if not detail.facts:
        return None
    st.markdown(_("**Facts found** (each one points to the words it came from)"))
    frame = pd.DataFrame(
        {
            _("Kind"): [_(_CATEGORIES[f.category]) if f.category in _CATEGORIES else f.category for f in detail.facts],
            _("Fact"): [f.label for f in detail.facts],
            _("Assertion"): [f.assertion for f in detail.facts],
            _("Evidence"): [f.evidence_text or "" for f in detail.facts],
            _("Page"): [str(f.page or "") for f in detail.facts],
            _("Match"): [f.grounding for f in detail.facts],
            _("Review"): [f.review_status for f in detail.facts],
        }
    )
    narrow = st.column_config.TextColumn(width="small")
    event = st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=f"documents.facts.{detail.summary.id}",
        # The fact and its words get the room (they were cut at a tenth of the table); the codes stay narrow.
        column_config={
            _("Fact"): st.column_config.TextColumn(width="large"),
            _("Evidence"): st.column_config.TextColumn(width="large"),
            **{name: narrow for name in (_("Page"), _("Match"), _("Review"))},
        },
    )
    with st.expander(_("Text with the facts highlighted by kind"), icon=":material/format_color_text:"):
        names = {c: _(_LEGEND[c]) if c in _LEGEND else _(_CATEGORIES[k]).lower() for k, c in reversed(_COLOURS.items())}
        legend = " ".join(f":{c}-background[{name}]" for c, name in reversed(names.items()))
        st.caption(_("{legend} :gray-background[denied or other]").format(legend=legend))
        st.markdown(_all_facts_markdown(detail.text, detail.facts))
    rows = event.selection.rows if event is not None else []
    if not rows:
        st.caption(_("Select a fact to see its evidence."))
        return None
    fact = detail.facts[rows[0]]
    highlight_text(detail.text, fact)
    return fact


def highlight_text(text: str, evidence: Evidence) -> None:
    """The evidence in its sentence: the words highlighted, 120 characters of context each side."""
    if evidence.evidence_start is None or evidence.evidence_end is None:
        return
    start, end = evidence.evidence_start, evidence.evidence_end
    before = text[max(0, start - 120) : start].replace("\n", " ")
    after = text[end : end + 120].replace("\n", " ")
    st.markdown(
        _("…{before}:red-background[**{text}**]{after}…").format(
            before=_md(before), text=_md(text[start:end]), after=_md(after)
        )
    )


# How much of the page the evidence image shows around the framed words (margin as a fraction of the page).
_ZOOM = {N_("Close-up"): 0.04, N_("Paragraph"): 0.12, N_("Full page"): None}


def show_evidence(detail: DocumentDetail, evidence: Evidence, page_image: PageImage, *, key: str = "evidence") -> None:
    """One fact's evidence: which mention it is (page, line, "mention 2 of 2"), its words highlighted in the
    text, and the page image cropped around the framed words at a legible size, with a zoom."""
    doc = detail.summary
    where = (
        mention_of(detail.text, evidence.evidence_start, evidence.evidence_end)
        if evidence.evidence_start is not None and evidence.evidence_end is not None
        else None
    )
    st.caption(
        f"{doc.display_name} · {doc.kind.replace('_', ' ')}"
        + (" · " + _("page {number}").format(number=evidence.page) if evidence.page else "")
        + (
            " · "
            + _("line {line} · mention {number} of {count}").format(
                line=where.line, number=where.number, count=where.count
            )
            if where
            else ""
        )
    )
    highlight_text(detail.text, evidence)
    if not detail.has_image or evidence.page is None:
        return
    try:
        image = page_image(evidence.page)
    except MedspeakError as exc:
        st.error(error_text(exc))
        return
    framed = draw_words(image, [], highlight=evidence.bbox)
    zoom = (
        st.segmented_control(_("Page image"), list(_ZOOM), default="Close-up", format_func=_, key=f"{key}.zoom")
        or "Close-up"
    )
    margin = _ZOOM[zoom]
    if evidence.bbox is not None and margin is not None:
        framed = crop_around(framed, evidence.bbox, margin)
    st.image(framed, width="stretch", caption=_("The words framed in red") if evidence.bbox else None)


def markdown_safe(text: str) -> str:
    """Document words as Markdown text: no emphasis, links or directives from the document."""
    return _md(text)


_md = md  # plain text safe inside Markdown (no emphasis, links or directives from the document)


def show(detail: DocumentDetail, page_image: PageImage, review: Review | None = None) -> None:
    """The document; with ``review``, the chosen fact's review controls under the facts table."""
    doc = detail.summary
    st.markdown(
        _("**{display_name}** · {kind} · status **{status}**").format(
            display_name=md(doc.display_name), kind=doc.kind.replace("_", " "), status=doc.status
        )
    )
    if detail.error:
        st.warning(md(stored(detail.error)))
    if not detail.pages:
        st.info(_("No text yet: the document is waiting to be read, or could not be read."))
        return
    chosen = _facts(detail)
    if chosen is not None and review is not None:
        review(chosen)
    numbers = [p.number for p in detail.pages]
    number = numbers[0]
    if chosen is not None and chosen.page in numbers:
        st.session_state["documents.page"] = chosen.page  # turn to the page of the chosen evidence
    if len(numbers) > 1:
        number = st.select_slider(_("Page"), options=numbers, key="documents.page")
    page = detail.pages[numbers.index(number)]
    low = sum(1 for w in page.words if w.conf < LOW_CONFIDENCE)
    conf = (
        _("mean confidence {value:.0f}").format(value=page.mean_confidence) if page.mean_confidence is not None else ""
    )
    st.caption(
        _(
            "Page {number}: {source}, {count} words, {conf}, {low} low-confidence (amber), read in {seconds:.1f} s"
        ).format(
            number=page.number, source=page.source, count=len(page.words), conf=conf, low=low, seconds=page.seconds
        )
    )
    if page.error:
        st.error(_("Page {number} failed: {error}").format(number=page.number, error=md(stored(page.error))))
    left, right = st.columns(2) if detail.has_image else (None, st.container())
    if left is not None:
        with left:
            boxes = st.toggle(_("Show recognised words"), value=True, key="documents.boxes")
            try:
                image = page_image(page.number)
            except MedspeakError as exc:
                st.error(error_text(exc))
            else:
                highlight = chosen.bbox if chosen is not None and chosen.page == page.number else None
                shown = draw_words(image, page.words if boxes else [], highlight=highlight)
                st.image(shown, width="stretch")
    with right, st.container(key="page-text"):
        # Read-only, yet drawn in the body's ink: Streamlit greys a disabled field's text to 40 % (issue 18).
        st.html(
            "<style>.st-key-page-text textarea:disabled{color:#31333f;-webkit-text-fill-color:#31333f;"
            "opacity:1;cursor:text;line-height:1.5}</style>"
        )
        st.text_area(
            _("Text"),
            page.text,
            height=700 if detail.has_image else 400,
            disabled=True,
            key=f"documents.text.{doc.id}.{page.number}",
        )
