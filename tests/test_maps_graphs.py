"""Maps and graphs as a reader sees them, in headless Chromium: every place named, no two
names over each other or over a dot, place maps zoomed in, actor names whole, /graph/ no
wider than a phone.

The site is the repository's own content/ (Baghdad, the Green Zone, Jurf al-Sakhar and
Iraq sit within a degree of each other), built once into a temp folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest

from conftest import REPO
from generator.engine.build import build
from generator.pages import svg
from support import static_server

PREFIX = "/briefing/"

# Boxes of every name drawn on a map (place names, key numbers, country names), in SVG user units,
# every dot (x, y, r), and the names in the key under the map.
MAP_FACTS = """svg => {
  const box = t => { const b = t.getBBox(); return {text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height}; };
  return {
    labels: [...svg.querySelectorAll('text.map-label, text.map-num, text.map-country')].map(box),
    names: [...svg.querySelectorAll('text.map-label')].map(t => t.textContent),
    key: [...svg.querySelectorAll('text.map-key')].map(t => t.textContent.replace(/^\\d+ /, '')),
    dots: [...svg.querySelectorAll('circle.map-dot')].map(c => ({
      name: c.querySelector('title').textContent.split(':')[0],
      x: c.cx.baseVal.value, y: c.cy.baseVal.value, r: c.r.baseVal.value,
      href: c.closest('a') ? c.closest('a').getAttribute('href') : null})),
    bounds: svg.dataset.bounds.split(' ').map(Number),
  };
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    out = tmp_path_factory.mktemp("maps") / "site"
    result = build(REPO, output=out, base_url="https://example.github.io/briefing/", use_cache=False)
    assert result.ok, [str(d) for d in result.diagnostics]
    with static_server(out, PREFIX) as base:
        yield base, out


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    tab = browser.new_page(viewport={"width": 390, "height": 844})
    yield tab
    tab.close()


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    return [(a["text"], b["text"]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]]


def over_dots(facts: dict) -> list[tuple[str, str]]:
    found = []
    for label in facts["labels"]:
        for dot in facts["dots"]:
            nx = min(max(dot["x"], label["x"]), label["x"] + label["w"])
            ny = min(max(dot["y"], label["y"]), label["y"] + label["h"])
            if (nx - dot["x"]) ** 2 + (ny - dot["y"]) ** 2 < (dot["r"] - 0.5) ** 2:
                found.append((label["text"], dot["name"]))
    return found


def places_with_coordinates() -> set[str]:
    """Titles of the repository's place profiles that give coordinates."""
    found = set()
    for path in sorted((REPO / "content" / "places").glob("*.md")):
        head = path.read_text(encoding="utf-8").split("\n---", 1)[0]
        title = re.search(r"^title: *(.+)$", head, re.M)
        if title and re.search(r"^coordinates:", head, re.M):
            found.add(title.group(1).strip().strip("'\""))
    return found


def map_facts(page, url: str) -> dict:  # type: ignore[no-untyped-def]
    page.goto(url)
    return page.locator("svg.figure-svg.map").first.evaluate(MAP_FACTS)


def test_places_map_names_every_place_without_overlaps(site, page) -> None:  # type: ignore[no-untyped-def]
    base, out = site
    facts = map_facts(page, base + "places/")
    dots = {d["name"] for d in facts["dots"]}
    assert {"Baghdad", "Green Zone", "Jurf al-Sakhar", "Iraq", "Erbil"} <= dots
    assert dots == places_with_coordinates()
    named = facts["names"] + facts["key"]
    assert sorted(named) == sorted(dots), (facts["names"], facts["key"])  # every dot, exactly once
    assert not overlapping(facts["labels"]), overlapping(facts["labels"])
    assert not over_dots(facts), over_dots(facts)
    assert all(d["href"] and d["href"].startswith(PREFIX + "places/") for d in facts["dots"])
    # lettering a phone can read: the map is about 350 px wide here
    size = page.locator("svg.figure-svg.map text.map-label").first.evaluate(
        "t => t.getBoundingClientRect().height")
    assert size >= 10, size


@pytest.mark.parametrize("slug", ["baghdad", "green-zone", "jurf-al-sakhar", "erbil", "iran", "gaza"])
def test_place_page_map_is_zoomed_in_and_names_its_neighbours(site, page, slug: str) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    region = map_facts(page, base + "places/")["bounds"]
    facts = map_facts(page, base + f"places/{slug}/")
    west, south, east, north = facts["bounds"]
    assert east - west < (region[2] - region[0]) / 2 and north - south < (region[3] - region[1]) / 2
    assert sorted(facts["names"] + facts["key"]) == sorted(d["name"] for d in facts["dots"])
    assert not overlapping(facts["labels"]), overlapping(facts["labels"])
    assert not over_dots(facts), over_dots(facts)
    assert page.locator("svg.map circle.map-here").count() == 1


def test_baghdad_map_shows_the_green_zone(site, page) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    facts = map_facts(page, base + "places/baghdad/")
    assert {"Baghdad", "Green Zone", "Jurf al-Sakhar"} <= {d["name"] for d in facts["dots"]}


def test_actor_maps_keep_names_apart(site, page) -> None:  # type: ignore[no-untyped-def]
    base, out = site
    for actor in sorted(p.parent.name for p in (out / "actors").glob("*/index.html")):
        page.goto(base + f"actors/{actor}/")
        if not page.locator("svg.figure-svg.map").count():
            continue
        facts = page.locator("svg.figure-svg.map").first.evaluate(MAP_FACTS)
        assert sorted(facts["names"] + facts["key"]) == sorted(d["name"] for d in facts["dots"]), actor
        assert not overlapping(facts["labels"]), (actor, overlapping(facts["labels"]))
        assert not over_dots(facts), (actor, over_dots(facts))


def test_actor_graph_shows_names_whole(site, page) -> None:  # type: ignore[no-untyped-def]
    base, out = site
    page.goto(base + "actors/kataib-hezbollah/")
    graph = page.locator("svg.graph")
    texts = graph.locator("text.g-label").all_text_contents()
    titles = [t.split(":")[0] for t in graph.locator("circle > title").all_text_contents()]
    assert texts and not any("…" in t for t in texts)
    assert "Islamic Resistance in Iraq" in [t.replace("\n", " ") for t in
                                            graph.locator("text.g-label").evaluate_all(
                                                "ts => ts.map(t => [...t.childNodes].map(n => n.textContent).join(' '))")]
    assert len(texts) == len(titles)
    # every name inside the picture
    inside = graph.evaluate("""svg => { const v = svg.viewBox.baseVal;
      return [...svg.querySelectorAll('text')].every(t => { const b = t.getBBox();
        return b.x >= v.x && b.y >= v.y && b.x + b.width <= v.x + v.width && b.y + b.height <= v.y + v.height; }); }""")
    assert inside
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_graph_page_fits_a_phone(site, page) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    page.goto(base + "graph/")
    assert page.locator("svg.network").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("svg.network").bounding_box()
    assert box and box["width"] <= 390


def test_map_layout_is_deterministic_and_labels_every_dot() -> None:
    frame = svg.Frame.around([(33.315, 44.366)], width=340, min_span=(2.0, 2.4))
    assert frame is not None
    dots = [(svg.Node(f"place/p{i}", f"Place number {i}", 1, "place"), 33.315 + i * 0.004, 44.366) for i in range(8)]
    picture = svg.map_svg(frame, dots, "T", "D", here="place/p0")
    assert picture == svg.map_svg(frame, dots, "T", "D", here="place/p0")
    names = picture.count('class="map-label"') + picture.count('class="map-key"')
    assert names == 8


def test_actor_graph_names_keep_apart(site, page) -> None:  # type: ignore[no-untyped-def]
    base, out = site
    for actor in sorted(p.parent.name for p in (out / "actors").glob("*/index.html")):
        page.goto(base + f"actors/{actor}/")
        if not page.locator("svg.graph").count():
            continue
        boxes = page.locator("svg.graph").evaluate("""svg => [...svg.querySelectorAll('text.g-label')].map(t => {
          const b = t.getBBox(); return {text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height}; })""")
        assert not overlapping(boxes), (actor, overlapping(boxes))


def test_network_shows_names_whole_inside_the_picture(site, page) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    page.goto(base + "graph/")
    network = page.locator("svg.network")
    assert not any("…" in t for t in network.locator("text.g-label").all_text_contents())
    inside = network.evaluate("""svg => { const v = svg.viewBox.baseVal;
      return [...svg.querySelectorAll('text')].every(t => { const b = t.getBBox();
        return b.x >= v.x && b.x + b.width <= v.x + v.width; }); }""")
    assert inside
