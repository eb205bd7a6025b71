"""`newsbot check-config PATH`: validate a config, and warn about one feed listed twice."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.config import load_config
from bot.feeds.identity import duplicate_feeds


def check_config(path: Path) -> int:
    config = load_config(path).config
    for first, later, identity in duplicate_feeds((f.name, f.url) for f in config.feeds):
        print(
            f"{path}: warning: feeds {first} and {later} are one feed ({identity}): "
            f"it is polled once, as {first}",
            file=sys.stderr,
        )
    print(
        f"{path}: ok ({len(config.feeds)} feeds, {len(config.topics)} topics, "
        f"{len(config.subscriptions)} subscriptions)"
    )
    return 0
