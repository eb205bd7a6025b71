"""Web addresses that people give: config lines, environment values, chat commands and the
command line. `web_url_problem` names what keeps one from being an address the bot can fetch or
serve, and `web_url_refusal` puts it after a setting's value, so the one who gave it reads that in
a line instead of a failure deeper in. `absolute_web_url` reads the addresses documents give
(a feed's links, a hub's): relative or malformed ones among them."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit


def web_url_problem(url: str) -> str | None:
    """What is wrong with `url` as an http(s) address, in a few words (`no host`, `invalid IPv6
    URL`, `port out of range 0-65535`), or None when nothing is."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port that is no number, or out of range, raises here)
    except ValueError as exc:  # `Invalid IPv6 URL`, `Port out of range 0-65535`
        reason = str(exc)
        return reason[:1].lower() + reason[1:]
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs"
    if not parts.hostname:
        return "no host"
    if any(character.isspace() for character in url):
        return "a space in the address"
    return None


def web_url_refusal(url: str) -> str | None:
    """What to say after a setting's name and value when `url` is no usable http(s) address
    (`is not an http:// or https:// URL`, `is not a usable URL: invalid IPv6 URL`), or None."""
    problem = web_url_problem(url)
    if problem is None:
        return None
    if not url.lower().startswith(("http://", "https://")):
        return "is not an http:// or https:// URL"
    return f"is not a usable URL: {problem}"


def absolute_web_url(base: str, href: str) -> str | None:
    """`href` made absolute against the address `base` of the document that gives it, when that
    is an http(s) address; None for anything else, a malformed address (`http://[::1`) among
    them."""
    try:
        absolute = urljoin(base, href.strip())
    except ValueError:
        return None
    return absolute if absolute.startswith(("http://", "https://")) else None
