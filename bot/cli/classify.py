"""`newsbot classify FILE_OR_URL`: the tags of every item of a feed, with their reasons."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.classify import Classifier, Explanation
from bot.cli.documents import DocumentError, read_document
from bot.config import load_config
from bot.models import FeedItem


def classify(source: str, config_path: Path, *, as_json: bool, explain: bool) -> int:
    config = load_config(config_path).config
    classifier = Classifier(config.topic_rules())
    try:
        parsed = read_document(source)
    except DocumentError as exc:
        print(f"newsbot classify: {exc}", file=sys.stderr)
        return 1
    for item in parsed.items:
        explanation = classifier.explain(item)
        if as_json:
            print(_json_line(item, explanation, explain=explain))
        else:
            print(_text_block(item, explanation, explain=explain))
    return 0


def _json_line(item: FeedItem, explanation: Explanation, *, explain: bool) -> str:
    classification = explanation.classification
    line: dict[str, object] = {
        "id": item.guid,
        "link": item.link,
        "title": item.title,
        "tags": [
            {
                "topic": tag.topic,
                "reasons": [{"keyword": r.keyword, "field": r.field} for r in tag.reasons],
                "score": tag.score,
            }
            for tag in classification.tags
        ],
        "vetoes": [
            {"keyword": v.keyword, "rule": v.exclusion, "field": v.field}
            for v in classification.vetoes
        ],
    }
    if explain:
        line["near_misses"] = [
            {
                "topic": s.topic,
                "score": s.score,
                "threshold": s.threshold,
                "hits": [
                    {"keyword": h.phrase, "field": h.field, "points": h.points, "rule": h.rule}
                    for h in s.hits
                ],
            }
            for s in explanation.near_misses
        ]
    return json.dumps(line, ensure_ascii=False)


def _text_block(item: FeedItem, explanation: Explanation, *, explain: bool) -> str:
    classification = explanation.classification
    lines = [item.title or "(untitled)"]
    if item.link:
        lines.append(f"  {item.link}")
    for tag in classification.tags:
        reasons = ", ".join(f"{r.keyword!r} in {r.field}" for r in tag.reasons)
        score = f" [score {tag.score:g}]" if explain else ""
        lines.append(f"  {tag.topic}{score}: {reasons}")
    for veto in classification.vetoes:
        lines.append(f"  (vetoed {veto.keyword!r} by {veto.exclusion!r} in {veto.field})")
    if not classification.tags:
        lines.append("  (no tags)")
    if explain and not explanation.near_misses:
        lines.append("  near misses: none (no other topic scored)")
    if explain:
        for near in explanation.near_misses:
            hits = ", ".join(
                f"{h.phrase!r} in {h.field} +{h.points:g}" + (f" ({h.rule})" if h.rule else "")
                for h in near.hits
            )
            lines.append(
                f"  near miss {near.topic} [score {near.score:g} < {near.threshold:g}]: {hits}"
            )
    return "\n".join(lines)
