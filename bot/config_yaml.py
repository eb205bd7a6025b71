"""Reading `subscriptions.yaml` as YAML: the document, and the line of a key path in it, so that
every problem names `file:line: key.path`."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

SUPPORTED_VERSION = 1
MAX_DEPTH = 50
"""Levels lists and maps may nest in a config: a real one nests four or five."""
MAX_VALUES = 1_000_000
"""Values a config may hold once its aliases (`*defaults`) are expanded: a hundred times a large
bot's, and far below what a few lines of aliases of aliases expand to (2^40 values)."""


class ConfigError(Exception):
    """The config was refused; `str()` lists each problem as `file:line: key.path: message`."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


def load_yaml(text: str, source: str, *, round_trip: bool) -> Any:
    """The YAML document of `text` (a mapping), with each key's line when `round_trip`."""
    if (depth := max(_flow_depth(text), _block_depth(text))) > MAX_DEPTH:
        raise ConfigError([f"{source}:1: lists or maps nested {depth} deep; at most {MAX_DEPTH}"])
    yaml = YAML(typ="rt" if round_trip else "safe")
    try:
        document = yaml.load(io.StringIO(text))
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise ConfigError([f"{source}:{line}: invalid YAML: {exc.problem}"]) from None
    if not isinstance(document, dict):
        raise ConfigError([f"{source}:1: expected a mapping with `version: {SUPPORTED_VERSION}`"])
    return document


def _flow_depth(text: str) -> int:
    """How deep `[` and `{` nest in `text`, outside quotes and comments: measured before parsing,
    which recurses once per level (tens of thousands of levels crash the process)."""
    depth = deepest = 0
    for match in _FLOW.finditer(text):
        bracket = match.group(1)
        if bracket in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif bracket is not None:
            depth = max(0, depth - 1)
    return deepest


def _block_depth(text: str) -> int:
    """How deep a line's indentation and leading `- ` items nest (two spaces a level, at least):
    `- - - x` nests three lists on one line."""
    return max(
        (len(indent) // 2 + items.count("-") for indent, items in _BLOCK.findall(text)),
        default=0,
    )


_BLOCK = re.compile(r"^( *)((?:-[ \t]+)*)", re.M)
_FLOW = re.compile(
    r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|(?:^|(?<=\s))#[^\n]*|([\[\]{}])""", re.M
)
"""Quoted scalars and comments (skipped), or a bracket of a flow collection (group 1)."""


def plain(document: Any, source: str) -> Any:
    """ruamel's containers as plain dicts and lists (pydantic wants those), aliases expanded;
    ConfigError past MAX_VALUES values."""
    count = 0

    def convert(node: Any) -> Any:
        nonlocal count
        count += 1
        if count > MAX_VALUES:
            raise ConfigError(
                [f"{source}:1: its aliases expand to more than {MAX_VALUES:,} values"]
            )
        if isinstance(node, dict):
            return {str(k): convert(v) for k, v in node.items()}
        if isinstance(node, list):
            return [convert(v) for v in node]
        return node

    return convert(document)


_PLAIN_WORDS = {
    "tuple_type": "expected a list, like [one, two]",
    "list_type": "expected a list, like [one, two]",
    "dict_type": "expected settings under it (key: value)",
    "extra_forbidden": "no such setting here (a typo, or at the wrong level?)",
    "missing": "missing: it is required",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "string_type": "expected text",
}
"""The operator's words for pydantic's kinds of error that a config meets most."""


def plain_message(error: Mapping[str, Any]) -> str:
    """What is wrong with one value, in the operator's words where pydantic's are a library's
    (`Input should be a valid tuple` for `keywords: AI`)."""
    return _PLAIN_WORDS.get(str(error.get("type")), str(error.get("msg", "")))


def locate_all(
    source: str, document: Any, problems: Iterable[tuple[Sequence[str | int], str]]
) -> list[str]:
    """Each problem (key path, message) as `locate` puts it, in the order of the file's lines."""
    lines = [locate(source, document, loc, message) for loc, message in problems]
    return sorted(lines, key=lambda line: int(line[len(source) + 1 :].split(":", 1)[0]))


def locate(source: str, document: Any, loc: Sequence[str | int], message: str) -> str:
    """`file:line: key.path: message`, with the line of the deepest key of `loc` in the YAML."""
    line = 1
    node = document
    path = ""
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
            path += f".{part}" if path else str(part)
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
            path += f"[{part}]"
        else:
            # pydantic adds loc parts for union members and missing keys; keep the named ones
            if isinstance(part, str) and not part.startswith(
                ("function-", "tagged-union", "[key]")
            ):
                path += f".{part}" if path else part
            node = None
    message = message.removeprefix("Value error, ")
    return f"{source}:{line}: {path or '(top level)'}: {message}"
