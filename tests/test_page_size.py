"""Page size (issue 18): at 10,000 documents no HTML page is over 400 KB.

Listings (/timeline/, /articles/, /notes/, busy actor and place pages) show the latest months
within a budget and archive the rest by month (features.archive); every month is linked from
its listing and every document is reachable from one. The 10,000-document corpus comes from
../shared/bench/make_corpus.py (as the benchmarks make it) and is built once per session.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from generator.engine.build import build
from generator.pages import features

CORPUS_SCRIPT = REPO.parent / "shared" / "bench" / "make_corpus.py"
# Beside the repo on the desk's machines; a clean clone elsewhere uses the tests' own generator.
SHARED_CORPUS = CORPUS_SCRIPT.is_file() and not os.environ.get("BRIEFING_TEST_OWN_CORPUS")
BUDGET = 400 * 1024
BASE = "/bench/"  # the path of the corpus's base_url
HREF = re.compile(r'href="([^"#]*)')
MONTH = re.compile(r"\d{4}-\d{2}$")


@pytest.fixture(scope="session")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output of the 10,000-document corpus, built once."""
    root = tmp_path_factory.mktemp("pages-10k")
    if SHARED_CORPUS:
        subprocess.run([sys.executable, str(CORPUS_SCRIPT), "--n", "10000", "--out", str(root / "site")],
                       check=True, stdout=subprocess.DEVNULL)
    else:
        from corpus import write_corpus

        write_corpus(root / "site", n=10000, base_url="https://desk.example.org/bench/")
    out = root / "out"
    result = build(root / "site", output=out)
    assert result.ok, result
    return out


def _links(out: Path, page: str) -> set[str]:
    """The site paths a page links to."""
    text = (out / page / "index.html").read_text(encoding="utf-8")
    return {h[len(BASE):] for h in HREF.findall(text) if h.startswith(BASE)}


def _listing(out: Path, listing: str) -> tuple[set[str], set[str]]:
    """(the listing's page and its archive pages, every path they link to)."""
    pages = {listing} | {str(p.parent.relative_to(out)) + "/" for p in (out / listing).glob("*/index.html")
                         if MONTH.match(p.parent.name)}
    pages |= {str(p.parent.relative_to(out)) + "/" for p in (out / listing).glob("*/*/index.html")
              if MONTH.match(p.parent.parent.name)}
    return pages, set().union(*(_links(out, p) for p in pages))


def _documents(out: Path, section: str) -> set[str]:
    return {f"{section}/{p.parent.name}/" for p in (out / section).glob("*/index.html") if not MONTH.match(p.parent.name)}


def test_no_page_is_over_the_budget(big_site: Path) -> None:
    sizes = {str(p.relative_to(big_site)): p.stat().st_size for p in big_site.rglob("*.html")}
    over = {path: size for path, size in sizes.items() if size > BUDGET}
    assert len(sizes) > 10_000 and not over, sorted(over.items(), key=lambda kv: -kv[1])[:10]


def test_the_timeline_links_every_month_and_every_document_is_listed(big_site: Path) -> None:
    months = {f"timeline/{p.name}/" for p in (big_site / "timeline").iterdir() if MONTH.match(p.name)}
    assert len(months) >= (24 if SHARED_CORPUS else 4) and months <= _links(big_site, "timeline")
    for section in ("articles", "notes"):
        docs = _documents(big_site, section)
        assert len(docs) > 1000
        for listing in ("timeline/", f"{section}/"):
            pages, linked = _listing(big_site, listing)
            assert len(pages) > (24 if SHARED_CORPUS else 4) and docs <= linked, (listing, len(docs - linked))
        sections = {f"{section}/{p.name}/" for p in (big_site / section).iterdir() if MONTH.match(p.name)}
        assert sections and sections <= _links(big_site, section)


def _busiest_actor(out: Path) -> str:
    def count(path: Path) -> int:
        found = re.search(r"<dt>Documents</dt><dd>(\d+)", path.read_text(encoding="utf-8"))
        return int(found[1]) if found else 0
    return max((out / "actors").glob("*/index.html"), key=count).parent.name


