"""Publish safety: nothing beside the documents leaks, nothing only held-back documents use is
published, nothing broken goes out. Real builds of small sites in temp folders; canary strings
prove what did not leak (they are looked for in every byte of the output)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import BASIC, read_tree, write_site
from generator.commands.cli import main
from generator.engine.build import build

CANARY = "CANARY-7f3a-AMBER-ONLY"
AMBER_NOTE = f"""
    ---
    title: Amber handling note
    date: 2023-11-03
    tlp: amber
    actors: [KH]
    ---
    {CANARY} in the note itself. ![sketch](/images/sketch.svg)
    [the annex](../../files/annex.pdf)
    """


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def leaks(out: Path, *canaries: str) -> list[str]:
    """Output files that hold any canary (as bytes) or are named after one."""
    return [rel for rel, data in read_tree(out).items()
            if any(c.encode() in data or c.lower() in rel.lower() for c in canaries)]


# --------------------------------------------------------------------------- files beside the documents


DROPPINGS = ["content/notes/amber.md.orig", "content/notes/amber.md.bak", "content/notes/.amber.md.swp",
             "content/notes/amber.md~", "content/notes/#amber.md#", "content/notes/.#amber.md",
             "content/articles/x.md.tmp", "content/articles/x.md.bak", "content/images/sketch.svg.orig"]


def test_editor_backups_and_lock_files_are_never_published(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {**BASIC, "content/notes/amber.md": AMBER_NOTE}
    files.update({rel: f"copy: {CANARY}\n" for rel in DROPPINGS})
    site = write_site(tmp_path / "site", files)
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "build", "--site", str(site), "--output", str(out))
    assert code == 0, err
    assert "held back: 1 TLP:AMBER" in stdout
    assert leaks(out, CANARY) == []
    code, _, err = run(capsys, "check", "--site", str(site))
    assert "amber.md.orig" not in err and ".swp" not in err


@pytest.mark.parametrize("rel", ["content/notes/scratch.txt", "content/articles/photo.jpg",
                                 "content/notes/sub/annex.pdf"])
def test_any_other_file_beside_the_documents_is_an_error_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], rel: str) -> None:
    site = write_site(tmp_path / "site", {**BASIC, rel: f"{CANARY}\n"})
    out = tmp_path / "out"
    code, _, err = run(capsys, "build", "--site", str(site), "--output", str(out))
    assert code == 1
    assert f"{rel}: error: not a document: only Markdown files belong in content/{rel.split('/')[1]}/" in err
    assert not out.exists()
    code, _, err = run(capsys, "check", "--site", str(site))
    assert code == 1 and f"{rel}: error: not a document" in err


def test_a_stray_file_added_after_a_good_build_keeps_the_previous_site(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", BASIC)
    out = tmp_path / "out"
    assert run(capsys, "build", "--site", str(site), "--output", str(out))[0] == 0
    before = read_tree(out)
    (site / "content/notes/scratch.txt").write_text(CANARY)
    code, _, err = run(capsys, "build", "--site", str(site), "--output", str(out))
    assert code == 1 and "content/notes/scratch.txt: error: not a document" in err
    assert read_tree(out) == before


# --------------------------------------------------------------------------- assets only held-back documents use


ASSETS = {
    "content/images/sketch.svg": f"<svg xmlns='http://www.w3.org/2000/svg'><text>{CANARY}</text></svg>\n",
    "content/files/annex.pdf": f"%PDF {CANARY}-annex\n",
    "content/images/shared.svg": "<svg xmlns='http://www.w3.org/2000/svg'><text>shared</text></svg>\n",
    "content/images/unused.svg": "<svg xmlns='http://www.w3.org/2000/svg'><text>unused</text></svg>\n",
}


def test_an_asset_only_a_held_back_note_uses_is_held_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    amber = AMBER_NOTE.replace("[the annex]", "![shared](/images/shared.svg) [the annex]")
    site = write_site(tmp_path / "site", {
        **BASIC, **ASSETS, "content/notes/amber.md": amber,
        "content/articles/public.md": "---\ntitle: Public\ndate: 2023-11-04\nactors: [KH]\n---\n"
                                      "![shared](../../images/shared.svg)\n",
    })
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "build", "--site", str(site), "--output", str(out))
    assert code == 0, err
    assert leaks(out, CANARY) == []
    assert not (out / "images/sketch.svg").exists() and not (out / "files/annex.pdf").exists()
    assert (out / "images/shared.svg").is_file()  # a published article uses it too
    assert (out / "images/unused.svg").is_file()  # no document points at it: published as before
    assert stdout.splitlines()[-1].endswith("held back: 1 TLP:AMBER, 2 assets")
    # the same build with the note published publishes its assets
    code, stdout, _ = run(capsys, "build", "--site", str(site), "--output", str(out))
    (site / "site.yml").write_text("title: Test desk\nbase_url: https://user.github.io/repo/\npublish: {max_tlp: amber}\n")
    code, stdout, _ = run(capsys, "build", "--site", str(site), "--output", str(out))
    assert code == 0 and (out / "images/sketch.svg").is_file() and (out / "files/annex.pdf").is_file()
    assert stdout.splitlines()[-1].endswith("held back: none")


def test_held_back_assets_follow_edits_as_a_build_from_scratch_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A published document's body edit that starts (or stops) using the asset changes whether it
    is published: each incremental build's output equals a build from scratch."""
    public = "---\ntitle: Public\ndate: 2023-11-04\nactors: [KH]\n---\nBody.\n"
    site = write_site(tmp_path / "site", {**BASIC, **ASSETS, "content/notes/amber.md": AMBER_NOTE,
                                          "content/articles/public.md": public})
    out = tmp_path / "out"
    steps = [public.replace("Body.", "Body with ![s](/images/sketch.svg)."),  # now published
             public.replace("Body.", "Body again."),  # held back again
             public]
    for file in (site / "content").rglob("*"):  # old enough for the cache to trust them
        os.utime(file, (file.stat().st_mtime - 100,) * 2)
    run(capsys, "build", "--site", str(site), "--output", str(out))
    run(capsys, "build", "--site", str(site), "--output", str(out))  # a saved state to be warm from
    for i, text in enumerate(steps):
        path = site / "content/articles/public.md"
        path.write_text(text)
        stamp = path.stat().st_mtime - 50 + i  # old enough to be trusted by the cache
        os.utime(path, (stamp, stamp))
        assert run(capsys, "build", "--site", str(site), "--output", str(out))[0] == 0
        scratch = tmp_path / f"scratch{i}"
        shutil.copytree(site, scratch, ignore=shutil.ignore_patterns(".briefing-cache"))
        fresh = build(scratch, output=tmp_path / f"fresh{i}", use_cache=False)
        assert fresh.ok
        assert read_tree(out) == read_tree(tmp_path / f"fresh{i}"), f"step {i}"
        assert (out / "images/sketch.svg").exists() == (i == 0)


