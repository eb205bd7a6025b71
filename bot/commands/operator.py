"""The bot admins' commands."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bot.commands.context import CommandContext
from bot.commands.requests import (
    CommandReply,
    CommandRequest,
    usage,
)
from bot.i18n import _
from bot.models import FeedCondition, OutboxStatus
from bot.text.urls import without_secrets

log = logging.getLogger(__name__)


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


class OperatorCommands(CommandContext):
    """What only the bot's admins may ask: feeds, statistics, reload."""

    async def _cmd_feeds(self, request: CommandRequest) -> CommandReply:
        feeds = await self.feeds.all()
        if not feeds:
            return CommandReply(_("No feeds."))
        now = self.clock()
        leases = {
            s.feed_id: s.lease_expires_at
            for s in await self.websub.all()
            if s.feed_id is not None and s.lease_expires_at and s.pushed(now)
        }
        lines = []
        for feed in feeds:
            error = f" — {without_secrets(feed.last_error)[:80]}" if feed.last_error else ""
            lease = leases.get(feed.id)
            pushed = _(" (pushed, lease until {time})").format(time=_utc(lease)) if lease else ""
            url = without_secrets(feed.url)
            lines.append(f"• {feed.name} [{feed.condition}] {url}{pushed}{error}")
        return CommandReply("\n".join(lines))

    async def _cmd_addfeed(self, request: CommandRequest) -> CommandReply:
        if not request.args or len(request.args) > 2 or self.feed_admin is None:
            return CommandReply(usage("addfeed", self.prefix))
        url = request.args[0].strip("<>")
        name = request.args[1] if len(request.args) > 1 else ""
        try:
            return CommandReply(await self.feed_admin.add_feed(url, name))
        except ValueError as exc:
            reason = without_secrets(str(exc))
            return CommandReply(_("Feed refused: {reason}").format(reason=reason))

    async def _cmd_removefeed(self, request: CommandRequest) -> CommandReply:
        if len(request.args) != 1 or self.feed_admin is None:
            return CommandReply(usage("removefeed", self.prefix))
        if await self.feed_admin.remove_feed(request.args[0]):
            return CommandReply(_("Removed feed {name}.").format(name=request.args[0]))
        names = ", ".join(f.name for f in await self.feeds.all())
        text = _("No feed named {name}. Feeds: {names}")
        return CommandReply(text.format(name=request.args[0], names=names))

    async def _cmd_stats(self, request: CommandRequest) -> CommandReply:
        feeds = await self.feeds.all()
        subs = await self.chats.subscriptions()
        counts = await self.outbox.counts()
        by_status: dict[OutboxStatus, int] = {}
        for (_platform, status), n in counts.items():
            by_status[status] = by_status.get(status, 0) + n
        failing = sum(
            1 for f in feeds if f.condition in (FeedCondition.FAILING, FeedCondition.DISABLED)
        )
        text = _(
            "Feeds: {feeds} ({failing} failing or disabled)\n"
            "Chats subscribed: {chats}\n"
            "Alerts: {sent} sent, {pending} pending, {failed} failed"
        )
        return CommandReply(
            text.format(
                feeds=len(feeds),
                failing=failing,
                chats=len(subs),
                sent=by_status.get(OutboxStatus.SENT, 0),
                pending=by_status.get(OutboxStatus.PENDING, 0),
                failed=by_status.get(OutboxStatus.FAILED, 0),
            )
        )

    async def _cmd_reload(self, request: CommandRequest) -> CommandReply:
        if self.feed_admin is None:
            return CommandReply(_("Reload is not available here."))
        return CommandReply(await self.feed_admin.reload())
