"""`sources:` on notes: resolved to documents, listed with their grading, held-back ones shown
as withheld (never by title), bad names errors at their line, the high-confidence check,
and incremental builds equal to builds from scratch (pages and warnings)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import age_written, BASIC, read_tree, write_site
from generator.engine.build import build

SECRET = "Secret channel report"


def _files(note_meta: str) -> dict[str, str]:
    return {
        **BASIC,
        "content/articles/weak.md": "---\ntitle: Weak wire\ndate: 2023-10-03\nactors: [KH]\nreliability: D\ncredibility: 4\n---\nBody.\n",
        "content/articles/strong.md": "---\ntitle: Strong wire\ndate: 2023-10-04\nactors: [KH]\nreliability: B\ncredibility: 2\n---\nBody.\n",
        "content/articles/secret.md": f"---\ntitle: {SECRET}\ndate: 2023-10-05\nactors: [KH]\ntlp: amber\nreliability: A\ncredibility: 1\n---\nBody.\n",
        "content/notes/judgment.md": f"---\ntitle: Judgment\ndate: 2023-10-06\nactors: [KH]\n{note_meta}---\nBody.\n",
    }


def _site(tmp_path: Path, note_meta: str) -> Path:
    return write_site(tmp_path / "site", _files(note_meta))


def _warnings(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(d) for d in result.diagnostics if "confidence: high" in d.message or "sources:" in d.message]


def test_sources_are_listed_with_grading_and_a_held_back_one_is_withheld(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = build(_site(tmp_path, "confidence: moderate\nsources: [Weak wire, strong, secret, Strong wire]\n"), output=out)
    assert result.ok, [str(d) for d in result.diagnostics]
    page = (out / "notes/judgment/index.html").read_text()
    section = page.split('id="note-sources"')[1].split("</section>")[0]
    items = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", li)).strip() for li in re.findall(r"<li>(.*?)</li>", section, re.S)]
    assert items == [
        "Weak wire · D4 Source: not usually reliable; information: doubtful.",
        "Strong wire · B2 Source: usually reliable; information: probably true.",
        "A source withheld from this edition",
    ]
    assert 'href="/repo/articles/strong/"' in section
    assert not any(SECRET in p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    assert _warnings(result) == []


@pytest.mark.parametrize("meta, expected", [
    ("confidence: high\n", ["content/notes/judgment.md:5: warning: `confidence: high` names no `sources`: name a "
                            "source graded C3 or better, or lower the confidence"]),
    ("confidence: high\nsources: [Weak wire]\n",
     ["content/notes/judgment.md:5: warning: `confidence: high` rests only on sources graded worse than C3 (D4): "
      "name a source graded C3 or better, or lower the confidence"]),
    ("confidence: high\nsources: [Weak wire, Strong wire]\n", []),
    ("confidence: high\nsources: [Secret channel report]\n", []),  # graded A1: the check knows it, the page withholds it
    ("confidence: moderate\nsources: [Kataib Hezbollah]\n",
     ["content/notes/judgment.md:6: error: `sources: Kataib Hezbollah` names an actor or a place, not a document"]),
    ("confidence: moderate\nsources: [Strong wyre]\n",
     ["content/notes/judgment.md:6: error: `sources: Strong wyre` names no document has that name (did you mean `Strong wire`?)"]),
    ("confidence: moderate\nsources: [judgment]\n", ["content/notes/judgment.md:6: error: `sources: judgment` is this note itself"]),
])
def test_check_of_sources(tmp_path: Path, meta: str, expected: list[str]) -> None:
    result = build(_site(tmp_path, meta), output=tmp_path / "out", write=False)
    assert _warnings(result) == expected


def test_articles_take_no_sources(tmp_path: Path) -> None:
    files = _files("confidence: moderate\n")
    files["content/articles/weak.md"] = files["content/articles/weak.md"].replace("credibility: 4\n", "credibility: 4\nsources: [Strong wire]\n")
    result = build(write_site(tmp_path / "site", files), output=tmp_path / "out", write=False)
    assert "content/articles/weak.md:7: error: `sources` belongs on notes (analyst judgments), not on articles" in [
        str(d) for d in result.diagnostics]


def test_edits_of_sources_and_of_what_they_name_build_as_from_scratch(tmp_path: Path) -> None:
    site = _site(tmp_path, "confidence: high\nsources: [Weak wire, Strong wire]\n")

    def age() -> None:
        age_written(site)

    strong, note = site / "content/articles/strong.md", site / "content/notes/judgment.md"
    edits = [
        (strong, lambda t: t.replace("credibility: 2", "credibility: 5")),  # the note's only sound source weakens
        (strong, lambda t: t.replace("title: Strong wire", "title: Strong wire, retitled")),  # its name no longer resolves
        (strong, lambda t: t.replace("title: Strong wire, retitled", "title: Strong wire")),
        (note, lambda t: t.replace("[Weak wire, Strong wire]", "[Strong wire]")),
        (strong, lambda t: t.replace("credibility: 5", "credibility: 2")),
    ]
    age()
    assert build(site).ok
    for n, (path, edit) in enumerate(edits):
        path.write_text(edit(path.read_text()))
        age()
        incremental = build(site)
        scratch = build(site, output=tmp_path / f"scratch-{n}", use_cache=False)
        assert [str(d) for d in incremental.diagnostics] == [str(d) for d in scratch.diagnostics], n
        if scratch.ok:
            assert read_tree(site / "_site") == read_tree(tmp_path / f"scratch-{n}"), n
