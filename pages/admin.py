"""Administration: users and roles, the audit log, and the chain check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from components import runtime, web_routes
from components.auth_gate import current_actor, role_label
from components.i18n import N_, _, error_text
from medspeak.auth.roles import Role
from medspeak.errors import MedspeakError
from medspeak.services import audit_log, demo, users

# An audit event's outcome, as stored -> as a reader reads it.
_OUTCOMES = {"": "", "success": N_("success"), "denied": N_("denied"), "failure": N_("failure"), "error": N_("error")}

ctx, actor = runtime.context(), current_actor()
store = ctx.store
st.title(_("Administration"))
# A link from the Demo page opens the audit trail filtered on the demo's patient (?tab=audit&patient=ID).
_linked_patient = st.query_params.get("patient", "")
if _linked_patient.isdigit() and "admin.audit.mrn" not in st.session_state:
    try:
        st.session_state["admin.audit.mrn"] = audit_log.mrn_of(store, actor, int(_linked_patient))
    except MedspeakError:
        pass  # a stale link: the filter starts empty
tab_users, tab_audit, tab_demo = st.tabs(
    [_("Users"), _("Audit trail"), _("Demo data")],
    default=_("Audit trail") if st.query_params.get("tab") == "audit" else None,
)


def _act(success: str, call: Callable[[], object]) -> None:
    """Call a service from a button and show its outcome; a returned password is shown once."""
    try:
        result = call()
    except MedspeakError as exc:
        st.error(error_text(exc))
    else:
        st.success(
            _("{success}: `{result}` (shown once)").format(success=success, result=result)
            if isinstance(result, str)
            else success
        )


with tab_users:
    accounts = users.list_users(store, actor)
    st.dataframe(
        pd.DataFrame(
            {
                _("Username"): [u.username for u in accounts],
                _("Name"): [u.display_name for u in accounts],
                _("Role"): [role_label(u.role) for u in accounts],
                _("Active"): [u.is_active for u in accounts],
                _("Logins delayed"): [u.locked for u in accounts],  # from some address (too many failures there)
                _("Failed attempts"): [u.failed_attempts for u in accounts],
                _("Created"): [u.created_at.strftime("%Y-%m-%d") for u in accounts],
            }
        ),
        hide_index=True,
        width="stretch",
    )

    by_name = {u.username: u for u in accounts}
    chosen = st.selectbox(_("Account"), list(by_name), key="admin.user")
    if chosen:
        target = by_name[chosen]
        c1, c2, c3, c4 = st.columns(4)
        new_role = c1.selectbox(
            _("Role"),
            [r.value for r in Role],
            format_func=role_label,
            index=[r.value for r in Role].index(target.role) if target.role in {r.value for r in Role} else 0,
            key="admin.role",
        )
        if c1.button(_("Change role"), key="admin.set_role"):
            _act(_("Role changed"), lambda: users.set_role(store, actor, target.id, new_role))
        if c2.button(_("Reset password"), key="admin.reset"):
            _act(_("New password"), lambda: users.reset_password(store, actor, target.id))
        if c3.button(_("Unlock"), key="admin.unlock"):
            _act(_("Unlocked"), lambda: users.unlock(store, actor, target.id))
        if c4.button(_("Disable") if target.is_active else _("Enable"), key="admin.active"):
            _act(_("Saved"), lambda: users.set_active(store, actor, target.id, not target.is_active))

    with st.expander(_("Create an account"), icon=":material/person_add:"):
        with st.form("admin.create", clear_on_submit=True):
            username = st.text_input(_("Username"))
            name = st.text_input(_("Display name"))
            role = st.selectbox(_("Role"), [r.value for r in Role], format_func=role_label)
            if st.form_submit_button(_("Create")):
                _act(
                    _("Account {username} created; password").format(username=username),
                    lambda: users.create_user(store, actor, username, name, role)[1],
                )

with tab_audit:
    f1, f2, f3, f4 = st.columns(4)
    who = f1.text_input(_("User"), key="admin.audit.user")
    action = f2.text_input(_("Action starts with"), key="admin.audit.action", placeholder="patient.")
    outcome = f3.selectbox(
        _("Outcome"), list(_OUTCOMES), format_func=lambda o: _(_OUTCOMES[o]) if o else "", key="admin.audit.outcome"
    )
    mrn = f4.text_input(_("Patient MRN"), key="admin.audit.mrn", placeholder="MS000123")
    d1, d2, d3, d4 = st.columns(4)
    since = d1.date_input(_("From"), value=datetime.now(UTC).date() - timedelta(days=7), key="admin.audit.since")
    until = d2.date_input(_("To"), value=datetime.now(UTC).date(), key="admin.audit.until")
    size = d3.selectbox(_("Events a page"), [25, 100, 500, 1000], index=2, key="admin.audit.size")
    patient_id: int | None = None
    if mrn.strip():
        try:
            patient_id = audit_log.patient_for_mrn(store, actor, mrn)
        except MedspeakError as exc:
            st.warning(error_text(exc))
            st.stop()
    filters = audit_log.AuditFilter.of_days(
        username=who, action=action, outcome=outcome, patient_id=patient_id, since=since, until=until
    )
    number = d4.number_input(_("Page"), min_value=1, value=1, step=1, key="admin.audit.page")
    page = audit_log.page_events(store, actor, filters, offset=(int(number) - 1) * size, limit=size)
    rows = page.items
    frame = pd.DataFrame(
        {
            "#": [r.id for r in rows],
            _("When (UTC)"): [r.at.strftime("%Y-%m-%d %H:%M:%S") for r in rows],
            _("User"): [r.username for r in rows],
            _("Role"): [role_label(r.role) for r in rows],
            _("Action"): [r.action for r in rows],
            _("Patient MRN"): [r.patient_mrn or "" for r in rows],
            _("Document"): [r.document_id for r in rows],
            _("Outcome"): [_(_OUTCOMES.get(r.outcome, r.outcome)) for r in rows],
            _("Detail"): [r.detail for r in rows],
        }
    )
    pages, shown = max(1, -(-page.total // size)), page.offset // size + 1  # a page past the end shows the last
    if not rows:
        st.caption(_("No event matches these filters."))
    else:
        st.caption(
            _("Events {first}–{last} of {total}, newest first · page {number} of {pages}").format(
                first=page.offset + 1, last=page.offset + len(rows), total=page.total, number=shown, pages=pages
            )
        )
    st.dataframe(frame, hide_index=True, width="stretch")
    st.link_button(
        _("Download all {total} matching events (CSV)").format(total=page.total),
        web_routes.audit_csv_url(filters),
        icon=":material/download:",
        disabled=not page.total,
    )

    anchors = st.file_uploader(
        _("Checkpoints to verify against (exported below, kept off this server)"),
        type=["jsonl", "json", "txt"],
        accept_multiple_files=True,
        key="admin.checkpoints",
    )
    lines = [ln for f in anchors or [] for ln in f.getvalue().decode("utf-8", "replace").splitlines() if ln.strip()]
    if st.button(_("Verify the hash chain"), icon=":material/verified:", key="admin.verify"):
        report = audit_log.verify(store, actor, checkpoints=lines)
        if report.ok:
            st.success(_("The audit chain is intact: {checked} events verified.").format(checked=report.checked))
        else:
            st.error(
                _("The audit chain is broken at event {first_bad_id}: {reason}.").format(
                    first_bad_id=report.first_bad_id, reason=report.reason
                )
            )
    if st.button(_("Create a signed checkpoint"), icon=":material/bookmark_add:", key="admin.checkpoint"):
        try:
            st.session_state["admin.checkpoint_text"] = audit_log.checkpoint(store, actor)
        except MedspeakError as exc:
            st.error(error_text(exc))
    if st.session_state.get("admin.checkpoint_text"):
        st.download_button(
            _("Download the checkpoint (keep it off this server: it proves later that no row was cut)"),
            st.session_state["admin.checkpoint_text"] + "\n",
            "audit-checkpoint.jsonl",
            "application/jsonl",
            key="admin.checkpoint_download",
        )

with tab_demo:
    if not runtime.settings().demo:
        st.caption(
            _("This install is not a demo: its data is never reset (a demonstration runs with MEDSPEAK_DEMO=true).")
        )
    else:
        st.write(
            _(
                "Put the demo data back as it was seeded: every patient, stay, document, fact and assessment is "
                "replaced by the generated hospital; accounts and the audit trail stay, and the reset is recorded."
            )
        )
        sure = st.checkbox(_("I understand that everything entered during the demo is removed"), key="admin.demo.sure")
        if st.button(
            _("Reset the demo data"), icon=":material/restart_alt:", disabled=not sure, key="admin.demo.reset"
        ):
            try:
                with st.spinner(_("Resetting…")):
                    done = demo.reset(ctx, actor)
            except MedspeakError as exc:
                st.error(error_text(exc))
            else:
                st.success(
                    _(
                        "Demo data reset: {patients} patients, {encounters} encounters, {documents} "
                        "documents ({queued} being read again)."
                    ).format(
                        patients=done.seeded.patients,
                        encounters=done.seeded.encounters,
                        documents=done.seeded.documents,
                        queued=done.queued,
                    )
                )
