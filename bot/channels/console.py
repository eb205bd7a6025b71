"""The console channel: alerts printed to stdout, for running without chat tokens."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.channels.base import SentMessage
from bot.models import DigestPage, Outgoing, Platform, Recipient
from bot.render.console import render_also, render_console
from bot.render.digest import render_telegram_digest

CONSOLE_RECIPIENT = Recipient(Platform.CONSOLE, "stdout")


class ConsoleChannel:
    platform = Platform.CONSOLE
    global_interval = 0.0

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def chat_interval(self, recipient: Recipient) -> float:
        return 0.0

    async def send(self, message: Outgoing) -> SentMessage:
        self._write(render_console(message))
        return SentMessage(message.item.key)

    async def edit(self, message: Outgoing, sent: SentMessage) -> None:
        """A console cannot rewrite what it printed: it prints the story's new sources."""
        self._write(f"[story] {message.item.title or '(untitled)'}\n  {render_also(message)}")

    def fits_digest(self, page: DigestPage) -> bool:
        return True

    async def send_digest(self, page: DigestPage) -> SentMessage:
        self._write(render_telegram_digest(page).plain)
        return SentMessage(f"digest-{page.lines[0].row_id}")

    def _write(self, text: str) -> None:
        stream = self._stream or sys.stdout
        stream.write(text + "\n\n")
        stream.flush()
