"""`fetch_article: true`: a title-only feed's new items take their lead from their page, fetched
over loopback once per link, through the same guard, size cap and timeouts as feeds; on SQLite
and PostgreSQL."""

from __future__ import annotations

import logging

import pytest

from bot.config import LoadedConfig
from bot.feeds.fetch import FetchLimits
from bot.netguard import URLGuard
from bot.poller import PollPolicy
from tests.fakes.feed_server import FeedServer, rss
from tests.helpers import config_with_feeds
from tests.integration.test_pipeline import run_once

TITLE = "정부, 3조5000억 원 규모 지원 프로그램 발표"
"""A headline that names no topic: only the article says what the programme is."""

ARTICLE = f"""<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>{TITLE}</title></head>
<body>
<nav><a href="/">홈</a> | <a href="/economy">경제</a> | <a href="/it">IT</a></nav>
<article>
<h1>{TITLE}</h1>
<p>정부가 인공지능(AI) 반도체와 로봇 산업에 정책금융 3조5000억 원을 공급한다고 밝혔다.
산업은행과 기업은행이 저리 대출과 보증으로 기업의 설비 투자를 돕는다.</p>
<p>지원 대상은 AI 모델을 개발하거나 도입하는 중소·중견기업이며, 신청은 다음 달부터 받는다.
금융위원회는 정책자금 집행 상황을 분기마다 점검하겠다고 설명했다.</p>
<p>업계는 대체로 환영하는 분위기다.</p>
</article>
<footer>Copyright 2026 Example News. 무단 전재 및 재배포 금지 | 구독 신청 | 광고 문의</footer>
</body></html>
"""


def permissive() -> URLGuard:
    """A test-only policy: the loopback server stands for a public news site."""
    return URLGuard(refuse=lambda address: None)


def config(feed_server: FeedServer, *feeds: str, fetch_article: bool = True) -> LoadedConfig:
    lines = "".join(
        f'  - {{name: {name}, url: "{feed_server.url(name + ".xml")}", backlog: 5, '
        f"fetch_article: {str(fetch_article).lower()}}}\n"
        for name in feeds
    )
    return config_with_feeds(lines)


def title_only(feed_server: FeedServer, name: str, link: str, *, summary: str = "") -> None:
    item = {"title": TITLE, "link": link, "guid": f"{name}-1"}
    if summary:
        item["description"] = summary
    feed_server.publish(f"{name}.xml", rss([item]))


async def test_without_fetch_article_the_title_alone_names_no_topic(
    database_url: str, feed_server: FeedServer
) -> None:
    feed_server.publish("story.html", ARTICLE, content_type="text/html; charset=utf-8")
    title_only(feed_server, "wire", feed_server.url("story.html"))

    without = await run_once(database_url, config(feed_server, "wire", fetch_article=False))
    assert without == "", "the title alone names no topic"
    assert feed_server.requests_to("story.html") == []


async def test_the_article_lead_tags_the_item_and_is_its_excerpt(
    database_url: str, feed_server: FeedServer
) -> None:
    feed_server.publish("story.html", ARTICLE, content_type="text/html; charset=utf-8")
    link = feed_server.url("story.html")
    title_only(feed_server, "wire", link)
    title_only(feed_server, "mirror", link)  # a second feed carrying the same link

    out = await run_once(database_url, config(feed_server, "wire", "mirror"), permissive())
    header = out.splitlines()[0]
    assert TITLE in header and "ai" in header and "policy-finance" in header, out
    assert "정부가 인공지능(AI) 반도체와 로봇 산업에 정책금융" in out, (
        "the article's lead is the excerpt"
    )
    assert "무단 전재" not in out and "경제 | IT" not in out, "no page furniture"
    # the mirror's report is the same article: one story, and no other page to name in an edit
    assert out.count(TITLE) == 1, out
    assert len(feed_server.requests_to("story.html")) == 1, "one fetch for one link"

    again = await run_once(database_url, config(feed_server, "wire", "mirror"), permissive())
    assert again == ""
    assert len(feed_server.requests_to("story.html")) == 1, "seen items are never fetched"


async def test_a_link_inside_the_network_is_refused_and_the_summary_kept(
    database_url: str, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    feed_server.publish("story.html", ARTICLE, content_type="text/html; charset=utf-8")
    summary = "[속보] 인공지능 지원 발표"
    title_only(feed_server, "wire", feed_server.url("story.html"), summary=summary)

    with caplog.at_level(logging.WARNING, logger="bot.feeds.article"):
        out = await run_once(database_url, config(feed_server, "wire"))  # the real guard
    assert feed_server.requests_to("story.html") == [], "never connected"
    assert summary in out and "정책금융" not in out, "the feed's own summary stays"
    refusals = [r.getMessage() for r in caplog.records if r.name == "bot.feeds.article"]
    assert len(refusals) == 1 and "loopback" in refusals[0], refusals


async def test_an_oversized_page_is_refused_and_the_summary_kept(
    database_url: str, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    padding = "<p>" + "광고 " * 40_000 + "</p>"  # about 240 KB, gzipped to almost nothing
    page = ARTICLE.replace("</article>", f"</article>{padding}")
    feed_server.publish("story.html", page, content_type="text/html; charset=utf-8")
    summary = "[속보] 인공지능 지원 발표"
    title_only(feed_server, "wire", feed_server.url("story.html"), summary=summary)
    policy = PollPolicy(limits=FetchLimits(max_body_bytes=64 * 1024))

    with caplog.at_level(logging.WARNING, logger="bot.feeds.article"):
        out = await run_once(database_url, config(feed_server, "wire"), permissive(), policy)
    assert len(feed_server.requests_to("story.html")) == 1
    assert summary in out and "정책금융" not in out, "the feed's own summary stays"
    refusals = [r.getMessage() for r in caplog.records if r.name == "bot.feeds.article"]
    assert len(refusals) == 1 and "cap" in refusals[0], refusals
