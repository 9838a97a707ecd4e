"""`history` on notes: earlier judgments under "Judgment history", oldest first, the current
judgment last; bad entries are errors at the key's line; edits build as from scratch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import age_written, BASIC, read_tree, write_site
from generator.engine.build import build

NOTE = """\
---
title: Outlook
date: 2023-11-01
updated: 2023-11-20
summary: Now moderate.
confidence: moderate
actors: [KH]
history:
{history}
---
Body.
"""
GOOD = """\
  - {date: 2023-11-12, confidence: low, summary: "Second look <b>."}
  - {date: 2023-11-01, summary: First look.}
"""


def _site(tmp_path: Path, history: str, section: str = "notes") -> Path:
    return write_site(tmp_path / "site", {**BASIC, f"content/{section}/outlook.md": NOTE.format(history=history.rstrip("\n"))})


def test_judgments_oldest_first_then_the_current_one(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(_site(tmp_path, GOOD), output=out).ok
    page = (out / "notes/outlook/index.html").read_text()
    section = page.split('id="judgment-history"')[1].split("</section>")[0]
    items = [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li[^>]*>(.*?)</li>", section, re.S)]
    assert items == [
        "1 November 2023: First look.",
        "12 November 2023 · Low confidence: Second look &lt;b&gt;.",
        "20 November 2023 · now · Moderate confidence: Now moderate.",
    ]


def test_a_note_without_history_has_no_section(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {**BASIC})
    out = tmp_path / "out"
    assert build(site, output=out).ok
    assert not any("judgment-history" in p.read_text() for p in out.rglob("*.html"))


@pytest.mark.parametrize("history, message", [
    ("  - {confidence: low}", "`history` entry 1 needs a `date`"),
    ("  - {date: 2023-11-02, confidence: certain}", "`history` entry 1: `confidence` must be one of low, moderate, high, not `certain`"),
    ("  - {date: 2023-11-02, sumary: x}", "`history` entry 1: unknown key `sumary` (did you mean `summary`?)"),
    ("  - {date: 2023-11-02}", "`history` entry 1 needs a `confidence` or a `summary`: what was judged then"),
    ("  low", "`history` must be a list of {date, confidence, summary}"),
])
def test_a_bad_entry_is_an_error_at_the_key(tmp_path: Path, history: str, message: str) -> None:
    result = build(_site(tmp_path, history), output=tmp_path / "out", write=False)
    assert not result.ok
    assert f"content/notes/outlook.md:8: error: {message}" in [str(d) for d in result.diagnostics]


def test_articles_take_no_history(tmp_path: Path) -> None:
    result = build(_site(tmp_path, GOOD, "articles"), output=tmp_path / "out", write=False)
    assert "content/articles/outlook.md:8: error: `history` belongs on notes (analyst judgments), not on articles" in [
        str(d) for d in result.diagnostics]


def test_editing_the_history_builds_as_from_scratch(tmp_path: Path) -> None:
    site = _site(tmp_path, GOOD)
    note = site / "content/notes/outlook.md"

    def age() -> None:
        age_written(site)

    age()
    assert build(site).ok
    for n, history in enumerate((GOOD.replace("low", "high"), "  - {date: 2023-10-01, summary: Earliest.}", GOOD)):
        note.write_text(NOTE.format(history=history.rstrip("\n")))
        age()
        assert build(site).ok
        assert build(site, output=tmp_path / f"scratch-{n}", use_cache=False).ok
        assert read_tree(site / "_site") == read_tree(tmp_path / f"scratch-{n}"), history
