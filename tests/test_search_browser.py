"""The search page and the list filters in a real headless Chromium: typos, short names,
ranking, snippets, the address as the state, hostile text, and what a first query downloads.

The sample site is built once and served under its base path, as GitHub Pages would serve it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import BASIC, REPO, write_site
from generator.engine.build import build
from generator.pages import search
from support import static_server

PREFIX = "/briefing/"
MAKE_CORPUS = REPO.parent / "shared" / "bench" / "make_corpus.py"
# Beside the repo on the desk's machines; a clean clone elsewhere uses the tests' own generator.
SHARED_CORPUS = MAKE_CORPUS.is_file() and not os.environ.get("BRIEFING_TEST_OWN_CORPUS")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("search") / "site"
    result = build(REPO, output=out, base_url="https://example.github.io/briefing/", use_cache=False)
    assert result.ok, [str(d) for d in result.diagnostics]
    with static_server(out, PREFIX) as base:
        yield base


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    """A fresh tab (its own context: nothing cached) that records errors and failed requests."""
    context = browser.new_context()
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda m: tab.problems.append(f"console: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.problems.append(f"pageerror: {e}"))
    tab.on("response", lambda r: tab.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    yield tab
    context.close()


def answered(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function("document.querySelector('#search-status').textContent.includes('match') && "
                           "(document.querySelector('#search-docs li') || "
                           "document.querySelector('#search-status').textContent.startsWith('Nothing'))")


def entities(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#search-entities li a").all_inner_texts()


def titles(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#search-docs li .doc-title").all_inner_texts()


def tagged(page, base: str, actor: str) -> set[str]:  # type: ignore[no-untyped-def]
    page.goto(base + f"actors/{actor}/")
    return set(page.locator("#tagged ~ ol li .doc-title").all_inner_texts())


def test_a_typo_still_finds_kataib_hezbollah_first(site: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(site + "search/")
    page.locator("#search-q").press_sequentially("Hezbolah")
    answered(page)
    assert entities(page)[0] == "Kataib Hezbollah"
    found = titles(page)
    kh = tagged(page, site, "kataib-hezbollah")
    assert found and found[0] in kh
    assert not page.problems, page.problems


def test_an_acronym_matches_the_alias_before_prefixes(site: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(site + "search/?q=KH")
    answered(page)
    names = entities(page)
    assert names[0] == "Kataib Hezbollah"
    assert "Ali Khamenei" not in names[:1]
    found = titles(page)
    kh = tagged(page, site, "kataib-hezbollah")
    khamenei = tagged(page, site, "ali-khamenei")
    # every document tagged with KH comes before any that only a prefix ("Kh…amenei") finds
    first_other = next((i for i, t in enumerate(found) if t not in kh), len(found))
    assert set(found[:first_other]) == kh
    assert all(t not in khamenei - kh for t in found[:first_other])
    assert not page.problems, page.problems


def test_results_are_ranked_by_field_then_date(site: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(site + "search/?q=Tanf")
    answered(page)
    found = titles(page)
    assert found[0] == "Pentagon reports drone attack on Al-Tanf garrison"  # in its title
    dates = page.locator("#search-docs li time").evaluate_all("ts => ts.map(t => t.dateTime)")
    assert len(dates) == len(found)
    assert not page.problems, page.problems


def test_snippets_mark_the_matched_words(site: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(site + "search/")
    page.fill("#search-q", "Jurf")
    answered(page)
    marks = page.locator("#search-docs li mark").all_inner_texts()
    assert marks and {m.lower() for m in marks} == {"jurf"}
    assert page.locator("#search-docs li .snippet mark").count() >= 1  # in the text under a title, not only in it
    assert page.locator("#search-docs li .doc-title mark").count() >= 1
    # the snippet's marks are elements made from text: no markup comes from the index
    assert page.locator("#search-docs li .snippet *:not(mark)").count() == 0
    assert not page.problems, page.problems


def test_the_address_holds_the_query_and_the_filters(site: str, page) -> None:  # type: ignore[no-untyped-def]
    kh = tagged(page, site, "kataib-hezbollah")
    page.goto(site + "search/?q=strikes&actor=kataib-hezbollah&kind=note")
    answered(page)
    assert page.input_value("#search-q") == "strikes"
    assert page.input_value("#search-form select[name=actor]") == "kataib-hezbollah"
    assert page.input_value("#search-form select[name=kind]") == "note"
    found = titles(page)
    assert found and set(found) <= kh
    assert set(page.locator("#search-docs li .kind").all_inner_texts()) == {"ANALYST NOTE"}
    # typing and choosing rewrite the address in place (a view to share or bookmark)
    page.fill("#search-q", "Baghdad")
    page.select_option("#search-form select[name=kind]", "")
    page.wait_for_function("location.search.includes('q=Baghdad')")
    assert parse_qs(urlsplit(page.url).query) == {"q": ["Baghdad"], "actor": ["kataib-hezbollah"]}
    back = page.url
    page.goto(site)
    page.goto(back)
    answered(page)
    assert page.input_value("#search-q") == "Baghdad"
    assert set(titles(page)) <= kh
    assert not page.problems, page.problems


def test_timeline_filters_live_in_the_address(site: str, page) -> None:  # type: ignore[no-untyped-def]
    kh = tagged(page, site, "kataib-hezbollah")
    page.goto(site + "timeline/?actor=kataib-hezbollah")
    page.wait_for_function("document.querySelector('[data-filter-status]').textContent.startsWith('Showing')")
    assert page.input_value("form[data-list-filter] select[name=actor]") == "kataib-hezbollah"
    assert set(page.locator("li.doc-item:visible .doc-title").all_inner_texts()) == kh
    page.select_option("form[data-list-filter] select[name=kind]", "note")
    page.wait_for_function("location.search.includes('kind=note')")
    assert parse_qs(urlsplit(page.url).query) == {"actor": ["kataib-hezbollah"], "kind": ["note"]}
    page.select_option("form[data-list-filter] select[name=actor]", "")
    page.select_option("form[data-list-filter] select[name=kind]", "")
    page.wait_for_function("location.search === ''")
    assert not page.problems, page.problems


def test_the_browser_folds_shards_and_decodes_as_the_build_does(site: str, page) -> None:  # type: ignore[no-untyped-def]
    source = (REPO / "generator/theme/static/search.js").read_text(encoding="utf-8")
    helpers = source[source.index("  var APOSTROPHES"):source.index("  // ------------------------------------------------------------------ the index")]
    page.goto(site + "search/")
    terms = ["kh", "hezbollah", "militia", "ab", "жёлтый", "قوات", "a1b2", "ḥizballah", "𝔞𝔟𝔠", "zz"]
    texts = ["Kata'ib Ḥizballah", "Ministère des Armées", "O’Brien", "Şanlıurfa"]
    numbers = [[], [0], [31, 32, 1057], list(range(0, 200, 3)), list(range(60))]
    got = page.evaluate("""([code, terms, texts, encoded]) => {
        const h = new Function(code + "; return {fold, shardOf, decode};")();
        return {shards: terms.map(t => [h.shardOf(t, 256), h.shardOf(t, 8)]), folded: texts.map(h.fold),
                decoded: encoded.map(h.decode)};
    }""", [helpers, terms, texts, [search.encode(n) for n in numbers]])
    assert got["shards"] == [[search.shard_of(t, 256), search.shard_of(t, 8)] for t in terms]
    assert got["folded"] == [search.fold(t) for t in texts]
    assert got["decoded"] == numbers


HOSTILE = {
    **BASIC,
    "content/articles/hostile.md": """
        ---
        title: '<img src=x onerror="window.__pwned=1"> Quokka report'
        date: 2023-10-19
        summary: 'Quokka <b>bold</b> <script>window.__pwned=2</script>'
        ---
        <script>window.__pwned=3</script> Quokka text.
        """,
}


def test_hostile_text_in_results_is_text(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    assert build(write_site(tmp_path / "site", HOSTILE), output=out).ok
    with static_server(out, "/repo/") as base:
        page = browser.new_page()
        page.goto(base + "search/?q=quokka")
        answered(page)
        link = page.locator("#search-docs li .doc-title").first
        assert link.inner_text().startswith('<img src=x onerror="window.__pwned=1">')
        assert page.locator("#search-docs img, #search-docs script, #search-docs b").count() == 0
        assert page.locator("#search-docs li mark").count() >= 2
        assert page.evaluate("window.__pwned") is None
        page.close()


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """2,000 documents from the benchmark's corpus generator, built and served."""
    root = tmp_path_factory.mktemp("large")
    if SHARED_CORPUS:
        subprocess.run([sys.executable, str(MAKE_CORPUS), "--n", "2000", "--out", str(root / "site")], check=True,
                       stdout=subprocess.DEVNULL)
    else:  # a clean clone without shared/bench beside it: the tests' own generator
        from corpus import write_corpus

        write_corpus(root / "site", n=2000, base_url="https://desk.example.org/bench/")
    out = root / "out"
    assert build(root / "site", output=out).ok
    prefix = "/" + urlsplit(_base_url(root / "site")).path.strip("/") + "/"
    with static_server(out, prefix.replace("//", "/")) as base:
        yield base


