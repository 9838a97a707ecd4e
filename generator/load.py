"""content/ -> SourceDoc: raw front-matter (with key lines) and body, per file.

Nothing here knows what the keys mean; that is :mod:`generator.schema`'s job.
Files that are not Markdown are collected as assets, copied verbatim.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.cache import Cache, stamp_of
from generator.diagnostics import Diagnostics
from generator.yamltext import YamlProblem, load_mapping

SECTIONS = ("articles", "notes", "actors", "places")
MAX_BYTES = 5 * 1024 * 1024  # a Markdown document larger than this is a mistake


@dataclass(frozen=True)
class SourceDoc:
    rel: str  # path relative to the site folder, e.g. "content/notes/x.md"
    section: str  # one of SECTIONS
    stem: str  # file name without .md
    meta: dict[str, Any]
    key_lines: dict[str, int]
    body: str | None  # None when the front-matter came from the cache (see read_body)
    body_line: int  # line of the file on which the body starts
    digest: str  # sha256 of the file's bytes
    meta_digest: str = ""  # sha256 of the front-matter alone: what listings of the document show

    def line(self, key: str) -> int:
        return self.key_lines.get(key, 1)


@dataclass(frozen=True)
class Asset:
    rel: str  # relative to the site folder
    dest: str  # output path relative to the output folder
    source: Path


@dataclass(frozen=True)
class Loaded:
    docs: tuple[SourceDoc, ...]
    assets: tuple[Asset, ...]
    failed: tuple[str, ...] = ()  # Markdown files that could not be read or split


# A file modified this recently may be modified again within the file system's
# timestamp granularity without its stamp changing ("racy git"): never cache it.
RACY_SECONDS = 2.0


def load_content(root: Path, diags: Diagnostics, cache: Cache | None = None) -> Loaded:
    """Read every file below root/content, sorted by path for determinism.

    With a cache, a file whose size, mtime and inode are unchanged is not read:
    its front-matter comes from the cache and its body is read only if needed.
    """
    content = root / "content"
    if not content.is_dir():
        diags.error("content", 0, "no content/ folder in the site (is --site right?)")
        return Loaded((), (), ())
    docs: list[SourceDoc] = []
    assets: list[Asset] = []
    failed: list[str] = []
    known = cache.sources() if cache is not None else {}
    fresh: list[tuple[str, str, SourceDoc]] = []
    seen: list[str] = []
    now = time.time()
    for path in _walk(content):
        rel_content = path.relative_to(content).as_posix()
        rel = f"content/{rel_content}"
        section = rel_content.split("/", 1)[0]
        if path.suffix.lower() not in (".md", ".markdown"):
            assets.append(Asset(rel, rel_content, path))
            continue
        if section not in SECTIONS or "/" not in rel_content:
            diags.warning(rel, 0, f"ignored: Markdown files belong in content/{{{','.join(SECTIONS)}}}/")
            continue
        try:
            stat = path.stat()
            stamp = stamp_of(stat)
            if rel in known and known[rel][0] == stamp:
                docs.append(Cache.load_source(known[rel][1]))
                seen.append(rel)
                continue
            data = path.read_bytes()
        except OSError as exc:
            diags.error(rel, 0, f"cannot read: {exc.strerror}")
            failed.append(rel)
            continue
        doc = parse_source(rel, section, path.stem, data, diags)
        if doc is not None:
            docs.append(doc)
            if now - stat.st_mtime > RACY_SECONDS:
                fresh.append((rel, stamp, dataclasses.replace(doc, body=None)))
                seen.append(rel)
        else:
            failed.append(rel)
    if cache is not None:
        cache.put_sources(fresh, keep=seen)
    return Loaded(tuple(docs), tuple(assets), tuple(failed))


def read_body(root: Path, rel: str) -> str:
    """The body of a document whose front-matter came from the cache."""
    data = (root / rel).read_bytes()
    fresh = parse_source(rel, "", "", data, Diagnostics())
    return fresh.body if fresh is not None and fresh.body is not None else ""


def _walk(top: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(top):
        # hidden folders and editor droppings are never content
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith(".") or name.endswith(("~", ".swp", ".swx", ".tmp")) or name.startswith("#"):
                continue
            found.append(Path(dirpath) / name)
    return sorted(found)


def parse_source(rel: str, section: str, stem: str, data: bytes, diags: Diagnostics) -> SourceDoc | None:
    """Split one file into front-matter and body; report and return None when it cannot be."""
    if len(data) > MAX_BYTES:
        diags.error(rel, 0, f"file is {len(data) // 1024} KiB; documents are limited to {MAX_BYTES // 1024} KiB")
        return None
    if b"\x00" in data:
        diags.error(rel, 0, "binary file (contains NUL bytes), not Markdown text")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        diags.error(rel, line, f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x}); save the file as UTF-8")
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        diags.error(rel, 1, "missing front-matter: the file must start with a line `---`")
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "..."))
    except StopIteration:
        diags.error(rel, 1, "front-matter is never closed: add a line `---` after it")
        return None
    try:
        mapping = load_mapping("\n".join(lines[1:end]), first_line=2)
    except YamlProblem as exc:
        diags.error(rel, exc.line, exc.message)
        return None
    body = "\n".join(lines[end + 1 :])
    digest = hashlib.sha256(data).hexdigest()
    meta_digest = hashlib.sha256("\n".join(lines[: end + 1]).encode("utf-8", "surrogatepass")).hexdigest()
    return SourceDoc(rel, section, stem, mapping.data, mapping.key_lines, body, end + 2, digest, meta_digest)
