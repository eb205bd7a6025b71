"""The operator's defaults for how chats see alerts: `defaults:` and per subscription, checked
like the rest of `subscriptions.yaml`, and resolved per chat."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_config
from bot.models import ExcerptLength, Platform, Preferences, Recipient

CONFIG = """version: 1
defaults: {timezone: Asia/Seoul, format: compact, image: false}
topics:
  ai: {keywords: [AI]}
subscriptions:
  - {telegram: 5, topics: [ai], format: title, preview: true}
  - {telegram: 5, thread: 7, topics: [ai], timezone: Europe/Berlin}
"""


def test_defaults_then_the_chats_subscription() -> None:
    config = parse_config(CONFIG)

    assert config.preferences(Recipient(Platform.TELEGRAM, "5")) == Preferences(
        "Asia/Seoul", ExcerptLength.TITLE, image=False, preview=True
    )
    assert config.preferences(Recipient(Platform.TELEGRAM, "5", "7")) == Preferences(
        "Europe/Berlin", ExcerptLength.COMPACT, image=False, preview=False
    )
    assert config.preferences(Recipient(Platform.SLACK, "C0NEWS")) == Preferences(
        "Asia/Seoul", ExcerptLength.COMPACT, image=False, preview=False
    )


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (
            CONFIG.replace("format: compact", "format: short"),
            "test.yaml:2: defaults.format: Input should be 'full', 'compact' or 'title'",
        ),
        (
            CONFIG.replace("image: false", "image: sometimes"),
            "test.yaml:2: defaults.image: Input should be a valid boolean",
        ),
        (
            CONFIG.replace("timezone: Europe/Berlin", "timezone: Europe/Berln"),
            "test.yaml:7: subscriptions[1].timezone: unknown timezone 'Europe/Berln' "
            "(use an IANA name like Asia/Seoul)",
        ),
        (
            CONFIG.replace("preview: true", "preview: maybe"),
            "test.yaml:6: subscriptions[0].preview: Input should be a valid boolean",
        ),
    ],
)
def test_check_config_names_the_line_of_a_bad_choice(broken: str, expected: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(broken, source="test.yaml")
    assert expected in str(refused.value)
