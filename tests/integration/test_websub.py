"""WebSub push against a real hub (Flask-WebSub, in a process of its own), on SQLite and
PostgreSQL: discovery on a poll, subscription and verification of intent, signed pushes into a
fake Telegram chat, refused forgeries, thin pings, lease renewal, unsubscription of a removed
feed, and the fallback to polling while a hub is out of reach."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from bot.app import App
from bot.commands.requests import CommandRequest
from bot.config import LoadedConfig, parse_config
from bot.models import Platform
from bot.settings import Settings
from bot.status import collect_status, format_status
from bot.store.websub import PushState, PushSubscription
from bot.websub import PushTiming
from tests.fakes.feed_server import FeedServer, rss
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.websub_hub import HubProcess
from tests.helpers import OLD_ITEMS, config_yaml, eventually, free_port

TOKEN = "4242:TEST_secret-token_value"
CHAT = 5005
FEED = "news.xml"
FAST = PushTiming(tick=0.2, verify_wait=5.0, retry_first=0.5, retry_max=2.0, shortest_renewal=1.0)


def ai_item(n: int) -> dict[str, str]:
    return {
        "title": f"AI 정책금융 {n}조 원 지원 발표",
        "link": f"https://news.example/ai-{n}",
        "guid": f"ai-{n}",
        "description": f"정부가 인공지능(AI) 기업에 {n}조 원을 지원한다.",
    }


@dataclass
class Rig:
    app: App
    feeds: FeedServer
    tg: FakeTelegram
    hub_url: str
    port: int

    @property
    def topic(self) -> str:
        return self.feeds.url(FEED)

    def publish(self, items: list[dict[str, str]]) -> None:
        """Serve the feed with these items, naming its hub and itself in a Link header."""
        link = f'<{self.hub_url}>; rel="hub", <{self.topic}>; rel="self"'
        self.feeds.publish(FEED, rss(items), headers={"Link": link})

    async def announce(self) -> None:
        """What a publisher does after an update: tell the hub (which fetches and pushes)."""
        async with httpx.AsyncClient() as client:
            response = await client.post(
                self.hub_url, data={"hub.mode": "publish", "hub.topic": self.topic}
            )
        assert response.status_code == 202, response.text

    async def subscription(self) -> PushSubscription | None:
        assert self.app.store is not None
        subs = await self.app.store.websub.all()
        return subs[0] if subs else None

    async def active(self, within: float = 15.0) -> PushSubscription:
        async def verified() -> bool:
            sub = await self.subscription()
            return sub is not None and sub.state is PushState.ACTIVE

        await eventually(verified, within=within, what="a verified subscription")
        sub = await self.subscription()
        assert sub is not None
        return sub

    async def poll(self) -> None:
        """Poll the feed now, whether it is due or not."""
        assert self.app.store is not None and self.app.poller is not None
        feed = await self.app.store.feeds.get("local")
        assert feed is not None
        await self.app.poller.poll(feed)

    def chat_texts(self) -> list[str]:
        return [m.plain_text for m in self.tg.sent_to(CHAT)]

    def bot_fetches(self) -> int:
        """Requests for the feed made by the bot (the hub's own fetches are not counted)."""
        return sum(
            1
            for r in self.feeds.requests_to(FEED)
            if r.headers.get("User-Agent", "").startswith("newsbot/")
        )


def hub_rows(hub: HubProcess) -> list[tuple[str, str, int]]:
    """(topic, callback, expiration time) of each subscription the hub holds."""
    with sqlite3.connect(hub.database) as conn:
        return list(conn.execute("select topic_url, callback_url, expiration_time from hub"))


def loaded(feed_url: str | None) -> LoadedConfig:
    feeds = f'  - {{name: local, url: "{feed_url}", interval: 5m}}\n' if feed_url else ""
    text = config_yaml(feeds) + f"subscriptions:\n  - {{telegram: {CHAT}, topics: [ai]}}\n"
    text += f"admins: {{telegram: [{CHAT}]}}\n"
    return LoadedConfig(parse_config(text), Path("subscriptions.yaml"))


@asynccontextmanager
async def running_bot(
    database_url: str,
    feeds: FeedServer,
    tg: FakeTelegram,
    hub_url: str,
    *,
    port: int | None = None,
    timing: PushTiming = FAST,
) -> AsyncIterator[Rig]:
    port = port or free_port()
    settings = Settings(
        database_url=database_url,
        telegram_bot_token=TOKEN,
        telegram_api_url=tg.base_url,
        http_port=port,
        public_url=f"http://127.0.0.1:{port}",
    )
    rig = Rig(App(settings, loaded(feeds.url(FEED)), push_timing=timing), feeds, tg, hub_url, port)
    if FEED not in "".join(feeds.documents):
        rig.publish(OLD_ITEMS)
    await rig.app.start()
    try:
        await rig.app.start_services()
        yield rig
    finally:
        await rig.app.stop_services()
        await rig.app.close()


@asynccontextmanager
async def fakes(
    tmp_path: Path, **hub_options: object
) -> AsyncIterator[tuple[FeedServer, FakeTelegram, HubProcess]]:
    async with FeedServer() as feeds, FakeTelegram(TOKEN) as tg:
        tg.add_chat(CHAT)
        async with HubProcess(tmp_path, **hub_options) as hub:  # type: ignore[arg-type]
            yield feeds, tg, hub


def signed(body: bytes, secret: str, algorithm: str = "sha256") -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    return {"X-Hub-Signature": f"{algorithm}={digest}", "Content-Type": "application/rss+xml"}


async def test_a_poll_finds_the_hub_and_a_published_item_is_pushed_into_the_chat(
    tmp_path: Path, database_url: str
) -> None:
    async with (
        fakes(tmp_path) as (feeds, tg, hub),
        running_bot(database_url, feeds, tg, hub.url) as rig,
    ):
        await rig.active()  # the first scheduled poll found the Link header's hub
        await eventually(lambda: len(hub_rows(hub)) == 1, what="the hub's subscription")
        [(topic, callback, _)] = hub_rows(hub)
        sub = await rig.subscription()
        assert sub is not None and sub.feed_name == "local"
        assert (
            topic == rig.topic
            and callback == f"http://127.0.0.1:{rig.port}/websub/{sub.callback_token}"
        )
        assert sub.lease_expires_at is not None and sub.lease_expires_at > time.time() + 800000
        fetched = rig.bot_fetches()

        rig.publish([ai_item(1), *OLD_ITEMS])
        published = time.monotonic()
        await rig.announce()
        await eventually(
            lambda: len(rig.chat_texts()) == 1, within=10, what="the pushed alert", describe=hub.log
        )
        print(f"publish to chat through the hub: {time.monotonic() - published:.2f}s")
        assert "AI 정책금융 1조 원" in rig.chat_texts()[0]
        assert rig.bot_fetches() == fetched  # it came by push, not by a poll

        await rig.announce()  # the same document again: deduped, nothing more
        accepted_twice = 'newsbot_websub_pushes_total{outcome="accepted"} 2.0'

        async def pushed_twice() -> bool:
            return accepted_twice in await metrics(rig)

        await eventually(pushed_twice, what="the second push")
        assert len(rig.chat_texts()) == 1

        # a pushed feed is still polled, but hourly
        assert rig.app.store is not None
        await rig.poll()
        feed = await rig.app.store.feeds.get("local")
        assert feed is not None and feed.next_poll_at is not None
        assert feed.next_poll_at - time.time() > 3500

        status = await collect_status(rig.app.store)
        push = status["feeds"][0]["push"]
        assert push["pushed"] and push["hub"] == hub.url and push["lease_expires"]
        assert "push local: pushed, lease until" in format_status(status)
        feeds_command = CommandRequest(Platform.TELEGRAM, str(CHAT), str(CHAT), "feeds")
        reply = await rig.app.commands_for(Platform.TELEGRAM).handle(feeds_command)
        assert f"local [ok] {rig.topic} (pushed, lease until 20" in reply.text
        page = await metrics(rig)
        assert 'newsbot_websub_lease_expiry_timestamp_seconds{feed="local"}' in page
        assert 'newsbot_websub_subscriptions{state="active"} 1.0' in page


async def metrics(rig: Rig) -> str:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"http://127.0.0.1:{rig.port}/metrics")).text


