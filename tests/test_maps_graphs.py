"""Maps and graphs as a reader sees them, in headless Chromium: every place named, no two
names over each other or over a dot, countries drawn as their shapes, place maps zoomed in,
actor names whole, /graph/ no wider than a phone and its names readable there.

The site is the repository's own content/ (Baghdad, the Green Zone, Jurf al-Sakhar and
Iraq sit within a degree of each other), built once into a temp folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest

from conftest import REPO, write_site
from generator.content.model import Entity
from generator.engine.build import build
from generator.pages import svg
from generator.pages.features import country_outline
from support import static_server

PREFIX = "/briefing/"

# Boxes of every name drawn on a map (place names, key numbers, country names), in SVG user units,
# every dot (x, y, r), every country drawn as its shape, and the names in the key under the map.
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
    areas: [...svg.querySelectorAll('path.map-area')].map(p => { const b = p.getBBox(); return {
      name: p.querySelector('title').textContent.split(':')[0], here: p.classList.contains('map-area-here'),
      x: b.x, y: b.y, w: b.width, h: b.height,
      href: p.closest('a') ? p.closest('a').getAttribute('href') : null}; }),
    view: [svg.viewBox.baseVal.x, svg.viewBox.baseVal.y, svg.viewBox.baseVal.width, svg.viewBox.baseVal.height],
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


COUNTRIES = {"Iraq", "Syria", "Iran", "Kuwait"}  # the sample site's places of kind country


def drawn(facts: dict) -> list[str]:
    """The places a map draws: its dots and its countries' shapes."""
    return [d["name"] for d in facts["dots"]] + [a["name"] for a in facts["areas"]]


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
    assert {"Baghdad", "Green Zone", "Jurf al-Sakhar", "Erbil"} <= dots
    assert set(drawn(facts)) == places_with_coordinates()
    named = facts["names"] + facts["key"]
    assert sorted(named) == sorted(drawn(facts)), (facts["names"], facts["key"])  # every place, exactly once
    assert not overlapping(facts["labels"]), overlapping(facts["labels"])
    assert not over_dots(facts), over_dots(facts)
    assert all(d["href"] and d["href"].startswith(PREFIX + "places/") for d in facts["dots"] + facts["areas"])
    # lettering a phone can read: the map is about 350 px wide here
    size = page.locator("svg.figure-svg.map text.map-label").first.evaluate(
        "t => t.getBoundingClientRect().height")
    assert size >= 10, size


def test_places_map_draws_countries_as_their_shapes(site, page) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    facts = map_facts(page, base + "places/")
    areas = {a["name"]: a for a in facts["areas"]}
    assert set(areas) == COUNTRIES
    assert not COUNTRIES & {d["name"] for d in facts["dots"]}  # a shape, not a dot as well
    assert {a["href"] for a in areas.values()} == {PREFIX + f"places/{n.lower()}/" for n in COUNTRIES}
    assert not any(a["here"] for a in areas.values())
    # shaded by weight: Iraq (the most documents) darker than Kuwait (none)
    shade = {n: float(page.locator(f'svg.map a[href="{PREFIX}places/{n.lower()}/"] path.map-area')
                      .get_attribute("fill-opacity")) for n in ("Iraq", "Kuwait")}
    assert shade["Iraq"] > shade["Kuwait"] > 0
    # filled with the theme's place colour, not the SVG default black
    fill = page.locator("svg.map path.map-area").first.evaluate("p => getComputedStyle(p).fill")
    assert fill not in ("none", "rgb(0, 0, 0)"), fill
    # the country's own name: a place label (its link), not the outline's capitals as well
    assert not COUNTRIES & {t.title() for t in page.locator("svg.map text.map-country").all_text_contents()}


@pytest.mark.parametrize("slug", ["baghdad", "green-zone", "jurf-al-sakhar", "erbil", "tehran", "gaza"])
def test_place_page_map_is_zoomed_in_and_names_its_neighbours(site, page, slug: str) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    region = map_facts(page, base + "places/")["bounds"]
    facts = map_facts(page, base + f"places/{slug}/")
    west, south, east, north = facts["bounds"]
    assert east - west < (region[2] - region[0]) / 2 and north - south < (region[3] - region[1]) / 2
    assert sorted(facts["names"] + facts["key"]) == sorted(drawn(facts))
    assert not overlapping(facts["labels"]), overlapping(facts["labels"])
    assert not over_dots(facts), over_dots(facts)
    assert page.locator("svg.map circle.map-here").count() == 1
    assert page.locator("svg.map .map-area-here").count() == 0


