"""Documents: upload files for a patient, watch them being read, check the text and review the facts found."""

from __future__ import annotations

from datetime import date
from functools import partial

import streamlit as st

from components import (
    document_link,
    document_viewer,
    patient_form,
    patient_picker,
    record_view,
    runtime,
    sample_picker,
    tables,
    upload_progress,
)
from components.auth_gate import current_actor
from components.i18n import _, error_text
from components.safe_text import md
from medspeak.errors import MedspeakError
from medspeak.ingest.ocr import engine_statuses
from medspeak.services import documents, patients, record, samples

ctx, actor = runtime.context(), current_actor()
store, settings = ctx.store, ctx.settings


def _search(query: str) -> list[patients.PatientSummary]:
    return patients.search_patients(store, actor, query, limit=30)


def _lookup(patient_id: int) -> patients.PatientSummary | None:
    try:
        return patients.patient_summary(store, actor, patient_id)
    except MedspeakError:
        return None


_wanted = st.query_params.get("patient", "")
st.title(_("Documents"))

with st.container(border=True):
    st.subheader(_("Upload"))
    patient_id = patient_picker.show(
        "documents",
        _search,
        _lookup,
        title=_("Attach to"),
        none_label=_("No patient yet (link later)"),
        initial=int(_wanted) if _wanted.isdigit() else None,
    )
    if patient_id is None:
        st.query_params.pop("patient", None)
    else:
        st.query_params["patient"] = str(patient_id)  # the choice survives a reload
    with st.expander(_("New patient"), icon=":material/person_add:"):
        created = patient_form.show(partial(patients.register_patient, store, actor), key="documents.new_patient")
        if created is not None:
            patient_picker.choose("documents", created.id)  # the patient just registered is the one attached
            st.rerun()
    c1, c2, c3 = st.columns(3)
    # Labels drawn now, in this run's language (a format function may be called after the run, by tests).
    kinds = {k: tables.kind_label(k) for k in documents.DOCUMENT_KINDS}
    kind = c1.selectbox(_("Kind"), list(kinds), format_func=kinds.__getitem__, key="documents.kind")
    received = c3.date_input(
        _("Received on"),
        value=None,
        min_value=date(1900, 1, 1),
        max_value=date.today(),
        format="YYYY-MM-DD",
        help=_("The day the hospital received it (a letter scanned later); leave empty when it is today's upload."),
        key="documents.received",
    )
    language = c2.selectbox(
        _("Language"),
        ["auto", "en", "fr"],
        key="documents.language",
        format_func={"auto": _("English or French"), "en": _("English"), "fr": _("French")}.__getitem__,
    )
    # A new key after a successful upload empties the uploader: the files sent are not offered again.
    uploads_done = st.session_state.setdefault("documents.uploads_done", 0)
    files = st.file_uploader(
        _("Files (PDF, PNG, JPEG, TIFF, TXT, DOCX)"),
        accept_multiple_files=True,
        type=["pdf", "png", "jpg", "jpeg", "tif", "tiff", "txt", "docx"],
        key=f"documents.files.{uploads_done}",
    )
    if st.button(_("Upload and read"), type="primary", disabled=not files, key="documents.upload"):
        refused = False
        for file in files or []:
            try:
                outcome = documents.upload(
                    ctx,
                    actor,
                    filename=file.name,
                    content=file.getvalue(),
                    patient_id=patient_id,
                    kind=kind,
                    language=language,
                    received=received if isinstance(received, date) else None,
                )
            except MedspeakError as exc:
                refused = True
                st.error(f"{md(file.name)}: {md(error_text(exc))}")
            else:
                upload_progress.follow(outcome)
        if not refused:  # a refused file stays in the uploader beside its error, to be removed or fixed
            st.session_state["documents.uploads_done"] = uploads_done + 1
            st.rerun()

    def _upload_sample(key: str) -> None:
        try:
            outcome = samples.upload_sample(ctx, actor, key, patient_id or 0)
        except MedspeakError as exc:
            st.error(md(error_text(exc)))
        else:
            upload_progress.follow(outcome)

    sample_picker.show(samples.SAMPLES, patient_chosen=patient_id is not None, upload=_upload_sample)
    st.caption(
        "OCR: "
        + " · ".join(f"{s.name} {'✓ ' + s.detail if s.available else '✗ ' + s.detail}" for s in engine_statuses())
        + " · "
        + _("engine setting: {ocr_engine}").format(ocr_engine=settings.ocr_engine)
    )

upload_progress.notes()
upload_progress.show(partial(documents.job_views, store, actor), partial(documents.cancel, store, actor))

if patient_id is None:
    st.subheader(_("Documents not linked to a patient"))
    recent = documents.list_documents(store, actor, unlinked=True, limit=100)
else:
    chosen = _lookup(patient_id)
    st.subheader(
        _("Documents of {name} · {mrn}").format(name=chosen.name, mrn=chosen.mrn)
        if chosen
        else _("Documents of this patient")
    )
    recent = documents.list_documents(store, actor, patient_id=patient_id, limit=100)
if not recent:
    st.caption(_("No document for this selection yet."))
else:
    names = {
        d.id: f"{d.created_at:%Y-%m-%d %H:%M} · {d.display_name} · "
        f"{f'{d.patient_name} · {d.patient_mrn}' if d.patient_name else _('no patient')} · "
        f"{tables.status_label(d.status)}"
        for d in recent
    }
    wanted = st.session_state.pop("documents.view_id", None)  # a document just read, or just re-uploaded
    if wanted in names:
        st.session_state["documents.view_select"] = wanted
    view_id = st.selectbox(_("Document"), list(names), format_func=names.__getitem__, key="documents.view_select")
    viewed = next(d for d in recent if d.id == view_id)
    moved = document_link.show(
        viewed,
        _search,
        _lookup,
        lambda target, reason: documents.link_to_patient(store, actor, view_id, target, reason=reason),
    )
    if moved is not None:
        patient_picker.choose("documents", moved.patient_id)  # follow the document to its patient
        st.session_state["documents.view_id"] = moved.id
        st.rerun()
    try:
        detail = documents.document_detail(store, actor, view_id)
    except MedspeakError as exc:
        st.error(error_text(exc))
    else:
        document_viewer.show(
            detail,
            lambda number: documents.page_image(store, actor, view_id, number),
            review=lambda fact: record_view.review_form(
                partial(record.review_fact, store, actor), fact, key=f"review.documents.{fact.id}"
            ),
        )
