"""Issue 20: the interface in French and English, per user; no page shows a string the catalogue does not translate."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from medspeak.auth.roles import Actor
from medspeak.demo.seed import seed_demo
from medspeak.i18n import catalogue_path
from medspeak.services import users
from medspeak.store.db import Store
from tests.support.pages import shown_text

_ROOT = Path(__file__).resolve().parents[2]
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _extracted() -> set[str]:
    """Every message the interface marks, as `make messages` extracts it (babel.cfg)."""
    method_map = [("app.py", "python"), ("pages/**.py", "python"), ("components/**.py", "python")]
    keywords = {"_": None, "N_": None}
    return {str(m[2]) for m in extract_from_dir(str(_ROOT), method_map, keywords=keywords) if m[2]}


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
        "triage.py": ("Propose a level", "Chief complaint"),
        "ed_queue.py": ("ED queue", "Waiting"),
        "los.py": ("Expected discharge", "Patient in a bed", "History of updates"),
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
