"""Progress of the documents being read, refreshed every second, with cancel buttons.

Session-state keys owned here: ``documents.jobs`` (list of {"job_id", "name"}), ``documents.finished``,
``documents.notes``.
The page passes the progress reader and the cancel call (the documents service with the user's context).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components.i18n import N_, _, shown, stored
from components.safe_text import md
from medspeak.services.documents import JobView, UploadOutcome

_KEY = "documents.jobs"
_NOTES = "documents.notes"
_STATUS = {
    "queued": N_("waiting"),
    "running": N_("reading"),
    "done": N_("read"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
}


def track(job_id: int, name: str) -> None:
    st.session_state.setdefault(_KEY, []).append({"job_id": job_id, "name": name})


def follow(outcome: UploadOutcome) -> None:
    """Track an upload being read, or note a file that needed no reading (already stored): the note is
    shown by :func:`notes`, on this run or the next (the page reruns to empty its uploader)."""
    if outcome.job_id is None:
        st.session_state.setdefault(_NOTES, []).append(f"{md(outcome.display_name)}: {md(shown(outcome.message))}")
        st.session_state["documents.view_id"] = outcome.document_id
    else:
        track(outcome.job_id, outcome.display_name)


def notes() -> None:
    """The notes :func:`follow` left (each shown once)."""
    for note in st.session_state.pop(_NOTES, []):
        st.info(note)


def _show_document(document_id: int) -> None:
    st.session_state["documents.view_id"] = document_id
    st.rerun()  # from inside the fragment: reruns the whole page


def show(job_views: Callable[[list[int]], list[JobView]], on_cancel: Callable[[int], object]) -> None:
    """The tracked jobs' progress from ``job_views(job_ids)``; a Cancel button calls ``on_cancel(job_id)``.

    The once-a-second refresh runs only while there are jobs to follow: an idle Documents page does not rerun
    every second (on a slow machine those reruns made the file uploader drop a file given between two of them).
    """
    if st.session_state.get(_KEY):
        _progress(job_views, on_cancel)


@st.fragment(run_every=1.0)
def _progress(job_views: Callable[[list[int]], list[JobView]], on_cancel: Callable[[int], object]) -> None:
    jobs = st.session_state.get(_KEY, [])
    if not jobs:
        return
    views = {v.id: v for v in job_views([j["job_id"] for j in jobs])}
    st.subheader(_("Reading"))
    for job in jobs:
        view = views.get(job["job_id"])
        if view is None:
            continue
        status = _(_STATUS[view.status]) if view.status in _STATUS else view.status
        label = _("{name}: {status}, page {done} of {total}").format(
            name=md(job["name"]), status=status, done=view.pages_done, total=view.pages_total
        )
        cols = st.columns([6, 1])
        cols[0].progress(1.0 if view.status == "done" else view.fraction, text=label)
        if not view.finished:
            cols[1].button(_("Cancel"), key=f"documents.cancel.{view.id}", on_click=on_cancel, args=(view.id,))
        elif view.status == "done" and cols[1].button(_("View"), key=f"documents.view.{view.id}"):
            _show_document(view.document_id)
        if view.message:
            (st.warning if view.status == "done" else st.error)(md(stored(view.message)))
    seen = st.session_state.setdefault("documents.finished", set())
    newly = [v for v in views.values() if v.status == "done" and v.id not in seen]
    seen.update(v.id for v in views.values() if v.finished)
    if newly:  # show the document just read, below: that needs a run of the whole page
        _show_document(newly[-1].document_id)
    if all(v.finished for v in views.values()) and st.button(_("Clear the list"), key="documents.clear"):
        st.session_state[_KEY] = []
        st.rerun()
