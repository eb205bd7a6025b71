"""Prometheus metrics, all named `newsbot_*`, on a registry owned by the app (no global state)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.models import Platform


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.polls = Counter("newsbot_polls", "Feed polls by outcome", ["outcome"], registry=r)
        self.new_items = Counter("newsbot_new_items", "Items seen for the first time", registry=r)
        self.alerts_queued = Counter(
            "newsbot_alerts_queued", "Alerts written to the outbox", ["platform"], registry=r
        )
        self.alerts_sent = Counter(
            "newsbot_alerts_sent", "Alerts the platform accepted", ["platform"], registry=r
        )
        self.alerts_failed = Counter(
            "newsbot_alerts_failed",
            "Alerts not delivered, by reason",
            ["platform", "reason"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "newsbot_outbox_depth", "Alerts waiting to be sent", ["platform"], registry=r
        )
        self.feeds = Gauge("newsbot_feeds", "Feeds by state", ["state"], registry=r)
        self.poll_duration = Histogram(
            "newsbot_poll_duration_seconds",
            "Time to poll one feed (fetch, parse, classify, commit)",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=r,
        )
        self.publish_to_send = Histogram(
            "newsbot_publish_to_send_seconds",
            "From an item's publication time to the platform accepting its alert",
            ["platform"],
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 86400),
            registry=r,
        )

        self.websub_pushes = Counter(
            "newsbot_websub_pushes",
            "Documents a WebSub hub pushed, by outcome (accepted, thin, bad_signature, ...)",
            ["outcome"],
            registry=r,
        )
        self.websub_subscriptions = Gauge(
            "newsbot_websub_subscriptions", "WebSub subscriptions by state", ["state"], registry=r
        )
        self.websub_lease_expiry = Gauge(
            "newsbot_websub_lease_expiry_timestamp_seconds",
            "When the lease of each pushed feed ends (Unix time)",
            ["feed"],
            registry=r,
        )

    def set_websub(self, states: Mapping[str, int], leases: Mapping[str, float]) -> None:
        for state in ("pending", "requested", "active", "unsubscribing", "unsubscribed"):
            self.websub_subscriptions.labels(state).set(states.get(state, 0))
        self.websub_lease_expiry.clear()
        for feed, expires in leases.items():
            self.websub_lease_expiry.labels(feed).set(expires)

    def set_outbox(self, pending_by_platform: Mapping[str, int]) -> None:
        for platform in Platform:
            self.outbox_depth.labels(platform.value).set(pending_by_platform.get(platform.value, 0))

    def set_feed_states(self, counts: Mapping[str, int]) -> None:
        for state in ("ok", "failing", "disabled", "removed"):
            self.feeds.labels(state).set(counts.get(state, 0))

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
