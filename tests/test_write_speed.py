"""The output writer's fast paths keep its guarantees (generator/output/write.py, generator/site/urls.py).

- destinations are checked lexically: nothing absolute, no `..`, `.` or empty part, no NUL;
- a file new to the folder being filled is created directly, but never over an existing
  inode (hard links shared with the live site are replaced by rename, never rewritten);
- folders are made once per build, and forked workers racing to make them all succeed;
- memoized URLs are exactly the unmemoized ones.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path

import pytest

from conftest import BASIC, write_site
from generator.engine.build import build
from generator.site.urls import Urls, page_path
from generator.output.write import MARKER, OutputError, OutputTree, digest, manifest_path, read_manifest, safe_rel, write_file

UNSAFE = ["", "/etc/passwd", "//x", "../x", "..", ".", "a/../../x", "a/..", "a/./b", "./a", "a//b", "a/",
          "a/b/", "a\x00b", "\x00"]
SAFE = ["index.html", "a/b/index.html", "feed.xml", "articles/x/index.html", "a..b/c", "...", "a/.b", ".well-known/x",
        "search/1.json", "actors/\u00e9t\u00e9/index.html"]


@pytest.mark.parametrize("rel", UNSAFE)
def test_lexical_check_refuses_anything_that_could_leave_the_folder(rel: str, tmp_path: Path) -> None:
    assert not safe_rel(rel)
    (tmp_path / "out").mkdir()
    tree = OutputTree(tmp_path / "out")
    tree.start()
    with pytest.raises(OutputError):
        tree.place(rel, b"x")
    with pytest.raises(OutputError):
        tree.write(rel, b"x")
    with pytest.raises(OutputError):
        write_file(tmp_path / "out", rel, b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".briefing-cache", "out"]
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "x").exists()


@pytest.mark.parametrize("rel", SAFE)
def test_lexical_check_accepts_ordinary_names(rel: str, tmp_path: Path) -> None:
    assert safe_rel(rel)
    tree = OutputTree(tmp_path / "out")
    spare = tree.start()
    assert tree.place(rel, b"data") == digest(b"data")
    assert (spare / rel).read_bytes() == b"data"


def test_non_strings_are_refused() -> None:
    assert not safe_rel(None)  # type: ignore[arg-type]
    assert not safe_rel(b"index.html")  # type: ignore[arg-type]


def test_unsafe_names_in_a_manifest_are_ignored(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    manifest = manifest_path(out)
    assert manifest is not None and manifest.parent.parent == tmp_path / ".briefing-cache"
    manifest.parent.mkdir(parents=True)
    manifest.write_text('{"files": {"../victim": "h", "ok.html": "h", "a//b": "h", "bad": 3}}', encoding="utf-8")
    assert read_manifest(out) == {"ok.html": "h"}
    manifest.unlink()
    (out / MARKER).write_text('{"files": {"../victim": "h", "old.html": "h"}}', encoding="utf-8")  # an earlier version's
    assert read_manifest(out) == {"old.html": "h"}


def _live_and_spare(tmp_path: Path, files: dict[str, bytes]) -> tuple[Path, Path]:
    """Two builds: the live site holds `files`, the spare (an older build) shares them by hard links."""
    out = tmp_path / "out"
    for _ in range(2):
        tree = OutputTree(out)
        tree.start()
        for rel, data in files.items():
            tree.claim(rel)
            tree.record(rel, tree.place(rel, data))
        tree.commit()
    spare = OutputTree(out).spare
    for rel in files:
        assert os.path.samefile(out / rel, spare / rel), "the spare should share unchanged files"
    return out, spare


def test_changed_file_shared_with_the_live_site_is_replaced_not_rewritten(tmp_path: Path) -> None:
    out, spare = _live_and_spare(tmp_path, {"a/index.html": b"old", "b.xml": b"old b"})
    tree = OutputTree(out)
    tree.start()
    assert tree.spare_files == {"a/index.html": digest(b"old"), "b.xml": digest(b"old b")}
    tree.place("a/index.html", b"new")
    tree.write("b.xml", b"new b")
    assert (out / "a/index.html").read_bytes() == b"old" and (out / "b.xml").read_bytes() == b"old b"
    assert (spare / "a/index.html").read_bytes() == b"new" and (spare / "b.xml").read_bytes() == b"new b"
    assert not os.path.samefile(out / "a/index.html", spare / "a/index.html")


def test_new_file_that_exists_after_all_is_replaced_not_rewritten(tmp_path: Path) -> None:
    """A file the spare's manifest does not list may still be there (an aborted build): never write into it."""
    out, spare = _live_and_spare(tmp_path, {"a/index.html": b"live"})
    (spare / "stray").mkdir()
    os.link(out / "a/index.html", spare / "stray/index.html")  # the worst case: a hard link to a live file
    os.link(out / "a/index.html", spare / "stray/index.html.tmp-briefing")  # and a stale temp file
    tree = OutputTree(out)
    tree.start()
    assert "stray/index.html" not in tree.spare_files
    tree.place("stray/index.html", b"mine")
    assert (out / "a/index.html").read_bytes() == b"live"
    assert (spare / "stray/index.html").read_bytes() == b"mine"
    assert not (spare / "stray/index.html.tmp-briefing").exists()


