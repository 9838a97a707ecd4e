"""content/ -> SourceDoc: raw front-matter (with key lines) and body, per file.

Nothing here knows what the keys mean; that is :mod:`generator.content.schema`'s job.
Files that are not Markdown are collected as assets, copied verbatim.
Changed files are read and parsed on every core, where their bodies are also
rendered (by the caller's `render_body`): only front-matter comes back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import unquote

from generator import parallel
from generator.content.cache import Cache, stamp_of
from generator.diagnostics import Diagnostic, Diagnostics
from generator.content import estimative
from generator.content.estimative import Finding
from generator.content.markdown import Rendered
from generator.progress import Progress
from generator.content.yamltext import YamlProblem, load_mapping

SECTIONS = ("articles", "notes", "actors", "places")
DOCUMENT_SECTIONS = ("articles", "notes")  # only Markdown documents are published from these
# Editor backups, lock and swap files: never content, wherever they are (a copy of a
# restricted note must not be published beside it).
_DROPPINGS_SUFFIXES = ("~", ".bak", ".orig", ".rej", ".swp", ".swo", ".swx", ".tmp", ".part", ".crdownload")
MAX_BYTES = 5 * 1024 * 1024  # a Markdown document larger than this is a mistake


@dataclass(frozen=True)
class SourceDoc:
    rel: str  # path relative to the site folder, e.g. "content/notes/x.md"
    section: str  # one of SECTIONS
    stem: str  # file name without .md
    meta: dict[str, Any]
    key_lines: dict[str, int]
    body: str | None  # None in what load_content returns: bodies stay on disk (see read_body)
    body_line: int  # line of the file on which the body starts
    digest: str  # sha256 of the file's bytes
    meta_digest: str = ""  # sha256 of the front-matter alone: what listings of the document show
    refs: tuple[str, ...] = ()  # local files the body points at (see local_refs): which assets it uses
    estimative: tuple[Finding, ...] = ()  # a note's likelihood language (see estimative.py), reported per scale

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
    # rel -> stamp of every file below content/ as the load found it ("" when too fresh to
    # trust: it may change again unseen, see RACY_SECONDS); what a saved state compares with
    stamps: dict[str, str] = field(default_factory=dict)


# A file modified this recently may be modified again within the file system's
# timestamp granularity without its stamp changing ("racy git"): never cache it.
RACY_SECONDS = 2.0
_CHUNK = 32  # files a worker parses, and whose rendered bodies it stores, at a time

RenderBody = Callable[[SourceDoc], tuple[str, Rendered, str | None] | None]
"""Given a freshly parsed document (body included): its (key, rendered body, search words or
None) row for the cache, or None when the cache has it already. See load_content."""


@dataclass(frozen=True)
class _Job:
    """A Markdown file to read and parse: not in the cache, or its stamp did not match."""

    rel: str
    section: str
    path: str


@dataclass(frozen=True)
class _Parsed:
    """A file's outcome: the document without its body (None if it failed), its problems, its row,
    and the stamp and modification time of the file as it was read (from the open file)."""

    rel: str
    doc: SourceDoc | None
    problems: tuple[Diagnostic, ...]
    row: tuple[str, Rendered, str | None] | None = None
    stamp: str = ""
    mtime: float = 0.0
    pickled: bytes | None = None  # the document, pickled, in place of `doc` (see _parse_chunk)

    def document(self) -> SourceDoc | None:
        return self.doc if self.pickled is None else Cache.load_source(self.pickled)


def load_content(root: Path, diags: Diagnostics, cache: Cache | None = None,
                 render_body: RenderBody | None = None, progress: Progress | None = None) -> Loaded:
    """Read every file below root/content, sorted by path for determinism.

    With a cache, a file whose size, mtime and inode are unchanged is not read:
    its front-matter comes from the cache. The other Markdown files are read and
    parsed in the worker pool (generator/parallel.py), where `render_body`, if
    given, also renders each body while it is at hand; the workers store the rows
    it returns in the cache's rendered table themselves (one transaction per chunk
    of files), so bodies never reach this process either way: every returned
    document has body=None (read_body reads one again). Problems are reported
    in path order, as if the files had been parsed one by one here.
    """
    content = root / "content"
    if not content.is_dir():
        diags.error("content", 0, "no content/ folder in the site (is --site right?)")
        return Loaded((), (), ())
    known = cache.sources() if cache is not None else {}
    now = time.time()
    steps = [_step(content, rel, known) for rel in content_files(content)]
    jobs = [step for step in steps if isinstance(step, _Job)]
    docs: list[SourceDoc] = []
    assets: list[Asset] = []
    failed: list[str] = []
    fresh: list[tuple[str, str, SourceDoc]] = []
    seen: list[str] = []
    rows: list[tuple[str, Rendered, str | None]] = []  # only from an in-memory cache's workers (see _parse_chunk)
    done = 0
    parse = functools.partial(_parse_chunk, render_body=render_body, cache=cache, now=now)
    chunks = [jobs[i : i + _CHUNK] for i in range(0, len(jobs), _CHUNK)]
    few = len(jobs) < parallel.INLINE_BELOW  # then parsed here: a fork costs more than a few files
    reopen = cache.reopen if cache is not None else None
    outcomes = (outcome for chunk in parallel.ordered_map(parse, chunks, processes=1 if few else None,
                                                          initializer=reopen, chunksize=1, inline_below=0)
                for outcome in chunk)
    stamps: dict[str, str] = {}
    with contextlib.closing(outcomes) as parsed:
        for step in steps:  # in path order, as the files were found
            if isinstance(step, Asset):
                assets.append(step)
                stamps[step.rel] = _stamp(os.fspath(step.source), now)
            elif isinstance(step, Diagnostic):
                diags.extend([step])
                stamps[step.path] = _stamp(os.path.join(root, step.path), now)
            elif isinstance(step, SourceDoc):  # unchanged: from the cache, which holds only trusted stamps
                docs.append(step)
                seen.append(step.rel)
                stamps[step.rel] = known[step.rel][0]
            elif isinstance(step, _Parsed):  # could not even stat it
                diags.extend(step.problems)
                failed.append(step.rel)
            else:
                outcome = next(parsed)  # this job's: results come in job order
                done += 1
                if progress is not None:
                    progress("reading Markdown", done, len(jobs))
                diags.extend(outcome.problems)
                doc = outcome.document()
                if doc is None:
                    failed.append(step.rel)
                    stamps[step.rel] = _stamp(step.path, now)
                    continue
                docs.append(doc)
                trusted = _trusted(outcome.mtime, now)
                stamps[step.rel] = outcome.stamp if trusted else ""
                if trusted:
                    seen.append(step.rel)
                    if outcome.pickled is None:  # (else the worker stored it)
                        fresh.append((step.rel, outcome.stamp, doc))
                if outcome.row is not None:
                    rows.append(outcome.row)
    if cache is not None:
        cache.put_rendered(rows)
        cache.put_sources(fresh, keep=seen)
    return Loaded(tuple(docs), tuple(assets), tuple(failed), stamps)


def _stamp(path: str, now: float) -> str:
    """The stamp of a file the load did not open ("" when too fresh to trust, or gone)."""
    try:
        stat = os.stat(path)
    except OSError:
        return ""
    return "" if stat.st_mtime > now - RACY_SECONDS else stamp_of(stat)


def _step(content: Path, rel_content: str,
          known: dict[str, tuple[str, Any]]) -> Asset | Diagnostic | SourceDoc | _Job | _Parsed:
    """What to do with one file (`rel_content`: its path below content/), decided with a stat
    at most: copy it, warn about it, take it from the cache, or parse it in a worker (a file
    the cache knows that cannot be stat'ed is already an outcome)."""
    rel = f"content/{rel_content}"
    section, _, rest = rel_content.partition("/")
    if os.path.splitext(rel_content)[1].lower() not in (".md", ".markdown"):
        if section in DOCUMENT_SECTIONS and rest:
            return Diagnostic(rel, 0, "error", f"not a document: only Markdown files belong in content/{section}/, "
                                               "and nothing else is published from there; put attachments in an "
                                               "assets folder such as content/files/ (or delete the file)")
        return Asset(rel, rel_content, content / rel_content)
    if section not in SECTIONS or not rest:
        return Diagnostic(rel, 0, "warning", f"ignored: Markdown files belong in content/{{{','.join(SECTIONS)}}}/")
    path = os.path.join(content, rel_content)
    if rel not in known:  # (a first build): the worker takes the stamp of the file it reads
        return _Job(rel, section, path)
    try:
        stat = os.stat(path)
    except OSError as exc:
        return _Parsed(rel, None, (Diagnostic(rel, 0, "error", f"cannot read: {exc.strerror}"),))
    if known[rel][0] == stamp_of(stat):
        return Cache.load_source(known[rel][1])
    return _Job(rel, section, path)


def _parse_chunk(jobs: list[_Job], render_body: RenderBody | None, cache: Cache | None, now: float = 0.0
                 ) -> list[_Parsed]:
    """Parse a few files (in a worker) and store their rendered bodies and their front-matter
    (where its stamp can be trusted at `now`) in the cache from there, in one transaction: only
    the front-matter travels back to the main process, pickled once for both.
    (An in-memory cache cannot be shared: its rows travel back and the caller stores them.)
    Each step is taken for every file of the chunk before the next (front-matter, then bodies):
    it keeps its code and data in the processor's caches, 5% faster than file by file."""
    fronts = [_parse_job(job) for job in jobs]
    parsed = [p if doc is None or render_body is None else
              _Parsed(p.rel, p.doc, p.problems, render_body(doc), p.stamp, p.mtime) for p, doc in fronts]
    if cache is None or cache.path is None:
        return parsed
    out = [dataclasses.replace(p, doc=None, row=None, pickled=Cache.dump_source(p.doc)) if p.doc is not None else p
           for p in parsed]
    cache.put_loaded([p.row for p in parsed if p.row is not None],
                     [(p.rel, p.stamp, p.pickled) for p in out if p.pickled is not None and _trusted(p.mtime, now)])
    return out


def _trusted(mtime: float, now: float) -> bool:
    """Whether a file modified at `mtime` can be known by its stamp (see RACY_SECONDS)."""
    return now - mtime > RACY_SECONDS


def _parse_job(job: _Job) -> tuple[_Parsed, SourceDoc | None]:
    """Read, split and parse one file: its outcome (without a body), and the document with its body."""
    problems = Diagnostics()
    try:
        data, stat = read_file(job.path)
    except OSError as exc:
        problems.error(job.rel, 0, f"cannot read: {exc.strerror}")
        return _Parsed(job.rel, None, tuple(problems.items)), None
    stem = os.path.splitext(os.path.basename(job.path))[0]
    doc = parse_source(job.rel, job.section, stem, data, problems)
    if doc is None:
        return _Parsed(job.rel, None, tuple(problems.items)), None
    return _Parsed(job.rel, dataclasses.replace(doc, body=None), tuple(problems.items), None,
                   stamp_of(stat), stat.st_mtime), doc


def read_file(path: str) -> tuple[bytes, os.stat_result]:
    """A file's bytes, and its stat from the same open file."""
    with open(path, "rb") as handle:
        return handle.read(), os.fstat(handle.fileno())


def read_body(root: Path, rel: str) -> str:
    """The body of a document load_content returned (it keeps none in memory)."""
    data = (root / rel).read_bytes()
    fresh = parse_source(rel, "", "", data, Diagnostics())
    return fresh.body if fresh is not None and fresh.body is not None else ""


def content_files(top: Path) -> list[str]:
    """Every content file below `top`, as a "/"-separated path relative to it, in the order of
    sorted Path objects (component by component: `a/x` before `a-b/x`)."""
    start = len(os.fspath(top)) + 1
    found = [f"{dirpath[start:]}/{name}" if len(dirpath) >= start else name for dirpath, name in walk_names(top)]
    if os.sep != "/":  # pragma: no cover - not on POSIX
        found = [rel.replace(os.sep, "/") for rel in found]
    return sorted(found, key=lambda rel: rel.split("/"))


def walk_names(top: Path) -> Iterator[tuple[str, str]]:
    """(folder, file name) of every content file below `top`, unsorted: hidden files and
    folders and editor droppings (see is_dropping) are never content."""
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not is_dropping(name):
                yield dirpath, name


def is_dropping(name: str) -> bool:
    """A hidden file, an editor's backup, lock or swap file (`x.md~`, `x.md.bak`, `x.md.orig`,
    `.x.md.swp`, `#x.md#`, `.#x.md`, `x.tmp`): not content, never published."""
    return name.startswith((".", "#")) or name.lower().endswith(_DROPPINGS_SUFFIXES)


# Where a body points: Markdown links and images, reference definitions, and HTML attributes.
_REF = re.compile(
    r"\]\(\s*<?([^)\s>]+)"  # [text](target) and ![alt](target)
    r"|^[ ]{0,3}\[[^\]\n]+\]:[ \t]*<?([^\s>]+)"  # [label]: target
    r"|\b(?:src|href|poster|data)\s*=\s*[\"']?([^\"'\s>]+)",  # <img src=...> in raw HTML
    re.M | re.I,
)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")


def local_refs(body: str) -> tuple[str, ...]:
    """The local files a body points at, as paths without a leading `/`, `./` or `../` and
    without query or fragment (`/images/a%20b.svg?x#y` -> `images/a b.svg`), sorted, once each.
    Whether one is a given asset is decided by suffix (see generator/site/assets.py)."""
    if "](" not in body and "]:" not in body and "=" not in body:
        return ()
    found = set()
    for match in _REF.finditer(body):
        target = match.group(1) or match.group(2) or match.group(3)
        if not target or _SCHEME.match(target):
            continue
        path = unquote(target.split("#", 1)[0].split("?", 1)[0])
        parts = [p for p in path.split("/") if p not in ("", ".", "..")]
        if parts:
            found.add("/".join(parts))
    return tuple(sorted(found))


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
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Lines are found one by one up to the closing `---`: the body is not split and joined again.
    first_end = text.find("\n")
    if (text if first_end < 0 else text[:first_end]).rstrip() != "---":
        diags.error(rel, 1, "missing front-matter: the file must start with a line `---`")
        return None
    start, end, stop = first_end + 1, 1, first_end  # the line looked at: its start, index, and end
    while stop >= 0:
        stop = text.find("\n", start)
        if (text[start:] if stop < 0 else text[start:stop]).rstrip() in ("---", "..."):
            break
        start, end = stop + 1, end + 1
    else:
        diags.error(rel, 1, "front-matter is never closed: add a line `---` after it")
        return None
    try:
        mapping = load_mapping(text[first_end + 1 : start - 1], first_line=2)
    except YamlProblem as exc:
        diags.error(rel, exc.line, exc.message)
        return None
    body = text[stop + 1 :] if stop >= 0 else ""
    digest = hashlib.sha256(data).hexdigest()
    meta_digest = hashlib.sha256(text[: stop if stop >= 0 else len(text)].encode("utf-8", "surrogatepass")).hexdigest()
    return SourceDoc(rel, section, stem, mapping.data, mapping.key_lines, body, end + 2, digest, meta_digest,
                     local_refs(body), estimative.scan(body, end + 2) if section == "notes" else ())