# --------------------------------------------------------------------------- smaller, each seen


@pytest.mark.parametrize("value, why", [("2023-02-30", "day is out of range for month"),
                                        ("2024-13-45", "month must be in 1..12")])
def test_an_impossible_date_is_reported_at_its_own_line_naming_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, why: str) -> None:
    doc = f"---\ntitle: X\nsummary: y\ndate: {value}\nactors: [KH]\n---\nBody.\n"
    site = write_site(tmp_path / "site", {**BASIC, "content/articles/x.md": doc})
    code, _, err = run(capsys, "check", "--site", str(site))
    assert code == 1
    assert f"content/articles/x.md:4: error: `date` is not a real date: `{value}` ({why}); write YYYY-MM-DD" in err


@pytest.mark.parametrize("in_place", [False, True], ids=["build", "preview"])
def test_a_deleted_document_leaves_no_empty_folder(tmp_path: Path, in_place: bool) -> None:
    site = write_site(tmp_path / "site", {**BASIC, "content/articles/gone.md":
                                          "---\ntitle: Gone\ndate: 2023-11-05\nplaces: [Only Here]\n---\nBody.\n"})
    out = tmp_path / "out"
    for _ in range(2):  # the second build fills the spare folder of the first
        assert build(site, output=out, in_place=in_place).ok
    assert (out / "articles/gone/index.html").is_file() and (out / "places/only-here").is_dir()
    (site / "content/articles/gone.md").unlink()
    for _ in range(2):
        assert build(site, output=out, in_place=in_place).ok
        empty = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_dir() and not any(p.iterdir())]
        assert empty == []
        assert not (out / "articles/gone").exists() and not (out / "places/only-here").exists()


