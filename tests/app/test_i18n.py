"""Issue 20: the interface in French and English, per user; no page shows a string the catalogue does not translate."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from medspeak.auth.roles import Actor
from medspeak.demo.seed import seed_demo
from medspeak.errors import NotFound
from medspeak.i18n import catalogue_path
from medspeak.services import users
from medspeak.store.db import Store
from tests.support.pages import shown_text

_ROOT = Path(__file__).resolve().parents[2]
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _extracted() -> set[str]:
    """Every message the interface marks, as `make messages` extracts it (babel.cfg, its JSON extractor included)."""
    with (_ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    assert ("medspeak/**.py", "python") in method_map  # the core's messages: errors, vitals, levels, wards, drivers
    keywords = {"_": None, "N_": None}
    found = extract_from_dir(str(_ROOT), method_map, options_map, keywords=keywords)
    return {str(m[2]) for m in found if m[2]}


def _french() -> dict[str, str]:
    with catalogue_path("fr").open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po, locale="fr") if m.id and m.string and not m.fuzzy}


def test_every_interface_message_has_a_french_translation_with_the_same_placeholders() -> None:
    messages, french = _extracted(), _french()
    assert len(messages) > 80
    missing = sorted(messages - set(french))
    assert not missing, f"untranslated (run `make messages`, then translate): {missing}"
    for message in messages:
        assert sorted(_PLACEHOLDER.findall(message)) == sorted(_PLACEHOLDER.findall(french[message])), message


def _english_shown(at: AppTest) -> list[str]:
    """Catalogue messages (that French writes differently) drawn in English on a page meant to be French."""
    english = {m for m, fr in _french().items() if fr != m and len(m) > 3}
    return sorted({m for text in shown_text(at) for m in english if m == text or (len(m) > 12 and m in text)})


@pytest.fixture
def french(store: Store, actors: dict[str, Actor]) -> dict[str, Actor]:
    for actor in actors.values():
        users.set_language(store, actor, "fr")
    seed_demo(store, n_patients=12, seed=20261128)
    return actors


# Every page of each role, with English words a French reader must not meet there.
_PAGES = {
    "clinician": {
        "home.py": ("Home", "Ward census", "Log out"),
        "demo.py": ("Upload a sample", "Open"),
        "patients.py": ("Search by name or MRN", "Register a patient"),
        "documents.py": ("Upload and read", "Try a sample", "Attach to", "Documents of"),
        "triage.py": ("Propose a level", "Chief complaint", "Heart rate", "Respiratory rate", "Temperature"),
        "ed_queue.py": ("ED queue", "Waiting"),
        "los.py": ("Expected discharge", "Patient in a bed", "History of updates", "the stay by about", "Admitted at"),
        "beds.py": ("Patients likely to leave", "Discharges today"),
    },
    "bedmanager": {
        "home.py": ("Ward census",),
        "demo.py": ("Log in as",),
        "patients.py": ("Search by name or MRN",),
        "los.py": ("Expected discharge",),
        "beds.py": ("Tomorrow (median)",),
    },
    "admin": {"home.py": ("In beds now",), "demo.py": ("Log in as",), "admin.py": ("Audit trail", "Users", "Outcome")},
}


@pytest.mark.parametrize("username", list(_PAGES))
def test_each_page_in_french_shows_no_english(
    french: dict[str, Actor], login: Callable[..., AppTest], username: str
) -> None:
    at = login(username)
    assert at.sidebar.button(key="auth.logout").label == "Se déconnecter"
    for page, words in _PAGES[username].items():
        at.switch_page(f"pages/{page}").run()
        assert not at.exception, at.exception
        assert not _english_shown(at), (page, _english_shown(at))
        texts = shown_text(at)
        for word in words:
            assert not any(re.search(rf"\b{re.escape(word)}\b", t) for t in texts), (page, word)


def _switch_page(username: str) -> None:
    import streamlit as st

    from components import i18n, runtime
    from components.i18n import _
    from medspeak.services import users
    from medspeak.services.record import actor_for

    actor = actor_for(runtime.store(), username)
    i18n.load_for(actor.user_id, lambda: users.language_of(runtime.store(), actor))
    i18n.switch(lambda chosen: users.set_language(runtime.store(), actor, chosen))
    st.title(_("Home"))


def test_the_language_is_each_users_and_the_sidebar_switch_keeps_it(store: Store, actors: dict[str, Actor]) -> None:
    at = AppTest.from_function(_switch_page, args=("clinician",)).run()
    assert at.title[0].value == "Home"
    at.sidebar.segmented_control(key="i18n.switch").set_value("fr").run()
    assert not at.exception
    assert at.title[0].value == "Accueil"
    assert users.language_of(store, actors["clinician"]) == "fr"
    assert users.language_of(store, actors["bed_manager"]) == "en"  # one user's choice is theirs alone
    again = AppTest.from_function(_switch_page, args=("clinician",)).run()  # a new session: the choice is kept
    assert again.title[0].value == "Accueil"


def test_the_login_page_can_be_read_in_french_before_logging_in(app: AppTest) -> None:
    app.segmented_control(key="auth.language").set_value("fr").run()
    assert [b.label for b in app.button] == ["Se connecter"]
    assert {t.label for t in app.text_input} == {"Nom d'utilisateur", "Mot de passe"}


def _core_messages() -> None:
    """The core's refusals as a page shows them (``error_text``) and its clinical words, in a French session."""
    import streamlit as st

    from components.i18n import _, error_text
    from medspeak.errors import NotFound
    from medspeak.ingest.validate import validate_upload
    from medspeak.services.triage import needed_inputs
    from medspeak.triage.inputs import TriageInputs
    from medspeak.triage.levels import LEVELS
    from medspeak.triage.plausibility import ImplausibleInputs, check_inputs

    st.session_state["i18n.language"] = "fr"
    st.text(error_text(NotFound("No patient with id {patient_id}.", patient_id=12)))
    incomplete = needed_inputs(TriageInputs(heart_rate=80))
    assert incomplete is not None
    st.text(error_text(incomplete))
    st.text(error_text(ImplausibleInputs(check_inputs(TriageInputs(temperature_c=101.3, age=130)))))
    try:
        validate_upload("empty.pdf", b"", max_bytes=2**20, max_pages=10)
    except Exception as exc:  # noqa: BLE001 - the page shows whatever the core refused with
        st.text(error_text(exc))
    st.text(_(LEVELS[1].name))


