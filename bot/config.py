"""`subscriptions.yaml` -> a validated, immutable `Config`; errors name file, line and key path.

The operator's file lists feeds, topics, the chats subscribed by the operator, and the bot admins.
Validation is pydantic's; this module only adds YAML line numbers and the checks that span sections
(two feeds with one name, an alias naming two topics; `config_refs` the topics subscriptions name).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.classify.lexicon import lexicon_names
from bot.config_refs import unknown_topics
from bot.config_yaml import ConfigError as ConfigError
from bot.config_yaml import load_yaml, locate_all, plain, plain_message
from bot.digest_times import mode_setting, quiet_setting
from bot.durations import parse_duration
from bot.feeds.options import check_headers, check_host_name, check_proxy
from bot.files import TooLarge, read_at_most
from bot.models import (
    MAX_WORD,
    Choices,
    ExcerptLength,
    Platform,
    Preferences,
    Recipient,
    TopicRule,
)
from bot.text.urls import web_url_refusal, without_secrets
from bot.text.zones import known_zone

Seconds = Annotated[float, BeforeValidator(parse_duration)]
MAX_CONFIG_BYTES = 64 * 1024 * 1024
"""A config's size at most: ten times one of 400,000 keywords."""
MAX_PHRASE = 200
"""Characters of a topic's keyword, exclusion or alias at most: a longer one is a mistake (a
paragraph pasted into a list) and would cost the keyword automaton its memory for nothing."""
Word = Annotated[str, Field(min_length=1, max_length=MAX_WORD)]
"""A topic id or a chat's keyword: no longer than the store keeps."""
TelegramId = Annotated[int, Field(ge=-(2**52), le=2**52)]
"""A Telegram chat or user id: at most 52 significant bits, as the Bot API documents."""
ClassifyField = Literal["title", "lead", "summary", "content", "categories"]
HostName = Annotated[str, AfterValidator(check_host_name)]


def _known_timezone(value: str) -> str:
    if known_zone(value) is None:
        raise ValueError(f"unknown timezone {value!r} (use an IANA name like Asia/Seoul)")
    return value


TimeZone = Annotated[str, AfterValidator(_known_timezone)]


DeliveryModeText = Annotated[str, AfterValidator(mode_setting)]
"""`daily 08:00` as `/mode` takes it; kept as the store keeps it ('' for instant)."""
QuietText = Annotated[str, AfterValidator(quiet_setting)]
"""`23:00-07:00 except breaking` as `/quiet` takes it; kept as the store keeps it ('' for off)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Strict):
    interval: Seconds = 300.0
    """Poll interval for feeds that do not set their own."""
    min_interval: Seconds = 60.0
    """Floor for intervals the bot derives (TTL, Cache-Control) and for feeds added from chat."""
    max_interval: Seconds = 86400.0
    """Ceiling for derived intervals: a feed is never left unpolled longer than this."""
    timezone: TimeZone = "UTC"
    language: Literal["en", "ko"] = "en"
    """The language of the bot's words where a chat's first speaker did not tell (`/lang`)."""
    retention: Seconds = 90 * 86400.0
    """How long seen-item keys and sent alerts are kept."""
    format: ExcerptLength = ExcerptLength.FULL
    """How much of an item's text an alert shows, for chats that chose nothing (`/format`)."""
    image: bool = True
    preview: bool = False
    """Telegram link previews and Slack unfurls of the alert's link."""
    mode: DeliveryModeText = ""
    """When alerts go out (`/mode`): instant, hourly, `daily 08:00`, `weekly mon 08:00`."""
    quiet: QuietText = ""
    """Quiet hours (`/quiet`): `23:00-07:00`, optionally `except breaking`; empty: none."""

    @property
    def preferences(self) -> Preferences:
        shown = self.timezone, self.format, self.image, self.preview, self.language
        return Preferences(*shown, self.mode, self.quiet)


