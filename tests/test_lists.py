"""The lists under a page (issue 18): each adds what the others on the page do not.

An actor or place page lists the documents tagged with it ("Documents about", "Possibly
about") and, under "Mentioned in", only the pages that [[link]] to it besides those. A
document page lists the pages that link to it, then "Related documents": never one of
those, never itself, newest first. A list with nothing to add has no heading.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import read_tree, write_site
from corpus import write_corpus
from generator.engine.build import build

_HEADING = re.compile(r'<h2 id="([^"]+)">')
_DOC_LINK = re.compile(r'href="[^"]*/(?:articles|notes)/([^/"]+)/"')
_DATED = re.compile(r'href="[^"]*/(?:articles|notes)/([^/"]+)/">[^<]*</a> <time datetime="([0-9-]+)"')


def _doc(slug: str, date: str, actors: list[str], body: str = "", title: str = "") -> dict[str, str]:
    front = f"title: {title or slug.replace('-', ' ').capitalize()}\ndate: {date}\nactors: [{', '.join(actors)}]\n"
    return {f"content/articles/{slug}.md": f"---\n{front}---\n{body}\n"}


SITE = {
    "content/actors/alpha.md": "---\ntitle: Alpha\n---\nA group.\n",
    "content/actors/beta.md": "---\ntitle: Beta\n---\nAnother group.\n",
    # Alpha: tagged and linking (listed once, under "Documents about"), only linking ("Mentioned in")
    **_doc("tagged-and-linking", "2024-01-05", ["Alpha"], "About [[Alpha]] and [[Target]]."),
    **_doc("only-linking", "2024-02-01", ["Gamma"], "Mentions [[Alpha]]."),
    # Beta: every page linking to it is tagged with it, so no "Mentioned in"
    **_doc("beta-report", "2024-01-10", ["Beta"], "On [[Beta]]."),
    # Target's related candidates, in an order that is neither the files' nor the titles'
    **_doc("target", "2024-01-15", ["Alpha", "Delta"]),
    **_doc("older", "2023-12-01", ["Alpha", "Delta"]),
    **_doc("newest", "2024-03-01", ["Alpha"]),
    **_doc("same-day-b", "2024-01-20", ["Alpha"], title="Bravo same day"),
    **_doc("same-day-a", "2024-01-20", ["Alpha"], title="Alpha same day"),
    # Zeta One and Zeta Two share the alias ZT: a document tagged ZT is "possibly about" each
    "content/actors/zeta-one.md": "---\ntitle: Zeta One\naliases: [ZT]\n---\n",
    "content/actors/zeta-two.md": "---\ntitle: Zeta Two\naliases: [ZT]\n---\n",
    **_doc("zeta-report", "2024-05-01", ["ZT"], "Probably [[Zeta One]]."),
    # Lonely's one related candidate links to it: no "Related documents" there
    **_doc("lonely", "2024-04-01", ["Epsilon"]),
    **_doc("lonely-fan", "2024-04-02", ["Epsilon"], "Builds on [[Lonely]]."),
}


def _built(site: Path, out: Path) -> dict[str, str]:
    result = build(site, output=out)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    return {k: v.decode("utf-8") for k, v in read_tree(out).items()}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("lists")
    return _built(write_site(root / "site", SITE), root / "out")


def lists(html: str) -> dict[str, list[str]]:
    """Heading id -> the document slugs linked under it, for the headings after the article
    (the body's own links are not a list). Each heading's list runs to the next heading."""
    main = html.split("</article>", 1)[1].split("</main>", 1)[0]
    marks = list(_HEADING.finditer(main))
    return {m.group(1): _DOC_LINK.findall(main[m.end(): marks[i + 1].start() if i + 1 < len(marks) else len(main)])
            for i, m in enumerate(marks)}


def related_dates(html: str) -> list[tuple[str, str]]:
    section = html.split('<section class="related"', 1)[1].split("</section>", 1)[0]
    return _DATED.findall(section)


def assert_no_repeats(found: dict[str, list[str]], path: str) -> None:
    counts = Counter(slug for slugs in found.values() for slug in slugs)
    assert [s for s, n in counts.items() if n > 1] == [], f"{path}: {found}"


def test_mentioned_in_lists_only_pages_not_tagged_with_it(pages: dict[str, str]) -> None:
    found = lists(pages["actors/alpha/index.html"])
    assert "tagged-and-linking" in found["tagged"]
    assert found["mentions"] == ["only-linking"]
    assert_no_repeats(found, "alpha")


def test_mentioned_in_has_no_heading_when_every_linking_page_is_tagged(pages: dict[str, str]) -> None:
    html = pages["actors/beta/index.html"]
    assert lists(html)["tagged"] == ["beta-report"]
    assert 'id="mentions"' not in html and "Mentioned in" not in html


def test_mentioned_in_leaves_out_what_possibly_about_lists(pages: dict[str, str]) -> None:
    found = lists(pages["actors/zeta-one/index.html"])
    assert found["possibly"] == ["zeta-report"]
    assert "mentions" not in found


def test_related_leaves_out_backlinks_and_itself_newest_first(pages: dict[str, str]) -> None:
    html = pages["articles/target/index.html"]
    found = lists(html)
    assert found["backlinks"] == ["tagged-and-linking"]
    assert_no_repeats(found, "target")
    assert "target" not in found["related"]
    # the other documents tagged Alpha, newest first (on one day, by title)
    assert found["related"] == ["newest", "same-day-a", "same-day-b", "older"]
    dates = [d for _, d in related_dates(html)]
    assert dates == sorted(dates, reverse=True)


def test_related_has_no_heading_when_it_would_only_repeat_backlinks(pages: dict[str, str]) -> None:
    html = pages["articles/lonely/index.html"]
    assert lists(html) == {"backlinks": ["lonely-fan"]}
    assert "Related documents" not in html
    assert lists(pages["articles/lonely-fan/index.html"]) == {"related": ["lonely"]}


def test_no_page_of_a_generated_site_lists_a_document_twice(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus", 40, seed=3)
    out = _built(tmp_path / "corpus", tmp_path / "out")
    checked = 0
    for path, html in out.items():
        if path.endswith("index.html") and re.match(r"(actors|places|articles|notes)/[^/]+/index.html$", path):
            found = lists(html)
            assert_no_repeats(found, path)
            if path.startswith(("articles/", "notes/")):
                assert path.split("/")[1] not in found.get("related", [])
                dates = [d for _, d in related_dates(html)] if "related" in found else []
                assert dates == sorted(dates, reverse=True), path
            checked += 1
    assert checked > 40
