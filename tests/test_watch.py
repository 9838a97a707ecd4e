"""The preview server's watcher, on real files in a temp folder.

Nothing here sleeps: a change the watcher must not report is followed by one it must, in the
same folder (one watch, one ordered event queue), and the test waits for that one: had the
first counted, it would be in the same answer."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePath
from typing import Iterator

import pytest

from generator.commands.watch import Watcher, is_dropping

TIMEOUT = 10.0  # only ever waited in full when the watcher is broken


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "content" / "articles").mkdir(parents=True)
    (tmp_path / "content" / "articles" / "old.md").write_text("old\n")
    (tmp_path / "site.yml").write_text("title: t\n")
    return tmp_path


@pytest.fixture
def watcher(site: Path) -> Iterator[Watcher]:
    w = Watcher([site / "content", site / "layouts"], [site / "site.yml"])  # layouts/ does not exist yet
    yield w
    w.close()


def changes(watcher: Watcher) -> set[Path]:
    changed = watcher.wait(timeout=TIMEOUT)
    assert changed, "no change reported"
    return changed


def until(watcher: Watcher, *paths: Path) -> set[Path]:
    """Every change up to the one that has reported all of `paths`."""
    got: set[Path] = set()
    while not set(paths) <= got:
        got |= changes(watcher)
    return got


@pytest.mark.parametrize("name, dropping", [
    ("note.md", False),
    ("articles/note.md", False),
    ("note.md~", True),
    ("note.md.bak", True),
    ("note.md.orig", True),
    ("note.md.swp", True),
    (".note.md.swp", True),
    ("note.md.swx", True),
    ("note.md.swo", True),
    ("note.md.tmp", True),
    ("note.md.tmp-briefing", True),
    ("#note.md#", True),
    (".#note.md", True),
    ("4913", True),
    ("note.md.crswap", True),
    (".git/index", True),
    (".git/objects/ab/cdef", True),
    ("articles/.hidden/note.md", True),
    ("4913.md", False),
    ("backup-plan.md", False),
])
def test_dropping(name: str, dropping: bool) -> None:
    assert is_dropping(PurePath(name)) is dropping


def test_a_save_right_after_the_constructor_is_reported(site: Path, watcher: Watcher) -> None:
    target = site / "content" / "articles" / "old.md"
    target.write_text("new\n")
    assert changes(watcher) == {target}


def test_a_save_by_rename_reports_the_target(site: Path, watcher: Watcher) -> None:
    target = site / "content" / "articles" / "old.md"
    temp = target.with_name(".old.md.tmp1234")
    temp.write_text("new\n")
    os.replace(temp, target)
    assert changes(watcher) == {target}


def test_vim_style_save_reports_the_target(site: Path, watcher: Watcher) -> None:
    target = site / "content" / "articles" / "old.md"
    probe = target.with_name("4913")
    probe.write_text("")
    probe.unlink()
    backup = target.with_name("old.md~")
    os.replace(target, backup)
    target.write_text("new\n")
    backup.unlink()
    assert changes(watcher) == {target}


def test_editor_droppings_alone_report_nothing(site: Path, watcher: Watcher) -> None:
    folder = site / "content" / "articles"
    for name in ["old.md~", "old.md.bak", "old.md.orig", "old.md.swp", ".old.md.swp", "old.md.swx", "x.tmp",
                 "#old.md#", ".#old.md", "4913", "old.md.crswap"]:
        (folder / name).write_text("scratch\n")
        (folder / name).unlink()
    (folder / ".git").mkdir()
    (folder / ".git" / "index").write_text("x\n")
    real = folder / "real.md"
    real.write_text("real\n")
    assert changes(watcher) == {real}


def test_droppings_beside_site_yml_report_nothing(site: Path, watcher: Watcher) -> None:
    for name in ["site.yml~", ".site.yml.swp", "notes.txt"]:  # notes.txt: not a watched file
        (site / name).write_text("scratch\n")
    (site / "site.yml").write_text("title: u\n")
    assert changes(watcher) == {site / "site.yml"}


def test_site_yml_saved_by_rename_is_reported(site: Path, watcher: Watcher) -> None:
    temp = site / "site.yml.tmp"
    temp.write_text("title: u\n")
    os.replace(temp, site / "site.yml")
    assert changes(watcher) == {site / "site.yml"}


def test_deletion_and_creation_are_reported(site: Path, watcher: Watcher) -> None:
    old = site / "content" / "articles" / "old.md"
    old.unlink()
    assert changes(watcher) == {old}
    new = site / "content" / "articles" / "new.md"
    new.write_text("new\n")
    assert changes(watcher) == {new}


def test_a_new_subfolder_is_watched(site: Path, watcher: Watcher) -> None:
    notes = site / "content" / "notes"
    notes.mkdir()
    assert notes in changes(watcher)
    note = notes / "a.md"
    note.write_text("a\n")
    assert changes(watcher) == {note}


def test_a_folder_made_later_is_watched(site: Path, watcher: Watcher) -> None:
    layouts = site / "layouts"
    layouts.mkdir()
    assert changes(watcher) == {layouts}  # the rebuild reads what was written before its watch
    page = layouts / "page.html"
    page.write_text("<p>x</p>\n")
    assert changes(watcher) == {page}


def test_a_folder_deleted_and_made_again_is_watched(site: Path, watcher: Watcher) -> None:
    content = site / "content"
    shutil.rmtree(content)
    until(watcher, content)
    content.mkdir()
    until(watcher, content)
    page = content / "a.md"
    page.write_text("a\n")
    assert changes(watcher) == {page}


def test_a_missing_folder_two_levels_down(site: Path) -> None:
    img = site / "assets" / "img"
    watcher = Watcher([img])
    try:
        (site / "assets").mkdir()
        (site / "assets" / "other.txt").write_text("not watched\n")
        img.mkdir()
        assert changes(watcher) == {img}
        picture = img / "a.svg"
        picture.write_text("<svg/>\n")
        assert changes(watcher) == {picture}
    finally:
        watcher.close()


def test_a_burst_loses_nothing(site: Path, watcher: Watcher) -> None:
    folder = site / "content" / "articles"
    written = {folder / f"a{i}.md" for i in range(50)} | {site / "site.yml"}  # site.yml: another watch
    for path in sorted(written):
        path.write_text("x\n")
    assert until(watcher, *written) == written  # one answer, unless a busy machine pauses mid-burst


def test_nothing_changed_returns_an_empty_set(watcher: Watcher) -> None:
    assert watcher.wait(timeout=0.05) == set()
