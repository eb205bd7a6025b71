"""Alert payloads <-> JSON text, as kept in the outbox until they are sent."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.models import FeedItem, Reason, Tag


def encode_alert(item: FeedItem, tags: tuple[Tag, ...]) -> str:
    """The outbox payload of one alert."""
    return json.dumps(
        {
            "item": {
                "key": item.key,
                "guid": item.guid,
                "link": item.link,
                "title": item.title,
                "summary": item.summary,
                "published": item.published.isoformat() if item.published else None,
                "image": item.image,
                "image_alt": item.image_alt,
                "categories": list(item.categories),
                "source": item.source,
            },
            "tags": [
                {
                    "topic": tag.topic,
                    "score": tag.score,
                    "reasons": [{"keyword": r.keyword, "field": r.field} for r in tag.reasons],
                }
                for tag in tags
            ],
        },
        ensure_ascii=False,
    )


def decode_alert(payload: str) -> tuple[FeedItem, tuple[Tag, ...]]:
    """Inverse of `encode_alert` (the full content is not kept: renderers use the summary)."""
    data: dict[str, Any] = json.loads(payload)
    raw = data["item"]
    item = FeedItem(
        key=raw["key"],
        guid=raw.get("guid"),
        link=raw.get("link"),
        title=raw.get("title", ""),
        summary=raw.get("summary", ""),
        published=datetime.fromisoformat(raw["published"]) if raw.get("published") else None,
        image=raw.get("image"),
        image_alt=raw.get("image_alt", ""),
        categories=tuple(raw.get("categories", ())),
        source=raw.get("source", ""),
    )
    tags = tuple(
        Tag(
            t["topic"],
            tuple(Reason(r["keyword"], r["field"]) for r in t.get("reasons", ())),
            float(t.get("score", 0.0)),
        )
        for t in data.get("tags", ())
    )
    return item, tags
