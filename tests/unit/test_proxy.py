"""Which proxy a feed goes through: its own `proxy:`, else the environment's, unless NO_PROXY."""

from __future__ import annotations

import pytest

from bot.feeds.proxy import ProxyRoute, ProxyRules, bypassed

ENV = {
    "HTTP_PROXY": "http://plain-proxy:3128",
    "https_proxy": "http://user:p%40ss@tls-proxy:3129",
    "HTTPS_PROXY": "http://ignored:1",
    "NO_PROXY": "localhost, .internal.example,yna.co.kr:443,[::1]",
}


@pytest.mark.parametrize(
    ("url", "feed_proxy", "expected"),
    [
        ("http://news.example/rss", None, ProxyRoute("http://plain-proxy:3128")),
        ("https://news.example/rss", None, ProxyRoute("http://tls-proxy:3129", ("user", "p@ss"))),
        ("https://www.yna.co.kr/rss", None, None),
        ("http://feeds.internal.example/rss", None, None),
        ("http://internal.example/rss", None, None),
        ("http://notinternal.example/rss", None, ProxyRoute("http://plain-proxy:3128")),
        ("http://localhost:8080/rss", None, None),
        ("http://[::1]/rss", None, None),
        ("https://www.yna.co.kr/rss", "http://own:3128", ProxyRoute("http://own:3128")),
        ("https://news.example/rss", "direct", None),
    ],
)
def test_routes(url: str, feed_proxy: str | None, expected: ProxyRoute | None) -> None:
    assert ProxyRules.from_environment(ENV).route(url, feed_proxy) == expected


def test_no_environment_means_direct() -> None:
    assert ProxyRules.from_environment({}).route("https://news.example/rss") is None


def test_a_star_bypasses_everything() -> None:
    assert bypassed("any.example", "*")
    assert not bypassed("any.example", "")


def test_credentials_stay_out_of_the_url_and_the_repr() -> None:
    route = ProxyRules().route("http://n.example/", "http://bot:s3cret@proxy:3128")
    assert route is not None and route.url == "http://proxy:3128"
    assert route.authorization == "Basic Ym90OnMzY3JldA=="
    assert "s3cret" not in repr(route)
