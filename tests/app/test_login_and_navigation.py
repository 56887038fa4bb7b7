from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from medspeak.auth import service as auth
from medspeak.auth.roles import Actor
from medspeak.errors import SessionInvalid
from medspeak.services import dashboard
from medspeak.store.db import Store
from tests.app.conftest import APP
from tests.los.conftest import insert_demo


def _page_titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def test_login_gate_shows_only_the_form(app: AppTest) -> None:
    assert not app.exception
    assert _page_titles(app) == ["medspeak"]
    assert [t.label for t in app.text_input] == ["Username", "Password"]
    assert not app.sidebar.button  # no logout, no navigation before login


def test_wrong_password_is_refused_with_a_clear_message(app: AppTest, login: Callable[..., AppTest]) -> None:
    at = login("clinician", "not the right password")
    assert [e.value for e in at.error] == ["Wrong username or password."]
    assert _page_titles(at) == ["medspeak"]
    assert at.text_input(key="auth.password").value == ""  # the password is not kept


def test_repeated_failures_say_how_long_to_wait(app: AppTest, login: Callable[..., AppTest]) -> None:
    for _ in range(5):
        at = login("clinician", "not the right password")
    at = login("clinician")
    assert "Too many failed attempts" in at.error[0].value and "Try again in 30 seconds" in at.error[0].value


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        (
            "clinician",
            {
                "home.py": "Home",
                "patients.py": "Patients",
                "documents.py": "Documents",
                "triage.py": "Triage",
                "ed_queue.py": "ED queue",
                "los.py": "Length of stay",
                "beds.py": "Beds",
            },
        ),
        ("bedmanager", {"home.py": "Home", "patients.py": "Patients", "los.py": "Length of stay", "beds.py": "Beds"}),
        ("admin", {"home.py": "Home", "admin.py": "Administration"}),
    ],
)
def test_navigation_registers_only_the_roles_pages(
    app: AppTest, login: Callable[..., AppTest], username: str, allowed: dict[str, str]
) -> None:
    at = login(username)
    assert not at.exception
    assert _page_titles(at) == ["Home"]
    assert at.sidebar.button(key="auth.logout").label == "Log out"
    every = ("home.py", "patients.py", "documents.py", "triage.py", "ed_queue.py", "los.py", "beds.py", "admin.py")
    for page in every:  # st.navigation registered only the role's pages: the others cannot be opened
        if page not in allowed:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(f"pages/{page}")
    for page in allowed:
        at.switch_page(f"pages/{page}").run()
        assert not at.exception, at.exception
        assert _page_titles(at)[0] == allowed[page]


def test_home_shows_counts_and_census(
    app: AppTest, login: Callable[..., AppTest], store: Store, actors: dict[str, Actor]
) -> None:
    insert_demo(store, 40, 5)  # wards, patients in beds and documents
    census = dashboard.ward_census(store, actors["clinician"])
    assert sum(w.occupied for w in census) > 0
    at = login("clinician")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Patients"] == "40"
    assert metrics["In beds now"] == str(sum(w.occupied for w in census))
    assert int(metrics["Documents"]) > 0
    shown = at.dataframe[0].value
    assert list(shown["Ward"]) == [w.name for w in census]
    assert list(shown["Capacity"]) == [w.capacity for w in census]
    assert list(shown["Occupied"]) == [w.occupied for w in census]
    assert list(shown["Free"]) == [w.capacity - w.occupied for w in census]


def test_logout_revokes_the_session(app: AppTest, login: Callable[..., AppTest], store: Store) -> None:
    at = login("clinician")
    token = at.session_state["auth.token"]
    at.sidebar.button(key="auth.logout").click().run()
    assert at.session_state["auth.token"] is None and at.session_state["auth.actor"] is None
    assert not at.exception and not at.metric and not at.dataframe  # nothing of the hospital remains on screen
    assert [w.value for w in at.warning] == ["Please log in."]
    assert _page_titles(at) == []  # no page of the hospital is drawn under the notice
    with pytest.raises(SessionInvalid, match="ended"):
        auth.resolve_session(store, token)


def test_missing_secrets_file_is_flagged_on_the_login_page(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # Explicit development mode without a secrets file falls back to the public key, and says so.
    monkeypatch.setenv("MEDSPEAK_ENV", "development")
    monkeypatch.delenv("MEDSPEAK_COOKIE_KEY")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert "No secrets file" in at.warning[0].value


def test_home_names_the_patient_and_says_what_each_assessment_concluded(
    app: AppTest, login: Callable[..., AppTest], store: Store, actors: dict[str, Actor]
) -> None:
    from datetime import UTC, date, datetime

    from medspeak.services import patients
    from medspeak.store.models import Assessment

    patient = patients.register_patient(
        store, actors["clinician"], given_name="Paul", family_name="Girard", sex="male", birth_date=date(1944, 4, 4)
    )
    when = datetime(2026, 12, 4, 20, 3, tzinfo=UTC)
    with store.transaction() as db:
        db.add(
            Assessment(
                patient_id=patient.id,
                kind="triage",
                model_version="triage-gbm-2026.11",
                inputs={},
                output={"level": 2, "model_level": 2, "nurse_level": None, "probabilities": {"2": 0.7}},
                explanation={},
                created_at=when,
            )
        )
        db.add(
            Assessment(
                patient_id=patient.id,
                kind="los",
                model_version="los-2026.11",
                inputs={},
                output={"as_of": when.isoformat(), "elapsed_days": 0.56, "total_days": [3.1, 5.2, 8.4],
                        "remaining_days": [2.5, 4.6, 7.8], "discharge": []},
                explanation={},
                created_at=when,
            )
        )  # fmt: skip
    at = login("clinician")
    shown = at.dataframe[-1].value  # recent documents, then recent assessments
    assert list(shown["Patient"]) == [f"GIRARD, Paul · {patient.mrn}"] * 2
    assert set(shown["Kind"]) == {"Triage", "Length of stay"}
    assert set(shown["Result"]) == {"Level 2 · Emergency", "Expected stay 5.2 days (3.1 to 8.4 days) · 4.6 days left"}
    assert "Model" not in shown.columns
    assert not any(word in " ".join(shown["Result"]) for word in ("level:", "model_level", "as_of", "elapsed_days"))
