"""What a page's <head> and chrome tell the world: descriptions and link-preview tags (OpenGraph,
Twitter cards), the masthead's current section, the print stylesheet, and, in a real Chromium,
the reader's light/dark choice.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

import pytest

from conftest import BASIC, read_tree, write_site
from generator.engine.build import build
from generator.pages.render import shorten
from support import static_server

HOSTILE = 'The "Resistance" said <b>x</b> & left'
LONG = " ".join(["word"] * 80)  # 399 characters
FILES = {
    **BASIC,
    "content/articles/quoted.md": f"""
        ---
        title: 'A "quoted" <title>'
        date: 2023-10-19
        summary: '{HOSTILE}'
        ---
        Body.
        """,
    "content/articles/long.md": f"""
        ---
        title: Long summary
        date: 2023-10-19
        summary: {LONG}
        ---
        Body.
        """,
    "content/articles/bare.md": """
        ---
        title: No summary
        date: 2023-10-19
        ---
        Body.
        """,
}
SITE_YML = "title: Test desk\ndescription: A desk's reporting.\nbase_url: https://user.github.io/repo/\n"


class _Head(HTMLParser):
    """A page's <meta> tags (name or property -> content) and its nav links' aria-current."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.current: dict[str, str] = {}  # link href -> aria-current
        self._in_nav = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("name" in found or "property" in found):
            key = found.get("property") or found["name"]
            assert key not in self.meta, f"two <meta> for {key}"
            self.meta[key] = found.get("content", "")
        elif tag == "nav":
            self._in_nav = True
        elif tag == "a" and self._in_nav and "aria-current" in found:
            self.current[found["href"]] = found["aria-current"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_nav = False


def head(html: str) -> _Head:
    parser = _Head()
    parser.feed(html)
    return parser


def pages(tmp_path: Path, site_yml: str = SITE_YML) -> dict[str, str]:
    site = write_site(tmp_path / "site", FILES, site_yml)
    out = tmp_path / "out"
    result = build(site, output=out, use_cache=False)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    return {k: v.decode("utf-8") for k, v in read_tree(out).items()}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return pages(tmp_path_factory.mktemp("head"))


# --------------------------------------------------------------------------- descriptions, link previews


@pytest.mark.parametrize("text, short", [
    ("", ""),
    ("  two\n lines  ", "two lines"),
    ("x" * 200, "x" * 200),
    (LONG, " ".join(["word"] * 39) + "…"),  # 194 characters and the ellipsis: a word boundary
    ("x" * 300, "x" * 199 + "…"),  # no boundary at all: cut inside the word
    ("a, " * 100, ("a, " * 66).rstrip(" ,") + "…"),  # no dangling punctuation before the ellipsis
])
def test_shorten_cuts_at_a_word_boundary(text: str, short: str) -> None:
    assert shorten(text) == short
    assert len(shorten(text)) <= 200


def test_a_document_page_describes_itself_with_its_summary(site: dict[str, str]) -> None:
    meta = head(site["articles/drone-attack/index.html"]).meta
    assert meta["description"] == meta["og:description"] == meta["twitter:description"] == "Two drones targeted the base."
    assert meta["og:title"] == meta["twitter:title"] == "Drone attack on Ain al-Asad"
    assert meta["og:type"] == "article"
    assert meta["og:url"] == "https://user.github.io/repo/articles/drone-attack/"
    assert meta["og:site_name"] == "Test desk"
    assert meta["twitter:card"] == "summary"


def test_a_summary_with_quotes_and_tags_is_escaped(site: dict[str, str]) -> None:
    html = site["articles/quoted/index.html"]
    meta = head(html).meta
    assert meta["description"] == meta["og:description"] == meta["twitter:description"] == HOSTILE
    assert meta["og:title"] == 'A "quoted" <title>'
    escaped = "The &#34;Resistance&#34; said &lt;b&gt;x&lt;/b&gt; &amp; left"
    assert f'<meta property="og:description" content="{escaped}">' in html
    assert "<b>x" not in html.split("</head>")[0]


def test_a_long_summary_is_cut_short(site: dict[str, str]) -> None:
    meta = head(site["articles/long/index.html"]).meta
    assert meta["description"] == shorten(LONG) and len(meta["description"]) <= 200


def test_other_pages_fall_back_to_the_site_description(site: dict[str, str]) -> None:
    for path, kind in [("articles/bare/index.html", "article"), ("index.html", "website"),
                       ("actors/index.html", "website"), ("places/green-zone/index.html", "website")]:
        meta = head(site[path]).meta
        assert meta["description"] == meta["og:description"] == "A desk's reporting.", path
        assert meta["og:type"] == kind, path
    assert head(site["index.html"]).meta["og:url"] == "https://user.github.io/repo/"
    assert "og:url" not in head(site["404.html"]).meta


def test_a_profile_with_a_summary_describes_itself(tmp_path: Path) -> None:
    files = {**FILES, "content/actors/kataib-hezbollah.md": "---\ntitle: Kataib Hezbollah\naliases: [KH]\n"
                                                           "summary: An Iraqi militia.\n---\nBody.\n"}
    site = write_site(tmp_path / "site", files, SITE_YML)
    result = build(site, output=tmp_path / "out", use_cache=False)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    meta = head((tmp_path / "out/actors/kataib-hezbollah/index.html").read_text(encoding="utf-8")).meta
    assert meta["description"] == meta["twitter:description"] == "An Iraqi militia."
    assert meta["og:type"] == "website"


def test_without_an_absolute_base_url_there_is_no_og_url(tmp_path: Path) -> None:
    built = pages(tmp_path, "title: Test desk\nbase_url: /repo/\n")
    meta = head(built["articles/drone-attack/index.html"]).meta
    assert "og:url" not in meta and meta["og:title"] == "Drone attack on Ain al-Asad"
    home = head(built["index.html"]).meta
    assert "description" not in home and "og:description" not in home  # no site description, no summary


# --------------------------------------------------------------------------- masthead, print


@pytest.mark.parametrize("path, current", [
    ("index.html", {"/repo/": "page"}),
    ("articles/index.html", {"/repo/articles/": "page"}),
    ("articles/drone-attack/index.html", {"/repo/articles/": "true"}),
    ("notes/assessment/index.html", {"/repo/notes/": "true"}),
    ("actors/kataib-hezbollah/index.html", {"/repo/actors/": "true"}),
    ("places/baghdad/index.html", {"/repo/places/": "true"}),
    ("search/index.html", {}),
    ("404.html", {}),
])
def test_the_masthead_marks_the_section_a_page_is_in(site: dict[str, str], path: str, current: dict[str, str]) -> None:
    assert head(site[path]).current == current


def test_print_shows_where_external_links_go(site: dict[str, str]) -> None:
    css = site["assets/style.css"]
    prints = css.split("@media print")[1]
    assert 'a[href^="http"]::after { content: " (" attr(href) ")"' in prints.split("}\n}")[0]


def test_the_theme_button_is_hidden_without_javascript(site: dict[str, str]) -> None:
    html = site["articles/drone-attack/index.html"]
    assert '<button type="button" id="theme-toggle" class="theme-toggle" hidden>' in html
    assert '<script src="/repo/assets/theme.js"></script>' in html.split("<link rel=\"stylesheet\"")[0]
    assert "theme.js" in "".join(site)


# --------------------------------------------------------------------------- the theme toggle, in Chromium

PREFIX = "/repo/"
LIGHT, DARK = "rgb(255, 255, 255)", "rgb(20, 24, 28)"  # --paper in style.css


@pytest.fixture(scope="module")
def served(site: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("served")
    for rel, text in site.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
    with static_server(out, PREFIX) as base:
        yield base


def background(tab) -> str:  # type: ignore[no-untyped-def]
    return tab.evaluate("getComputedStyle(document.body.parentElement).backgroundColor")


@pytest.mark.parametrize("system", ["light", "dark"])
def test_the_toggle_cycles_auto_light_dark_and_is_remembered(served: str, browser, system: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(color_scheme=system)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        tab.goto(served + "articles/drone-attack/")
        button = tab.locator("#theme-toggle")
        auto = LIGHT if system == "light" else DARK
        assert button.is_visible() and button.inner_text() == "Theme: auto"
        assert background(tab) == auto
        button.click()
        assert button.inner_text() == "Theme: light" and background(tab) == LIGHT
        button.click()
        assert button.inner_text() == "Theme: dark" and background(tab) == DARK
        tab.reload()
        assert tab.locator("#theme-toggle").inner_text() == "Theme: dark" and background(tab) == DARK
        assert tab.evaluate("document.documentElement.dataset.theme") == "dark"
        tab.goto(served + "actors/")  # another page: the same choice
        assert background(tab) == DARK
        tab.locator("#theme-toggle").click()
        assert tab.locator("#theme-toggle").inner_text() == "Theme: auto" and background(tab) == auto
        assert tab.evaluate("localStorage.getItem('briefing-theme')") is None
        assert not problems, problems
    finally:
        context.close()


def test_the_toggle_works_by_keyboard(served: str, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(color_scheme="light")
    tab = context.new_page()
    try:
        tab.goto(served)
        for _ in range(40):  # Tab through the page to the button, as a keyboard user would
            tab.keyboard.press("Tab")
            if tab.evaluate("document.activeElement.id") == "theme-toggle":
                break
        else:
            pytest.fail("the theme button is not reachable with Tab")
        tab.keyboard.press("Enter")
        assert tab.locator("#theme-toggle").inner_text() == "Theme: light"
        tab.keyboard.press("Space")
        assert tab.locator("#theme-toggle").inner_text() == "Theme: dark" and background(tab) == DARK
        tab.reload()
        assert background(tab) == DARK
    finally:
        context.close()


def test_without_javascript_the_button_stays_hidden_and_dark_mode_is_automatic(served: str, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False, color_scheme="dark")
    tab = context.new_page()
    try:
        tab.goto(served + "articles/drone-attack/")
        assert not tab.locator("#theme-toggle").is_visible()
        assert tab.locator("html").evaluate("e => getComputedStyle(e).backgroundColor") == DARK
    finally:
        context.close()
