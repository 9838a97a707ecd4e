"""Relations, further: a site's own relation types (`site.yml` `relation_types:`) on both pages
and in STIX, their config errors at `site.yml:line`; typed relation edges on the link graphs
(graph.json, /graph/ and its legend, an actor's graph); and `/brief/?since=` in Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import BASIC, write_site
from generator.content import schema
from generator.content.config import load_config
from generator.content.model import RELATION_TYPES, RelationType
from generator.diagnostics import Diagnostics
from generator.engine.build import build
from generator.pages import svg
from support import static_server
from test_features import assert_valid_stix
from test_relations import _relations

SITE_YML = """\
title: Test desk
base_url: https://user.github.io/repo/
relation_types:
  designated-by: {wording: designated by, inverse: designated, stix: designated-by}
  funds:
    wording: funds
    inverse: funded by
"""
PROFILES = {
    **BASIC,
    "content/actors/saraya-x.md": """
        ---
        title: Saraya X
        kind: militia
        relations:
          - {type: front-for, target: KH, since: 2023-10-20, confidence: moderate}
          - {type: targets, target: Baghdad, confidence: low}
          - {type: designated-by, target: State Department, since: 2023-11-17, confidence: high, source: "press statement"}
        ---
        A front.
        """,
    "content/actors/state.md": """
        ---
        title: U.S. Department of State
        aliases: [State Department]
        kind: state
        ---
        The foreign ministry.
        """,
    "content/articles/claim.md": """
        ---
        title: Claim
        date: 2023-10-21
        actors: [Saraya X, KH, State Department]
        places: [Baghdad]
        ---
        Body.
        """,
}
BUILT_IN_ONLY = {**PROFILES, "content/actors/saraya-x.md": PROFILES["content/actors/saraya-x.md"].replace(
    '          - {type: designated-by, target: State Department, since: 2023-11-17, confidence: high, source: "press statement"}\n',
    "")}




# --------------------------------------------------------------------------- a site's own types


def test_site_types_are_read_from_site_yml(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {}, SITE_YML)
    diags = Diagnostics()
    config = load_config(site, diags)
    assert not list(diags)
    designated, funds = config.relation_types
    assert (designated, designated.forward, designated.inverse, designated.stix) == (
        "designated-by", "designated by", "designated", "designated-by")
    assert (funds.forward, funds.inverse, funds.stix, funds.places) == ("funds", "funded by", "funds", False)
    assert list(config.relation_vocabulary)[-2:] == ["designated-by", "funds"]
    assert RELATION_TYPES[designated] == ("designated by", "designated")  # how pages word any type


@pytest.mark.parametrize("block, line, message", [
    ("relation_types: [funds]", 3, "`relation_types` must be a mapping of type names to {wording, inverse, stix, places}"),
    ("relation_types:\n  funds: {wording: funds}\n  Funded_By: {wording: x}", 5,
     "`relation_types.Funded_By`: a type name is lowercase letters, digits and hyphens (`designated-by`), as STIX wants it"),
    ("relation_types:\n  front-for: {wording: x}", 4, "`relation_types.front-for` is built in; give the site's own type another name"),
    ("relation_types:\n  funds:\n    wording: funds\n    inverse: funded by\n  trains:\n    wordng: trains", 7,
     "unknown key `relation_types.trains.wordng` (did you mean `wording`?)"),
    ("relation_types:\n  funds: {inverse: funded by}", 4,
     "`relation_types.funds` needs a `wording`: what the actor's page says (`designated by`)"),
    ("relation_types:\n  funds: {wording: funds, stix: Funds Money}", 4,
     "`relation_types.funds`: `stix` must be a STIX relationship type: lowercase letters, digits and hyphens, not `Funds Money`"),
    ("relation_types:\n  funds: {wording: funds, places: yes please}", 4, "`relation_types.funds`: `places` must be true or false"),
    ("relation_types:\n  funds: funds", 4, "`relation_types.funds` must be a mapping {wording, inverse, stix, places}"),
    ("relation_type:\n  funds: {wording: funds}", 3, "unknown key `relation_type` (did you mean `relation_types`?)"),
])
def test_bad_site_types_are_errors_at_their_line(tmp_path: Path, block: str, line: int, message: str) -> None:
    site = write_site(tmp_path / "site", BASIC, "title: Test desk\nbase_url: /repo/\n" + block + "\n")
    result = build(site, output=tmp_path / "out", write=False)
    assert not result.ok
    assert f"site.yml:{line}: error: {message}" in [str(d) for d in result.diagnostics], [
        str(d) for d in result.diagnostics]


def test_a_type_the_site_does_not_define_is_an_error_naming_its_types(tmp_path: Path) -> None:
    files = {**PROFILES, "content/actors/saraya-x.md": PROFILES["content/actors/saraya-x.md"].replace(
        "designated-by", "designated")}
    site = write_site(tmp_path / "site", files, SITE_YML)
    result = build(site, output=tmp_path / "out", write=False)
    assert "content/actors/saraya-x.md:4: error: `relations` entry 3: `type` must be one of member-of, front-for, "\
           "affiliated-with, supported-by, commands, rival-of, located-at, targets, designated-by, funds, not "\
           "`designated` (did you mean `designated-by`?)" in [str(d) for d in result.diagnostics]


def test_a_site_type_shows_on_both_pages_and_in_stix(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = build(write_site(tmp_path / "site", PROFILES, SITE_YML), output=out)
    assert result.ok, [str(d) for d in result.diagnostics]
    assert _relations((out / "actors/saraya-x/index.html").read_text())[-1] == (
        "Designated by: U.S. Department of State (since 2023-11-17 · high confidence · source: press statement)")
    assert _relations((out / "actors/state/index.html").read_text()) == [
        "Designated: Saraya X (since 2023-11-17 · high confidence · source: press statement)"]
    text = (out / "data/stix.json").read_text()
    options_types = {o["relationship_type"] for o in json.loads(text)["objects"] if o["type"] == "relationship"}
    assert "designated-by" in options_types
    with pytest.raises(AssertionError):  # the suite's own check allows the built-in vocabulary only...
        assert_valid_stix(text)
    _assert_valid_stix_with(text, {"designated-by"})  # ...and the bundle is valid STIX 2.1 with the site's
    objects = json.loads(text)["objects"]
    names = {o["id"]: o.get("name") for o in objects}
    designated = [o for o in objects if o.get("relationship_type") == "designated-by"]
    assert [(names[o["source_ref"]], names[o["target_ref"]]) for o in designated] == [
        ("Saraya X", "U.S. Department of State")]
    assert designated[0]["start_time"] == "2023-11-17T00:00:00.000Z" and designated[0]["confidence"] == 85
    edges = [e for e in json.loads((out / "data/graph.json").read_text())["edges"] if e["type"] == "relation"]
    assert {"type": "relation", "relation": "designated-by", "source": "actor/saraya-x",
            "target": "actor/state", "since": "2023-11-17", "confidence": "high"} in edges
    legend = _legend((out / "actors/saraya-x/index.html").read_text())
    assert "dark dash-dot-dots: designated by" in legend


def _assert_valid_stix_with(text: str, own: set[str]) -> None:
    from stix2validator import ValidationOptions, validate_string

    options = ValidationOptions(version="2.1", strict=True,
                                disabled=["uuid-check", "extref-hashes", "relationship-types"])
    result = validate_string(text, options)
    assert result.is_valid, [str(e) for e in result.errors] + [str(w) for w in result.warnings]
    assert not result.warnings, [str(w) for w in result.warnings]
    types = {o["relationship_type"] for o in json.loads(text)["objects"] if o["type"] == "relationship"}
    assert types <= {"related-to", *RELATION_TYPES, *own}, types
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", t) for t in types)  # STIX's form for any relationship type


def test_the_build_reads_them_itself(tmp_path: Path) -> None:
    result = build(write_site(tmp_path / "site", PROFILES, SITE_YML), output=tmp_path / "out", write=False)
    assert result.ok, [str(d) for d in result.diagnostics]


def test_site_types_survive_pickling() -> None:  # warm builds keep the model in a pickle
    import pickle

    kind = RelationType("funds", "funds", "funded by", "funds")
    again = pickle.loads(pickle.dumps(kind))
    assert (again, again.forward, again.inverse, again.stix, type(again)) == ("funds", "funds", "funded by", "funds",
                                                                              RelationType)


# --------------------------------------------------------------------------- typed edges on the graphs


def _legend(page: str) -> str:
    found = re.search(r'<p class="legend relation-legend hint">(.*?)</p>', page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""


def _svg(page: str, css: str) -> str:
    start = page.index(f'<svg class="figure-svg {css}"')
    return page[start : page.index("</svg>", start)]


def test_graph_json_carries_relation_types(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(write_site(tmp_path / "site", BUILT_IN_ONLY), output=out).ok
    data = json.loads((out / "data/graph.json").read_text())
    relations = [e for e in data["edges"] if e["type"] == "relation"]
    assert relations == [
        {"type": "relation", "relation": "front-for", "source": "actor/saraya-x", "target": "actor/kataib-hezbollah",
         "since": "2023-10-20", "confidence": "moderate"},
        {"type": "relation", "relation": "targets", "source": "actor/saraya-x", "target": "place/baghdad",
         "confidence": "low"},
    ]
    assert any(e["type"] == "affiliated" for e in data["edges"])  # affiliations are still their own edges
    types = [e["type"] for e in data["edges"]]
    assert types.index("relation") > max(i for i, t in enumerate(types) if t == "affiliated")


def test_network_page_draws_relations_in_their_style_with_a_legend(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(write_site(tmp_path / "site", BUILT_IN_ONLY), output=out).ok
    page = (out / "graph/index.html").read_text()
    drawing = _svg(page, "network")
    assert 'role="document"' not in drawing or "<a " in drawing
    assert '<path class="g-rel g-rel-control" marker-end="url(#network-arrow-control)"' in drawing
    assert '<path class="g-rel g-rel-hostile" marker-end="url(#network-arrow-hostile)"' in drawing
    assert '<marker id="network-arrow-control"' in drawing and "<title>Saraya X: front for Kataib Hezbollah</title>" in drawing
    desc = re.search(r'<desc id="network-desc">(.*?)</desc>', drawing).group(1)  # type: ignore[union-attr]
    assert "Relations: Saraya X: front for Kataib Hezbollah; Saraya X: targets Baghdad." in desc
    assert _legend(page) == ("Relations stated in profiles, with an arrow towards the target where they have a "
                             "direction: solid purple: front for red dash-dots: targets")
    row = re.search(r'<tr><td><a class="chip-actor" href="/repo/actors/saraya-x/">.*?</tr>', page, re.S).group(0)  # type: ignore[union-attr]
    assert "Front for <a" in row and "Targets <a" in row  # the table lists them in words too
    assert 'href="/repo/data/graph.json"' in page and "<code>relation</code>" in page


def test_actor_graph_draws_relations_both_ways(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(write_site(tmp_path / "site", BUILT_IN_ONLY), output=out).ok
    front = (out / "actors/saraya-x/index.html").read_text()
    drawing = _svg(front, "graph")
    assert "Relations from the profiles: Saraya X: front for Kataib Hezbollah; Saraya X: targets Baghdad." in drawing
    assert '<circle class="g-node g-place"' in drawing  # the place it targets joins its graph
    assert "solid purple: front for" in _legend(front) and "red dash-dots: targets" in _legend(front)
    target = _svg((out / "actors/kataib-hezbollah/index.html").read_text(), "graph")
    path = re.search(r'<path class="g-rel g-rel-control" marker-end="url\(#graph-arrow-control\)" d="M([\d.]+) ([\d.]+)Q', target)
    centre = re.search(r'<circle class="g-node g-centre" cx="([\d.]+)" cy="([\d.]+)"', target)
    assert path and centre and path.groups() != centre.groups()  # drawn from Saraya X, towards the centre


def test_symmetric_relations_have_no_arrowhead() -> None:
    centre = svg.Node("actor/a", "A", 2, "actor")
    ring = [(svg.Node("actor/b", "B", 1, "actor"), 1, False)]
    rival = svg.RelationEdge("actor/a", "actor/b", svg.relation_family("rival-of"), False, "rival of")
    picture = svg.ego_graph(centre, ring, relations=(rival,))
    assert '<path class="g-rel g-rel-hostile" d=' in picture and "<marker" not in picture
    assert "(dark dash-dot-dots" not in svg.relation_legend([rival])
    assert svg.relation_family("designated-by") == "own"


# --------------------------------------------------------------------------- the brief from a day

BRIEF = {
    **BASIC,
    "content/notes/old-view.md": """
        ---
        title: Old view
        date: 2023-10-03
        confidence: low
        actors: [KH]
        ---
        Body.
        """,
    "content/notes/revised-view.md": """
        ---
        title: Revised view
        date: 2023-10-04
        updated: 2023-11-25
        confidence: moderate
        actors: [KH]
        ---
        Body.
        """,
    "content/articles/late-report.md": """
        ---
        title: Late report
        date: 2023-11-21
        actors: [KH]
        ---
        Body.
        """,
}


def test_brief_marks_each_item_with_its_last_change(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(write_site(tmp_path / "site", BRIEF), output=out).ok
    page = (out / "brief/index.html").read_text()
    assert 'data-changed="2023-11-25"' in page and 'data-changed="2023-11-21"' in page
    assert re.search(r'<p id="brief-since"[^>]* hidden>', page)  # without JavaScript: everything, no note
    assert 'src="/repo/assets/brief.js"' in page and (out / "assets/brief.js").is_file()


def test_brief_since_in_the_address_starts_from_that_day(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    assert build(write_site(tmp_path / "site", BRIEF), output=out).ok
    with static_server(out, "/repo/") as base:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}brief/")
            total = page.eval_on_selector_all(".brief [data-changed]", "els => els.length")
            assert page.eval_on_selector_all(".brief [data-changed]", "els => els.filter(e => e.hidden).length") == 0
            assert page.is_hidden("#brief-since")
            page.goto(f"{base}brief/?since=2023-11-20")
            page.wait_for_selector("#brief-since:not([hidden])")
            shown = page.eval_on_selector_all(".brief [data-changed]",
                                              "els => els.filter(e => !e.hidden).map(e => e.dataset.changed)")
            assert shown == ["2023-11-25", "2023-11-21"]
            assert page.text_content("#brief-since [data-since-text]") == (
                f"Showing 2 of {total} items: what is new or updated since 2023-11-20.")
            assert page.is_visible("h3 >> text=Revised view") and not page.is_visible("h3 >> text=Old view")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.click("#brief-since >> text=Show everything")
            page.wait_for_url(f"{base}brief/")
            assert page.eval_on_selector_all(".brief [data-changed]", "els => els.filter(e => e.hidden).length") == 0
            page.goto(f"{base}brief/?since=2024-01-01")
            page.wait_for_selector("#brief-since:not([hidden])")
            assert page.is_visible("text=No assessment is new or updated since that day.")
            assert page.is_visible("text=No reporting is new or updated since that day.")
            page.goto(f"{base}brief/?since=yesterday")  # not a day: the whole brief
            assert page.is_hidden("#brief-since")
            assert errors == []
        finally:
            context.close()
