"""The sample site in a real headless Chromium, served under its base path."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO
from generator.engine.build import build
from support import static_server


def test_sample_pages_open_without_console_errors(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "site"
    assert build(REPO, output=out, base_url="https://example.github.io/briefing/").ok
    with static_server(out, "/briefing/") as base:
        page = browser.new_page()
        errors: list[str] = []
        failed: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        # a request cut short by the next navigation (the favicon, often) is not a failure;
        # a missing file is: it answers 404
        page.on("requestfailed", lambda r: None if "ERR_ABORTED" in (r.failure or "") else failed.append(r.url))

        def missing(response) -> None:  # type: ignore[no-untyped-def]
            if response.status >= 400:
                failed.append(f"{response.status} {response.url}")

        page.on("response", missing)
        page.goto(base)
        assert "militia attacks desk" in page.title()
        page.click("text=Actors")
        page.click("a:text-is('Kataib Hezbollah')")
        page.wait_for_load_state("load")  # the counts and styles below do not wait by themselves
        assert page.locator("h1").inner_text() == "Kataib Hezbollah"
        assert page.locator("#tagged ~ ol li").count() >= 3
        # the stylesheet loaded under the base path
        colour = page.evaluate("getComputedStyle(document.querySelector('.masthead')).borderBottomStyle")
        assert colour == "solid"
        assert not errors and not failed, (errors, failed)
        page.remove_listener("response", missing)  # the 404 below is asked for
        response = page.goto(base + "no/such/page/")
        assert response is not None and response.status == 404
        assert page.locator("h1").inner_text() == "Page not found"
        assert page.evaluate("getComputedStyle(document.querySelector('.masthead')).borderBottomStyle") == "solid"
        assert not failed, failed
        page.close()
