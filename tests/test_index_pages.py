"""Index pages, sitemaps and archive URLs past the page budget (issue 18).

- `/actors/` and `/places/` of more than render.INDEX_BUDGET entities show the most documented
  and an A–Z of letter pages (`/actors/letter/a/`, `0-9`, `other`), each cut into parts.
- Past render.SITEMAP_LIMIT URLs, `sitemap.xml` is a sitemap index of `sitemap-1.xml`, … .
- A document named like a month (`content/articles/2024-10.md`) keeps its URL; that month's
  archive of its section moves to `articles/archive/2024-10/`.

The budgets are lowered with monkeypatch so that tiny sites, built for real, cross them.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Sequence
from urllib.parse import unquote

import pytest
from lxml import etree

from conftest import BASIC, read_tree, write_site
from generator.engine.build import build
from generator.output.audit import audit_written
from generator.pages import features, render
from generator.site.urls import archive_path, index_letter, letter_path

BASE = "https://user.github.io/repo/"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SCHEMAS = Path(__file__).parent / "schemas"
PAGE_BUDGET = 400 * 1024
REAL_INDEX_BUDGET = render.INDEX_BUDGET
_ROW_LINK = re.compile(r'<tr><td><a href="/repo/((?:actors|places)/[^"]+/)">')


def _built(site: Path, out: Path) -> dict[str, str]:
    result = build(site, output=out)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    errors = [d for d in audit_written(result.site, result.pages, result.config, out, dt.date(2030, 1, 1))
              if d.level == "error"]
    assert not errors, "\n".join(map(str, errors))  # every link of every page, sitemap included, goes somewhere
    return {k: v.decode("utf-8") for k, v in read_tree(out).items() if k.endswith((".html", ".xml"))}


def _article(slug: str, date: str, actors: Sequence[str] = (), places: Sequence[str] = (), title: str = "") -> dict[str, str]:
    front = (f"title: {title or slug.replace('-', ' ').capitalize()}\ndate: {date}\nsummary: About {slug}.\n"
             f"actors: [{', '.join(actors)}]\nplaces: [{', '.join(places)}]\n")
    return {f"content/articles/{slug}.md": f"---\n{front}---\nText.\n"}


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize("name, letter", [
    ("Kataib Hezbollah", "k"), ("al-Nujaba", "a"), ("Ḥarakat al-Nujaba", "h"), ("Émirats", "e"),
    ("1920 Revolution Brigades", "0-9"), ("#1 Group", "0-9"), ("كتائب حزب الله", "other"), ("Ægis", "other"),
    ("'Asa'ib", "a"), ("", "other"),
])
def test_names_are_filed_by_their_folded_first_letter(name: str, letter: str) -> None:
    assert index_letter(name) == letter


@pytest.mark.parametrize("args, path", [
    (("timeline/", "2024-10"), "timeline/2024-10/"),
    (("timeline/", "2024-10", 3), "timeline/2024-10/3/"),
    (("articles/", "2024-10", 1, {"2024-09", "drone-attack"}), "articles/2024-10/"),
    (("articles/", "2024-10", 1, {"2024-10"}), "articles/archive/2024-10/"),  # a document has the month's name
    (("articles/", "2024-10", 2, {"2024-10"}), "articles/archive/2024-10/2/"),
])
def test_archive_paths(args: tuple, path: str) -> None:
    assert archive_path(*args) == path


def test_letter_paths() -> None:
    assert letter_path("actor", "a") == "actors/letter/a/"
    assert letter_path("place", "0-9", 2) == "places/letter/0-9/2/"


# --------------------------------------------------------------------------- /actors/ and /places/ by letter

ACTORS = ["Abu Fadl al-Abbas", "Ahl al-Haq", "Ansar Allah", "Asaib Ahl al-Haq", "Ashab al-Kahf", "Alwiya al-Wad",
          "Ain Brigade", "Badr Organisation", "Baqir Brigade", "Ḥarakat al-Nujaba", "Hezbollah", "Kataib Hezbollah",
          "Kataib Sayyid al-Shuhada", "1920 Revolution Brigades", "كتائب حزب الله"]
PLACES = ["Baghdad", "Basra", "Erbil", "Mosul", "Ain al-Asad", "Al-Tanf", "Damascus"]
INDEXED = {
    "content/places/baghdad.md": "---\ntitle: Baghdad\ncoordinates: [33.31, 44.37]\n---\n",
    "content/places/erbil.md": "---\ntitle: Erbil\ncoordinates: [36.19, 44.01]\n---\n",
    # Kataib Hezbollah in 4 documents, Badr in 3, Hezbollah in 2: the three most documented
    **_article("one", "2024-01-01", ACTORS, PLACES),
    **_article("two", "2024-01-02", ["Kataib Hezbollah", "Badr Organisation", "Hezbollah"], ["Baghdad"]),
    **_article("three", "2024-01-03", ["Kataib Hezbollah", "Badr Organisation"], ["Baghdad", "Erbil"]),
    **_article("four", "2024-01-04", ["Kataib Hezbollah"], ["Baghdad"]),
}


@pytest.fixture
def small_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "INDEX_BUDGET", 5)
    monkeypatch.setattr(render, "INDEX_TOP", 3)


@pytest.fixture
def indexed(tmp_path: Path, small_budgets: None) -> dict[str, str]:
    return _built(write_site(tmp_path / "site", INDEXED), tmp_path / "out")


def _rows(html: str) -> list[str]:
    """The entity pages an index page's table links, in order."""
    table = html.split('<table class="index">', 1)[1].split("</table>", 1)[0]
    return _ROW_LINK.findall(table)


