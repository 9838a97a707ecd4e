"""Warm builds from the saved state (generator/engine/warm.py): a cold build's exact output, or the full build."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from conftest import BASIC, read_tree, write_site
from generator.engine.build import build

ARTICLE = "content/articles/drone-attack.md"
NOTE = "content/notes/assessment.md"
FILES = {**BASIC, NOTE: BASIC[NOTE].replace("[[Drone attack on Ain al-Asad]]", "[[drone-attack]]"),
         "content/notes/later.md": "---\ntitle: A later note\ndate: 2023-10-20\nactors: [KH]\n---\nSee [[Escalation assessment]].\n",
         "content/images/map.txt": "an asset\n"}


def _site(tmp_path: Path, files: dict[str, str] = FILES) -> Path:
    site = write_site(tmp_path / "site", files)
    assert build(site).ok
    old = time.time() - 10  # older than load.RACY_SECONDS: the saved stamps are trusted
    for path in (site / "content").rglob("*"):
        if path.is_file():
            path.touch()
            import os
            os.utime(path, (old, old))
    assert build(site).ok  # saves the state with trusted stamps
    return site


def _edit(site: Path, rel: str, old: str, new: str) -> None:
    path = site / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _cold(site: Path) -> dict[str, bytes]:
    out = site.parent / "cold"
    assert build(site, output=out, use_cache=False).ok
    return read_tree(out)


def _warm(result) -> bool:  # type: ignore[no-untyped-def]
    return "warm" in result.timings


@pytest.mark.parametrize("rel, old, new, warm", [
    (ARTICLE, "title: Drone attack on Ain al-Asad", "title: Drone strike on Ain al-Asad", True),
    (ARTICLE, "was blamed", "was blamed by officials", True),
    (NOTE, "confidence: moderate", "confidence: low", True),
    (ARTICLE, "date: 2023-10-18", "date: 2023-10-21", False),
    (ARTICLE, "places: [Ain al-Asad, Baghdad]", "places: [Baghdad]", False),
    ("content/places/baghdad.md", "The capital.", "The capital city.", False),
    ("content/images/map.txt", "an asset", "another asset", False),
    (ARTICLE, "date: 2023-10-18", "date: 18 October", False),  # an error
])
def test_each_edit_gives_a_cold_builds_output(tmp_path: Path, rel: str, old: str, new: str, warm: bool) -> None:
    site = _site(tmp_path)
    _edit(site, rel, old, new)
    result = build(site)
    assert _warm(result) == warm
    if not result.ok:
        assert not warm and result.diagnostics.errors
        return
    assert read_tree(site / "_site") == _cold(site)
    if warm:
        assert 0 < result.rendered_pages < 40


def test_no_change_writes_nothing_and_a_sequence_stays_exact(tmp_path: Path) -> None:
    site = _site(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in (site / "_site").rglob("*")}
    result = build(site)
    assert _warm(result) and result.written is not None and not result.written.swapped
    assert {p: p.stat().st_mtime_ns for p in (site / "_site").rglob("*")} == before
    for old, new in [("was blamed", "was blamed again"), ("title: Drone attack on Ain al-Asad", "title: Drone strike"),
                     ("title: Drone strike", "title: Drone attack on Ain al-Asad")]:
        _edit(site, ARTICLE, old, new)
        result = build(site)
        assert _warm(result) and result.ok
        assert read_tree(site / "_site") == _cold(site)


def test_other_changes_take_the_full_build(tmp_path: Path) -> None:
    site = _site(tmp_path)
    (site / "content/notes/new.md").write_text("---\ntitle: New\ndate: 2023-11-01\n---\nNew.\n")
    assert not _warm(build(site))
    (site / "layouts").mkdir()
    (site / "layouts/footer.html").write_text("<p>custom footer</p>\n")
    result = build(site)
    assert not _warm(result) and "custom footer" in (site / "_site/index.html").read_text()
    assert build(site, drafts=True).ok  # the output now holds drafts: the saved state is not its own
    _edit(site, ARTICLE, "was blamed", "was blamed once more")
    result = build(site)
    assert not _warm(result) and read_tree(site / "_site") == _cold(site)


def test_warnings_are_reported_again(tmp_path: Path) -> None:
    files = {**FILES, "content/notes/held.md": "---\ntitle: Held\ndate: 2023-10-01\ntlp: red\n---\nx\n",
             "content/notes/points.md": "---\ntitle: Points\ndate: 2023-10-02\n---\nSee [[Held]].\n"}
    site = _site(tmp_path, files)
    first = [str(d) for d in build(site).diagnostics.warnings]
    assert any("left out of this build" in w for w in first)
    _edit(site, ARTICLE, "was blamed", "was blamed again")
    result = build(site)
    assert _warm(result) and [str(d) for d in result.diagnostics.warnings] == first
    _edit(site, "content/notes/points.md", "See [[Held]].", "\n\nSee [[Held]].")  # its warning's line moves
    result = build(site)
    assert not _warm(result) and any("points.md:7" in str(d) for d in result.diagnostics.warnings)


def test_the_state_holds_the_files_as_the_build_read_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file deleted or edited while a build runs, after it was read, is seen by the next build."""
    from generator.site import graph

    site = _site(tmp_path)
    later, article = site / "content/notes/later.md", site / ARTICLE
    _edit(site, ARTICLE, "was blamed", "was blamed again")  # a body edit: a warm build
    link = graph.link

    def link_then_change(*args, **kwargs):  # type: ignore[no-untyped-def]
        later.unlink(missing_ok=True)  # both were read already
        text = article.read_text()
        article.write_text(text.replace("was blamed again", "was blamed once more"))
        os.utime(article, (time.time() - 10, time.time() - 10))  # a stamp as old as the rest
        return link(*args, **kwargs)

    (site / "content/notes/new.md").write_text("---\ntitle: New\ndate: 2023-11-01\n---\nNew.\n")  # a full build
    monkeypatch.setattr(graph, "link", link_then_change)
    assert build(site).ok
    assert "A later note" in (site / "_site/index.html").read_text()
    monkeypatch.setattr(graph, "link", link)
    result = build(site)
    assert result.ok
    assert read_tree(site / "_site") == _cold(site)
    assert "A later note" not in (site / "_site/index.html").read_text()


def test_a_deleted_state_file_is_harmless(tmp_path: Path) -> None:
    site = _site(tmp_path)
    (site / ".briefing-cache/state.pickle").write_bytes(b"not a pickle")
    _edit(site, ARTICLE, "was blamed", "was blamed again")
    result = build(site)
    assert result.ok and not _warm(result)
    assert read_tree(site / "_site") == _cold(site)


def test_the_journal_of_edits_replays_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.engine import warm

    monkeypatch.setattr(warm, "JOURNAL_LIMIT", 2)  # saved afresh after the third edit
    site = _site(tmp_path)
    titles = ["Drone strike one", "Drone strike two", "Drone strike three", "Drone strike four"]
    current = "Drone attack on Ain al-Asad"
    for title in titles:
        _edit(site, ARTICLE, f"title: {current}", f"title: {title}")
        current = title
        result = build(site)
        assert _warm(result) and result.ok
        assert read_tree(site / "_site") == _cold(site)
    _edit(site, NOTE, "confidence: moderate", "confidence: high")  # replays four title edits first
    assert _warm(build(site))
    assert read_tree(site / "_site") == _cold(site)
