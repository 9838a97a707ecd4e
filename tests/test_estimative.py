"""Estimative language in notes: words off the desk's likelihood scale, likelihood and
confidence in one sentence, the ignore marker, the scale setting; warnings at file:line,
on full and incremental builds alike."""

from __future__ import annotations

from pathlib import Path

from conftest import age_written, BASIC, write_site
from generator.content.estimative import scan
from generator.engine.build import build

NOTE = """\
---
title: Outlook
date: 2023-11-01
actors: [KH]
confidence: moderate
---
We judge further strikes likely over the coming weeks.

There is a good chance the group claims again, and it could well widen its targets.

We assess with high confidence that a pause is unlikely.

<!-- estimative: ignore -->
Quoting the source: "a fair chance of talks".

```
fairly likely inside code
```

A realistic possibility of a lull.
"""


def warnings(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(d) for d in result.diagnostics.warnings if "estimative" in d.message]


def test_scan_finds_terms_and_mixed_sentences_with_their_lines() -> None:
    body = NOTE.split("---\n", 2)[2]
    found = [(f.line, f.kind, f.text) for f in scan(body, 7)]
    assert found == [
        (7, "term", "likely"),
        (9, "term", "a good chance"),
        (9, "term", "could well"),
        (11, "mixed", "high confidence"),
        (11, "term", "unlikely"),
        (20, "term", "realistic possibility"),
    ]


def test_a_term_split_over_two_lines_is_found_at_its_first() -> None:
    assert [(f.line, f.text) for f in scan("It is a good\nchance.\n", 3)] == [(3, "a good chance")]
    assert scan("Likelihood is not likely-ish; unlikelyhood.\n", 1) == ()


def _site(tmp_path: Path, site_yml: str = "title: Test desk\nbase_url: https://user.github.io/repo/\n") -> Path:
    return write_site(tmp_path / "site", {**BASIC, "content/notes/outlook.md": NOTE}, site_yml)


def test_build_warns_at_each_line_on_the_icd203_scale(tmp_path: Path) -> None:
    result = build(_site(tmp_path), output=tmp_path / "out", write=False)
    assert result.ok
    terms = ("almost no chance, very unlikely, unlikely, roughly even chance, likely, very likely, almost certain")
    assert warnings(result) == [
        f'content/notes/outlook.md:9: warning: estimative language: "a good chance" is not on the ICD 203 scale; '
        f"use one of its terms ({terms}) or mark the paragraph <!-- estimative: ignore -->",
        f'content/notes/outlook.md:9: warning: estimative language: "could well" is not on the ICD 203 scale; '
        f"use one of its terms ({terms}) or mark the paragraph <!-- estimative: ignore -->",
        'content/notes/outlook.md:11: warning: estimative language: this sentence states a likelihood and '
        '"high confidence" together; ICD 203 keeps them apart (say how likely in one sentence, how confident '
        "and why in another)",
        f'content/notes/outlook.md:20: warning: estimative language: "realistic possibility" is not on the '
        f"ICD 203 scale; use one of its terms ({terms}) or mark the paragraph <!-- estimative: ignore -->",
    ]


def test_the_phia_scale_accepts_its_own_terms(tmp_path: Path) -> None:
    site = _site(tmp_path, "title: Test desk\nbase_url: https://user.github.io/repo/\nestimative: phia\n")
    found = warnings(build(site, output=tmp_path / "out", write=False))
    assert [w.split(": warning")[0] for w in found] == ["content/notes/outlook.md:9"] * 2 + ["content/notes/outlook.md:11"]
    assert "PHIA yardstick" in found[0] and "realistic possibility, likely" in found[0]


def test_an_unknown_scale_is_an_error_at_its_line(tmp_path: Path) -> None:
    site = _site(tmp_path, "title: Test desk\nbase_url: https://user.github.io/repo/\nestimative: nato\n")
    result = build(site, output=tmp_path / "out", write=False)
    assert not result.ok
    assert "site.yml:3: error: `estimative` must be one of icd203, phia, not `nato`" in [str(d) for d in result.diagnostics]


def test_articles_are_not_checked(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {**BASIC, "content/articles/report.md": NOTE.replace("confidence: moderate\n", "")})
    assert warnings(build(site, output=tmp_path / "out", write=False)) == []


def _age(site: Path) -> None:
    """Make every file older than the racy window, so the incremental builds trust their stamps."""
    age_written(site)


def test_incremental_builds_report_the_same_warnings(tmp_path: Path) -> None:
    site = _site(tmp_path)
    _age(site)
    first = warnings(build(site))
    assert len(first) == 4
    assert warnings(build(site)) == first  # unchanged: from the saved state
    note = site / "content/notes/outlook.md"
    note.write_text(NOTE.replace("We judge further strikes likely", "Further strikes are fairly likely"))
    _age(site)
    second = warnings(build(site))  # an edit of the body alone
    assert second[0].startswith('content/notes/outlook.md:7: warning: estimative language: "fairly likely"')
    assert second[1:] == first
    note.write_text(NOTE)
    _age(site)
    assert warnings(build(site)) == first
