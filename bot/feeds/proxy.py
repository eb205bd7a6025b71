"""Which proxy a feed is fetched through: its own `proxy:`, else HTTPS_PROXY / HTTP_PROXY unless
NO_PROXY names its host (the meaning curl and most HTTP clients give those variables).

Credentials in a proxy URL (`http://user:secret@proxy:3128`) are split off into a `ProxyRoute`'s
`auth` so that the URL, which error messages may show, never carries them.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DIRECT = "direct"
"""A feed's `proxy:` value that fetches it without any proxy, whatever the environment says."""


@dataclass(frozen=True, slots=True)
class ProxyRoute:
    url: str
    """The proxy, without credentials."""
    auth: tuple[str, str] | None = None
    """User name and password for the proxy, when its URL had them."""

    @property
    def authorization(self) -> str:
        """The Proxy-Authorization value for `auth` (Basic)."""
        user, password = self.auth or ("", "")
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")

    def __repr__(self) -> str:  # the password stays out of logs and tracebacks
        return f"ProxyRoute({self.url!r}, auth={'***' if self.auth else None})"


def split_credentials(proxy_url: str) -> ProxyRoute:
    parts = urlsplit(proxy_url)
    if parts.username is None:
        return ProxyRoute(proxy_url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    bare = parts._replace(netloc=netloc).geturl()
    return ProxyRoute(bare, (unquote(parts.username), unquote(parts.password or "")))


@dataclass(frozen=True, slots=True)
class ProxyRules:
    """The environment's proxy settings, read once (`from_environment`)."""

    http: str | None = None
    https: str | None = None
    no_proxy: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ProxyRules:
        """HTTP_PROXY, HTTPS_PROXY and NO_PROXY, lower-case spellings first (as curl reads them)."""

        def read(name: str) -> str | None:
            value = environ.get(name.lower()) or environ.get(name.upper()) or ""
            return value.strip() or None

        return cls(read("http_proxy"), read("https_proxy"), read("no_proxy") or "")

    def route(self, url: str, feed_proxy: str | None = None) -> ProxyRoute | None:
        """The proxy for `url` (None: connect directly); a feed's own `proxy:` wins."""
        if feed_proxy is not None:
            return None if feed_proxy == DIRECT else split_credentials(feed_proxy)
        parts = urlsplit(url)
        chosen = self.https if parts.scheme == "https" else self.http
        if chosen is None:
            return None
        if bypassed(parts.hostname or "", self.no_proxy):
            return None
        return split_credentials(chosen)


def bypassed(host: str, no_proxy: str) -> bool:
    """Whether NO_PROXY names `host`: `*`, the host itself, or a domain it is in (`example.com`
    and `.example.com` both cover `www.example.com`); a port on an entry is ignored."""
    host = host.lower().rstrip(".")
    for entry in no_proxy.split(","):
        name = entry.strip().lower()
        if name == "*":
            return True
        if name.startswith("[") and "]" in name:
            name = name[1 : name.index("]")]
        elif name.count(":") == 1:
            name = name.partition(":")[0]
        name = name.lstrip(".").rstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False
