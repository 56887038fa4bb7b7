"""A patient's record merged from their documents, every line a link to the words it was read from.

Left: medications, problems, allergies, vitals and labs, encounters (dates, department, chief
complaint, and the patient as each document states them), procedures and follow-up (each line a
button); right: the chosen line's evidence (text highlighted, page framed) and the review of that
fact. A document whose demographics contradict the patient on file raises a warning above the lists. ``review_form`` is
also used on the Documents page. Session-state keys owned here: ``record.selected``,
``record.patient_id``, ``record.tab``, ``record.source.*``, ``record.measure``, ``record.flash``,
``review.*``. The view holds no store and no user: the page passes ``RecordCalls``, the services bound to the
user's context (each checks the role and audits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import plotly.express as px
import streamlit as st
from PIL import Image

from components import document_viewer, web_routes
from components.i18n import N_, _, error_text, shown
from components.safe_text import md
from medspeak import reference_ranges
from medspeak.clinical.vitals import by_record_type
from medspeak.errors import MedspeakError
from medspeak.indexing.medication_text import SETTING_LABELS, order_text
from medspeak.indexing.record import PatientRecord, ProblemLine, Source, TimelinePoint
from medspeak.indexing.schema import Assertion
from medspeak.indexing.units import display_unit, format_measure
from medspeak.services import record
from medspeak.services.documents import DocumentDetail, FactView

_SELECTED = "record.selected"
_FLASH = "record.flash"
_DECISIONS = {"accepted": N_("Accept"), "corrected": N_("Correct"), "rejected": N_("Reject")}
_SAVED = {"accepted": N_("Saved: accepted."), "corrected": N_("Saved: corrected."), "rejected": N_("Saved: rejected.")}
_VERIFICATION = {"confirmed": N_("present"), "provisional": N_("possible"), "refuted": N_("denied in the documents")}
_HISTORY = N_(" (history)")
_BOOLEAN = frozenset({"as_needed", "nkda"})


@dataclass(frozen=True)
class RecordCalls:
    """What the record view asks for, each a service bound to the user's context by the page."""

    patient_record: Callable[[int], PatientRecord]  # patient id
    export_gold: Callable[[int], list[dict[str, Any]]]  # patient id: its fully reviewed documents
    document_detail: Callable[[int], DocumentDetail]  # document id
    page_image: Callable[[int, int], Image.Image]  # document id, page number
    review_fact: Callable[..., object] | None  # (fact id, decision, corrected=, reason=); None: may not review
    confirm_patient: Callable[[int, str], object] | None = None  # (document id, reason); None: may not write


def _select(item: str) -> None:
    st.session_state[_SELECTED] = item


def _link(label: str, item: str, key: str) -> None:
    """A button whose label is document text: shown as typed (button labels render Markdown)."""
    st.button(md(label), key=key, type="tertiary", on_click=_select, args=(item,), icon=":material/format_quote:")


def _sources_caption(sources: list[Source]) -> str:
    docs = len({s.document_id for s in sources})
    reviewed = sum(s.review_status in ("accepted", "corrected") for s in sources)
    return (
        _("{docs} document(s) · last {last:%Y-%m-%d}").format(docs=docs, last=max(s.date for s in sources))
        + (" · " + _("{reviewed} reviewed").format(reviewed=reviewed) if reviewed else "")
        + ("" if docs == 1 else " · " + _("{count} mentions").format(count=len(sources)))
    )


def _row(
    items: dict[str, list[Source]], item: str, sources: list[Source], label: str, key: str, note: str | None = None
) -> None:
    """One record line: its words as a link to their evidence, then what it is (``note``) and where from."""
    items[item] = sources
    left, right = st.columns([3, 2], vertical_alignment="center")
    with left:
        _link(label, item, key)
    if note is not None:
        right.markdown(note)
    right.caption(_sources_caption(sources))


_MED_GROUPS = (
    (N_("Current and discharge"), lambda m: m.status == "active" and not m.inpatient_only),
    (N_("Given in hospital only"), lambda m: m.status == "active" and m.inpatient_only),
    (N_("Stopped"), lambda m: m.status != "active"),
)


