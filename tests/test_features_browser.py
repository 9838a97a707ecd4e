"""Search, filters, graphs and maps of the sample site in a real headless Chromium.

The site is built once into a temp folder and served under its base path by a
loopback HTTP server, as GitHub Pages would serve it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from conftest import REPO
from generator.engine.build import build
from support import static_server

PREFIX = "/briefing/"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    out = tmp_path_factory.mktemp("features") / "site"
    result = build(REPO, output=out, base_url="https://example.github.io/briefing/", use_cache=False)
    assert result.ok, [str(d) for d in result.diagnostics]
    with static_server(out, PREFIX) as base:
        yield base, out


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    """A fresh tab that records console errors, page errors and failed requests."""
    tab = browser.new_page()
    tab.problems = []
    tab.on("console", lambda m: tab.problems.append(f"console: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.problems.append(f"pageerror: {e}"))
    # a navigation cancels what the previous page was still fetching (its favicon): not a problem
    tab.on("requestfailed", lambda r: tab.problems.append(f"failed: {r.url} {r.failure}")
           if "ERR_ABORTED" not in (r.failure or "") else None)
    tab.on("response", lambda r: tab.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    yield tab
    tab.close()


def result_titles(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#search-docs li .doc-title").all_inner_texts()


def test_typing_in_the_masthead_box_finds_the_document(site, page) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    page.goto(base)
    page.fill("#site-search-q", "Tanf garrison")
    page.press("#site-search-q", "Enter")
    page.wait_for_url("**/search/?q=Tanf+garrison")
    page.wait_for_selector("#search-docs li")
    assert result_titles(page)[0] == "Pentagon reports drone attack on Al-Tanf garrison"
    assert page.input_value("#search-q") == "Tanf garrison"
    # typing refines the results in place, and the address follows
    page.fill("#search-q", "Jurf al-Sakhar strikes")
    page.wait_for_function("document.querySelector('#search-status').textContent.includes('Jurf al-Sakhar strikes')")
    assert "U.S. strikes Kataib Hezbollah sites near Jurf al-Sakhar after missile attack on Ain al-Asad" in result_titles(page)
    assert "q=Jurf+al-Sakhar+strikes" in page.url
    assert not page.problems, page.problems


@pytest.mark.parametrize("query, actor", [
    ("KH", "Kataib Hezbollah"),
    ("Nujaba", "Harakat Hezbollah al-Nujaba"),
    ("kata'ib hizballah", "Kataib Hezbollah"),
])
def test_an_alias_finds_the_actor_and_its_documents(site, page, query: str, actor: str) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    page.goto(base + "search/")
    page.locator("#search-q").press_sequentially(query)
    page.wait_for_selector("#search-entities li")
    assert page.locator("#search-entities li a").first.inner_text() == actor
    # the names are drawn first, the documents once their entries have been fetched
    page.wait_for_function("q => document.querySelector('#search-status').textContent.includes(q)", arg=query)
    page.wait_for_selector("#search-docs li .doc-title")
    titles = result_titles(page)
    assert titles, "no document found"
    # every document found for an alias is tagged with that actor: compare with its page
    page.locator("#search-entities li a").first.click()
    page.wait_for_url("**/actors/**")
    tagged = page.locator("#tagged ~ ol li .doc-title").all_inner_texts()
    assert set(tagged) <= set(titles)
    assert not page.problems, page.problems


def test_filters_narrow_the_search(site, page) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    page.goto(base + "search/?actor=kataib-hezbollah&kind=note")
    page.wait_for_selector("#search-docs li")
    kinds = page.locator("#search-docs li .kind").all_inner_texts()
    assert kinds and set(kinds) == {"ANALYST NOTE"}
    page.fill("#search-form input[name=from]", "2023-11-20")
    page.wait_for_function("[...document.querySelectorAll('#search-docs li time')].every(t => t.dateTime >= '2023-11-20')")
    dates = page.locator("#search-docs li time").evaluate_all("ts => ts.map(t => t.dateTime)")
    assert dates and min(dates) >= "2023-11-20"
    assert not page.problems, page.problems


def test_timeline_filter_by_actor_matches_the_actor_page(site, page) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    page.goto(base + "actors/kataib-hezbollah/")
    expected = sorted(page.locator("#tagged ~ ol li .doc-title").all_inner_texts())
    page.goto(base + "timeline/")
    everything = page.locator("li.doc-item").count()
    page.select_option("form[data-list-filter] select[name=actor]", "kataib-hezbollah")
    page.wait_for_function("document.querySelector('[data-filter-status]').textContent.startsWith('Showing')")
    shown = sorted(page.locator("li.doc-item:visible .doc-title").all_inner_texts())
    assert shown == expected and len(shown) < everything
    assert page.locator("section.month:visible").count() >= 1
    page.select_option("form[data-list-filter] select[name=actor]", "")
    page.wait_for_function("document.querySelector('[data-filter-status]').textContent === ''")
    assert page.locator("li.doc-item:visible").count() == everything
    assert not page.problems, page.problems


def test_actor_page_shows_its_graph_and_map(site, page) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    page.goto(base + "actors/kataib-hezbollah/")
    graph = page.locator("svg.graph[role=img]")
    assert graph.is_visible()
    box = graph.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 150
    assert graph.locator("title").first.text_content() == "Kataib Hezbollah: who it appears with"
    assert graph.locator("circle.g-node").count() >= 5
    assert graph.locator("path.g-aff").count() >= 1  # affiliations from the profile
    # the picture is drawn with the theme's colours, not the SVG defaults
    assert graph.locator("line.g-edge").first.evaluate("e => getComputedStyle(e).stroke") != "none"
    assert page.locator("svg.map[aria-labelledby]").is_visible()
    page.goto(base + "places/baghdad/")
    here = page.locator("svg.map circle.map-here")
    assert here.is_visible()
    assert not page.problems, page.problems


def test_brief_prints_without_navigation(site, page) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    page.goto(base + "brief/")
    assert page.locator(".brief-item").count() >= 3
    page.emulate_media(media="print")
    assert page.locator(".masthead nav").evaluate("e => getComputedStyle(e).display") == "none"
    assert page.locator(".site-search").evaluate("e => getComputedStyle(e).display") == "none"
    assert page.locator(".brief-item").first.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
    assert page.locator(".brief .tlp").first.is_visible()
    assert not page.problems, page.problems


def test_no_console_errors_on_any_page(site, page) -> None:  # type: ignore[no-untyped-def]
    base, out = site
    paths = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html") if p.name != "404.html")
    assert {"search/index.html", "graph/index.html", "brief/index.html", "timeline/index.html"} <= set(paths)
    assert len(paths) > 50
    for path in paths:
        url = base + (path[: -len("index.html")] if path.endswith("index.html") else path)
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        page.wait_for_load_state("load")
    missing = base + "no/such/page/"
    response = page.goto(missing)  # GitHub Pages' 404.html, at any depth
    assert response is not None and response.status == 404
    expected = [f"HTTP 404: {missing}", "console: Failed to load resource: the server responded with a status of 404 (Not Found)"]
    assert page.problems[-2:] == expected
    del page.problems[-2:]
    # pages with a filter run search.js: using it loads the index without errors
    page.goto(base + "places/baghdad/")
    page.select_option("form[data-list-filter] select[name=kind]", "note")
    page.wait_for_function("document.querySelector('[data-filter-status]').textContent.startsWith('Showing')")
    assert not page.problems, page.problems