def test_unchanged_files_are_linked_from_the_live_site(tmp_path: Path) -> None:
    out = tmp_path / "out"
    tree = OutputTree(out)
    tree.start()
    for rel in ("x/y/index.html", "x/z/index.html"):
        tree.claim(rel)
        tree.record(rel, tree.place(rel, rel.encode()))
    tree.commit()  # first build: the spare became the live folder, no spare left
    tree = OutputTree(out)
    spare = tree.start()
    assert tree.spare_files == {}
    assert tree.reuse("x/y/index.html", digest(b"x/y/index.html"))
    assert tree.place("x/z/index.html", b"x/z/index.html") == digest(b"x/z/index.html")
    assert not tree.reuse("x/y/other.html", digest(b"nothing"))
    for rel in ("x/y/index.html", "x/z/index.html"):
        assert os.path.samefile(out / rel, spare / rel)


def test_a_folder_removed_behind_the_trees_back_is_made_again(tmp_path: Path) -> None:
    tree = OutputTree(tmp_path / "out")
    spare = tree.start()
    tree.place("a/b/one.html", b"1")
    shutil.rmtree(spare / "a")
    tree.place("a/b/two.html", b"2")
    assert (spare / "a/b/two.html").read_bytes() == b"2"


def test_in_place_updates_replace_files(tmp_path: Path) -> None:
    out, _ = _live_and_spare(tmp_path, {"a/index.html": b"old"})
    before = os.stat(out / "a/index.html").st_ino
    tree = OutputTree(out)
    tree.start_in_place()
    tree.place("a/index.html", b"new")
    tree.place("n/index.html", b"fresh")
    assert (out / "a/index.html").read_bytes() == b"new" and os.stat(out / "a/index.html").st_ino != before
    assert (out / "n/index.html").read_bytes() == b"fresh"
    assert not list(out.rglob("*.tmp-briefing"))


def test_in_place_into_a_folder_that_does_not_exist_yet(tmp_path: Path) -> None:
    out = tmp_path / "new" / "out"
    tree = OutputTree(out)
    tree.start_in_place()
    tree.place("index.html", b"home")
    tree.place("search/index.json", b"{}")
    assert (out / "index.html").read_bytes() == b"home" and (out / "search/index.json").read_bytes() == b"{}"


def test_in_place_build_makes_its_output_folder(tmp_path: Path) -> None:
    """The preview server's first build writes in place into a folder that is not there yet."""
    site = write_site(tmp_path / "site", BASIC)
    out = tmp_path / "preview-out"
    result = build(site, output=out, in_place=True)
    assert result.ok and result.written is not None and result.written.files > 0
    assert (out / "index.html").is_file() and (out / "articles/drone-attack/index.html").is_file()


def _race(tree: OutputTree, worker: int, errors: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    try:
        for i in range(40):
            tree.place(f"deep/{i % 5}/{i}/w{worker}.html", f"{worker}:{i}".encode())
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        errors.put(repr(exc))


def test_forked_workers_race_to_make_the_same_folders(tmp_path: Path) -> None:
    tree = OutputTree(tmp_path / "out")
    spare = tree.start()
    context = multiprocessing.get_context("fork")
    errors = context.Queue()
    workers = [context.Process(target=_race, args=(tree, w, errors)) for w in range(6)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
        assert p.exitcode == 0
    assert errors.empty(), errors.get()
    for w in range(6):
        for i in range(40):
            assert (spare / f"deep/{i % 5}/{i}/w{w}.html").read_bytes() == f"{w}:{i}".encode()


@pytest.mark.parametrize("base", ["https://user.github.io/repo/", "/", "/sub dir/", "https://example.org/"])
def test_memoized_urls_equal_fresh_ones(base: str) -> None:
    urls = Urls(base)
    paths = ["", "articles/x/", "actors/caf\u00e9 \u00e0/", "feed.xml", "search/?q=a b#frag"]
    first = [urls.href(p) for p in paths]
    again = [urls.href(p) for p in paths] + [Urls(base).href(p) for p in paths]
    assert again == first * 2
    assert [urls.absolute(p) for p in paths] == [Urls(base).origin + h for h in first]
    for ref in [("article", "x"), ("actor", "caf\u00e9"), ("place", "a b")]:
        assert urls.of(ref) == urls.of(ref) == urls.href(page_path(ref))
    assert Urls(base) == urls and hash(Urls(base)) == hash(urls) and repr(urls) == f"Urls(base_url={base!r})"


def test_urls_memo_is_per_base() -> None:
    a, b = Urls("/a/"), Urls("/b/")
    assert a.href("x/") == "/a/x/" and b.href("x/") == "/b/x/" and a.of(("note", "n")) == "/a/notes/n/"
    with pytest.raises(KeyError):
        a.of(("nonsense", "n"))
    with pytest.raises(TypeError):
        a.href(None)  # type: ignore[arg-type]
