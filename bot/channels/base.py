"""The adapter protocol every platform implements, and the typed outcomes of a send.

`send` returns only when the platform accepted the message; every other outcome is one of the
exceptions below, so the dispatcher can decide: wait, drop the chat, move it, give up, or retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from bot.models import DigestPage, Outgoing, Platform, Recipient


class SendError(Exception):
    """A message was not delivered; subclasses say what to do about it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RateLimited(SendError):
    """The platform asked us to wait `retry_after` seconds before sending to this chat again."""

    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class RecipientGone(SendError):
    """Blocked, kicked, archived or deleted: this chat will not accept messages again."""


class RecipientMoved(SendError):
    """The chat lives on under a new id (a Telegram group upgraded to a supergroup)."""

    def __init__(self, reason: str, new_chat_id: str) -> None:
        super().__init__(reason)
        self.new_chat_id = new_chat_id


class PermanentFailure(SendError):
    """The platform refused this message as it is (bad request): do not retry it unchanged."""


class TransientFailure(SendError):
    """Timeout, 5xx, network: try again later."""


class Fatal(SendError):
    """The channel itself is unusable (revoked token): stop its dispatcher."""


@dataclass(frozen=True, slots=True)
class SentMessage:
    """Where the platform put a message, so that it can be edited later."""

    message_id: str
    chat_id: str = ""
    """The chat it landed in, when not the one it was sent to (a Slack DM opened by user id)."""
    caption: bool = False
    """The alert is a photo's caption (Telegram edits those with editMessageCaption)."""


class Channel(Protocol):
    """A chat platform the dispatcher sends through."""

    platform: Platform
    global_interval: float
    """Seconds between two sends to any chat (the platform's overall rate)."""

    def chat_interval(self, recipient: Recipient) -> float:
        """Seconds between two sends to this chat."""
        ...

    async def send(self, message: Outgoing) -> SentMessage:
        """Deliver, or raise a SendError subclass."""
        ...

    async def edit(self, message: Outgoing, sent: SentMessage) -> None:
        """Rewrite a delivered alert as `message` (its story's new sources), or raise a
        SendError subclass; a message that is gone or too old to edit is a PermanentFailure."""
        ...

    def fits_digest(self, page: DigestPage) -> bool:
        """Whether `page` goes out as one message within the platform's limits."""
        ...

    async def send_digest(self, page: DigestPage) -> SentMessage:
        """Deliver one page of a digest, or raise a SendError subclass."""
        ...


class FrontEnd(Protocol):
    """A platform's incoming side: receives commands (polling, socket or webhook) while running."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def web_routes(self) -> list[web.RouteDef]:
        """HTTP routes it needs on the bot's web server (webhooks); empty when it needs none."""
        ...