def _letter_pages(files: dict[str, str], section: str) -> dict[str, str]:
    return {path: text for path, text in files.items()
            if path.startswith(f"{section}/letter/") and path.endswith("index.html")}


def test_a_big_index_shows_the_most_documented_and_links_every_letter(indexed: dict[str, str]) -> None:
    first = indexed["actors/index.html"]
    assert _rows(first) == ["actors/kataib-hezbollah/", "actors/badr-organisation/", "actors/hezbollah/"]
    assert f"{len(ACTORS)} actors" in first
    letters = re.findall(r'<a class="chip chip-actor" href="/repo/(actors/letter/[^"]+/)">([^ ]+) ', first)
    assert letters == [("actors/letter/a/", "A"), ("actors/letter/b/", "B"), ("actors/letter/h/", "H"),
                       ("actors/letter/k/", "K"), ("actors/letter/0-9/", "0–9"), ("actors/letter/other/", "Other")]
    assert set(_letter_pages(indexed, "actors")) == {
        "actors/letter/a/index.html", "actors/letter/a/2/index.html",  # 7 names under A, 5 a page
        "actors/letter/b/index.html", "actors/letter/h/index.html", "actors/letter/k/index.html",
        "actors/letter/0-9/index.html", "actors/letter/other/index.html"}
    a = indexed["actors/letter/a/index.html"]
    assert 'aria-current="page">A ' in a and '<a href="/repo/actors/letter/a/2/">A, part 2</a>' in a


def test_every_entity_is_on_exactly_one_letter_page(indexed: dict[str, str]) -> None:
    for section, names in (("actors", ACTORS), ("places", PLACES)):
        on_pages = {path: _rows(text) for path, text in _letter_pages(indexed, section).items()}
        listed = [row for rows in on_pages.values() for row in rows]
        entity_pages = {f"{section}/{p.split('/')[1]}/" for p in indexed
                        if p.count("/") == 2 and p.endswith("/index.html") and not p.startswith(f"{section}/letter/")
                        and p.startswith(f"{section}/")}
        assert len(listed) == len(set(listed)) == len(names) and set(map(unquote, listed)) == set(map(unquote, entity_pages))
        assert all(len(rows) <= render.INDEX_BUDGET for rows in on_pages.values())
    h = _rows(indexed["actors/letter/h/index.html"])
    assert h == ["actors/harakat-al-nujaba/", "actors/hezbollah/"]  # Ḥ folds to H, in the order of the folded names
    assert _rows(indexed["actors/letter/0-9/index.html"]) == ["actors/1920-revolution-brigades/"]
    assert len(_rows(indexed["actors/letter/other/index.html"])) == 1


