"""Chat commands, written once for every platform: a `CommandRequest` in, a `CommandReply` out.

Adapters turn a Telegram message or a Slack slash command into a request (command name without the
slash or `@BotName`, arguments split on whitespace) and render the reply in their own markup. Every
wrong argument gets a one-line usage with the valid choices; nothing here raises to the adapter.
"""

from bot.commands.dispatch import Commands
from bot.commands.requests import (
    MAX_KEYWORDS,
    USAGE,
    CommandReply,
    CommandRequest,
    FeedAdmin,
    usage,
)

__all__ = [
    "MAX_KEYWORDS",
    "USAGE",
    "CommandReply",
    "CommandRequest",
    "Commands",
    "FeedAdmin",
    "usage",
]
