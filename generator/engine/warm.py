"""Warm builds: `briefing build` after a small edit costs what changed, not what the site holds.

A full build leaves its pipeline state on disk (`.briefing-cache/state.pickle`):
the model, every planned page, which pages show which document, with what it
was made from: a digest of the generator, configuration and templates (the
build's salt), the stamp of every file under content/, and the digest of the
output manifest it wrote. The next build checks all of that first. When the
only changes are edits to published documents that the preview server's fast
path accepts (generator/engine/live.py: same tags, date, status, [[links]], a title
that keeps its place), it updates the model in place, renders just the pages
that show the edited documents, on every core, hard-links every other file from
the previous output, and swaps the new output in like any build. Anything else,
or any doubt (a file added or removed, a profile, a template, an asset, a
warning about the edited file, an output changed by someone else), takes the
full build. The state file is only an accelerator: deleting it is always safe.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Mapping

from generator import parallel
from generator.engine import live
from generator.pages import render
from generator.engine.pipeline import (BuildResult, BuildState, LazyPages, compiled_templates, copies_of, file_size,
                                       render_page, salt_of, search_words)
from generator.content.cache import Cache, stamp_of
from generator.content.config import SiteConfig
from generator.diagnostics import Diagnostic
from generator.content.markdown import Rendered, WikiLink
from generator.content.model import Document
from generator.content.load import RACY_SECONDS, walk_names
from generator.site.urls import Urls, output_file
from generator.policy import BuildPolicy
from generator.output.write import OutputError, OutputTree, WriteResult, file_digest, manifest_digest, read_manifest

STATE_FILE = "state.pickle"  # (token, state, listing entries) then (fingerprints, index, {}): large, from full builds
HEAD_FILE = "state.head"  # _Header: small, rewritten by every warm build
JOURNAL_LIMIT = 200  # edits replayed onto the saved state before it is saved afresh


@dataclass
class _Header:
    """Read before the state itself, to reject a stale one cheaply."""

    token: str  # names the state file this header belongs to
    salt: str
    drafts: bool
    manifest: str  # digest of the output's manifest when this was saved
    stamps: dict[str, str]  # rel -> stamp of every file below content/ ("" when it was too fresh to trust)
    static: dict[str, str]  # theme and layout static files: output rel -> digest
    warnings: tuple[Diagnostic, ...]  # re-reported by every warm build, as a full build would
    journal: list[tuple[Document, str, tuple[WikiLink, ...]]] = field(default_factory=list)  # edits since


def save(config: SiteConfig, drafts: bool, state: BuildState, warnings: tuple[Diagnostic, ...],
         started: float, index: live.Index | None = None, shown: Mapping[str, render.Seen] | None = None,
         stamps: dict[str, str] | None = None) -> str | None:
    """Keep a full build's state for the next build (files touched since `started` are not trusted);
    `shown`: what pages show, where the build already knows (see live.Index); `stamps`: the
    content files' as the build read them (load.Loaded.stamps), else they are taken now.
    The state file is written under a temporary name and renamed; the header, which names
    it, last: a build that reads the header finds the state it names or none. Returns None, or
    what went wrong (no state is kept then: the next build is a full one)."""
    token = os.urandom(8).hex()
    path = config.cache_dir / STATE_FILE
    temp = path.with_name(f"{path.name}.{token}.tmp")
    items = render.fragments_of(state.env).keep(state.site.documents.values())
    try:
        with open(temp, "wb") as handle:
            _dump((token, dataclasses.replace(state, prints={}), items), handle)
            _dump((state.prints, index or live.Index(state, shown), {}), handle)
        os.replace(temp, path)
        for stale in path.parent.glob(f"{STATE_FILE}.*.tmp"):  # left by a build that was killed
            stale.unlink(missing_ok=True)
        _atomic(config.cache_dir / HEAD_FILE, _Header(token, state.salt, drafts, _manifest_digest(config),
                                                      _stamps(config.root, started) if stamps is None else stamps,
                                                      _static(config), warnings))
    except OSError as exc:
        temp.unlink(missing_ok=True)
        forget(config)
        return str(exc)
    return None


def _dump(value: object, handle: BinaryIO) -> None:
    pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)


def forget(config: SiteConfig) -> None:
    (config.cache_dir / HEAD_FILE).unlink(missing_ok=True)
    (config.cache_dir / STATE_FILE).unlink(missing_ok=True)


def build(config: SiteConfig, cache: Cache, drafts: bool, result: BuildResult, policy: BuildPolicy) -> bool:
    """Build from the saved state when only documents' listing fields or bodies changed.

    Returns False (having written nothing) when the full build is needed.
    """
    started, wall = time.perf_counter(), time.time()
    found = _load(config, cache, drafts, wall, policy)
    if found is None:
        return False
    header, state, index, stamps = found
    # a file without a stamp was too fresh to trust: always look at it again
    changed = sorted(rel for rel, stamp in stamps.items() if header.stamps[rel] != stamp or not stamp)
    if any(Path(rel).suffix.lower() not in (".md", ".markdown") for rel in changed):
        return False  # an asset
    if any(d.path in changed for d in header.warnings):
        return False  # its warnings may change: let the full build say
    edits = live.find_edits(state, index, config.root, [config.root / rel for rel in changed])
    if edits is None:
        return False
    if edits:
        cache.put_rendered((e.key, e.rendered, search_words(e.rendered)) for e in edits if e.rendered)
        state, first, rest = live.apply(state, index, edits)
        try:
            if not _write(config, state, [state.pages[i] for i in first + rest], cache, result):
                return False
        except OutputError as exc:
            result.diagnostics.error(str(config.output_dir), 0, str(exc))
            return True
    else:  # nothing to do: write nothing
        result.written = WriteResult(len(read_manifest(config.output_dir)), 0, 0, swapped=False)
    result.site = state.site
    result.pages = LazyPages(config.output_dir, [p.path for p in state.pages])
    result.diagnostics.extend(header.warnings)
    result.timings["warm"] = time.perf_counter() - started
    if result.ok and (edits or stamps != header.stamps):
        header.journal += [(e.new, e.key, e.rendered.links if e.rendered else e.body.links) for e in edits]
        header.stamps, header.manifest = stamps, _manifest_digest(config)
        if len(header.journal) > JOURNAL_LIMIT:
            save(config, drafts, state, header.warnings, wall, index, stamps=stamps)
        else:
            _atomic(config.cache_dir / HEAD_FILE, header)
    return True


def _unpickle(handle: BinaryIO, policy: BuildPolicy) -> Any:
    """The state, unpickled as one bulk of long-lived objects (see generator/policy.py)."""
    with policy.bulk():
        return pickle.load(handle)  # noqa: S301 - our own cache file in the user's site folder


def _load(config: SiteConfig, cache: Cache, drafts: bool, wall: float, policy: BuildPolicy
          ) -> tuple[_Header, BuildState, live.Index, dict[str, str]] | None:
    """The saved state, if it is this build's, with the journal replayed; and the stamps of the content files now."""
    try:
        with open(config.cache_dir / HEAD_FILE, "rb") as handle:
            header = pickle.load(handle)  # noqa: S301 - our own cache file in the user's site folder
        if not isinstance(header, _Header) or header.drafts != drafts or header.manifest != _manifest_digest(config):
            return None
        if header.static != _static(config):
            return None
        urls = Urls(config.base_url)  # this build's one Urls (the saved state's was its build's)
        env = render.environment(config, urls, compiled_templates(cache))
        if salt_of(config, env) != header.salt:
            return None
        stamps = _stamps(config.root, wall)
        if stamps.keys() != header.stamps.keys():
            return None  # a file added or removed
        with open(config.cache_dir / STATE_FILE, "rb") as handle:
            token, state, items = _unpickle(handle, policy)
            if token != header.token:
                return None
            state.prints, index, made = _unpickle(handle, policy)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        return None
    state.env, state.urls = env, urls  # (the state was just unpickled: nothing else holds it)
    render.fragments_of(env).memo.update(items)
    render.fragments_of(env).memo.update(made)
    for body in state.bodies.values():
        body.source = cache
    replay = [live.Edit(state.site.documents[new.ref], new, state.bodies[new.ref], key, Rendered("", (), links))
              for new, key, links in header.journal]
    state = live.apply(state, index, replay)[0]
    return header, state, index, stamps


