"""HTML -> plain text (block elements become line breaks, scripts and styles dropped) and the
first image of a body with its alt text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape, unescape
from html.parser import HTMLParser

from ftfy import fix_encoding

_BLOCK = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "blockquote",
        "pre",
        "section",
        "article",
        "header",
        "footer",
        "figure",
        "figcaption",
        "hr",
        "dd",
        "dt",
    ]
)
_SKIP = frozenset(("script", "style", "noscript", "template", "head", "title", "iframe", "svg"))
_TWICE_ENCODED = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6"
    "\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
"""Two characters that a UTF-8 sequence read as Windows-1252 (or Latin-1) becomes: its lead byte
(`Ã`, `Ð`, `â`), then a continuation byte (`©`, `’`, `€`). ftfy reads a megabyte in about a
quarter of a second; only text with such a pair, which Korean or plain English never has, goes
to it."""
_BARE_ENTITY = re.compile(
    r"(?<![&A-Za-z])(?:quot|nbsp|hellip|middot|[lr][sd]quo);"
    r"|(?<![&#])(?:gt|#0?39);"
    r"|(?<![&\w])(?:lt|amp|apos);"
)
"""An entity whose `&` a publisher's pipeline dropped (`quot;학생때 술먹고quot;`, `lt;노틀담의
꼽추gt;`). `gt;` and the apostrophe's number `#039;` are read anywhere (no word ends in `gt`;
other numbers may be an issue's, `#34;`); `quot;`, `nbsp;` and the like anywhere but
after a Latin letter; `lt;`, `amp;` and `apos;` only after a space or a sign, as words end with
them (`result;`, `camp;`)."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u202a-\u202e\u2066-\u2069\ufeff]")
"""Control characters, and the bidirectional overrides and isolates, which reorder what follows
(`\u202egnp.exe` reads `exe.png`); a headline needs neither."""
MAX_MARKUP_CHARS = 100_000
"""Markup read per field: far more than the excerpt an alert shows and the lead tagging and
grouping read, so that a broken feed's megabyte of markup costs what a long article does."""
_MARKUP = re.compile(r"""(<!--.*?-->|<(?:=\s*"[^"]*"|=\s*'[^']*'|[^<>])*+>)|<""", re.DOTALL)
"""A comment, or a tag (an attribute's quoted value may hold `<` and `>`), both kept; else a `<`
that opens neither: text. (The possessive `*+` never tries the loop's choices again.)"""


@dataclass(frozen=True, slots=True)
class Image:
    src: str
    alt: str


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.images: list[Image] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "img":
            values = dict(attrs)
            src = (values.get("src") or "").strip()
            if src:
                self.images.append(Image(src, (values.get("alt") or "").strip()))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _parse(html: str) -> _TextExtractor:
    extractor = _TextExtractor()
    try:
        extractor.feed(_closed_markup(html[:MAX_MARKUP_CHARS]))
        extractor.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    return extractor


def _closed_markup(html: str) -> str:
    """`html` with each `<` that opens no complete tag or comment written as text (`&lt;`).
    html.parser looks for the end of each such `<` through all the rest of the input, which takes
    quadratic time (a minute for 100,000 characters of `<a/<a/…`); text it is read in one pass."""
    closed = html.rfind("-->") + 3 if "-->" in html else 0
    if "<!--" in html[closed:]:  # comments no `-->` ends are text (and each comment left ends)
        html = html[:closed] + html[closed:].replace("<!--", "&lt;!--")
    return _MARKUP.sub(lambda found: found[1] or "&lt;", html)


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML fragment: tags dropped, entities decoded, blank runs folded.

    Paragraph breaks survive as single newlines; other whitespace becomes one space. Mojibake,
    UTF-8 decoded as Windows-1252 by the publisher, and entities that lost their `&` are
    repaired.
    """
    raw = "".join(_parse(html).parts) if "<" in html or "&" in html else html
    raw = unescape(raw) if "&" in raw else raw
    if ";" in raw:
        raw = _BARE_ENTITY.sub(lambda found: unescape("&" + found[0]), raw)
    # text a publisher encoded twice (`Ð’ ÐœÐ¾ÑÐºÐ²Ðµ` for `В Москве`, `â€™` for `’`) is read back
    if _TWICE_ENCODED.search(raw):
        raw = fix_encoding(raw)
    raw = _CONTROL.sub("", raw).replace("\xa0", " ")
    lines = (" ".join(line.split()) for line in raw.splitlines())
    return "\n".join(line for line in lines if line)


def plain_to_text(text: str) -> str:
    """Readable text of a field its feed marks as plain text: as `html_to_text`, but its `<` and
    `&` are the characters themselves (`Vector<int>`, `R&D`), no markup."""
    return html_to_text(escape(text, quote=False))


def first_image(html: str) -> Image | None:
    """The first `<img>` with a source in `html`."""
    if "<img" not in html.lower():
        return None
    images = _parse(html).images
    return images[0] if images else None
