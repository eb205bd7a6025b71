"""subscriptions.yaml validation: the shipped file passes; every error names its line and key."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config
from bot.durations import format_duration, parse_duration
from bot.text.plain import local_time

REPO = Path(__file__).resolve().parents[2]

VALID = textwrap.dedent(
    """\
    version: 1
    defaults: {interval: 5m, timezone: Asia/Seoul}
    admins: {telegram: [123456789], slack: [U01ABCDEF]}
    feeds:
      - {name: one, url: "https://news.example/rss", interval: 2m}
      - {name: two, url: "https://news.example/atom", interval: 90}
      - {name: three, url: "https://news.example/x"}
    topics:
      ai: {keywords: [AI, 인공지능], exclude: [AI camera]}
    subscriptions:
      - {telegram: -1001234567890, topics: [ai]}
      - {slack: C0123ABC, topics: [ai]}
    """
)


def test_shipped_config_is_valid() -> None:
    config = load_config(REPO / "subscriptions.yaml").config
    assert set(config.topics) >= {"ai", "policy-finance", "breaking"}
    assert config.defaults.timezone == "Asia/Seoul"
    assert config.feeds, "the shipped file is a working example with real feeds"


def test_valid_config_values() -> None:
    config = parse_config(VALID)
    assert [config.feed_interval(f) for f in config.feeds] == [120.0, 90.0, 300.0]
    assert config.subscriptions[0].chat_id == "-1001234567890"
    assert config.topic_for("AI") == "ai"  # ids match in any case
    assert config.topic_for("ａｉ") == "ai"  # and in full-width letters, as Korean keyboards type
    assert config.topic_for("인공지능") is None  # a keyword is not a name unless it is an alias


def test_empty_sections_are_valid() -> None:
    config = parse_config("version: 1\nfeeds: []\ntopics: {}\nsubscriptions: []\n")
    assert config.feeds == () and config.subscriptions == ()


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (VALID.replace("interval: 90}", "interval: soon}"), "test.yaml:6: feeds[1].interval:"),
        (
            VALID.replace("topics: [ai]}\n  - {slack", "topics: [sports]}\n  - {slack"),
            "test.yaml:11: subscriptions[0].topics[0]: unknown topic 'sports'",
        ),
        (VALID.replace("name: three", "name: one"), "test.yaml:7: feeds[2].name: feed name 'one'"),
        (
            VALID.replace("https://news.example/x", "ftp://news.example/x"),
            "test.yaml:7: feeds[2].url: 'ftp://news.example/x' is not an http:// or https:// URL",
        ),
        (  # malformed: named in the line, not a traceback later
            VALID.replace("https://news.example/x", "http://[::1/x"),
            "test.yaml:7: feeds[2].url: 'http://[::1/x' is not a usable URL: invalid IPv6 URL",
        ),
        (
            VALID.replace("https://news.example/x", "https://news.example:99999/x"),
            "test.yaml:7: feeds[2].url: 'https://news.example:99999/x' is not a usable URL: port "
            "out of range 0-65535",
        ),
        (
            VALID.replace("https://news.example/x", "http://xn--zz.example/x"),
            "test.yaml:7: feeds[2].url: 'http://xn--zz.example/x' is not a usable URL: an invalid "
            "host name",
        ),
        (
            VALID.replace('"https://news.example/x"', '"https://news.example/a\\0b"'),
            "test.yaml:7: feeds[2].url: 'https://news.example/a\\x00b' is not a usable URL: a "
            "control character in the address",
        ),
        (  # a password in the address is not shown back
            VALID.replace("https://news.example/x", "http://reader:pw123@news.example:abc/x"),
            "test.yaml:7: feeds[2].url: 'http://reader:***@news.example:abc/x' is not a usable "
            "URL: port could not be cast",
        ),
        (
            VALID.replace("name: three", "name: three and four"),
            "test.yaml:7: feeds[2].name: 'three and four': use letters, digits, '.', '-' and '_'",
        ),
        (
            VALID.replace("timezone: Asia/Seoul", "timezone: Mars/Base"),
            "test.yaml:2: defaults.timezone",
        ),
        (
            VALID.replace("exclude: [AI camera]", "exclud: [AI camera]"),
            "test.yaml:9: topics.ai.exclud",
        ),
        (VALID.replace("version: 1", "version: 2"), "test.yaml:1: version:"),
        (  # a list where a duration goes: a line, not a traceback
            VALID.replace("interval: 90}", "interval: [1]}"),
            "test.yaml:6: feeds[1].interval: expected seconds or a duration",
        ),
        (  # nested deeper than parsing can recurse: a line, not a crash
            VALID.replace("keywords: [AI, 인공지능]", f"keywords: {'[' * 50_000}AI{']' * 50_000}"),
            "test.yaml:1: lists or maps nested 50001 deep; at most 50",
        ),
        (VALID + "  - " + "- " * 50_000 + "x\n", "test.yaml:1: lists or maps nested 50002 deep"),
        (
            VALID.replace("version: 1", "version: 1\nstories: {realert: [sport]}"),
            "test.yaml:2: stories.realert[0]: unknown topic 'sport'",
        ),
        (  # a topic is typed after /subscribe: one word
            VALID.replace("  ai: {keywords", "  my topic: {keywords"),
            "test.yaml:8: topics: 'my topic': a topic is one word people type after /subscribe",
        ),
        (  # one keyword written without its list
            VALID.replace("keywords: [AI, 인공지능]", "keywords: AI"),
            "test.yaml:9: topics.ai.keywords: expected a list, like [one, two]",
        ),
        (  # a paragraph pasted as a keyword
            VALID.replace("keywords: [AI, 인공지능]", f"keywords: [AI, {'A' * 2_000_000}]"),
            "test.yaml:9: topics.ai.keywords: a phrase of 2,000,000 characters",
        ),
        (
            VALID.replace("version: 1", "version: 1\nstories: {window: 30d}"),
            "test.yaml:2: stories.window: at most 7d",
        ),
        (
            VALID.replace("{telegram: -1001234567890,", "{telegram: -1001234567890, thread: 0,"),
            "test.yaml:11: subscriptions[0].thread: Input should be greater than or equal to 1",
        ),
        (  # more than the 52 bits a Telegram id has
            VALID.replace("-1001234567890", "-99999999999999999999"),
            "test.yaml:11: subscriptions[0].telegram: Input should be greater than or equal to",
        ),
        (VALID.replace("{slack: C0123ABC,", "{"), "test.yaml:12: subscriptions[1]:"),
        (VALID + "  - {telegram: 5, topics: [ai]\n", "test.yaml:14: invalid YAML"),
    ],
)
def test_errors_name_file_line_and_key(broken: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(broken, source="test.yaml")
    assert expected in str(caught.value), str(caught.value)


def test_an_unknown_topic_is_named_beside_the_other_problems() -> None:
    broken = VALID.replace("telegram: -1001234567890, topics: [ai]", "telegram: 5, topics: [sport]")
    broken = broken.replace("interval: 90}", "interval: soon}")
    with pytest.raises(ConfigError) as caught:
        parse_config(broken, source="test.yaml")
    problems = str(caught.value)
    assert "test.yaml:6: feeds[1].interval:" in problems, problems
    assert "test.yaml:11: subscriptions[0].topics[0]: unknown topic 'sport'" in problems, problems


def test_problems_are_listed_in_the_order_of_the_files_lines() -> None:
    """pydantic reports by the model's field order (defaults before feeds); an operator reads
    the file from the top."""
    broken = "version: 1\nfeeds:\n  - {name: a, url: 'https://a.example/f', interval: soon}\n"
    broken += "defaults: {interval: never}\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(broken, source="t.yaml")
    lines = [problem.split(":")[1] for problem in caught.value.problems]
    assert lines == ["3", "4"], caught.value.problems


def test_an_endless_file_is_refused_past_the_size_a_config_may_have() -> None:
    with pytest.raises(ConfigError, match="/dev/zero: larger than the 67,108,864 bytes"):
        load_config("/dev/zero")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (5, 5.0),
        ("5", 5.0),
        ("0.5", 0.5),  # quoted as a number is written unquoted
        ("90s", 90.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("1d", 86400.0),
    ],
)
def test_durations(text: int | str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "m5", "-5", "0", "1.5h", "soon", True])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    "value", ["1" + "0" * 309 + "s", "1" * 5000, "1" * 400 + "m", "3651d", 10**400, float("inf")]
)
def test_a_duration_no_one_means_is_refused_with_its_limit(value: str | float) -> None:
    """Digits beyond a float's range raised OverflowError (a `/mute` reply was "something went
    wrong"); ten years and more are a typo."""
    with pytest.raises(ValueError, match="at most 3650d"):
        parse_duration(value)
    assert parse_duration("3650d") == 3650 * 86400