class FeedConfig(_Strict):
    name: str = Field(min_length=1, max_length=64)
    url: str
    interval: Seconds | None = None
    backlog: int = Field(default=0, ge=0, le=100)
    """How many of the newest items the first poll of this feed delivers (0: it only primes)."""
    enabled: bool = True
    proxy: Annotated[str | None, AfterValidator(check_proxy)] = None
    """`http://[user:password@]host:port` to fetch this feed through, or `direct` for none
    (unset: HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment)."""
    headers: Annotated[dict[str, str], AfterValidator(check_headers)] = {}
    """Extra request headers, e.g. a `Cookie` for a feed behind a soft wall."""
    fetch_article: bool = False
    """Read each new item's page and use the opening of its main text as the item's summary,
    for classification and the excerpt (for feeds that carry titles only)."""

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not re.fullmatch(r"[\w.\-]+", value):
            raise ValueError(f"{value!r}: use letters, digits, '.', '-' and '_' only")
        return value

    @field_validator("url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        if refusal := web_url_refusal(value):
            raise ValueError(f"{without_secrets(value)!r} {refusal}")
        return value


class HostConfig(_Strict):
    concurrency: int = Field(default=2, ge=1, le=100)
    """Requests to this host at once, at most: fifty feeds of one outlet take turns."""


class TopicConfig(_Strict):
    label: str = ""
    aliases: tuple[str, ...] = ()
    """Other names people may type for this topic (`/subscribe 인공지능`)."""
    keywords: tuple[str, ...] = Field(min_length=1)
    exclude: tuple[str, ...] = ()
    """Phrases that veto a keyword hit they overlap (`속보치` vetoes `속보`)."""
    fields: tuple[ClassifyField, ...] = ("title", "summary", "categories")
    title_weight: float = Field(default=2.0, gt=0)
    threshold: float = Field(default=2.0, gt=0)
    """Score an item needs: each hit counts 1, a title hit counts `title_weight`."""
    lexicon: str | None = None
    """A shipped lexicon (`bot/lexicons/<name>.yaml`): weighted names and context rules."""

    @field_validator("lexicon")
    @classmethod
    def _known_lexicon(cls, value: str | None) -> str | None:
        if value is not None and value not in lexicon_names():
            known = ", ".join(sorted(lexicon_names()))
            raise ValueError(f"unknown lexicon {value!r}; shipped lexicons are: {known}")
        return value

    @field_validator("keywords", "exclude", "aliases")
    @classmethod
    def _no_blank_phrases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for phrase in value:
            if not phrase.strip():
                raise ValueError("phrases must not be blank")
            if len(phrase) > MAX_PHRASE:
                raise ValueError(
                    f"a phrase of {len(phrase):,} characters ({phrase[:20]!r}...); "
                    f"at most {MAX_PHRASE}, as no headline is longer"
                )
        return value


class SubscriptionConfig(_Strict):
    telegram: TelegramId | None = None
    slack: str | None = Field(default=None, max_length=64, pattern=r"^[CDGUW][A-Z0-9]{2,}$")
    """A channel id (C..., G...), or a user id (U..., W...) for the bot's DM with them."""
    thread: int | None = Field(default=None, ge=1, le=2**52)
    """Telegram forum topic (message_thread_id) the alerts go to."""
    topics: tuple[str, ...] = ()
    keywords: tuple[Word, ...] = ()
    timezone: TimeZone | None = None
    format: ExcerptLength | None = None
    image: bool | None = None
    preview: bool | None = None
    language: Literal["en", "ko"] | None = None
    mode: DeliveryModeText | None = None
    quiet: QuietText | None = None
    """These seven, when set, stand in for `defaults:` in this chat until it chooses itself."""

    @model_validator(mode="after")
    def _exactly_one_chat(self) -> SubscriptionConfig:
        if (self.telegram is None) == (self.slack is None):
            raise ValueError("give exactly one of `telegram: CHAT_ID` or `slack: CHANNEL_ID`")
        if not self.topics and not self.keywords:
            raise ValueError("give `topics:` or `keywords:`")
        return self

    @property
    def platform(self) -> Platform:
        return Platform.TELEGRAM if self.telegram is not None else Platform.SLACK

    @property
    def chat_id(self) -> str:
        return str(self.telegram if self.telegram is not None else self.slack)

    @property
    def recipient(self) -> Recipient:
        return Recipient(self.platform, self.chat_id, str(self.thread or ""))

    @property
    def choices(self) -> Choices:
        shown = self.timezone, self.format, self.image, self.preview, self.language
        return Choices(*shown, self.mode, self.quiet)


class Admins(_Strict):
    telegram: tuple[TelegramId, ...] = ()
    slack: tuple[str, ...] = ()


MAX_STORY_WINDOW = 7 * 86400.0
"""Reports of one event come within hours or days; each story of the window is in memory."""


class StoriesConfig(_Strict):
    enabled: bool = True
    """Group reports of one event from many feeds: one alert, then edits naming more sources."""
    window: Seconds = Field(default=36 * 3600.0, gt=0)
    """How long after its latest report a story can still be joined."""
    realert: tuple[str, ...] = ("breaking",)
    """Topics that make a later report a new alert when the story did not have them yet."""

    @field_validator("window")
    @classmethod
    def _days_at_most(cls, value: float) -> float:
        if value > MAX_STORY_WINDOW:
            raise ValueError("at most 7d: the stories of the window are held in memory")
        return value


_TOPIC_ID = re.compile(r"[\w.-]+")


class Config(_Strict):
    version: Literal[1]
    defaults: Defaults = Defaults()
    stories: StoriesConfig = StoriesConfig()
    admins: Admins = Admins()
    feeds: tuple[FeedConfig, ...] = ()
    hosts: dict[HostName, HostConfig] = {}
    topics: dict[Word, TopicConfig] = {}
    subscriptions: tuple[SubscriptionConfig, ...] = ()

    @field_validator("topics")
    @classmethod
    def _one_word_ids(cls, value: dict[str, TopicConfig]) -> dict[str, TopicConfig]:
        for topic_id in value:
            if not _TOPIC_ID.fullmatch(topic_id):
                raise ValueError(
                    f"{topic_id!r}: a topic is one word people type after /subscribe: letters, "
                    "digits, '.', '-' and '_'"
                )
        return value

    @field_validator("feeds", "subscriptions", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return () if value is None else value

    @field_validator("topics", "hosts", mode="before")
    @classmethod
    def _no_topics_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def holds_alerts(self) -> bool:
        """Whether `defaults:` or a subscription sets a digest mode or quiet hours: a chat that
        chose neither may then have its alerts held."""
        settings: list[str | None] = [self.defaults.mode, self.defaults.quiet]
        settings += [value for sub in self.subscriptions for value in (sub.mode, sub.quiet)]
        return any(settings)

    def feed_interval(self, feed: FeedConfig) -> float:
        return feed.interval if feed.interval is not None else self.defaults.interval

    def explicit_intervals(self) -> frozenset[str]:
        """The feeds whose interval the file writes, their own or `defaults.interval`: polled
        at it as written, not held to `min_interval`."""
        everyone = "interval" in self.defaults.model_fields_set
        return frozenset(f.name for f in self.feeds if everyone or f.interval is not None)

    def topic_rules(self) -> list[TopicRule]:
        """The classifier's rules for the `topics:` section."""
        return [
            TopicRule(
                topic=topic_id,
                keywords=topic.keywords,
                exclude=topic.exclude,
                fields=topic.fields,
                title_weight=topic.title_weight,
                threshold=topic.threshold,
                lexicon=topic.lexicon,
            )
            for topic_id, topic in self.topics.items()
        ]

    def preferences(self, recipient: Recipient) -> Preferences:
        """What a chat that chose nothing itself gets: `defaults:`, overridden by what its
        entries under `subscriptions:` set."""
        preferences = self.defaults.preferences
        for sub in self.subscriptions:
            if sub.recipient == recipient:
                preferences = sub.choices.over(preferences)
        return preferences

    def topic_for(self, name: str) -> str | None:
        """The topic id that `name` (an id or an alias, any case or width: `ＡＩ` is `ai`)
        refers to."""
        wanted = unicodedata.normalize("NFKC", name).casefold()

        def spelled(word: str) -> str:
            return unicodedata.normalize("NFKC", word).casefold()

        for topic_id, topic in self.topics.items():
            if wanted == spelled(topic_id) or wanted in (spelled(a) for a in topic.aliases):
                return topic_id
        return None


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config and the file it came from."""

    config: Config
    path: Path


def load_config(path: str | Path) -> LoadedConfig:
    """Read and validate `path`; raise ConfigError naming each problem's line and key path."""
    path = Path(path)
    try:
        text = read_at_most(path, MAX_CONFIG_BYTES).decode("utf-8")
    except TooLarge as exc:
        raise ConfigError([f"{path}: {exc} (is it the config?)"]) from None
    except FileNotFoundError:
        hint = (
            "--config PATH or NEWSBOT_CONFIG names the config, subscriptions.yaml here if neither"
        )
        raise ConfigError([f"{path}: cannot read: no such file ({hint})"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    return LoadedConfig(parse_config(text, source=str(path)), path)


def parse_config(text: str, *, source: str = "subscriptions.yaml") -> Config:
    """Validate YAML `text`; `source` is the file name used in error messages."""
    # the C loader reads a valid file in a ninth of the time; the round-trip loader, which
    # knows each key's line, reads it again only to name the lines of its problems
    document = plain(load_yaml(text, source, round_trip=False), source)
    try:
        config = Config.model_validate(document)
    except ValidationError as exc:
        located = load_yaml(text, source, round_trip=True)
        errors = [(tuple(err["loc"]), plain_message(err)) for err in exc.errors(include_url=False)]
        unknown = [
            (loc, msg)
            for loc, msg in unknown_topics(document)
            if loc[:2] not in {err_loc[:2] for err_loc, _ in errors}
        ]
        raise ConfigError(locate_all(source, located, errors + unknown)) from None
    crossed = [*_cross_checks(config), *unknown_topics(document)]
    if crossed:
        located = load_yaml(text, source, round_trip=True)
        raise ConfigError(locate_all(source, located, crossed))
    return config


def _cross_checks(config: Config) -> Iterator[tuple[tuple[str | int, ...], str]]:
    seen: set[str] = set()
    for index, feed in enumerate(config.feeds):
        if feed.name in seen:
            yield ("feeds", index, "name"), f"feed name {feed.name!r} is used twice"
        seen.add(feed.name)
    names: dict[str, str] = {}
    for topic_id, topic in config.topics.items():
        for name in (topic_id, *topic.aliases):
            other = names.setdefault(name.casefold(), topic_id)
            if other != topic_id:
                yield ("topics", topic_id, "aliases"), f"{name!r} already names topic {other!r}"
