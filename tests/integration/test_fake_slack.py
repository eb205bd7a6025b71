"""The fake Slack Web API behaves like Slack, as seen through slack_sdk's own client."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import pytest_asyncio
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_signing import signed_slash_command
from tests.integration.driver import Clock

TOKEN = "xoxb-test"
NEWS = "C0NEWS"
SECRET = "test-signing-secret"


@pytest.fixture
def clock() -> Clock:
    """Standing still until a test moves it, so the rate limits need no sleeping."""
    return Clock(1_700_000_000.0, frozen=True)


@pytest_asyncio.fixture
async def slack(clock: Clock) -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=TOKEN, clock=clock) as fake:
        fake.add_channel(NEWS, name="news")
        yield fake


def client_for(slack: FakeSlack, token: str = TOKEN, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.api_url, **kwargs)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.mark.asyncio
async def test_auth_test_identifies_the_bot(slack: FakeSlack) -> None:
    response = await client_for(slack).auth_test()

    assert response["ok"] is True
    assert response["user_id"] == slack.bot_user_id
    assert response["bot_id"] == slack.bot_id
    assert response["team_id"] == slack.team_id
    assert response["url"].startswith("https://")


@pytest.mark.asyncio
async def test_post_message_with_blocks_is_accepted_and_recorded(slack: FakeSlack) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "[속보] AI 정책금융 3.5조"}},
        section("<https://example.com/a|AI 정책금융> 3.5조원 투입"),
    ]

    response = await client_for(slack).chat_postMessage(
        channel=NEWS,
        text="AI 정책금융 3.5조원",
        blocks=blocks,
        unfurl_links=False,
        unfurl_media=False,
    )

    assert response["channel"] == NEWS
    assert response["message"]["blocks"] == blocks
    assert response["message"]["text"] == "AI 정책금융 3.5조원"
    [posted] = slack.posted_to(NEWS)
    assert posted.ts == response["ts"]
    assert posted.blocks == blocks
    assert posted.text == "AI 정책금융 3.5조원"
    assert posted.unfurl_links is False
    assert posted.unfurl_media is False
    assert posted.thread_ts is None


@pytest.mark.asyncio
async def test_channel_name_and_form_encoded_arguments_work_like_slack(slack: FakeSlack) -> None:
    # slack_sdk sends data= as a form; blocks then travel as a JSON string.
    response = await client_for(slack).api_call(
        "chat.postMessage",
        data={"channel": "#news", "blocks": '[{"type": "divider"}]', "thread_ts": "1.000001"},
    )

    assert response["channel"] == NEWS
    [posted] = slack.posted
    assert posted.blocks == [{"type": "divider"}]
    assert posted.thread_ts == "1.000001"


@pytest.mark.asyncio
async def test_unknown_channel_is_channel_not_found(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client_for(slack).chat_postMessage(channel="C0NOWHERE", text="hi")

    assert caught.value.response["error"] == "channel_not_found"
    assert slack.posted == []


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
@pytest.mark.parametrize(
    ("setup", "arguments", "error"),
    [
        ("archived", {"text": "hi"}, "is_archived"),
        ("not_member", {"text": "hi"}, "not_in_channel"),
        ("removed", {"text": "hi"}, "channel_not_found"),
        (None, {}, "no_text"),
        (None, {"text": "t", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
        (None, {"text": "t", "blocks": [section("x" * 3001)]}, "invalid_blocks"),
        (None, {"text": "x" * 40_001}, "msg_too_long"),
    ],
)
async def test_post_message_is_refused_like_slack(
    slack: FakeSlack, setup: str | None, arguments: dict[str, Any], error: str
) -> None:
    # The no_text case makes slack_sdk warn before sending; that warning is the point.
    if setup == "archived":
        slack.archive(NEWS)
    elif setup == "not_member":
        slack.add_channel(NEWS, name="news", member=False)
    elif setup == "removed":
        slack.remove_channel(NEWS)

    with pytest.raises(SlackApiError) as caught:
        await client_for(slack).chat_postMessage(channel=NEWS, **arguments)

    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == error
    assert slack.posted == []


@pytest.mark.asyncio
async def test_limits_are_inclusive(slack: FakeSlack, clock: Clock) -> None:
    client = client_for(slack)
    await client.chat_postMessage(channel=NEWS, text="t", blocks=[section("x" * 3000)] * 50)
    clock.advance(1)
    await client.chat_postMessage(channel=NEWS, text="x" * 40_000)

    assert len(slack.posted) == 2


@pytest.mark.asyncio
async def test_burst_over_the_channel_rate_is_answered_with_429_and_retry_after(
    slack: FakeSlack, clock: Clock
) -> None:
    client = client_for(slack, retry_handlers=[])
    await client.chat_postMessage(channel=NEWS, text="1")
    await client.chat_postMessage(channel=NEWS, text="2")

    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=NEWS, text="3")

    response = caught.value.response
    assert response.status_code == 429
    assert response["error"] == "ratelimited"
    assert int(response.headers["Retry-After"]) >= 1
    assert slack.rejected_429 == 1
    assert slack.rejected_429_by_channel == {NEWS: 1}
    assert [m.text for m in slack.posted] == ["1", "2"]

    # Another channel has its own budget; the limited one recovers after Retry-After.
    slack.add_channel("C0OTHER", name="other")
    await client.chat_postMessage(channel="C0OTHER", text="elsewhere")
    clock.advance(int(response.headers["Retry-After"]))
    await client.chat_postMessage(channel=NEWS, text="3")
    assert [m.text for m in slack.posted_to(NEWS)] == ["1", "2", "3"]


@pytest.mark.asyncio
async def test_chat_update_edits_the_bots_message_and_is_recorded(
    slack: FakeSlack, clock: Clock
) -> None:
    client = client_for(slack)
    posted = await client.chat_postMessage(channel=NEWS, text="AI 정책 (one source)")
    clock.advance(1)

    blocks = [section("<https://a.example/1|AI 정책> — also on <https://b.example/2|B>")]
    response = await client.chat_update(
        channel=NEWS, ts=posted["ts"], text="AI 정책 (two sources)", blocks=blocks
    )

    assert response["ok"] is True
    assert (response["channel"], response["ts"]) == (NEWS, posted["ts"])
    assert response["message"]["blocks"] == blocks
    [update] = slack.updates
    assert (update.channel, update.ts, update.text) == (NEWS, posted["ts"], "AI 정책 (two sources)")
    assert update.blocks == blocks and update.at == clock()
    assert slack.updates_to(NEWS, posted["ts"]) == [update]
    assert slack.message(NEWS, posted["ts"]) == update, "the message reads as updated"
    assert [m.text for m in slack.posted] == ["AI 정책 (one source)"], "an update is no post"


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
async def test_chat_update_is_refused_like_slack(slack: FakeSlack) -> None:
    client = client_for(slack)
    posted = await client.chat_postMessage(channel=NEWS, text="mine")
    someone = slack.add_message_from(NEWS, "U0ALICE")
    slack.add_channel("C0OTHER", name="other")

    async def refusal(**arguments: Any) -> str:
        with pytest.raises(SlackApiError) as caught:
            await client.chat_update(**arguments)
        return str(caught.value.response["error"])

    assert await refusal(channel="C0GONE", ts=posted["ts"], text="x") == "channel_not_found"
    assert await refusal(channel="#news", ts=posted["ts"], text="x") == "channel_not_found"
    assert await refusal(channel=NEWS, ts="1.000001", text="x") == "message_not_found"
    assert await refusal(channel="C0OTHER", ts=posted["ts"], text="x") == "message_not_found"
    assert await refusal(channel=NEWS, ts=someone, text="x") == "cant_update_message"
    assert await refusal(channel=NEWS, ts=posted["ts"], text="x" * 40_001) == "msg_too_long"
    assert await refusal(channel=NEWS, ts=posted["ts"]) == "no_text"
    assert slack.updates == []
    assert slack.message(NEWS, posted["ts"]).text == "mine"


@pytest.mark.asyncio
async def test_chat_update_shares_the_channels_rate_limit_with_posts(
    slack: FakeSlack, clock: Clock
) -> None:
    client = client_for(slack, retry_handlers=[])
    first = await client.chat_postMessage(channel=NEWS, text="1")
    await client.chat_update(channel=NEWS, ts=first["ts"], text="1, updated")

    with pytest.raises(SlackApiError) as caught:  # the burst of 2 is spent: one post, one update
        await client.chat_update(channel=NEWS, ts=first["ts"], text="1, again")
    assert caught.value.response.status_code == 429
    assert int(caught.value.response.headers["Retry-After"]) >= 1
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=NEWS, text="2")

    assert slack.rejected_429_by_channel == {NEWS: 2}
    clock.advance(1)
    await client.chat_update(channel=NEWS, ts=first["ts"], text="1, again")
    assert [u.text for u in slack.updates] == ["1, updated", "1, again"]


@pytest.mark.asyncio
async def test_bad_token_is_invalid_auth(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client_for(slack, token="xoxb-wrong").chat_postMessage(channel=NEWS, text="hi")

    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == "invalid_auth"
    assert slack.posted == []


@pytest.mark.asyncio
async def test_inactive_account_is_account_inactive(slack: FakeSlack) -> None:
    slack.account_inactive = True

    with pytest.raises(SlackApiError) as caught:
        await client_for(slack).auth_test()

    assert caught.value.response["error"] == "account_inactive"


@pytest.mark.asyncio
async def test_socket_mode_needs_an_app_level_token(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client_for(slack).apps_connections_open(app_token=TOKEN)

    assert caught.value.response["error"] == "not_allowed_token_type"


@pytest.mark.asyncio
async def test_fail_next_gives_transient_failures_then_recovers(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", times=1, status=503)
    client = client_for(slack)

    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=NEWS, text="hi")
    assert caught.value.response.status_code == 503

    await client.chat_postMessage(channel=NEWS, text="hi")
    assert len(slack.posted) == 1


@pytest.mark.asyncio
async def test_conversations_and_users_info(slack: FakeSlack) -> None:
    slack.add_user("U0ALICE", name="alice", real_name="Alice Kim")
    client = client_for(slack)

    channel = await client.conversations_info(channel=NEWS)
    user = await client.users_info(user="U0ALICE")

    assert channel["channel"]["name"] == "news"
    assert channel["channel"]["is_member"] is True
    assert user["user"]["real_name"] == "Alice Kim"
    with pytest.raises(SlackApiError) as caught:
        await client.users_info(user="U0NOBODY")
    assert caught.value.response["error"] == "user_not_found"


@pytest.mark.asyncio
async def test_response_url_records_posted_bodies(slack: FakeSlack) -> None:
    webhook = AsyncWebhookClient(slack.response_url("cmd-1"))

    result = await webhook.send(text="subscribed", response_type="ephemeral")

    assert result.status_code == 200
    assert slack.responses("cmd-1") == [{"text": "subscribed", "response_type": "ephemeral"}]


@pytest.mark.asyncio
async def test_wait_for_posts_times_out_with_what_arrived(slack: FakeSlack) -> None:
    with pytest.raises(TimeoutError, match="expected 1 posted messages, got 0"):
        await slack.wait_for_posts(1, timeout=0.05)


def test_signed_slash_command_verifies_with_slack_sdk() -> None:
    body, headers = signed_slash_command(
        SECRET,
        command="/subscribe",
        text="AI 정책금융",
        channel_id=NEWS,
        user_id="U0ALICE",
        response_url="https://hooks.slack.com/commands/T0001/1/abc",
    )

    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
    assert not verifier.is_valid_request(body.replace(b"subscribe", b"unsubscribe"), headers)
    fields = parse_qs(body.decode("ascii"))
    assert fields["text"] == ["AI 정책금융"]
    assert fields["command"] == ["/subscribe"]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_stale_signed_slash_command_is_refused() -> None:
    body, headers = signed_slash_command(
        SECRET,
        command="/subscribe",
        text="ai",
        channel_id=NEWS,
        user_id="U0ALICE",
        response_url="https://hooks.slack.com/commands/T0001/1/abc",
        timestamp=int(time.time()) - 10 * 60,
    )

    assert not SignatureVerifier(SECRET).is_valid_request(body, headers)


@pytest.mark.asyncio
async def test_bolt_answers_a_signed_slash_command_through_the_fake(slack: FakeSlack) -> None:
    app = AsyncApp(token=TOKEN, signing_secret=SECRET, client=client_for(slack))

    @app.command("/subscribe")
    async def subscribe(ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]) -> None:
        """Acknowledge, then answer through the response_url."""
        await ack()
        await respond(f"subscribed to {command['text']}")

    body, headers = signed_slash_command(
        SECRET,
        command="/subscribe",
        text="ai",
        channel_id=NEWS,
        user_id="U0ALICE",
        response_url=slack.response_url("cmd-2"),
    )
    response = await app.async_dispatch(
        AsyncBoltRequest(body=body.decode("ascii"), headers=dict(headers))
    )

    assert response.status == 200
    [answer] = await slack.wait_for_responses("cmd-2", 1)
    assert answer["text"] == "subscribed to ai"
