"""An operator's first mistakes, met through the real `newsbot` command: each is one line that
names the problem and its fix, a non-zero exit, no traceback, and no secret in any output."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import OLD_ITEMS, newsbot, write_config

WRONG_TOKEN = "4242:WRONG_secret-token_value"


def assert_one_line(code: int, output: str, expected: str) -> None:
    """The command failed with exactly `expected` as its output and no traceback."""
    assert code == 1, output
    assert "Traceback" not in output, output
    assert output.strip().splitlines()[-1] == expected, output


async def test_a_refused_telegram_token_is_one_line_without_the_token(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.publish("feed.xml", rss(OLD_ITEMS))
    config = write_config(tmp_path, feed_server.url("feed.xml"))
    async with FakeTelegram(token="4242:the-right-one") as tg:
        env = {
            "TELEGRAM_BOT_TOKEN": WRONG_TOKEN,
            "TELEGRAM_API_URL": tg.base_url,
            "NEWSBOT_LOG_LEVEL": "DEBUG",  # PTB and httpx log request URLs at this level
        }
        code, output = await newsbot("run", "--config", str(config), env=env, cwd=tmp_path)
    assert_one_line(
        code, output, "newsbot: telegram: the Bot API refused the token (check TELEGRAM_BOT_TOKEN)"
    )
    assert WRONG_TOKEN.split(":")[1] not in output