def test_the_places_map_stays_on_the_first_page(indexed: dict[str, str]) -> None:
    assert 'places-map-caption' in indexed["places/index.html"]
    assert not any('places-map-caption' in text for text in _letter_pages(indexed, "places").values())
    assert {"places/letter/a/index.html", "places/letter/b/index.html", "places/letter/d/index.html",
            "places/letter/e/index.html", "places/letter/m/index.html"} == set(_letter_pages(indexed, "places"))


def test_letter_pages_are_in_the_sitemap(indexed: dict[str, str]) -> None:
    locs = set(re.findall(r"<loc>([^<]+)</loc>", indexed["sitemap.xml"]))
    for path in [*_letter_pages(indexed, "actors"), *_letter_pages(indexed, "places")]:
        assert BASE + path.removesuffix("index.html") in locs


def test_the_first_page_stays_small(indexed: dict[str, str]) -> None:
    """Rows as measured here, times the real budget, are well within the page budget."""
    first = indexed["actors/index.html"]
    table = first.split('<table class="index">', 1)[1].split("</table>", 1)[0]
    rows = table.count("<tr><td>")
    per_row = len(table.encode()) / rows
    chrome = len(first.encode()) - len(table.encode())
    assert rows == render.INDEX_TOP and chrome + REAL_INDEX_BUDGET * per_row < PAGE_BUDGET / 2, (chrome, per_row)
    assert len(first.encode()) < len(indexed["actors/letter/a/index.html"].encode()) + 2048


def test_a_small_index_is_one_page(tmp_path: Path) -> None:
    files = _built(write_site(tmp_path / "site", INDEXED), tmp_path / "out")  # the real budgets
    assert not _letter_pages(files, "actors") and not _letter_pages(files, "places")
    assert len(_rows(files["actors/index.html"])) == len(ACTORS) and "letter" not in files["actors/index.html"]


# --------------------------------------------------------------------------- sitemap index

SITEMAP_SITE = {
    **BASIC,
    **{k: v for n in range(30) for k, v in _article(f"report-{n:02d}", f"2023-09-{n + 1:02d}", ["KH"]).items()},
}


def _sitemap_locs(text: str) -> list[str]:
    return [loc.text for loc in etree.fromstring(text.encode()).iter(SITEMAP + "loc")]


def test_a_big_sitemap_is_an_index_of_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = write_site(tmp_path / "site", SITEMAP_SITE)
    whole = _sitemap_locs(_built(site, tmp_path / "whole")["sitemap.xml"])
    monkeypatch.setattr(render, "SITEMAP_LIMIT", 10)
    files = _built(site, tmp_path / "out")
    index = etree.fromstring(files["sitemap.xml"].encode())
    assert index.tag == SITEMAP + "sitemapindex"
    chunks = _sitemap_locs(files["sitemap.xml"])
    count = -(-len(whole) // 10)
    assert chunks == [f"{BASE}sitemap-{n}.xml" for n in range(1, count + 1)]
    assert {p for p in files if p.startswith("sitemap-")} == {f"sitemap-{n}.xml" for n in range(1, count + 1)}
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "sitemap.xsd")))
    listed: list[str] = []
    for n in range(1, count + 1):
        chunk = etree.fromstring(files[f"sitemap-{n}.xml"].encode())
        assert schema.validate(chunk), schema.error_log
        locs = _sitemap_locs(files[f"sitemap-{n}.xml"])
        assert 0 < len(locs) <= 10
        listed += locs
    assert sorted(listed) == sorted(whole) and len(listed) == len(set(listed))  # every page in exactly one file
    # documents first, oldest first: the newest document ends them
    docs = [u for u in listed if re.fullmatch(re.escape(BASE) + r"(articles|notes)/[^/]+/", u)]
    assert len(docs) == 32 and listed[: len(docs)] == docs
    assert docs[0] == f"{BASE}articles/report-00/" and docs[-1] == f"{BASE}notes/assessment/"
    lastmods = [m.text for m in index.iter(SITEMAP + "lastmod")]
    assert lastmods[0] == "2023-09-10"  # the newest lastmod of the file's pages


