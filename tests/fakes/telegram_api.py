"""A fake Telegram Bot API server that speaks real HTTP on 127.0.0.1, for python-telegram-bot.

It serves ``/bot<token>/<method>`` (GET or POST; JSON, urlencoded or multipart bodies, as
python-telegram-bot and curl send them) from an aiohttp server on an ephemeral port, so the
bot's real HTTPX request stack runs end to end. Point the bot at it with::

    telegram.Bot(token, base_url=f"{tg.base_url}/bot", base_file_url=f"{tg.base_url}/file/bot")

Results have the Bot API's JSON shapes (https://core.telegram.org/bots/api) and failures the
real service's status codes and descriptions, so python-telegram-bot raises the same
exceptions it would in production: HTML entity errors and length limits (BadRequest), blocked
users and kicked bots (Forbidden), group-to-supergroup migration (ChatMigrated), flood control
(RetryAfter) and transient 5xx (NetworkError). Everything accepted or refused is kept for
assertions. The rate-limit clock is a parameter, so flood-control tests need not sleep.

Deliberate differences from the real service:

* With ``strict_ampersand=True`` (the default) a bare ``&`` that does not start ``&lt;``,
  ``&gt;``, ``&amp;``, ``&quot;`` or a numeric reference (each ending in ``;``) is refused.
  Telegram itself keeps such an ``&`` literally; the fake is stricter so that escaping bugs
  show up in tests. Pass ``strict_ampersand=False`` for Telegram's lenient behaviour.
* ``<tg-emoji>`` is refused (bots without a Fragment username cannot use it anyway).
* Flood control counts accepted messages (sends and edits) only; refused or failed requests take
  no slot.
* Markdown/MarkdownV2 are accepted but not validated; no url/mention entities are detected
  in sent text; webhooks are recorded but nothing is delivered to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

# Documented limits (https://core.telegram.org/bots/api#sendmessage, #sendphoto,
# #inlinekeyboardbutton, #botcommand, https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
MAX_TEXT_UTF16: Final = 4096
MAX_CAPTION_UTF16: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_CALLBACK_ANSWER_TEXT: Final = 200
MAX_COMMANDS: Final = 100

Clock = Callable[[], float]
JSONDict = dict[str, Any]
ChatType = Literal["private", "group", "supergroup", "channel"]
Params = dict[str, object]
"""Request parameters as received: JSON values, form strings, or UploadedFile parts."""

_Handler = Callable[[Params], Awaitable[object]]

# Descriptions exactly as the Bot API returns them.
UNAUTHORIZED: Final = "Unauthorized"
NOT_FOUND: Final = "Not Found"
CHAT_NOT_FOUND: Final = "Bad Request: chat not found"
CHAT_ID_EMPTY: Final = "Bad Request: chat_id is empty"
TEXT_EMPTY: Final = "Bad Request: message text is empty"
TEXT_TOO_LONG: Final = "Bad Request: message is too long"
CAPTION_TOO_LONG: Final = "Bad Request: message caption is too long"
CANT_PARSE: Final = "Bad Request: can't parse entities: "
NOT_UTF8: Final = "Bad Request: text must be encoded in UTF-8"
UNSUPPORTED_PARSE_MODE: Final = "Bad Request: unsupported parse_mode"
BLOCKED: Final = "Forbidden: bot was blocked by the user"
MIGRATED: Final = "Bad Request: group chat was upgraded to a supergroup chat"
WRONG_FILE: Final = "Bad Request: wrong file identifier/HTTP URL specified"
NO_PHOTO: Final = "Bad Request: there is no photo in the request"
THREAD_NOT_FOUND: Final = "Bad Request: message thread not found"
BUTTON_DATA_INVALID: Final = "Bad Request: BUTTON_DATA_INVALID"
BAD_MARKUP: Final = "Bad Request: can't parse reply keyboard markup JSON object"
MESSAGE_TO_EDIT_NOT_FOUND: Final = "Bad Request: message to edit not found"
MESSAGE_CANT_BE_EDITED: Final = "Bad Request: message can't be edited"
NO_TEXT_TO_EDIT: Final = "Bad Request: there is no text in the message to edit"
NO_CAPTION_TO_EDIT: Final = "Bad Request: there is no caption in the message to edit"
NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
NO_ADMINS_IN_PRIVATE: Final = "Bad Request: there are no administrators in the private chat"
CONFLICT_POLLING: Final = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK: Final = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_KICKED: Final[Mapping[str, str]] = {
    "group": "Forbidden: bot was kicked from the group chat",
    "supergroup": "Forbidden: bot was kicked from the supergroup chat",
    "channel": "Forbidden: bot is not a member of the channel chat",
}

_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
_BOT_COMMAND_IN_TEXT_RE: Final = re.compile(
    r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])"
)
_TG_USER_LINK_RE: Final = re.compile(r"tg://user\?id=(\d+)")
_WEBHOOK_PORTS: Final = frozenset({80, 88, 443, 8443})
_DEFAULT_UPDATE_TYPES: Final = frozenset(
    {"message", "edited_message", "channel_post", "edited_channel_post", "callback_query"}
)


# --------------------------------------------------------------------------------------------
# Records the tests read


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request (e.g. a photo uploaded as bytes)."""

    field_name: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass(frozen=True)
class SentMessage:
    """One message the fake accepted (sendMessage or sendPhoto), or one accepted edit
    (editMessageText or editMessageCaption; ``message`` is then the Message after the edit)."""

    method: str
    """``sendMessage``, ``sendPhoto``, ``editMessageText`` or ``editMessageCaption``."""
    chat_id: int
    message_id: int
    message_thread_id: int | None
    text: str | None
    """The text exactly as sent, markup included (None for sendPhoto)."""
    caption: str | None
    """The caption exactly as sent, markup included (None for sendMessage)."""
    parse_mode: str | None
    photo: str | UploadedFile | None
    """A file_id or URL as sent, or the uploaded file."""
    reply_markup: JSONDict | None
    at: float
    """The fake's clock when the message was accepted."""
    date: int
    """Unix time put into the returned Message."""
    plain_text: str
    """Text or caption as Telegram stores it: markup stripped, HTML entities decoded."""
    entities: tuple[JSONDict, ...]
    """MessageEntity objects Telegram derived from the markup."""
    message: JSONDict
    """The Message object returned to the bot."""
    params: JSONDict = field(default_factory=dict)
    """Every argument as received, for assertions on anything not broken out above."""

    @property
    def body(self) -> str:
        """The text or caption as sent (markup included), or ``""`` for a bare photo."""
        return self.text if self.text is not None else (self.caption or "")


