"""The fake Telegram Bot API behaves like Telegram, as seen through python-telegram-bot itself."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from tests.fakes.telegram_api import FakeTelegram, RateLimits, utf16_len
from tests.integration.driver import Clock

TOKEN = "123:ABC"
USER = 1001
OTHER_USER = 1002
GROUP = -4001
SUPERGROUP = -1004001

# RetryAfter reads its own int-valued retry_after when constructed, which PTB 22.2+ flags as
# deprecated unless PTB_TIMEDELTA is set; the tests accept either form (see seconds()).


@pytest.fixture
def clock() -> Clock:
    """Standing still until a test moves it, so the rate limits need no sleeping."""
    return Clock(10_000.0, frozen=True)


@pytest_asyncio.fixture
async def tg(clock: Clock) -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, clock=clock) as fake:
        fake.add_chat(USER, type="private", first_name="Ada")
        fake.add_chat(GROUP, type="group", title="News desk", admins=[USER], creator=OTHER_USER)
        yield fake


def bot_for(tg: FakeTelegram, token: str = TOKEN) -> telegram.Bot:
    return telegram.Bot(
        token, base_url=f"{tg.base_url}/bot", base_file_url=f"{tg.base_url}/file/bot"
    )


@pytest_asyncio.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with bot_for(tg) as the_bot:
        yield the_bot


def seconds(value: int | dtm.timedelta) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB_TIMEDELTA."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def retry_after_of(error: RetryAfter) -> float:
    return seconds(error.retry_after)


# --------------------------------------------------------------------------------------------
# Identity, transport and routing


@pytest.mark.asyncio
async def test_get_me_returns_the_bot_user(tg: FakeTelegram, bot: telegram.Bot) -> None:
    me = await bot.get_me()

    assert me.id == 123
    assert me.is_bot is True
    assert me.username == "newsbot_test_bot"
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert tg.base_url.startswith("http://127.0.0.1:")
    assert tg.requests[:2] == ["getMe", "getMe"]  # Bot.initialize() and the call above


@pytest.mark.asyncio
async def test_unknown_token_is_invalid_token(tg: FakeTelegram) -> None:
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with bot_for(tg, token="999:WRONG"):  # initialize() calls getMe
            pass

    [call] = tg.calls_to("getMe")
    assert (call.status, call.response["description"]) == (401, "Unauthorized")


@pytest.mark.asyncio
async def test_raw_errors_have_the_bot_api_shape(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{tg.base_url}/bot999:WRONG/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{tg.bot_api_url}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }


@pytest.mark.asyncio
async def test_unknown_method_through_ptb_is_endpoint_not_found(bot: telegram.Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


@pytest.mark.asyncio
async def test_json_form_and_query_bodies_are_all_accepted(tg: FakeTelegram) -> None:
    tg.rate_limits.enabled = False
    url = f"{tg.bot_api_url}/sendMessage"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"chat_id": USER, "text": "json"}) as response:
            assert response.status == 200
        async with http.post(url, data={"chat_id": str(USER), "text": "form"}) as response:
            assert response.status == 200
        form = aiohttp.FormData()
        form.add_field("chat_id", str(USER))
        form.add_field("text", "multipart")
        form.add_field(
            "reply_markup", json.dumps({"inline_keyboard": [[{"text": "a", "url": "https://e.x"}]]})
        )
        async with http.post(url, data=form()) as response:
            assert response.status == 200
        async with http.get(url, params={"chat_id": str(USER), "text": "query"}) as response:
            assert response.status == 200
            body = await response.json()

    assert [m.text for m in tg.sent_to(USER)] == ["json", "form", "multipart", "query"]
    assert tg.sent[2].reply_markup == {"inline_keyboard": [[{"text": "a", "url": "https://e.x"}]]}
    assert body["ok"] is True
    assert body["result"]["message_id"] == 4  # ids increase per chat


# --------------------------------------------------------------------------------------------
# sendMessage validation


@pytest.mark.asyncio
async def test_valid_html_message_is_accepted_and_recorded(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    html = (
        '<b>Breaking</b>: <a href="https://example.com/a?x=1&amp;y=2">EU &amp; UK</a> '
        '<i>agree</i> <tg-spoiler>deal</tg-spoiler> <span class="tg-spoiler">terms</span>\n'
        '<pre><code class="language-python">x = 1</code></pre><blockquote>quote</blockquote>'
    )
    message = await bot.send_message(USER, html, parse_mode=ParseMode.HTML)

    assert message.text == "Breaking: EU & UK agree deal terms\nx = 1quote"
    assert message.chat.id == USER
    assert message.chat.type == "private"
    assert message.from_user is not None and message.from_user.id == 123
    assert message.message_id == 1
    parsed = {e.type: text for e, text in message.parse_entities().items()}
    assert parsed == {
        MessageEntity.BOLD: "Breaking",
        MessageEntity.TEXT_LINK: "EU & UK",
        MessageEntity.ITALIC: "agree",
        MessageEntity.SPOILER: "terms",  # the later of the two spoilers wins this dict
        MessageEntity.PRE: "x = 1",
        MessageEntity.BLOCKQUOTE: "quote",
    }
    link = next(e for e in message.entities if e.type == MessageEntity.TEXT_LINK)
    assert link.url == "https://example.com/a?x=1&y=2"
    pre = next(e for e in message.entities if e.type == MessageEntity.PRE)
    assert pre.language == "python"

    [sent] = tg.sent
    assert sent.chat_id == USER
    assert sent.text == html
    assert sent.parse_mode == "HTML"
    assert sent.plain_text == message.text
    assert sent.message_thread_id is None
    assert tg.sent_to(USER) == [sent]
    assert tg.sent_to(GROUP) == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("Line one<br>Line two", 'Unsupported start tag "br" at byte offset 8'),
        ("<p>Paragraph</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>crossed</b></i>", 'Unmatched end tag at byte offset 13, expected "</i>"'),
        ("stray</b>", "Unexpected end tag at byte offset 5"),
        ("price < 5", 'Unsupported start tag "" at byte offset 6'),
        ("AT&T", 'Character "&" at byte offset 2'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_invalid_html_is_bad_request(
    tg: FakeTelegram, bot: telegram.Bot, html: str, detail: str
) -> None:
    with pytest.raises(BadRequest, match=r"^Can't parse entities: ") as caught:
        await bot.send_message(USER, html, parse_mode=ParseMode.HTML)

    assert detail.lower() in caught.value.message.lower()  # PTB re-cases the description
    assert tg.sent == []
    [call] = tg.calls_to("sendMessage")
    assert call.status == 400
    assert call.response["description"].startswith("Bad Request: can't parse entities: ")
    assert detail in call.response["description"]


@pytest.mark.asyncio
async def test_markup_is_not_parsed_without_parse_mode(tg: FakeTelegram, bot: telegram.Bot) -> None:
    message = await bot.send_message(USER, "a <br> & b")

    assert message.text == "a <br> & b"


@pytest.mark.asyncio
async def test_length_limit_counts_utf16_code_units(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.rate_limits.enabled = False
    fits = "😀" * 2048  # 2048 astral characters = 4096 UTF-16 code units
    too_long = fits + "a"
    assert (len(fits), utf16_len(fits), utf16_len(too_long)) == (2048, 4096, 4097)

    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, too_long)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, f"<b>{fits}</b>&amp;", parse_mode=ParseMode.HTML)
    message = await bot.send_message(USER, fits)
    markup_not_counted = await bot.send_message(
        USER, f"<b>{fits[:-1]}</b>&lt;&gt;", parse_mode=ParseMode.HTML
    )

    assert message.text == fits
    assert markup_not_counted.text == fits[:-1] + "<>"
    assert [m.plain_text for m in tg.sent] == [fits, fits[:-1] + "<>"]


@pytest.mark.asyncio
async def test_empty_text_is_bad_request(tg: FakeTelegram, bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(USER, "<b></b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(USER, "   ")


@pytest.mark.asyncio
async def test_unknown_chat_is_bad_request(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(777, "hello")


@pytest.mark.asyncio
async def test_oversized_callback_data_is_refused(tg: FakeTelegram, bot: telegram.Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Open", callback_data="x" * 65)]])

    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(USER, "hello", reply_markup=markup)


# --------------------------------------------------------------------------------------------
# Chat states


@pytest.mark.asyncio
async def test_blocked_user_is_forbidden(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.block(USER)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "hello")
    assert tg.sent == []


@pytest.mark.asyncio
async def test_kicked_bot_is_forbidden(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.kick(GROUP)

    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(GROUP, "hello")


@pytest.mark.asyncio
async def test_migrated_group_raises_chat_migrated(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.migrate(GROUP, SUPERGROUP)

    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(GROUP, "hello")
    assert caught.value.new_chat_id == SUPERGROUP

    message = await bot.send_message(caught.value.new_chat_id, "hello again")
    assert message.chat.type == "supergroup"
    assert message.chat.title == "News desk"
    assert [m.chat_id for m in tg.sent] == [SUPERGROUP]


@pytest.mark.asyncio
async def test_photos_upload_by_url_and_bytes_and_can_be_refused(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    tg.rate_limits.enabled = False
    by_url = await bot.send_photo(
        USER, "https://example.com/p.jpg", caption="<b>Pic</b>", parse_mode=ParseMode.HTML
    )
    uploaded = await bot.send_photo(USER, b"\xff\xd8\xff fake jpeg", caption="bytes")

    assert by_url.caption == "Pic"
    assert by_url.caption_entities[0].type == MessageEntity.BOLD
    assert len(by_url.photo) == 3
    assert tg.sent[0].photo == "https://example.com/p.jpg"
    assert tg.sent[0].caption == "<b>Pic</b>"
    assert tg.sent[0].text is None
    assert not isinstance(tg.sent[1].photo, str)
    assert tg.sent[1].photo is not None and tg.sent[1].photo.data == b"\xff\xd8\xff fake jpeg"
    assert uploaded.photo[-1].file_id != by_url.photo[-1].file_id

    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(USER, "https://example.com/p.jpg", caption="😀" * 512 + "a")
    tg.refuse_photos(USER)
    with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
        await bot.send_photo(USER, "https://example.com/p.jpg")
    assert len(tg.sent) == 2


@pytest.mark.asyncio
async def test_forum_thread_is_recorded(tg: FakeTelegram, bot: telegram.Bot) -> None:
    forum = -1009999
    tg.add_chat(forum, type="supergroup", title="Forum", is_forum=True, topics=[7])

    message = await bot.send_message(forum, "in topic", message_thread_id=7)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(forum, "nowhere", message_thread_id=8)

    assert message.message_thread_id == 7
    assert message.is_topic_message is True
    assert message.chat.is_forum is True
    assert tg.sent[0].message_thread_id == 7


# --------------------------------------------------------------------------------------------
# Flood control


@pytest.mark.asyncio
async def test_private_chat_allows_one_message_per_second(
    tg: FakeTelegram, bot: telegram.Bot, clock: Clock
) -> None:
    await bot.send_message(USER, "one")
    clock.advance(0.5)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "two")

    assert retry_after_of(caught.value) == 1
    assert tg.rejected_429 == 1
    assert tg.rejected_429_by_chat == {USER: 1}
    last = tg.calls_to("sendMessage")[-1]
    assert last.status == 429
    assert last.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }

    clock.advance(0.46)  # 0.96 s after the first send: within the 0.05 s tolerance
    await bot.send_message(USER, "two")
    assert [m.text for m in tg.sent] == ["one", "two"]
    assert tg.sent[1].at - tg.sent[0].at == pytest.approx(0.96)


@pytest.mark.asyncio
async def test_private_chat_limit_holds_on_the_real_clock() -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        fake.add_chat(USER)
        async with bot_for(fake) as real_clock_bot:
            await real_clock_bot.send_message(USER, "one")
            with pytest.raises(RetryAfter) as caught:
                await real_clock_bot.send_message(USER, "two")
    assert retry_after_of(caught.value) == 1


@pytest.mark.asyncio
async def test_private_burst_option(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.rate_limits.private_burst = 3

    for n in range(3):
        await bot.send_message(USER, f"burst {n}")
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "one too many")


@pytest.mark.asyncio
async def test_group_allows_twenty_messages_per_minute(
    tg: FakeTelegram, bot: telegram.Bot, clock: Clock
) -> None:
    for n in range(20):
        await bot.send_message(GROUP, f"item {n}")
        clock.advance(0.1)  # 20 sends over 2 s; the first leaves the window at t=60
    clock.advance(0.5)  # t = 2.5 s

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(GROUP, "item 20")
    assert retry_after_of(caught.value) == 58  # ceil(60 - 2.5)

    clock.advance(57.4)  # t = 59.9: the first send is still inside the window
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(GROUP, "item 20")
    assert retry_after_of(caught.value) == 1

    clock.advance(0.2)  # t = 60.1
    await bot.send_message(GROUP, "item 20")
    assert len(tg.sent_to(GROUP)) == 21
    assert tg.rejected_429_by_chat == {GROUP: 2}


@pytest.mark.asyncio
async def test_bot_allows_thirty_messages_per_second(
    tg: FakeTelegram, bot: telegram.Bot, clock: Clock
) -> None:
    users = list(range(2000, 2031))
    for user in users:
        tg.add_chat(user)
    for user in users[:30]:
        await bot.send_message(user, "alert")
        clock.advance(0.01)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(users[30], "alert")
    assert retry_after_of(caught.value) == 1
    assert tg.rejected_429_by_chat == {users[30]: 1}

    clock.advance(0.71)  # the first send is now 1.01 s old
    await bot.send_message(users[30], "alert")
    assert len(tg.sent) == 31


@pytest.mark.asyncio
async def test_rate_limits_can_be_configured(clock: Clock) -> None:
    limits = RateLimits(group_per_window=2, group_window=10.0)
    async with FakeTelegram(token=TOKEN, clock=clock, rate_limits=limits) as fake:
        fake.add_chat(GROUP, type="group")
        async with bot_for(fake) as configured_bot:
            await configured_bot.send_message(GROUP, "1")
            await configured_bot.send_message(GROUP, "2")
            with pytest.raises(RetryAfter) as caught:
                await configured_bot.send_message(GROUP, "3")
            assert retry_after_of(caught.value) == 10
            fake.rate_limits.enabled = False
            await configured_bot.send_message(GROUP, "3")


# --------------------------------------------------------------------------------------------
# Transient failures and bot commands


@pytest.mark.asyncio
async def test_transient_5xx_then_success(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.fail_next("sendMessage", times=2)

    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(USER, "hello")
    await bot.send_message(USER, "hello")

    assert [c.status for c in tg.calls_to("sendMessage")] == [502, 502, 200]
    assert len(tg.sent) == 1


@pytest.mark.asyncio
async def test_transient_failure_for_one_chat_only(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.fail_next("*", times=1, status=503, chat_id=GROUP)

    await bot.send_message(USER, "unaffected")
    with pytest.raises(NetworkError, match="Service Unavailable"):
        await bot.send_message(GROUP, "fails once")
    await bot.send_message(GROUP, "then works")

    assert [m.text for m in tg.sent] == ["unaffected", "then works"]


@pytest.mark.asyncio
async def test_my_commands_roundtrip_and_failure_flag(tg: FakeTelegram, bot: telegram.Bot) -> None:
    commands = [("subscribe", "Follow a topic"), ("unsubscribe", "Stop following a topic")]
    assert await bot.set_my_commands(commands) is True
    assert await bot.set_my_commands([("start", "시작")], language_code="ko") is True

    got = await bot.get_my_commands()
    assert [(c.command, c.description) for c in got] == commands
    assert tg.my_commands(language_code="ko") == [{"command": "start", "description": "시작"}]

    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Bad-Name", "x")])
    tg.fail_set_my_commands = True
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.set_my_commands(commands)
    assert tg.calls_to("setMyCommands")[-1].status == 500


# --------------------------------------------------------------------------------------------
# Updates


@pytest.mark.asyncio
async def test_get_updates_returns_pushed_command(tg: FakeTelegram, bot: telegram.Bot) -> None:
    pushed = tg.push_message(USER, USER, "/subscribe@newsbot_test_bot ai 😀 /help")

    [update] = await bot.get_updates()

    assert update.update_id == pushed["update_id"]
    message = update.message
    assert message is not None
    assert message.text == "/subscribe@newsbot_test_bot ai 😀 /help"
    assert message.from_user is not None and message.from_user.id == USER
    assert message.chat.id == USER
    commands = message.parse_entities([MessageEntity.BOT_COMMAND])
    assert list(commands.values()) == ["/subscribe@newsbot_test_bot", "/help"]
    assert message.entities[0].offset == 0
    assert message.entities[1].offset == 34  # the emoji counts two UTF-16 units


@pytest.mark.asyncio
async def test_get_updates_offset_confirms_and_keeps(tg: FakeTelegram, bot: telegram.Bot) -> None:
    first = tg.push_message(GROUP, USER, "first")
    second = tg.push_message(GROUP, OTHER_USER, "second")

    assert [u.update_id for u in await bot.get_updates()] == [
        first["update_id"],
        second["update_id"],
    ]
    assert [u.update_id for u in await bot.get_updates(offset=second["update_id"])] == [
        second["update_id"]
    ]
    assert await bot.get_updates(offset=second["update_id"] + 1) == ()
    assert tg.pending_updates == []


@pytest.mark.asyncio
async def test_get_updates_long_polls_until_an_update_arrives(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await tg.wait_until(lambda: tg.pending_polls == 1)
    tg.push_message(USER, USER, "wake up")

    updates = await asyncio.wait_for(poll, 5)

    assert [u.message.text for u in updates if u.message] == ["wake up"]
    assert loop.time() - started < 5


@pytest.mark.asyncio
async def test_get_updates_timeout_returns_empty(tg: FakeTelegram, bot: telegram.Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()

    assert await bot.get_updates(timeout=1) == ()
    assert loop.time() - started >= 0.9


@pytest.mark.asyncio
async def test_second_poller_terminates_the_first_with_conflict(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await tg.wait_until(lambda: tg.pending_polls == 1)
    async with bot_for(tg) as second_bot:
        second = asyncio.create_task(second_bot.get_updates(timeout=10))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, 5)
        tg.push_message(USER, USER, "hi")
        assert len(await asyncio.wait_for(second, 5)) == 1


@pytest.mark.asyncio
async def test_webhook_blocks_polling_until_deleted(tg: FakeTelegram, bot: telegram.Bot) -> None:
    assert await bot.set_webhook("https://bot.example.com/hook", secret_token="s3cret") is True
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example.com/hook"

    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    with pytest.raises(BadRequest, match=r"(?i)an HTTPS URL must be provided"):
        await bot.set_webhook("http://bot.example.com/hook")

    assert await bot.delete_webhook() is True
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


@pytest.mark.asyncio
async def test_callback_query_answer_and_edit(
    tg: FakeTelegram, bot: telegram.Bot, clock: Clock
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:42")]])
    sent = await bot.send_message(USER, "<b>Headline</b>", parse_mode="HTML", reply_markup=markup)
    assert sent.reply_markup == markup
    tg.push_callback_query(USER, USER, "more:42", sent.message_id)

    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "more:42"
    assert query.message is not None and query.message.message_id == sent.message_id

    assert await bot.answer_callback_query(query.id, text="Loading") is True
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query.id)
    clock.advance(1)  # an edit counts against the private chat's flood limit like a send
    edited = await bot.edit_message_text(
        "<b>Headline</b> (more)", USER, sent.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, telegram.Message)
    assert edited.text == "Headline (more)"
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>Headline</b> (more)", USER, sent.message_id, parse_mode="HTML"
        )

    assert tg.callback_answers[0].text == "Loading"
    assert [e.text for e in tg.edits] == ["<b>Headline</b> (more)"]


@pytest.mark.asyncio
async def test_edit_caption_of_a_photo_and_the_refusals_of_edits(
    tg: FakeTelegram, bot: telegram.Bot, clock: Clock
) -> None:
    photo = await bot.send_photo(GROUP, "https://img.example/a.jpg", caption="<b>One</b> source")
    text = await bot.send_message(GROUP, "Plain alert")

    edited = await bot.edit_message_caption(
        GROUP, photo.message_id, caption="<b>One</b> source, <i>and another</i>", parse_mode="HTML"
    )
    assert isinstance(edited, telegram.Message)
    assert edited.caption == "One source, and another"
    assert [e.type for e in edited.caption_entities] == ["bold", "italic"]
    assert edited.photo and edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_caption(
            GROUP,
            photo.message_id,
            caption="<b>One</b> source, <i>and another</i>",
            parse_mode="HTML",
        )
    with pytest.raises(BadRequest, match=r"(?i)there is no caption in the message to edit"):
        await bot.edit_message_caption(GROUP, text.message_id, caption="a caption")
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await bot.edit_message_text("a text", GROUP, photo.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_caption(GROUP, 9999, caption="x")
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", GROUP, 9999)
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.edit_message_caption(GROUP, photo.message_id, caption="x" * 1025)

    [edit] = tg.edits
    assert (edit.method, edit.chat_id, edit.message_id) == (
        "editMessageCaption",
        GROUP,
        photo.message_id,
    )
    assert edit.caption == "<b>One</b> source, <i>and another</i>" and edit.text is None
    assert tg.chat(GROUP).messages[photo.message_id]["caption"] == "One source, and another"
    assert len(tg.sent) == 2, "edits are not sends"


@pytest.mark.asyncio
async def test_edits_count_against_the_flood_limits(
    tg: FakeTelegram, bot: telegram.Bot, clock: Clock
) -> None:
    sent = await bot.send_message(USER, "Alert")
    with pytest.raises(RetryAfter):  # a private chat takes one message a second, edits too
        await bot.edit_message_text("Alert, updated", USER, sent.message_id)
    clock.advance(1)
    await bot.edit_message_text("Alert, updated", USER, sent.message_id)
    with pytest.raises(RetryAfter):  # the edit took this second's slot
        await bot.send_message(USER, "Next alert")

    assert tg.rejected_429_by_chat == {USER: 2}
    assert [e.text for e in tg.edits] == ["Alert, updated"]
    tg.rate_limits.group_per_window = 2
    photo = await bot.send_photo(GROUP, "https://img.example/a.jpg", caption="One")
    await bot.edit_message_caption(GROUP, photo.message_id, caption="Two")
    with pytest.raises(RetryAfter):
        await bot.edit_message_caption(GROUP, photo.message_id, caption="Three")
    assert tg.rejected_429_by_chat == {USER: 2, GROUP: 1}


# --------------------------------------------------------------------------------------------
# Chats and members


@pytest.mark.asyncio
async def test_chat_members_and_administrators(tg: FakeTelegram, bot: telegram.Bot) -> None:
    chat = await bot.get_chat(GROUP)
    admins = await bot.get_chat_administrators(GROUP)
    admin = await bot.get_chat_member(GROUP, USER)
    member = await bot.get_chat_member(GROUP, 5555)

    assert (chat.id, chat.type, chat.title) == (GROUP, "group", "News desk")
    assert [(a.user.id, a.status) for a in admins] == [
        (OTHER_USER, "creator"),
        (USER, "administrator"),
    ]
    assert isinstance(admin, telegram.ChatMemberAdministrator)
    assert admin.can_delete_messages is True
    assert isinstance(member, telegram.ChatMemberMember)
    with pytest.raises(BadRequest, match="There are no administrators in the private chat"):
        await bot.get_chat_administrators(USER)


@pytest.mark.asyncio
async def test_close_and_log_out(tg: FakeTelegram, bot: telegram.Bot) -> None:
    assert await bot.close() is True
    assert await bot.log_out() is True
    assert (tg.closed, tg.logged_out) == (True, True)


# --------------------------------------------------------------------------------------------
# Helpers


@pytest.mark.asyncio
async def test_wait_for_sent(tg: FakeTelegram, bot: telegram.Bot) -> None:
    async def send_later() -> None:
        await bot.send_message(USER, "one")
        await bot.send_message(GROUP, "two")

    task = asyncio.create_task(send_later())
    sent = await tg.wait_for_sent(2, timeout=5)
    await task

    assert [m.text for m in sent] == ["one", "two"]
    with pytest.raises(TimeoutError, match="expected 3 accepted messages"):
        await tg.wait_for_sent(3, timeout=0.1)
