"""Which feed a URL names: two spellings of one feed are one feed, so its stories alert once.

`http://` and `https://`, a host in capitals, a default port, a trailing slash, a fragment, the
order of query parameters and tracking parameters (`utm_*`, `fbclid`, `gclid`) do not make another
feed; everything else (the path's case, other parameters) may, and is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit

TRACKING_PARAMETERS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid"})
"""Parameters that say who sent a reader, never which document they get (besides `utm_*`)."""
_DEFAULT_PORTS = {"http": 80, "https": 443}


def feed_identity(url: str) -> str:
    """The normalised form of `url` that names its feed: `host[:port]/path[?query]`."""
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
        if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMETERS
    ]
    path = parts.path.rstrip("/")
    return host + path + (f"?{urlencode(sorted(query))}" if query else "")


def duplicate_feeds(feeds: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(first name, later name, identity) for each (name, url) whose feed an earlier one names."""
    first: dict[str, str] = {}
    out = []
    for name, url in feeds:
        identity = feed_identity(url)
        if identity in first:
            out.append((first[identity], name, identity))
        else:
            first[identity] = name
    return out
