"""Analyst features: search index, link graphs, maps, brief, JSON-LD, graph.json and STIX.

Unit tests for the pure parts (folding, index rows, layouts, projection), then tiny
sites built for real: what every page carries, and that nothing held back (drafts,
TLP above `publish.max_tlp`) reaches the index, the exports or the JSON-LD.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import re
import uuid
from pathlib import Path

import pytest
from stix2validator import ValidationOptions, validate_string

from conftest import BASIC, read_tree, write_site
from corpus import write_corpus
from generator.pages import exports, search, svg
from generator.engine.build import build
from generator.content.model import Document, Entity

JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def built(site: Path, tmp_path: Path) -> dict[str, str]:
    out = tmp_path / "out"
    result = build(site, output=out)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    return {k: v.decode("utf-8") for k, v in read_tree(out).items()}


@pytest.fixture
def basic(tmp_path: Path) -> dict[str, str]:
    return built(write_site(tmp_path / "site", BASIC), tmp_path)


def make(cls, **given):  # type: ignore[no-untyped-def]
    """A model object with the given fields and placeholders for the other required ones."""
    missing = {f.name: "" for f in dataclasses.fields(cls)
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and f.name not in given}
    return cls(**missing, **given)


# --------------------------------------------------------------------------- search index, unit


@pytest.mark.parametrize("text, folded", [
    ("Kataib Hezbollah", "kataib hezbollah"),
    ("Kata'ib Ḥizballah", "kataib hizballah"),
    ("Kata’ib", "kataib"),
    ("Şanlıurfa", "sanlıurfa"),
    ("Harakat Hezbollah al-Nujaba", "harakat hezbollah al-nujaba"),
])
def test_fold_matches_names_the_way_search_js_does(text: str, folded: str) -> None:
    assert search.fold(text) == folded


def test_body_words_are_distinct_folded_without_stop_words_and_within_budget() -> None:
    html = "<h2 id='x'>What happened</h2><p>The <a href='/a'>Kata&#39;ib</a> group struck; the group left. É-x</p>"
    assert search.body_words(html) == "happened kataib group struck left"
    long = "<p>" + " ".join(f"word{i}" for i in range(1000)) + "</p>"
    kept = search.body_words(long, budget=100)
    assert len(kept) <= 100 and kept.startswith("word0 word1 ") and "word999" not in kept


def _distinct_words_by_definition(text: str, budget: int) -> tuple[list[str], bool]:
    """search._distinct_words written as the plain loop that defines it."""
    seen: set[str] = set()
    kept: list[str] = []
    used = 0
    for token in search._WORD.findall(search._APOSTROPHES.sub("", text.lower())):
        for word in search._WORD.findall(search.fold(token)):
            if len(word) < 2 or word in search.STOP_WORDS or word in seen:
                continue
            if used + len(word) + 1 > budget:
                return kept, True
            seen.add(word)
            kept.append(word)
            used += len(word) + 1
    return kept, False


def test_body_words_agree_with_their_definition_on_any_text(tmp_path: Path) -> None:
    rng = random.Random(9)
    alphabet = list("abcxyz AZ09_'’-.,;:!?()[]{}<>/\\|\"#$%&*+=@^`~\n\t\r\x0b\x0c\x1c\x1f\x7f")
    alphabet += list("éÉḤḥıİßǆﬁ½²ⅫΣσςЖжقوات—–“”…") + ["e\u0301", "\u0301", "\u00a0", "\u2003", "\u3000", "\x85", "\ud800"]
    texts = ["".join(rng.choices(alphabet, k=rng.randint(0, 400))) for _ in range(3000)]
    texts += [" ".join(rng.choices(["the", "of", "a", "kataib", "Kata'ib", "Ḥizballah", "strike", "ǆx", "x_y"], k=300))]
    write_corpus(tmp_path / "corpus", 20, seed=4)
    texts += [search.plain_text(p.read_text(encoding="utf-8")) for p in (tmp_path / "corpus/content").rglob("*.md")]
    for text in texts:
        for budget in (1, 5, 40, 900):
            assert search._distinct_words(text, budget) == _distinct_words_by_definition(text, budget), (text, budget)


def test_index_rows_point_at_entities_and_carry_what_the_search_page_shows() -> None:
    kh = make(Entity, kind="actor", slug="kataib-hezbollah", title="Kataib Hezbollah", aliases=("KH",), type="militia")
    baghdad = make(Entity, kind="place", slug="baghdad", title="Baghdad")
    doc = make(Document, kind="article", slug="strike", title="Strike near Baghdad", date=dt.date(2023, 10, 18),
               summary="One line.")

    class Body:
        def html(self) -> str:
            return "<p>Rockets hit the base.</p>"

    index = search.build_index([doc], [(kh, 1), (baghdad, 1)], shards=8)
    assert index["entities"][0] == ["actor", "kataib-hezbollah", "Kataib Hezbollah", 1, "militia", ["KH"]]
    assert index["docs"] == 1 and index["words"] == ["baghdad", "near", "strike"] and index["days"] == [["2023-10-18", 1]]
    assert json.loads(search.docs_json([doc], [Body()])) == [
        ["article", "articles/strike/", "Strike near Baghdad", "2023-10-18", "One line.", "Rockets hit the base."]]
    terms = search.Terms([doc], [search.entity_words(kh) + " " + search.entity_words(baghdad)], [Body()], shards=8)
    found = {t: p for b in range(8) for t, p in json.loads(search.terms_json(search.TermShard(terms, b)))["terms"].items()}
    assert found["rockets"] == ["", "", "", "w"] and found["kh"] == ["", "w"] and found["baghdad"] == ["w", "w"]
    text = search.index_json([doc], [], 8)
    assert ", " not in text and ": " not in text  # compact separators


# --------------------------------------------------------------------------- drawings, unit


def node(key: str, weight: int = 1, kind: str = "actor") -> svg.Node:
    return svg.Node(key, key.split("/")[-1].title(), weight, kind)


def test_ego_graph_is_an_accessible_deterministic_radial_picture() -> None:
    centre = node("actor/kh", 9)
    ring = [(node("actor/iri"), 6, True), (node("actor/aah"), 3, False), (node("actor/pmf"), 0, True)]
    picture = svg.ego_graph(centre, ring)
    assert picture == svg.ego_graph(centre, ring)
    assert picture.startswith('<svg class="figure-svg graph"') and 'role="img"' in picture
    assert '<title id="graph-title">Kh: who it appears with</title>' in picture
    assert "appears in documents with 2 actors: Iri (6 documents); Aah (3 documents)." in picture  # the <desc>
    assert picture.count("<circle") == 4 and picture.count('class="g-aff"') == 2  # affiliations are dashed curves
    assert picture.count('class="g-edge"') == 2  # no co-occurrence line for a tie with no document
    assert 'stroke-width="5"' in picture  # the strongest tie is the thickest line
    top = re.search(r'<text class="g-label" x="([\d.]+)" y="([\d.]+)" text-anchor="middle">Iri</text>', picture)
    assert top and float(top.group(2)) < 60  # strongest first, at the top
    assert "<a " not in picture  # an image has no interactive parts: the text list beside links
    assert "<title>Iri: 6 documents in common, affiliated</title>" in picture  # tooltips


def test_network_puts_actors_left_and_places_right() -> None:
    actors, places = [node("actor/a", 5), node("actor/b", 2)], [node("place/p", 4, "place")]
    picture = svg.network(actors, places, [("actor/a", "place/p", 3), ("actor/a", "actor/b", 1)], [("actor/b", "actor/a")])
    xs = {m.group(2): float(m.group(1)) for m in re.finditer(r'<text class="g-label" x="([\d.]+)" [^>]*>([^<]+)<', picture)}
    assert xs["A"] < 390 < xs["P"]
    assert picture.count('class="g-edge"') == 2 and picture.count('class="g-aff"') == 1


def test_frame_projects_north_up_and_east_right_around_its_points() -> None:
    points = [(33.31, 44.37), (36.19, 44.01), (34.45, 40.92)]  # Baghdad, Erbil, Abu Kamal
    frame = svg.Frame.around(points)
    assert frame is not None and frame.north - frame.south >= 4 and frame.east - frame.west >= 5
    baghdad, erbil, abu_kamal = (frame.project(*p) for p in points)
    assert erbil[1] < baghdad[1]  # further north is higher up
    assert abu_kamal[0] < baghdad[0]  # further west is further left
    for x, y in (baghdad, erbil, abu_kamal):
        assert 0 < x < frame.width and 0 < y < frame.height
    assert svg.Frame.around([]) is None


def test_land_draws_the_vendored_outline_of_the_region() -> None:
    frame = svg.Frame.around([(33.31, 44.37), (35.0, 38.5), (29.31, 47.48)])  # Baghdad, Syria, Kuwait
    layer = svg.land(frame)
    assert layer.count('<path class="map-land"') >= 4  # Iraq, Syria, Jordan, Iran, ...
    assert ">IRAQ</text>" in layer and ">SYRIA</text>" in layer
    assert "AFGHANISTAN" not in layer  # outside the frame: not drawn
    data = json.loads(svg.REGION.read_text(encoding="utf-8"))
    assert "Natural Earth" in data["source"] and "public domain" in data["source"]


def test_map_marks_the_place_and_keeps_labels_apart() -> None:
    frame = svg.Frame.around([(33.31, 44.37)])
    dots = [(node("place/baghdad", 5, "place"), 33.31, 44.37), (node("place/green-zone", 4, "place"), 33.303, 44.392)]
    picture = svg.map_svg(frame, dots, "Where Baghdad is", "Baghdad.", here="place/baghdad", base_href="/repo/maps/region.svg")
    assert picture.count('class="map-dot map-here"') == 1 and '<image href="/repo/maps/region.svg"' in picture
    labels = re.findall(r'<text class="map-label" x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)">([^<]+)<', picture)
    assert [label[3] for label in labels] == ["Baghdad", "Green-Zone"]
    assert labels[0][:3] != labels[1][:3]  # the second label moved: the dots nearly coincide


# --------------------------------------------------------------------------- pages of a tiny site


def test_every_page_has_the_search_box_and_json_ld(basic: dict[str, str]) -> None:
    pages = [name for name in basic if name.endswith(".html")]
    assert {"search/index.html", "graph/index.html", "brief/index.html"} <= set(pages)
    for name in pages:
        text = basic[name]
        assert '<form class="site-search" role="search" action="/repo/search/" method="get">' in text, name
        blocks = JSONLD.findall(text)
        assert len(blocks) == 1, name
        data = json.loads(blocks[0])
        assert data["@context"] == "https://schema.org", name
    types = {name: json.loads(JSONLD.findall(basic[name])[0])["@type"] for name in pages}
    assert types["articles/drone-attack/index.html"] == "NewsArticle"
    assert types["notes/assessment/index.html"] == "Report"
    assert types["actors/kataib-hezbollah/index.html"] == "Organization"
    assert types["places/baghdad/index.html"] == "Place"
    assert types["index.html"] == "WebSite" and types["search/index.html"] == "SearchResultsPage"
    baghdad = json.loads(JSONLD.findall(basic["places/baghdad/index.html"])[0])
    assert baghdad["geo"] == {"@type": "GeoCoordinates", "latitude": 33.31, "longitude": 44.37}
    article = json.loads(JSONLD.findall(basic["articles/drone-attack/index.html"])[0])
    assert [a["name"] for a in article["about"]] == ["Kataib Hezbollah", "Islamic Resistance in Iraq"]
    assert article["isBasedOn"]["url"] == "https://example.org/a"


def test_search_index_is_a_separate_file_fetched_only_where_needed(basic: dict[str, str]) -> None:
    index = json.loads(basic["search/index.json"])
    at = next(i for i, e in enumerate(index["entities"]) if e[1] == "kataib-hezbollah")
    assert index["entities"][at][5] == ["KH", "Kata'ib Hizballah"]
    tags = json.loads(basic[f"search/tags-{at // index['tag_bucket']}.json"])
    assert search.decode(tags[at % index["tag_bucket"]]) == list(range(index["docs"]))  # both documents are tagged with KH
    # body words are in term shards beside it (an edit rewrites the shards of the words it changes)
    assert {n for n in basic if n.startswith("search/")} == {"search/index.html", "search/index.json"} | {
        "search/" + name for name in search.file_names(index)}
    blamed = json.loads(basic[f"search/terms-{search.shard_of('blamed', index['shards'])}.json"])["terms"]["blamed"]
    docs = json.loads(basic["search/docs-0.json"])
    assert [docs[i][1] for i in search.decode(blamed[3])] == ["articles/drone-attack/"]
    for name, text in basic.items():
        if name.endswith(".html"):
            assert '"terms":' not in text and '"entities":' not in text, name  # never inlined
    assert 'src="/repo/assets/search.js"' in basic["search/index.html"]
    assert 'data-index="/repo/search/index.json"' in basic["search/index.html"]
    assert "search.js" not in basic["articles/drone-attack/index.html"]  # no script where nothing uses it
    assert "<noscript>" in basic["search/index.html"]


def test_actor_page_has_its_graph_its_map_and_its_timeline_by_month(basic: dict[str, str]) -> None:
    kh = basic["actors/kataib-hezbollah/index.html"]
    graph = re.search(r'<svg class="figure-svg graph".*?</svg>', kh, re.S)
    assert graph and 'role="img"' in graph.group(0)
    assert "<title id=\"graph-title\">Kataib Hezbollah: who it appears with</title>" in graph.group(0)
    assert "<title>Islamic Resistance in Iraq: 1 document in common, affiliated</title>" in graph.group(0)
    assert 'class="g-aff"' in graph.group(0)  # its profile names the IRI as an affiliation
    assert re.search(r'id="with-actors".*Islamic Resistance in Iraq</a> <span class="count"', kh, re.S)  # the text list
    assert '<h3 class="month-label" id="m-2023-10">October 2023</h3>' in kh
    assert 'class="list-filter" data-list-filter' in kh and " hidden>" in kh  # shown by search.js only
    assert '<image href="/repo/maps/region.svg"' in kh  # where it is reported: Baghdad has coordinates


def test_place_pages_and_places_index_show_maps(basic: dict[str, str]) -> None:
    baghdad = basic["places/baghdad/index.html"]
    assert 'class="map-dot map-here"' in baghdad and 'id="on-map"' in baghdad
    assert 'id="on-map"' not in basic["places/ain-al-asad/index.html"]  # no coordinates, no map
    index = basic["places/index.html"]
    assert '<svg class="figure-svg map"' in index and 'class="map-land"' in index
    assert basic["maps/region.svg"].startswith('<svg xmlns="http://www.w3.org/2000/svg"')


def test_network_page_lists_what_it_draws(basic: dict[str, str]) -> None:
    page = basic["graph/index.html"]
    assert '<svg class="figure-svg network"' in page
    assert re.search(r'kataib-hezbollah/">Kataib Hezbollah</a>.*?<td class="num">2</td>', page, re.S)
    assert 'href="/repo/data/graph.json"' in page and 'href="/repo/data/stix.json"' in page


def test_brief_lists_the_latest_notes_with_tags_and_tradecraft(basic: dict[str, str]) -> None:
    brief = basic["brief/index.html"]
    assert "Escalation assessment" in brief and "Moderate confidence" in brief
    assert re.search(r'class="brief-tags".*href="/repo/places/green-zone/"', brief, re.S)
    assert brief.count("TLP:CLEAR") >= 2  # marked at the top and at the bottom
    assert "Drone attack on Ain al-Asad" in brief  # latest reporting


def test_admiralty_grading_is_shown_with_its_meaning(tmp_path: Path) -> None:
    files = dict(BASIC)
    files["content/articles/drone-attack.md"] = files["content/articles/drone-attack.md"].replace(
        "source: {name: Example Wire", "reliability: B\n        credibility: 3\n        source: {name: Example Wire")
    page = built(write_site(tmp_path / "site", files), tmp_path)["articles/drone-attack/index.html"]
    assert '<span class="grading"' in page and ">B3</span>" in page
    assert "Source: usually reliable; information: possibly true." in page


def test_graph_json_holds_documents_entities_and_typed_edges(basic: dict[str, str]) -> None:
    data = json.loads(basic["data/graph.json"])
    assert [d["id"] for d in data["documents"]] == ["note/assessment", "article/drone-attack"]
    assert {e["id"] for e in data["entities"]} >= {"actor/kataib-hezbollah", "place/baghdad"}
    edges = {(e["type"], e["source"], e["target"]) for e in data["edges"]}
    assert ("tagged", "article/drone-attack", "actor/kataib-hezbollah") in edges
    assert ("affiliated", "actor/kataib-hezbollah", "actor/islamic-resistance-in-iraq") in edges
    assert ("within", "place/green-zone", "place/baghdad") in edges
    assert ("links-to", "note/assessment", "article/drone-attack") in edges
    together = next(e for e in data["edges"] if e["type"] == "together"
                    and {e["source"], e["target"]} == {"actor/islamic-resistance-in-iraq", "actor/kataib-hezbollah"})
    assert together["documents"] == 1


# --------------------------------------------------------------------------- STIX


def assert_valid_stix(text: str) -> None:
    # UUIDv5 ids are deliberate (stable from build to build; the spec allows them), and
    # page URLs have no file hash to give: those two best-practice checks are off. Profiles'
    # typed relations use the desk's vocabulary (front-for, supported-by...), which STIX permits
    # but does not suggest: that check is off too, and every type is asserted to be ours instead.
    from generator.content.model import RELATION_TYPES

    options = ValidationOptions(version="2.1", strict=True,
                                disabled=["uuid-check", "extref-hashes", "relationship-types"])
    result = validate_string(text, options)
    assert result.is_valid, [str(e) for e in result.errors] + [str(w) for w in result.warnings]
    assert not result.warnings, [str(w) for w in result.warnings]
    types = {o["relationship_type"] for o in json.loads(text)["objects"] if o["type"] == "relationship"}
    assert types <= {"related-to", *RELATION_TYPES}, types


def test_stix_bundle_is_valid_stix_2_1(basic: dict[str, str]) -> None:
    assert_valid_stix(basic["data/stix.json"])


def test_stix_bundle_is_valid_without_a_full_site_address(tmp_path: Path) -> None:
    files = built(write_site(tmp_path / "site", BASIC, site_yml="title: Path only\nbase_url: /desk/\n"), tmp_path)
    assert_valid_stix(files["data/stix.json"])
    assert '"url":"/desk/' not in files["data/stix.json"]  # no relative URL where STIX wants a full one


def test_stix_objects_ids_and_markings(basic: dict[str, str], tmp_path: Path) -> None:
    bundle = json.loads(basic["data/stix.json"])
    by_type: dict[str, list[dict]] = {}
    for obj in bundle["objects"]:
        by_type.setdefault(obj["type"], []).append(obj)
    # only the markings used (every document here is TLP:CLEAR, as is the site's max_tlp)
    assert [m["id"] for m in by_type["marking-definition"]] == [exports.TLP_MARKINGS["clear"]]
    clear = next(m for m in by_type["marking-definition"] if m["name"] == "TLP:CLEAR")
    assert clear == {"type": "marking-definition", "spec_version": "2.1",
                     "id": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
                     "created": "2022-10-01T00:00:00.000Z", "name": "TLP:CLEAR",
                     "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
                                    {"extension_type": "property-extension", "tlp_2_0": "clear"}}}
    kh_id = f"threat-actor--{uuid.uuid5(exports.STIX_NAMESPACE, 'actor/kataib-hezbollah')}"
    assert [t["id"] for t in by_type["threat-actor"]] == [kh_id]  # a militia
    assert by_type["threat-actor"][0]["aliases"] == ["KH", "Kata'ib Hizballah"]
    assert {i["name"] for i in by_type["identity"]} == {"Test desk", "Islamic Resistance in Iraq"}
    reports = {r["name"]: r for r in by_type["report"]}
    note = reports["Escalation assessment"]
    assert note["confidence"] == 50 and note["published"] == "2023-10-20T00:00:00.000Z"
    assert kh_id in note["object_refs"] and note["object_marking_refs"] == [exports.TLP_MARKINGS["clear"]]
    locations = {loc["name"]: loc for loc in by_type["location"]}
    assert (locations["Baghdad"]["latitude"], locations["Baghdad"]["longitude"]) == (33.31, 44.37)
    assert locations["Green Zone"]["precision"] == exports.INHERITED_PRECISION  # Baghdad's position
    assert "Ain al-Asad" not in locations  # no position known: STIX needs one
    kinds = {r["description"] for r in by_type["relationship"]}
    assert kinds == {"affiliated with (from the actor profile)", "within"}
    again = built(write_site(tmp_path / "again", BASIC), tmp_path / "second")
    assert again["data/stix.json"] == basic["data/stix.json"]  # same ids, same timestamps: from content only


# --------------------------------------------------------------------------- nothing held back leaks

CANARIES = ["zanzibarquux", "quuxcanary", "xyzzymilitia", "plughtown", "frobnicatecanary",
            "amberleak", "amberactor", "garplycanary", "waldocanary", "secret-draft", "amber-note"]
LEAKY = {
    **BASIC,
    "content/articles/secret-draft.md": """
        ---
        title: Zanzibarquux draft headline
        date: 2023-10-25
        summary: Quuxcanary summary.
        draft: true
        actors: [Xyzzymilitia Brigade, KH]
        places: [Plughtown, Baghdad]
        ---
        Body with frobnicatecanary words, about [[Kataib Hezbollah]].
        """,
    "content/notes/amber-note.md": """
        ---
        title: Amberleak assessment
        date: 2023-10-26
        tlp: amber
        confidence: high
        actors: [KH, Amberactor Grault]
        places: [Baghdad]
        summary: Amberleak summary garplycanary.
        ---
        Restricted body waldocanary.
        """,
}


def test_no_draft_or_restricted_content_in_index_exports_or_json_ld(tmp_path: Path) -> None:
    files = built(write_site(tmp_path / "site", LEAKY), tmp_path)
    assert "notes/amber-note/index.html" not in files and "articles/secret-draft/index.html" not in files
    checked = {name: files[name] for name in ("search/index.json", "data/graph.json", "data/stix.json",
                                              "graph/index.html", "brief/index.html", "maps/region.svg")}
    for name, text in files.items():
        if name.endswith(".html"):
            checked[name + " (JSON-LD)"] = "\n".join(JSONLD.findall(text))
            checked[name + " (SVG)"] = "\n".join(re.findall(r"<svg.*?</svg>", text, re.S))
    checked["every output file"] = "\n".join(files.values())
    for name, text in checked.items():
        found = [c for c in CANARIES if c in text.casefold()]
        assert not found, (name, found)
    # and what is published still counts right: KH has its two published documents, not four
    index = json.loads(files["search/index.json"])
    assert next(e for e in index["entities"] if e[1] == "kataib-hezbollah")[3] == 2
    assert len(json.loads(files["data/stix.json"])["objects"]) == len(json.loads(
        built(write_site(tmp_path / "clean", BASIC), tmp_path / "clean-out")["data/stix.json"])["objects"])


def test_json_ld_cannot_be_broken_out_of(tmp_path: Path) -> None:
    title = 'Strike </script><script>alert("x")</script> & <!-- more'
    files = dict(BASIC)
    files["content/articles/drone-attack.md"] = files["content/articles/drone-attack.md"].replace(
        "title: Drone attack on Ain al-Asad", "title: '" + title + "'\n        slug: drone-attack-on-ain-al-asad")
    page = built(write_site(tmp_path / "site", files), tmp_path)["articles/drone-attack-on-ain-al-asad/index.html"]
    blocks = JSONLD.findall(page)
    assert len(blocks) == 1
    assert "<" not in blocks[0] and ">" not in blocks[0] and "&" not in blocks[0]
    assert json.loads(blocks[0])["headline"] == title
    assert "<script>alert" not in page


def test_incremental_build_updates_the_index_and_exports(tmp_path: Path) -> None:
    """Pages are re-rendered only when their fingerprint changes: the feature pages must see every input."""
    site = write_site(tmp_path / "site", BASIC)
    out = tmp_path / "out"
    assert build(site, output=out).ok
    article = site / "content/articles/drone-attack.md"
    article.write_text(article.read_text().replace("was blamed.", "was blamed by quokkaword officials."))
    profile = site / "content/actors/kataib-hezbollah.md"
    profile.write_text(profile.read_text().replace("aliases: [KH,", "aliases: [KH, Wombatalias,"))
    assert build(site, output=out).ok
    index = (out / "search/index.json").read_text()
    terms = "".join(p.read_text() for p in (out / "search").glob("terms-*.json"))
    assert '"quokkaword"' in terms and '"wombatalias"' in terms and "Wombatalias" in index
    assert "Wombatalias" in (out / "data/stix.json").read_text() and "Wombatalias" in (out / "data/graph.json").read_text()
    assert "Wombatalias" in (out / "actors/kataib-hezbollah/index.html").read_text()  # its JSON-LD alternateName