async def test_forged_pushes_are_refused_and_counted_and_a_thin_ping_fetches(
    tmp_path: Path, database_url: str
) -> None:
    async with (
        fakes(tmp_path) as (feeds, tg, hub),
        running_bot(database_url, feeds, tg, hub.url) as rig,
    ):
        sub = await rig.active()
        callback = f"http://127.0.0.1:{rig.port}/websub/{sub.callback_token}"
        rig.publish([ai_item(2), *OLD_ITEMS])
        document = rss([ai_item(2), *OLD_ITEMS]).encode()
        forgeries = [
            {"Content-Type": "application/rss+xml"},  # no signature
            signed(document, "not-the-secret"),
            signed(document, sub.secret, "md5"),  # not an algorithm WebSub names
            signed(document + b" ", sub.secret),  # the body changed after signing
            {"X-Hub-Signature": "sha256=\u00e9".encode()},  # no hex (compare_digest raised)
        ]
        async with httpx.AsyncClient() as client:
            for headers in forgeries:
                response = await client.post(callback, content=document, headers=headers)
                assert response.status_code == 403
            # the verification of intent checks topic and mode, and that we asked
            challenge = {"hub.challenge": "xyz", "hub.lease_seconds": "60"}
            wrong_topic = {**challenge, "hub.mode": "subscribe", "hub.topic": rig.topic + "?x"}
            not_asked = {**challenge, "hub.mode": "unsubscribe", "hub.topic": rig.topic}
            for params in (wrong_topic, not_asked):
                response = await client.get(callback, params=params)
                assert response.status_code == 404 and "xyz" not in response.text
            unknown = f"http://127.0.0.1:{rig.port}/websub/no-such-token"
            response = await client.post(unknown, content=document, headers=signed(document, "x"))
            assert response.status_code == 410
            # a NUL in the token: PostgreSQL refused the query (500 and a traceback)
            nul = f"http://127.0.0.1:{rig.port}/websub/a%00b"
            response = await client.post(nul, content=document, headers=signed(document, "x"))
            assert response.status_code == 410
            response = await client.get(nul, params={**challenge, "hub.mode": "subscribe"})
            assert response.status_code == 404
            # the body is capped like a fetched feed's
            big = b"x" * (10 * 1024 * 1024 + 1)
            response = await client.post(callback, content=big, headers=signed(big, sub.secret))
            assert response.status_code == 413
        assert rig.chat_texts() == []
        page = await metrics(rig)
        assert 'newsbot_websub_pushes_total{outcome="too_large"} 1.0' in page
        assert 'newsbot_websub_pushes_total{outcome="bad_signature"} 5.0' in page
        assert 'newsbot_websub_pushes_total{outcome="gone"} 2.0' in page

        # the hub signed with sha512: a sha1 signature is a downgrade, refused even when valid
        async with httpx.AsyncClient() as client:
            await rig.announce()
            await eventually(lambda: len(rig.chat_texts()) == 1, what="the hub's push")
            sha1 = signed(document, sub.secret, "sha1")
            response = await client.post(callback, content=document, headers=sha1)
            assert response.status_code == 403

            # a thin ping (an empty signed body) makes the bot fetch the feed itself
            rig.publish([ai_item(3), ai_item(2), *OLD_ITEMS])
            fetched = rig.bot_fetches()
            response = await client.post(callback, content=b"", headers=signed(b"", sub.secret))
            assert response.status_code == 202
        await eventually(lambda: len(rig.chat_texts()) == 2, what="the thin ping's alert")
        assert "AI 정책금융 3조 원" in rig.chat_texts()[1]
        assert rig.bot_fetches() == fetched + 1
        page = await metrics(rig)
        assert 'newsbot_websub_pushes_total{outcome="thin"} 1.0' in page
        assert 'newsbot_websub_pushes_total{outcome="bad_signature"} 6.0' in page

        # a hub that denies the subscription is asked again later (polling meanwhile)
        subscribes = hub.log().count("tasks.subscribe_0[")
        async with httpx.AsyncClient() as client:
            # its reason is one clean line (a NUL failed on PostgreSQL, a newline forged a line)
            reason = "full\x00\nWARNING forged"
            denied = {"hub.mode": "denied", "hub.topic": rig.topic, "hub.reason": reason}
            response = await client.get(callback, params=denied)
        assert response.status_code == 200
        denied_at = time.time()
        ended = await rig.subscription()  # before it is asked again (half a second later)
        assert not ended.pushed(denied_at), "a denied subscription's lease is over at once"

        def asked_again() -> bool:
            return hub.log().count("tasks.subscribe_0[") > subscribes

        await eventually(asked_again, what="a new subscription request after the denial")
        await rig.active()


