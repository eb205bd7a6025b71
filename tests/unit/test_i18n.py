"""The message catalogs: the template lists exactly the messages the code asks for, every
language translates every one of them with the same placeholders, and `speaking` switches."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

import bot
from bot.i18n import LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE, _, catalog_path, ngettext, speaking

PACKAGE = Path(bot.__file__).parent
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
TRANSLATED = [language for language in LANGUAGES if language != SOURCE_LANGUAGE]


def ids(messages: Catalog) -> set[object]:
    return {message.id for message in messages if message.id}


def in_code() -> set[object]:
    """What `pybabel extract -k N_ bot` finds: every message the code translates."""
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found: set[object] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(PACKAGE, keywords=keywords):
        found.add(message)
    return {m if isinstance(m, str) else tuple(m) for m in found}


def template() -> Catalog:
    with (LOCALE_DIR / "newsbot.pot").open("rb") as pot:
        return read_po(pot)


def test_the_template_lists_every_message_of_the_code() -> None:
    listed = ids(template())
    code = in_code()
    assert code - listed == set(), "new messages: run pybabel extract (see bot/i18n.py)"
    assert listed - code == set(), "messages the code no longer uses are still in the template"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_has_a_translation_with_the_same_placeholders(language: str) -> None:
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    translated = {message.id: message for message in catalog if message.id}
    missing = [m for m in ids(template()) if not _has_text(translated.get(m))]
    assert missing == [], f"{language}: no translation for {missing}"
    for message in translated.values():
        assert not message.fuzzy, f"{language}: fuzzy translation of {message.id!r}"
        sources = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else message.string
        wanted = set(PLACEHOLDER.findall(sources[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, f"{language}: {message.id!r}"


def _has_text(message: object) -> bool:
    if message is None:
        return False
    string = message.string  # type: ignore[attr-defined]
    return bool(string) if isinstance(string, str) else all(string)


def test_speaking_switches_the_language_and_falls_back_to_english() -> None:
    with speaking("ko"):
        assert _("Subscribed to {topics}.") == "{topics}을(를) 구독했습니다."
        assert ngettext("{count} story", "{count} stories", 3) == "기사 {count}건"
        with speaking("fr"):
            assert _("Subscribed to {topics}.") == "Subscribed to {topics}."
        assert _("(none)") == "(없음)"
    assert ngettext("{count} story", "{count} stories", 1) == "{count} story"
    assert _("(none)") == "(none)"
