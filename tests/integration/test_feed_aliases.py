"""One feed spelled twice (OPML and config, http and https, a trailing slash, utm_ parameters) is
polled once and alerts once, through the real `newsbot` command."""

from __future__ import annotations

from html import escape
from pathlib import Path

from tests.fakes.feed_server import FeedServer, rss
from tests.helpers import OLD_ITEMS, config_yaml, newsbot, seed_items, write_config


def opml(*urls: str) -> str:
    outlines = "".join(f'<outline text="Local news" xmlUrl="{escape(url)}"/>' for url in urls)
    return f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>'


async def test_an_opml_feed_listed_again_in_the_config_alerts_once(
    tmp_path: Path, feed_server: FeedServer, database_url: str
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    tracked = feed_server.url("feed.xml") + "?utm_source=newsletter&utm_medium=email"
    (tmp_path / "feeds.opml").write_text(opml(tracked), encoding="utf-8")
    config = write_config(tmp_path, feed_server.url("feed.xml"))  # the same feed, as `local`
    env = {"NEWSBOT_DATABASE_URL": database_url}

    code, output = await newsbot("feeds", "import", "feeds.opml", env=env, cwd=tmp_path)
    assert code == 0 and "added: 1" in output, output
    run = ("run", "--once", "--config", str(config))
    code, output = await newsbot(*run, env=env, cwd=tmp_path)  # primes the one feed
    assert code == 0, output

    feed_server.publish("feed.xml", rss(seed_items()))
    code, output = await newsbot(*run, env=env, cwd=tmp_path)
    assert code == 0, output
    assert output.count("https://news.example/seed") == 1, output

    code, output = await newsbot("feeds", "import", "feeds.opml", env=env, cwd=tmp_path)
    assert code == 0, output
    assert "added: 0" in output and f"{tracked} (already polled as local)" in output, output
    code, output = await newsbot("feeds", "export", env=env, cwd=tmp_path)
    assert output.count("xmlUrl=") == 1, output


async def test_check_config_warns_about_one_feed_listed_twice(tmp_path: Path) -> None:
    feeds = (
        '  - {name: yonhap, url: "https://www.yna.co.kr/rss/news.xml"}\n'
        '  - {name: bbc, url: "https://feeds.bbci.co.uk/news/rss.xml"}\n'
        '  - {name: yonhap-http, url: "http://WWW.yna.co.kr/rss/news.xml/?utm_source=x"}\n'
    )
    path = tmp_path / "subscriptions.yaml"
    path.write_text(config_yaml(feeds), encoding="utf-8")
    code, output = await newsbot("check-config", str(path), cwd=tmp_path)
    assert code == 0, output
    assert (
        f"{path}: warning: feeds yonhap and yonhap-http are one feed (www.yna.co.kr/rss/news.xml): "
        "it is polled once, as yonhap"
    ) in output
    assert output.count("warning") == 1, output


async def test_a_malformed_opml_address_is_refused_and_the_others_are_added(
    tmp_path: Path, feed_server: FeedServer, database_url: str
) -> None:
    (tmp_path / "feeds.opml").write_text(
        opml("http://[::1/feed", feed_server.url("feed.xml")), encoding="utf-8"
    )
    env = {"NEWSBOT_DATABASE_URL": database_url}
    code, output = await newsbot("feeds", "import", "feeds.opml", env=env, cwd=tmp_path)
    assert code == 0, output
    assert "added: 1" in output and "refused: 1" in output, output
    assert "http://[::1/feed (invalid IPv6 URL)" in output and "Traceback" not in output
