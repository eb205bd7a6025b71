"""How a chat sees the bot: its timezone (`/timezone`) and its alerts' format (`/format`).

A chat's own choice wins; where it chose nothing, the operator's (its subscription in the config,
then `defaults:`) applies. Every time the bot shows is in the chat's timezone."""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from bot.commands.context import CommandContext
from bot.commands.requests import CommandReply, CommandRequest, usage
from bot.i18n import N_, _
from bot.models import ExcerptLength, Preferences, Recipient
from bot.text.plain import local_time

MAX_SUGGESTIONS = 3
DEFAULT = "default"
"""The argument that drops the chat's own choice for the operator's."""
_LENGTHS = {
    ExcerptLength.FULL: N_("Alerts here now show the full excerpt."),
    ExcerptLength.COMPACT: N_("Alerts here now show a short excerpt (about two sentences)."),
    ExcerptLength.TITLE: N_("Alerts here now show the headline, source and link only."),
}
_SWITCHES = {
    ("image", True): N_("Images on for the alerts here."),
    ("image", False): N_("Images off for the alerts here."),
    ("preview", True): N_("Link previews on for the alerts here."),
    ("preview", False): N_("Link previews off for the alerts here."),
}
_ON_OFF = {"on": True, "off": False}


async def shown_preferences(context: CommandContext, recipient: Recipient) -> Preferences:
    """The chat's choices over the operator's."""
    chat = await context.chats.get(recipient)
    defaults = context._config().preferences(recipient)
    return chat.choices.over(defaults) if chat else defaults


def at(epoch: float, preferences: Preferences) -> str:
    """`2026-12-05 23:22 KST`: an instant in the chat's timezone."""
    return local_time(datetime.fromtimestamp(epoch, UTC), preferences.timezone)


def format_line(preferences: Preferences) -> str:
    """`compact, images on, link previews off` (for `/list` and `/format`)."""
    return ", ".join(
        [
            preferences.excerpt.value,
            _("images on") if preferences.image else _("images off"),
            _("link previews on") if preferences.preview else _("link previews off"),
        ]
    )


@cache
def _zones() -> dict[str, str]:
    """Every IANA name, by its case-folded spelling."""
    return {name.casefold(): name for name in sorted(available_timezones())}


@cache
def _cities() -> dict[str, str]:
    """Every IANA name, by the case-folded last part of its name (`seoul`)."""
    return {key.rsplit("/", 1)[-1]: name for key, name in reversed(_zones().items())}


def _similar_zones(name: str) -> list[str]:
    """Up to three IANA names spelled like `name`, whole (`Asia/Seol`) or by city (`Seoul`)."""
    wanted = name.casefold()
    found = []
    for names in (_zones(), _cities()):
        matches = difflib.get_close_matches(wanted, names, n=MAX_SUGGESTIONS, cutoff=0.6)
        found += [names[match] for match in matches]
    return list(dict.fromkeys(found))[:MAX_SUGGESTIONS]


async def choose(context: CommandContext, recipient: Recipient, **choice: Any) -> None:
    """Store some of the chat's own choices (None: back to the operator's), keeping the rest."""
    await context.chats.set_choices(recipient, context.clock(), **choice)


class PreferenceCommands(CommandContext):
    """`/timezone` and `/format`."""

    async def _cmd_timezone(self, request: CommandRequest) -> CommandReply:
        if len(request.args) > 1:
            return CommandReply(usage("timezone", self.prefix))
        now = self.clock()
        if not request.args:
            shown = await shown_preferences(self, request.recipient)
            text = _("Times here are in {zone} (now {time}).")
            return CommandReply(
                f"{text.format(zone=shown.timezone, time=at(now, shown))}\n"
                f"{usage('timezone', self.prefix)}"
            )
        if request.args[0].lower() == DEFAULT:
            await choose(self, request.recipient, timezone=None)
            shown = await shown_preferences(self, request.recipient)
            text = _("Times here follow the bot's default again: {zone} (now {time}).")
            return CommandReply(text.format(zone=shown.timezone, time=at(now, shown)))
        zone = _zones().get(request.args[0].casefold())
        if zone is None:
            wrong = request.args[0][:64]
            similar = _similar_zones(request.args[0][:64])
            text = _("Unknown timezone {name}.").format(name=wrong)
            if similar:
                text += " " + _("Did you mean {names}?").format(names=", ".join(similar))
            return CommandReply(f"{text} {usage('timezone', self.prefix)}")
        await choose(self, request.recipient, timezone=zone)
        shown = await shown_preferences(self, request.recipient)
        text = _("Times here are now in {zone} (now {time}).")
        return CommandReply(text.format(zone=zone, time=at(now, shown)))

    async def _cmd_format(self, request: CommandRequest) -> CommandReply:
        args = [a.lower() for a in request.args]
        if not args:
            shown = await shown_preferences(self, request.recipient)
            text = _("Alerts here: {format}.").format(format=format_line(shown))
            return CommandReply(f"{text}\n{usage('format', self.prefix)}")
        if args == [DEFAULT]:
            await choose(self, request.recipient, excerpt=None, image=None, preview=None)
            shown = await shown_preferences(self, request.recipient)
            text = _("Alerts here follow the bot's default again: {format}.")
            return CommandReply(text.format(format=format_line(shown)))
        if len(args) == 1 and args[0] in _LENGTHS:
            length = ExcerptLength(args[0])
            await choose(self, request.recipient, excerpt=length)
            return CommandReply(_(_LENGTHS[length]))
        if len(args) == 2 and args[0] in ("image", "preview") and args[1] in _ON_OFF:
            on = _ON_OFF[args[1]]
            await choose(self, request.recipient, **{args[0]: on})
            return CommandReply(_(_SWITCHES[args[0], on]))
        return CommandReply(usage("format", self.prefix))