async def test_a_verification_nobody_asked_for_moves_no_lease(
    tmp_path: Path, database_url: str
) -> None:
    """A hub may confirm what it holds; a GET to the callback outside our own request (anyone
    holding its address) must not set the lease nor push the renewal off by years."""
    async with (
        fakes(tmp_path) as (feeds, tg, hub),
        running_bot(database_url, feeds, tg, hub.url) as rig,
    ):
        before = await rig.active()
        callback = f"http://127.0.0.1:{rig.port}/websub/{before.callback_token}"
        query = {
            "hub.mode": "subscribe",
            "hub.topic": rig.topic,
            "hub.challenge": "c-123",
            "hub.lease_seconds": "9999999999",
        }
        async with httpx.AsyncClient() as client:
            answer = await client.get(callback, params=query)
        assert (answer.status_code, answer.text) == (200, "c-123")
        after = await rig.subscription()
        assert after is not None
        assert (after.lease_expires_at, after.next_action_at) == (
            before.lease_expires_at,
            before.next_action_at,
        )


async def test_a_short_lease_is_renewed_before_it_ends_and_pushes_go_on(
    tmp_path: Path, database_url: str
) -> None:
    # renewed halfway through a 4 s lease: a loaded test machine still renews in time
    timing = replace(FAST, renew_share=0.5)
    async with (
        fakes(tmp_path, lease=4) as (feeds, tg, hub),
        running_bot(database_url, feeds, tg, hub.url, timing=timing) as rig,
    ):
        first = await rig.active()
        assert first.lease_seconds == 4 and first.lease_expires_at is not None

        async def renewed_twice() -> bool:
            sub = await rig.subscription()
            return (
                sub is not None
                and sub.lease_expires_at is not None
                and sub.lease_expires_at > first.lease_expires_at + 3
            )

        await eventually(renewed_twice, within=20, what="two renewals", describe=hub.log)
        assert time.time() > first.lease_expires_at  # the first lease is over
        [(_, _, expires)] = hub_rows(hub)
        assert expires > time.time()  # and the hub holds a current one
        rig.publish([ai_item(4), *OLD_ITEMS])
        await rig.announce()  # a hub pushes only to subscriptions whose lease runs
        await eventually(lambda: len(rig.chat_texts()) == 1, what="a push after renewals")


