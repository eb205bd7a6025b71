"""Signed Slack requests for tests: what Slack itself sends to an app in HTTP mode.

Slack signs every request with the app's signing secret: ``X-Slack-Signature`` is ``v0=`` and the
hex HMAC-SHA256 of ``v0:{timestamp}:{raw body}``, and ``X-Slack-Request-Timestamp`` is the Unix time
it was sent (apps refuse requests more than five minutes old).
See https://docs.slack.dev/authentication/verifying-requests-from-slack/.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def slack_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Slack-Signature`` value for ``body`` sent at ``timestamp``."""
    base = b"v0:" + str(timestamp).encode("ascii") + b":" + body
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(
    secret: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    content_type: str = FORM_CONTENT_TYPE,
) -> dict[str, str]:
    """Headers that make ``body`` a correctly signed Slack request (now, unless ``timestamp``)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": slack_signature(secret, ts, body),
    }


def signed_slash_command(
    secret: str,
    *,
    command: str,
    text: str,
    channel_id: str,
    user_id: str,
    team_id: str = "T0001",
    response_url: str,
    trigger_id: str = "1234567890123.1234567890123.0123456789abcdef0123456789abcdef",
    timestamp: int | None = None,
    channel_name: str = "news",
    user_name: str = "tester",
    team_domain: str = "newsbot-test",
    api_app_id: str = "A0NEWSBOT",
) -> tuple[bytes, dict[str, str]]:
    """A slash-command request as Slack posts it: form-encoded body and signed headers.

    The fields are those of a real slash-command payload (Slack's own sample in the java-slack-sdk
    json-logs); the legacy verification ``token`` is present but meaningless, as apps that check
    signatures ignore it.
    """
    fields = {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    body = urlencode(fields).encode("ascii")
    return body, signed_headers(secret, body, timestamp=timestamp)
