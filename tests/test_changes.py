"""/changes/: new and updated documents, the latest change first, with how a note's confidence
moved; its Atom feed; `?since=` in a real Chromium; and edits that build as from scratch."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import age_written, BASIC, read_tree, write_site
from generator.engine.build import build
from support import static_server

ATOM = "{http://www.w3.org/2005/Atom}"
FILES = {
    **BASIC,
    "content/articles/old-report.md": """
        ---
        title: Old report
        date: 2023-10-02
        actors: [KH]
        ---
        Body.
        """,
    "content/notes/rising.md": """
        ---
        title: Rising risk
        date: 2023-10-05
        updated: 2023-11-30
        confidence: moderate
        summary: Risk rose.
        actors: [KH]
        history:
          - {date: 2023-10-05, confidence: low, summary: Risk was low.}
        ---
        Body.
        """,
    "content/notes/steady.md": """
        ---
        title: Steady view
        date: 2023-10-06
        updated: 2023-11-15
        confidence: high
        actors: [KH]
        history:
          - {date: 2023-10-06, confidence: high}
        ---
        Body.
        """,
}


def _entries(page: str) -> list[tuple[str, str, str]]:
    out = []
    for item in re.findall(r'<li class="doc-item" data-changed="([^"]+)">(.*?)</li>', page, re.S):
        changed, html = item
        meta = re.sub(r"<[^>]+>", "", html.split('<a class="doc-title"')[0]).split()
        title = re.search(r'class="doc-title"[^>]*>([^<]+)<', html).group(1)  # type: ignore[union-attr]
        out.append((changed, title, " ".join(meta[3:])))
    return out


def test_changes_page_and_feed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = build(write_site(tmp_path / "site", FILES), output=out)
    assert result.ok, [str(d) for d in result.diagnostics]
    entries = _entries((out / "changes/index.html").read_text())
    assert [e[:2] for e in entries[:3]] == [("2023-11-30", "Rising risk"), ("2023-11-15", "Steady view"),
                                            ("2023-10-20", "Escalation assessment")]
    assert entries[0][2].startswith("Updated Analyst note · confidence low → moderate")
    assert entries[1][2].startswith("Updated Analyst note · confidence high, unchanged")
    assert entries[-1][:2] == ("2023-10-02", "Old report") and entries[-1][2].startswith("New Article")
    feed = ET.parse(out / "changes/feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed" and feed.find(f"{ATOM}updated").text == "2023-11-30T00:00:00Z"  # type: ignore[union-attr]
    first = feed.find(f"{ATOM}entry")
    assert first.find(f"{ATOM}title").text == "Updated: Rising risk"  # type: ignore[union-attr]
    assert first.find(f"{ATOM}summary").text == "Confidence low → moderate. Risk rose."  # type: ignore[union-attr]
    assert first.find(f"{ATOM}updated").text == "2023-11-30T00:00:00Z"  # type: ignore[union-attr]
    assert 'href="/repo/changes/"' in (out / "index.html").read_text()


def test_since_in_the_address_starts_from_that_day(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    assert build(write_site(tmp_path / "site", FILES), output=out).ok
    with static_server(out, "/repo/") as base:
        context = browser.new_context()
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}changes/?since=2023-11-01")
            page.wait_for_selector("#changes-since:not([hidden])")
            visible = page.eval_on_selector_all(".changes li", "els => els.filter(e => !e.hidden).map(e => e.dataset.changed)")
            assert visible == ["2023-11-30", "2023-11-15"]
            assert page.text_content("#changes-since") == "2 changes since 2023-11-01."
            page.goto(f"{base}changes/")
            assert page.eval_on_selector_all(".changes li", "els => els.filter(e => e.hidden).length") == 0
            assert page.is_hidden("#changes-since")
            assert errors == []
        finally:
            context.close()


def test_a_confidence_edit_builds_as_from_scratch(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", FILES)
    note = site / "content/notes/rising.md"

    def age() -> None:
        age_written(site)

    age()
    assert build(site).ok
    text = note.read_text()
    for n, edited in enumerate((text.replace("confidence: moderate", "confidence: high"),
                                text.replace("confidence: low", "confidence: high").replace("confidence: moderate", "confidence: high"),
                                text)):
        note.write_text(edited)
        age()
        assert build(site).ok
        assert build(site, output=tmp_path / f"scratch-{n}", use_cache=False).ok
        assert read_tree(site / "_site") == read_tree(tmp_path / f"scratch-{n}")
    assert "confidence low → moderate" in (site / "_site/changes/index.html").read_text()