@pytest.mark.parametrize("timezone", ["America", "Asia", "x" * 300])
def test_a_timezone_that_names_a_folder_or_nothing_is_a_config_error(timezone: str) -> None:
    with pytest.raises(ConfigError, match="unknown timezone"):
        parse_config(
            f"version: 1\ndefaults: {{timezone: {timezone}}}\nfeeds: []\ntopics: {{}}\n"
            "subscriptions: []\n"
        )
    assert local_time(datetime(2026, 1, 2, 3, 4, tzinfo=UTC), timezone) == "2026-01-02 03:04 UTC"


def test_aliases_of_aliases_are_refused_before_they_expand() -> None:
    """Forty lines of aliases of aliases are 2^40 values: refused, not expanded for hours."""
    levels = "".join(f"x{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, 40))
    with pytest.raises(ConfigError, match="aliases expand to more than 1,000,000 values"):
        parse_config(f"version: 1\nx0: &a0 [1, 1]\n{levels}")


def test_format_duration_round_trips() -> None:
    for seconds in (1, 59, 60, 3600, 5400, 86400, 90061):
        assert parse_duration(format_duration(seconds)) == seconds


def test_an_interval_the_file_writes_is_explicit_whether_the_feeds_or_the_default() -> None:
    """`defaults: {interval: 10s}` was held to `min_interval` (60 s) for feeds of no interval."""
    feeds = '  - {name: a, url: "http://127.0.0.1:9/a"}\n'
    feeds += '  - {name: b, url: "http://127.0.0.1:9/b", interval: 5s}\n'
    written = parse_config(f"version: 1\ndefaults: {{interval: 10s}}\nfeeds:\n{feeds}")
    assert written.explicit_intervals() == {"a", "b"}
    assert parse_config(f"version: 1\nfeeds:\n{feeds}").explicit_intervals() == {"b"}
