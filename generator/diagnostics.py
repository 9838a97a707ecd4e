"""Problems found in a site, as values: `path:line: level: message`.

Every stage returns or appends to a :class:`Diagnostics` collector instead of
raising or printing, so one build reports every problem at once, sorted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Literal

Level = Literal["error", "warning"]
# Characters that would break a diagnostic over several lines (str.splitlines splits on all of them).
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """Text safe to print on one line: control and line-separator characters escaped."""
    return _LINE_BREAKING.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def counted(n: int, word: str, plural: str = "") -> str:
    """`1 error`, `2 errors`, `0 warnings`: a count with its noun agreeing."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str  # relative to the site folder, with forward slashes
    line: int  # 1-based; 0 when the problem concerns the whole file
    level: Level
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{one_line(where)}: {self.level}: {one_line(self.message)}"

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "level": self.level, "message": self.message}


@dataclass
class Diagnostics:
    """An append-only collector; iteration is sorted and de-duplicated."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, path: str, line: int, message: str) -> None:
        self.items.append(Diagnostic(path, line, "error", message))

    def warning(self, path: str, line: int, message: str) -> None:
        self.items.append(Diagnostic(path, line, "warning", message))

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self if d.level == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self if d.level == "warning"]

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(sorted(set(self.items)))

    def __len__(self) -> int:
        return len(set(self.items))

    def tally(self) -> str:
        """`1 error, 2 warnings`."""
        return f"{counted(len(self.errors), 'error')}, {counted(len(self.warnings), 'warning')}"


class BuildError(Exception):
    """Raised by orchestration when a build cannot go on; carries the diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = sorted(set(diagnostics))
        super().__init__("\n".join(str(d) for d in self.diagnostics))
