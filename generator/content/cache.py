"""What a build can reuse from the previous one, kept in `<site>/.briefing-cache/`.

One SQLite file (stdlib, safe against concurrent readers, crash-safe) holds
- sources:  front-matter of each Markdown file by (path, size, mtime), so an
            unchanged file is neither read nor parsed again;
- rendered: Markdown rendered to HTML by content key (see markdown.render);
- words:    the search words of each rendered body, by the same key;
- pages:    the fingerprint of every page's inputs and the digest of its bytes, per
            output folder, so a page whose inputs did not change is not rendered again;
- audit_*:  per output folder, what the last audit of its pages found and what each verdict
            depends on (generator/output/audit.py), so that the next one checks only the pages
            whose verdict may have changed;
- drawings: the SVG drawings of entity pages (graphs, maps) by a digest of what they are
            drawn from (see generator/pages/features.Drawings), those of the last build.
Every key includes the generator version, so an upgrade never serves stale HTML.
The cache is only an accelerator: deleting the folder is always safe.
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from generator import code_version
from generator.content.markdown import Rendered, WikiLink

SCHEMA = f"briefing-cache-8/{code_version()}"
_CHUNK = 500


class Cache:
    """A cache file, or an in-memory one when `path` is None (tests, `check`)."""

    def __init__(self, path: Path | None):
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            ignore = path.parent / ".gitignore"
            if not ignore.exists():  # like .pytest_cache: never shows up in `git status`
                ignore.write_text("# created by briefing: build caches, safe to delete\n*\n", encoding="utf-8")
        self._db = self._open()
        self._last_html: tuple[str, str] = ("", "")

    def _open(self) -> sqlite3.Connection:
        target = str(self.path) if self.path is not None else ":memory:"
        db = sqlite3.connect(target, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL" if self.path is not None else "PRAGMA journal_mode=MEMORY")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None or row[0] != SCHEMA:
            for table in ("sources", "rendered", "words", "pages", "drawings", "audit_meta", "audit_pages", "audit_links"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA,))
        db.execute("CREATE TABLE IF NOT EXISTS sources (rel TEXT PRIMARY KEY, stamp TEXT, data BLOB)")
        db.execute("CREATE TABLE IF NOT EXISTS rendered (key TEXT PRIMARY KEY, html TEXT, toc TEXT, links TEXT)")
        # apart: a build stores them after the rest of the row (see put_words), and an UPDATE would write the HTML again
        db.execute("CREATE TABLE IF NOT EXISTS words (key TEXT PRIMARY KEY, words TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS pages (output TEXT, path TEXT, fingerprint TEXT, digest TEXT, "
                   "PRIMARY KEY (output, path))")
        db.execute("CREATE TABLE IF NOT EXISTS drawings (key TEXT PRIMARY KEY, svg TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS audit_meta (output TEXT PRIMARY KEY, setting TEXT, common BLOB, existing BLOB)")
        db.execute("CREATE TABLE IF NOT EXISTS audit_pages (output TEXT, path TEXT, key TEXT, ids TEXT, record BLOB, "
                   "problems INTEGER, PRIMARY KEY (output, path))")
        db.execute("CREATE TABLE IF NOT EXISTS audit_links (output TEXT, kind TEXT, target TEXT, path TEXT)")
        db.execute("CREATE INDEX IF NOT EXISTS audit_links_target ON audit_links (output, kind, target)")
        db.execute("CREATE INDEX IF NOT EXISTS audit_links_path ON audit_links (output, path)")
        return db

    def reopen(self) -> None:
        """A fresh connection, for a forked worker process (connections must not cross a fork)."""
        self._db = self._open()

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------ sources
    def sources(self) -> dict[str, tuple[str, Any]]:
        rows = self._db.execute("SELECT rel, stamp, data FROM sources").fetchall()
        return {rel: (stamp, data) for rel, stamp, data in rows}

    def put_sources(self, items: Iterable[tuple[str, str, Any]], keep: Iterable[str]) -> None:
        """Store (rel, stamp, value) rows and forget every path not in `keep`."""
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO sources VALUES (?, ?, ?)",
                                 ((rel, stamp, self.dump_source(value)) for rel, stamp, value in items))
            keep_set = set(keep)
            stale = [r for (r,) in self._db.execute("SELECT rel FROM sources") if r not in keep_set]
            self._db.executemany("DELETE FROM sources WHERE rel = ?", ((r,) for r in stale))

    @staticmethod
    def load_source(data: bytes) -> Any:
        return pickle.loads(data)  # noqa: S301 - our own cache file in the user's site folder

    @staticmethod
    def dump_source(value: Any) -> bytes:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    # ----------------------------------------------------------------- rendered
    def rendered_links(self, keys: Iterable[str]) -> dict[str, tuple[WikiLink, ...]]:
        """The [[links]] of the rendered bodies with these keys (those the cache has)."""
        found: dict[str, tuple[WikiLink, ...]] = {}
        for chunk in _chunks(list(keys)):
            marks = ",".join("?" * len(chunk))
            for key, links in self._db.execute(f"SELECT key, links FROM rendered WHERE key IN ({marks})", chunk):
                found[key] = tuple(WikiLink(*w) for w in json.loads(links)) if links != "[]" else ()
        return found

    def rendered_keys(self) -> set[str]:
        """Every rendered body's key (a build checks its new bodies against them in the workers)."""
        return {key for (key,) in self._db.execute("SELECT key FROM rendered")}

    def html(self, key: str) -> str:
        last = self._last_html  # a page asks twice: `{% if body %}`, then `{{ body }}`
        if last[0] == key:
            return last[1]
        row = self._db.execute("SELECT html FROM rendered WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(f"rendered body {key} is not in the cache")
        self._last_html = (key, row[0])
        return row[0]

    def words(self, key: str) -> str:
        """The search words of a rendered body (see generator.pages.search)."""
        row = self._db.execute("SELECT words FROM words WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(f"the search words of rendered body {key} are not in the cache")
        return row[0]

    def keys_without_words(self) -> list[str]:
        """Keys of the rendered bodies stored without their search words (see put_rendered), sorted."""
        return [key for (key,) in self._db.execute(
            "SELECT key FROM rendered WHERE key NOT IN (SELECT key FROM words) ORDER BY key")]

    def bodies(self, keys: list[str]) -> Iterator[tuple[str, str, tuple[WikiLink, ...]]]:
        """(key, HTML, [[links]]) of the rendered bodies with these keys that the cache has."""
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            for key, html, links in self._db.execute(f"SELECT key, html, links FROM rendered WHERE key IN ({marks})", chunk):
                yield key, html, tuple(WikiLink(*w) for w in json.loads(links)) if links != "[]" else ()

    def put_words(self, rows: Iterable[tuple[str, str]]) -> None:
        """Store the search words of rendered bodies: (key, words) rows."""
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO words VALUES (?, ?)", rows)

    def prune_words(self) -> None:
        """Forget the words of bodies no longer kept (pruned while their words were worked out)."""
        with self._transaction():
            self._db.execute("DELETE FROM words WHERE key NOT IN (SELECT key FROM rendered)")

    def put_loaded(self, rendered: list[tuple[str, Rendered, str | None]], sources: list[tuple[str, str, bytes]]
                   ) -> None:
        """What a load worker read: put_rendered's rows, and (rel, stamp, pickled value) rows of
        sources (see put_sources, which also forgets the files that are gone), in one transaction."""
        with self._transaction():
            self._put_rendered(rendered)
            self._db.executemany("INSERT OR REPLACE INTO sources VALUES (?, ?, ?)", sources)

    def put_rendered(self, items: Iterable[tuple[str, Rendered, str | None]]) -> None:
        """Store (key, rendered body, its search words) rows; words None: worked out later (put_words)."""
        with self._transaction():
            self._put_rendered(list(items))

    def _put_rendered(self, rows: list[tuple[str, Rendered, str | None]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO rendered VALUES (?, ?, ?, ?)",
            ((key, r.html, json.dumps([list(h.__dict__.values()) for h in r.toc]),
              json.dumps([list(w.__dict__.values()) for w in r.links])) for key, r, _ in rows),
        )
        self._db.executemany("INSERT OR REPLACE INTO words VALUES (?, ?)",
                             ((key, words) for key, _, words in rows if words is not None))

    def prune_rendered(self, keep: Iterable[str]) -> None:
        keep_set = set(keep)
        stale = [k for (k,) in self._db.execute("SELECT key FROM rendered") if k not in keep_set]
        if stale:
            self._last_html = ("", "")
            with self._transaction():
                self._db.executemany("DELETE FROM rendered WHERE key = ?", ((k,) for k in stale))
                self._db.executemany("DELETE FROM words WHERE key = ?", ((k,) for k in stale))

    # -------------------------------------------------------------------- pages
    # Kept per output folder: the preview server's folder (another base URL, so other
    # fingerprints) must not make the next `briefing build` render every page again.
    def pages(self, output: str) -> dict[str, tuple[str, str]]:
        rows = self._db.execute("SELECT path, fingerprint, digest FROM pages WHERE output = ?", (output,))
        return {p: (f, d) for p, f, d in rows}

    def replace_pages(self, output: str, pages: Mapping[str, tuple[str, str]]) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM pages WHERE output = ?", (output,))
            self._db.executemany("INSERT INTO pages VALUES (?, ?, ?, ?)",
                                 ((output, p, f, d) for p, (f, d) in pages.items()))

    def update_pages(self, output: str, pages: Mapping[str, tuple[str, str]]) -> None:
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?)",
                                 ((output, p, f, d) for p, (f, d) in pages.items()))

    # ----------------------------------------------------------------- drawings
    def drawing(self, key: str) -> str | None:
        row = self._db.execute("SELECT svg FROM drawings WHERE key = ?", (key,)).fetchone()
        return row[0] if row is not None else None

    def replace_drawings(self, new: Mapping[str, str], keep: Iterable[str]) -> None:
        """Store the drawings made by this build and forget those it did not use."""
        keep_set = set(keep)
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO drawings VALUES (?, ?)", new.items())
            stale = [k for (k,) in self._db.execute("SELECT key FROM drawings") if k not in keep_set]
            self._db.executemany("DELETE FROM drawings WHERE key = ?", ((k,) for k in stale))

    # ------------------------------------------------------------------- audits
    # Per output folder (see generator/output/audit.py): each page's key and record (bytes the
    # audit makes), the ids it defines, which files and #anchors of other pages its verdict
    # depends on (links: kind "f" for a file, "a" for a page's ids; the targets every page has
    # are kept once, as `common`), and the setting and files of the last audit.
    def audit_meta(self, output: str) -> tuple[str, bytes, bytes] | None:
        """(setting, common targets, the files the site had), as audit_replace stored them."""
        row = self._db.execute("SELECT setting, common, existing FROM audit_meta WHERE output = ?", (output,)).fetchone()
        return (row[0], row[1], row[2]) if row is not None else None

    def audit_keys(self, output: str) -> dict[str, str]:
        return dict(self._db.execute("SELECT path, key FROM audit_pages WHERE output = ?", (output,)))

    def audit_ids(self, output: str, paths: Iterable[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(list(paths)):
            marks = ",".join("?" * len(chunk))
            found.update(self._db.execute(f"SELECT path, ids FROM audit_pages WHERE output = ? AND path IN ({marks})",
                                          (output, *chunk)))
        return found

    def audit_linking(self, output: str, kind: str, targets: Iterable[str]) -> set[str]:
        """The pages whose verdict depends on one of these targets."""
        found: set[str] = set()
        for chunk in _chunks(list(targets)):
            marks = ",".join("?" * len(chunk))
            found.update(path for (path,) in self._db.execute(
                f"SELECT DISTINCT path FROM audit_links WHERE output = ? AND kind = ? AND target IN ({marks})",
                (output, kind, *chunk)))
        return found

    def audit_with_problems(self, output: str) -> dict[str, bytes]:
        return dict(self._db.execute("SELECT path, record FROM audit_pages WHERE output = ? AND problems = 1", (output,)))

    def audit_replace(self, output: str, setting: str, common: bytes, existing: bytes, full: bool,
                      removed: Iterable[str], pages: Mapping[str, tuple[str, str, bytes, bool, Iterable[str], Iterable[str]]]
                      ) -> None:
        """Store an audit: `pages` maps a path to (key, ids, record, has problems, file targets, anchor
        targets); `full`: these are all the pages (the rest is forgotten), else `removed` are gone."""
        with self._transaction():
            if full:
                self._db.execute("DELETE FROM audit_pages WHERE output = ?", (output,))
                self._db.execute("DELETE FROM audit_links WHERE output = ?", (output,))
            else:
                gone = [*removed, *pages]
                self._db.executemany("DELETE FROM audit_pages WHERE output = ? AND path = ?", ((output, p) for p in gone))
                self._db.executemany("DELETE FROM audit_links WHERE output = ? AND path = ?", ((output, p) for p in removed))
            self._db.executemany("INSERT INTO audit_pages VALUES (?, ?, ?, ?, ?, ?)",
                                 ((output, path, key, ids, record, int(bad))
                                  for path, (key, ids, record, bad, _, _) in pages.items()))
            added: list[tuple[str, str, str, str]] = []
            dropped: list[tuple[int]] = []
            for path, (_, _, _, _, files, anchors) in pages.items():
                wanted = {("f", target) for target in files} | {("a", target) for target in anchors}
                if not full:  # only the rows that differ change (a sitemap links to every page: 27,000 rows)
                    for rowid, kind, target in self._db.execute(
                            "SELECT rowid, kind, target FROM audit_links WHERE output = ? AND path = ?", (output, path)):
                        if (kind, target) in wanted:
                            wanted.discard((kind, target))  # (so that a row twice goes once)
                        else:
                            dropped.append((rowid,))
                added.extend((output, kind, target, path) for kind, target in wanted)
            self._db.executemany("DELETE FROM audit_links WHERE rowid = ?", dropped)
            self._db.executemany("INSERT INTO audit_links VALUES (?, ?, ?, ?)", added)
            self._db.execute("INSERT OR REPLACE INTO audit_meta VALUES (?, ?, ?, ?)", (output, setting, common, existing))

    # ------------------------------------------------------------------ helpers
    def _transaction(self) -> "_Tx":
        return _Tx(self._db)


class _Tx:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(self, kind, value, tb) -> None:  # type: ignore[no-untyped-def]
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def stamp_of(stat: os.stat_result) -> str:
    """What must stay equal for a file to count as unchanged without reading it."""
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"
