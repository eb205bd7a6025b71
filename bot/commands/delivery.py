"""When a chat gets its alerts: one by one or in digests (`/mode`), and quiet hours (`/quiet`).

Times are the chat's wall-clock times in its timezone (`/timezone`)."""

from __future__ import annotations

from bot.commands.context import CommandContext
from bot.commands.preferences import at, shown_preferences
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
from bot.models import Recipient

BREAKING_THROUGH = "breaking news still comes at once"
_DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def mode_line(mode: DeliveryMode) -> str:
    """`one digest a day at 08:00` (for `/mode` and `/list`)."""
    if mode.cadence is Cadence.HOURLY:
        return "one digest an hour"
    if mode.cadence is Cadence.DAILY:
        return f"one digest a day at {mode.at:%H:%M}"
    if mode.cadence is Cadence.WEEKLY:
        return f"one digest a week, {_DAY_NAMES[mode.weekday]} at {mode.at:%H:%M}"
    return "one by one, as they are found"


def quiet_line(quiet: QuietHours) -> str:
    """`23:00-07:00, breaking news still comes at once` (for `/quiet` and `/list`)."""
    span = f"{quiet.start:%H:%M}-{quiet.end:%H:%M}"
    return f"{span}, {BREAKING_THROUGH}" if quiet.except_breaking else span


async def delivery_lines(context: CommandContext, recipient: Recipient) -> list[str]:
    """The `/list` lines of a chat's delivery mode and quiet hours (none when unset)."""
    chat = await context.chats.get(recipient)
    if chat is None:
        return []
    lines = []
    if chat.delivery:
        lines.append(f"Delivery: {mode_line(stored_mode(chat.delivery))}")
    quiet = stored_quiet(chat.quiet)
    if quiet is not None:
        lines.append(f"Quiet hours: {quiet_line(quiet)}")
    return lines


class DeliveryCommands(CommandContext):
    """`/mode` and `/quiet`."""

    async def _cmd_mode(self, request: CommandRequest) -> CommandReply:
        if not request.args:
            chat = await self.chats.get(request.recipient)
            mode = stored_mode(chat.delivery if chat else "")
            return CommandReply(
                f"Alerts here come {mode_line(mode)}.\n{usage('mode', self.prefix)}"
            )
        try:
            mode = parse_mode(request.args)
        except ValueError:
            return CommandReply(usage("mode", self.prefix))
        now = self.clock()
        stored = "" if mode.cadence is Cadence.INSTANT else str(mode)
        await self.chats.set_delivery(request.recipient, now, mode=stored)
        shown = await shown_preferences(self, request.recipient)
        due = next_digest(mode, now, shown.timezone)
        if due is None:
            return CommandReply(f"Alerts here now come {mode_line(mode)}.")
        return CommandReply(
            f"Alerts here now come in {mode_line(mode)} ({shown.timezone}); "
            f"the next is due {at(due, shown)}."
        )

    async def _cmd_quiet(self, request: CommandRequest) -> CommandReply:
        args = [a.lower() for a in request.args]
        if not args:
            chat = await self.chats.get(request.recipient)
            quiet = stored_quiet(chat.quiet if chat else "")
            now_set = f"Quiet hours: {quiet_line(quiet)}." if quiet else "No quiet hours here."
            return CommandReply(f"{now_set}\n{usage('quiet', self.prefix)}")
        if args == ["off"]:
            await self.chats.set_delivery(request.recipient, self.clock(), quiet="")
            return CommandReply("No quiet hours here: alerts come as they are found.")
        try:
            quiet = parse_quiet(args)
        except ValueError:
            return CommandReply(usage("quiet", self.prefix))
        await self.chats.set_delivery(request.recipient, self.clock(), quiet=str(quiet))
        shown = await shown_preferences(self, request.recipient)
        through = f"; {BREAKING_THROUGH}" if quiet.except_breaking else ""
        return CommandReply(
            f"Quiet hours {quiet.start:%H:%M}-{quiet.end:%H:%M} ({shown.timezone}): alerts "
            f"found then wait and come in one digest when they end{through}."
        )
