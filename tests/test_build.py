"""Building tiny sites: resolution, cross-links, publication rules, safety."""

from __future__ import annotations

import re
from pathlib import Path


from conftest import BASIC, read_tree, write_site
from generator.engine.build import build


def built(site: Path, tmp_path: Path, **kwargs) -> dict[str, str]:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    result = build(site, output=out, **kwargs)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    return {k: v.decode("utf-8", "replace") for k, v in read_tree(out).items()}


def test_aliases_and_spellings_land_on_one_actor_page(basic_site: Path, tmp_path: Path) -> None:
    files = built(basic_site, tmp_path)
    actor_pages = sorted(k for k in files if k.startswith("actors/") and k.endswith("/index.html") and k != "actors/index.html")
    assert actor_pages == ["actors/islamic-resistance-in-iraq/index.html", "actors/kataib-hezbollah/index.html"]
    kh = files["actors/kataib-hezbollah/index.html"]
    assert "Drone attack on Ain al-Asad" in kh and "Escalation assessment" in kh
    # newest first
    assert kh.index("Escalation assessment") < kh.index("Drone attack on Ain al-Asad")
    # a tag with no profile still gets its page
    assert "places/ain-al-asad/index.html" in files and "places/iraq/index.html" in files


def test_document_page_shows_tags_source_confidence_backlinks(basic_site: Path, tmp_path: Path) -> None:
    files = built(basic_site, tmp_path)
    article = files["articles/drone-attack/index.html"]
    assert 'href="/repo/actors/kataib-hezbollah/"' in article
    assert 'href="/repo/places/ain-al-asad/"' in article
    assert 'href="https://example.org/a"' in article and "Example Wire" in article
    assert "TLP:CLEAR" in article
    # the note links here, so it is listed as a backlink; it shares tags, but is not listed again as related
    assert re.search(r'id="backlinks".*href="/repo/notes/assessment/"', article, re.S)
    assert 'id="related"' not in article
    note = files["notes/assessment/index.html"]
    assert "Moderate" in note and "J. Analyst" in note
    assert '<a class="wikilink" href="/repo/places/green-zone/"' in note  # alias resolved


def test_entity_page_relations(basic_site: Path, tmp_path: Path) -> None:
    files = built(basic_site, tmp_path)
    kh = files["actors/kataib-hezbollah/index.html"]
    # appears with, with counts; where it is active
    assert re.search(r'id="with-actors".*islamic-resistance-in-iraq/">Islamic Resistance in Iraq</a> <span class="count"[^>]*>1<', kh, re.S)
    assert re.search(r'id="with-places".*places/ain-al-asad/', kh, re.S)
    assert "Also known as" in kh and "KH" in kh
    assert 'id="mentions"' not in kh  # the one document linking to it is tagged with it: listed once, above
    baghdad = files["places/baghdad/index.html"]
    assert 'href="/repo/places/iraq/"' in baghdad  # parent
    assert 'href="/repo/places/green-zone/"' in baghdad  # sub-place
    assert re.search(r'id="mentions".*actors/kataib-hezbollah/', baghdad, re.S)  # the profile mentions it
    index = files["actors/index.html"]
    assert re.search(r'kataib-hezbollah/">Kataib Hezbollah</a>.*?<td class="num">2</td>', index, re.S)


def test_every_output_listed(basic_site: Path, tmp_path: Path) -> None:
    files = built(basic_site, tmp_path)
    for required in ["index.html", "timeline/index.html", "actors/index.html", "places/index.html", "feed.xml",
                     "sitemap.xml", "404.html", ".nojekyll", "actors/kataib-hezbollah/feed.xml",
                     "places/baghdad/feed.xml", "assets/style.css", "articles/index.html", "notes/index.html"]:
        assert required in files, required


def test_links_respect_the_base_path(basic_site: Path, tmp_path: Path) -> None:
    files = built(basic_site, tmp_path)
    for name, text in files.items():
        if name.endswith(".html"):
            for href in re.findall(r'(?:href|src)="([^"]+)"', text):
                assert href.startswith(("/repo/", "https://", "#")), (name, href)
    assert "<loc>https://user.github.io/repo/actors/kataib-hezbollah/</loc>" in files["sitemap.xml"]
    assert 'href="https://user.github.io/repo/feed.xml"' in files["feed.xml"]
    # 404.html is served at any depth: its links must be absolute
    assert 'href="/repo/assets/style.css"' in files["404.html"]


