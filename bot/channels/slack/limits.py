"""Slack's limits and the Web API error codes, sorted by what the dispatcher does about them."""

from __future__ import annotations

import re
from typing import Final

import aiohttp
from slack_sdk.errors import SlackClientError

from bot.render.slack import ACTION_PREFIX, MAX_BLOCKS, MAX_SECTION_TEXT

# Slack limits (https://docs.slack.dev/apis/web-api/rate-limits, .../reference/block-kit/blocks)
CHAT_INTERVAL: Final = 1.1
"""chat.postMessage allows about one message per second per channel; a little more for jitter."""
GLOBAL_INTERVAL: Final = 0.05
"""Between two sends to any channels: the per-workspace limit is far above what one bot posts."""
SECTION_TEXT_LIMIT: Final = MAX_SECTION_TEXT
BLOCK_LIMIT: Final = MAX_BLOCKS
"""Block Kit's limits; `bot.render.slack` keeps every message inside them."""
ACK_DEADLINE: Final = 3.0
"""Seconds Slack waits for a slash command's acknowledgement (we ack before any work)."""
SEND_TIMEOUT: Final = 15
"""Seconds for one Web API call; a timeout is a transient failure the dispatcher retries."""
DEFAULT_RETRY_AFTER: Final = 1.0
"""When a 429 comes without a usable Retry-After header."""
SOCKET_RETRY: Final = 1.0
"""Seconds before the first new attempt to open Socket Mode; each failure doubles the wait..."""
SOCKET_RETRY_MAX: Final = 300.0
"""...up to five minutes."""
COMMAND: Final = "/news"
EVENTS_PATH: Final = "/slack/events"

GONE_ERRORS: Final = frozenset({"channel_not_found", "is_archived", "not_in_channel"})
"""The channel will not take messages again: its subscriptions are deactivated."""
FATAL_ERRORS: Final = frozenset(
    {
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_authed",
        "not_allowed_token_type",
        "missing_scope",
    }
)
"""The token cannot post anywhere (revoked, workspace deleted, app without chat:write)."""
TRANSIENT_ERRORS: Final = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
RATE_LIMITED_ERRORS: Final = frozenset({"ratelimited", "rate_limited"})

NETWORK_ERRORS = (SlackClientError, aiohttp.ClientError, TimeoutError, OSError)
"""Failures on the way (SlackApiError, a refusal, is caught before these)."""
ACTION_PATTERN = re.compile(rf"^{re.escape(ACTION_PREFIX)}\d+$")
