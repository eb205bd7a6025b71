"""When a chat gets its alerts: one by one or in digests (`/mode`), and quiet hours (`/quiet`).

Times are the chat's wall-clock times in its timezone (`/timezone`)."""

from __future__ import annotations

import dataclasses
from typing import Literal

from bot.commands.context import CommandContext
from bot.commands.preferences import DEFAULT, at, shown_preferences
from bot.commands.requests import CommandReply, CommandRequest, usage
from bot.digest_times import (
    Cadence,
    DeliveryMode,
    QuietHours,
    next_digest,
    parse_mode,
    parse_quiet,
    stored_mode,
    stored_quiet,
)
from bot.i18n import N_, _
from bot.models import Choices, Preferences, Recipient

_WEEKLY = (
    N_("one digest a week, Mondays at {time}"),
    N_("one digest a week, Tuesdays at {time}"),
    N_("one digest a week, Wednesdays at {time}"),
    N_("one digest a week, Thursdays at {time}"),
    N_("one digest a week, Fridays at {time}"),
    N_("one digest a week, Saturdays at {time}"),
    N_("one digest a week, Sundays at {time}"),
)


def mode_line(mode: DeliveryMode) -> str:
    """`one digest a day at 08:00` (for `/mode` and `/list`)."""
    clock = f"{mode.at:%H:%M}"
    if mode.cadence is Cadence.HOURLY:
        return _("one digest an hour")
    if mode.cadence is Cadence.DAILY:
        return _("one digest a day at {time}").format(time=clock)
    if mode.cadence is Cadence.WEEKLY:
        return _(_WEEKLY[mode.weekday]).format(time=clock)
    return _("one by one, as they are found")


def quiet_line(quiet: QuietHours) -> str:
    """`23:00-07:00, breaking news still comes at once` (for `/quiet` and `/list`)."""
    if quiet.except_breaking:
        return _("{span}, breaking news still comes at once").format(span=quiet.span)
    return quiet.span


async def delivery_lines(context: CommandContext, recipient: Recipient) -> list[str]:
    """The `/list` lines of a chat's delivery mode and quiet hours, its own or the operator's:
    none when both are instant without quiet hours, else what applies (a chat's own `/mode
    instant` or `/quiet off` over the operator's digest or quiet hours too)."""
    operator = context._config().preferences(recipient)
    shown = await shown_preferences(context, recipient)
    lines = []
    if shown.delivery or operator.delivery:
        lines.append(_("Delivery: {mode}").format(mode=mode_line(stored_mode(shown.delivery))))
    quiet = stored_quiet(shown.quiet)
    if quiet is not None:
        lines.append(_("Quiet hours: {quiet}").format(quiet=quiet_line(quiet)))
    elif stored_quiet(operator.quiet) is not None:
        lines.append(_("Quiet hours: {quiet}").format(quiet=_("(none)")))
    return lines


class DeliveryCommands(CommandContext):
    """`/mode` and `/quiet`."""

    async def _set_delivery(
        self, recipient: Recipient, choice: Literal["delivery", "quiet"], value: str | None
    ) -> Preferences:
        """Store the chat's `/mode` or `/quiet` (None: the operator's again); returns what now
        applies to it."""
        chat = await self.chats.get(recipient)
        own = chat.choices if chat else Choices()
        if choice == "delivery":
            own = dataclasses.replace(own, delivery=value)
        else:
            own = dataclasses.replace(own, quiet=value)
        shown = own.over(self._config().preferences(recipient))
        holding = bool(shown.delivery or shown.quiet)
        await self.chats.set_delivery(recipient, self.clock(), choice, value, holding=holding)
        return shown

    async def _cmd_mode(self, request: CommandRequest) -> CommandReply:
        if not request.args:
            mode = stored_mode((await shown_preferences(self, request.recipient)).delivery)
            text = _("Alerts here come {mode}.").format(mode=mode_line(mode))
            return CommandReply(f"{text}\n{usage('mode', self.prefix)}")
        if [a.lower() for a in request.args] == [DEFAULT]:
            shown = await self._set_delivery(request.recipient, "delivery", None)
            text = _("Alerts here follow the bot's default again: {mode}.")
            return CommandReply(text.format(mode=mode_line(stored_mode(shown.delivery))))
        try:
            mode = parse_mode(request.args)
        except ValueError:
            return CommandReply(usage("mode", self.prefix))
        now = self.clock()
        stored = "" if mode.cadence is Cadence.INSTANT else str(mode)
        shown = await self._set_delivery(request.recipient, "delivery", stored)
        due = next_digest(mode, now, shown.timezone)
        if due is None:
            return CommandReply(_("Alerts here now come {mode}.").format(mode=mode_line(mode)))
        text = _("Alerts here now come in {mode} ({zone}); the next is due {time}.")
        return CommandReply(
            text.format(mode=mode_line(mode), zone=shown.timezone, time=at(due, shown))
        )

    async def _cmd_quiet(self, request: CommandRequest) -> CommandReply:
        args = [a.lower() for a in request.args]
        if not args:
            quiet = stored_quiet((await shown_preferences(self, request.recipient)).quiet)
            if quiet is None:
                now_set = _("No quiet hours here.")
            else:
                now_set = _("Quiet hours: {quiet}.").format(quiet=quiet_line(quiet))
            return CommandReply(f"{now_set}\n{usage('quiet', self.prefix)}")
        if args == ["off"]:
            await self._set_delivery(request.recipient, "quiet", "")
            return CommandReply(_("No quiet hours here: alerts come as they are found."))
        if args == [DEFAULT]:
            shown = await self._set_delivery(request.recipient, "quiet", None)
            back = stored_quiet(shown.quiet)
            if back is None:
                return CommandReply(_("Quiet hours here follow the bot's default again: none."))
            text = _("Quiet hours here follow the bot's default again: {quiet}.")
            return CommandReply(text.format(quiet=quiet_line(back)))
        try:
            quiet = parse_quiet(args)
        except ValueError:
            return CommandReply(usage("quiet", self.prefix))
        shown = await self._set_delivery(request.recipient, "quiet", str(quiet))
        span = quiet.span
        if quiet.except_breaking:
            text = _(
                "Quiet hours {span} ({zone}): alerts found then wait and come in one digest "
                "when they end; breaking news still comes at once."
            )
        else:
            text = _(
                "Quiet hours {span} ({zone}): alerts found then wait and come in one digest "
                "when they end."
            )
        return CommandReply(text.format(span=span, zone=shown.timezone))