@pytest.mark.parametrize("slug, name", [("iraq", "Iraq"), ("iran", "Iran"), ("kuwait", "Kuwait"), ("syria", "Syria")])
def test_country_page_map_shows_the_country_whole(site, page, slug: str, name: str) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    facts = map_facts(page, base + f"places/{slug}/")
    here = [a for a in facts["areas"] if a["here"]]
    assert [a["name"] for a in here] == [name]
    assert page.locator("svg.map circle.map-here").count() == 0 and name not in {d["name"] for d in facts["dots"]}
    x, y, w, h = facts["view"]
    box = here[0]
    assert box["x"] >= x - 0.5 and box["y"] >= y - 0.5 and box["x"] + box["w"] <= x + w + 0.5
    assert box["y"] + box["h"] <= y + h + 0.5  # (the map's own height: a key would only add to it)
    assert sorted(facts["names"] + facts["key"]) == sorted(drawn(facts))
    assert not overlapping(facts["labels"]), overlapping(facts["labels"])
    assert not over_dots(facts), over_dots(facts)


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
        assert sorted(facts["names"] + facts["key"]) == sorted(drawn(facts)), actor
        assert not {a["name"] for a in facts["areas"]} & {d["name"] for d in facts["dots"]}, actor
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
    assert page.locator("svg.network-narrow").is_visible() and not page.locator("svg.network").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("svg.network-narrow").bounding_box()
    assert box and box["width"] <= 390


# The rendered height, in CSS px, of every line of every name in a drawing (a name on two lines: each line).
LINE_HEIGHTS = """svg => [...svg.querySelectorAll('text.g-label')].flatMap(t => {
  const lines = t.querySelectorAll('tspan').length ? [...t.querySelectorAll('tspan')] : [t];
  return lines.map(l => ({text: l.textContent, h: l.getBoundingClientRect().height}));
})"""


def test_graph_names_are_readable_on_a_phone(site, page) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    page.goto(base + "graph/")
    drawing = page.locator("svg.network-narrow")
    lines = drawing.evaluate(LINE_HEIGHTS)
    assert len(lines) >= 20
    small = [line for line in lines if line["h"] < 9]
    assert not small, small
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth") == 390
    # every actor and place of the wide drawing is in the narrow one, each name whole
    names = drawing.evaluate("svg => [...svg.querySelectorAll('text.g-label')].map(t => "
                             "[...t.childNodes].map(n => n.textContent).join(' '))")
    titles = page.locator("svg.network circle > title").all_text_contents()
    assert sorted(names) == sorted(t.split(":")[0] for t in titles)


