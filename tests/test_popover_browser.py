"""Link previews (assets/popover.js) in a real headless Chromium.

A small site is built and served under its base path over loopback HTTP. Timers run on
Playwright's fake clock where a test says how long something waits, so nothing sleeps.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest

from conftest import BASIC, write_site
from generator.engine.build import build
from support import static_server

PREFIX = "/repo/"
SUMMARY = "An Iran-backed Iraqi militia, part of the Popular Mobilization Forces."
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
ARTICLE = "articles/drone-attack/"
ACTOR_LINK = ".facts a[href$='/actors/kataib-hezbollah/']"
EXTERNAL_LINK = ".facts a[href='https://example.org/a']"
# what a page's scripts asked for, and which links were ever described by something
RECORDER = """
window.__fetched = [];
const realFetch = window.fetch;
window.fetch = function (input, init) { window.__fetched.push(String(input)); return realFetch.call(this, input, init); };
window.__described = [];
new MutationObserver(function (records) {
  records.forEach(function (r) {
    if (r.target.getAttribute('aria-describedby')) window.__described.push(r.target.getAttribute('href'));
  });
}).observe(document, {attributes: true, attributeFilter: ['aria-describedby'], subtree: true});
"""
SHOWN = "() => { const c = document.getElementById('link-preview'); return c && !c.hidden && c.getAttribute('role') === 'tooltip'; }"
CARD_TITLE = "#link-preview:not([hidden]) .link-preview-title"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    files = dict(BASIC)
    files["content/actors/kataib-hezbollah.md"] = BASIC["content/actors/kataib-hezbollah.md"].replace(
        "kind: militia\n", f"kind: militia\n        summary: {SUMMARY}\n")
    root = write_site(tmp_path_factory.mktemp("popover") / "site", files)
    out = root.parent / "out"
    result = build(root, output=out, use_cache=False)
    assert result.ok, [str(d) for d in result.diagnostics]
    with static_server(out, PREFIX) as base:
        yield base


@pytest.fixture
def open_page(browser, site):  # type: ignore[no-untyped-def]
    """open_page(path, **context options): a fresh tab on `path`, its timers on a fake clock,
    recording every request (off-site ones are refused) and every script error."""
    origin = re.match(r"https?://[^/]+", site).group(0)
    contexts = []

    def make(path: str, **options):  # type: ignore[no-untyped-def]
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.requests, page.problems = [], []
        page.on("request", lambda r: page.requests.append(r.url))
        page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
        page.on("console", lambda m: page.problems.append(f"console: {m.text}") if m.type == "error" else None)
        page.route(lambda url: not url.startswith(origin), lambda route: route.abort())
        page.add_init_script(RECORDER)
        page.clock.install()
        page.goto(site + path)
        page.wait_for_load_state("load")
        # time flows on an installed clock until it is paused: from now on only run_for moves it,
        # so that a busy machine cannot fire a timer the test says has not come yet
        page.clock.pause_at(page.evaluate("Date.now()") + 10)
        page.origin = origin
        return page

    yield make
    for context in contexts:
        context.close()


def described(page, selector: str) -> str | None:  # type: ignore[no-untyped-def]
    return page.get_attribute(selector, "aria-describedby")


def card_text(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return page.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('#link-preview p'))
        .map(p => [p.className.replace('link-preview-', ''), p.textContent]))""")


