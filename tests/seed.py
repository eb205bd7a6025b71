"""The seed article of ../shared/seed/ as a feed item: front matter fields plus its HTML body."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML


@dataclass(frozen=True)
class SeedArticle:
    title: str
    excerpt: str
    feature_text: str
    image: str
    html: str


def load_seed(path: Path) -> SeedArticle:
    _, front, body = path.read_text(encoding="utf-8").split("---", 2)
    meta = YAML(typ="safe").load(front)
    return SeedArticle(
        title=meta["title"],
        excerpt=meta.get("excerpt", "").strip(),
        feature_text=meta.get("feature_text", "").strip(),
        image=meta.get("image", ""),
        html=body.strip(),
    )
