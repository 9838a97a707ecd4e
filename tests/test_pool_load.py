"""Changed files are read, parsed and rendered in the worker pool: only front-matter comes back.

The pool never changes what is built or reported: one worker and two give the
same bytes and the same diagnostics, in the same order, as parsing the files
one by one; bodies stay out of the parent; a body already rendered is not
rendered again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from conftest import BASIC, read_tree, write_site
from generator import parallel
from generator.content import load, markdown
from generator.engine.build import build
from generator.content.cache import Cache
from generator.diagnostics import Diagnostics

MANY = 120  # above parallel.INLINE_BELOW, so the pool really runs
BROKEN = {
    "content/articles/b-yaml.md": "---\ntitle: x\ndate: 2023-10-18\nactors: [a, b\nplaces: []\n---\n",
    "content/articles/c-open.md": "---\ntitle: x\ndate: 2023-10-18\n",
    "content/notes/d-no-front-matter.md": "title: x\n",
    "content/notes/e-duplicate.md": "---\ntitle: x\ntitle: y\ndate: 2023-10-18\n---\n",
    "content/places/f-schema.md": "---\ntitle: Somewhere\ncoordinates: [100, 44]\n---\n",
}


def many_files(n: int = MANY) -> dict[str, str]:
    files = dict(BASIC)
    for i in range(n):
        files[f"content/articles/gen-{i:03d}.md"] = (
            f"---\ntitle: Generated {i}\ndate: 2023-10-{i % 28 + 1:02d}\nactors: [KH, Actor {i % 7}]\n"
            f"places: [Baghdad, Place {i % 5}]\n---\n## Part {i}\nSee [[KH]] and [[Generated {(i + 1) % n}]].\n"
        )
    files["content/articles/held.md"] = "---\ntitle: Held\ndate: 2023-10-02\ndraft: true\n---\nSECRETCANARY plans.\n"
    files["content/stray.md"] = "---\ntitle: Stray\n---\n"  # misplaced: a warning
    return files


def with_broken(site: Path) -> Path:
    for rel, text in BROKEN.items():
        (site / rel).write_text(text, encoding="utf-8")
    (site / "content/notes/g-binary.md").write_bytes(b"\x00\x01binary")
    (site / "content/notes/h-latin1.md").write_bytes(b"---\ntitle: caf\xe9\n---\n")
    (site / "content/notes/c-dangling.md").symlink_to(site / "nowhere.md")  # cannot be stat'ed
    (site / "content/notes/c-locked.md").write_text("---\ntitle: Locked\n---\n")  # cannot be read: see below
    return site


def lock(monkeypatch: pytest.MonkeyPatch, rel: str) -> None:
    """Reading `rel` fails (as it would for a file without read permission, even in a worker)."""
    real = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path.as_posix().endswith(rel):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    real_read_file = load.read_file

    def read_file(path: str) -> tuple[bytes, os.stat_result]:
        if Path(path).as_posix().endswith(rel):
            raise PermissionError(13, "Permission denied", path)
        return real_read_file(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setattr(load, "read_file", read_file)


def tree(out: Path) -> dict[str, bytes]:
    return read_tree(out)


@pytest.fixture(autouse=True)
def no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "RACY_SECONDS", -1.0)  # files a test wrote may be cached (see test_cache)


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The bodies markdown.render is called with (in this process: use one worker)."""
    calls: list[str] = []
    real = markdown.render

    def counting(body: str, allow_html: bool = False) -> markdown.Rendered:
        calls.append(body)
        return real(body, allow_html)

    monkeypatch.setattr(markdown, "render", counting)
    monkeypatch.setenv("BRIEFING_WORKERS", "1")
    return calls


def test_one_worker_and_two_build_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = write_site(tmp_path / "site", many_files())
    results = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("BRIEFING_WORKERS", workers)
        out = tmp_path / f"out-{workers}"
        result = build(site, output=out, use_cache=False)
        assert result.ok, list(result.diagnostics)
        results[workers] = (tree(out), [str(d) for d in result.diagnostics.items])
    assert results["1"] == results["2"]
    files, diagnostics = results["1"]
    assert len(files) > MANY and "content/stray.md: warning: ignored" in diagnostics[0]
    assert not any(b"SECRETCANARY" in data for data in files.values())


