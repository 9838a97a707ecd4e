"""YAML mappings with the line of each top-level key, safely and fast.

libyaml's CSafeLoader is ~8x faster than the pure-Python SafeLoader and just as
safe; we fall back where libyaml is missing. Key lines come from a cheap scan of
the text rather than from composing nodes, which would cost the speed back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

# A top-level key at the start of a line (a quoted or plain key, then `:`); found in all the
# lines of a text at once, so no part of it may cross a line. See _key_lines.
_TOP_KEYS = re.compile(r"(?m)^(?:\"([^\"\n]+)\"|'([^'\n]+)'|([^\s#:'\"\-\[\{][^:#\n]*?))[^\S\n]*:(?:\s|$)")
# A front-matter block may expand to at most this many nodes (aliases count each
# time they are reached), which stops "billion laughs" documents cheaply.
MAX_NODES = 20_000
# libyaml and PyYAML's constructor recurse per level: deep nesting would exhaust
# the C stack (a segfault, not an exception), so it is refused before parsing.
MAX_DEPTH = 100


# A plain (unquoted) YAML date value, which the loader turns into a date: `key: 2023-02-30`
# or a list item `- 2023-02-30`. YAML's timestamp form; `2024-13-45` matches and is impossible.
_DATE_VALUE = re.compile(r"(?m)^[^\S\n]*(?:-[^\S\n]+)?(?:([^\s#:'\"\[\{][^:#\n]*?)[^\S\n]*:[^\S\n]+)?"
                         r"(\d{4})-(\d\d?)-(\d\d?)(?=[^\S\n]*(?:#|$|[Tt ]\d))")


def _impossible_date(text: str, first_line: int) -> "YamlProblem | None":
    """The first date-looking value that is no real date, as a problem at its own line."""
    import datetime as dt

    for match in _DATE_VALUE.finditer(text):
        try:
            dt.date(int(match.group(2)), int(match.group(3)), int(match.group(4)))
        except ValueError as exc:
            line = first_line + text[: match.start()].count("\n")
            key = (match.group(1) or "").strip()
            value = f"{match.group(2)}-{match.group(3)}-{match.group(4)}"
            what = f"`{key}`" if key else "a list item"
            return YamlProblem(line, f"{what} is not a real date: `{value}` ({exc}); write YYYY-MM-DD")
    return None


class YamlProblem(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Mapping:
    data: dict[str, Any]
    key_lines: dict[str, int]  # absolute 1-based line of each top-level key

    def line(self, key: str, default: int) -> int:
        return self.key_lines.get(key, default)


def load_mapping(text: str, first_line: int = 1) -> Mapping:
    """Parse `text` (whose first line is line `first_line` of its file) as a mapping.

    Raises YamlProblem with an absolute line number on any problem.
    """
    _check_depth(text, first_line)
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem(line, f"invalid YAML: {problem}") from None
    except yaml.reader.ReaderError as exc:
        line = first_line + text[: max(0, exc.position)].count("\n")
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise YamlProblem(line, f"invalid YAML: special character {char!r} is not allowed; remove it") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(first_line, "invalid YAML: " + " ".join(str(exc).split())) from None
    except (ValueError, OverflowError, RecursionError) as exc:  # e.g. an int of more than 4,300 digits
        bad_date = _impossible_date(text, first_line)
        if bad_date is not None:
            raise bad_date from None
        raise YamlProblem(first_line, "invalid YAML value: " + " ".join(str(exc).split())[:200]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise YamlProblem(first_line, f"front-matter must be a mapping of keys to values, not {_kind(data)}")
    if "*" in text or len(text) >= MAX_NODES // 4:  # else it holds fewer values: two a character at most
        _check_size(data, first_line)
    key_lines = _key_lines(text, first_line)
    for key in data:
        if not isinstance(key, str):
            raise YamlProblem(first_line, f"keys must be text, not {_kind(key)} `{key}`")
    return Mapping(data, key_lines)


def _key_lines(text: str, first_line: int) -> dict[str, int]:
    """The line of each top-level key (YamlProblem at the second of two equal keys)."""
    key_lines: dict[str, int] = {}
    for match in _TOP_KEYS.finditer(text):
        key = (match.group(1) or match.group(2) or match.group(3)).strip()
        line = first_line + text.count("\n", 0, match.start())
        if key in key_lines:
            raise YamlProblem(line, f"duplicate key `{key}` (first at line {key_lines[key]})")
        key_lines[key] = line
    return key_lines


def _check_depth(text: str, first_line: int) -> None:
    """Refuse flow collections nested deeper than MAX_DEPTH (brackets in quotes may over-count: harmless)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH and " " * (2 * MAX_DEPTH + 1) not in text:
        return  # (the common case) neither can any line below go deeper
    depth = 0
    for number, raw in enumerate(text.split("\n")):
        if raw.count("[") + raw.count("{") + depth <= MAX_DEPTH and len(raw) - len(raw.lstrip(" ")) <= 2 * MAX_DEPTH:
            depth = max(0, depth + raw.count("[") + raw.count("{") - raw.count("]") - raw.count("}"))
            continue
        raise YamlProblem(first_line + number, f"front-matter is nested more than {MAX_DEPTH} levels deep")


def _check_size(data: Any, line: int) -> None:
    budget = MAX_NODES
    stack = [data]
    while stack:
        budget -= 1
        if budget < 0:
            raise YamlProblem(line, f"front-matter expands to more than {MAX_NODES} values (YAML alias bomb?)")
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _kind(value: Any) -> str:
    return {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false"}.get(
        type(value), type(value).__name__
    )
