"""`briefing check` and `build --strict`: the output audit and the content warnings; the publish audit."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from conftest import BASIC, REPO, read_tree, write_site
from generator.output.audit import output_problems, today_from
from generator.engine.build import build
from generator.commands.cli import main
from generator.content.model import Site
from generator.site.urls import Urls

EPOCH_2023_11_14 = "1700000000"  # 2023-11-14T22:13:20Z


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def check_json(capsys: pytest.CaptureFixture[str], site: Path) -> tuple[int, list[dict]]:
    code, out, _ = run(capsys, "check", "--site", str(site), "--format", "json")
    return code, json.loads(out)


BROKEN = {
    **BASIC,
    "content/images/ok.png": "png",
    "content/articles/links.md": """
        ---
        title: Links of every kind
        date: 2023-10-19
        actors: [KH]
        ---
        ## Intro

        [fine](/articles/drone-attack/) ![fine](/images/ok.png) [fine](../drone-attack/) [fine](#sec-intro)
        [nowhere](/articles/nope/)
        ![gone](/images/missing.png)
        [up too far](../zzz/) [no such anchor](#nope)
        [[Drone attack on Ain al-Asad#No such heading]] [[Drone attack on Ain al-Asad#What happened]]
        [outside](/../../etc/passwd) [external](https://example.org/x) <a href="/articles/also-nope/">raw</a>
        [ref link][r]

        [r]: /articles/ref-nope/
        """,
}


def test_output_problems_point_at_the_markdown_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", BROKEN, site_yml="title: T\nbase_url: https://u.github.io/repo/\nmarkdown: {allow_html: true}\n")
    code, items = check_json(capsys, site)
    assert code == 1
    got = {(d["path"], d["line"], d["level"], d["message"]) for d in items}
    rel = "content/articles/links.md"
    assert got == {
        (rel, 9, "error", "broken link `/repo/articles/nope/`: no page at /articles/nope/"),
        (rel, 10, "error", "missing image `/repo/images/missing.png`: no file at /images/missing.png "
                           "(content/images/missing.png would be copied there)"),
        (rel, 11, "error", "broken link `../zzz/`: no page at /articles/zzz/"),
        (rel, 11, "error", "broken anchor `#nope`: /articles/links/ has no element with id `nope`"),
        (rel, 12, "error", "broken anchor `/repo/articles/drone-attack/#sec-no-such-heading`: "
                           "/articles/drone-attack/ has no element with id `sec-no-such-heading`"),
        (rel, 13, "error", "link `/repo/../../etc/passwd` leaves the site's base path /repo/"),
        # raw HTML is not rewritten under the base path: the audit catches what GitHub Pages would 404
        (rel, 13, "error", "link `/articles/also-nope/` leaves the site's base path /repo/"),
        (rel, 16, "error", "broken link `/repo/articles/ref-nope/`: no page at /articles/ref-nope/"),
    }, json.dumps(items, indent=1)


def test_text_output_is_path_line_level_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", BROKEN)
    code, _, err = run(capsys, "check", "--site", str(site))
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[-1] == "7 errors, 0 warnings"  # raw HTML is escaped: one link fewer
    assert all(re.match(r"^content/articles/links\.md:\d+: error: ", line) for line in lines[:-1]), err
    assert "content/articles/links.md:9: error: broken link `/repo/articles/nope/`" in err


def test_a_clean_site_has_nothing_to_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", BASIC)
    (site / "content/notes/assessment.md").write_text(
        (site / "content/notes/assessment.md").read_text() + "\nSee [[Drone attack on Ain al-Asad#What happened]], [top](#top).\n")
    assert check_json(capsys, site) == (0, [])


def test_a_broken_template_link_is_reported_once_at_the_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", BASIC)
    (site / "layouts").mkdir()
    (site / "layouts/footer.html").write_text('<p>\n<a href="{{ href(\'about/\') }}">About</a></p>\n')
    code, items = check_json(capsys, site)
    assert code == 1 and len(items) == 1, items
    (item,) = items
    assert item["path"] == "_site/index.html" and item["line"] > 1
    assert re.fullmatch(r"broken link `/repo/about/`: no page at /about/ \(and on \d+ more pages\)", item["message"]), item


def test_links_resolve_like_a_browser(tmp_path: Path) -> None:
    """Table-driven: (page, url, problem or None) against a tiny in-memory site under /repo/."""
    pages = {
        "": b"", "articles/a/": b'<h2 id="sec-x">X</h2><a name="legacy"></a>', "feed.xml": b"<feed/>",
        "actors/%C3%A9t%C3%A9/": b"", "actors/\u00e9t\u00e9/": b"", "404.html": b"",
    }
    files = ["assets/style.css", "images/carte \u00e9.png"]
    cases = [
        ("articles/a/", "/repo/articles/a/", None),
        ("articles/a/", "/repo/articles/a", None),  # a folder without its slash redirects
        ("articles/a/", "/repo/articles/a/index.html", None),
        ("articles/a/", "/repo/articles/a/#sec-x", None),
        ("articles/a/", "#legacy", None),
        ("articles/a/", "#top", None),
        ("articles/a/", "?q=1", None),
        ("articles/a/", "../../feed.xml", None),
        ("articles/a/", "/repo/images/carte%20%C3%A9.png", None),
        ("articles/a/", "/repo/actors/%C3%A9t%C3%A9/", None),
        ("articles/a/", "https://u.github.io/repo/assets/style.css", None),
        ("articles/a/", "https://elsewhere.org/nope/", None),
        ("articles/a/", "//elsewhere.org/nope/", None),
        ("articles/a/", "mailto:desk@example.org", None),
        ("articles/a/", "/repo/articles/b/", "broken link"),
        ("articles/a/", "b/", "broken link"),
        ("articles/a/", "#sec-y", "broken anchor"),
        ("404.html", "assets/style.css", "must be root-relative"),  # 404.html is served at any depth
        ("404.html", "/repo/assets/style.css", None),
        ("articles/a/", "https://u.github.io/repo/nope.css", "broken link"),
        ("articles/a/", "/other/", "leaves the site's base path"),
    ]
    empty = Site({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
    for page, url, problem in cases:
        html = pages | {page: pages[page] + f'<a href="{url}">x</a>'.encode()}
        found = output_problems(empty, html, files, Urls("https://u.github.io/repo/"), tmp_path, tmp_path / "_site")
        messages = [d.message for d in found]
        if problem is None:
            assert not messages, (page, url, messages)
        else:
            assert len(messages) == 1 and problem in messages[0], (page, url, messages)


def test_images_and_stylesheets_are_checked(tmp_path: Path) -> None:
    empty = Site({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
    page = (b'<link rel="stylesheet" href="/r/assets/gone.css"><img src="/r/a.png" srcset="/r/b.png 2x, /r/a.png 1x">'
            b"<script src='/r/app.js'></script><!-- <a href=\"/r/in-a-comment/\"> -->"
            b'<form action="/r/search/"></form><svg><a xlink:href="/r/gone/"><text>x</text></a></svg>')
    found = output_problems(empty, {"": page}, ["a.png"], Urls("/r/"), tmp_path, tmp_path / "out")
    assert sorted(d.message.split(":")[0] for d in found) == [
        "broken link `/r/gone/`", "broken link `/r/search/`",
        "missing file `/r/app.js`", "missing file `/r/assets/gone.css`", "missing image `/r/b.png`"]
    assert {d.path for d in found} == {"out/index.html"} and {d.line for d in found} == {1}


def test_content_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    site = write_site(tmp_path / "site", {
        **BASIC,
        "content/actors/lonely.md": "---\ntitle: Lonely Actor\n---\nNobody tags me.\n",
        "content/places/parent.md": "---\ntitle: Parent Place\n---\n",  # used: Child is within it
        "content/places/child.md": "---\ntitle: Child Place\nwithin: Parent Place\n---\n[[Lonely Actor]] is here.\n",
        "content/articles/untagged.md": "---\ntitle: Untagged\ndate: 2023-10-10\n---\nNo tags.\n",
        "content/articles/future.md": (
            "---\ntitle: Future\ndate: 2023-11-20\nupdated: 2023-11-21\nactors: [KH]\n"
            "source: {name: Wire, date: 2023-11-22}\n---\n"),
    })
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH_2023_11_14)
    code, items = check_json(capsys, site)
    assert code == 0  # warnings only
    got = {(d["path"], d["line"], d["message"]) for d in items}
    assert got == {
        ("content/places/child.md", 2, "orphan profile: no published document is tagged with `Child Place` or links "
                                       "to it, and no other profile points at it"),
        ("content/articles/untagged.md", 2, "tagged with no actor and no place: the document appears on no actor or place page"),
        ("content/articles/future.md", 3, "`date` 2023-11-20 is in the future (today is 2023-11-14)"),
        ("content/articles/future.md", 4, "`updated` 2023-11-21 is in the future (today is 2023-11-14)"),
        ("content/articles/future.md", 6, "`source.date` 2023-11-22 is in the future (today is 2023-11-14)"),
    }, items
    assert all(d["level"] == "warning" for d in items)
    # the actor linked from a profile is used; so is a place that another is within
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")  # 2027: nothing is in the future any more
    assert not [d for d in check_json(capsys, site)[1] if "future" in d["message"]]


def test_today_comes_from_source_date_epoch_or_the_clock(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert today_from({"SOURCE_DATE_EPOCH": EPOCH_2023_11_14}) == dt.date(2023, 11, 14)
    assert today_from({}) >= dt.date(2024, 1, 1)
    site = write_site(tmp_path / "site", BASIC)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert run(capsys, "check", "--site", str(site))[0] == 2


def test_strict_build_fails_on_any_problem_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", BASIC)
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "build", "--strict", "--site", str(site), "--output", str(out))
    assert code == 0 and not err and "built " in stdout
    before = read_tree(out)

    (site / "content/articles/untagged.md").write_text("---\ntitle: Untagged\ndate: 2023-10-10\n---\n[x](/nope/)\n")
    code, _, err = run(capsys, "build", "--strict", "--site", str(site), "--output", str(out))
    assert code == 1
    assert "content/articles/untagged.md:5: error: broken link `/repo/nope/`" in err
    assert "content/articles/untagged.md:2: warning: tagged with no actor and no place" in err
    assert "build failed (--strict): 1 error, 1 warning" in err
    assert read_tree(out) == before

    (site / "content/articles/untagged.md").write_text("---\ntitle: Untagged\ndate: 2023-10-10\n---\nFine.\n")
    code, _, err = run(capsys, "build", "--strict", "--site", str(site), "--output", str(out))
    assert code == 1 and "build failed (--strict): 0 errors, 1 warning" in err and read_tree(out) == before
    # without --strict, a warning does not stop the build
    code, _, err = run(capsys, "build", "--site", str(site), "--output", str(out))
    assert code == 0 and read_tree(out) != before and "articles/untagged/index.html" in read_tree(out)


def test_sample_site_has_no_broken_link_anchor_or_image(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735689600")  # 2025-01-01
    code, items = check_json(capsys, REPO)
    assert code == 0, items
    assert not [d for d in items if d["level"] == "error"]
    # the only warnings are profiles used by held-back documents alone
    assert all(d["message"].startswith("orphan profile") and "held back" in d["message"] for d in items), items


# --------------------------------------------------------------------------- the publish audit


RESTRICTED = {
    "content/notes/amber.md": "---\ntitle: Amber\ndate: 2023-11-01\ntlp: amber\nactors: [Only Amber Actor]\n---\n",
    "content/notes/red.md": "---\ntitle: Red\ndate: 2023-11-01\ntlp: red\nactors: [KH]\n---\n",
    "content/articles/draft.md": "---\ntitle: Draft\ndate: 2023-11-02\ndraft: true\nplaces: [Baghdad]\n---\n",
    "content/articles/draft-red.md": "---\ntitle: Draft red\ndate: 2023-11-02\ndraft: true\ntlp: red\n---\n",
}


def published_pages(out: Path) -> tuple[int, int]:
    files = read_tree(out)
    docs = [k for k in files if re.fullmatch(r"(articles|notes)/[^/]+/index\.html", k)]
    entities = [k for k in files if re.fullmatch(r"(actors|places)/[^/]+/index\.html", k)]
    return len(docs), len(entities)


@pytest.mark.parametrize("args, held", [
    ((), "held back: 2 drafts, 1 TLP:AMBER, 1 TLP:RED"),
    (("--drafts",), "held back: 1 TLP:AMBER, 2 TLP:RED"),
])
def test_publish_audit_counts_what_was_held_back(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], held: str) -> None:
    site = write_site(tmp_path / "site", {**BASIC, **RESTRICTED})
    out = tmp_path / "out"
    code, stdout, _ = run(capsys, "build", "--site", str(site), "--output", str(out), *args)
    assert code == 0
    docs, entities = published_pages(out)
    assert stdout.splitlines()[-1] == f"published {docs} documents, {entities} actors and places; {held}"
    assert docs == (2 if not args else 3)
    assert not (out / "actors/only-amber-actor").exists()


def test_publish_audit_with_nothing_held_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", {**BASIC, **RESTRICTED}, site_yml="title: T\npublish: {max_tlp: red}\n")
    code, stdout, _ = run(capsys, "build", "--site", str(site), "--output", str(tmp_path / "out"), "--drafts")
    assert code == 0
    docs, entities = published_pages(tmp_path / "out")
    assert docs == 6 and stdout.splitlines()[-1] == f"published 6 documents, {entities} actors and places; held back: none"


def test_check_does_not_build_the_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", BROKEN)
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if ".briefing-cache" not in p.parts)
    run(capsys, "check", "--site", str(site))
    after = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if ".briefing-cache" not in p.parts)
    assert after == before
    assert build(site, write=False).ok  # the build itself succeeds: these are audit problems only


def test_a_path_only_base_url_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", BASIC, site_yml="title: T\nbase_url: /repo/\n")
    code, items = check_json(capsys, site)
    assert code == 0
    assert [(d["path"], d["line"], d["level"]) for d in items] == [("site.yml", 2, "warning")]
    assert "absolute URLs" in items[0]["message"]


def _pointing(links: str) -> dict[str, str]:
    """The basic site with an article whose body holds these links, and one with a heading to point at."""
    pointer = "---\ntitle: Pointer\ndate: 2023-11-01\nactors: [Kataib Hezbollah]\n---\n" + links + "\n"
    target = "---\ntitle: Target\ndate: 2023-10-30\nplaces: [Baghdad]\n---\n## Findings\n\nWhat was found.\n"
    return {**BASIC, "content/articles/pointer.md": pointer, "content/articles/target.md": target}


def test_the_builds_check_reads_only_what_may_have_changed_and_misses_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`build` checks its output after every build, keeping the verdicts of pages that cannot
    have changed: a link whose target goes (its own page unchanged), an #anchor whose heading
    goes, and their return are all seen, and each build says what a full `check` says."""
    import os

    from generator.content import load
    from generator.output.audit import audit_written
    from generator.content.cache import Cache
    from generator.engine.build import CACHE_FILE

    site = write_site(tmp_path / "site", _pointing("See [the assessment](/notes/assessment/) and "
                                                   "[its heading](/articles/target/#sec-findings)."))
    assessment = site / "content/notes/assessment.md"
    target = site / "content/articles/target.md"
    saved = assessment.read_text()
    load.RACY_SECONDS, racy = -1.0, load.RACY_SECONDS
    try:
        def errors() -> tuple[list[str], int]:
            result = build(site)
            assert result.ok
            report: dict[str, int] = {}
            cache = Cache(result.config.cache_dir / CACHE_FILE)
            try:
                found = audit_written(result.site, result.pages, result.config, result.config.output_dir,
                                      dt.date(2023, 12, 1), cache, report)
            finally:
                cache.close()
            full = audit_written(result.site, result.pages, result.config, result.config.output_dir,
                                 dt.date(2023, 12, 1))
            assert found == full
            return sorted(d.message for d in found if d.level == "error"), report["checked"]

        assert errors()[0] == []
        again, checked = errors()
        assert again == [] and checked == 0  # nothing changed: no page read
        assessment.unlink()
        gone, checked = errors()
        assert gone == ["broken link `/repo/notes/assessment/`: no page at /notes/assessment/"]
        assert 0 < checked < len(list((site / "_site").rglob("*.html")))
        target.write_text(target.read_text().replace("## Findings", "Findings:"))
        os.utime(target, (1, 1))
        both, _ = errors()
        assert len(both) == 2 and any("broken anchor `/repo/articles/target/#sec-findings`" in m for m in both)
        assessment.write_text(saved)
        target.write_text(target.read_text().replace("Findings:", "## Findings"))
        assert errors()[0] == []
        code, _, err = run(capsys, "build", "--site", str(site))
        assert code == 0 and ": error: " not in err
        assessment.unlink()
        code, _, err = run(capsys, "build", "--site", str(site))  # the build says it, as it finishes
        assert code == 0 and "content/articles/pointer.md:6: error: broken link `/repo/notes/assessment/`" in err
        assert "`briefing deploy` will not publish it" in err
    finally:
        load.RACY_SECONDS = racy


def test_a_first_check_on_every_core_says_what_one_process_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first check reads its pages in batches on every core; links into pages another worker
    reads (#anchors) are decided at the end. Same problems, same verdicts kept, as in one batch."""
    from generator.content.cache import Cache
    from generator.output import audit as audit_module

    site = write_site(tmp_path / "site", _pointing(
        "See [a heading](/articles/target/#sec-findings), [none](/articles/target/#sec-nothing), [gone](/notes/gone/)."))
    result = build(site)
    assert result.ok
    outcomes = []
    for batch in (3, 10**6):  # many batches in forked workers; one, here
        monkeypatch.setattr(audit_module, "_AUDIT_BATCH", batch)
        cache = Cache(tmp_path / f"audit-{batch}.sqlite")
        try:
            found = audit_module.audit_written(result.site, result.pages, result.config, result.config.output_dir,
                                               dt.date(2023, 12, 1), cache)
            where = str(result.config.output_dir)
            kept = (cache.audit_keys(where), cache.audit_meta(where),
                    sorted(cache._db.execute("SELECT kind, target, path FROM audit_links").fetchall()))
        finally:
            cache.close()
        outcomes.append((found, kept))
    (parallel_found, parallel_kept), (one_found, one_kept) = outcomes
    assert parallel_found == one_found and parallel_kept == one_kept
    assert sorted(d.message.split(":")[0] for d in one_found if d.level == "error") == [
        "broken anchor `/repo/articles/target/#sec-nothing`", "broken link `/repo/notes/gone/`"]


def test_plain_urls_resolve_as_the_general_resolution_does():
    """The audit's shortcut for root-relative and same-origin URLs (audit._on_site) gives what
    urljoin + urlsplit give, on URLs made of the characters that matter to either."""
    import random

    from generator.output import audit

    rng = random.Random(7)
    pieces = ["/", "/", "a", "b", ".", "..", "#", "?", "%20", "%2F", ";", ":", "//", " ", "\t", "x y", "é", "\\",
              "https://example.org", "https://EXAMPLE.org", "http://example.org", "https://example.org:443", "mailto:",
              "https://other.net", "http://Other.net:80", "https://[::1", "https://u@", "https://ｅxample.org", "?"]
    origin, base = "https://example.org", "/base/"
    urls = ["/", "/base/", "/base/a/#x", "https://example.org/base/a?q=1#f", "/base/./a", "/base/a/..", "/base/a/.b",
            "//example.org/base/", "https://example.org", "https://example.orgx/base/"]
    urls += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 8))) for _ in range(5000)]
    for url in urls:
        for page in ("", "actors/kh/", "a b/c.html"):
            assert audit._on_site(url, page, origin, base) == audit._resolved(url, page, origin, base), (url, page)


def test_the_page_scan_finds_what_a_plain_reading_of_every_tag_finds():
    """audit._scan_html passes over start tags that hold no attribute it looks at; on pages made
    of tags with every kind of attribute (quoted, bare, entities, srcset, scripts, comments), it
    finds the same URLs, at the same offsets, and the same ids as reading every tag's attributes."""
    import html as htmlmod
    import random

    from generator.output import audit

    import re

    markup = re.compile(r"<!--.*?-->|<(script|style)\b([^>]*)>.*?</\1\s*>|<([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^>]*)?)>",
                        re.S | re.I)  # (case folded by the engine: what audit._MARKUP spells out)

    def plain(page: str, text: str) -> tuple[list[tuple], set[str]]:
        urls, ids = [], set()
        for match in markup.finditer(text):
            group = 1 if match.group(1) else 3
            tag, attributes = match.group(group), match.group(group + 1)
            if not tag or not attributes or "=" not in attributes:
                continue
            for attr in audit._ATTRIBUTE.finditer(attributes):
                name = attr.group(1).lower()
                value = next(v for v in attr.group(2, 3, 4) if v is not None)
                value = htmlmod.unescape(value) if "&" in value else value
                if name in ("id", "name") and name not in audit._URL_ATTRIBUTES:
                    if name == "id" or tag.lower() == "a":
                        ids.add(value)
                elif name in audit._URL_ATTRIBUTES:
                    offset = match.start(group + 1) + attr.start()
                    values = [c.split()[0] for c in value.split(",") if c.strip()] if name == "srcset" else [value]
                    urls += [(page, offset, tag.lower(), name, v.strip()) for v in values]
        return urls, ids

    rng = random.Random(11)
    names = ["href", "HREF", "src", "srcset", "poster", "action", "formaction", "xlink:href", "id", "ID", "name",
             "class", "data-href", "grid", "title", "role"]
    values = ['"a b"', '"/x/#y"', "'/q'", "bare", '"&amp;x"', '"a.png 1x, b.png 2x"', '" /sp "', '""']
    tags = ["a", "img", "div", "script", "style", "SCRIPT", "Style", "source", "p", "svg", "IMG"]
    for _ in range(400):
        parts = []
        for _ in range(rng.randint(1, 12)):
            tag = rng.choice(tags)
            attrs = "".join(f" {rng.choice(names)}{rng.choice(['=', ' = '])}{rng.choice(values)}"
                            for _ in range(rng.randint(0, 3)))
            parts.append(rng.choice([f"<{tag}{attrs}>text</{tag}>", f"<{tag}{attrs}/>", "<!-- <a href=\"/c\"> -->",
                                     f"<{tag}{attrs}>", "plain &lt;a href=&#34;/no&#34;&gt;"]))
        text = "".join(parts)
        found, ids = audit._scan_html("p/", text)
        assert ([tuple(f) for f in found], ids) == plain("p/", text), text
