"""The interface language of this browser session: ``_()`` for every string a page shows, and the switch.

Session-state key owned here: ``i18n.language`` (loaded from the user's preference at login, saved when
they switch). Before login the login page offers the switch and ``?lang=fr`` chooses it in a link.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from medspeak.errors import MedspeakError
from medspeak.i18n import LANGUAGES, N_, normalise, translate_stored, translated, translations

__all__ = ["N_", "_", "choose", "error_text", "language", "load_for", "shown", "stored", "switch"]

_KEY = "i18n.language"
_LOADED = "i18n.loaded_for"  # the user whose preference is in the session


def language() -> str:
    """The language of this session: the user's choice, else ``?lang=``, else English."""
    if _KEY not in st.session_state:
        st.session_state[_KEY] = normalise(st.query_params.get("lang"))
    return str(st.session_state[_KEY])


def _(message: str) -> str:
    return translations(language()).gettext(message)


def error_text(exc: Exception) -> str:
    """What a page shows of a refusal: a domain error's message in the reader's language (English: ``str(exc)``)."""
    return exc.translated(_) if isinstance(exc, MedspeakError) else str(exc)


def stored(text: str) -> str:
    """A sentence the store kept in English (a reading job's message) in the reader's language."""
    return translate_stored(language(), text)


def shown(text: str) -> str:
    """A text from the core in the reader's language: a :class:`Said` by its template, else as a catalogue message."""
    return translated(_, text)


def load_for(user_id: int | None, saved: Callable[[], str]) -> None:
    """After a login: the user's saved language (``saved()``), once a session (their later switches are saved)."""
    if st.session_state.get(_LOADED) != user_id:
        st.session_state[_KEY] = normalise(saved())
        st.session_state[_LOADED] = user_id


def choose(key: str) -> str:
    """A language switch that takes effect at once (used on the login page, before anyone is known)."""
    current = language()
    chosen = st.segmented_control(
        _("Language"), list(LANGUAGES), format_func=LANGUAGES.__getitem__, default=current, key=key
    )
    if chosen and chosen != current:
        st.session_state[_KEY] = chosen
        st.rerun()
    return current


def switch(save: Callable[[str], object]) -> None:
    """The sidebar's switch for a logged-in user: ``save`` keeps the choice with their account."""
    current = language()
    chosen = st.sidebar.segmented_control(
        _("Language"), list(LANGUAGES), format_func=LANGUAGES.__getitem__, default=current, key="i18n.switch"
    )
    if chosen and chosen != current:
        save(chosen)
        st.session_state[_KEY] = chosen
        st.rerun()
