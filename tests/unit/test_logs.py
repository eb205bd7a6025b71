"""Secrets never reach a log line, whatever the level or the format; settings hide them too."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import JsonFormatter, SecretFilter
from bot.settings import SettingsError, settings_from_env

TOKEN = "123456:AAHsecret-telegram-token"
SIGNING = "8f2b0c-signing-secret"


def capture(fmt: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretFilter([TOKEN, SIGNING]))
    handler.setFormatter(fmt)
    logger = logging.getLogger(f"test.secrets.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, stream


@pytest.mark.parametrize("fmt", [logging.Formatter("%(message)s"), JsonFormatter()])
def test_secrets_are_masked_in_messages_arguments_and_tracebacks(fmt: logging.Formatter) -> None:
    logger, stream = capture(fmt)
    logger.debug("POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
    logger.info(f"signing with {SIGNING}")
    try:
        raise RuntimeError(f"request to /bot{TOKEN}/getMe failed")
    except RuntimeError:
        logger.exception("send failed")
    output = stream.getvalue()
    assert TOKEN not in output and SIGNING not in output
    assert output.count("***") >= 3
    if isinstance(fmt, JsonFormatter):
        assert all(json.loads(line)["level"] for line in output.splitlines())


def test_a_secret_in_another_letter_case_is_masked_too() -> None:
    logger, stream = capture(logging.Formatter("%(message)s"))
    logger.warning("telegram: polling: BadRequest: Invalid path /bot%s/getupdates", TOKEN.lower())
    assert stream.getvalue() == "telegram: polling: BadRequest: Invalid path /bot***/getupdates\n"


def test_passwords_in_urls_are_masked_without_being_listed() -> None:
    logger, stream = capture(logging.Formatter("%(message)s"))
    logger.warning("feed f: poll failed: %s: refused", "http://reader:pw123@127.0.0.1:1/f.xml")
    logger.warning("fetching https://tok3n@feeds.example/x.xml")
    logger.warning("feed q: %s: HTTP 500", "https://f.example/x?p=2&apikey=K3Y&key=K&token=T0P")
    logger.warning("not a credential: https://f.example/x?monkey=1&keyword=ai&sid=7")
    assert stream.getvalue().splitlines() == [
        "feed f: poll failed: http://reader:***@127.0.0.1:1/f.xml: refused",
        "fetching https://***@feeds.example/x.xml",
        "feed q: https://f.example/x?p=2&apikey=***&key=***&token=***: HTTP 500",
        "not a credential: https://f.example/x?monkey=1&keyword=ai&sid=7",
    ]


def test_settings_repr_and_describe_hide_secrets() -> None:
    settings = settings_from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING,
            "SLACK_API_URL": "http://h/x",
        }
    )
    assert TOKEN not in repr(settings) and SIGNING not in repr(settings)
    assert settings.describe()["telegram_bot_token"] == "(set)"
    assert settings.slack_api_url == "http://h/x/", "a missing trailing slash is added"
    assert set(settings.secrets) == {TOKEN, SIGNING}
    assert not settings.console_enabled


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NEWSBOT_HTTP_PORT": "http"}, "not a TCP port"),
        ({"NEWSBOT_LOG_FORMAT": "xml"}, "json"),
        ({"HTTPS_PROXY": "http://bot:s3cret@[proxy.internal:3128"}, "HTTPS_PROXY: .*IPv6"),
        ({"http_proxy": "http://bot:s3cret@proxy.internal:99999"}, "http_proxy: .*out of range"),
        ({"HTTP_PROXY": "proxy.internal:3128"}, "HTTP_PROXY: the proxy URL is not an http://"),
        (
            {"NEWSBOT_DATABASE_URL": "postgresql://u:s3cret@127.0.0.1:99999/db"},
            "NEWSBOT_DATABASE_URL: 'postgresql://u:\\*\\*\\*@127.0.0.1:99999/db' .*out of range",
        ),
        ({"NEWSBOT_DATABASE_URL": "postgresql://u:s3cret@127.0.0.1:abc/db"}, "integer value"),
        ({"NEWSBOT_DATABASE_URL": "postgresql://u:s3cret@[::1/db"}, "invalid IPv6 URL"),
        ({"NEWSBOT_DATABASE_URL": "postgresql://u:s3cret@127.0.0.1:0/db"}, "port 0"),
        ({"TELEGRAM_API_URL": "http://u:s3cret@127.0.0.1:99999/"}, "TELEGRAM_API_URL: .*range"),
        ({"SLACK_API_URL": "ftp://u:s3cret@127.0.0.1/"}, "SLACK_API_URL: 'ftp://u:\\*\\*\\*@"),
    ],
)
def test_bad_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message) as refused:
        settings_from_env(env)
    assert "s3cret" not in str(refused.value), "a password was echoed"


def test_port_falls_back_to_procfile_port() -> None:
    assert settings_from_env({"PORT": "5000"}).http_port == 5000
    assert settings_from_env({"PORT": "5000", "NEWSBOT_HTTP_PORT": "8080"}).http_port == 8080