async def test_a_removed_feed_is_unsubscribed_at_its_hub(tmp_path: Path, database_url: str) -> None:
    async with (
        fakes(tmp_path) as (feeds, tg, hub),
        running_bot(database_url, feeds, tg, hub.url) as rig,
    ):
        sub = await rig.active()
        await eventually(lambda: len(hub_rows(hub)) == 1, what="the hub's subscription")
        await rig.app.apply_config(loaded(None))  # the feed is gone from the config

        async def dropped() -> bool:
            sub = await rig.subscription()
            return sub is not None and sub.state is PushState.UNSUBSCRIBED and hub_rows(hub) == []

        await eventually(dropped, within=15, what="the unsubscription", describe=hub.log)
        document = rss([ai_item(5)]).encode()
        callback = f"http://127.0.0.1:{rig.port}/websub/{sub.callback_token}"
        async with httpx.AsyncClient() as client:
            response = await client.post(
                callback, content=document, headers=signed(document, sub.secret)
            )
        assert response.status_code == 410  # a straggling push tells its hub to stop
        assert rig.chat_texts() == []

        # listed again, the feed is subscribed again at the hub it named
        await rig.app.apply_config(loaded(rig.topic))
        again = await rig.active()
        assert again.id == sub.id and again.hub == hub.url
        await eventually(lambda: len(hub_rows(hub)) == 1, what="the hub's new subscription")


