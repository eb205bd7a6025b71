"""WebSub discovery and push signatures: pure functions, table-driven."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bot.feeds.parse import parse_feed
from bot.settings import SettingsError, require_web_server, settings_from_env
from bot.websub.callback import lease_seconds
from bot.websub.discover import HubLinks, discover
from bot.websub.signature import SignatureRefused, check_signature
from bot.websub.subscriber import PushTiming

URL = "https://blog.example/feed"
HUB = "https://hub.example/"

RSS_ATOM_LINKS = f"""<?xml version="1.0"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title>
<atom:link rel="hub" href="{HUB}"/><atom:link rel="self" href="https://blog.example/feed/"/>
<item><title>a</title><guid>1</guid></item></channel></rss>"""
ATOM = f"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<link rel="hub" href="/hub"/><link rel="self" href="{URL}"/><id>x</id>
<entry><id>1</id><title>a</title></entry></feed>"""
JSON_FEED = f"""{{"version": "https://jsonfeed.org/version/1.1", "title": "t",
"feed_url": "{URL}", "hubs": [{{"type": "rssCloud", "url": "https://cloud.example/"}},
{{"type": "WebSub", "url": "{HUB}"}}], "items": []}}"""
PLAIN_RSS = (
    "<rss version='2.0'><channel><title>t</title><item><title>a</title></item></channel></rss>"
)


@pytest.mark.parametrize(
    ("document", "headers", "expected"),
    [
        (RSS_ATOM_LINKS, {}, HubLinks(HUB, "https://blog.example/feed/")),
        (ATOM, {}, HubLinks("https://blog.example/hub", URL)),
        (JSON_FEED, {"content-type": "application/feed+json"}, HubLinks(HUB, URL)),
        (PLAIN_RSS, {}, None),
        # the Link header names them (and wins over the document); no self: the fetched URL
        (PLAIN_RSS, {"Link": f'<{HUB}>; rel="hub"'}, HubLinks(HUB, URL)),
        (
            RSS_ATOM_LINKS,
            {"link": '<https://other.example/h>; rel="hub", <https://t.example/f>; rel="self"'},
            HubLinks("https://other.example/h", "https://t.example/f"),
        ),
        (PLAIN_RSS, {"link": '<https://hub.example/>; rel="hub self"'}, HubLinks(HUB, HUB)),
        (PLAIN_RSS, {"link": f"<{HUB}>; rel=hub, <{URL}/x>; rel=self"}, HubLinks(HUB, URL + "/x")),
        # only http(s) hubs
        (PLAIN_RSS, {"link": '<javascript:alert(1)>; rel="hub"'}, None),
        (PLAIN_RSS, {"link": '<https://x.example/>; rel="alternate"'}, None),
        # a malformed hub is none; a malformed self leaves the fetched URL
        (PLAIN_RSS, {"link": '<http://[::1/hub>; rel="hub"'}, None),
        (
            PLAIN_RSS,
            {"link": f'<{HUB}>; rel="hub", <http://[::1/f>; rel="self"'},
            HubLinks(HUB, URL),
        ),
    ],
)
def test_discovery_reads_the_document_and_the_link_header(
    document: str, headers: dict[str, str], expected: HubLinks | None
) -> None:
    parsed = parse_feed(document.encode(), headers=headers, base_url=URL)
    assert discover(parsed.links, headers, URL) == expected


BODY = b"<rss/>"
SECRET = "s3cret"


def sign(algorithm: str, body: bytes = BODY, secret: str = SECRET) -> str:
    return (
        f"{algorithm}=" + hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    )


@pytest.mark.parametrize(
    ("header", "strongest", "accepted"),
    [
        (sign("sha256"), None, "sha256"),
        (sign("sha512"), "sha256", "sha512"),
        (sign("sha256"), "sha512", "sha256"),
        (sign("sha1"), None, "sha1"),  # an old hub that offers nothing better
        (sign("sha1"), "sha1", "sha1"),
        (sign("sha256").upper().replace("SHA256", "sha256"), None, "sha256"),
    ],
)
def test_a_valid_signature_is_accepted(header: str, strongest: str | None, accepted: str) -> None:
    assert check_signature(header, BODY, SECRET, strongest) == accepted


