"""The console channel: alerts printed to stdout, for running without chat tokens."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.models import Outgoing, Platform, Recipient
from bot.render.console import render_console

CONSOLE_RECIPIENT = Recipient(Platform.CONSOLE, "stdout")


class ConsoleChannel:
    platform = Platform.CONSOLE
    global_interval = 0.0

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def chat_interval(self, recipient: Recipient) -> float:
        return 0.0

    async def send(self, message: Outgoing) -> None:
        stream = self._stream or sys.stdout
        stream.write(render_console(message) + "\n\n")
        stream.flush()