def _medications(rec: PatientRecord, items: dict[str, list[Source]]) -> None:
    """Each order as written in plain words (never QD, U, trailing zeros), grouped by where it is taken."""
    if not rec.medications:
        st.caption(_("No medication found in the documents."))
    for title, belongs in _MED_GROUPS:
        group = [m for m in rec.medications if belongs(m)]
        if not group:
            continue
        st.markdown(f"**{_(title)}**")
        for med in group:
            badges = [_(":green-badge[active]") if med.status == "active" else _(":gray-badge[stopped]")]
            if med.setting:
                badges.append(f":blue-badge[{SETTING_LABELS.get(med.setting, med.setting)}]")
            if med.as_needed:
                badges.append(_(":violet-badge[as needed]"))
            if med.changed:
                badges.append(_(":orange-badge[strength differs between documents]"))
            if med.atc:
                badges.append(f":blue-badge[ATC {md(med.atc)}]")
            _row(
                items,
                f"medication:{med.key}",
                med.sources,
                order_text(med.name, med.strength, med.route, med.frequency, as_needed=med.as_needed),
                f"record.med.{med.key}",
                " ".join(badges),
            )


def _problem_lines(lines: list[ProblemLine], items: dict[str, list[Source]], kind: str) -> None:
    for n, line in enumerate(lines):
        status = _(_VERIFICATION.get(line.verification, line.verification)) + (_(_HISTORY) if line.historical else "")
        note = status if kind != "refuted" else f":gray-badge[{status}]"
        if line.code:  # the official code beside the words, only where the match was confident
            note += f" :blue-badge[{'ICD-10-CM' if line.code[0].endswith('-cm') else 'CIM-10'} {line.code[1]}]"
        _row(items, f"{kind}:{line.text.lower()}", line.sources, line.text, f"record.{kind}.{n}", note)


def _problems(rec: PatientRecord, items: dict[str, list[Source]]) -> None:
    if not (rec.problems or rec.refuted or rec.family_history):
        st.caption(_("No problem found in the documents."))
    _problem_lines(rec.problems, items, "problem")
    if rec.refuted:
        st.markdown(_("**Denied** (stated as absent: not problems)"))
        _problem_lines(rec.refuted, items, "refuted")
    if rec.family_history:
        st.markdown(_("**Family history**"))
        _problem_lines(rec.family_history, items, "family")
    if rec.findings:
        st.markdown(_("**Examination findings** (found or denied on examination: not the problem list)"))
        _problem_lines(rec.findings, items, "finding")


def _allergies(rec: PatientRecord, items: dict[str, list[Source]]) -> None:
    if rec.allergy_conflict:
        st.warning(_("One document says no known drug allergy, another records an allergy: check with the patient."))
    if rec.nkda:
        items["allergy:nkda"] = rec.nkda
        _link(_("No known drug allergies (NKDA)"), "allergy:nkda", "record.allergy.nkda")
    for n, allergy in enumerate(rec.allergies):
        reactions = md(", ".join(allergy.reactions)) or _("reaction not stated")
        item = f"allergy:{allergy.substance.lower()}"
        _row(items, item, allergy.sources, allergy.substance, f"record.allergy.{n}", reactions)
    if not (rec.nkda or rec.allergies):
        st.caption(_("No allergy information in the documents."))


_DATE_LABELS = (("admission", N_("Admitted")), ("discharge", N_("Discharged")), ("visit", N_("Date")))
_PROCEDURE_STATUS = {
    "completed": N_(":green-badge[done]"),
    "planned": N_(":blue-badge[planned]"),
    "not-done": N_(":gray-badge[not done]"),
}