def test_diagnostics_from_workers_come_back_in_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = with_broken(write_site(tmp_path / "site", many_files()))
    # what parsing the files one by one in this process reports (the load stage before the pool)
    expected = Diagnostics()
    for path in sorted((site / "content").rglob("*.md")):
        rel = path.relative_to(site).as_posix()
        if rel == "content/stray.md":
            expected.warning(rel, 0, "ignored: Markdown files belong in content/{articles,notes,actors,places}/")
        elif rel == "content/notes/c-dangling.md":
            expected.error(rel, 0, "cannot read: No such file or directory")
        elif rel == "content/notes/c-locked.md":
            expected.error(rel, 0, "cannot read: Permission denied")
        else:
            load.parse_source(rel, rel.split("/")[1], path.stem, path.read_bytes(), expected)
    lock(monkeypatch, "content/notes/c-locked.md")
    reports = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("BRIEFING_WORKERS", workers)
        diags = Diagnostics()
        loaded = load.load_content(site, diags, Cache(None))
        assert diags.items == expected.items  # the same problems, appended in the same order
        assert loaded.failed == tuple(sorted(d.path for d in expected.errors))
        result = build(site, output=tmp_path / "out", use_cache=False)
        assert not result.ok and not (tmp_path / "out").exists()
        reports[workers] = [str(d) for d in result.diagnostics.items]
    assert reports["1"] == reports["2"]
    errors = [line for line in reports["2"] if ": error: " in line]
    assert errors[:8] == [
        "content/articles/b-yaml.md:5: error: invalid YAML: did not find expected ',' or ']'",
        "content/articles/c-open.md:1: error: front-matter is never closed: add a line `---` after it",
        "content/notes/c-dangling.md: error: cannot read: No such file or directory",
        "content/notes/c-locked.md: error: cannot read: Permission denied",
        "content/notes/d-no-front-matter.md:1: error: missing front-matter: the file must start with a line `---`",
        "content/notes/e-duplicate.md:3: error: duplicate key `title` (first at line 2)",
        "content/notes/g-binary.md: error: binary file (contains NUL bytes), not Markdown text",
        "content/notes/h-latin1.md:2: error: not UTF-8 text (invalid byte 0xe9); save the file as UTF-8",
    ]
    assert "content/places/f-schema.md:3: error: `coordinates` must be [latitude, longitude]" in " ".join(errors)


@pytest.mark.parametrize("on_disk", [True, False], ids=["cache file: the workers store the rows", "in memory"])
def test_parent_keeps_no_body(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_disk: bool) -> None:
    site = write_site(tmp_path / "site", many_files())
    monkeypatch.setenv("BRIEFING_WORKERS", "2")
    cache = Cache(tmp_path / "cache.sqlite" if on_disk else None)
    stored: list[int] = []
    monkeypatch.setattr(Cache, "put_rendered", lambda self, rows: stored.append(len(rows)) or put(self, rows))
    seen: list[str] = []

    def render_body(src: load.SourceDoc) -> tuple[str, markdown.Rendered, str]:
        assert src.body is not None  # the worker has it...
        seen.append(src.rel)  # (in the worker's memory: never in this process's list)
        return src.digest, markdown.render(src.body), ""

    loaded = load.load_content(site, Diagnostics(), cache, render_body=render_body)
    assert len(loaded.docs) == len(BASIC) + MANY + 1
    assert all(doc.body is None for doc in loaded.docs)  # ...this process does not
    assert seen == [] and len(loaded.docs) >= parallel.INLINE_BELOW
    assert cache.rendered_keys() == {doc.digest for doc in loaded.docs}
    note = next(doc for doc in loaded.docs if doc.rel == "content/notes/assessment.md")
    assert "Builds on [[Drone attack" in load.read_body(site, note.rel)
    assert cache.html(note.digest) == markdown.render(load.read_body(site, note.rel)).html
    # in this process: one store of every row (in memory), or only an empty one (the workers stored them)
    assert stored == ([0] if on_disk else [len(loaded.docs)])


