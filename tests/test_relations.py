"""Typed, dated relations between actor profiles: both pages show them (the target's with the
inverse wording), the STIX bundle gets a relationship of that type with start/stop times and
confidence, bad entries are errors at their line, and profile edits build as from scratch."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import age_written, BASIC, read_tree, write_site
from generator.engine.build import build
from test_features import assert_valid_stix

FRONT = """\
---
title: Saraya X
kind: militia
relations:
{relations}
---
A front.
"""
GOOD = """\
  - {type: front-for, target: KH, since: 2023-10-20, until: 2024-02-01, confidence: moderate, source: "Desk reporting"}
  - {type: targets, target: Baghdad, confidence: low}
"""


def _site(tmp_path: Path, relations: str = GOOD) -> Path:
    files = {**BASIC, "content/actors/saraya-x.md": FRONT.format(relations=relations.rstrip("\n")),
             "content/articles/claim.md": "---\ntitle: Claim\ndate: 2023-10-21\nactors: [Saraya X, KH]\nplaces: [Baghdad]\n---\nBody.\n"}
    return write_site(tmp_path / "site", files)


def _relations(page: str) -> list[str]:
    pairs = re.findall(r'<dt class="relation">(.*?)</dt><dd class="relation">(.*?)</dd>', page, re.S)
    return [f"{dt}: {re.sub(r'<[^>]+>', '', dd)}" for dt, dd in pairs]


def test_both_pages_show_the_relation(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = build(_site(tmp_path), output=out)
    assert result.ok, [str(d) for d in result.diagnostics]
    assert _relations((out / "actors/saraya-x/index.html").read_text()) == [
        "Front for: Kataib Hezbollah (since 2023-10-20, until 2024-02-01 · moderate confidence · source: Desk reporting)",
        "Targets: Baghdad (low confidence)",
    ]
    assert _relations((out / "actors/kataib-hezbollah/index.html").read_text()) == [
        "Fronts: Saraya X (since 2023-10-20, until 2024-02-01 · moderate confidence · source: Desk reporting)"]
    assert _relations((out / "places/baghdad/index.html").read_text()) == ["Targeted by: Saraya X (low confidence)"]


def test_stix_relationships_of_each_type(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(_site(tmp_path), output=out).ok
    text = (out / "data/stix.json").read_text()
    assert_valid_stix(text)
    objects = json.loads(text)["objects"]
    names = {o["id"]: o.get("name") for o in objects}
    typed = {(o["relationship_type"], names[o["source_ref"]], names[o["target_ref"]]): o
             for o in objects if o["type"] == "relationship" and o["relationship_type"] != "related-to"}
    front = typed[("front-for", "Saraya X", "Kataib Hezbollah")]
    assert front["start_time"] == "2023-10-20T00:00:00.000Z" and front["stop_time"] == "2024-02-01T00:00:00.000Z"
    assert front["confidence"] == 50
    targets = typed[("targets", "Saraya X", "Baghdad")]
    assert targets["confidence"] == 15 and "start_time" not in targets
    assert len(typed) == 2


@pytest.mark.parametrize("relations, message", [
    ("  - {type: fronts-for, target: KH}",
     "`relations` entry 1: `type` must be one of member-of, front-for, affiliated-with, supported-by, commands, "
     "rival-of, located-at, targets, not `fronts-for` (did you mean `front-for`?)"),
    ("  - {type: front-for, target: Nobody Known}", "`relations`: `front-for` target `Nobody Known` is not an actor"),
    ("  - {type: front-for, target: Baghdad}", "`relations`: `front-for` target `Baghdad` is not an actor"),
    ("  - {type: front-for}", "`relations` entry 1 needs a `target`: the name of an actor or place"),
    ("  - {type: front-for, target: KH, since: 2024-01-01, until: 2023-01-01}",
     "`relations` entry 1: `until` (2023-01-01) is before `since` (2024-01-01)"),
    ("  - {type: front-for, target: KH, confidence: sure}",
     "`relations` entry 1: `confidence` must be one of low, moderate, high, not `sure`"),
    ("  - {type: front-for, target: Saraya X}", "`relations`: `Saraya X` is this profile itself"),
])
def test_bad_relations_are_errors_at_the_key(tmp_path: Path, relations: str, message: str) -> None:
    result = build(_site(tmp_path, relations), output=tmp_path / "out", write=False)
    assert not result.ok
    assert f"content/actors/saraya-x.md:4: error: {message}" in [str(d) for d in result.diagnostics], [
        str(d) for d in result.diagnostics]


def test_editing_relations_builds_as_from_scratch(tmp_path: Path) -> None:
    site = _site(tmp_path)
    profile = site / "content/actors/saraya-x.md"

    def age() -> None:
        age_written(site)

    age()
    assert build(site).ok
    for n, relations in enumerate((GOOD.replace("moderate", "high"), "  - {type: rival-of, target: KH}", GOOD)):
        profile.write_text(FRONT.format(relations=relations.rstrip("\n")))
        age()
        assert build(site).ok
        assert build(site, output=tmp_path / f"scratch-{n}", use_cache=False).ok
        assert read_tree(site / "_site") == read_tree(tmp_path / f"scratch-{n}"), relations
