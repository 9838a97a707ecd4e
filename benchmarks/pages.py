"""Page sizes of a built site (issue 18's budget: no HTML page over 400 KB at 10,000 or 100,000 documents).

    python -m benchmarks.pages OUT [OUT ...]     (the same table for outputs already built)
    python -m benchmarks ...                     (each size's cold build output, in RESULTS.md's "Page sizes")

Every file under the output folder is counted: the largest HTML page, every HTML page over
the budget, and the largest file that is not HTML (search index shards, feeds, data, assets).
Sizes are bytes on disk as served; KB here is 1,024 bytes, as in tests/test_page_size.py.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

BUDGET = 400 * 1024  # bytes: issue 18's page-size budget for HTML pages
SHOWN_OVER = 10  # over-budget pages listed by name, largest first


@dataclass
class Sizes:
    html_pages: int = 0
    html_bytes: int = 0
    largest_html: tuple[str, int] = ("", 0)  # (path under the output, bytes)
    other_files: int = 0
    largest_other: tuple[str, int] = ("", 0)
    over: list[tuple[str, int]] = field(default_factory=list)  # HTML pages over BUDGET, largest first


def sizes(out: Path, budget: int = BUDGET) -> Sizes:
    """The page sizes of the built output `out` (os.walk: 100,000-document sites have ~150,000 files)."""
    s = Sizes()
    for folder, _, files in os.walk(out):
        for name in files:
            path = os.path.join(folder, name)
            size = os.stat(path).st_size
            rel = os.path.relpath(path, out)
            if name.endswith((".html", ".htm")):
                s.html_pages += 1
                s.html_bytes += size
                if size > s.largest_html[1]:
                    s.largest_html = (rel, size)
                if size > budget:
                    s.over.append((rel, size))
            else:
                s.other_files += 1
                if size > s.largest_other[1]:
                    s.largest_other = (rel, size)
    s.over.sort(key=lambda item: (-item[1], item[0]))
    return s


def kb(size: int) -> str:
    return f"{size / 1024:,.0f} KB" if size >= 10 * 1024 else f"{size / 1024:.1f} KB"


def table(rows: list[tuple[str, Sizes]], budget: int = BUDGET, label: str = "N docs") -> str:
    """One row per output (its label, e.g. the number of documents, and its sizes); the pages over the
    budget listed below, if any."""
    lines = [f"| {label} | HTML pages (mean) | largest HTML page | HTML pages over {budget // 1024} KB "
             "| largest non-HTML file (files) |", "|---|---|---|---|---|"]
    notes = []
    for name, s in rows:
        mean = s.html_bytes / s.html_pages if s.html_pages else 0
        lines.append(f"| {name} | {s.html_pages:,} ({kb(int(mean))}) | `{s.largest_html[0]}` {kb(s.largest_html[1])} "
                     f"| {len(s.over):,}{'' if not s.over else ' (over the budget)'} "
                     f"| `{s.largest_other[0]}` {kb(s.largest_other[1])} ({s.other_files:,}) |")
        if s.over:
            shown = ", ".join(f"`{path}` {kb(size)}" for path, size in s.over[:SHOWN_OVER])
            more = f" and {len(s.over) - SHOWN_OVER:,} more" if len(s.over) > SHOWN_OVER else ""
            notes.append(f"Over the budget in {name}: {shown}{more}.")
    return "\n".join(lines + ([""] + notes if notes else []))


def section(rows: list[tuple[int, Sizes]]) -> str:
    """RESULTS.md's page-size section, for (documents, sizes) of each size."""
    return ("## Page sizes (cold build's output)\n\n"
            f"Every file under the output folder; budget (issue 18): no HTML page over {BUDGET // 1024} KB. "
            "KB = 1,024 bytes.\n\n" + table([(f"{n:,} documents", s) for n, s in rows], label="corpus"))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pages")
    parser.add_argument("outputs", type=Path, nargs="+", help="built output folders")
    args = parser.parse_args()
    print(table([(str(out), sizes(out)) for out in args.outputs], label="output"))


if __name__ == "__main__":
    main()
