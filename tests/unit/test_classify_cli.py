"""`newsbot classify`: reasons, context-rule vetoes and `--explain` near misses, text and JSON."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.fakes.feed_server import FeedServer
from tests.helpers import seed_file
from tests.unit.test_classify import REPO, rss_with_one_item

CONFIG = str(REPO / "subscriptions.yaml")


def classify(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str, title: str) -> str:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss_with_one_item(title, "본문 없음"))
    assert main(["classify", "--config", CONFIG, *args, str(feed)]) == 0
    return capsys.readouterr().out


def test_explain_shows_tags_with_scores_and_the_near_misses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = classify(tmp_path, capsys, "--explain", title="[속보] Gemini 새 버전 공개")
    assert "  breaking [score 1]: '[속보]' in title" in out
    # an ambiguous name alone: a near miss that says what it waits for
    assert "  near miss ai [score 0 < 2]: 'Gemini' in title +0 (alone: needs another hit)" in out


def test_context_rule_vetoes_show_in_plain_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = classify(tmp_path, capsys, title="AI PC 출하량 늘어")
    assert "(vetoed 'AI' by 'AI as a modifier: AI + PC' in title)" in out
    assert "(no tags)" in out


def test_json_keeps_its_shape_and_adds_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = json.loads(classify(tmp_path, capsys, "--json", "--explain", title="[속보] Claude 출시"))
    assert {"id", "link", "title", "tags"} <= set(line)
    tag = line["tags"][0]
    assert tag["topic"] == "breaking" and tag["reasons"] == [
        {"keyword": "[속보]", "field": "title"}
    ]
    assert line["near_misses"][0]["topic"] == "ai"
    assert line["near_misses"][0]["hits"][0]["keyword"] == "Claude"


async def test_a_url_is_fetched_and_classified(
    feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.publish("feed.xml", rss_with_one_item("[속보] 인공지능 반도체 수출", "본문 없음"))
    # the command runs its own event loop for the fetch, as it does from a shell
    args = ["classify", "--config", CONFIG, feed_server.url("feed.xml")]
    assert await asyncio.to_thread(main, args) == 0
    out = capsys.readouterr().out
    assert "  breaking: '[속보]' in title" in out
    assert "  ai: '인공지능' in title" in out
    assert len(feed_server.requests_to("feed.xml")) == 1


def test_the_seed_article_file_shows_its_three_tags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "--config", CONFIG, "--explain", str(seed_file())]) == 0
    out = capsys.readouterr().out
    assert "  ai [score" in out and "  policy-finance [score" in out
    # the outlet's marker is only the alt text of the article's leading image
    assert "  breaking [score 1]: '속보' in lead" in out


POST = """---
title: "[속보] 산업은행, 반도체 설비투자에 저리 대출"
date: 2026-03-02 09:30:00 +09:00
excerpt: >
  산업은행이 3조 원 규모의 정책자금을 푼다.
categories: [economy, finance]
link: https://news.example/kdb-chips
---
<p><img src="/banner.png" alt="banner" /></p>
<p>본문 첫 문단.</p>
"""


def test_a_post_with_front_matter_reads_as_one_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    post = tmp_path / "post.md"
    post.write_text(POST, encoding="utf-8")
    assert main(["classify", "--config", CONFIG, "--json", str(post)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    result = json.loads(line)
    assert result["link"] == "https://news.example/kdb-chips"
    assert result["title"] == "[속보] 산업은행, 반도체 설비투자에 저리 대출"
    assert {tag["topic"] for tag in result["tags"]} == {"breaking", "policy-finance"}
    summary = [r for t in result["tags"] for r in t["reasons"] if r["field"] == "summary"]
    assert {"keyword": "정책자금", "field": "summary"} in summary, "the excerpt is the summary"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("---\ntitle: a\n", "not a post: the front matter has no closing '---'"),
        ("---\ntitle: [unclosed\n---\nbody\n", "not a post: front matter:"),
        ("---\nexcerpt: no title\n---\nbody\n", "not a post: its front matter has no title"),
    ],
)
def test_a_broken_post_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, problem: str
) -> None:
    post = tmp_path / "post.md"
    post.write_text(text, encoding="utf-8")
    assert main(["classify", "--config", CONFIG, str(post)]) != 0
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"newsbot classify: {post}: {problem}")