async def test_an_unreachable_hub_falls_back_to_polling_and_is_retried(
    tmp_path: Path, database_url: str
) -> None:
    hub_port = free_port()
    hub_url = f"http://127.0.0.1:{hub_port}/hub"
    async with FeedServer() as feeds, FakeTelegram(TOKEN) as tg:
        tg.add_chat(CHAT)
        async with running_bot(database_url, feeds, tg, hub_url) as rig:
            rig.publish(OLD_ITEMS)
            assert rig.app.store is not None

            async def retried() -> bool:
                sub = await rig.subscription()
                return sub is not None and sub.failures >= 2

            await eventually(retried, what="two failed subscription attempts")
            sub = await rig.subscription()
            assert sub is not None and sub.state is PushState.PENDING
            assert "ConnectError" in (sub.last_error or "")
            await rig.poll()  # polled at its own interval (5 minutes), not hourly
            feed = await rig.app.store.feeds.get("local")
            assert feed is not None and feed.next_poll_at is not None
            assert feed.next_poll_at - time.time() < 400
            status = await collect_status(rig.app.store)
            assert "subscription failing" in format_status(status)

            async with HubProcess(tmp_path, port=hub_port):  # the hub comes back
                sub = await rig.active(within=20)
                assert sub.failures == 0 and sub.last_error is None


async def test_any_process_answers_the_hub_and_a_restart_keeps_the_subscription(
    tmp_path: Path, database_url: str
) -> None:
    async with fakes(tmp_path) as (feeds, tg, hub):
        async with running_bot(database_url, feeds, tg, hub.url) as first:
            sub = await first.active()
            port = first.port
            # another process on the same database takes a push at its own address
            async with running_bot(database_url, feeds, tg, hub.url) as second:
                document = rss([ai_item(6), *OLD_ITEMS]).encode()
                async with httpx.AsyncClient() as client:
                    response = await client.post(
                        f"http://127.0.0.1:{second.port}/websub/{sub.callback_token}",
                        content=document,
                        headers=signed(document, sub.secret),
                    )
                assert response.status_code == 200
                await eventually(lambda: len(second.chat_texts()) == 1, what="the alert")
        # restarted on the same address: the hub's subscription still reaches it
        async with running_bot(database_url, feeds, tg, hub.url, port=port) as again:
            kept = await again.subscription()
            assert kept is not None and kept.lease_expires_at == sub.lease_expires_at
            again.publish([ai_item(7), ai_item(6), *OLD_ITEMS])
            await again.announce()
            await eventually(lambda: len(again.chat_texts()) == 2, what="the pushed alert")
            assert "AI 정책금융 7조 원" in again.chat_texts()[1]


async def test_without_a_public_url_nothing_is_subscribed(
    tmp_path: Path, database_url: str
) -> None:
    async with fakes(tmp_path) as (feeds, tg, hub):
        port = free_port()
        settings = Settings(
            database_url=database_url,
            telegram_bot_token=TOKEN,
            telegram_api_url=tg.base_url,
            http_port=port,
        )
        app = App(settings, loaded(feeds.url(FEED)))
        link = f'<{hub.url}>; rel="hub", <{feeds.url(FEED)}>; rel="self"'
        feeds.publish(FEED, rss(OLD_ITEMS), headers={"Link": link})
        await app.start()
        try:
            await app.start_services()
            await app.poll_all()
            async with httpx.AsyncClient() as client:
                response = await client.get(f"http://127.0.0.1:{port}/websub/anything")
            assert response.status_code == 404
            assert app.store is not None and await app.store.websub.all() == []
            assert hub_rows(hub) == [] and "POST /hub" not in hub.log()
            feed = await app.store.feeds.get("local")
            assert feed is not None and feed.next_poll_at is not None
            assert feed.next_poll_at - time.time() < 400  # its own 5 minutes
        finally:
            await app.stop_services()
            await app.close()


async def test_a_hub_that_signs_only_with_sha1_is_accepted(
    tmp_path: Path, database_url: str
) -> None:
    async with (
        fakes(tmp_path, algorithm="sha1") as (feeds, tg, hub),
        running_bot(database_url, feeds, tg, hub.url) as rig,
    ):
        await rig.active()
        rig.publish([ai_item(8), *OLD_ITEMS])
        await rig.announce()
        await eventually(lambda: len(rig.chat_texts()) == 1, what="the sha1-signed push")
        sub = await rig.subscription()
        assert sub is not None and sub.signature_algorithm == "sha1"
