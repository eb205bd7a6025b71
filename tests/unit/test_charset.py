"""Korean feeds in CP949 under whatever label their site gives, read as Korean."""

from __future__ import annotations

import pytest

from bot.feeds.parse import parse_feed

HEADLINE = "[속보] 인공지능 정책 발표, 똠방각하 뷁 햏"
"""`똠`, `뷁` and `햏` are CP949's own: EUC-KR has no code for them."""


def rss(title: str, declaration: str, summary: str = "정책금융 지원") -> str:
    return (
        f"{declaration}<rss version='2.0'><channel><title>t</title><item><title>{title}</title>"
        f"<link>https://news.example/1</link><description>{summary}</description></item>"
        "</channel></rss>"
    )


@pytest.mark.parametrize(
    ("declaration", "content_type"),
    [
        ('<?xml version="1.0" encoding="euc-kr"?>', None),
        ("<?xml version='1.0' encoding='EUC-KR'?>", "application/rss+xml; charset=euc-kr"),
        ('<?xml version="1.0" encoding="ks_c_5601-1987"?>', None),
        ('<?xml version="1.0" encoding="utf-8"?>', None),
        ('<?xml version="1.0" encoding="utf-8"?>', "text/xml; charset=UTF-8"),
        ("", None),
        ("", "application/xml"),
    ],
    ids=[
        "euc-kr",
        "euc-kr-header",
        "ks_c_5601",
        "says-utf-8",
        "header-says-utf-8",
        "no-label",
        "no-charset",
    ],
)
def test_a_cp949_feed_is_read_as_korean_whatever_its_label(
    declaration: str, content_type: str | None
) -> None:
    body = rss(HEADLINE, declaration).encode("cp949")
    headers = {"Content-Type": content_type} if content_type else {}
    (item,) = parse_feed(body, headers=headers).items
    assert item.title == HEADLINE
    assert item.summary == "정책금융 지원"


def test_utf8_labelled_euc_kr_is_read_as_utf8() -> None:
    body = rss(HEADLINE, '<?xml version="1.0" encoding="euc-kr"?>').encode("utf-8")
    assert parse_feed(body).items[0].title == HEADLINE


def test_latin_text_without_a_label_is_not_taken_for_korean() -> None:
    """Windows-1252 bytes that happen to read as CP949 (`é` then a letter) give hanja and
    symbols, not Hangul: feedparser's own fallback reads them."""
    body = rss("Été à Paris: café crème", "", summary="Météo").encode("cp1252")
    assert parse_feed(body).items[0].title == "Été à Paris: café crème"
