"""Web addresses that people give: config lines, environment values, chat commands and the
command line. `web_url_problem` names what keeps one from being an address the bot can fetch or
serve, and `web_url_refusal` puts it after a setting's value, so the one who gave it reads that in
a line instead of a failure deeper in. `absolute_web_url` reads the addresses documents give
(a feed's links, a hub's): relative or malformed ones among them."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)([^\s/?#@]*)@")
"""The user name and password before a host (`http://user:pw@host`), wherever a URL stands in a
text."""
MASK = "***"
_SECRET_PARAMETER = re.compile(
    r"(?i)([?&;](?:[\w.-]*[_.-])?(?:token|key|apikey|secret|password|passwd|pwd|auth|sig|"
    r"signature|session|sessionid|credential|credentials)=)(?:[^&#;:\s\"'<>]|:(?!\s|$))+"
)
"""A query parameter whose name says it holds a credential (`token`, `api_key`, `access_token`,
`hub.secret`, `X-Amz-Signature`...): its value is masked like a password."""


def address_problem(url: str) -> str | None:
    """What keeps the host and port of `url` from being read, in a few words (`invalid IPv6 URL`,
    `port out of range 0-65535`, `port 0`), or None when nothing does. Any scheme: a database's
    URL is read by this too."""
    try:
        port = urlsplit(url).port  # a port that is no number, or out of range, raises here
    except ValueError as exc:  # `Invalid IPv6 URL`, `Port out of range 0-65535`
        reason = str(exc)
        return reason[:1].lower() + reason[1:]
    return "port 0" if port == 0 else None


def web_url_problem(url: str) -> str | None:
    """What is wrong with `url` as an http(s) address, in a few words (`no host`, `invalid IPv6
    URL`, `port out of range 0-65535`), or None when nothing is."""
    if problem := address_problem(url):
        return problem
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs"
    if not parts.hostname:
        return "no host"
    if any(character.isspace() for character in url):
        return "a space in the address"
    if any(unicodedata.category(character) == "Cc" for character in url):
        return "a control character in the address"
    try:  # `xn--zz.com`, `a..b`, a label of 300 letters: no name a resolver takes
        parts.hostname.encode("idna").decode("idna")
    except UnicodeError:
        return "an invalid host name"
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


def without_secrets(text: str) -> str:
    """`text` with the password of every URL in it masked (`http://user:***@host/feed`), or the
    whole user part when it has no password (`https://***@host`: a token may be written there),
    and the value of every query parameter named like a credential (`?token=***&page=2`): for
    any line a person reads, a log, a status table or a refusal of a config line."""

    def mask(match: re.Match[str]) -> str:
        user, colon, _ = match.group(2).partition(":")
        return f"{match.group(1)}{user + colon if colon else ''}{MASK}@"

    return _SECRET_PARAMETER.sub(rf"\g<1>{MASK}", _USERINFO.sub(mask, text))


def absolute_web_url(base: str, href: str) -> str | None:
    """`href` made absolute against the address `base` of the document that gives it, when that
    is an http(s) address; None for anything else, a malformed address (`http://[::1`) among
    them."""
    try:
        absolute = urljoin(base, href.strip())
    except ValueError:
        return None
    return absolute if absolute.startswith(("http://", "https://")) else None


TRACKING_PARAMETERS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid"})
"""Parameters that say who sent a reader, never which document they get (besides `utm_*`)."""
SESSION_PARAMETERS = frozenset({"sid", "session", "sessionid", "phpsessid", "jsessionid"})
"""Parameters some sites put a reader's session in, on each link they serve anew."""
_DEFAULT_PORTS = {"http": 80, "https": 443}


def address_identity(url: str, *, ignored: frozenset[str] = TRACKING_PARAMETERS) -> str:
    """`url` as `host[:port]/path[?query]`, the same for two spellings of one address:
    `http://` and `https://`, a host in capitals, a default port, a trailing slash, a fragment,
    the order of query parameters, `utm_*` and the `ignored` parameters make no difference;
    everything else (the path's case, other parameters) may, and is kept."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: keep the URL as it is, it names itself
        return url.strip()
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in ignored
    ]
    path = parts.path.rstrip("/")
    return host + path + (f"?{urlencode(sorted(query))}" if query else "")