def _identity_warnings(
    rec: PatientRecord, items: dict[str, list[Source]], confirm: Callable[[int, str], object] | None
) -> None:
    """Documents that may belong to another patient: shown above everything, each with its words.

    Until a clinician confirms the patient, such a document's facts stay out of the FHIR export (said here).
    """
    for n, warning in enumerate(rec.identity_warnings):
        message = document_viewer.markdown_safe(shown(warning.message))
        if warning.confirmed_by:
            st.warning(
                message
                + " "
                + _("Confirmed as this patient's by {who}: exported with the record.").format(
                    who=document_viewer.markdown_safe(warning.confirmed_by)
                ),
                icon=":material/how_to_reg:",
            )
        else:
            st.error(message, icon=":material/person_alert:")
            st.caption(_("Left out of the FHIR export until a clinician confirms the patient."))
        item = f"identity:{warning.source.fact_id}"
        items[item] = [warning.source]
        _link(_("See the words in {document}").format(document=warning.document_name), item, f"record.identity.{n}")
        if confirm is not None and not warning.confirmed_by:
            with st.form(f"record.identity_confirm.{n}", border=False):
                reason = st.text_input(
                    _("How you checked that it is this patient's"), key=f"record.identity_reason.{n}"
                )
                if st.form_submit_button(_("Confirm it is this patient's"), icon=":material/how_to_reg:"):
                    try:
                        confirm(warning.document_id, reason)
                    except MedspeakError as exc:
                        st.error(error_text(exc))
                    else:
                        st.session_state[_FLASH] = _("Confirmed: {document} is exported with the record.").format(
                            document=warning.document_name
                        )
                        st.rerun()


def _encounters(rec: PatientRecord, items: dict[str, list[Source]]) -> None:
    if not (rec.encounters or rec.demographics):
        st.caption(_("No visit information (dates, department, chief complaint) in the documents."))
    for n, line in enumerate(rec.encounters):
        dates = " · ".join(f"{_(label)} {value}" for key, label in _DATE_LABELS if (value := getattr(line, key)))
        title = line.department or _("Department not stated")
        st.markdown(
            f"**{document_viewer.markdown_safe(title)}** · "
            f"{document_viewer.markdown_safe(dates) or _('dates not stated')}"
        )
        if line.chief_complaints:
            st.markdown(
                _("Chief complaint:") + " " + "; ".join(document_viewer.markdown_safe(c) for c in line.chief_complaints)
            )
        st.caption(line.document_name)
        for m, (said, source) in enumerate(line.statements):
            item = f"encounter:{source.fact_id}"
            items[item] = [source]
            _link(said if len(said) <= 80 else said[:77] + "…", item, f"record.encounter.{n}.{m}")
    if rec.demographics:
        st.markdown(_("**The patient as the documents state them**"))
        for n, demo in enumerate(rec.demographics):
            parts = [
                f"{demo.age} years" if demo.age is not None else "",
                demo.sex or "",
                f"born {demo.birth_date_text}" if demo.birth_date_text else "",
            ]
            label = ", ".join(p for p in parts if p)
            _row(items, f"demographics:{demo.source.fact_id}", [demo.source], label, f"record.demographics.{n}")


def _procedures(rec: PatientRecord, items: dict[str, list[Source]]) -> None:
    if not rec.procedures:
        st.caption(_("No procedure found in the documents."))
    for n, proc in enumerate(rec.procedures):
        status = md(_(_PROCEDURE_STATUS.get(proc.status, proc.status))) + (_(_HISTORY) if proc.historical else "")
        _row(items, f"procedure:{proc.text.lower()}", proc.sources, proc.text, f"record.procedure.{n}", status)


def _follow_ups(rec: PatientRecord, items: dict[str, list[Source]]) -> None:
    if not rec.follow_ups:
        st.caption(_("No follow-up instruction found in the documents."))
    for n, follow in enumerate(rec.follow_ups):
        when = " · ".join(p for p in (follow.with_whom, follow.interval) if p)
        note = document_viewer.markdown_safe(when) if when else ""
        item = f"follow_up:{follow.sources[0].fact_id}"
        _row(items, item, follow.sources, follow.text, f"record.follow_up.{n}", note)