def test_a_new_document_changes_few_sitemap_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "SITEMAP_LIMIT", 10)
    site = write_site(tmp_path / "site", SITEMAP_SITE)
    before = _built(site, tmp_path / "out")
    write_site(site, _article("report-new", "2023-10-30", ["KH"]), site_yml=None)
    after = _built(site, tmp_path / "out2")
    changed = sorted(p for p in after if p.startswith("sitemap-") and before.get(p) != after[p])
    # 32 documents: files 1-3 hold the 30 oldest and do not change
    assert changed and all(int(p[8:-4]) > 3 for p in changed), changed


def test_a_small_sitemap_is_one_file(basic_site: Path, tmp_path: Path) -> None:
    files = _built(basic_site, tmp_path / "out")
    assert files["sitemap.xml"].startswith('<?xml version="1.0" encoding="utf-8"?>\n<urlset ')
    assert not any(p.startswith("sitemap-") for p in files)


# --------------------------------------------------------------------------- a document named like a month

MONTHS = {
    **{k: v for n in range(4) for k, v in _article(f"october-{n}", f"2024-10-{n + 10}", ["KH"]).items()},
    **{k: v for n in range(3) for k, v in _article(f"september-{n}", f"2024-09-{n + 10}", ["KH"]).items()},
    **_article("2024-10", "2024-11-02", ["KH"], title="October 2024 in review"),
    **_article("november", "2024-11-03", ["KH"]),
    **_article("archive", "2024-11-04", ["KH"], title="Archive of the desk"),  # the archives' folder: below it
    "content/actors/kh.md": "---\ntitle: KH\n---\n",
}


@pytest.fixture
def monthly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setattr(features, "archive", functools.partial(features.archive, budget=3))
    return _built(write_site(tmp_path / "site", MONTHS), tmp_path / "out")


def test_a_document_named_like_a_month_keeps_its_url(monthly: dict[str, str]) -> None:
    assert '<h1 id="doc-title">October 2024 in review</h1>' in monthly["articles/2024-10/index.html"]
    archive = monthly["articles/archive/2024-10/index.html"]  # 4 documents, 3 a page: 2 parts
    assert "<h1>Articles: October 2024 (1 of 2)</h1>" in archive and "/repo/articles/october-3/" in archive
    assert 'href="/repo/articles/archive/2024-10/2/"' in archive
    assert "<h1>Articles: October 2024 (2 of 2)</h1>" in monthly["articles/archive/2024-10/2/index.html"]
    assert '<h1 id="doc-title">Archive of the desk</h1>' in monthly["articles/archive/index.html"]
    assert "articles/2024-09/index.html" in monthly and "articles/2024-11/index.html" in monthly  # others stay
    listing = monthly["articles/index.html"]
    assert 'href="/repo/articles/archive/2024-10/"' in listing and 'href="/repo/articles/2024-09/"' in listing
    # the neighbours of October link to it where it is
    assert 'href="/repo/articles/archive/2024-10/"' in monthly["articles/2024-09/index.html"]
    assert 'href="/repo/articles/archive/2024-10/"' in monthly["articles/2024-11/index.html"]
    # the timeline's and the actor's archives have nothing of that name beside them
    assert "<h1>Timeline: October 2024" in monthly["timeline/2024-10/index.html"]
    assert "<h1>KH: October 2024" in monthly["actors/kh/2024-10/index.html"]
    locs = re.findall(r"<loc>([^<]+)</loc>", monthly["sitemap.xml"])
    assert {BASE + "articles/2024-10/", BASE + "articles/archive/2024-10/"} <= set(locs)
