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
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import IO, Final

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "Said",
    "catalogue_path",
    "extract_json",
    "listed",
    "normalise",
    "translate",
    "translate_stored",
    "translated",
    "translations",
]

LANGUAGES: Final = {"en": "English", "fr": "Français"}  # each named in itself
DEFAULT_LANGUAGE: Final = "en"
_LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"
DOMAIN: Final = "medspeak"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention the extractor looks for
    """Mark a message for extraction where it is defined; translate it where it is shown."""
    return message


class Said(str):
    """An English sentence that keeps its template and values, to be shown in another language.

    It *is* the English ``str`` (stored, logged, answered by the API, compared in tests as before); a page
    that holds it shows ``said.translated(gettext)``. A value may itself be a :class:`Said`.
    """

    template: str
    params: Mapping[str, object]

    def __new__(cls, template: str, /, **params: object) -> Said:
        said = super().__new__(cls, template.format(**params) if params else template)
        said.template, said.params = template, params
        return said

    def __reduce__(self) -> tuple[Callable[..., Said], tuple[str, dict[str, object]]]:  # copy, deepcopy, pickle
        return _said, (self.template, dict(self.params))

    def translated(self, gettext: Callable[[str], str]) -> str:
        return translate(gettext, self.template, self.params)


def _said(template: str, params: dict[str, object]) -> Said:
    return Said(template, **params)


def listed(items: Sequence[str]) -> str:
    """``items`` joined by ", " as one sentence a page can translate item by item (a :class:`Said` when several)."""
    joined = items[0] if items else ""
    for item in items[1:]:
        joined = Said(N_("{first}, {second}"), first=joined, second=item)
    return joined


def translate(gettext: Callable[[str], str], template: str, params: Mapping[str, object]) -> str:
    """``template`` (an English message marked ``N_``) in ``gettext``'s language, filled with ``params``.

    A text value the catalogue knows (a vital's name, a unit, a ward) is translated too, a :class:`Said`
    value by its own template; any other value (an MRN, a number, a file name) is left as it is. Without
    ``params`` the template is not formatted.
    """
    if not params:
        return gettext(template)
    values = {key: _translated_value(gettext, value) for key, value in params.items()}
    return gettext(template).format(**values)


def translated(gettext: Callable[[str], str], text: str) -> str:
    """``text`` in ``gettext``'s language: a :class:`Said` by its template, any other text as a catalogue message."""
    return text.translated(gettext) if isinstance(text, Said) else gettext(text)


def _translated_value(gettext: Callable[[str], str], value: object) -> object:
    return translated(gettext, value) if isinstance(value, str) and value else value


def extract_json(
    fileobj: IO[bytes], keywords: object, comment_tags: object, options: Mapping[str, str]
) -> Iterator[tuple[int, str, str, list[str]]]:
    """A Babel extractor (``babel.cfg``) for the texts of a data file the interface shows: the values of the
    keys named in the section's ``keys`` option (a string, or a list of strings), wherever they are nested."""
    keys = set(options.get("keys", "").split())

    def walk(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in keys and isinstance(value, str):
                    yield value
                elif key in keys and isinstance(value, list):
                    yield from (item for item in value if isinstance(item, str))
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for text in walk(json.load(fileobj)):
        yield 0, "", text, []


def normalise(language: str | None) -> str:
    """``language`` if the interface speaks it, else the default."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def catalogue_path(language: str) -> Path:
    return _LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def _catalog(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue for ``language`` (fuzzy entries left out: an unchecked guess is not shown)."""
    language = normalise(language)
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    mo = io.BytesIO()
    write_mo(mo, _catalog(language), use_fuzzy=False)
    mo.seek(0)
    return gettext.GNUTranslations(mo)


_FIELD: Final = re.compile(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}")


@lru_cache(maxsize=len(LANGUAGES))
def _read_back(language: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """For each translated message with values: a pattern that reads its English sentence back, and the
    translation with plain fields (the values read back are text already formatted)."""
    found = []
    for message in _catalog(language):
        template, translated = str(message.id or ""), str(message.string or "")
        if not translated or message.fuzzy or "{{" in template or not _FIELD.search(template):
            continue
        parts, names, at = [], set(), 0
        for field in _FIELD.finditer(template):
            name = field.group(1)
            parts += [re.escape(template[at : field.start()]), f"(?P={name})" if name in names else f"(?P<{name}>.+?)"]
            names.add(name)
            at = field.end()
        parts.append(re.escape(template[at:]))
        found.append((re.compile("".join(parts), re.DOTALL), _FIELD.sub(lambda f: "{" + f.group(1) + "}", translated)))
    return tuple(found)


def translate_stored(language: str, text: str) -> str:
    """A sentence stored in English (a reading job's message, written when the job ended) in ``language``.

    A message without values is looked up; one with values is read back against the catalogue's templates
    and its values put into the translation as they were written. A sentence no template reads stays English.
    """
    language = normalise(language)
    direct = translations(language).gettext(text)
    if direct != text or language == DEFAULT_LANGUAGE:
        return direct
    for pattern, translated in _read_back(language):
        if (match := pattern.fullmatch(text)) is not None:
            # a value may itself be a stored sentence ("No page could be read: {error}"); each is shorter, so this ends
            return translated.format(**{k: translate_stored(language, v) for k, v in match.groupdict().items()})
    return text
