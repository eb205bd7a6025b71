"""Article leads: the first paragraphs of a page's main text, one fetch per link, failures kept
out of the item; and the config key that asks for them."""

from __future__ import annotations

import asyncio

import pytest

from bot.classify import Classifier
from bot.config import ConfigError, load_config, parse_config
from bot.feeds.article import LEAD_CHARS, ArticleLeads, article_lead
from bot.feeds.fetch import BodyTooLarge, FetchResult
from bot.models import FeedItem
from tests.helpers import config_yaml
from tests.integration.test_articles import ARTICLE, TITLE
from tests.seed import load_seed
from tests.shared import REPO, SEED_DIR, WHERE


def page(body: str, content_type: str = "text/html; charset=utf-8") -> FetchResult:
    return FetchResult(
        status=200,
        url="https://news.example/story",
        body=body.encode(),
        headers={"content-type": content_type},
        etag=None,
        last_modified=None,
        moved_to=None,
        retry_after=None,
        max_age=None,
        elapsed=0.0,
    )


class Site:
    """Serves pages by link, counts what was asked, and answers slowly enough to overlap."""

    def __init__(self, pages: dict[str, FetchResult | Exception]) -> None:
        self.pages = pages
        self.asked: list[str] = []

    async def fetch(self, url: str) -> FetchResult:
        self.asked.append(url)
        await asyncio.sleep(0.01)
        answer = self.pages[url]
        if isinstance(answer, Exception):
            raise answer
        return answer


def item(link: str, summary: str = "") -> FeedItem:
    return FeedItem(key=link, guid=None, link=link, title=TITLE, summary=summary)


def test_the_lead_is_the_first_paragraphs_without_the_title_or_the_page_furniture() -> None:
    lead = article_lead(ARTICLE.encode(), url="https://news.example/story", title=TITLE)
    paragraphs = lead.split("\n\n")
    assert paragraphs[0].startswith("정부가 인공지능(AI) 반도체와 로봇 산업에 정책금융")
    assert len(paragraphs) == 3 and paragraphs[2] == "업계는 대체로 환영하는 분위기다."
    assert TITLE not in lead and "무단 전재" not in lead and "홈" not in lead


def test_a_long_first_paragraph_is_cut_at_a_word() -> None:
    long = (
        "<html><body><article><p>"
        + "정책금융 지원을 늘린다. " * 200
        + "</p></article></body></html>"
    )
    lead = article_lead(long.encode(), url="https://news.example/long")
    assert len(lead) <= LEAD_CHARS + 2 and lead.endswith(" …")


async def test_one_fetch_per_link_even_when_asked_at_once() -> None:
    site = Site({"https://news.example/story": page(ARTICLE)})
    leads = ArticleLeads(site.fetch)
    first, second = await asyncio.gather(
        leads.fill([item("https://news.example/story")], feed="a"),
        leads.fill([item("https://news.example/story")], feed="b"),
    )
    assert first == second and first[0].summary.startswith("정부가 인공지능(AI)")
    assert site.asked == ["https://news.example/story"]
    await leads.fill([item("https://news.example/story")], feed="c")
    assert site.asked == ["https://news.example/story"], "remembered"


async def test_what_cannot_be_read_leaves_the_item_as_the_feed_gave_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    site = Site(
        {
            "https://news.example/big": BodyTooLarge("https://news.example/big: body exceeds cap"),
            "https://news.example/pdf": page("%PDF-1.7", "application/pdf"),
            "https://news.example/empty": page("<html><body></body></html>"),
        }
    )
    leads = ArticleLeads(site.fetch)
    items = [item(link, summary="the feed's own") for link in site.pages]
    items.append(item("ftp://news.example/file", summary="the feed's own"))
    filled = await leads.fill(items, feed="wire")
    assert [i.summary for i in filled] == ["the feed's own"] * 4
    assert "ftp://news.example/file" not in site.asked
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.feeds.article"]
    assert len(lines) == 3, lines
    assert all(line.startswith("feed wire: ") and "summary stays" in line for line in lines)


def test_fetch_article_is_a_feed_key_checked_like_the_others() -> None:
    feed = '  - {name: wire, url: "https://news.example/rss", fetch_article: true}\n'
    assert parse_config(config_yaml(feed)).feeds[0].fetch_article is True
    bad = '  - {name: wire, url: "https://news.example/rss", fetch_article: sometimes}\n'
    with pytest.raises(ConfigError) as refused:
        parse_config(config_yaml(bad), source="s.yaml")
    assert str(refused.value).startswith("s.yaml:4: feeds[0].fetch_article: ")


async def test_a_fetch_cut_short_is_not_remembered() -> None:
    site = Site({"https://news.example/story": page(ARTICLE)})
    leads = ArticleLeads(site.fetch)
    polling = asyncio.create_task(leads.fill([item("https://news.example/story")], feed="a"))
    await asyncio.sleep(0.001)
    polling.cancel()  # the bot stops in the middle of the poll
    with pytest.raises(asyncio.CancelledError):
        await polling
    filled = await leads.fill([item("https://news.example/story")], feed="a")
    assert filled[0].summary.startswith("정부가 인공지능(AI)")
    assert len(site.asked) == 2


async def test_the_seed_articles_page_makes_its_bare_headline_policy_finance() -> None:
    files = sorted(SEED_DIR.glob("*.txt")) if SEED_DIR.is_dir() else []
    if not files:
        pytest.skip(f"seed article not found in {SEED_DIR} ({WHERE})")
    seed = load_seed(files[0])
    link = "https://news.example/seed"
    html = (
        f"<html><head><title>{seed.title}</title></head><body><nav>홈 | 경제 | IT</nav>"
        f"<article><h1>{seed.title}</h1>{seed.html}</article>"
        "<footer>구독 | 광고</footer></body></html>"
    )
    site = Site({link: page(html)})
    classifier = Classifier(load_config(REPO / "subscriptions.yaml").config.topic_rules())
    bare = FeedItem(key="seed", guid=None, link=link, title=seed.title, summary="")
    assert "policy-finance" not in classifier.classify(bare).topics, "the headline alone"
    (read,) = await ArticleLeads(site.fetch).fill([bare], feed="seed")
    # the headline (written with two spaces in the feed) is left out; the subheading opens it
    assert read.summary.startswith(
        "한국 정부, AI정책금융 프로그램으로 산업 육성 계획\n\n정부가 3조"
    )
    assert {"ai", "policy-finance"} <= set(classifier.classify(read).topics)