def tab_to(page, selector: str, limit: int = 60) -> None:  # type: ignore[no-untyped-def]
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_hovering_an_actor_link_shows_its_title_and_summary_after_a_delay(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(ARTICLE)
    page.hover(ACTOR_LINK)
    page.clock.run_for(200)
    assert page.evaluate("window.__fetched") == []  # not yet: a pointer passing over asks for nothing
    page.clock.run_for(150)
    page.wait_for_function(SHOWN)
    assert page.inner_text(CARD_TITLE) == "Kataib Hezbollah"
    assert card_text(page) == {"title": "Kataib Hezbollah", "meta": "Actor · militia", "summary": SUMMARY}
    assert described(page, ACTOR_LINK) == "link-preview"
    assert page.evaluate("document.activeElement === document.body")  # it never takes focus
    # once fetched, a page's preview is kept: hovering again asks for nothing more
    page.mouse.move(1, 400)
    page.clock.run_for(200)
    page.wait_for_selector("#link-preview", state="hidden")
    assert described(page, ACTOR_LINK) is None
    page.hover(ACTOR_LINK)
    page.clock.run_for(350)
    page.wait_for_function(SHOWN)
    assert page.evaluate("window.__fetched") == [f"{PREFIX}actors/kataib-hezbollah/"]
    # Escape dismisses it with the pointer still on the link
    page.keyboard.press("Escape")
    page.wait_for_selector("#link-preview", state="hidden")
    assert described(page, ACTOR_LINK) is None
    assert not page.problems, page.problems


def test_a_document_link_shows_its_kind_and_date_line(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page("notes/assessment/")
    link = ".body a[href$='/articles/drone-attack/']"
    page.hover(link)
    page.clock.run_for(350)
    page.wait_for_function(SHOWN)
    card = card_text(page)
    assert card["title"] == "Drone attack on Ain al-Asad"
    assert card["meta"].startswith("Article") and "18 October 2023" in card["meta"], card
    assert card["summary"] == "Two drones targeted the base."
    assert described(page, link) == "link-preview"


def test_keyboard_focus_shows_it_at_once_and_escape_hides_it(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(ARTICLE)
    tab_to(page, ACTOR_LINK)  # on the way, Tab passes the source's external link
    page.wait_for_function(SHOWN)  # no delay: the clock has not moved
    assert page.inner_text(CARD_TITLE) == "Kataib Hezbollah"
    assert described(page, ACTOR_LINK) == "link-preview"
    page.keyboard.press("Escape")
    page.wait_for_selector("#link-preview", state="hidden")
    assert described(page, ACTOR_LINK) is None
    assert page.evaluate("s => document.activeElement.matches(s)", ACTOR_LINK)  # focus stays on the link
    # the next link's preview replaces it; leaving by Tab hides it
    page.keyboard.press("Tab")
    page.wait_for_function(SHOWN)
    next_title = page.inner_text(CARD_TITLE)
    assert next_title != "Kataib Hezbollah"
    assert page.evaluate("document.activeElement.getAttribute('aria-describedby')") == "link-preview"
    assert described(page, ACTOR_LINK) is None
    assert not page.problems, page.problems


def test_external_links_get_no_preview_and_nothing_leaves_the_site(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(ARTICLE)
    page.hover(EXTERNAL_LINK)
    page.clock.run_for(1000)
    tab_to(page, EXTERNAL_LINK)
    tab_to(page, ACTOR_LINK)
    page.wait_for_function(SHOWN)
    # fetch() is called synchronously on focus, so anything the external link caused is recorded by now
    assert page.evaluate("window.__fetched") == [f"{PREFIX}actors/kataib-hezbollah/"]
    assert described(page, EXTERNAL_LINK) is None
    assert "https://example.org/a" not in page.evaluate("window.__described")
    assert page.evaluate("window.__described").count(f"{PREFIX}actors/kataib-hezbollah/") >= 1
    assert all(url.startswith(page.origin + "/") for url in page.requests), page.requests
    # the nav, the home link and the page's own address are not previewed either
    for selector in (".brand", "nav a[href$='/actors/']"):
        page.focus(selector)
    assert page.evaluate("window.__fetched") == [f"{PREFIX}actors/kataib-hezbollah/"]


def test_it_stays_inside_a_phone_screen(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(ARTICLE, viewport={"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.clientWidth")
    seen = 0
    for _ in range(60):
        page.keyboard.press("Tab")
        if not page.evaluate("document.activeElement.matches('main a[href^=\"/repo/\"]')"):
            continue
        if not re.search(r"/(articles|notes|actors|places)/[^/]+/$", page.evaluate("document.activeElement.getAttribute('href')")):
            continue
        page.wait_for_function("() => document.activeElement.getAttribute('aria-describedby') === 'link-preview'")
        box = page.evaluate("(() => { const r = document.getElementById('link-preview').getBoundingClientRect(); return {l: r.left, r: r.right}; })()")
        assert 0 <= box["l"] and box["r"] <= width, (box, width)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # the page grew no wider
        seen += 1
    assert seen >= 4, seen


def test_dark_colours_reduced_motion_and_no_accessibility_problem(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(ARTICLE, color_scheme="dark", reduced_motion="reduce")
    tab_to(page, ACTOR_LINK)
    page.wait_for_function(SHOWN)
    style = page.evaluate("""(() => { const s = getComputedStyle(document.getElementById('link-preview'));
        return {bg: s.backgroundColor, fg: s.color, animation: s.animationName}; })()""")
    assert style == {"bg": "rgb(20, 24, 28)", "fg": "rgb(230, 233, 237)", "animation": "none"}, style
    page.clock.resume()  # axe waits on timers of its own
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    problems = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}" for v in result["violations"]
                if v["impact"] in ("serious", "critical") or any("#link-preview" in str(n["target"]) for n in v["nodes"])]
    assert not problems, problems
    # motion is allowed: it fades in
    page = open_page(ARTICLE)
    tab_to(page, ACTOR_LINK)
    page.wait_for_function(SHOWN)
    assert page.evaluate("getComputedStyle(document.getElementById('link-preview')).animationName") == "link-preview-in"


def test_touch_only_screens_preview_on_keyboard_focus_only(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(ARTICLE, has_touch=True, is_mobile=True, viewport={"width": 390, "height": 844})
    assert page.evaluate("matchMedia('(hover: none)').matches")
    page.hover(ACTOR_LINK)
    page.clock.run_for(1000)
    assert page.evaluate("window.__fetched") == []
    assert described(page, ACTOR_LINK) is None
    page.mouse.move(1, 800)
    tab_to(page, ACTOR_LINK)
    page.wait_for_function(SHOWN)
    assert page.inner_text(CARD_TITLE) == "Kataib Hezbollah"


def test_the_pointer_can_move_onto_the_card_and_it_stays(open_page) -> None:  # type: ignore[no-untyped-def]
    page = open_page(ARTICLE)
    page.hover(ACTOR_LINK)
    page.clock.run_for(350)
    page.wait_for_function(SHOWN)
    box = page.locator("#link-preview").bounding_box()
    link = page.locator(ACTOR_LINK).bounding_box()
    assert box["y"] >= link["y"] + link["height"]  # below the link, not over it
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=4)
    page.clock.run_for(1000)
    assert page.evaluate(SHOWN) and described(page, ACTOR_LINK) == "link-preview"
    page.mouse.move(1, 800)
    page.clock.run_for(200)
    page.wait_for_selector("#link-preview", state="hidden")
    assert described(page, ACTOR_LINK) is None
