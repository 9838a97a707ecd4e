"""`event_date`: when it happened, not only when it was reported — parsed at three precisions,
placing documents on timelines, shown on pages and listings, and kept equal to a build from
scratch by the incremental builds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import age_written, BASIC, read_tree, write_site
from generator.engine.build import build

LATE = """\
---
title: Late report of an October strike
date: 2023-12-02
event_date: {event}
summary: Reported in December about October.
actors: [KH]
---
Body.
"""


def _site(tmp_path: Path, event: str) -> Path:
    return write_site(tmp_path / "site", {**BASIC, "content/articles/late.md": LATE.format(event=event)})


@pytest.mark.parametrize("event, shown, attr", [
    ("2023-10-19", "19 October 2023", '<time datetime="2023-10-19">'),
    ("2023-10", "October 2023", '<time datetime="2023-10">'),
    ("2023", "2023", None),
])
def test_each_precision_is_shown_as_known(tmp_path: Path, event: str, shown: str, attr: str | None) -> None:
    out = tmp_path / "out"
    result = build(_site(tmp_path, event), output=out)
    assert result.ok, [str(d) for d in result.diagnostics]
    page = (out / "articles/late/index.html").read_text()
    happened = re.search(r"happened (.*?) · reported <time datetime=\"2023-12-02\">", page)
    assert happened, page
    assert re.sub(r"<[^>]+>", "", happened.group(1)) == shown
    if attr:
        assert attr in happened.group(1)
    else:
        assert "<time" not in happened.group(1)  # a year alone is not a date
    timeline = (out / "timeline/index.html").read_text()
    months = re.findall(r'<h2 id="m-(\d{4}-\d{2})"', timeline)
    expected = "2023-10" if event != "2023" else "2023-01"
    assert expected in months and "2023-12" not in months  # placed by when it happened
    section = timeline.split(f'id="m-{expected}"')[1].split("<h2")[0]
    assert "Late report of an October strike" in section
    actor = (out / "actors/kataib-hezbollah/index.html").read_text()
    assert f'id="m-{expected}"' in actor


@pytest.mark.parametrize("event, message", [
    ("October 2023", "`event_date` is not a date: `October 2023` (write YYYY-MM-DD, YYYY-MM or YYYY)"),
    ('"2023-13"', "`event_date` is an impossible date: `2023-13`"),
])
def test_a_bad_event_date_is_an_error_at_its_line(tmp_path: Path, event: str, message: str) -> None:
    result = build(_site(tmp_path, event), output=tmp_path / "out", write=False)
    assert not result.ok
    assert f"content/articles/late.md:4: error: {message}" in [str(d) for d in result.diagnostics]


def _age(site: Path) -> None:
    age_written(site)


def test_editing_the_event_date_rebuilds_as_from_scratch(tmp_path: Path) -> None:
    site = _site(tmp_path, "2023-10-19")
    _age(site)
    assert build(site).ok
    for event in ("2023-11", "2022", "2023-10-19"):
        (site / "content/articles/late.md").write_text(LATE.format(event=event))
        _age(site)
        assert build(site).ok
        assert build(site, output=tmp_path / f"scratch-{event}", use_cache=False).ok
        assert read_tree(site / "_site") == read_tree(tmp_path / f"scratch-{event}"), event