def test_the_load_workers_store_the_front_matter_they_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers that parse the files keep their front-matter in the cache themselves: the
    next full build reads and parses only the files that changed."""
    monkeypatch.setenv("BRIEFING_WORKERS", "2")
    site = write_site(tmp_path / "site", many_files())
    old = time.time() - 10  # older than load.RACY_SECONDS: the stamps are trusted
    for path in (site / "content").rglob("*"):
        os.utime(path, (old, old))
    assert build(site).ok
    with contextlib.closing(sqlite3.connect(site / ".briefing-cache/cache.sqlite")) as db:
        stored = {rel for (rel,) in db.execute("SELECT rel FROM sources")}
    markdown_files = {f"content/{p.relative_to(site / 'content').as_posix()}" for p in (site / "content").rglob("*.md")}
    assert stored == markdown_files - {"content/stray.md"}  # (misplaced: never parsed)

    monkeypatch.setenv("BRIEFING_WORKERS", "1")  # parsed in this process, where the count is
    parsed: list[str] = []
    real = load.parse_source
    monkeypatch.setattr(load, "parse_source", lambda rel, *args: parsed.append(rel) or real(rel, *args))
    article = site / "content/articles/gen-007.md"
    article.write_text(article.read_text().replace("## Part 7", "## Part seven"))
    assert build(site, output=tmp_path / "elsewhere").ok  # another output folder: a full build
    assert parsed == ["content/articles/gen-007.md"]


put = Cache.put_rendered


def test_a_body_rendered_before_is_not_rendered_again(tmp_path: Path, renders: list[str]) -> None:
    site = write_site(tmp_path / "site", many_files())
    out = tmp_path / "out"
    assert build(site, output=out).ok
    assert len(renders) == len(BASIC) + MANY + 1  # every body once, the draft's included
    first = tree(out)

    renders.clear()
    note = site / "content/notes/assessment.md"
    note.write_text(note.read_text().replace("Builds on", "Extends"))
    assert build(site, output=out).ok
    assert len(renders) == 1 and renders[0].startswith("Extends")
    assert b"Extends" in tree(out)["notes/assessment/index.html"]

    renders.clear()
    article = site / "content/articles/gen-007.md"
    stat = article.stat()
    os.utime(article, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a new stamp, the same bytes:
    assert build(site, output=out).ok and renders == []  # parsed again, not rendered again

    renders.clear()
    shutil.rmtree(site / ".briefing-cache")
    assert build(site, output=tmp_path / "out-cold").ok
    assert tree(tmp_path / "out-cold") == tree(out) != first


def test_held_back_bodies_are_pruned_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = write_site(tmp_path / "site", many_files())
    monkeypatch.setenv("BRIEFING_WORKERS", "2")
    out = tmp_path / "out"
    result = build(site, output=out)
    assert result.ok and result.site is not None and result.site.held_back == {"draft": 1}
    cache = Cache(site / ".briefing-cache/cache.sqlite")
    try:
        keys = cache.rendered_keys()
        assert not any("SECRETCANARY" in cache.html(key) for key in keys)
        assert len(cache.rendered_keys()) == len(BASIC) + MANY  # the draft's body was rendered, then pruned
    finally:
        cache.close()
    with contextlib.closing(sqlite3.connect(site / ".briefing-cache/cache.sqlite")) as db:  # and its search words
        words = dict(db.execute("SELECT key, words FROM words"))
    assert words.keys() == set(keys) and not any("secretcanary" in w for w in words.values())
    assert not any(b"SECRETCANARY" in data for data in read_tree(out).values())
    assert build(site, output=out, drafts=True).ok  # a drafts build renders it again, from the file
    assert b"SECRETCANARY" in (out / "articles/held/index.html").read_bytes()


def test_listing_entries_are_made_while_linking_and_the_workers_always_stop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The documents' listing entries are rendered in workers started before the link step
    (build._run); a build that stops at the link step's errors stops them too."""
    import multiprocessing

    monkeypatch.setenv("BRIEFING_WORKERS", "2")
    site = write_site(tmp_path / "site", many_files())
    out = tmp_path / "out"
    result = build(site, output=out)
    assert result.ok and multiprocessing.active_children() == []
    listing = tree(out)["articles/index.html"].decode()
    assert listing.count('class="doc-item"') == MANY + 1  # every published article, once
    assert "SECRETCANARY" not in listing and "Held" not in listing
    (site / "content/articles/twin.md").write_text("---\ntitle: Twin\ndate: 2023-10-03\nslug: gen-007\n---\n")
    failed = build(site, output=out)
    assert any("slug `gen-007` is already used" in str(d) for d in failed.diagnostics.errors)
    assert multiprocessing.active_children() == []
    assert tree(out)["articles/index.html"].decode() == listing  # the previous site, untouched