def _base_url(site: Path) -> str:
    line = next(line for line in (site / "site.yml").read_text().splitlines() if line.startswith("base_url:"))
    return line.split(":", 1)[1].strip().strip("'\"")


@pytest.mark.parametrize("typed, address", [
    ("hezbolah", ""),  # a typo of a name
    ("militia", ""),  # a word in nearly every document
    ("drone supply routes" if SHARED_CORPUS else "drone rocket attack", ""),  # three common words
    ("ka", ""),
    ("", "q=militia&actor=hezbollah&from=2023-06-01"),
    ("", "actor=hezbollah"),
])
def test_a_first_query_at_2000_documents_fetches_at_most_500_kb(large: str, browser, typed: str, address: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()  # nothing cached
    page = context.new_page()
    sizes: dict[str, int] = {}
    page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())) if "/search/" in r.url and
            r.url.endswith(".json") else None)
    if typed:
        page.goto(large + "search/")
        page.fill("#search-q", typed)
    else:
        page.goto(large + "search/?" + address)
    answered(page)
    page.wait_for_load_state("networkidle")
    assert "Nothing" not in page.locator("#search-status").inner_text()
    assert page.locator("#search-docs li").count() == 20
    total = sum(sizes.values())
    assert total <= 500_000, (total, sorted(sizes.items(), key=lambda kv: -kv[1])[:5])
    assert any(u.endswith("/search/index.json") for u in sizes) and len(sizes) < 40
    context.close()
