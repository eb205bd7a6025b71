"""The config's fetch settings: per-host concurrency, and a feed's proxy and extra headers; a bad
one names its line and key and never repeats a secret."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_config

HEAD = 'version: 1\nfeeds:\n  - {name: yna, url: "https://www.yna.co.kr/rss/news.xml"'


def test_hosts_feed_proxies_and_headers_are_read() -> None:
    config = parse_config(
        HEAD + ', proxy: "http://bot:s3cret@proxy.internal:3128", headers: {Cookie: "wall=1"}}\n'
        '  - {name: direct, url: "https://n.example/rss", proxy: direct}\n'
        'hosts:\n  "WWW.Yna.co.kr": {concurrency: 4}\n  n.example: {}\n'
    )
    assert {h: s.concurrency for h, s in config.hosts.items()} == {
        "www.yna.co.kr": 4,
        "n.example": 2,
    }
    yna, direct = config.feeds
    assert yna.proxy == "http://bot:s3cret@proxy.internal:3128"
    assert yna.headers == {"Cookie": "wall=1"}
    assert direct.proxy == "direct" and direct.headers == {}


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        (HEAD + "}\nhosts:\n  https://www.yna.co.kr/: {concurrency: 4}\n", ":5: hosts", "host"),
        (HEAD + "}\nhosts:\n  www.yna.co.kr: {concurrency: 0}\n", ":5: hosts", "greater than"),
        (HEAD + "}\nhosts:\n  www.yna.co.kr: {limit: 4}\n", ":5: hosts", "no such setting here"),
        (HEAD + ', proxy: "socks5://bot:s3cret@p:1080"}\n', ":3: feeds[0].proxy", "proxy URL"),
        (HEAD + ', proxy: "http://bot:s3cret@p:99999"}\n', ":3: feeds[0].proxy", "out of range"),
        (HEAD + ", headers: {If-None-Match: x}}\n", ":3: feeds[0].headers", "set by the bot"),
        (HEAD + ', headers: {"Bad Name": x}}\n', ":3: feeds[0].headers", "header name"),
        (HEAD + ', headers: {Cookie: "s3cret\\r\\nX-Evil: 1"}}\n', ":3: feeds[0].headers", "line"),
    ],
)
def test_bad_fetch_settings_name_line_and_key_and_keep_secrets(
    text: str, where: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(text)
    message = str(refused.value)
    assert where in message and problem in message, message
    assert "s3cret" not in message, "a secret was echoed"
