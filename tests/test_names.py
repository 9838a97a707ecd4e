"""Names that several profiles share, and tags that miss a profile's name by a little.

generator/site/names.py (near misses) table by table; then tiny sites for the catalog's
rules (ambiguous names, the title that wins, one error for a taken title or slug, [[links]],
drafts, the publish audit, --strict, warm builds); then real data: the MISP galaxies'
threat actors and ATT&CK intrusion sets, whose aliases overlap.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path

import pytest

from conftest import write_site
from generator.commands.cli import main
from generator.content.text import slugify
from generator.engine.build import BuildResult, build
from generator.site.names import NearNames, allowed_edits, compact, edit_distance, folded

# ------------------------------------------------------------------------------ names.py


@pytest.mark.parametrize("a, b", [
    ("Kataib Hezbolah", "Kataib Hezbollah"),  # a doubled letter
    ("Kata'ib Hizballah", "Kataib Hezbollah"),  # vowels
    ("Ketaib Hizbullah", "Kataib Hezbollah"),
    ("Popular Mobilisation Forces", "Popular Mobilization Forces"),  # s / z
    ("Islamic Resistance of Iraq", "Islamic Resistance in Iraq"),  # a connective
    ("el-Asad", "Al Asad"),  # an article
    ("Asad", "al-Asad"),
    ("Quds Force", "Kuds Force"),  # q / k
    ("Nouri al-Maliki", "Nuri al-Maliki"),  # ou / u
    ("Sayyid al-Shuhada", "Sayid al-Shouhada"),
])
def test_transliterations_fold_together(a: str, b: str) -> None:
    assert folded(a) == folded(b)


@pytest.mark.parametrize("a, b", [
    ("Iran", "Iraq"), ("APT28", "APT29"), ("Kataib Hezbollah", "Kataib Sayyid al-Shuhada"),
    ("Hamas", "Hezbollah"), ("Baghdad", "Bagram"),
])
def test_different_names_do_not_fold_together(a: str, b: str) -> None:
    assert folded(a) != folded(b)


@pytest.mark.parametrize("a, b, limit, distance", [
    ("kataib", "kataib", 2, 0),
    ("kataib", "katiab", 2, 1),  # a swap is one edit
    ("hezbollah", "hezbolah", 2, 1),
    ("hezbollah", "hizbulah", 2, 3),  # more than the limit: limit + 1
    ("abc", "abcdef", 2, 3),
    ("", "ab", 2, 2),
    ("centcom", "centcmo", 1, 1),
])
def test_edit_distance(a: str, b: str, limit: int, distance: int) -> None:
    assert edit_distance(a, b, limit) == distance == edit_distance(b, a, limit)


def test_edit_distance_agrees_with_the_full_table() -> None:
    def full(a: str, b: str) -> int:  # optimal string alignment, every cell
        d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
                if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
        return d[-1][-1]

    rng = random.Random(7)
    for _ in range(2000):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 7)))
        b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 7)))
        for limit in (1, 2):
            assert edit_distance(a, b, limit) == min(full(a, b), limit + 1), (a, b, limit)


@pytest.mark.parametrize("length, edits", [(2, 0), (4, 0), (5, 1), (11, 1), (12, 2), (40, 2)])
def test_allowed_edits(length: int, edits: int) -> None:
    assert allowed_edits(length) == edits


PROFILE_NAMES = [
    ("Kataib Hezbollah", "kh"), ("KH", "kh"), ("Kata'ib Hizballah", "kh"),
    ("Islamic Resistance in Iraq", "iri"), ("Popular Mobilization Forces", "pmf"), ("PMF", "pmf"),
    ("Harakat Hezbollah al-Nujaba", "nujaba"), ("Nujaba", "nujaba"), ("APT28", "apt28"), ("APT29", "apt29"),
    ("US Central Command", "centcom"), ("CENTCOM", "centcom"), ("Kataib Sayyid al-Shuhada", "kss"), ("KSS", "kss"),
]


@pytest.mark.parametrize("tag, name, how", [
    ("Kataib Hezbolah", "Kataib Hezbollah", "folded"),
    ("Ketaib Hizbullah", "Kataib Hezbollah", "folded"),
    ("Islamic Resistance of Iraq", "Islamic Resistance in Iraq", "folded"),
    ("Popular Mobilisation Forces", "Popular Mobilization Forces", "folded"),
    ("Hezbollah Kataib", "Kataib Hezbollah", "word order"),
    ("Iraq Islamic Resistance", "Islamic Resistance in Iraq", "word order"),
    ("CETNCOM", "CENTCOM", "edits"),  # a swap
    ("US Cemtral Command", "US Central Command", "edits"),
    ("Harakat Hezbolla al Nujaba", "Harakat Hezbollah al-Nujaba", "edits"),
    ("Nujabba", "Nujaba", "folded"),
])
def test_near_finds_the_name_meant(tag: str, name: str, how: str) -> None:
    found = NearNames(PROFILE_NAMES).near(tag)
    assert [(n.name, n.how) for n in found] == [(name, how)]


@pytest.mark.parametrize("tag", [
    "APT30", "APT 2", "Brigade 30",  # other numbers are other groups
    "KSH", "KHS", "IRGC",  # acronyms: no edits below 5 characters
    "Hezbollah", "Kataib Imam Ali", "Saraya Awliya al-Dam", "Syrian Democratic Forces", "Ansar Allah",
])
def test_near_leaves_other_names_alone(tag: str) -> None:
    assert NearNames(PROFILE_NAMES).near(tag) == []


def test_near_names_every_profile_a_name_is_equally_close_to() -> None:
    index = NearNames([("Cobalt Gypsy", "oilrig"), ("Cobalt Gypsy", "cleaver"), ("OilRig", "oilrig")])
    assert [n.target for n in index.near("Cobat Gypsy")] == ["oilrig", "cleaver"]


def test_near_is_fast_on_thousands_of_names() -> None:
    """An index, not all pairs: 3,000 names and 2,000 look-ups in well under a second
    (all-pairs difflib takes some 3 ms a look-up, 6 s here)."""
    rng = random.Random(3)
    syllables = "ka ta ib hez bol lah ha ra nu ja ba as aib ahl haq sa ya ab liwa fa te mi youn zai neb qu ds".split()

    def name() -> str:
        return " ".join("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(rng.randint(1, 3)))

    profiles = [(name(), i // 3) for i in range(3000)]
    tags = [name() for _ in range(2000)]
    started = time.process_time()
    index = NearNames(profiles)
    for tag in tags:
        index.near(tag)
    assert time.process_time() - started < 2.5


# ------------------------------------------------------------------------------ tiny sites

def actor(title: str, aliases: list[str] | None = None, slug: str | None = None, extra: str = "") -> str:
    lines = ["---", f"title: {title}"]
    if slug:
        lines.append(f"slug: {slug}")
    if aliases is not None:
        lines.append("aliases: [" + ", ".join(aliases) + "]")
    return "\n".join(lines + [extra, "---", f"About {title}.", ""]) if extra else "\n".join(lines + ["---", f"About {title}.", ""])


def doc(title: str, actors: list[str], body: str = "Body.", front: str = "") -> str:
    extra = f"{front}\n" if front else ""
    return f"---\ntitle: {title}\ndate: 2023-10-01\nactors: [{', '.join(actors)}]\n{extra}---\n{body}\n"


SHARED = {
    "content/actors/apt28.md": actor("APT28", ["Fancy Bear", "Grizzly Steppe", "IMPERIAL KITTEN", "Imperial Kitten", "apt28"]),
    "content/actors/apt29.md": actor("APT29", ["Cozy Bear", "Grizzly Steppe"]),
    "content/actors/chrysene.md": actor("CHRYSENE", ["OilRig", "Greenbug"]),
    "content/actors/oilrig.md": actor("OilRig", ["Helix Kitten"]),
    "content/articles/steppe.md": doc("Steppe report", ["Grizzly Steppe", "Cozy Bear"]),
    "content/articles/oil.md": doc("Oil report", ["OilRig"]),
    "content/articles/fancy.md": doc("Fancy report", ["Fancy Bear", "grizzly steppe"]),
    "content/articles/draft.md": doc("Draft steppe", ["Grizzly Steppe"], front="draft: true"),
    "content/notes/links.md": "---\ntitle: Links\ndate: 2023-10-02\nactors: [APT28]\n---\nSee [[Grizzly Steppe]] and\n[[OilRig]].\n",
}


def messages(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(d) for d in result.diagnostics]


def test_a_shared_name_is_a_warning_naming_every_profile_and_tags_none(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", SHARED)
    result = build(site, output=tmp_path / "out", use_cache=False)
    assert result.ok, messages(result)
    assert messages(result) == [
        "content/articles/draft.md:4: warning: `Grizzly Steppe` may mean APT28 or APT29: tag one by its title or slug",
        "content/articles/fancy.md:4: warning: `grizzly steppe` may mean APT28 or APT29: tag one by its title or slug",
        "content/articles/oil.md:4: warning: `OilRig` is the title of OilRig and an alias of CHRYSENE: tagged as OilRig",
        "content/articles/steppe.md:4: warning: `Grizzly Steppe` may mean APT28 or APT29: tag one by its title or slug",
        "content/notes/links.md:6: warning: `[[Grizzly Steppe]]` may mean APT28 or APT29: link to one by its title or "
        "slug; shown as plain text",
        "content/notes/links.md:7: warning: `[[OilRig]]` is the title of OilRig and an alias of CHRYSENE: links to OilRig",
    ]
    s = result.site
    assert s is not None
    steppe, fancy, oil = ("article", "steppe"), ("article", "fancy"), ("article", "oil")
    assert s.tags[steppe] == (("actor", "apt29"),)  # by `Cozy Bear`; `Grizzly Steppe` tags nothing
    assert s.tags[oil] == (("actor", "oilrig"),)
    assert ("actor", "grizzly-steppe") not in s.entities  # never a page of its own
    # "possibly" on each candidate's page, never "about" it: not counted, not co-occurring
    assert s.possibly == {("actor", "apt28"): (steppe,), ("actor", "apt29"): (fancy,)}  # each already tags the other
    assert steppe not in s.tagged.get(("actor", "apt28"), ()) and fancy not in s.tagged[("actor", "apt29")]
    assert not s.co_actors.get(("actor", "apt28")) and not s.co_actors.get(("actor", "apt29"))
    assert set(s.ambiguous) == {("actor", "grizzly-steppe")}  # (OilRig has its title-holder)
    assert s.ambiguous[("actor", "grizzly-steppe")].candidates == (("actor", "apt28"), ("actor", "apt29"))

    page = (tmp_path / "out/actors/apt29/index.html").read_text()
    assert 'id="possibly">Possibly about APT29</h2>' in page
    possibly = page[page.index('id="possibly"'):]
    assert "/articles/fancy/" in possibly and "/articles/draft/" not in page  # the draft is never shown
    assert '<q>Grizzly Steppe</q>: also <a href="/repo/actors/apt28/">APT28</a>' in possibly
    assert "<dt>Documents</dt><dd>1 ·" in page  # steppe.md (by Cozy Bear), not fancy.md
    index = (tmp_path / "out/actors/index.html").read_text()
    assert ('<li>Grizzly Steppe → may mean <a href="/repo/actors/apt28/">APT28</a> · '
            '<a href="/repo/actors/apt29/">APT29</a></li>') in index
    links = (tmp_path / "out/notes/links/index.html").read_text()
    assert "Grizzly Steppe" in links and 'href="/repo/actors/oilrig/"' in links
    assert not re.search(r'<a [^>]*>Grizzly Steppe</a>', links)  # plain text


def test_drafts_tagged_with_a_shared_name_are_possibly_nothing_published(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {k: v for k, v in SHARED.items() if "steppe" not in k and "fancy" not in k})
    result = build(site, output=tmp_path / "out", use_cache=False)
    assert result.ok and result.site is not None and result.site.possibly == {}
    assert "Possibly" not in (tmp_path / "out/actors/apt28/index.html").read_text()
    with_drafts = build(site, output=tmp_path / "drafts", use_cache=False, drafts=True)
    assert with_drafts.site is not None
    assert with_drafts.site.possibly[("actor", "apt28")] == (("article", "draft"),)


def test_a_profile_naming_itself_twice_is_no_problem(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {
        "content/actors/imperial-kitten.md": actor("Imperial Kitten", ["IMPERIAL KITTEN", "imperial-kitten", "Imperial  Kitten"]),
        "content/articles/a.md": doc("A", ["IMPERIAL KITTEN"]),
    })
    result = build(site, output=tmp_path / "out", use_cache=False)
    assert result.ok and messages(result) == []
    assert result.site is not None and result.site.tags[("article", "a")] == (("actor", "imperial-kitten"),)


@pytest.mark.parametrize("second, line, message", [
    (actor("OilRig", ["Cobalt Gypsy"]), 2,
     "title `OilRig` is already the title of content/actors/a.md; two profiles cannot share a title "
     "(make it an alias of one, or retitle one)"),
    (actor("Helix Kitten", ["OilRig"], slug="oilrig"), 3, "actor slug `oilrig` is already used by content/actors/a.md; "
                                                          "set a different `slug:`"),
])
def test_a_taken_title_or_slug_is_one_error_at_its_line(tmp_path: Path, second: str, line: int, message: str) -> None:
    site = write_site(tmp_path / "site", {
        "content/actors/a.md": actor("OilRig", ["Cobalt Gypsy"], slug="oilrig"),
        "content/actors/b.md": second,
        "content/articles/x.md": doc("X", ["Cobalt Gypsy"]),
    })
    result = build(site, output=tmp_path / "out", use_cache=False)
    assert messages(result) == [f"content/actors/b.md:{line}: error: {message}"]


def test_a_title_another_profile_has_as_an_alias_wins(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {
        "content/actors/a.md": actor("Alpha", ["Beta"]),
        "content/actors/b.md": actor("Beta"),
        "content/actors/c.md": actor("Gamma", ["Beta"], extra="affiliations: [Beta]"),
        "content/articles/x.md": doc("X", ["Beta"]),
    })
    result = build(site, output=tmp_path / "out", use_cache=False)
    assert result.ok and result.site is not None
    assert messages(result) == [
        "content/actors/c.md:4: warning: `Beta` is the title of Beta and an alias of Alpha, Gamma: taken as Beta",
        "content/articles/x.md:4: warning: `Beta` is the title of Beta and an alias of Alpha, Gamma: tagged as Beta",
    ]
    assert result.site.tags[("article", "x")] == (("actor", "b"),)
    assert result.site.affiliations[("actor", "c")] == (("actor", "b"),)
    assert result.site.ambiguous == {}


def test_a_profile_naming_a_shared_or_near_name_gets_the_same_warnings(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {
        **{k: v for k, v in SHARED.items() if k.startswith("content/actors/")},
        "content/actors/sandworm.md": actor("Sandworm", [], extra="affiliations: [Grizzly Steppe, Cozy Baer, APT28]"),
        "content/articles/x.md": doc("X", ["Sandworm"]),
    })
    result = build(site, output=tmp_path / "out", use_cache=False)
    assert result.ok and result.site is not None
    assert messages(result) == [
        "content/actors/sandworm.md:4: warning: `Grizzly Steppe` may mean APT28 or APT29: name one by its title or slug",
        "content/actors/sandworm.md:4: warning: actor `Cozy Baer` matches no profile; did you mean `Cozy Bear` (APT29)?",
    ]
    assert result.site.affiliations[("actor", "sandworm")] == (("actor", "cozy-baer"), ("actor", "apt28"))


def test_a_name_shared_by_an_actor_and_a_place_is_plain_as_a_tag(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {
        "content/actors/government-of-iran.md": actor("Government of Iran", ["Tehran"]),
        "content/places/tehran-city.md": "---\ntitle: Tehran City\naliases: [Tehran]\n---\n",
        "content/articles/x.md": "---\ntitle: X\ndate: 2023-10-01\nactors: [Tehran]\nplaces: [Tehran]\n---\nSee [[Tehran]].\n",
    })
    result = build(site, output=tmp_path / "out", use_cache=False)
    assert result.ok and result.site is not None
    assert result.site.tags[("article", "x")] == (("actor", "government-of-iran"), ("place", "tehran-city"))
    assert messages(result) == ["content/articles/x.md:7: warning: `[[Tehran]]` may mean Government of Iran or "
                                "Tehran City: link to one by its title or slug; shown as plain text"]


MISSPELT = {
    "content/actors/kataib-hezbollah.md": actor("Kataib Hezbollah", ["KH", "Kata'ib Hizballah"]),
    "content/actors/pmf.md": actor("Popular Mobilization Forces", ["PMF"]),
    "content/articles/a.md": doc("A", ["Kataib Hezbolah", "Islamic Resistance in Iraq"]),
    "content/articles/b.md": doc("B", ["Kataib Hezbolah", "Popular Mobilisation Forces", "KSS"]),
}


def test_a_tag_close_to_a_profile_is_a_warning_at_each_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", MISSPELT)
    result = build(site, output=tmp_path / "out", use_cache=False)
    assert result.ok
    assert messages(result) == [
        "content/articles/a.md:4: warning: actor `Kataib Hezbolah` matches no profile; did you mean `Kataib Hezbollah`?",
        "content/articles/b.md:4: warning: actor `Kataib Hezbolah` matches no profile; did you mean `Kataib Hezbollah`?",
        "content/articles/b.md:4: warning: actor `Popular Mobilisation Forces` matches no profile; did you mean "
        "`Popular Mobilization Forces`?",
    ]
    assert result.site is not None and ("actor", "kataib-hezbolah") in result.site.entities  # still its own page
    code = main(["build", "--site", str(site), "--output", str(tmp_path / "cli")])
    out, err = capsys.readouterr()
    assert code == 0 and "did you mean `Kataib Hezbollah`?" in err
    assert out.splitlines()[-2:] == [
        "4 tags made pages with no profile: Kataib Hezbolah, Islamic Resistance in Iraq, KSS, Popular Mobilisation Forces",
        "published 2 documents, 6 actors and places; held back: none",
    ]


def test_a_tag_close_to_an_alias_names_the_profile(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {**MISSPELT, "content/articles/a.md": doc("A", ["Katib Hizballah"]),
                                          "content/articles/b.md": doc("B", ["PMF"])})
    result = build(site, output=tmp_path / "out", use_cache=False)
    assert messages(result) == ["content/articles/a.md:4: warning: actor `Katib Hizballah` matches no profile; did you "
                                "mean `Kataib Hezbollah`?"]  # (both its names fold alike: the first one given)


def test_strict_build_fails_on_these_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, files in (("shared", SHARED), ("misspelt", MISSPELT)):
        site = write_site(tmp_path / name, files)
        assert main(["build", "--strict", "--site", str(site), "--output", str(tmp_path / f"{name}-out")]) == 1
        err = capsys.readouterr().err
        assert "build failed (--strict)" in err and ("may mean APT28 or APT29" in err or "did you mean" in err)


def test_warm_builds_report_the_same_warnings_as_a_build_from_scratch(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {**SHARED, **MISSPELT})
    out = tmp_path / "out"
    steps = iter(range(100, 0, -10))

    def build_aged(*edited: str) -> BuildResult:  # files older than the build (one as fresh is never trusted)
        then = time.time() - next(steps)
        for path in [site / rel for rel in edited] or (site / "content").rglob("*.md"):
            os.utime(path, (then, then))
        return build(site, output=out)

    first = build_aged()
    assert first.ok and "warm" not in first.timings

    def scratch() -> list[str]:
        return messages(build(site, output=tmp_path / "scratch", use_cache=False))

    (site / "content/articles/oil.md").write_text(doc("Oil report", ["OilRig"], body="A new body."), encoding="utf-8")
    (site / "content/notes/links.md").write_text(SHARED["content/notes/links.md"] + "More.\n", encoding="utf-8")
    (site / "content/articles/new.md").write_text(doc("New", ["APT29"]), encoding="utf-8")  # a new file: full
    full = build_aged("content/articles/oil.md", "content/notes/links.md", "content/articles/new.md")
    assert "warm" not in full.timings and messages(full) == scratch() == messages(first)

    (site / "content/articles/new.md").write_text(doc("New", ["APT29"], body="Edited."), encoding="utf-8")
    warm = build_aged("content/articles/new.md")  # a body edit of a file without warnings: the warm path
    assert "warm" in warm.timings and messages(warm) == scratch() == messages(first)

    (site / "content/actors/apt29.md").write_text(actor("APT29", ["Cozy Bear"]), encoding="utf-8")  # a profile: full
    after = build_aged("content/actors/apt29.md")
    assert "warm" not in after.timings and messages(after) == scratch()
    assert not any("Grizzly Steppe" in m for m in messages(after))  # only APT28 claims it now
    assert after.site is not None and after.site.tags[("article", "steppe")] == (("actor", "apt28"), ("actor", "apt29"))


# ------------------------------------------------------------------------------ real data

GALAXIES = Path(__import__("pymispgalaxies").__file__).parent / "data/misp-galaxy/clusters"


def galaxy_site(root: Path, galaxy: str, articles: dict[str, list[str]]) -> Path:
    """One actor profile per galaxy entry (title: its value, aliases: its synonyms), and these articles."""
    files: dict[str, str] = {}
    for entry in json.loads((GALAXIES / galaxy).read_text(encoding="utf-8"))["values"]:
        synonyms = entry.get("meta", {}).get("synonyms", [])
        rel = f"content/actors/{slugify(entry['value'])}.md"
        assert rel not in files, rel
        files[rel] = (f"---\ntitle: {json.dumps(entry['value'], ensure_ascii=False)}\n"
                      f"aliases: {json.dumps(synonyms, ensure_ascii=False)}\n---\nFrom the MISP galaxy.\n")
    for i, (title, tags) in enumerate(articles.items()):
        files[f"content/articles/a{i}.md"] = doc(title, [json.dumps(t) for t in tags])
    return write_site(root, files)


def test_misp_threat_actors_build_with_their_shared_names(tmp_path: Path) -> None:
    site = galaxy_site(tmp_path / "site", "threat-actor.json", {
        "Steppe": ["Grizzly Steppe"], "Oil": ["OilRig"], "Bears": ["APT28", "Cozy Bear"], "Typo": ["Fancy Bearr"],
    })
    result = build(site, output=tmp_path / "out", use_cache=False)
    assert result.ok, messages(result)[:5]
    assert messages(result) == [
        "content/articles/a0.md:4: warning: `Grizzly Steppe` may mean APT28 or APT29: tag one by its title or slug",
        "content/articles/a1.md:4: warning: `OilRig` is the title of OilRig and an alias of CHRYSENE: tagged as OilRig",
        "content/articles/a3.md:4: warning: actor `Fancy Bearr` matches no profile; did you mean `FANCY BEAR` (APT28)?",
    ]
    s = result.site
    assert s is not None and len([e for e in s.entities.values() if e.has_profile]) == 864
    assert len(s.ambiguous) >= 10 and ("actor", "grizzly-steppe") in s.ambiguous
    for slug in ("apt28", "apt29"):
        assert "Possibly about" in (tmp_path / f"out/actors/{slug}/index.html").read_text()
    assert "Grizzly Steppe → may mean" in (tmp_path / "out/actors/index.html").read_text()


def test_misp_attack_intrusion_sets_build(tmp_path: Path) -> None:
    site = galaxy_site(tmp_path / "site", "mitre-intrusion-set.json", {"Oil": ["OilRig"], "Bear": ["APT28"]})
    result = build(site, output=tmp_path / "out", use_cache=False)
    assert result.ok, messages(result)[:5]
    assert all(d.level == "warning" for d in result.diagnostics)
    assert result.site is not None and result.site.tags[("article", "a0")] == (("actor", "oilrig-g0049"),)
