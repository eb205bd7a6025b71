"""Logging set-up: text or JSON lines, with every secret masked whatever the level.

python-telegram-bot and httpx log request URLs, and Telegram's URLs carry the bot token; a feed's
or a database's URL may carry a password. The filter here rewrites any record that contains a
secret before a handler sees it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

from bot.text.urls import MASK, without_secrets


class SecretFilter(logging.Filter):
    """Replaces every occurrence of a secret, and every password of a URL, in a record's message
    with `***`."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if len(s) >= 4)
        self._pattern = any_case(self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        return True

    def mask(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return without_secrets(text)


def any_case(secrets: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern of `secrets` in any letter case: python-telegram-bot capitalises an error's
    description (`Invalid path /bot123:abc/getme`), lower-casing the token a server quoted."""
    spelled = sorted({s for s in secrets if s}, key=len, reverse=True)
    if not spelled:
        return None
    return re.compile("|".join(re.escape(s) for s in spelled), re.IGNORECASE)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info or record.exc_text:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    level: str, fmt: str, secrets: Iterable[str], stream: TextIO | None = None
) -> None:
    """Log to `stream` (stderr when None) in `fmt` ("text" or "json"), masking `secrets`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(SecretFilter(secrets))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
    # request lines with tokens in their URLs, and chatter nobody needs at INFO
    for noisy in (
        "httpx",
        "httpcore",
        "telegram.ext.Updater",
        "apscheduler",
        "aiosqlite",
        "alembic",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
