"""A config is refused, with its line, when it names what the store cannot keep: a config that
starts on SQLite must start on PostgreSQL too."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_config
from bot.models import MAX_WORD

LONG = "x" * (MAX_WORD + 1)


def config(topic_id: str, keyword: str) -> str:
    return (
        "version: 1\n"
        "topics:\n"
        f"  {topic_id}:\n"
        "    keywords: [AI]\n"
        "subscriptions:\n"
        "  - telegram: 1\n"
        f"    topics: [{topic_id}]\n"
        f"    keywords: [{keyword}]\n"
    )


@pytest.mark.parametrize(
    ("topic_id", "keyword", "line", "where"),
    [
        (LONG, "chips", 3, "topics"),
        ("ai", LONG, 8, "subscriptions[0].keywords[0]"),
    ],
)
def test_words_longer_than_the_store_keeps_are_refused_with_their_line(
    topic_id: str, keyword: str, line: int, where: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(config(topic_id, keyword))
    (problem,) = caught.value.problems
    assert problem.startswith(f"subscriptions.yaml:{line}: {where}"), problem
    assert str(MAX_WORD) in problem


def test_words_as_long_as_the_store_keeps_are_accepted() -> None:
    word = "x" * MAX_WORD
    assert list(parse_config(config(word, word)).topics) == [word]