@dataclass(frozen=True)
class ApiCall:
    """One finished request: what was asked and what the fake answered."""

    method: str
    params: JSONDict
    status: int
    response: JSONDict


@dataclass(frozen=True)
class CallbackAnswer:
    """One accepted answerCallbackQuery."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None


@dataclass
class RateLimits:
    """Telegram's flood limits (https://core.telegram.org/bots/faq), all sliding windows.

    Per bot ``global_per_window`` messages per ``global_window`` seconds; per private chat
    ``private_burst`` messages per ``private_interval - private_tolerance`` seconds (so by
    default consecutive sends must be at least 0.95 s apart); per group or supergroup
    ``group_per_window`` messages per ``group_window`` seconds. Channels have only the
    global limit. Mutate ``tg.rate_limits`` at any time; ``enabled=False`` turns them off.
    """

    enabled: bool = True
    global_per_window: int = 30
    global_window: float = 1.0
    private_burst: int = 1
    private_interval: float = 1.0
    private_tolerance: float = 0.05
    group_per_window: int = 20
    group_window: float = 60.0


@dataclass
class FakeChat:
    """A chat the bot knows. Fields may be changed directly by a test."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False
    admins: list[int] = field(default_factory=list)
    creator: int | None = None
    topics: set[int] | None = None
    """Forum topic thread ids; None accepts any message_thread_id."""
    blocked: bool = False
    kicked: bool = False
    migrated_to: int | None = None
    refuse_photos: bool = False
    messages: dict[int, JSONDict] = field(default_factory=dict)
    """Every message in the chat by message_id, the bot's and pushed ones."""
    next_message_id: int = 1

    def to_json(self) -> JSONDict:
        """The Chat object as it appears inside a Message."""
        chat: JSONDict = {"id": self.id, "type": self.type}
        if self.type == "private":
            chat["first_name"] = self.first_name or f"User {self.id}"
            if self.last_name:
                chat["last_name"] = self.last_name
        else:
            chat["title"] = self.title or f"Chat {self.id}"
        if self.username:
            chat["username"] = self.username
        if self.is_forum:
            chat["is_forum"] = True
        return chat


@dataclass
class _FailRule:
    method: str
    remaining: int
    status: int
    chat_id: int | None


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        description: str,
        *,
        parameters: JSONDict | None = None,
        chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.chat_id = chat_id

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters is not None:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class _Described:
    """A result that carries the top-level ``description`` some methods return with ok=true."""

    result: object
    description: str