def test_search_words_are_worked_out_after_loading_for_every_body_that_lacks_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The load workers store bodies without their search words; workers started after the
    load pass work them out (build._fill_words), also for rows a stopped build left without."""
    import multiprocessing

    from generator.engine.pipeline import search_words

    monkeypatch.setenv("BRIEFING_WORKERS", "2")
    site = write_site(tmp_path / "site", many_files())
    out = tmp_path / "out"
    assert build(site, output=out).ok and multiprocessing.active_children() == []
    first = tree(out)
    db_path = site / ".briefing-cache/cache.sqlite"
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        words = dict(db.execute("SELECT key, words FROM words"))
    cache = Cache(db_path)
    try:
        for rel in ("content/notes/assessment.md", "content/articles/gen-042.md"):
            body = load.read_body(site, rel)
            key = next(k for k in words if cache.html(k) == markdown.render(body).html)
            assert words[key] == search_words(markdown.render(body)) != ""
        assert len(words) == len(cache.rendered_keys()) == len(BASIC) + MANY
    finally:
        cache.close()
    with contextlib.closing(sqlite3.connect(db_path)) as db, db:
        db.execute("DELETE FROM words WHERE rowid % 3 = 0")  # as if a build had stopped before storing them
    fresh = tmp_path / "out-fresh"  # every page rendered again, the search index from the cached words
    assert build(site, output=fresh).ok
    assert tree(fresh) == first
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        assert dict(db.execute("SELECT key, words FROM words")) == words


def _split_by_definition(rel: str, data: bytes, diags: Diagnostics) -> load.SourceDoc | None:
    """load.parse_source as the plain split into lines that defines it."""
    text = data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        diags.error(rel, 1, "missing front-matter: the file must start with a line `---`")
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        diags.error(rel, 1, "front-matter is never closed: add a line `---` after it")
        return None
    try:
        mapping = load.load_mapping("\n".join(lines[1:end]), first_line=2)
    except load.YamlProblem as exc:
        diags.error(rel, exc.line, exc.message)
        return None
    meta = hashlib.sha256("\n".join(lines[: end + 1]).encode("utf-8", "surrogatepass")).hexdigest()
    return load.SourceDoc(rel, "notes", "x", mapping.data, mapping.key_lines, "\n".join(lines[end + 1 :]), end + 2,
                          hashlib.sha256(data).hexdigest(), meta)


def test_front_matter_is_split_as_by_splitting_the_file_into_lines() -> None:
    rng = random.Random(3)
    pieces = ["---", "--- ", "---\t", "...", "... ", "----", " ---", "---\x0c", "---\x85", "title: X", "date: 2023-10-18",
              "actors: [a, b]", "tags:\n  - a", "", "body *text*", "a: [1", "key: 'v'", "\u2028", "é: ü"]
    for _ in range(3000):
        lines = rng.choices(pieces, k=rng.randint(0, 9))
        if rng.random() < 0.7:
            lines.insert(0, "---")
        text = rng.choice(["\n", "\r\n", "\r"]).join(lines) + rng.choice(["", "\n", "\r\n"])
        data = (b"\xef\xbb\xbf" if rng.random() < 0.1 else b"") + text.encode("utf-8")
        mine, theirs = Diagnostics(), Diagnostics()
        assert load.parse_source("content/notes/x.md", "notes", "x", data, mine) == \
            _split_by_definition("content/notes/x.md", data, theirs), text
        assert mine.items == theirs.items, text


def test_the_state_is_saved_behind_the_build_and_the_next_build_starts_from_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With `save_behind` (the CLI's `build`), the warm state is written by a forked child while
    the caller goes on (its output check); once settled, the next build starts from it. A state
    that could not be written is not kept, and the caller hears why: the next build is a full
    one, and the same. A temporary file left by a killed build is cleared."""
    from generator.engine import warm

    monkeypatch.setenv("BRIEFING_WORKERS", "2")
    site = write_site(tmp_path / "site", many_files())
    old = time.time() - 10  # older than load.RACY_SECONDS: the saved stamps are trusted
    for path in (site / "content").rglob("*"):
        os.utime(path, (old, old))
    writers = tmp_path / "writers"
    real = warm._dump
    parent = os.getpid()

    def dump(value: object, handle) -> None:  # type: ignore[no-untyped-def]
        with open(writers, "a") as log:
            log.write(f"{os.getpid() == parent}\n")
        if os.environ.get("FAIL_SAVE"):
            raise OSError("disk full")
        real(value, handle)

    monkeypatch.setattr(warm, "_dump", dump)
    article = site / "content/articles/gen-007.md"
    for fail, heading in (("", "## Part seven"), ("1", "## Part seven, again")):
        monkeypatch.setenv("FAIL_SAVE", fail)
        writers.unlink(missing_ok=True)
        shutil.rmtree(site / ".briefing-cache", ignore_errors=True)  # a full build of every page, which saves the state
        (site / ".briefing-cache").mkdir()
        (site / ".briefing-cache/state.pickle.0123456789abcdef.tmp").write_bytes(b"left by a killed build")
        result = build(site, save_behind=True)
        assert result.ok and result.saving is not None
        failed = result.settle()
        assert (failed is None) == (not fail) and (not fail or "disk full" in failed)
        assert set(writers.read_text().splitlines()) == {"False"}  # by the child
        assert (site / ".briefing-cache" / warm.HEAD_FILE).exists() == (not fail)
        if not fail:
            assert not list((site / ".briefing-cache").glob("*.tmp"))
        text = article.read_text()
        article.write_text(text.replace(text.split("\n")[6], heading, 1))  # the body's heading
        result = build(site)
        assert result.ok and ("warm" in result.timings) == (not fail)  # from the saved state, if there is one
        assert tree(site / "_site") == tree_of_cold_build(site, tmp_path / f"cold{fail}")
        os.utime(article, (old, old))