def test_messages_count_in_the_singular_and_plural(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = {"content/articles/a.md": "---\ntitle: A\ndate: 2023-11-05\nactors: [KH]\n---\nBody.\n"}
    site = write_site(tmp_path / "site", one)
    code, stdout, _ = run(capsys, "build", "--site", str(site), "--output", str(tmp_path / "out"))
    assert code == 0 and "published 1 document, 1 actor or place; held back: none" in stdout
    (site / "content/articles/a.md").write_text("---\ntitle: A\ndate: 2023-11-05\n---\nBody.\n")  # no tags: 1 warning
    code, _, err = run(capsys, "check", "--site", str(site))
    assert err.splitlines()[-1] == "0 errors, 1 warning"


# --------------------------------------------------------------------------- a fresh site passes its own checks


@pytest.mark.parametrize("remote, expected", [
    ("git@github.com:desk/briefing.git", "https://desk.github.io/briefing/"),
    ("https://github.com/Desk/notes", "https://desk.github.io/notes/"),
    ("https://github.com/desk/desk.github.io.git", "https://desk.github.io/"),
])
def test_init_takes_the_address_from_the_git_remote_and_passes_strict(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], remote: str, expected: str) -> None:
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin", remote], check=True)
    code, stdout, _ = run(capsys, "init", str(repo / "desk"))
    assert code == 0 and f"base_url: {expected} (from the git remote {remote})" in stdout
    assert f"\nbase_url: {expected}\n" in (repo / "desk/site.yml").read_text()
    code, stdout, err = run(capsys, "build", "--strict", "--site", str(repo / "desk"))
    assert code == 0, err
    assert err == ""
    feed = (repo / "desk/_site/feed.xml").read_text()
    assert f"<id>{expected}</id>" in feed
    assert f"<loc>{expected}</loc>" in (repo / "desk/_site/sitemap.xml").read_text()


def test_init_with_base_url_and_a_placeholder_without(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(capsys, "init", str(tmp_path / "a"), "--base-url", "https://intel.example.org/desk")
    assert code == 0 and "base_url: https://intel.example.org/desk/ (from --base-url)" in stdout
    assert run(capsys, "build", "--strict", "--site", str(tmp_path / "a"))[0] == 0
    code, _, err = run(capsys, "init", str(tmp_path / "b"), "--base-url", "/desk/")
    assert code == 1 and "--base-url must be a full address" in err and not (tmp_path / "b").exists()
    code, _, err = run(capsys, "init", str(tmp_path / "plain"))
    assert code == 0 and "base_url is a placeholder (https://example.github.io/plain/)" in err
    assert run(capsys, "build", "--strict", "--site", str(tmp_path / "plain"))[0] == 0


def test_a_bare_path_base_url_is_a_warning_on_every_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path / "site", BASIC, site_yml="title: T\nbase_url: /desk/\n")
    out = tmp_path / "out"
    for _ in range(3):  # full, then warm builds
        code, _, err = run(capsys, "build", "--site", str(site), "--output", str(out))
        assert code == 0 and "site.yml" in err and "base_url" in err and "warning" in err


# --------------------------------------------------------------------------- TLP marking on every page


def _marking(html: str) -> str:
    import re

    found = re.findall(r'<p class="wrap tlp-mark"><span class="tlp tlp-[a-z-]+" title="[^"]*">TLP:([A-Z+]+)</span></p>', html)
    assert len(found) == 1, html[:2000]
    return found[0]


def test_every_page_carries_the_highest_tlp_of_what_it_shows(tmp_path: Path) -> None:
    files = {**BASIC, "content/notes/amber.md": AMBER_NOTE.replace("![sketch](/images/sketch.svg)", ""),
             "content/articles/other.md": "---\ntitle: Other\ndate: 2023-09-01\nplaces: [Basra]\n---\nBody.\n"}
    site = write_site(tmp_path / "site", files)
    clear = tmp_path / "clear"
    assert build(site, output=clear).ok
    pages = {rel: data.decode() for rel, data in read_tree(clear).items() if rel.endswith(".html")}
    assert len(pages) > 15 and {_marking(html) for html in pages.values()} == {"CLEAR"}
    (site / "site.yml").write_text("title: T\nbase_url: https://user.github.io/repo/\npublish: {max_tlp: amber}\n")
    amber = tmp_path / "amber"
    assert build(site, output=amber).ok
    marks = {rel: _marking(data.decode()) for rel, data in read_tree(amber).items() if rel.endswith(".html")}
    for rel in ("index.html", "notes/index.html", "timeline/index.html", "actors/index.html", "search/index.html",
                "notes/amber/index.html", "actors/kataib-hezbollah/index.html"):
        assert marks[rel] == "AMBER", rel
    for rel in ("404.html", "places/basra/index.html", "articles/other/index.html"):
        assert marks[rel] == "CLEAR", rel  # they show nothing of the AMBER note