def test_a_busy_actor_is_archived_by_month(big_site: Path) -> None:
    slug = _busiest_actor(big_site)
    page = (big_site / f"actors/{slug}/index.html").read_text(encoding="utf-8")
    total = int(re.search(r"<dt>Documents</dt><dd>(\d+)", page)[1])  # type: ignore[index]
    assert total > 2 * features.LISTING_BUDGET
    assert page.count('class="doc-item"') <= features.LISTING_BUDGET
    pages, linked = _listing(big_site, f"actors/{slug}/")
    listed = {p for p in linked if p.startswith(("articles/", "notes/")) and not MONTH.search(p.strip("/"))}
    counts = re.findall(r'aria-label="(\d+) documents"', page.split('id="archive"', 1)[1])
    assert len(pages) > (12 if SHARED_CORPUS else 4) and sum(map(int, counts)) == total and len(listed) >= total


def test_month_pages_link_their_neighbours(big_site: Path) -> None:
    months = sorted(p.name for p in (big_site / "timeline").iterdir() if MONTH.match(p.name))
    middle = months[len(months) // 2]
    links = _links(big_site, f"timeline/{middle}")
    neighbours = {f"timeline/{months[len(months) // 2 - 1]}/", f"timeline/{months[len(months) // 2 + 1]}/"}
    assert neighbours <= links
    if (big_site / f"timeline/{middle}/2").is_dir():
        assert f"timeline/{middle}/2/" in links


@pytest.mark.parametrize("sizes, budget, first, more, paths", [
    ([2, 1], 5, [2, 1], "", []),  # within the budget: everything, no archive
    ([2, 2, 3], 5, [2, 2], "", ["t/m0/", "t/m1/", "t/m2/"]),  # whole months only
    ([7, 1], 5, [5], "t/m0/2/", ["t/m0/", "t/m0/2/", "t/m1/"]),  # the latest month alone is over: its first part
    ([5, 6], 5, [5], "", ["t/m0/", "t/m1/", "t/m1/2/"]),
])
def test_archive_cuts_whole_months(sizes: list[int], budget: int, first: list[int], more: str,
                                   paths: list[str]) -> None:
    months = [(f"m{i}", f"Month {i}", [object() for _ in range(n)]) for i, n in enumerate(sizes)]
    cut = features.archive("t/", months, budget)  # type: ignore[arg-type]
    assert [len(docs) for _, _, docs in cut.first] == first and cut.more == more
    assert [path for path, _ in cut.pages] == paths
    assert [row[3] for row in cut.months] == ([f"t/m{i}/" for i in range(len(sizes))] if paths else [])
    if paths:
        assert sum(len(c["docs"]) for _, c in cut.pages) == sum(sizes)
        assert cut.pages[0][1]["newer"] is None and cut.pages[-1][1]["older"] is None


def test_the_benchmark_reports_page_sizes(tmp_path: Path) -> None:
    """`python -m benchmarks` reports the same budget (benchmarks/pages.py) for the 100,000 case."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from benchmarks import pages

    files = {"big/index.html": 500 * 1024, "small/index.html": 10 * 1024, "index.html": 3 * 1024,
             "search/index.json": 30 * 1024, "assets/style.css": 20 * 1024, ".nojekyll": 0}
    for rel, size in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x" * size)
    sizes = pages.sizes(tmp_path)
    assert pages.BUDGET == BUDGET
    assert (sizes.html_pages, sizes.other_files) == (3, 3)
    assert sizes.largest_html == ("big/index.html", 500 * 1024) and sizes.over == [("big/index.html", 500 * 1024)]
    assert sizes.largest_other == ("search/index.json", 30 * 1024)
    text = pages.section([(10_000, sizes)])
    assert "| 10,000 documents | 3 (171 KB) | `big/index.html` 500 KB | 1 (over the budget) " in text
    assert "`search/index.json` 30 KB (3) |" in text
    assert "Over the budget in 10,000 documents: `big/index.html` 500 KB." in text
