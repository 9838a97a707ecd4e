"""The preview server's fast path (generator/engine/live.py): exactly a cold build's output, sooner."""

from __future__ import annotations

from pathlib import Path
from typing import Container

import pytest

from conftest import BASIC, read_tree, write_site
from generator.engine.build import build
from generator.content.cache import Cache
from generator.engine.pipeline import AllBut
from generator.engine.preview import LiveBuild

BASE = "http://127.0.0.1:9/repo/"
ARTICLE = "content/articles/drone-attack.md"
NOTE = "content/notes/assessment.md"
# the note links to the article by slug, so the article's title is free to change
FILES = {**BASIC, NOTE: BASIC[NOTE].replace("[[Drone attack on Ain al-Asad]]", "[[drone-attack]]"),
         "content/notes/later.md": "---\ntitle: A later note\ndate: 2023-10-20\nactors: [KH]\n---\nSee [[Escalation assessment]].\n"}


def _cold(site: Path) -> dict[str, bytes]:
    out = site.parent / "cold"
    result = build(site, output=out, base_url=BASE, use_cache=False)
    assert result.ok, result.diagnostics
    return read_tree(out)


def _live(tmp_path: Path) -> tuple[Path, LiveBuild]:
    site = write_site(tmp_path / "site", FILES)
    live = LiveBuild(site, tmp_path / "preview", BASE, False, Cache(tmp_path / "cache.sqlite"))
    assert live.run().ok
    return site, live


def _edit(site: Path, rel: str, old: str, new: str) -> Path:
    path = site / rel
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("rel, old, new, fast", [
    (ARTICLE, "title: Drone attack on Ain al-Asad", "title: Drone strike on Ain al-Asad", True),
    (ARTICLE, "summary: Two drones targeted the base.", "summary: Three drones, one intercepted.", True),
    (ARTICLE, "was blamed", "was blamed by officials", True),
    (ARTICLE, "source: {name: Example Wire", "source: {name: Other Wire", True),
    (NOTE, "confidence: moderate", "confidence: high", True),
    (ARTICLE, "date: 2023-10-18", "date: 2023-10-21", False),  # order changes
    (ARTICLE, "actors: [KH, Islamic Resistance in Iraq]", "actors: [KH]", False),  # the graph changes
    (NOTE, "title: Escalation assessment", "title: Escalation, assessed", False),  # a [[link]] uses it
    (NOTE, "title: Escalation assessment", "title: Zzz later in the day", False),  # sorts after its neighbour
    (NOTE, "[[drone-attack]]", "[[Baghdad]]", False),  # backlinks change
    ("content/actors/kataib-hezbollah.md", "kind: militia", "kind: armed group", False),  # a profile
    (ARTICLE, "title: Drone attack on Ain al-Asad", "title: [unclosed", False),  # an error: the build reports it
])
def test_each_edit_gives_a_cold_builds_output(tmp_path: Path, rel: str, old: str, new: str, fast: bool) -> None:
    site, live = _live(tmp_path)
    state = live.state
    path = _edit(site, rel, old, new)
    result = live.run({path})
    assert ("load+markdown" not in result.timings) == fast  # the fast path loads nothing
    assert live.state is not state or not result.ok  # a new state each time: never patched
    if not result.ok:
        assert not fast and result.diagnostics.errors
        return
    assert read_tree(live.output) == _cold(site)


def test_a_sequence_of_edits_stays_exact(tmp_path: Path) -> None:
    site, live = _live(tmp_path)
    state = live.state
    steps = [
        (ARTICLE, "title: Drone attack on Ain al-Asad", "title: Drone strike"),
        (ARTICLE, "title: Drone strike", "title: Drone attack on Ain al-Asad"),
        (ARTICLE, "was blamed", "was blamed again"),
        (NOTE, "author: J. Analyst", "author: K. Analyst"),
    ]
    for rel, old, new in steps:
        assert live.run({_edit(site, rel, old, new)}).ok
        assert live.state is not state and live.state is not None  # each save: a new state (never patched)
        state = live.state
        assert read_tree(live.output) == _cold(site)


