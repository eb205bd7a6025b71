"""The config file is re-read when it changes, by every process that watches it."""

from __future__ import annotations

import os
from pathlib import Path

from bot.config_watch import ConfigWatch


async def test_a_changed_file_is_reloaded_once_and_a_missing_one_is_not(tmp_path: Path) -> None:
    config = tmp_path / "subscriptions.yaml"
    config.write_text("version: 1\n", encoding="utf-8")
    reloads: list[str] = []

    async def reload() -> str:
        reloads.append(config.read_text(encoding="utf-8") if config.exists() else "")
        return "reloaded"

    watch = ConfigWatch(config, reload)
    await watch.look()
    assert reloads == [], "unchanged"
    config.write_text("version: 1\ntopics: {}\n", encoding="utf-8")
    os.utime(config, ns=(1, 2_000_000_000_000_000_000))  # a distinct time, whatever the clock
    await watch.look()
    await watch.look()
    assert reloads == ["version: 1\ntopics: {}\n"], "once per change"
    config.unlink()
    await watch.look()
    assert len(reloads) == 1, "a file gone keeps the running config"