_LAB_NAMES = {"crp": "CRP", "inr": "INR"}  # vitals are named by the vitals spec (medspeak.clinical.vitals)


def _measure_name(name: str) -> str:
    spec = by_record_type(name.lower())
    if spec is not None:
        return _(spec.label)
    return _LAB_NAMES.get(name.lower(), name.replace("_", " ").capitalize())


def _flag(point: TimelinePoint) -> reference_ranges.Flag | None:
    return reference_ranges.flag_for(point.kind, point.name, point.value, point.unit, document_flag=point.flag)


def _flag_text(flag: reference_ranges.Flag | None) -> str:
    """``↓ low (3.5–5)``: words and a symbol, never colour alone (the colour only repeats them)."""
    if flag is None:
        return _("normal")
    reference = _(" (normal {reference})").format(reference=flag.reference) if flag.reference[0].isdigit() else ""
    shown = f"{flag.symbol} {_(flag.words)}{reference}"
    return f":red[**{shown}**]" if flag.critical else f"**{shown}**"


def _latest_results(rec: PatientRecord, items: dict[str, list[Source]]) -> None:
    """Each vital and lab once, its newest value first-class: flag, date and a link to its evidence."""
    latest: dict[tuple[str, str], TimelinePoint] = {}
    for point in rec.timeline:  # sorted by date: the last one wins
        latest[(point.kind, point.name)] = point
    st.markdown("**" + _("Latest results") + "**")
    widths = [3, 2, 2, 3, 2, 2]
    titles = [_("Measure"), _("Value"), _("Unit"), _("Flag"), _("Date"), _("Evidence")]
    for column, title in zip(st.columns(widths), titles, strict=True):
        column.caption(title)
    for point in sorted(latest.values(), key=lambda p: (p.kind != "vital", _measure_name(p.name))):
        flag = _flag(point)
        measure, value, unit, flagged, day, evidence = st.columns(widths, vertical_alignment="center")
        measure.markdown(_measure_name(point.name))
        value.markdown(format_measure(point.value, None, point.name))
        unit.markdown(display_unit(point.unit) or "—")
        flagged.markdown(_flag_text(flag), help=_("Source: {source}").format(source=flag.source) if flag else None)
        day.markdown(f"{point.date:%d %b %Y}")
        item = f"point:{point.source.fact_id}:{point.name}"
        items[item] = [point.source]
        with evidence:
            _link(_("Evidence"), item, f"record.latest.{point.source.fact_id}.{point.name}")
    st.caption(
        _(
            "Flags: a range or flag printed in the document wins; otherwise adult reference ranges "
            "(medspeak/reference_ranges.csv, each with its source). ↑ high, ↓ low, ⇈ ⇊ critical."
        )
    )


def _timeline(rec: PatientRecord, items: dict[str, list[Source]]) -> None:
    if not rec.timeline:
        st.caption(_("No vital sign or laboratory value in the documents."))
        return
    _latest_results(rec, items)
    st.markdown("**" + _("Trend of one measure") + "**")
    names = list(dict.fromkeys(f"{p.kind}: {p.name}" for p in rec.timeline))
    chosen = st.selectbox(_("Measure"), names, key="record.measure", format_func=lambda n: n.replace("_", " "))
    points = [p for p in rec.timeline if f"{p.kind}: {p.name}" == chosen]
    unit = display_unit(next((p.unit for p in points if p.unit), ""))
    fig = px.line(
        x=[p.date for p in points],
        y=[p.value for p in points],
        markers=True,
        labels={"x": "document date", "y": f"{chosen.split(': ', 1)[1]} ({unit})" if unit else chosen},
    )
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    fig.update_xaxes(tickformat="%d %b %Y")  # documents are dated to the day: no clock-time ticks
    dates = [p.date for p in points]
    if max(dates) - min(dates) < timedelta(days=2):  # one day's values: a readable week around them
        fig.update_xaxes(range=[min(dates) - timedelta(days=3), max(dates) + timedelta(days=3)])
    st.plotly_chart(fig, key="record.timeline_chart")
    for point in reversed(points[-20:]):  # the newest first; older values stay in the chart
        item = f"point:{point.source.fact_id}:{point.name}"
        items[item] = [point.source]
        flag = _flag(point)
        shown = f" ({flag.symbol} {_(flag.words)})" if flag else ""
        label = f"{point.date:%Y-%m-%d} · {format_measure(point.value, point.unit, point.name)}{shown}"
        _link(label, item, f"record.point.{point.source.fact_id}.{point.name}")


