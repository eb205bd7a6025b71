"""Environment -> frozen `Settings`: tokens, database URL, API base URLs, web port, logging.

Secrets live only here and in the adapters that need them; `Settings.__repr__` hides them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from bot.durations import parse_duration
from bot.text.urls import address_problem, web_url_refusal, without_secrets

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///newsbot.db"
DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_PUSH_POLL_INTERVAL = 3600.0
"""How often a feed that a WebSub hub pushes is still polled, in case the hub goes quiet."""
DRIVER_PREFIXES = {
    "postgres://": "postgresql+asyncpg://",
    "postgresql://": "postgresql+asyncpg://",
    "sqlite://": "sqlite+aiosqlite://",
}
"""Database URLs as hosting providers and libpq write them, and the async driver they mean."""
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
SECRET_FIELDS = ("telegram_bot_token", "slack_bot_token", "slack_app_token", "slack_signing_secret")


class SettingsError(ValueError):
    """An environment variable holds a value the bot cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    config_path: Path = Path("subscriptions.yaml")
    telegram_bot_token: str = field(default="", repr=False)
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    telegram_webhook_url: str = ""
    slack_bot_token: str = field(default="", repr=False)
    slack_app_token: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    http_port: int | None = None
    public_url: str = ""
    """The web server's public base URL; set, feeds that name a WebSub hub are pushed."""
    push_poll_interval: float = DEFAULT_PUSH_POLL_INTERVAL
    log_level: str = "INFO"
    log_format: str = "text"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret that is set, for the log filter that masks them."""
        return tuple(v for f in SECRET_FIELDS if (v := getattr(self, f)))

    @property
    def console_enabled(self) -> bool:
        """The console channel prints alerts when no chat platform is configured."""
        return not (self.telegram_bot_token or self.slack_bot_token)

    @property
    def platforms(self) -> tuple[str, ...]:
        """The platforms `newsbot run` sends alerts to with these settings."""
        wanted = (
            ("console", self.console_enabled),
            ("telegram", bool(self.telegram_bot_token)),
            ("slack", bool(self.slack_bot_token)),
        )
        return tuple(name for name, on in wanted if on)

    def describe(self) -> dict[str, str]:
        """Every setting with secrets shown only as set/unset, for `status` and logs."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = (
                ("(set)" if value else "(unset)") if f.name in SECRET_FIELDS else str(value)
            )
        return out


def require_web_server(settings: Settings) -> None:
    """Refuse a start that would receive commands over HTTP with no web server to receive them."""
    if settings.http_port is not None:
        return
    if settings.public_url:
        raise SettingsError(
            "websub: NEWSBOT_PUBLIC_URL is set but NEWSBOT_HTTP_PORT is not: set the port that "
            "public URL reaches, or unset NEWSBOT_PUBLIC_URL to poll only"
        )
    if settings.telegram_bot_token and settings.telegram_webhook_url:
        raise SettingsError(
            "telegram: TELEGRAM_WEBHOOK_URL is set but NEWSBOT_HTTP_PORT is not: set the port the "
            "webhook reaches, or unset TELEGRAM_WEBHOOK_URL for long polling"
        )
    if settings.slack_bot_token and not settings.slack_app_token:
        raise SettingsError(
            "slack: HTTP mode (SLACK_APP_TOKEN unset) needs NEWSBOT_HTTP_PORT: set the port "
            "Slack's requests reach, or set SLACK_APP_TOKEN for Socket Mode"
        )


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `env` (default: the process environment)."""
    env = os.environ if env is None else env

    def get(name: str, default: str = "") -> str:
        return env.get(name, "").strip() or default

    port_text = get("NEWSBOT_HTTP_PORT") or get("PORT")
    port: int | None = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SettingsError(f"NEWSBOT_HTTP_PORT: {port_text!r} is not a TCP port")
        port = int(port_text)
    log_format = get("NEWSBOT_LOG_FORMAT", "text").lower()
    if log_format not in ("text", "json"):
        raise SettingsError(f"NEWSBOT_LOG_FORMAT: {log_format!r} is not text or json")
    log_level = get("NEWSBOT_LOG_LEVEL", "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise SettingsError(
            f"NEWSBOT_LOG_LEVEL: {log_level!r} is not one of {', '.join(LOG_LEVELS)}"
        )
    for name in ("TELEGRAM_API_URL", "SLACK_API_URL", "TELEGRAM_WEBHOOK_URL", "NEWSBOT_PUBLIC_URL"):
        if get(name) and (refusal := web_url_refusal(get(name))):
            raise SettingsError(f"{name}: {without_secrets(get(name))!r} {refusal}")
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        # the value is not shown: a proxy URL may hold a password
        if get(name) and (refusal := web_url_refusal(get(name))):
            raise SettingsError(f"{name}: the proxy URL {refusal}")
    public = urlsplit(get("NEWSBOT_PUBLIC_URL"))
    if public.query or public.fragment:
        raise SettingsError("NEWSBOT_PUBLIC_URL: a base URL has no ?query or #fragment")
    push_poll_text = get("NEWSBOT_PUSH_POLL_INTERVAL")
    try:
        push_poll = parse_duration(push_poll_text) if push_poll_text else None
    except ValueError as exc:
        raise SettingsError(f"NEWSBOT_PUSH_POLL_INTERVAL: {exc}") from None
    database_url = get("NEWSBOT_DATABASE_URL", DEFAULT_DATABASE_URL)
    if problem := address_problem(database_url):
        shown = without_secrets(database_url)
        raise SettingsError(f"NEWSBOT_DATABASE_URL: {shown!r} is not a usable URL: {problem}")
    slack_api_url = get("SLACK_API_URL", DEFAULT_SLACK_API_URL)
    return Settings(
        database_url=with_async_driver(database_url),
        config_path=Path(get("NEWSBOT_CONFIG", "subscriptions.yaml")),
        telegram_bot_token=get("TELEGRAM_BOT_TOKEN"),
        telegram_api_url=get("TELEGRAM_API_URL", DEFAULT_TELEGRAM_API_URL).rstrip("/"),
        telegram_webhook_url=get("TELEGRAM_WEBHOOK_URL"),
        slack_bot_token=get("SLACK_BOT_TOKEN"),
        slack_app_token=get("SLACK_APP_TOKEN"),
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_api_url=slack_api_url if slack_api_url.endswith("/") else slack_api_url + "/",
        http_port=port,
        public_url=get("NEWSBOT_PUBLIC_URL").rstrip("/"),
        push_poll_interval=push_poll or DEFAULT_PUSH_POLL_INTERVAL,
        log_level=log_level,
        log_format=log_format,
    )


def with_async_driver(url: str) -> str:
    """`postgres://` and `postgresql://` (libpq's spellings) mean asyncpg; `sqlite://` aiosqlite."""
    for prefix, full in DRIVER_PREFIXES.items():
        if url.startswith(prefix):
            return full + url.removeprefix(prefix)
    return url
