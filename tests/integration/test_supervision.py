"""A dispatcher that crashes is restarted with backoff, and `/healthz` says so meanwhile."""

from __future__ import annotations

import io
import time

from bot.app import App
from bot.channels.console import CONSOLE_RECIPIENT
from bot.models import FeedItem
from bot.settings import Settings
from tests.fakes.feed_server import FeedServer, rss
from tests.helpers import OLD_ITEMS, config_for, eventually, queue_item


async def set_kind(app: App, kind: str) -> None:
    assert app.store is not None
    async with app.store.db.transaction() as conn:
        await conn.exec_driver_sql(f"UPDATE outbox SET kind = '{kind}'")


async def test_a_crashed_dispatcher_restarts_and_healthz_reports_it(
    database_url: str, feed_server: FeedServer
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    out = io.StringIO()
    app = App(
        Settings(database_url=database_url), config_for(feed_server.url("feed.xml")), stdout=out
    )
    await app.start()
    assert app.store is not None and app.ops is not None
    ops = app.ops
    item = FeedItem(key="k", guid="k", link="https://n/k", title="Held back", summary="")
    await queue_item(app.store, item, [CONSOLE_RECIPIENT], now=time.time() - 1)
    await set_kind(app, "poll")  # the claim cannot read it: a crash
    await app.start_services()
    try:

        async def unhealthy() -> bool:
            healthy, details = await ops.health()
            return not healthy and "dispatch-console" in details.get("down", {})

        await eventually(unhealthy, what="/healthz reporting the crashed dispatcher")
        await set_kind(app, "alert")
        await eventually(lambda: "Held back" in out.getvalue(), within=20, what="the restart")

        async def healthy() -> bool:
            return (await ops.health())[0]

        await eventually(healthy, what="/healthz healthy again")
    finally:
        await app.stop_services()
        await app.close()
