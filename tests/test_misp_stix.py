"""The STIX bundle as MISP reads it, through MISP's own converter (misp-stix): each event carries
its report's TLP only, and only the objects its report references; cyber actors come out as
threat-actor or intrusion-set objects; each event is published on its document's date."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml
from stix2validator import ValidationOptions, validate_string

from conftest import BASIC, REPO, write_site
from generator.engine.build import build


def _events(bundle_path: Path) -> list[dict]:
    from misp_stix_converter import ExternalSTIX2toMISPParser
    from stix2 import parse

    parser = ExternalSTIX2toMISPParser()
    parser.load_stix_bundle(parse(bundle_path.read_text(), allow_custom=True))
    parser.parse_stix_bundle()
    return [json.loads(event.to_json()) for event in parser.misp_events]


def _reports(bundle_path: Path) -> dict[str, dict]:
    return {o["name"]: o for o in json.loads(bundle_path.read_text())["objects"] if o["type"] == "report"}


def _carried(event: dict) -> int:
    return len(event.get("Object", [])) + len(event.get("Attribute", [])) + sum(
        len(g.get("GalaxyCluster", [])) for g in event.get("Galaxy", []))


def test_sample_bundle_events_carry_their_own_tlp_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(REPO, output=out, use_cache=False).ok
    bundle = out / "data/stix.json"
    markings = [o["name"] for o in json.loads(bundle.read_text())["objects"] if o["type"] == "marking-definition"]
    assert markings == ["TLP:CLEAR"]
    events, reports = _events(bundle), _reports(bundle)
    assert len(events) == len(reports) == 14
    for event in events:
        tlp = [t["name"] for t in event.get("Tag", []) if t["name"].startswith("tlp:")]
        assert tlp == ["tlp:clear"], (event["info"], tlp)


def test_events_carry_only_what_their_report_references(tmp_path: Path) -> None:
    files = dict(BASIC)
    for n in range(40):  # profiles no report references
        files[f"content/actors/group-{n}.md"] = f"---\ntitle: Group {n}\nkind: militia\n---\nA group.\n"
    files["content/actors/apt-x.md"] = "---\ntitle: APT X\naliases: [Xray Panda]\nkind: intrusion set\n---\nSpies.\n"
    files["content/actors/hackers.md"] = "---\ntitle: Some hackers\nkind: threat actor\n---\nHackers.\n"
    files["content/articles/cyber.md"] = "---\ntitle: Cyber report\ndate: 2023-10-09\nactors: [APT X, Some hackers]\ntlp: green\n---\nBody.\n"
    site = write_site(tmp_path / "site", files, "title: Test desk\nbase_url: https://user.github.io/repo/\npublish: {max_tlp: green}\n")
    out = tmp_path / "out"
    assert build(site, output=out).ok
    bundle = out / "data/stix.json"
    objects = json.loads(bundle.read_text())["objects"]
    by_name = {o.get("name"): o for o in objects}
    assert by_name["APT X"]["type"] == "intrusion-set" and by_name["APT X"]["aliases"] == ["Xray Panda"]
    assert by_name["Some hackers"]["type"] == "threat-actor"
    assert "Group 3" not in by_name  # no report refers to it
    reports = _reports(bundle)
    for event in _events(bundle):
        refs = reports[event["info"]]["object_refs"]
        assert _carried(event) <= len(refs) + 1, (event["info"], _carried(event), len(refs))  # (+ its producer)
        tlp = [t["name"] for t in event.get("Tag", []) if t["name"].startswith("tlp:")]
        assert tlp == (["tlp:green"] if event["info"] == "Cyber report" else ["tlp:clear"]), (event["info"], tlp)


def test_each_event_is_published_on_its_documents_date(tmp_path: Path) -> None:
    """misp-stix reads no date of an event from STIX 2 (its `date` stays unset, and MISP then
    dates it the day of the import): it gives an event `published` and a `publish_timestamp`
    from a report's `published`, but only when that differs from the report's `modified`. So
    each event must be published at the start of its document's day, updated or not."""
    out = tmp_path / "out"
    assert build(REPO, output=out, use_cache=False).ok
    bundle = out / "data/stix.json"
    # a `modified` at the day's end is still valid STIX 2.1 (the checks off are test_features.assert_valid_stix's;
    # it also holds relationship types to the built-in ones, and the sample site has one of its own)
    options = ValidationOptions(version="2.1", strict=True, disabled=["uuid-check", "extref-hashes", "relationship-types"])
    result = validate_string(bundle.read_text(), options)
    assert result.is_valid and not result.warnings, [str(e) for e in result.errors] + [str(w) for w in result.warnings]
    documents = {}  # title -> (date, updated)
    for path in sorted((REPO / "content").glob("*/*.md")):
        if path.parent.name not in ("articles", "notes"):
            continue
        meta = yaml.safe_load(path.read_text(encoding="utf-8").split("\n---", 1)[0].removeprefix("---\n"))
        documents[meta["title"]] = (meta["date"], meta.get("updated"))
    events, reports = _events(bundle), _reports(bundle)
    assert len(events) == len(reports) == 14
    assert any(updated for _, updated in documents.values()) and any(not u for _, u in documents.values())
    for event in events:
        day, updated = documents[event["info"]]
        published = dt.datetime.fromtimestamp(int(event["publish_timestamp"]), dt.timezone.utc)
        assert event["published"] is True, event["info"]
        assert published == dt.datetime.combine(day, dt.time(), dt.timezone.utc), (event["info"], published)
        assert event.get("date") in (None, day.isoformat()), event  # should misp-stix read one, it is this
        changed = dt.datetime.fromtimestamp(int(event["timestamp"]), dt.timezone.utc).date()
        assert changed == (updated or day), (event["info"], changed)
        assert reports[event["info"]]["published"] == f"{day.isoformat()}T00:00:00.000Z"