def _atomic(path: Path, value: object) -> None:
    temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(temp, "wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temp, path)


def _write(config: SiteConfig, state: BuildState, dirty: list[render.Page], cache: Cache,
           result: BuildResult) -> bool:
    """Render the dirty pages into the spare folder, link the rest from the live one, swap."""
    tree = OutputTree(config.output_dir)
    tree.start()
    try:
        def job(page: render.Page) -> tuple[str, str] | tuple[str, int, str]:
            """(fingerprint, digest) of the page written, or (template, line, message)."""
            data = render_page(state.env, page)
            if isinstance(data, tuple):
                return data
            return render.fingerprint(page, state.salt), tree.place(output_file(page.path), data)

        # the few pages to render are the big ones (exports, listings): always on every core,
        # the biggest first (as they were last time), so that no core is left with one at the end
        dirty = sorted(dirty, key=lambda page: -file_size(config.output_dir / output_file(page.path)))
        render.warm_up(state.env, dirty)  # compiled once here (from the cache), not in each worker
        outcomes = list(parallel.ordered_map(job, dirty, initializer=cache.reopen, chunksize=1, inline_below=4))
        prints: dict[str, tuple[str, str]] = {}
        for page, outcome in zip(dirty, outcomes):
            if len(outcome) == 3:
                result.diagnostics.error(*outcome)
                continue
            tree.claim(output_file(page.path))
            tree.record(output_file(page.path), outcome[1])
            prints[page.path] = outcome  # type: ignore[assignment]
        if result.diagnostics.errors:
            tree.abort()
            return True
        for rel, digest in tree.old.items():
            if rel not in tree.files:
                if not tree.reuse(rel, digest):
                    tree.abort()
                    return False  # a file of the previous output vanished: the full build repairs it
        result.written = tree.commit()
    except BaseException:
        tree.abort()
        raise
    cache.update_pages(os.fspath(config.output_dir), prints)
    result.rendered_pages = len(dirty)
    result.changed_paths = tuple(sorted(rel for rel, h in tree.files.items() if tree.old.get(rel) != h))
    return True


def _stamps(root: Path, started: float | None) -> dict[str, str]:
    """Stamp of every file below content/ (as the build reads them); when `started` is
    given, files modified since shortly before it get no stamp: they may change unseen."""
    content = str(root / "content")
    out: dict[str, str] = {}
    for folder, name in walk_names(root / "content"):
        path = os.path.join(folder, name)
        try:
            stat = os.stat(path)
        except OSError:
            continue
        fresh = started is not None and stat.st_mtime > started - RACY_SECONDS
        out["content" + path[len(content):]] = "" if fresh else stamp_of(stat)
    return out


def _static(config: SiteConfig) -> dict[str, str]:
    return {output_file(dest): file_digest(src) for src, dest in copies_of(config, ())}


def _manifest_digest(config: SiteConfig) -> str:
    return manifest_digest(config.output_dir)
