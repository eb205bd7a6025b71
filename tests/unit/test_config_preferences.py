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

DELIVERY = """version: 1
defaults:
  timezone: Asia/Seoul
  mode: Daily 8:00
  quiet: 23:00-07:00 except breaking
topics:
  ai: {keywords: [AI]}
subscriptions:
  - {telegram: 5, topics: [ai], mode: instant, quiet: "off"}
  - {telegram: 6, topics: [ai], mode: "weekly Monday 09:30"}
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
            "test.yaml:2: defaults.image: expected true or false",
        ),
        (
            CONFIG.replace("image: false", "image: false, colour: red"),
            "test.yaml:2: defaults.colour: no such setting here (a typo, or at the wrong level?)",
        ),
        (
            CONFIG.replace("timezone: Europe/Berlin", "timezone: Europe/Berln"),
            "test.yaml:7: subscriptions[1].timezone: unknown timezone 'Europe/Berln' "
            "(use an IANA name like Asia/Seoul)",
        ),
        (
            CONFIG.replace("preview: true", "preview: maybe"),
            "test.yaml:6: subscriptions[0].preview: expected true or false",
        ),
        (
            DELIVERY.replace("mode: Daily 8:00", "mode: daily 8am"),
            "test.yaml:4: defaults.mode: 'daily 8am' is not a delivery mode "
            "(use instant, hourly, daily HH:MM or weekly DAY HH:MM)",
        ),
        (
            DELIVERY.replace("weekly Monday 09:30", "weekly 09:30"),
            "test.yaml:10: subscriptions[1].mode: 'weekly 09:30' is not a delivery mode",
        ),
        (
            DELIVERY.replace("quiet: 23:00-07:00 except breaking", "quiet: 23:00-23:00"),
            "test.yaml:5: defaults.quiet: '23:00-23:00' are not quiet hours "
            "(use HH:MM-HH:MM, optionally followed by `except breaking`, or off)",
        ),
        (
            DELIVERY.replace('quiet: "off"', 'quiet: "23:00-07:00 except ai"'),
            "test.yaml:9: subscriptions[0].quiet: '23:00-07:00 except ai' are not quiet hours",
        ),
    ],
)
def test_check_config_names_the_line_of_a_bad_choice(broken: str, expected: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(broken, source="test.yaml")
    assert expected in str(refused.value)


def test_delivery_mode_and_quiet_hours_come_from_defaults_then_the_subscription() -> None:
    config = parse_config(DELIVERY)

    alone = config.preferences(Recipient(Platform.SLACK, "C0NEWS"))
    assert (alone.delivery, alone.quiet) == ("daily 08:00", "23:00-07:00 except breaking")
    instant = config.preferences(Recipient(Platform.TELEGRAM, "5"))
    assert (instant.delivery, instant.quiet) == ("", ""), "instant and off are choices too"
    weekly = config.preferences(Recipient(Platform.TELEGRAM, "6"))
    assert (weekly.delivery, weekly.quiet) == ("weekly mon 09:30", "23:00-07:00 except breaking")
    assert config.holds_alerts


def test_a_config_without_digests_or_quiet_hours_holds_nothing() -> None:
    config = parse_config(CONFIG)
    assert not config.holds_alerts
    assert config.preferences(Recipient(Platform.TELEGRAM, "5")).delivery == ""
    only_one_chat = CONFIG.replace("preview: true}", 'preview: true, quiet: "22:00-06:00"}')
    assert parse_config(only_one_chat).holds_alerts