# --------------------------------------------------------------------------------------------
# Telegram's HTML parse mode


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; the message is what follows "can't parse entities: "."""


@dataclass(frozen=True)
class ParsedText:
    """Text as Telegram stores it after parsing markup, with the entities it derived."""

    text: str
    entities: tuple[JSONDict, ...] = ()


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    out_index: int


_SUPPORTED_TAGS: Final = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del"}
    | {"code", "pre", "blockquote", "tg-spoiler", "span"}
)
_SIMPLE_ENTITY_TYPES: Final[Mapping[str, str]] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES: Final[Mapping[str, str]] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES: Final = " \t\r\n\v\f"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts limits and offsets in."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _decode_entity(text: str, pos: int, *, strict: bool) -> tuple[str, int] | None:
    """Decode the character reference starting at ``text[pos] == "&"``, like tdlib.

    Returns the character and the index after the reference, or None if there is none.
    tdlib makes the ``;`` optional; ``strict`` requires it.
    """
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        hexadecimal = end < n and text[end] == "x"
        if hexadecimal:
            end += 1
        digits_start = end
        allowed = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while end < n and text[end] in allowed:
            end += 1
        if end == digits_start or end - pos >= 10:
            return None
        code = int(text[digits_start:end], 16 if hexadecimal else 10)
        if code == 0 or code >= 0x10FFFF:
            return None
        char = chr(code)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and text[end] == ";":
        end += 1
    elif strict:
        return None
    return char, end


def parse_html(
    text: str,
    *,
    strict_ampersand: bool = True,
    resolve_user: Callable[[int], JSONDict] | None = None,
) -> ParsedText:
    """Parse Telegram's HTML parse mode like tdlib does, or raise HtmlParseError.

    Supported tags: b strong i em u ins s strike del a(href) code(class="language-x") pre
    blockquote(expandable) tg-spoiler span(class="tg-spoiler"); tag and attribute names are
    case-insensitive. Entity offsets and lengths are in UTF-16 code units. Error messages
    follow tdlib's, including UTF-8 byte offsets into the original text.
    """
    out: list[str] = []
    units = 0
    entities: list[JSONDict] = []
    stack: list[_OpenTag] = []
    n = len(text)
    i = 0
    while i < n:
        char = text[i]
        if char == "&":
            decoded = _decode_entity(text, i, strict=strict_ampersand)
            if decoded is not None:
                value, i = decoded
                if 0xD800 <= ord(value) <= 0xDFFF:
                    raise HtmlParseError(
                        "Text contains invalid Unicode characters after decoding HTML entities,"
                        " check for unmatched surrogate code units"
                    )
                out.append(value)
                units += _units(value)
                continue
            if strict_ampersand:
                raise HtmlParseError(
                    f'Character "&" at byte offset {_byte_offset(text, i)} does not start an '
                    "HTML entity and must be escaped as &amp;"
                )
        if char != "<":
            out.append(char)
            units += _units(char)
            i += 1
            continue

        begin = i
        where = _byte_offset(text, begin)
        if i + 1 < n and text[i + 1] == "/":
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {where}")
            j = i + 2
            while j < n and text[j] not in _SPACES and text[j] != ">":
                j += 1
            end_name = text[i + 2 : j].lower()
            while j < n and text[j] in _SPACES:
                j += 1
            if j >= n or text[j] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {where}")
            top = stack[-1]
            if end_name and end_name != top.name:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {where}, expected "</{top.name}>", '
                    f'found "</{end_name}>"'
                )
            stack.pop()
            _close_entity(top, units, out, entities, resolve_user)
            i = j + 1
            continue

        j = i + 1
        while j < n and text[j] not in _SPACES and text[j] != ">":
            j += 1
        if j >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {where}")
        name = text[i + 1 : j].lower()
        if name not in _SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {where}')
        argument = ""
        while True:
            while j < n and text[j] in _SPACES:
                j += 1
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {where}")
            if text[j] == ">":
                break
            attribute_start = j
            while j < n and text[j] not in _SPACES and text[j] not in "=>":
                j += 1
            attribute = text[attribute_start:j].lower()
            if not attribute:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {where}'
                )
            while j < n and text[j] in _SPACES:
                j += 1
            if j >= n:
                raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {where}')
            value = ""
            if text[j] == "=":
                j += 1
                while j < n and text[j] in _SPACES:
                    j += 1
                if j >= n:
                    raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {where}')
                if text[j] not in "'\"":
                    token_start = j
                    while j < n and ((text[j].isascii() and text[j].isalnum()) or text[j] in ".-"):
                        j += 1
                    value = text[token_start:j].lower()
                    if j < n and text[j] not in _SPACES and text[j] != ">":
                        raise HtmlParseError(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(text, token_start)}"
                        )
                else:
                    quote = text[j]
                    j += 1
                    chars: list[str] = []
                    while j < n and text[j] != quote:
                        if text[j] == "&":
                            decoded = _decode_entity(text, j, strict=strict_ampersand)
                            if decoded is not None:
                                chars.append(decoded[0])
                                j = decoded[1]
                                continue
                            if strict_ampersand:
                                raise HtmlParseError(
                                    f'Character "&" at byte offset {_byte_offset(text, j)} does'
                                    " not start an HTML entity and must be escaped as &amp;"
                                )
                        chars.append(text[j])
                        j += 1
                    if j < n:
                        j += 1
                    value = "".join(chars)
                if j >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {where}")
            if name == "a" and attribute == "href":
                argument = value
            elif name == "code" and attribute == "class" and value.startswith("language-"):
                argument = value.removeprefix("language-")
            elif name == "span" and attribute == "class" and value.startswith("tg-"):
                argument = value.removeprefix("tg-")
            elif name == "blockquote" and attribute == "expandable":
                argument = "1"
        if name == "span" and argument != "spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {where}')
        stack.append(_OpenTag(name, argument, units, len(out)))
        i = j + 1

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(out), tuple(entities))


def _close_entity(
    tag: _OpenTag,
    units: int,
    out: list[str],
    entities: list[JSONDict],
    resolve_user: Callable[[int], JSONDict] | None,
) -> None:
    offset, length = tag.utf16_offset, units - tag.utf16_offset
    if length <= 0:
        return
    span: JSONDict = {"offset": offset, "length": length}
    last = entities[-1] if entities else None
    same_span = last is not None and (last["offset"], last["length"]) == (offset, length)
    if tag.name in _SIMPLE_ENTITY_TYPES:
        entities.append({"type": _SIMPLE_ENTITY_TYPES[tag.name], **span})
    elif tag.name == "a":
        url = tag.argument or "".join(out[tag.out_index :])
        mention = _TG_USER_LINK_RE.fullmatch(url)
        if mention:
            user_id = int(mention.group(1))
            user = (
                resolve_user(user_id)
                if resolve_user
                else {"id": user_id, "is_bot": False, "first_name": ""}
            )
            entities.append({"type": "text_mention", **span, "user": user})
        elif url:
            entities.append({"type": "text_link", **span, "url": url})
    elif tag.name == "pre":
        if last is not None and same_span and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", **span})
    elif tag.name == "code":
        if last is not None and same_span and last["type"] == "pre" and tag.argument:
            last["language"] = tag.argument
        else:
            entities.append({"type": "code", **span, "language": tag.argument})
    elif tag.name == "blockquote":
        kind = "expandable_blockquote" if tag.argument else "blockquote"
        entities.append({"type": kind, **span})


def bot_command_entities(text: str) -> list[JSONDict]:
    """The bot_command entities Telegram attaches to an incoming message's text."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _BOT_COMMAND_IN_TEXT_RE.finditer(text)
    ]


# --------------------------------------------------------------------------------------------
# Parameter decoding (form values arrive as strings, JSON values as themselves)


