"""Korean feeds in the encodings Korean sites really use, read as what they are.

Many Korean sites serve CP949 (Microsoft's superset of EUC-KR, with the 8,822 syllables EUC-KR
lacks: `똠`, `햏`, `뷁`) and label it `euc-kr`, or label it nothing or `utf-8`. feedparser tries
the label, then UTF-8, then Windows-1252, which reads every Korean byte as a Latin letter: the
headline turns to `ÀΰøÁö´É` and no Korean keyword matches. Here such a body becomes the UTF-8 it
means, with its labels saying so, before feedparser sees it.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

KOREAN_LABELS = frozenset(
    {
        *("euc-kr", "euc_kr", "euckr", "cp949", "ms949", "uhc", "windows-949", "x-windows-949"),
        *("ks_c_5601-1987", "ks_c_5601", "ksc5601", "ksc_5601", "korean", "iso-ir-149"),
    }
)
"""Labels browsers read as CP949 (the WHATWG Encoding Standard's `EUC-KR`), and Python's names."""
UTF8_LABELS = frozenset(("utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8"))
HANGUL_SHARE = 0.5
"""An unlabelled body that is not UTF-8 is taken for CP949 when at least this share of its
non-ASCII characters, read so, are Hangul: Latin-1 text read as CP949 gives scattered hanja and
symbols, Korean text gives Hangul throughout."""
_XML_ENCODING = re.compile(rb"""(<\?xml[^>]*?encoding\s*=\s*["'])([^"']*)(["'])""")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']*)", re.IGNORECASE)
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def korean_as_utf8(body: bytes, headers: Mapping[str, str]) -> tuple[bytes, dict[str, str]]:
    """`body` and its (lower-cased) `headers`, a Korean body in CP949 made UTF-8 and relabelled;
    any other body as it came."""
    out = dict(headers)
    if body.startswith(_BOMS):
        return body, out
    declared = _label(body, headers)
    text: str | None = None
    if declared in KOREAN_LABELS:
        text = _utf8_text(body) or body.decode("cp949", errors="replace")
    elif (declared in UTF8_LABELS or declared == "") and _utf8_text(body) is None:
        text = _hangul_text(body)
    if text is None:
        return body, out
    if "content-type" in out:
        out["content-type"] = _CHARSET.sub("charset=utf-8", out["content-type"])
    utf8 = _XML_ENCODING.sub(rb"\g<1>utf-8\g<3>", text.encode("utf-8"), count=1)
    return utf8, out


def _label(body: bytes, headers: Mapping[str, str]) -> str:
    """The encoding the response header names, else the XML declaration; "" when neither does."""
    found = _CHARSET.search(headers.get("content-type", ""))
    if found and found[1]:
        return found[1].lower()
    declaration = _XML_ENCODING.search(body[:1024])
    return declaration[2].decode("ascii", errors="replace").lower() if declaration else ""


def _utf8_text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _hangul_text(body: bytes) -> str | None:
    """`body` read as CP949 when it reads so throughout and is mostly Hangul; else None."""
    try:
        text = body.decode("cp949")
    except UnicodeDecodeError:
        return None
    wide = [c for c in text if ord(c) > 0x7F]
    hangul = sum(1 for c in wide if "\uac00" <= c <= "\ud7a3" or "\u3131" <= c <= "\u318e")
    return text if wide and hangul >= HANGUL_SHARE * len(wide) else None