def _fhir_download(patient_id: int) -> None:
    """A link to the server's export route: it answers only to this browser's session (each export audited).

    Not ``st.download_button``: its file sits at a Streamlit media URL that anyone holding the URL can
    fetch, without a cookie, while the button is on screen.
    """
    st.link_button(
        _("Download FHIR R4 bundle"), web_routes.fhir_url(patient_id), icon=":material/download:", type="secondary"
    )
    st.caption(_("Built and validated when you click; the export is recorded in the audit trail."))


def _gold_download(export_gold: Callable[[int], list[dict[str, Any]]], patient_id: int) -> None:
    """The patient's fully reviewed documents in the evaluation's gold format (JSON lines)."""
    if st.button(_("Export reviewed facts (gold)"), icon=":material/fact_check:", key="record.gold_prepare"):
        try:
            lines = export_gold(patient_id)
        except MedspeakError as exc:
            st.error(error_text(exc))
            return
        if not lines:
            st.info(_("No document of this patient has all its facts reviewed yet."))
            return
        # A link to the server's route (this browser's session, audited), not a Streamlit media URL.
        st.link_button(
            _("Download gold JSONL ({count} document(s))").format(count=len(lines)),
            web_routes.gold_url(patient_id),
            icon=":material/download:",
        )


def _source_label(source: Source) -> str:
    words = source.evidence_text if len(source.evidence_text) <= 60 else source.evidence_text[:57] + "…"
    return f"{source.date:%Y-%m-%d} · {md(source.document_name)} · “{md(words)}”"  # radio options render Markdown


def _evidence(calls: RecordCalls, items: dict[str, list[Source]]) -> None:
    item = st.session_state.get(_SELECTED)
    sources = items.get(item or "")
    if not sources:
        st.info(_("Select a line to see the words it was read from."))
        return
    key = f"record.source.{item}"
    if len(sources) == 1:
        source = sources[0]
    else:
        source = st.radio(_("Mentions"), sources, index=len(sources) - 1, format_func=_source_label, key=key)
    try:
        detail = calls.document_detail(source.document_id)
    except MedspeakError as exc:
        st.error(error_text(exc))
        return
    document_viewer.show_evidence(
        detail, source, lambda number: calls.page_image(source.document_id, number), key=f"record.evidence.{item}"
    )
    st.caption(
        f"Read by {source.extractor} · match {source.grounding} · confidence {source.confidence:.2f} · "
        f"review: {source.review_status}" + (f" by {source.reviewer}" if source.reviewer else "")
    )
    fact = next((f for f in detail.facts if f.id == source.fact_id), None)
    if fact is not None and calls.review_fact is not None:
        review_form(calls.review_fact, fact, key=f"review.record.{fact.id}")


def _field_input(name: str, current: object, key: str) -> object:
    label = name.replace("_", " ").capitalize()
    if name in _BOOLEAN:
        return st.checkbox(label, value=bool(current), key=key)
    if name == "assertion":
        values = [a.value for a in Assertion]
        return st.selectbox(label, values, index=values.index(str(current)) if current in values else 0, key=key)
    return st.text_input(label, value="" if current is None else str(current), key=key)