def test_the_edited_page_comes_first_and_the_rest_is_announced(tmp_path: Path) -> None:
    site, live = _live(tmp_path)
    seen: dict[str, object] = {}

    def early(pending: frozenset[str]) -> None:
        seen["pending"] = pending
        seen["page"] = (live.output / "articles/drone-attack/index.html").read_text()
        seen["entity"] = (live.output / "actors/kataib-hezbollah/index.html").read_text()

    path = _edit(site, ARTICLE, "title: Drone attack on Ain al-Asad", "title: Drone strike on the base")
    result = live.run({path}, early=early)
    assert result.ok
    assert "Drone strike on the base" in str(seen["page"])  # written before the rest
    assert "Drone strike on the base" not in str(seen["entity"])  # not yet: so it is pending
    pending = seen["pending"]
    assert isinstance(pending, frozenset)
    assert "articles/drone-attack/index.html" not in pending
    assert {"index.html", "actors/kataib-hezbollah/index.html", "notes/assessment/index.html",
            "feed.xml", "timeline/index.html", "data/stix.json"} <= pending
    assert "places/green-zone/index.html" not in pending  # it neither lists nor links to the article
    assert "Drone strike on the base" in (live.output / "actors/kataib-hezbollah/index.html").read_text()
    # the note links to the article: its link's tooltip is the new title
    assert 'title="Drone strike on the base"' in (live.output / "notes/assessment/index.html").read_text()
    assert result.rendered_pages < 40


def test_a_new_document_is_written_first_in_a_full_build_and_the_rest_announced(tmp_path: Path) -> None:
    site, live = _live(tmp_path)
    seen: list[dict[str, object]] = []
    new = site / "content/articles/new-report.md"

    def early(pending: Container[str]) -> None:
        seen.append({"pending": pending, "page": (live.output / "articles/new-report/index.html").read_text(),
                     "listing": (live.output / "articles/index.html").read_text()})

    new.write_text("---\ntitle: A brand new report\ndate: 2023-10-25\nactors: [KH]\nplaces: [Baghdad]\n---\nNews.\n")
    result = live.run({new}, early=early)
    assert result.ok and "load+markdown" in result.timings  # the full build, not the fast path
    # first as soon as the site is linked, before the rest is planned: its own page, and every other
    # page still to come (the static files are served meanwhile)
    ahead, then = seen
    assert "own pages ahead" in result.timings and isinstance(ahead["pending"], AllBut)
    final = read_tree(live.output)
    assert str(ahead["page"]).encode() == final["articles/new-report/index.html"]  # written as it ends
    assert "A brand new report" not in str(ahead["listing"])  # ...the rest was still to come:
    pending = ahead["pending"]
    assert "articles/new-report/index.html" not in pending and "assets/style.css" not in pending
    assert all(rel in pending for rel in ("index.html", "articles/index.html", "places/green-zone/index.html"))
    # then, once the plan says which pages changed, only those are still to come
    pending = then["pending"]
    assert isinstance(pending, frozenset) and "articles/new-report/index.html" not in pending
    assert {"index.html", "articles/index.html", "actors/kataib-hezbollah/index.html", "feed.xml"} <= pending
    assert "places/green-zone/index.html" not in pending  # unchanged pages are served meanwhile
    assert final == _cold(site)


def test_a_deleted_documents_page_is_gone_as_soon_as_the_pages_are_planned(tmp_path: Path) -> None:
    """A deletion has no page to write first: the files no page of the build makes are removed
    once the pages are planned, before they are fingerprinted, and announced done (the preview
    answers 404 for them at once); then the pages that changed are all that is still to come."""
    site, live = _live(tmp_path)
    seen: list[dict[str, object]] = []
    gone = site / "content/notes/extra.md"  # (one that nothing links to)
    gone.write_text("---\ntitle: An extra note\ndate: 2023-10-21\nactors: [KH]\n---\nMore.\n")
    assert live.run({gone}).ok

    def early(pending: Container[str]) -> None:
        seen.append({"pending": pending, "there": (live.output / "notes/extra").exists(),
                     "listing": (live.output / "notes/index.html").read_text()})

    gone.unlink()
    result = live.run({gone}, early=early)
    assert result.ok and "load+markdown" in result.timings, list(result.diagnostics)  # the full build
    first, then = seen
    pending = first["pending"]
    assert isinstance(pending, AllBut) and not first["there"]  # its page and its folder, gone at once
    assert "notes/extra/index.html" not in pending and "assets/style.css" not in pending
    assert all(rel in pending for rel in ("index.html", "notes/index.html", "places/green-zone/index.html"))
    assert "notes/extra/" in str(first["listing"])  # (the listing was still to come)
    pending = then["pending"]
    assert isinstance(pending, frozenset) and "notes/extra/index.html" not in pending
    assert "notes/index.html" in pending and "places/green-zone/index.html" not in pending
    final = read_tree(live.output)
    assert "notes/extra/" not in final["notes/index.html"].decode()
    assert final == _cold(site)


def test_after_a_failed_build_nothing_is_announced_early(tmp_path: Path) -> None:
    site, live = _live(tmp_path)
    broken = _edit(site, ARTICLE, "date: 2023-10-18", "date: 2023-02-30")
    assert not live.run({broken}).ok
    calls: list[frozenset[str]] = []
    fixed = _edit(site, ARTICLE, "date: 2023-02-30", "date: 2023-10-18")
    assert live.run({fixed}, early=calls.append).ok
    assert calls == []  # every page was an error page: the whole site comes back at once