@pytest.mark.parametrize(
    ("header", "strongest", "why"),
    [
        (None, None, "no X-Hub-Signature"),
        ("", None, "no X-Hub-Signature"),
        (sign("sha256", secret="other"), None, "does not match"),
        (sign("sha256", body=b"<rss>"), None, "does not match"),
        (sign("md5"), None, "unknown signature algorithm"),
        ("sha256", None, "does not match"),
        (sign("sha1"), "sha256", "sha1 after the hub signed with sha256"),
    ],
)
def test_a_forged_or_downgraded_signature_is_refused(
    header: str | None, strongest: str | None, why: str
) -> None:
    with pytest.raises(SignatureRefused, match=why):
        check_signature(header, BODY, SECRET, strongest)


def test_the_public_url_and_push_poll_interval_come_from_the_environment() -> None:
    settings = settings_from_env(
        {"NEWSBOT_PUBLIC_URL": "https://bot.example/news/", "NEWSBOT_PUSH_POLL_INTERVAL": "30m"}
    )
    assert settings.public_url == "https://bot.example/news"
    assert settings.push_poll_interval == 1800
    assert settings_from_env({}).public_url == ""
    assert settings_from_env({}).push_poll_interval == 3600


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NEWSBOT_PUBLIC_URL": "bot.example"}, "NEWSBOT_PUBLIC_URL: 'bot.example' is not an http"),
        ({"NEWSBOT_PUBLIC_URL": "https://bot.example/?a=1"}, "no ?query"),
        ({"NEWSBOT_PUBLIC_URL": "https://[bot.example/"}, "is not a usable URL: invalid IPv6 URL"),
        ({"NEWSBOT_PUBLIC_URL": "https://bot.example:0x50/"}, "port could not be cast"),
        ({"NEWSBOT_PUSH_POLL_INTERVAL": "soon"}, "NEWSBOT_PUSH_POLL_INTERVAL: 'soon' is not"),
    ],
)
def test_a_wrong_push_setting_is_one_clear_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("?", r"\?")):
        settings_from_env(env)


def test_a_public_url_needs_the_web_server_it_names() -> None:
    settings = settings_from_env({"NEWSBOT_PUBLIC_URL": "https://bot.example"})
    with pytest.raises(SettingsError, match="NEWSBOT_PUBLIC_URL is set but NEWSBOT_HTTP_PORT"):
        require_web_server(settings)
    require_web_server(
        settings_from_env({**{"NEWSBOT_PUBLIC_URL": "https://b.example"}, "PORT": "8080"})
    )


@pytest.mark.parametrize(
    ("text", "lease"),
    [
        ("86400", 86400.0),
        ("1", 1.0),
        ("0", None),
        ("-5", None),
        ("", None),
        ("\u00b2", None),
        ("1" * 400, None),
        ("4.5", None),
    ],
)
def test_a_hubs_lease_is_positive_ascii_digits(text: str, lease: float | None) -> None:
    """`²` passed isdigit and broke int(); 400 digits made a lease no date holds."""
    assert lease_seconds(text) == lease


def test_a_lease_of_centuries_is_renewed_within_a_month() -> None:
    """A hub (or whoever has the callback) granting 9,999,999,999 s set the renewal 250 years
    ahead: the bot would never renew, believing pushes still came."""
    timing = PushTiming()
    assert timing.renew_at(1000.0, 9_999_999_999.0) == 1000.0 + timing.longest_renewal
    assert timing.renew_at(1000.0, 86400.0) == 1000.0 + 86400.0 * timing.renew_share


def test_a_lease_of_seconds_is_renewed_once_a_minute_at_most() -> None:
    """A hub granting 2 s leases had the bot ask it again every 1.6 s, for as long as it did."""
    timing = PushTiming()
    assert timing.renew_at(1000.0, 2.0) == 1000.0 + timing.shortest_renewal == 1060.0