def _opt_str(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise _ApiError(400, f'Bad Request: field "{name}" must be of type String')


def _opt_int(params: Params, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _ApiError(400, f"Bad Request: invalid {name} specified")


def _opt_float(params: Params, name: str) -> float | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise _ApiError(400, f"Bad Request: invalid {name} specified")


def _opt_bool(params: Params, name: str) -> bool:
    value = params.get(name)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1"}
    return False


def _opt_json(params: Params, name: str, error: str | None = None) -> object:
    value = params.get(name)
    if isinstance(value, str):
        if not value:
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise _ApiError(400, error or f"Bad Request: can't parse {name} JSON object") from None
    return value


def _raw_chat_id(params: Params) -> int | None:
    try:
        return _opt_int(params, "chat_id")
    except _ApiError:
        return None


def _json_safe(params: Params) -> JSONDict:
    return {
        key: (
            f"<file {value.filename or value.field_name}>"
            if isinstance(value, UploadedFile)
            else value
        )
        for key, value in params.items()
    }


_SEND_METHODS = frozenset({"sendMessage", "sendPhoto"})


def _window_wait(times: Iterable[float], now: float, window: float, limit: int) -> float | None:
    """Seconds until a sliding window of ``window`` seconds has room again, or None if it has."""
    recent = [t for t in times if t > now - window]
    if len(recent) < max(limit, 1):
        return None
    return recent[len(recent) - max(limit, 1)] + window - now


# --------------------------------------------------------------------------------------------
# The server


class FakeTelegram(LoopbackServer):
    """The fake Bot API server; use ``async with FakeTelegram(...) as tg:``.

    One bot, identified by ``token`` (the number before ``:`` is its user id). Chats must be
    added with :meth:`add_chat` before the bot can send to them; :meth:`push_message` adds
    unknown chats itself, as a user writing to the bot would. ``clock`` drives flood control
    and :attr:`SentMessage.at`; long polling and ``wait_*`` helpers use real time.
    """

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        username: str = "newsbot_test_bot",
        first_name: str = "NewsBot",
        rate_limits: RateLimits | None = None,
        strict_ampersand: bool = True,
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = False,
        clock: Clock = time.monotonic,
        port: int = 0,
    ) -> None:
        bot_id, sep, secret = token.partition(":")
        if not (sep and bot_id.isdigit() and secret):
            raise ValueError(f"token must look like '<bot id>:<secret>', got {token!r}")
        super().__init__(port=port)
        self.token = token
        self.bot_id = int(bot_id)
        self.username = username
        self.first_name = first_name
        self.can_join_groups = can_join_groups
        self.can_read_all_group_messages = can_read_all_group_messages
        self.rate_limits = rate_limits if rate_limits is not None else RateLimits()
        self.strict_ampersand = strict_ampersand
        self.fail_set_my_commands = False
        """When True, setMyCommands answers 500 Internal Server Error."""

        self.chats: dict[int, FakeChat] = {}
        self.users: dict[int, JSONDict] = {}
        self.sent: list[SentMessage] = []
        """Every accepted sendMessage/sendPhoto, in order."""
        self.edits: list[SentMessage] = []
        """Every accepted editMessageText and editMessageCaption, in order."""
        self.requests: list[str] = []
        """Method name of every request as it arrived (canonical spelling when known)."""
        self.calls: list[ApiCall] = []
        """Every finished request with its answer, in order of completion."""
        self.send_arrivals: list[float] = []
        """The fake's clock when each sendMessage or sendPhoto request arrived, accepted or
        refused (a 429 too): the rate the bot sends at, as Telegram would count it."""
        self.rejected_429 = 0
        self.rejected_429_by_chat: dict[int, int] = {}
        self.callback_answers: list[CallbackAnswer] = []
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        """setMyCommands state keyed by (scope as canonical JSON, language_code)."""
        self.webhook: JSONDict | None = None
        """The setWebhook parameters in force, or None."""
        self.closed = False
        self.logged_out = False
        self.pending_polls = 0
        """getUpdates requests currently waiting (long polling)."""

        self._clock = clock
        self._closing = False
        self._changed = asyncio.Event()
        self._fail_rules: list[_FailRule] = []
        self._updates: list[JSONDict] = []
        self._next_update_id = 100_000_001
        self._allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self._open_callback_queries: dict[str, JSONDict] = {}
        self._next_callback_query = 1
        self._next_file = 1
        self._photo_files: dict[str, list[JSONDict]] = {}
        self._global_sends: deque[float] = deque()
        self._chat_sends: dict[int, deque[float]] = {}

        self._methods: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler)
            for name, handler in (
                ("getMe", self._get_me),
                ("getUpdates", self._get_updates),
                ("setWebhook", self._set_webhook),
                ("deleteWebhook", self._delete_webhook),
                ("getWebhookInfo", self._get_webhook_info),
                ("setMyCommands", self._set_my_commands),
                ("getMyCommands", self._get_my_commands),
                ("deleteMyCommands", self._delete_my_commands),
                ("sendMessage", self._send_message),
                ("sendPhoto", self._send_photo),
                ("editMessageText", self._edit_message_text),
                ("editMessageCaption", self._edit_message_caption),
                ("answerCallbackQuery", self._answer_callback_query),
                ("getChat", self._get_chat),
                ("getChatMember", self._get_chat_member),
                ("getChatAdministrators", self._get_chat_administrators),
                ("close", self._close),
                ("logOut", self._log_out),
            )
        }

    # -- lifecycle ---------------------------------------------------------------------------

    handler_cancellation = True  # a long poll ends when its client goes
    shutdown_timeout = 2.0

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._handle_unrouted)
        return app

    async def start(self) -> None:
        """Bind 127.0.0.1 on an ephemeral port and start serving."""
        self._closing = False
        self._changed = asyncio.Event()
        await super().start()

    async def close(self) -> None:
        """Release waiting long polls and stop the server."""
        self._closing = True
        self._notify()
        await super().close()

    @property
    def bot_api_url(self) -> str:
        """``{base_url}/bot{token}``, for raw HTTP requests."""
        return f"{self.base_url}/bot{self.token}"

    @property
    def bot_user(self) -> JSONDict:
        """The bot's User object as getMe returns it."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # -- configuring the world ---------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        type: ChatType = "private",
        *,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        is_forum: bool = False,
        admins: Iterable[int] = (),
        creator: int | None = None,
        topics: Iterable[int] | None = None,
    ) -> FakeChat:
        """Make a chat known to the bot (replacing any chat with that id) and return it.

        Private chats have positive ids (the user's id); groups, supergroups and channels
        negative ones. ``is_forum`` and ``topics`` only apply to supergroups.
        """
        if type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {type!r}")
        if (type == "private") != (chat_id > 0):
            raise ValueError(
                f"a {type} chat id must be {'positive' if type == 'private' else 'negative'}"
            )
        if (is_forum or topics is not None) and type != "supergroup":
            raise ValueError("only a supergroup can be a forum")
        if type == "private":
            user = self.users.get(chat_id)
            if user is None or first_name or last_name or username:
                user = self.add_user(
                    chat_id, first_name=first_name, last_name=last_name, username=username
                )
            first_name, last_name = user["first_name"], user.get("last_name")
            username = user.get("username")
        chat = FakeChat(
            id=chat_id,
            type=type,
            title=title if type != "private" else None,
            username=username,
            first_name=first_name if type == "private" else None,
            last_name=last_name if type == "private" else None,
            is_forum=is_forum,
            admins=list(admins),
            creator=creator,
            topics=set(topics) if topics is not None else None,
        )
        self.chats[chat_id] = chat
        return chat

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_bot: bool = False,
    ) -> JSONDict:
        """Register (or update) a user; unknown users are invented on first use."""
        user: JSONDict = {
            "id": user_id,
            "is_bot": is_bot,
            "first_name": first_name or f"User {user_id}",
        }
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        return user

    def chat(self, chat_id: int) -> FakeChat:
        """The known chat with this id (KeyError if none)."""
        return self.chats[chat_id]

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: sends to this private chat answer 403."""
        chat = self.chat(chat_id)
        if chat.type != "private":
            raise ValueError("only a user in a private chat can block the bot")
        chat.blocked = True
        self._membership(chat, chat_id, "member", "kicked")

    def unblock(self, chat_id: int) -> None:
        self.chat(chat_id).blocked = False
        self._membership(self.chat(chat_id), chat_id, "kicked", "member")

    def kick(self, chat_id: int, *, by: int | None = None) -> None:
        """The bot is removed from this group, supergroup or channel: requests answer 403. Like
        block() and the un-doing of either, it queues the ``my_chat_member`` update Telegram
        sends (delivered when the bot asks for that kind)."""
        chat = self.chat(chat_id)
        if chat.type == "private":
            raise ValueError("the bot cannot be kicked from a private chat; use block()")
        chat.kicked = True
        self._membership(
            chat, by if by is not None else (chat.creator or chat_id), "member", "kicked"
        )

    def leave(self, chat_id: int) -> None:
        """The bot leaves a group (its `my_chat_member` says `left`, as when a basic group is
        upgraded to a supergroup); sends to it answer 403."""
        chat = self.chat(chat_id)
        chat.kicked = True
        self._membership(chat, chat.creator or chat_id, "member", "left")

    def unkick(self, chat_id: int) -> None:
        chat = self.chat(chat_id)
        chat.kicked = False
        self._membership(chat, chat.creator or chat_id, "kicked", "member")

    def _membership(self, chat: FakeChat, by: int, old: str, new: str) -> None:
        def member(status: str) -> JSONDict:
            # a ChatMemberBanned carries `until_date` (0: for ever)
            return {"user": self.bot_user, "status": status} | (
                {"until_date": 0} if status == "kicked" else {}
            )

        self._enqueue(
            "my_chat_member",
            {
                "chat": chat.to_json(),
                "from": self._user(by),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def migrate(self, chat_id: int, new_id: int, *, by: int | None = None) -> FakeChat:
        """Upgrade a group to a supergroup with ``new_id``; the old id then answers 400 with
        ``parameters.migrate_to_chat_id``. With ``by`` (the user who upgraded it), the two
        service messages Telegram then sends are queued: ``migrate_to_chat_id`` in the group,
        ``migrate_from_chat_id`` in the supergroup. Returns the (new or existing) supergroup."""
        old = self.chat(chat_id)
        if old.type != "group":
            raise ValueError("only a basic group can be upgraded to a supergroup")
        old.migrated_to = new_id
        new = self.chats.get(new_id) or self.add_chat(
            new_id,
            "supergroup",
            title=old.title,
            admins=old.admins,
            creator=old.creator,
        )
        if by is not None:
            for chat, field, other in (
                (old, "migrate_to_chat_id", new_id),
                (new, "migrate_from_chat_id", chat_id),
            ):
                message = self._new_message(chat, self._user(by), None)
                message[field] = other
                self._enqueue("message", message)
        return new

    def refuse_photos(self, chat_id: int, refuse: bool = True) -> None:
        """sendPhoto to this chat answers 400 wrong file identifier/HTTP URL specified."""
        self.chat(chat_id).refuse_photos = refuse

    def fail_next(
        self, method: str, times: int = 1, status: int = 502, *, chat_id: int | None = None
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ("*" for any) with HTTP ``status``,
        then behave normally; with ``chat_id`` only calls addressed to that chat fail.
        A 429 carries ``retry_after`` 1 and is counted in :attr:`rejected_429`."""
        self._fail_rules.append(_FailRule(method.lower(), times, status, chat_id))

    def reset_rate_limits(self) -> None:
        """Forget all past sends, so every flood-control window is empty."""
        self._global_sends.clear()
        self._chat_sends.clear()

    # -- incoming updates --------------------------------------------------------------------

    def push_message(
        self,
        chat_id: int,
        from_user_id: int,
        text: str,
        message_thread_id: int | None = None,
        *,
        entities: Iterable[JSONDict] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> JSONDict:
        """Queue an Update with a user's text Message (``channel_post`` in a channel).

        Bot commands in ``text`` get ``bot_command`` entities unless ``entities`` is given;
        ``extra`` is merged into the Message. Returns the Update.
        """
        chat = self._ensure_chat(chat_id)
        message = self._new_message(chat, self._user(from_user_id), message_thread_id)
        message["text"] = text
        found = list(entities) if entities is not None else bot_command_entities(text)
        if found:
            message["entities"] = found
        if extra:
            message.update(extra)
        chat.messages[message["message_id"]] = message
        return self._enqueue("channel_post" if chat.type == "channel" else "message", message)

    def push_callback_query(
        self, chat_id: int, from_user_id: int, data: str, message_id: int
    ) -> JSONDict:
        """Queue an Update with a CallbackQuery from a button on ``message_id``. Returns it."""
        chat = self._ensure_chat(chat_id)
        message = chat.messages.get(message_id) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat.to_json(),
            "from": self._bot_sender(),
        }
        query_id = str(4_000_000_000_000_000 + self._next_callback_query)
        self._next_callback_query += 1
        query: JSONDict = {
            "id": query_id,
            "from": self._user(from_user_id),
            "message": message,
            "chat_instance": str(abs(chat.id) * 7_919 + self.bot_id),
            "data": data,
        }
        self._open_callback_queries[query_id] = query
        return self._enqueue("callback_query", query)

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    # -- reading what happened ---------------------------------------------------------------

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.sent if m.chat_id == chat_id]

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def my_commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """The commands setMyCommands stored for this scope and language."""
        return list(self.commands.get((_scope_key(scope), language_code), []))

    async def wait_for_sent(self, n: int, timeout: float = 5.0) -> list[SentMessage]:  # noqa: ASYNC109
        """Wait until at least ``n`` messages were accepted; return all accepted so far."""
        try:
            await self.wait_until(lambda: len(self.sent) >= n, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"expected {n} accepted messages within {timeout}s, got {len(self.sent)}; "
                f"requests so far: {self.requests}"
            ) from None
        return list(self.sent)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``predicate()`` holds; it is re-checked whenever the fake's state changes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            await self._wait_change(remaining)

    # -- HTTP ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        asked = request.match_info["method"]
        known = self._methods.get(asked.lower())
        method = known[0] if known else asked
        self.requests.append(method)
        if method in _SEND_METHODS:
            self.send_arrivals.append(self._clock())
        self._notify()
        params: Params = {}
        try:
            if request.match_info["token"] != self.token:
                raise _ApiError(401, UNAUTHORIZED)
            if known is None:
                raise _ApiError(404, NOT_FOUND)
            params = await _read_params(request)
            self._inject_failure(method, params)
            result = await known[1](params)
        except _ApiError as error:
            status, body = error.status, error.body()
            if error.status == 429:
                self.rejected_429 += 1
                if error.chat_id is not None:
                    counts = self.rejected_429_by_chat
                    counts[error.chat_id] = counts.get(error.chat_id, 0) + 1
        else:
            status = 200
            if isinstance(result, _Described):
                body = {"ok": True, "result": result.result, "description": result.description}
            else:
                body = {"ok": True, "result": result}
        self.calls.append(ApiCall(method, _json_safe(params), status, body))
        self._notify()
        return web.json_response(body, status=status)

    async def _handle_unrouted(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": NOT_FOUND}, status=404
        )

    def _inject_failure(self, method: str, params: Params) -> None:
        for rule in self._fail_rules:
            if rule.remaining <= 0 or rule.method not in ("*", method.lower()):
                continue
            if rule.chat_id is not None and rule.chat_id != _raw_chat_id(params):
                continue
            rule.remaining -= 1
            try:
                phrase = HTTPStatus(rule.status).phrase
            except ValueError:
                phrase = "Error"
            if rule.status == 429:
                raise _ApiError(
                    429,
                    "Too Many Requests: retry after 1",
                    parameters={"retry_after": 1},
                    chat_id=_raw_chat_id(params),
                )
            raise _ApiError(rule.status, phrase)

    # -- state helpers -------------------------------------------------------------------------

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_change(self, seconds: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    def _user(self, user_id: int) -> JSONDict:
        if user_id == self.bot_id:
            return self._bot_sender()
        return self.users.get(user_id) or self.add_user(user_id)

    def _bot_sender(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _ensure_chat(self, chat_id: int) -> FakeChat:
        if chat_id in self.chats:
            return self.chats[chat_id]
        if chat_id > 0:
            return self.add_chat(chat_id, "private")
        kind: ChatType = "supergroup" if str(chat_id).startswith("-100") else "group"
        return self.add_chat(chat_id, kind)

    def _enqueue(self, kind: str, payload: JSONDict) -> JSONDict:
        update: JSONDict = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        if kind in self._allowed_updates:
            self._updates.append(update)
        self._notify()
        return update

    def _new_message(self, chat: FakeChat, sender: JSONDict, thread_id: int | None) -> JSONDict:
        message: JSONDict = {
            "message_id": chat.next_message_id,
            "date": int(time.time()),
            "chat": chat.to_json(),
        }
        chat.next_message_id += 1
        if chat.type == "channel":
            message["sender_chat"] = chat.to_json()
        else:
            message["from"] = sender
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.is_forum:
                message["is_topic_message"] = True
        return message

    def _find_chat(self, params: Params) -> FakeChat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _ApiError(400, CHAT_ID_EMPTY)
        chat: FakeChat | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            chat = self.chats.get(raw)
        elif isinstance(raw, str):
            value = raw.strip()
            if value.startswith("@"):
                name = value[1:].lower()
                chat = next(
                    (c for c in self.chats.values() if (c.username or "").lower() == name), None
                )
            else:
                try:
                    chat = self.chats.get(int(value))
                except ValueError:
                    chat = None
        if chat is None:
            raise _ApiError(400, CHAT_NOT_FOUND)
        return chat

    def _check_access(self, chat: FakeChat, *, sending: bool) -> None:
        if chat.migrated_to is not None:
            raise _ApiError(400, MIGRATED, parameters={"migrate_to_chat_id": chat.migrated_to})
        if chat.kicked:
            raise _ApiError(403, _KICKED.get(chat.type, _KICKED["group"]))
        if sending and chat.blocked:
            raise _ApiError(403, BLOCKED)

    def _thread_id(self, chat: FakeChat, params: Params) -> int | None:
        thread_id = _opt_int(params, "message_thread_id")
        if thread_id is None:
            return None
        if chat.is_forum and chat.topics is not None and thread_id not in chat.topics:
            raise _ApiError(400, THREAD_NOT_FOUND)
        return thread_id

    def _parse(self, text: str, parse_mode: str | None) -> ParsedText:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _ApiError(400, NOT_UTF8) from None
        if not parse_mode:
            return ParsedText(text)
        mode = parse_mode.lower()
        if mode == "html":
            try:
                return parse_html(
                    text, strict_ampersand=self.strict_ampersand, resolve_user=self._user
                )
            except HtmlParseError as error:
                raise _ApiError(400, CANT_PARSE + str(error)) from None
        if mode in ("markdown", "markdownv2"):
            return ParsedText(text)
        raise _ApiError(400, UNSUPPORTED_PARSE_MODE)

    def _reply_markup(self, params: Params) -> JSONDict | None:
        markup = _opt_json(params, "reply_markup", BAD_MARKUP)
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _ApiError(400, BAD_MARKUP)
        rows = markup.get("inline_keyboard")
        if rows is not None:
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _ApiError(400, BAD_MARKUP)
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not button.get("text"):
                        raise _ApiError(400, "Bad Request: can't parse inline keyboard button")
                    data = button.get("callback_data")
                    if data is not None and not (
                        isinstance(data, str)
                        and 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                    ):
                        raise _ApiError(400, BUTTON_DATA_INVALID)
        return markup

    def _enforce_rate_limits(self, chat: FakeChat) -> float:
        """Raise 429 if sending to ``chat`` now would break a flood limit; return now."""
        now = self._clock()
        limits = self.rate_limits
        if not limits.enabled:
            return now
        sends = self._chat_sends.get(chat.id, ())
        waits = [
            _window_wait(self._global_sends, now, limits.global_window, limits.global_per_window)
        ]
        if chat.type == "private":
            window = limits.private_interval - limits.private_tolerance
            waits.append(_window_wait(sends, now, window, limits.private_burst))
        elif chat.type in ("group", "supergroup"):
            waits.append(_window_wait(sends, now, limits.group_window, limits.group_per_window))
        longest = max((w for w in waits if w is not None), default=None)
        if longest is not None:
            retry_after = max(1, math.ceil(round(longest, 6)))
            raise _ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                parameters={"retry_after": retry_after},
                chat_id=chat.id,
            )
        return now

    def _record_send(self, chat: FakeChat, now: float) -> None:
        limits = self.rate_limits
        horizon = now - max(limits.global_window, limits.private_interval, limits.group_window, 1.0)
        chat_sends = self._chat_sends.setdefault(chat.id, deque())
        for times in (self._global_sends, chat_sends):
            times.append(now)
            while times and times[0] <= horizon:
                times.popleft()

    def _accept(
        self,
        method: str,
        chat: FakeChat,
        message: JSONDict,
        params: Params,
        parsed: ParsedText,
        now: float,
        *,
        photo: str | UploadedFile | None = None,
        reply_markup: JSONDict | None = None,
    ) -> SentMessage:
        record = SentMessage(
            method=method,
            chat_id=chat.id,
            message_id=message["message_id"],
            message_thread_id=message.get("message_thread_id"),
            text=_opt_str(params, "text") if method in ("sendMessage", "editMessageText") else None,
            caption=(
                _opt_str(params, "caption")
                if method in ("sendPhoto", "editMessageCaption")
                else None
            ),
            parse_mode=_opt_str(params, "parse_mode"),
            photo=photo,
            reply_markup=reply_markup,
            at=now,
            date=int(message.get("edit_date") or message["date"]),
            plain_text=parsed.text,
            entities=parsed.entities,
            message=message,
            params=_json_safe(params),
        )
        (self.edits if method.startswith("edit") else self.sent).append(record)
        self._notify()
        return record

    def _photo_sizes(self, source: str | UploadedFile) -> list[JSONDict]:
        if isinstance(source, str) and source in self._photo_files:
            return self._photo_files[source]
        n = self._next_file
        self._next_file += 1
        sizes: list[JSONDict] = [
            {
                "file_id": f"AgACAgIAAxkDAAIB{n:08d}{width}x{height}",
                "file_unique_id": f"AQAD{n:08d}{width}",
                "width": width,
                "height": height,
                "file_size": width * height // 8,
            }
            for width, height in ((90, 60), (320, 213), (800, 533))
        ]
        for size in sizes:
            self._photo_files[size["file_id"]] = sizes
        return sizes

    # -- Bot API methods -------------------------------------------------------------------------

    async def _get_me(self, params: Params) -> object:
        return self.bot_user

    async def _get_updates(self, params: Params) -> object:
        if self.webhook is not None:
            raise _ApiError(409, CONFLICT_WEBHOOK)
        offset = _opt_int(params, "offset") or 0
        limit = min(max(_opt_int(params, "limit") or 100, 1), 100)
        timeout = max(_opt_float(params, "timeout") or 0.0, 0.0)
        allowed = _opt_json(params, "allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = (
                frozenset(str(kind) for kind in allowed) if allowed else _DEFAULT_UPDATE_TYPES
            )
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._updates = [u for u in self._updates if _update_kind(u) in self._allowed_updates]

        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll now ends with 409, as on Telegram
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self.pending_polls += 1
        try:
            while True:
                if generation != self._poll_generation:
                    raise _ApiError(409, CONFLICT_POLLING)
                batch = self._updates[:limit]
                if batch or self._closing:
                    return batch
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                await self._wait_change(remaining)
        finally:
            self.pending_polls -= 1

    async def _set_webhook(self, params: Params) -> object:
        url = _opt_str(params, "url") or ""
        if not url:
            return await self._delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise _ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if (parts.port or 443) not in _WEBHOOK_PORTS:
            raise _ApiError(
                400,
                "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
            )
        secret = _opt_str(params, "secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.fullmatch(secret):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        if _opt_bool(params, "drop_pending_updates"):
            self._updates.clear()
        already = self.webhook is not None and self.webhook.get("url") == url
        self.webhook = _json_safe(params)
        return _Described(True, "Webhook is already set" if already else "Webhook was set")

    async def _delete_webhook(self, params: Params) -> object:
        if _opt_bool(params, "drop_pending_updates"):
            self._updates.clear()
        existed, self.webhook = self.webhook is not None, None
        return _Described(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    async def _get_webhook_info(self, params: Params) -> object:
        info: JSONDict = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook is not None:
            info["url"] = self.webhook["url"]
            info["max_connections"] = _opt_int(self.webhook, "max_connections") or 40
            if self.webhook.get("ip_address"):
                info["ip_address"] = self.webhook["ip_address"]
            allowed = _opt_json(self.webhook, "allowed_updates")
            if isinstance(allowed, list):
                info["allowed_updates"] = allowed
        return info

    async def _set_my_commands(self, params: Params) -> object:
        if self.fail_set_my_commands:
            raise _ApiError(500, "Internal Server Error")
        commands = _opt_json(params, "commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise _ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        stored: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _ApiError(400, "Bad Request: can't parse BotCommand")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _ApiError(400, "Bad Request: command description is empty")
            stored.append({"command": name, "description": description})
        self.commands[self._commands_key(params)] = stored
        return True

    async def _get_my_commands(self, params: Params) -> object:
        return list(self.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: Params) -> object:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _commands_key(self, params: Params) -> tuple[str, str]:
        scope = _opt_json(params, "scope")
        if scope is not None and not isinstance(scope, dict):
            raise _ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
        return _scope_key(scope), _opt_str(params, "language_code") or ""

    async def _send_message(self, params: Params) -> object:
        chat = self._find_chat(params)
        self._check_access(chat, sending=True)
        thread_id = self._thread_id(chat, params)
        text = _opt_str(params, "text")
        if not text:
            raise _ApiError(400, TEXT_EMPTY)
        parsed = self._parse(text, _opt_str(params, "parse_mode"))
        if not parsed.text.strip():
            raise _ApiError(400, TEXT_EMPTY)
        if utf16_len(parsed.text) > MAX_TEXT_UTF16:
            raise _ApiError(400, TEXT_TOO_LONG)
        markup = self._reply_markup(params)
        now = self._enforce_rate_limits(chat)

        message = self._new_message(chat, self._bot_sender(), thread_id)
        message["text"] = parsed.text
        if parsed.entities:
            message["entities"] = list(parsed.entities)
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        chat.messages[message["message_id"]] = message
        self._record_send(chat, now)
        self._accept("sendMessage", chat, message, params, parsed, now, reply_markup=markup)
        return message

    async def _send_photo(self, params: Params) -> object:
        chat = self._find_chat(params)
        self._check_access(chat, sending=True)
        thread_id = self._thread_id(chat, params)
        caption = _opt_str(params, "caption") or ""
        parsed = self._parse(caption, _opt_str(params, "parse_mode"))
        if utf16_len(parsed.text) > MAX_CAPTION_UTF16:
            raise _ApiError(400, CAPTION_TOO_LONG)
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = params.get(photo.removeprefix("attach://"))
        if not isinstance(photo, str | UploadedFile) or not photo:
            raise _ApiError(400, NO_PHOTO)
        if chat.refuse_photos:
            raise _ApiError(400, WRONG_FILE)
        markup = self._reply_markup(params)
        now = self._enforce_rate_limits(chat)

        message = self._new_message(chat, self._bot_sender(), thread_id)
        message["photo"] = self._photo_sizes(photo)
        if parsed.text:
            message["caption"] = parsed.text
        if parsed.entities:
            message["caption_entities"] = list(parsed.entities)
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        chat.messages[message["message_id"]] = message
        self._record_send(chat, now)
        self._accept(
            "sendPhoto", chat, message, params, parsed, now, photo=photo, reply_markup=markup
        )
        return message

    async def _edit_message_text(self, params: Params) -> object:
        return self._edit(params, "text")

    async def _edit_message_caption(self, params: Params) -> object:
        return self._edit(params, "caption")

    def _edit(self, params: Params, part: Literal["text", "caption"]) -> object:
        """editMessageText (``part="text"``) or editMessageCaption: checked like a send, and
        counted against the same flood limits once accepted."""
        new = _opt_str(params, part)
        if _opt_str(params, "inline_message_id"):
            if part == "text" and not new:
                raise _ApiError(400, TEXT_EMPTY)
            self._parse(new or "", _opt_str(params, "parse_mode"))
            return True
        chat = self._find_chat(params)
        self._check_access(chat, sending=True)
        message_id = _opt_int(params, "message_id")
        if message_id is None:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None:
            raise _ApiError(400, MESSAGE_TO_EDIT_NOT_FOUND)
        if chat.type != "channel" and message.get("from", {}).get("id") != self.bot_id:
            raise _ApiError(400, MESSAGE_CANT_BE_EDITED)
        if part == "text" and "text" not in message:
            raise _ApiError(400, NO_TEXT_TO_EDIT)
        if part == "caption" and "text" in message:
            raise _ApiError(400, NO_CAPTION_TO_EDIT)
        if part == "text" and not new:
            raise _ApiError(400, TEXT_EMPTY)
        parsed = self._parse(new or "", _opt_str(params, "parse_mode"))
        if part == "text" and not parsed.text.strip():
            raise _ApiError(400, TEXT_EMPTY)
        if part == "text" and utf16_len(parsed.text) > MAX_TEXT_UTF16:
            raise _ApiError(400, TEXT_TOO_LONG)
        if part == "caption" and utf16_len(parsed.text) > MAX_CAPTION_UTF16:
            raise _ApiError(400, CAPTION_TOO_LONG)
        markup = self._reply_markup(params)
        new_markup = markup if markup is not None and "inline_keyboard" in markup else None
        entities_key = "entities" if part == "text" else "caption_entities"
        if (
            message.get(part, "") == parsed.text
            and message.get(entities_key, []) == list(parsed.entities)
            and message.get("reply_markup") == new_markup
        ):
            raise _ApiError(400, NOT_MODIFIED)
        now = self._enforce_rate_limits(chat)
        message.pop(part, None)
        if parsed.text:
            message[part] = parsed.text
        message.pop(entities_key, None)
        if parsed.entities:
            message[entities_key] = list(parsed.entities)
        message.pop("reply_markup", None)
        if new_markup is not None:
            message["reply_markup"] = new_markup
        message["edit_date"] = int(time.time())
        self._record_send(chat, now)
        method = "editMessageText" if part == "text" else "editMessageCaption"
        self._accept(method, chat, message, params, parsed, now, reply_markup=markup)
        return message

    async def _answer_callback_query(self, params: Params) -> object:
        query_id = _opt_str(params, "callback_query_id") or ""
        if self._open_callback_queries.pop(query_id, None) is None:
            raise _ApiError(400, QUERY_INVALID)
        text = _opt_str(params, "text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_TEXT:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=query_id,
                text=text,
                show_alert=_opt_bool(params, "show_alert"),
                url=_opt_str(params, "url"),
                cache_time=_opt_int(params, "cache_time"),
            )
        )
        return True

    async def _get_chat(self, params: Params) -> object:
        chat = self._find_chat(params)
        self._check_access(chat, sending=False)
        info = chat.to_json()
        info.update(
            {
                "accent_color_id": abs(chat.id) % 7,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return info

    async def _get_chat_member(self, params: Params) -> object:
        chat = self._find_chat(params)
        self._check_access(chat, sending=False)
        user_id = _opt_int(params, "user_id")
        if user_id is None:
            raise _ApiError(400, "Bad Request: invalid user_id specified")
        return self._member(chat, user_id)

    async def _get_chat_administrators(self, params: Params) -> object:
        chat = self._find_chat(params)
        self._check_access(chat, sending=False)
        if chat.type == "private":
            raise _ApiError(400, NO_ADMINS_IN_PRIVATE)
        ids = ([chat.creator] if chat.creator is not None else []) + [
            a for a in chat.admins if a != chat.creator
        ]
        return [self._member(chat, user_id) for user_id in ids]

    def _member(self, chat: FakeChat, user_id: int) -> JSONDict:
        user = self._user(user_id)
        if chat.type != "private" and user_id == chat.creator:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if chat.type == "private" or user_id not in chat.admins:
            return {"status": "member", "user": user}
        member: JSONDict = {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": True,
            "can_edit_stories": True,
            "can_delete_stories": True,
        }
        if chat.type == "channel":
            member.update(can_post_messages=True, can_edit_messages=True)
        else:
            member["can_pin_messages"] = True
        if chat.type == "supergroup":
            member["can_manage_topics"] = chat.is_forum
        return member

    async def _close(self, params: Params) -> object:
        self.closed = True
        return True

    async def _log_out(self, params: Params) -> object:
        self.logged_out = True
        return True


def _update_kind(update: Mapping[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def _scope_key(scope: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(scope) if scope else {"type": "default"}, sort_keys=True)


async def _read_params(request: web.Request) -> Params:
    """Query string plus body, whatever encoding the client chose."""
    params: Params = dict(request.query)
    if not request.body_exists:
        return params
    content_type = request.content_type
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                params[name] = UploadedFile(
                    field_name=name,
                    filename=value.filename,
                    content_type=value.content_type,
                    data=value.file.read(),
                )
            elif isinstance(value, str):
                params[name] = value
            else:
                params[name] = bytes(value).decode("utf-8", "replace")
        return params
    raw = await request.read()
    if not raw.strip():
        return params
    try:
        body = json.loads(raw)
    except ValueError:
        if content_type == "application/json":
            raise _ApiError(400, "Bad Request: can't parse JSON request body") from None
        return params
    if not isinstance(body, dict):
        raise _ApiError(400, "Bad Request: JSON request body must be an object")
    params.update(body)
    return params
