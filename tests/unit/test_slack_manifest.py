"""slack-manifest.yaml stays in step with the code: the command it declares, scopes, Socket Mode."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from bot.channels.slack import COMMAND, EVENTS_PATH

MANIFEST = Path(__file__).resolve().parents[2] / "slack-manifest.yaml"


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load(MANIFEST.read_text("utf-8"))
    return loaded


def test_the_manifest_declares_the_command_the_bot_answers() -> None:
    [command] = manifest()["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert command["usage_hint"].startswith("subscribe ")


def test_the_manifest_asks_for_the_scopes_the_bot_uses_and_no_more() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert scopes == {"commands", "chat:write", "chat:write.public", "users:read"}


def test_socket_mode_by_default_and_http_mode_documented() -> None:
    data = manifest()
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["settings"]["interactivity"]["is_enabled"] is True, "reply buttons"
    text = MANIFEST.read_text("utf-8")
    assert f"# url: https://newsbot.example.com{EVENTS_PATH}" in text
    assert f"# request_url: https://newsbot.example.com{EVENTS_PATH}" in text


def test_slack_accepts_the_display_information() -> None:
    info = manifest()["display_information"]
    assert info["name"] == "newsbot"
    assert 174 <= len(info["long_description"]) <= 4000, "Slack refuses shorter or longer"
    assert len(info["description"]) <= 140


def test_every_file_the_manifest_points_to_exists() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    named = re.findall(r"[\w./-]+\.(?:md|ya?ml)\b", text)
    missing = [name for name in named if not (MANIFEST.parent / name).exists()]
    assert missing == [], missing
