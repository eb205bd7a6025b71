"""The language of the bot's own words in a chat (`/lang`): the chat's choice, else the language
of whoever first talked to the bot there (Telegram `language_code`, Slack locale), else the
operator's (`defaults.language`, a subscription's `language`)."""

from __future__ import annotations

from bot.commands.context import CommandContext
from bot.commands.preferences import choose, shown_preferences
from bot.commands.requests import CommandReply, CommandRequest, usage
from bot.i18n import LANGUAGES, _, speaking, supported
from bot.text.zones import known_zone

LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}


def language_name(language: str) -> str:
    """`English`, `한국어`: a language as its speakers write it."""
    return LANGUAGE_NAMES.get(language, language)


def _known_zone(name: str) -> str | None:
    return name if known_zone(name) is not None else None


class LanguageCommands(CommandContext):
    """`/lang`, and the language every command answers in."""

    async def language_of(self, request: CommandRequest) -> str:
        """The language to answer `request` in; the first speaker of a chat gives it theirs."""
        zone = _known_zone(request.timezone) if request.timezone else None
        await self.chats.adopt(
            request.recipient, self.clock(), language=supported(request.language), timezone=zone
        )
        return (await shown_preferences(self, request.recipient)).language

    async def _cmd_lang(self, request: CommandRequest) -> CommandReply:
        args = [a.lower() for a in request.args]
        if len(args) != 1 or args[0] not in LANGUAGES:
            shown = await shown_preferences(self, request.recipient)
            text = _("The bot speaks {language} here.").format(
                language=language_name(shown.language)
            )
            return CommandReply(f"{text}\n{usage('lang', self.prefix)}")
        await choose(self, request.recipient, language=args[0])
        with speaking(args[0]):
            return CommandReply(
                _("The bot now speaks {language} here.").format(language=language_name(args[0]))
            )
