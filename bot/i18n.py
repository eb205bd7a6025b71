"""The bot's own words in a chat's language: gettext catalogs, one `.po` file per language in
`bot/locale/<language>/LC_MESSAGES/newsbot.po`, compiled with Babel the first time a language is
used. English is the source language (the message ids themselves).

Command handlers and the digest renderer call `_()` (and `ngettext()`); which language they speak
is set around each command or digest with `speaking()`, a context variable, so concurrent commands
in different chats never mix their languages.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("en", "ko")
SOURCE_LANGUAGE = "en"
DOMAIN = "newsbot"
LOCALE_DIR = Path(__file__).parent / "locale"

_speaking: ContextVar[str] = ContextVar("speaking", default=SOURCE_LANGUAGE)


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of `language` (the message ids themselves for English)."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def supported(code: str | None) -> str | None:
    """The language of a platform's code (`ko`, `ko-KR`, `en_US`), when the bot speaks it."""
    language = (code or "").replace("_", "-").split("-")[0].lower()
    return language if language in LANGUAGES else None


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Within this block `_()` answers in `language` (English when the bot does not speak it)."""
    token = _speaking.set(supported(language) or SOURCE_LANGUAGE)
    try:
        yield
    finally:
        _speaking.reset(token)


def _(message: str) -> str:
    """`message` in the language spoken here."""
    return translations(_speaking.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form for `count` of a message with plurals, in the language spoken here."""
    return translations(_speaking.get()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark `message` for the catalogs without translating it yet (translated where shown)."""
    return message
