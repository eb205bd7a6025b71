"""The operator's language for the bot's words: `defaults.language` and a subscription's
`language`, checked like the rest of `subscriptions.yaml`."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_config
from bot.models import Platform, Recipient

CONFIG = """version: 1
defaults: {language: ko}
topics:
  ai: {keywords: [AI]}
subscriptions:
  - {telegram: 5, topics: [ai], language: en}
"""


def test_defaults_then_the_chats_subscription() -> None:
    config = parse_config(CONFIG)
    assert config.preferences(Recipient(Platform.TELEGRAM, "5")).language == "en"
    assert config.preferences(Recipient(Platform.TELEGRAM, "6")).language == "ko"
    assert parse_config("version: 1\n").preferences(Recipient(Platform.SLACK, "C1")).language == (
        "en"
    )


@pytest.mark.parametrize(
    ("broken", "line"),
    [
        (CONFIG.replace("language: ko", "language: fr"), "test.yaml:2: defaults.language"),
        (
            CONFIG.replace("language: en", "language: 한국어"),
            "test.yaml:6: subscriptions[0].language",
        ),
    ],
)
def test_check_config_names_the_line_of_an_unknown_language(broken: str, line: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(broken, source="test.yaml")
    assert f"{line}: Input should be 'en' or 'ko'" in str(refused.value)