def test_the_cores_refusals_and_clinical_words_are_shown_in_french() -> None:
    at = AppTest.from_function(_core_messages).run()
    assert not at.exception, at.exception
    shown = [t.value for t in at.text]
    assert shown[0] == "Aucun patient n° 12."
    assert shown[1] == (
        "Pas assez de données pour proposer un niveau. Veuillez relever le motif de consultation, au moins 2 de plus "
        "parmi : fréquence respiratoire, pression artérielle, SpO2, température."
    )
    assert shown[2] == (
        "Température 101.3 est hors de 25-45 °C ; vouliez-vous dire 38.5 °C (°F → °C) ? "
        "Âge 130 ans est impossible (accepté : 0-120)."
    )
    assert shown[3] == "Le fichier est vide."
    assert shown[4] == "Réanimation immédiate"
    # the API, the logs and the CLI keep English: str() of the same error
    assert str(NotFound("No patient with id {patient_id}.", patient_id=12)) == "No patient with id 12."


# Where a refusal reaches a page: each is written as an N_ template with its values apart, so that a French reader
# reads it in French (an f-string is English for good: the catalogue cannot know its values).
_PAGE_FACING = ("services", "ingest", "auth", "store", "triage/inputs.py", "triage/plausibility.py", "work_budget.py")


def test_a_refusal_a_page_can_show_is_a_template_the_catalogue_translates() -> None:
    import ast

    from medspeak import errors

    names = set(errors.http_statuses())
    core = _ROOT / "medspeak"
    files = [
        p for part in _PAGE_FACING for p in ([core / part] if part.endswith(".py") else (core / part).rglob("*.py"))
    ]
    written = []
    for path in files:
        if "evaluation" in path.name:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names and node.args:
                first = node.args[0]
                if isinstance(first, ast.JoinedStr) or (
                    isinstance(first, ast.Constant) and isinstance(first.value, str)
                ):
                    written.append(f"{path.relative_to(_ROOT)}:{node.lineno}")
    assert len(files) > 40
    assert not written, f"write these as N_('... {{value}} ...'), value=...: {written}"


