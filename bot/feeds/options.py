"""What a feed's request may carry besides its URL (extra headers, a proxy), and the checks the
config puts those and per-host settings through.

The checks never repeat a refused value in their message: a header value or a proxy URL may hold
a secret (a cookie, a password).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.feeds.proxy import DIRECT
from bot.text.urls import web_url_refusal

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
RESERVED_HEADERS = frozenset(
    (
        *("host", "content-length", "transfer-encoding", "connection"),
        *("accept-encoding", "if-none-match", "if-modified-since"),
    )
)
"""Set by the bot itself: the conditional GET and decompression under the size cap need them."""
_PROXY_URL = re.compile(r"https?://([^\s/@]+@)?[^\s/@]+/?")
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """How one feed is requested, from its config entry."""

    headers: Mapping[str, str] = field(default_factory=dict)
    proxy: str | None = None
    """The feed's own proxy URL, `direct`, or None to follow the environment."""


def check_proxy(value: str | None) -> str | None:
    if value is None or value == DIRECT:
        return value
    if not _PROXY_URL.fullmatch(value):
        raise ValueError(
            f"give `{DIRECT}` or an http:// or https:// proxy URL such as http://proxy:3128"
        )
    if refusal := web_url_refusal(value):  # not shown: it may hold a password
        raise ValueError(f"the proxy URL {refusal}")
    return value


def check_headers(value: dict[str, str]) -> dict[str, str]:
    for name, text in value.items():
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not an HTTP header name")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"{name} is set by the bot itself")
        if any(c in text for c in "\r\n\0"):
            raise ValueError(f"the value of {name} must be one line")
    return value


def check_host_name(value: str) -> str:
    """A host name as the per-host settings key it: lower case, without a final dot."""
    name = value.strip().lower().rstrip(".")
    if not _HOST_NAME.fullmatch(name):
        raise ValueError(f"{value!r} is not a host name (write it without scheme, port or path)")
    return name
