"""Shared helpers: tiny sites written inline into temp folders."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/expected from a fresh build")
    parser.addoption("--walks", type=int, default=3, help="differential test: random edit walks to run (CI: 3)")
    parser.addoption("--walks-from", type=int, default=0, help="differential test: seed of the first walk")
    parser.addoption("--walk-steps", type=int, default=12, help="differential test: steps in each walk")


def write_site(root: Path, files: dict[str, str], site_yml: str | None = "title: Test desk\nbase_url: https://user.github.io/repo/\n") -> Path:
    """Write `files` (path -> text, dedented) under root; returns root."""
    (root / "content").mkdir(parents=True, exist_ok=True)
    if site_yml is not None:
        (root / "site.yml").write_text(site_yml, encoding="utf-8")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def age_written(site: Path) -> None:
    """Date the content files written since the last build a minute back, past the racy window,
    so an incremental build trusts their stamps; the others keep theirs (and the warm path its state)."""
    past = time.time() - 60
    for path in (site / "content").rglob("*"):
        if path.stat().st_mtime > past + 30:
            os.utime(path, (past, past))


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


BASIC = {
    "content/actors/kataib-hezbollah.md": """
        ---
        title: Kataib Hezbollah
        aliases: [KH, "Kata'ib Hizballah"]
        kind: militia
        affiliations: [Islamic Resistance in Iraq]
        ---
        An Iraqi militia. Active around [[Baghdad]].
        """,
    "content/places/baghdad.md": """
        ---
        title: Baghdad
        kind: city
        within: Iraq
        coordinates: [33.31, 44.37]
        ---
        The capital.
        """,
    "content/places/green-zone.md": """
        ---
        title: Green Zone
        aliases: [International Zone]
        within: Baghdad
        ---
        """,
    "content/articles/drone-attack.md": """
        ---
        title: Drone attack on Ain al-Asad
        date: 2023-10-18
        summary: Two drones targeted the base.
        actors: [KH, Islamic Resistance in Iraq]
        places: [Ain al-Asad, Baghdad]
        source: {name: Example Wire, url: "https://example.org/a"}
        ---
        ## What happened
        [[Kata'ib Hizballah|The group]] was blamed.
        """,
    "content/notes/assessment.md": """
        ---
        title: Escalation assessment
        date: 2023-10-20
        author: J. Analyst
        confidence: moderate
        actors: [kataib hizballah]
        places: [Green Zone]
        ---
        Builds on [[Drone attack on Ain al-Asad]] and [[International Zone]].
        """,
}


@pytest.fixture
def basic_site(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site", BASIC)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """One headless Chromium for the whole session (Debian's chromium, via Playwright)."""
    from support import chromium

    with chromium() as b:
        yield b
