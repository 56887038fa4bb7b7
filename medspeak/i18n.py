"""The interface's languages: a standard gettext catalogue (``locale/fr/LC_MESSAGES/medspeak.po``).

Strings are marked ``_("...")`` where they are shown and ``N_("...")`` where they are defined ahead of
being shown (menu titles, column names); ``pybabel extract`` collects both (``make messages``).

Only the ``.po`` is committed; Babel compiles it in memory the first time a language is asked for
(about 20 ms), so no binary ``.mo`` can drift from its source and no build step is needed. English is
the source language: its "translation" is the message itself.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "N_", "catalogue_path", "normalise", "translate", "translations"]

LANGUAGES: Final = {"en": "English", "fr": "Français"}  # each named in itself
DEFAULT_LANGUAGE: Final = "en"
_LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"
DOMAIN: Final = "medspeak"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention the extractor looks for
    """Mark a message for extraction where it is defined; translate it where it is shown."""
    return message


def translate(gettext: Callable[[str], str], template: str, params: Mapping[str, object]) -> str:
    """``template`` (an English message marked ``N_``) in ``gettext``'s language, filled with ``params``.

    A text value the catalogue knows (a vital's name, a unit, a ward) is translated too; any other value
    (an MRN, a number, a file name) is left as it is. Without ``params`` the template is not formatted.
    """
    if not params:
        return gettext(template)
    values = {key: gettext(value) if isinstance(value, str) and value else value for key, value in params.items()}
    return gettext(template).format(**values)


def normalise(language: str | None) -> str:
    """``language`` if the interface speaks it, else the default."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def catalogue_path(language: str) -> Path:
    return _LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue for ``language`` (fuzzy entries left out: an unchecked guess is not shown)."""
    language = normalise(language)
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    with catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    mo = io.BytesIO()
    write_mo(mo, catalog, use_fuzzy=False)
    mo.seek(0)
    return gettext.GNUTranslations(mo)