def test_the_saved_state_keeps_the_entries_and_the_pieces_the_page_workers_made(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The listing entries and the pieces of the exports, which the page workers make as they go,
    go into the saved state: a warm build has them all and makes none again."""
    import pickle

    from generator.engine import warm
    from generator.pages import render

    monkeypatch.setenv("BRIEFING_WORKERS", "2")
    site = write_site(tmp_path / "site", many_files())
    old = time.time() - 10  # older than load.RACY_SECONDS: the saved stamps are trusted
    for path in (site / "content").rglob("*"):
        os.utime(path, (old, old))
    assert build(site).ok
    with open(site / ".briefing-cache" / warm.STATE_FILE, "rb") as handle:
        _, state, entries = pickle.load(handle)
        _, _, pieces = pickle.load(handle)
    published = {d.ref: d.meta_digest for d in state.site.documents.values()}
    assert len(published) > MANY
    kept = {key[:3] for key in {**entries, **pieces}}
    assert {(ref, digest, kind) for ref, digest in published.items()
            for kind in ("item", "page-item", "graph", "stix")} <= kept

    made: list[tuple] = []
    real_get = render.Fragments.get

    def get(self: render.Fragments, key: tuple, make):  # type: ignore[no-untyped-def]
        return real_get(self, key, lambda: made.append(key) or make())

    monkeypatch.setattr(render.Fragments, "get", get)
    monkeypatch.setenv("BRIEFING_WORKERS", "1")  # the pieces are made in this process, where `made` sees them
    article = site / "content/articles/gen-007.md"
    article.write_text(article.read_text().replace("title: Generated 7\n", "title: Generated 7\nsummary: Seven.\n"))
    result = build(site)
    assert result.ok and "warm" in result.timings
    assert made and {key[0] for key in made} == {("article", "gen-007")}  # only the edited document's


def tree_of_cold_build(site: Path, out: Path) -> dict[str, bytes]:
    assert build(site, output=out, use_cache=False).ok
    return tree(out)
