"""`newsbot stories`: items of several feeds grouped as the bot would group them, text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.fakes.feed_server import rss
from tests.helpers import corpus_dir, free_port

RELEASE = {
    "hani": (
        "10월 소매판매 넉 달째 감소…0.5% 줄어",
        "통계청이 30일 발표한 10월 산업활동동향에 따르면 소매판매는 전월보다 0.5% 줄어 "
        "넉 달째 감소했다.",
        "Mon, 30 Nov 2026 09:10:00 +0900",
    ),
    "seoul": (
        '소비 4개월 연속 뒷걸음…통계청 "소매판매 0.5% 감소"',
        "통계청의 10월 산업활동동향에서 소매판매가 0.5% 줄며 4개월 연속 감소한 것으로 나타났다.",
        "Mon, 30 Nov 2026 09:40:00 +0900",
    ),
}
OTHER = (
    "한국은행, 기준금리 연 3.25%로 동결",
    "한국은행 금융통화위원회는 기준금리를 연 3.25%로 동결했다.",
    "Mon, 30 Nov 2026 10:00:00 +0900",
)


def write_feed(path: Path, feed: str, reports: list[tuple[str, str, str]]) -> str:
    items = [
        {
            "title": title,
            "description": lead,
            "pubDate": date,
            "link": f"https://{feed}.example/{n}",
            "guid": f"{feed}-{n}",
        }
        for n, (title, lead, date) in enumerate(reports)
    ]
    path.write_text(rss(items), encoding="utf-8")
    return str(path)


@pytest.fixture
def feeds(tmp_path: Path) -> list[str]:
    return [
        write_feed(tmp_path / "hani.xml", "hani", [RELEASE["hani"], OTHER]),
        write_feed(tmp_path / "seoul.xml", "seoul", [RELEASE["seoul"]]),
    ]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["stories", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_one_object_per_item_and_one_story_per_event(
    feeds: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--json", *feeds)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert all(set(line) == {"id", "link", "title", "feed", "story"} for line in lines)
    story = {line["id"]: line["story"] for line in lines}
    assert len(story) == 3
    assert story["hani-0"] == story["seoul-0"], "one statistic release under two headlines"
    assert story["hani-1"] != story["hani-0"], "a rate decision is another story"
    assert {line["feed"] for line in lines} == set(feeds)


def test_text_lists_the_stories_with_their_items(
    feeds: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, *feeds)
    assert code == 0
    assert out.startswith("3 item(s), 2 story(ies), 1 with several reports")
    shared = out.split("\n\n")[1]
    assert shared.startswith("story ") and "(2 item(s))" in shared
    assert RELEASE["hani"][0] in shared and "https://seoul.example/0" in shared


def test_an_unreadable_feed_is_one_line_and_the_others_still_group(
    feeds: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "gone.xml")
    code, out, err = run(capsys, "--json", missing, *feeds)
    assert code == 1, "a script learns that a feed was not read"
    assert err == f"newsbot stories: {missing}: No such file or directory\n"
    assert len(out.splitlines()) == 3

    code, out, err = run(capsys, missing)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1

    code, out, err = run(capsys, "--json", "http://[::1/feed", *feeds)  # malformed: no request
    assert code == 1 and len(out.splitlines()) == 3
    assert err == "newsbot stories: http://[::1/feed: invalid IPv6 URL\n"

    code, out, err = run(capsys, "--json", "http://me:pw123@[::1/feed", *feeds)
    assert err == "newsbot stories: http://me:***@[::1/feed: invalid IPv6 URL\n"

    code, out, err = run(capsys, "--json", "http://xn--zz.example/feed", *feeds)
    assert (code, len(out.splitlines())) == (1, 3), "the other feeds still group"
    assert err == "newsbot stories: http://xn--zz.example/feed: an invalid host name\n"

    refused = f"http://127.0.0.1:{free_port()}/feed.xml"  # nothing listens there
    code, out, err = run(capsys, "--json", refused, *feeds)
    assert err == f"newsbot stories: {refused}: cannot connect: Connection refused\n"


def test_a_bad_config_is_refused_in_one_line(
    feeds: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "subscriptions.yaml"
    config.write_text("version: 1\nstories: {window: soon}\n", encoding="utf-8")
    code, out, err = run(capsys, "--config", str(config), *feeds)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "stories.window" in err


def test_corpus_categories_group_across_outlets(capsys: pytest.CaptureFixture[str]) -> None:
    day = corpus_dir() / "knews-categories" / "2022-07-31"
    sources = [str(day / "economy.xml"), str(day / "society.xml")]
    code, out, _ = run(capsys, "--json", *sources)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    members: dict[int, set[str]] = {}
    for line in lines:
        members.setdefault(line["story"], set()).add(line["link"].split("/")[2])
    assert len(members) < len(lines), "some event is reported more than once"
    assert any(len(hosts) > 1 for hosts in members.values()), "a story spans outlets"
