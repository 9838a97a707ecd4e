"""The cache and the process pool never change what is built, only how fast."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import BASIC, REPO, read_tree, write_site
from generator.content import load
from generator.engine.build import build
from generator.output.write import MARKER


def tree(out: Path) -> dict[str, bytes]:
    files = read_tree(out)
    assert MARKER not in files  # the build's bookkeeping is kept outside the output
    return files


def cold(site: Path, tmp_path: Path, name: str = "cold") -> dict[str, bytes]:
    out = tmp_path / name
    shutil.rmtree(out, ignore_errors=True)
    result = build(site, output=out, use_cache=False)
    assert result.ok, list(result.diagnostics)
    return tree(out)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.fixture(autouse=True)
def no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # Files written by a test are seconds old at most; let the cache trust them as a
    # later run would (RACY_SECONDS has its own test below).
    monkeypatch.setattr(load, "RACY_SECONDS", -1.0)


def bump_mtime(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_edited_title_reaches_every_page_that_shows_it(basic_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(basic_site, output=out).ok
    article = basic_site / "content/articles/drone-attack.md"
    edit(article, "title: Drone attack on Ain al-Asad", "title: Drone strike on Ain al-Asad")
    edit(basic_site / "content/notes/assessment.md", "[[Drone attack on Ain al-Asad]]", "[[Drone strike on Ain al-Asad]]")
    bump_mtime(article)
    result = build(basic_site, output=out)
    assert result.ok and 0 < result.rendered_pages
    warm = tree(out)
    assert warm == cold(basic_site, tmp_path)
    showing = sorted(k for k, v in warm.items() if b"Drone strike on Ain al-Asad" in v)
    # the page itself, both listings, its tags' pages and feeds, backlink and related lists
    for expected in ["articles/drone-attack/index.html", "index.html", "timeline/index.html", "feed.xml",
                     "actors/kataib-hezbollah/index.html", "actors/kataib-hezbollah/feed.xml",
                     "places/baghdad/index.html", "notes/assessment/index.html"]:
        assert expected in showing, expected
    assert not any(b"Drone attack on Ain al-Asad" in v for v in warm.values())


def test_no_change_rebuild_writes_no_file(basic_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(basic_site, output=out)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    again = build(basic_site, output=out)
    assert again.written is not None and not again.written.swapped and again.rendered_pages == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


@pytest.mark.parametrize("rounds", [4])
def test_many_incremental_builds_equal_cold_builds(basic_site: Path, tmp_path: Path, rounds: int) -> None:
    """Alternating live/spare folders stay exact over several edits, additions and deletions."""
    out = tmp_path / "out"
    build(basic_site, output=out)
    note = basic_site / "content/notes/assessment.md"
    for i in range(rounds):
        edit(note, "confidence: moderate" if i % 2 == 0 else "confidence: high",
             "confidence: high" if i % 2 == 0 else "confidence: moderate")
        bump_mtime(note)
        extra = basic_site / f"content/articles/extra-{i}.md"
        extra.write_text(f"---\ntitle: Extra {i}\ndate: 2023-11-0{i + 1}\nactors: [KH]\n---\nBody {i}.\n")
        if i:
            (basic_site / f"content/articles/extra-{i - 1}.md").unlink()
        assert build(basic_site, output=out).ok
        assert tree(out) == cold(basic_site, tmp_path), f"round {i}"


def test_a_preview_leaves_the_builds_page_fingerprints_alone(basic_site: Path, tmp_path: Path) -> None:
    """The preview server writes its own folder with its own base URL through the same cache:
    the next full `briefing build` still renders only the pages that changed."""
    out = tmp_path / "out"
    first = build(basic_site, output=out)
    preview = build(basic_site, output=tmp_path / "preview", base_url="http://127.0.0.1:8000/", in_place=True)
    assert first.ok and preview.ok and preview.rendered_pages == first.rendered_pages
    (basic_site / "content/articles/extra.md").write_text(  # a new document: the full build
        "---\ntitle: Extra\ndate: 2023-11-02\nactors: [KH]\n---\nBody.\n")
    second = build(basic_site, output=out)
    assert second.ok and 0 < second.rendered_pages < first.rendered_pages - 10, second.rendered_pages
    assert tree(out) == cold(basic_site, tmp_path)


def test_template_and_config_changes_rebuild_everything(basic_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = build(basic_site, output=out)
    (basic_site / "layouts").mkdir()
    (basic_site / "layouts/footer.html").write_text("<p>Desk footer v2</p>\n")
    second = build(basic_site, output=out)
    assert second.rendered_pages == first.rendered_pages
    assert all(b"Desk footer v2" in v for k, v in tree(out).items() if k.endswith("index.html"))
    (basic_site / "site.yml").write_text("title: Renamed desk\nbase_url: https://user.github.io/repo/\n")
    build(basic_site, output=out)
    assert tree(out) == cold(basic_site, tmp_path)
    assert b"Renamed desk" in tree(out)["index.html"]


def test_racy_files_are_not_trusted(basic_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file saved twice within the file system's timestamp granularity is re-read."""
    monkeypatch.setattr(load, "RACY_SECONDS", 3600.0)
    out = tmp_path / "out"
    article = basic_site / "content/articles/drone-attack.md"
    build(basic_site, output=out)
    stat = article.stat()
    edit(article, "was blamed", "was held responsible")  # same size would be worse; keep mtime equal
    os.utime(article, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    build(basic_site, output=out)
    assert b"was held responsible" in tree(out)["articles/drone-attack/index.html"]


def test_deleted_output_file_is_restored(basic_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(basic_site, output=out)
    (out / "places/baghdad/index.html").unlink()
    shutil.rmtree(out)  # a user wiping the folder by hand
    assert build(basic_site, output=out).ok
    assert tree(out) == cold(basic_site, tmp_path)


def test_pool_output_is_identical_to_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = dict(BASIC)
    for i in range(120):  # above parallel.INLINE_BELOW, so the pool really runs
        files[f"content/articles/gen-{i:03d}.md"] = (
            f"---\ntitle: Generated {i}\ndate: 2023-10-{i % 28 + 1:02d}\nactors: [KH, Actor {i % 7}]\n"
            f"places: [Baghdad, Place {i % 5}]\n---\n## Part {i}\nSee [[KH]] and [[Generated {(i + 1) % 120}]].\n"
        )
    site = write_site(tmp_path / "site", files)
    monkeypatch.setenv("BRIEFING_WORKERS", "1")
    one = cold(site, tmp_path, "one")
    monkeypatch.setenv("BRIEFING_WORKERS", "2")
    two = cold(site, tmp_path, "two")
    assert one == two and len(one) > 150


def test_a_pages_fingerprint_walk_finds_what_it_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """First builds learn which documents and bodies each page shows while the workers
    fingerprint it (render.fingerprint(..., found)); it must agree with render.shown,
    which the preview server and warm builds use to pick the pages an edit touches."""
    from generator.pages import render

    from generator.content.cache import Cache

    monkeypatch.setenv("BRIEFING_WORKERS", "2")  # found in the page workers, and sent back as numbers
    cache = Cache(tmp_path / "cache.sqlite")  # (open: the search shards' fingerprints read the words)
    result = build(REPO, output=tmp_path / "out", cache=cache)
    assert result.ok and result.state is not None
    pages = result.state.pages
    assert len(result.shown) == len(pages)  # a first build: every page rendered
    for page in pages:
        found: render.Shown = (set(), set())
        render.fingerprint(page, "salt", found)
        assert found == render.shown(page), page.path
        assert tuple(map(set, result.shown[page.path])) == found, page.path
    assert sum(len(docs) for docs, _ in result.shown.values()) > 10 * len(result.state.site.documents)
    site = result.state.site
    own = {id(ref) for ref in [*site.documents, *site.entities]}
    assert all(id(ref) in own for found in result.shown.values() for refs in found for ref in refs)  # no copies


def test_refs_travel_from_the_page_workers_as_numbers() -> None:
    from generator.engine.pipeline import _RefCodes

    refs = [("article", f"a-{i}") for i in range(300)] + [("actor", "kh")]
    codes = _RefCodes(refs)
    found = {("article", "a-7"), ("actor", "kh"), ("article", "a-299")}
    packed = codes.pack({(kind, slug) for kind, slug in found})  # equal refs, other objects
    assert type(packed) is bytes and len(packed) == 12
    back = codes.unpack(packed)
    assert set(back) == found and all(any(ref is mine for mine in refs) for ref in back)
    stray = {("article", "not-listed"), ("actor", "kh")}
    assert set(codes.unpack(codes.pack(stray))) == stray  # a ref outside the list travels as itself
    assert codes.unpack(codes.pack(set())) == ()


def test_drawings_come_from_the_cache_until_what_they_show_changes(basic_site: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.pages import svg

    drawn: list[str] = []
    for name in ("map_svg", "ego_graph"):
        real = getattr(svg, name)

        def counted(*args, _real=real, _name=name, **kwargs):  # type: ignore[no-untyped-def]
            drawn.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(svg, name, counted)
    out = tmp_path / "out"
    assert build(basic_site, output=out).ok
    first = len(drawn)
    assert first > 0
    (basic_site / "content/notes.txt").write_text("an asset: the full build, not the fast path\n")
    drawn.clear()
    assert build(basic_site, output=out).ok
    assert drawn == [] or drawn == ["map_svg"]  # the places index's map is drawn every time
    assert tree(out) == cold(basic_site, tmp_path)
    article = basic_site / "content/articles/drone-attack.md"
    edit(article, "actors:", "actors:\n  - Hamas")  # a new actor in common: its graphs change
    bump_mtime(article)
    drawn.clear()
    assert build(basic_site, output=out).ok
    assert 0 < drawn.count("ego_graph") < first
    assert tree(out) == cold(basic_site, tmp_path, "cold2")