def review_form(review_fact: Callable[..., object], fact: FactView, *, key: str) -> None:
    """Accept, correct or reject one fact, with a reason; ``review_fact(fact_id, decision, corrected=, reason=)``
    stores and audits the decision."""
    _flash()
    fields = record.CORRECTABLE.get(fact.category, ())
    current = {**fact.value, "assertion": fact.assertion}
    with st.form(key=f"{key}.form", border=True):
        st.markdown(_("**Review** · now: {review_status}").format(review_status=fact.review_status))
        decision = cast(
            record.Decision,
            st.radio(
                _("Decision"),
                list(_DECISIONS),
                format_func={d: _(label) for d, label in _DECISIONS.items()}.__getitem__,
                horizontal=True,
                key=f"{key}.decision",
            ),
        )
        with st.expander(_("Corrected values (for Correct)")):
            given = {name: _field_input(name, current.get(name), f"{key}.{name}") for name in fields}
        reason = st.text_input(_("Reason (needed to correct or reject)"), key=f"{key}.reason", max_chars=500)
        submitted = st.form_submit_button(_("Save review"), type="primary")
    if not submitted:
        return
    changed = {
        name: (value or None) if isinstance(value, str) else value
        for name, value in given.items()
        if _changed(current.get(name), value)
    }
    try:
        review_fact(fact.id, decision, corrected=changed if decision == "corrected" else None, reason=reason)
    except MedspeakError as exc:
        st.error(error_text(exc))
        return
    st.session_state[_FLASH] = _(_SAVED[decision])
    st.rerun()


def _flash() -> None:
    """The outcome of the review saved just before the rerun."""
    if message := st.session_state.pop(_FLASH, None):
        st.success(message)


def _changed(before: object, after: object) -> bool:
    if isinstance(after, bool):
        return bool(before) != after
    return ("" if before is None else str(before)) != str(after).strip()


def show(calls: RecordCalls, patient_id: int, on_error: Callable[[str], object] = st.error) -> None:
    """The merged record of a patient (clinicians); bed managers and administrators never get here."""
    try:
        rec = calls.patient_record(patient_id)
    except MedspeakError as exc:
        on_error(error_text(exc))
        return
    if st.session_state.get("record.patient_id") != patient_id:  # another patient: start with nothing chosen
        st.session_state["record.patient_id"] = patient_id
        st.session_state.pop(_SELECTED, None)
    st.subheader(_("Record from documents"))
    _flash()
    left_out = ", ".join(f"{n} {why}" for why, n in sorted(rec.left_out.items()))
    st.caption(
        "Merged from every document of the patient; only facts found in the words of a document are shown."
        + (f" Left out: {left_out}." if left_out else "")
    )
    fhir, gold = st.columns(2)
    with fhir:
        _fhir_download(patient_id)
    with gold:
        _gold_download(calls.export_gold, patient_id)
    items: dict[str, list[Source]] = {}
    _identity_warnings(rec, items, calls.confirm_patient)
    lists, evidence = st.columns([3, 2], gap="large")
    with lists:
        meds, problems, allergies, timeline, encounters, procedures, follow_ups = st.tabs(
            [
                _("Medications"),
                _("Problems"),
                _("Allergies"),
                _("Vitals and labs"),
                _("Stays"),
                _("Procedures"),
                _("Follow-up"),
            ],
            key="record.tab",
            on_change="rerun",
        )
        with meds:
            _medications(rec, items)
        with problems:
            _problems(rec, items)
        with allergies:
            _allergies(rec, items)
        with timeline:
            _timeline(rec, items)
        with encounters:
            _encounters(rec, items)
        with procedures:
            _procedures(rec, items)
        with follow_ups:
            _follow_ups(rec, items)
    # The evidence column stays in view while the list scrolls (sticky): a line low in a long list shows
    # its words beside it, not off screen above.
    st.html(
        "<style>.st-key-record-evidence{position:sticky;top:3.75rem;align-self:flex-start;"
        "max-height:calc(100vh - 4.5rem);overflow-y:auto}"
        "[data-testid='stColumn']:has(.st-key-record-evidence){align-self:flex-start;position:sticky;top:3.75rem}</style>"
    )
    with evidence, st.container(border=True, key="record-evidence"):
        st.markdown(_("**Evidence**"))
        _evidence(calls, items)