def test_base_url_override_and_root(basic_site: Path, tmp_path: Path) -> None:
    files = built(basic_site, tmp_path, base_url="https://briefing.example.org")
    assert 'href="/actors/kataib-hezbollah/"' in files["articles/drone-attack/index.html"]
    assert "<loc>https://briefing.example.org/</loc>" in files["sitemap.xml"]


def test_two_builds_are_byte_identical(basic_site: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert build(basic_site, output=a).ok and build(basic_site, output=b).ok
    assert read_tree(a) == read_tree(b)


def test_rebuild_without_change_writes_nothing(basic_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(basic_site, output=out)
    stamp = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    again = build(basic_site, output=out)
    assert again.written is not None and not again.written.swapped
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == stamp


def test_raw_html_and_hostile_front_matter_are_escaped(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {
        "content/articles/x.md": """
            ---
            title: "<script>alert('title')</script>"
            date: 2023-10-18
            summary: "<img src=x onerror=alert(1)>"
            actors: ["<b>Evil</b> Actor"]
            source: {name: "<i>n</i>", url: "https://example.org/?a=<x>"}
            ---
            <script>alert('body')</script>

            [click](javascript:alert(1)) ![i](data:text/html;base64,PHNjcmlwdD4=)
            """,
    })
    files = built(site, tmp_path)
    for name, text in files.items():
        if name.endswith((".html", ".xml")):
            # JSON-LD is data, not script: it may hold the text, but never a raw `<`
            for data in re.findall(r'<script type="application/ld\+json">(.*?)</script>', text, re.S):
                assert "<" not in data, (name, data)
            text = re.sub(r'<script type="application/ld\+json">.*?</script>', "", text, flags=re.S)
            assert "<script>" not in text and "onerror=alert" not in text.replace("onerror=alert(1)&gt;", "")
            assert not re.search(r'(href|src)="(javascript|data):', text)
    assert "&lt;script&gt;alert(&#39;title&#39;)" in files["articles/x/index.html"]


def test_allow_html_opt_in(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {
        "content/articles/x.md": "---\ntitle: X\ndate: 2023-10-18\n---\n<details><summary>More</summary>Hidden</details>\n",
    }, site_yml="title: T\nmarkdown:\n  allow_html: true\n")
    assert "<details><summary>More</summary>" in built(site, tmp_path)["articles/x/index.html"]


def test_hostile_slug_stays_inside_output(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {
        "content/articles/x.md": "---\ntitle: X\ndate: 2023-10-18\nslug: ../../../escaped\nactors: ['../../evil']\n---\n",
    })
    files = built(site, tmp_path)
    assert "articles/escaped/index.html" in files and "actors/evil/index.html" in files
    assert not (tmp_path / "escaped").exists() and not (tmp_path.parent / "escaped").exists()


RESTRICTED = {
    "content/notes/amber.md": """
        ---
        title: Amber note ZEPHYRCANARY
        date: 2023-11-01
        tlp: amber
        actors: [Secret Actor QUOKKACANARY, KH]
        places: [Hidden Place WOMBATCANARY]
        summary: summary NUMBATCANARY
        ---
        Body text BILBYCANARY mentions [[KH]].
        """,
    "content/articles/draft.md": """
        ---
        title: Draft article DINGOCANARY
        date: 2023-11-02
        draft: true
        actors: [Draft Actor EMUCANARY]
        ---
        Draft body KOALACANARY links [[Drone attack on Ain al-Asad]].
        """,
    "content/articles/public.md": """
        ---
        title: Public article
        date: 2023-11-03
        actors: [KH]
        ---
        Points at [[amber|a restricted note]] which is held back.
        """,
}
CANARIES = ["ZEPHYRCANARY", "QUOKKACANARY", "WOMBATCANARY", "NUMBATCANARY", "BILBYCANARY", "DINGOCANARY", "EMUCANARY", "KOALACANARY"]


def test_restricted_and_draft_words_appear_in_no_output_byte(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {**BASIC, **RESTRICTED})
    out = tmp_path / "out"
    result = build(site, output=out)
    assert result.ok
    blob = b"".join(read_tree(out).values()).decode("utf-8", "replace")
    for canary in CANARIES:
        assert canary.lower() not in blob.lower(), canary
    # the held-back document is left out of counts and backlinks too
    assert result.site is not None and len(result.site.documents) == 3
    kh = (out / "actors/kataib-hezbollah/index.html").read_text()
    assert "<dd>3 · " in kh  # three published documents tag KH (drone attack, assessment, public)
    assert result.site.held_back == {"draft": 1, "tlp:amber": 1}
    # the public document's link to the held-back one is plain text, with a warning
    public = (out / "articles/public/index.html").read_text()
    assert 'class="wikilink wikilink-missing"' in public
    assert any("left out of this build" in str(d) for d in result.diagnostics.warnings)


def test_drafts_flag_and_max_tlp_include_them(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {**BASIC, **RESTRICTED},
                      site_yml="title: T\npublish:\n  max_tlp: amber\n")
    files = built(site, tmp_path, drafts=True)
    assert "notes/amber/index.html" in files and "articles/draft/index.html" in files
    assert "Draft" in files["articles/draft/index.html"]


def test_content_assets_are_copied(basic_site: Path, tmp_path: Path) -> None:
    (basic_site / "content/images").mkdir()
    (basic_site / "content/images/map.png").write_bytes(b"\x89PNG fake")
    (basic_site / "content/articles/drone-attack.md").write_text(
        "---\ntitle: Drone attack on Ain al-Asad\ndate: 2023-10-18\n---\n![map](/images/map.png)\n")
    files = built(basic_site, tmp_path)
    assert "images/map.png" in files
    assert '<img src="/repo/images/map.png" alt="map" />' in files["articles/drone-attack/index.html"]


def test_layout_override(basic_site: Path, tmp_path: Path) -> None:
    (basic_site / "layouts").mkdir()
    (basic_site / "layouts/404.html").write_text('{% extends "base.html" %}{% block main %}<p>Custom lost page</p>{% endblock %}')
    files = built(basic_site, tmp_path)
    assert "Custom lost page" in files["404.html"]


def test_template_errors_name_the_template_and_line(basic_site: Path, tmp_path: Path) -> None:
    (basic_site / "layouts").mkdir()
    (basic_site / "layouts/404.html").write_text("line one\n{% if %}\n")
    result = build(basic_site, output=tmp_path / "out")
    assert not result.ok
    assert any(str(d).startswith("layouts/404.html:2: error: template error") for d in result.diagnostics), list(result.diagnostics)
    (basic_site / "layouts/404.html").write_text("ok\n{{ no_such_variable }}\n")
    result = build(basic_site, output=tmp_path / "out")
    assert any(str(d).startswith("layouts/404.html:2: error: template error: UndefinedError") for d in result.diagnostics), list(result.diagnostics)


def test_a_build_hands_every_object_back_to_the_collector(basic_site: Path, tmp_path: Path) -> None:
    """Builds keep their model out of the collector's sight while they run (build.settle); the
    preview server runs build after build in one process, so each must undo that when it ends."""
    import gc

    threshold = gc.get_threshold()
    for _ in range(2):  # a full build, then a warm one (which unpickles its state)
        assert build(basic_site, output=tmp_path / "out").ok
        assert gc.get_freeze_count() == 0 and gc.get_threshold() == threshold
    assert not build(basic_site, output=basic_site / "content").ok  # a refused output folder
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == threshold


def test_compiled_templates_are_reused_but_never_stale(basic_site: Path, tmp_path: Path) -> None:
    """Builds keep compiled templates beside the cache; a changed layout or a damaged entry
    means compiling again, never showing the old template or failing."""
    first = tmp_path / "first"
    assert build(basic_site, output=first).ok
    compiled = sorted((basic_site / ".briefing-cache/templates").iterdir())
    assert len(compiled) >= 10  # every template the pages use
    stamps = {entry: entry.stat().st_mtime_ns for entry in compiled}
    assert build(basic_site, output=tmp_path / "second").ok
    assert {entry: entry.stat().st_mtime_ns for entry in compiled} == stamps  # loaded, not compiled and stored again
    for entry in compiled:
        entry.write_bytes(b"\x00damaged")
    again = tmp_path / "again"
    assert build(basic_site, output=again).ok  # rendered anew (another folder): from damaged entries
    assert read_tree(again) == read_tree(first)
    assert all(entry.read_bytes() != b"\x00damaged" for entry in compiled)  # compiled and stored again
    (basic_site / "layouts").mkdir()
    (basic_site / "layouts/footer.html").write_text("<p>Desk footer one</p>\n")
    assert "Desk footer one" in built(basic_site, tmp_path)["index.html"]
    (basic_site / "layouts/footer.html").write_text("<p>Desk footer two</p>\n")
    home = built(basic_site, tmp_path)["index.html"]
    assert "Desk footer two" in home and "Desk footer one" not in home


def test_templates_escape_as_markupsafe_does(basic_site: Path, tmp_path: Path) -> None:
    """Compiled templates call render.quick_escape in place of markupsafe.escape: the same text."""
    import enum

    import markupsafe

    from generator.pages import render
    from generator.content.config import load_config
    from generator.diagnostics import Diagnostics
    from generator.site.urls import Urls

    class Html:
        def __html__(self) -> str:
            return "<b>safe</b>"

    class Text(str):
        pass

    class Level(enum.IntEnum):
        HIGH = 3

    values = ["", "plain", "<script>&'\"</script>", "é ★ \u2028 \x00", Text("<sub>"), markupsafe.Markup("<em>x</em>"),
              0, -12, 10**30, True, False, 1.5, None, Level.HIGH, Html(), ("<t>",), b"<bytes>"]
    for value in values:
        mine, theirs = render.quick_escape(value), markupsafe.escape(value)
        assert type(mine) is markupsafe.Markup and mine == theirs, value
    config = load_config(basic_site, Diagnostics())
    env = render.environment(config, Urls(config.base_url))
    for name in ("base.html", "document.html", "macros.html", "feed.xml"):
        assert env.get_template(name).root_render_func.__globals__["escape"] is render.quick_escape, name
    page = env.from_string("{{ a }}|{{ b }}|{{ c }}|{{ d }}").render(a="<i>", b=markupsafe.Markup("<i>"), c=7, d=Html())
    assert page == "&lt;i&gt;|<i>|7|<b>safe</b>"


def test_related_lists_asked_one_at_a_time_are_those_worked_out_together(tmp_path: Path) -> None:
    """graph.Related works out a document's related list when it is first asked for (the preview
    renders a saved document's page before the plan asks for all): the same lists, in the same
    order, however they are asked for, and pickled as the plain dict of all of them."""
    import pickle
    import random

    from generator.site import graph

    rng = random.Random(5)
    order = [("article", f"d{i:03d}") for i in range(300)]
    tags_pool = [("actor", f"a{i}") for i in range(12)] + [("place", f"p{i}") for i in range(8)]
    tags = {ref: tuple(rng.sample(tags_pool, rng.randint(0, 4))) for ref in order}
    tagged: dict = {}
    for ref in order:
        for tag in tags[ref]:
            tagged.setdefault(tag, []).append(ref)
    mentions = {ref: tuple(rng.sample(order, 2)) for ref in rng.sample(order, 40)}
    def at_once() -> dict:  # the lists as the build worked them out before, all in one loop
        import bisect
        import heapq
        from collections import Counter

        position = {ref: i for i, ref in enumerate(order)}
        members_at = {tag: [position[m] for m in members] for tag, members in tagged.items()}
        result = {}
        for ref in order:
            mine, scores = position[ref], Counter()
            for tag in tags[ref]:
                at = bisect.bisect_left(members_at[tag], mine)
                scores.update(members_at[tag][max(0, at - graph.RELATED_WINDOW): at + graph.RELATED_WINDOW + 1])
            del scores[mine]
            for source in mentions.get(ref, ()):
                if source in position:
                    del scores[position[source]]
            best = heapq.nsmallest(graph.RELATED_LIMIT, [(-n, abs(i - mine), i) for i, n in scores.items()])
            result[ref] = tuple(order[i] for i in sorted(i for _, _, i in best))
        return result

    together = dict(graph.Related(order, tags, tagged, mentions))
    assert together == at_once() and any(together.values())
    one_by_one = graph.Related(order, tags, tagged, mentions)
    asked = rng.sample(order, 50)
    assert [one_by_one[ref] for ref in asked] == [together[ref] for ref in asked]
    assert list(one_by_one.items()) == list(together.items()) and list(one_by_one) == order
    unpickled = pickle.loads(pickle.dumps(graph.Related(order, tags, tagged, mentions)))
    assert type(unpickled) is dict and unpickled == together
    assert one_by_one.get(("article", "nope")) is None and len(one_by_one) == len(order)
