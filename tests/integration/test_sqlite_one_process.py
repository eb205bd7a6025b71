"""SQLite serves one `newsbot run`: a second process on the same file is refused at start in one
line, and the lock goes with its holder, even when that one is killed with `kill -9`."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.fakes.feed_server import FeedServer, rss
from tests.helpers import OLD_ITEMS, eventually, newsbot, start_bot, write_config


async def test_a_second_run_on_one_sqlite_file_is_refused_until_the_first_is_gone(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = write_config(tmp_path, feed_server.url("feed.xml"))
    database = tmp_path / "newsbot.db"
    env = {"NEWSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    first = await start_bot(config, tmp_path, env, read=False)
    try:
        await eventually(
            lambda: len(feed_server.requests_to("feed.xml")) >= 1, within=60, what="a first poll"
        )
        second = await start_bot(config, tmp_path, env)
        try:
            output, _ = await asyncio.wait_for(second.communicate(), timeout=60)
        finally:
            if second.returncode is None:
                second.kill()
                await second.wait()
        lines = output.decode().splitlines()
        assert second.returncode == 1, lines
        assert lines == [
            f"newsbot: database: {database} is in use by another `newsbot run` (process "
            f"{first.pid}): SQLite serves one process; stop that one, or use PostgreSQL to run "
            "several"
        ]
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    code, output = await newsbot("run", "--once", "--config", str(config), env=env, cwd=tmp_path)
    assert code == 0, output