def test_graph_desktop_view_keeps_the_wide_drawing(site, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        tab.goto(base + "graph/")
        assert tab.locator("svg.network").is_visible() and not tab.locator("svg.network-narrow").is_visible()
        box = tab.locator("svg.network").bounding_box()
        assert box and box["width"] > 600
        small = [line for line in tab.locator("svg.network").evaluate(LINE_HEIGHTS) if line["h"] < 9]
        assert not small, small
        # only one of the two drawings is in the accessibility tree
        assert tab.locator("svg.network-narrow").evaluate("s => getComputedStyle(s).display") == "none"
    finally:
        tab.close()


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


@pytest.mark.parametrize("width, css", [(1280, "network"), (390, "network-narrow")])
def test_network_shows_names_whole_inside_the_picture(site, browser, width: int, css: str) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    tab = browser.new_page(viewport={"width": width, "height": 900})
    try:
        tab.goto(base + "graph/")
        network = tab.locator(f"svg.{css}")
        assert network.is_visible()
        assert not any("…" in t for t in network.locator("text.g-label").all_text_contents())
        inside = network.evaluate("""svg => { const v = svg.viewBox.baseVal;
          return [...svg.querySelectorAll('text')].every(t => { const b = t.getBBox();
            return b.width > 0 && b.x >= v.x && b.x + b.width <= v.x + v.width
              && b.y >= v.y && b.y + b.height <= v.y + v.height; }); }""")
        assert inside
        boxes = network.evaluate("""svg => [...svg.querySelectorAll('text.g-label')].map(t => {
          const b = t.getBBox(); return {text: t.textContent, x: b.x, y: b.y, w: b.width, h: b.height}; })""")
        assert not overlapping(boxes), overlapping(boxes)
    finally:
        tab.close()


# --------------------------------------------------------------------------- countries as shapes, without a browser


@pytest.mark.parametrize("names, country", [
    (["Iraq"], "Iraq"),
    (["Syrian Arab Republic", "syria"], "Syria"),  # an alias, in any case
    (["UAE", "United Arab Emirates"], "United Arab Emirates"),
    (["Gaza", "Gaza Strip"], ""),  # not a country of the outline data
    ([], ""),
])
def test_outline_name_finds_the_country_a_place_names(names: list[str], country: str) -> None:
    assert svg.outline_name(names) == country


@pytest.mark.parametrize("kind, title, aliases, country", [
    ("country", "Republic of Iraq", ("Iraq",), "Iraq"),
    ("", "Syria", (), "Syria"),  # no kind: the name decides
    ("city", "Kuwait", ("Kuwait City",), ""),  # the explicit kind wins over the name
    ("region", "Iran", (), ""),
    ("country", "Atlantis", (), ""),  # a country the outline does not have: a dot
])
def test_a_place_is_a_country_shape_by_its_kind_then_its_name(kind: str, title: str, aliases: tuple[str, ...],
                                                              country: str) -> None:
    place = Entity(kind="place", slug="p", title=title, type=kind, aliases=aliases, coordinates=(33.0, 44.0))
    assert country_outline(place) == country


def _country_map() -> tuple[svg.Frame, list[tuple[svg.Node, float, float]]]:
    points = [(33.2, 43.7), (33.31, 44.37), (33.3, 44.4), (32.85, 44.1), (35.0, 38.5)]
    frame = svg.Frame.around(points, width=440)
    assert frame is not None
    dots = [
        (svg.Node("place/iraq", "Iraq", 9, "place", "/r/places/iraq/", area="Iraq"), *points[0]),
        (svg.Node("place/baghdad", "Baghdad", 5, "place", "/r/places/baghdad/"), *points[1]),
        (svg.Node("place/green-zone", "Green Zone", 4, "place", "/r/places/green-zone/"), *points[2]),
        (svg.Node("place/jurf", "Jurf al-Sakhar", 4, "place", "/r/places/jurf/"), *points[3]),
        (svg.Node("place/syria", "Syria", 0, "place", "/r/places/syria/", area="Syria"), *points[4]),
    ]
    return frame, dots


def test_map_draws_a_country_as_its_shaded_shape_linking_to_its_page() -> None:
    frame, dots = _country_map()
    picture = svg.map_svg(frame, dots, "T", "D")
    assert picture == svg.map_svg(frame, dots, "T", "D")  # deterministic
    iraq = re.search(r'<a href="/r/places/iraq/" tabindex="-1"><path class="map-area" fill-opacity="([\d.]+)" '
                     r'd="M[^"]+Z"><title>Iraq: 9 documents</title></path></a>', picture)
    syria = re.search(r'<path class="map-area" fill-opacity="([\d.]+)" d="[^"]+"><title>Syria: 0 documents</title>', picture)
    assert iraq and syria and float(iraq.group(1)) > float(syria.group(1)) > 0  # darker with more documents
    assert "<title>Iraq" not in "".join(re.findall(r"<circle[^>]*><title>[^<]*", picture))  # no dot for it
    assert picture.count('<circle class="map-dot"') == 3
    assert picture.count("<path class=\"map-area\"") == 2
    # every place named once, the countries by their names (as links), not in capitals as well
    names = re.findall(r'<text class="map-label"[^>]*>([^<]+)</text>', picture) + \
        [t.split(" ", 1)[1] for t in re.findall(r'<text class="map-key"[^>]*>([^<]+)</text>', picture)]
    assert sorted(names) == ["Baghdad", "Green Zone", "Iraq", "Jurf al-Sakhar", "Syria"]
    assert ">IRAQ<" not in picture and ">SYRIA<" not in picture
    # the shapes lie under the dots: drawn first
    assert picture.index('class="map-area"') < picture.index('class="map-dot"')


def test_map_names_keep_apart_with_country_shapes() -> None:
    frame, dots = _country_map()
    size = frame.font_size
    spots = [(n.label, *frame.project(lat, lon), 0.0 if n.area else 6.0) for n, lat, lon in dots]
    rings = {i: svg._country_rings(frame, n.area) for i, (n, _, _) in enumerate(dots) if n.area}
    obstacles = [(x, y, r) for i, (_, x, y, r) in enumerate(spots) if i not in rings]
    layout = svg._place_labels(frame.width, frame.height, spots, obstacles, size, areas=rings)
    assert len(layout.labels) == len(dots) and not layout.numbered
    boxes = layout.boxes
    assert not [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if svg._overlaps(a, b, gap=0)]
    assert not [(b, o) for b in boxes for o in obstacles if svg._hits_circle(b, *o)]
    for i, (text, lx, ly, anchor, _) in enumerate(layout.labels):  # a country's name lies on its shape
        owner = layout.owner[i]
        if owner in rings:
            assert anchor == "middle" and svg._inside(lx, ly - 0.3 * size, rings[owner]), text


COUNTRY_SITE = {
    "content/places/iraq.md": """
        ---
        title: Iraq
        kind: country
        coordinates: [33.2, 43.7]
        ---
        A country.
        """,
    "content/places/baghdad.md": """
        ---
        title: Baghdad
        kind: city
        coordinates: [33.31, 44.37]
        ---
        A city.
        """,
    "content/places/kuwait.md": """
        ---
        title: Kuwait
        kind: city
        coordinates: [29.37, 47.98]
        ---
        Kuwait City, filed by its short name: a city, so a dot.
        """,
    "content/articles/a.md": """
        ---
        title: Strike near Baghdad
        date: 2023-10-20
        summary: A strike.
        actors: [Kataib Hezbollah]
        places: [Iraq, Baghdad, Kuwait]
        ---
        Text.
        """,
}


def test_places_map_of_a_site_with_a_country_fills_its_shape(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = build(write_site(tmp_path / "site", COUNTRY_SITE), output=out)
    assert result.ok, [str(d) for d in result.diagnostics]
    for page in ("places/index.html", "actors/kataib-hezbollah/index.html"):
        html = (out / page).read_text()
        drawing = html[html.index('<svg class="figure-svg map"') : html.index("</svg>", html.index('<svg class="figure-svg map"'))]
        assert re.search(r'<a href="/repo/places/iraq/" tabindex="-1"><path class="map-area" fill-opacity="[\d.]+" '
                         r'd="M[^"]+"><title>Iraq: 1 document</title></path></a>', drawing), page
        dots = re.findall(r'<circle class="map-dot[^"]*"[^>]*><title>([^:<]+)', drawing)
        assert sorted(dots) == ["Baghdad", "Kuwait"], page  # Kuwait is a city here: a dot
        assert re.search(r'<a href="/repo/places/iraq/" tabindex="-1"><text class="map-label"[^>]*>Iraq</text></a>', drawing)
    iraq = (out / "places/iraq/index.html").read_text()
    assert '<path class="map-area map-area-here"' in iraq and 'class="map-dot map-here"' not in iraq
    baghdad = (out / "places/baghdad/index.html").read_text()
    assert 'class="map-dot map-here"' in baghdad and '<path class="map-area" ' in baghdad
    # the shared outline under the actor maps marks the cities, not the country's middle
    backdrop = re.findall(r'<circle class="map-backdrop"', (out / "maps/region.svg").read_text())
    assert len(backdrop) == 2


def test_network_for_a_phone_is_narrow_with_names_on_two_lines() -> None:
    actors = [svg.Node("actor/a", "Islamic Revolutionary Guard Corps", 5, "actor"), svg.Node("actor/b", "Hamas", 2, "actor")]
    places = [svg.Node("place/p", "Ain al-Asad Air Base", 4, "place")]
    edges = [("actor/a", "place/p", 3), ("actor/a", "actor/b", 1)]
    both = svg.responsive_network(actors, places, edges, [("actor/b", "actor/a")])
    assert both == svg.responsive_network(actors, places, edges, [("actor/b", "actor/a")])
    wide, narrow = both.split("</svg>")[:2]
    assert wide == svg.network(actors, places, edges, [("actor/b", "actor/a")]).removesuffix("</svg>")
    assert '<svg class="figure-svg network-narrow"' in narrow and 'aria-labelledby="network-narrow-title"' in narrow
    view = re.search(r'viewBox="([-\d.]+) [-\d.]+ ([\d.]+) ', narrow)
    assert view and float(view.group(2)) <= 400  # 12-unit names at 390 px: about 11 px
    assert ">Islamic Revolutionary</tspan>" in narrow and ">Guard Corps</tspan>" in narrow
    assert f"@media (min-width:{svg.NARROW_BELOW}){{svg.figure-svg.network-narrow{{display:none}}}}" in narrow
