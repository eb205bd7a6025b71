"""Telegram: alerts out and commands in through the Bot API, with python-telegram-bot 22.

Out: `send` renders an alert (`bot.render.telegram`) and posts it as a photo with an HTML caption
when the item has an image and the caption fits, else as an HTML text; a refused photo falls back to
text and refused HTML to plain text, once. Every other outcome is one of the typed `SendError`s the
dispatcher acts on. The limits below are the platform's; the dispatcher paces by them.

In: PTB's `Application` runs inside our event loop (never `run_polling`): long polling by default,
or a webhook route on the bot's web server when `TELEGRAM_WEBHOOK_URL` is set, the secret-token
header checked. Each command becomes a platform-neutral `CommandRequest` for `bot.commands`.

The API base URL comes from settings (tests and self-hosted Bot API servers stand in for
api.telegram.org). The token is part of every request URL, so nothing here logs a URL or an
exception text without masking it first; `bot.logs.SecretFilter` covers what PTB and httpx log.
"""

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.limits import GLOBAL_RATE, MAX_TEXT, SlidingWindow

__all__ = ["GLOBAL_RATE", "MAX_TEXT", "SlidingWindow", "TelegramChannel"]