def _french_triage() -> None:
    """A shock patient's proposal drawn as the Triage page draws it, for a French reader whose level is 3."""
    import streamlit as st

    from components import runtime, triage_result
    from medspeak.auth.roles import Actor, Role
    from medspeak.services import triage
    from medspeak.triage.inputs import TriageInputs

    st.session_state["i18n.language"] = "fr"
    shock = TriageInputs(
        spo2=85, heart_rate=130, respiratory_rate=28, systolic_bp=85, diastolic_bp=50, temperature_c=39.2, age=70,
        chief_complaint="shortness of breath",
    )  # fmt: skip
    nurse = Actor(0, "nurse", Role.CLINICIAN)
    triage_result.show(triage.assess(runtime.context(), nurse, shock, nurse_level=3))


def test_a_triage_proposal_reads_in_french_rules_reasons_and_pathway(store: Store) -> None:
    at = AppTest.from_function(_french_triage).run(timeout=60)
    assert not at.exception, at.exception
    texts = shown_text(at) + [t.value for t in at.text]
    joined = "\n".join(texts)
    for french in (
        "Choc : hypotension avec tachycardie",  # a safety rule's name (safety_rules.json)
        "PA systolique < 90 mmHg et fréquence cardiaque",  # its threshold, from the vitals spec's words
        "P(niveau 1-2)",  # the alert's reason
        "niveau 1 au plus",  # the second reader's reason for the nurse's level 3
        "Difficulté respiratoire",  # the pathway (pathways.json)
        "points vers le niveau 1-2",
    ):
        assert french in joined, french
    for english in ("Shock: hypotension", "at most", "points towards", "Breathing difficulty", "alert from"):
        assert english not in joined, english


def _cells(at: AppTest, column: str) -> set[str]:
    return {str(v) for frame in at.dataframe if column in frame.value.columns for v in frame.value[column]}


def test_stored_codes_are_shown_in_french_words(french: dict[str, Actor], login: Callable[..., AppTest]) -> None:
    """Values the store keeps as codes (a sex, an arrival mode, an AVPU level, an audit outcome, a role) read as
    French words in a French session; the codes themselves are unchanged."""
    at = login("clinician")
    at.switch_page("pages/patients.py").run()
    assert _cells(at, "Sexe") <= {"féminin", "masculin", "inconnu"} and _cells(at, "Sexe")
    at.switch_page("pages/triage.py").run()
    arrival = at.selectbox(key="triage.f.transport_mode").options  # as drawn
    assert "à pied" in arrival and "ambulance publique" in arrival and "walk-in" not in arrival
    assert "aréactif" in at.selectbox(key="triage.f.mental_status").options


def test_the_audit_trail_reads_in_french(french: dict[str, Actor], login: Callable[..., AppTest]) -> None:
    at = login("admin")
    at.switch_page("pages/admin.py").run()
    assert "succès" in _cells(at, "Résultat") and "success" not in _cells(at, "Résultat")
    assert "Administrateur" in _cells(at, "Rôle")


def test_a_reading_jobs_stored_message_is_read_back_in_french() -> None:
    """A job's message is stored in English when the job ends; the page reads it back against the catalogue."""
    from medspeak.i18n import translate_stored

    stopped = (
        "Reading stopped: the document took longer than its budget of 120 s. Its text is kept; split it into "
        "smaller documents to have its facts extracted."
    )
    assert translate_stored("fr", stopped).startswith(
        "Lecture arrêtée : le document a dépassé son temps alloué de 120 s."
    )
    nested = "No page could be read: OCR took longer than the page budget (30 s)."
    assert (
        translate_stored("fr", nested)
        == "Aucune page n'a pu être lue : L'OCR a dépassé le temps alloué à la page (30 s)."
    )
    assert translate_stored("fr", "The file is empty.") == "Le fichier est vide."
    assert translate_stored("en", stopped) == stopped and translate_stored("fr", "a doctor's note") == "a doctor's note"
