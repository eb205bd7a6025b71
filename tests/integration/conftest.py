"""What the end-to-end chat tests share: the fake Bot API and fake Slack Web API with one reader
each, and `launch`, which starts the bot on either with a config and a clock (the driver and the
clock are in driver.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.models import Platform
from bot.settings import Settings
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.driver import (
    CHANNEL,
    SLACK_TOKEN,
    SLACK_USER,
    TOKEN,
    USER,
    ChatBot,
    Clock,
    Launch,
)


@pytest_asyncio.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        fake.add_chat(USER, first_name="Ada")
        yield fake


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=SLACK_TOKEN) as fake:
        fake.add_channel(CHANNEL, name="news")
        fake.add_user(SLACK_USER)
        yield fake


@pytest.fixture
def launch(tg: FakeTelegram, slack: FakeSlack, database_url: str) -> Launch:
    """Start a bot on one platform with the config at `config`, stopped when the test is done."""

    @asynccontextmanager
    async def start(
        platform: Platform, config: Path, clock: Clock, **overrides: Any
    ) -> AsyncIterator[ChatBot]:
        telegram = platform is Platform.TELEGRAM
        settings = Settings(
            database_url=database_url,
            config_path=config,
            telegram_bot_token=TOKEN if telegram else "",
            telegram_api_url=tg.base_url,
            slack_bot_token="" if telegram else SLACK_TOKEN,
            slack_api_url=slack.api_url,
        )
        settings = dataclasses.replace(settings, **overrides)
        bot = ChatBot(config, settings, clock, platform)
        await bot.start()
        try:
            yield bot
        finally:
            await bot.close()

    return start
