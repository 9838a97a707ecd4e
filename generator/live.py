"""Rebuilds for the preview server: the full incremental build, plus a fast path.

While an analyst writes, most saves change one document's body or the fields
of its front-matter that only its listings show (title, summary, source,
grading...). Then the graph is exactly as before: the same documents in the
same order with the same tags and [[links]]. `LiveBuild` keeps the previous
build's state in memory and, when that provably holds, updates the document
in place and re-renders only the pages that show it (its page, its tags'
pages, listings, feeds, exports, the search index, pages that [[link]] to it).
The edited document's own page is rendered first and handed to the server at
once (`early`); the server holds requests for the other affected pages until
they are rendered too, so nothing stale is ever served.

Anything else (a new or deleted file, changed tags, date, draft or TLP
status, a title that [[links]] resolve by, a profile, a template) goes through
the normal build, which is itself incremental through the cache.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Callable, Iterable, Mapping

from generator import __version__, markdown, render, schema
from generator.build import BuildResult, BuildState, body_key, build, search_words
from generator.cache import Cache
from generator.config import load_config
from generator.diagnostics import Diagnostics
from generator.graph import doc_order
from generator.load import parse_source
from generator.model import Document, Ref
from generator.text import name_key
from generator.urls import Urls, output_file, page_path
from generator.write import MARKER, OutputTree

# Front-matter fields the graph and the page plan depend on: a change to any of
# them takes the full build. (Title is checked separately: order and [[links]].)
STRUCTURAL = ("kind", "slug", "path", "date", "updated", "draft", "tlp")

Early = Callable[[frozenset[str]], None]  # called with the output files still to come


@dataclasses.dataclass
class Edit:
    doc: Document  # the document as it is in the model (updated in place by `apply`)
    new: Document  # as the file says now
    body: render.Body
    key: str  # cache key of the new body
    rendered: markdown.Rendered | None  # None when the body is unchanged


class Index:
    """Which pages show which document or body, and what a title change could disturb.
    Built once per full build, from what the page workers found (see build._render_to), or
    by walking the pages (about 0.3 s at 10,000 documents)."""

    def __init__(self, state: BuildState, known: Mapping[str, render.Seen] | None = None):
        """`known`: render.shown of pages by path, where the build worked it out already."""
        self.docs: dict[Ref, list[int]] = {}
        self.bodies: dict[Ref, list[int]] = {}
        known = known or {}
        for index, page in enumerate(state.pages):
            found = known.get(page.path)
            docs, bodies = found if found is not None else render.shown(page)
            for ref in docs:
                self.docs.setdefault(ref, []).append(index)
            for ref in bodies:
                self.bodies.setdefault(ref, []).append(index)
        self.order = list(state.site.documents)  # newest first
        self.position = {ref: i for i, ref in enumerate(self.order)}
        self.link_keys = {name_key(link.target) for body in state.bodies.values() for link in body.links}


def find_edits(state: BuildState, index: Index, site: Path, paths: Iterable[Path]) -> list[Edit] | None:
    """The edits these saved files make, or None when one of them needs the full build.
    A file saved unchanged makes no edit."""
    edits = []
    for path in sorted(paths):
        edit = _edit(state, index, site, path)
        if edit is None:
            return None
        if edit is not _UNCHANGED:
            edits.append(edit)
    return edits


def apply(state: BuildState, index: Index, edits: list[Edit]) -> tuple[list[int], list[int]]:
    """Put the edits into the model, in place; returns the pages to render: the edited
    documents' own pages first, then every other page that shows them."""
    pages: set[int] = set()
    first: set[int] = set()
    for edit in edits:
        ref = edit.doc.ref
        if edit.new.meta_digest != edit.doc.meta_digest:
            _update_in_place(edit.doc, edit.new)
            pages.update(index.docs.get(ref, ()))
            for i in index.docs.get(ref, ()):
                context = state.pages[i].context
                if context.get("doc") is edit.doc:  # its own page, titled after it
                    context["title"] = edit.doc.title  # type: ignore[index]
            url = Urls(state.config.base_url).of(ref)
            for source in state.site.mentions.get(ref, ()):  # their [[links]] show its title
                _retitle_links(state.bodies[source], url, edit.doc.title)
                pages.update(index.bodies.get(source, ()))
        else:
            _update_in_place(edit.doc, edit.new)  # digest, lines
        if edit.rendered is not None:
            edit.body.key, edit.body.links = edit.key, edit.rendered.links
        pages.update(index.bodies.get(ref, ()))
        first.update(i for i in index.docs.get(ref, ()) if state.pages[i].path == page_path(ref))
    return sorted(first), sorted(pages - first)


class LiveBuild:
    def __init__(self, site: Path, output: Path, base_url: str, drafts: bool, cache: Cache):
        self.site, self.output, self.base_url, self.drafts, self.cache = site, output, base_url, drafts, cache
        self.state: BuildState | None = None
        self._index: Index | None = None

    def run(self, changed: set[Path] | None = None, early: Early | None = None) -> BuildResult:
        if self.state is not None and changed:
            quick = self._quick(changed, early)
            if quick is not None:
                return quick
        self.state, self._index = None, None
        result = build(self.site, output=self.output, base_url=self.base_url, drafts=self.drafts,
                       in_place=True, cache=self.cache)
        self.state = result.state
        if self.state is not None:  # now, not on the first save: saves stay fast
            self._index = Index(self.state, result.shown)
            render.warm_up(self.state.env, self.state.pages)
            markdown.render("", self.state.config.allow_html)  # builds the parser
        return result

    def _quick(self, changed: set[Path], early: Early | None) -> BuildResult | None:
        started = time.perf_counter()
        state, index = self.state, self._index
        assert state is not None and index is not None
        edits = find_edits(state, index, self.site, changed)
        if edits is None:
            return None
        self.cache.put_rendered((e.key, e.rendered, search_words(e.rendered)) for e in edits if e.rendered)
        first, rest = apply(state, index, edits)
        return self._rerender(first + rest, len(first), early, started)

    def _rerender(self, indices: list[int], priority: int, early: Early | None, started: float) -> BuildResult:
        """Render these pages (the first `priority` of them, then `early`, then the rest) in place."""
        state = self.state
        assert state is not None
        tree = OutputTree(self.output)
        tree.start_in_place()
        diags = Diagnostics()
        changed_paths: list[str] = []
        new_pages: dict[str, tuple[str, str]] = {}
        for n, i in enumerate(indices):
            if n == priority and early is not None and priority:
                early(frozenset(output_file(state.pages[j].path) for j in indices[n:]))
            page = state.pages[i]
            out = render.render_pages(state.env, [page], diags)
            if page.path not in out:
                self.state, self._index = None, None  # a template broke at run time: start afresh
                return BuildResult(load_config(self.site, Diagnostics()), diags)
            rel = output_file(page.path)
            file_hash = tree.place(rel, out[page.path])
            if tree.old.get(rel) != file_hash:
                changed_paths.append(rel)
            tree.old[rel] = file_hash
            fingerprint = render.fingerprint(page, state.salt)
            state.prints[page.path] = fingerprint
            new_pages[page.path] = (fingerprint, file_hash)
        if changed_paths:
            (self.output / MARKER).write_text(
                json.dumps({"generator": f"briefing {__version__}", "files": dict(sorted(tree.old.items()))},
                           indent=0, sort_keys=True) + "\n", encoding="utf-8")
        self.cache.update_pages(os.fspath(state.config.output_dir), new_pages)
        render.fragments_of(state.env).take_new()  # made here, in this process: nothing to hand back
        result = BuildResult(state.config, diags, site=state.site, rendered_pages=len(indices),
                             changed_paths=tuple(sorted(changed_paths)), state=state)
        result.timings["render+write"] = time.perf_counter() - started
        return result


_UNCHANGED = object()  # type: ignore[var-annotated]


def _edit(state: BuildState, index: Index, site: Path, path: Path) -> Edit | None:
    """What changed in one saved document, or None when the fast path does not apply."""
    try:
        rel = path.absolute().relative_to(site.absolute()).as_posix()
    except ValueError:
        return None
    doc = state.sources.get(rel)
    if not isinstance(doc, Document):
        return None  # a profile, a new file, a template, site.yml...
    try:
        data = path.read_bytes()
    except OSError:
        return None
    diags = Diagnostics()
    source = parse_source(rel, rel.split("/")[1], path.stem, data, diags)
    if source is not None and source.digest == doc.digest:
        return _UNCHANGED  # type: ignore[return-value]
    new = schema.to_document(source, diags) if source is not None else None
    if new is None or diags or source is None or source.body is None:
        return None  # the full build reports it
    if any(getattr(new, f) != getattr(doc, f) for f in STRUCTURAL):
        return None
    if [n for n, _ in new.actor_names] != [n for n, _ in doc.actor_names] or \
            [n for n, _ in new.place_names] != [n for n, _ in doc.place_names]:
        return None
    if new.title != doc.title and not _title_is_free(state, index, doc, new):
        return None
    body = state.bodies.get(doc.ref)
    if body is None:
        return None
    rendered = markdown.render(source.body, state.config.allow_html)
    if [(w.target, w.anchor) for w in rendered.links] != [(w.target, w.anchor) for w in body.links]:
        return None  # links changed: backlinks may change
    return Edit(doc, new, body, body_key(source.digest, state.config), rendered)


def _title_is_free(state: BuildState, index: Index, doc: Document, new: Document) -> bool:
    """A new title keeps the document's place in every list and resolves no [[link]] differently."""
    keys = {name_key(doc.title), name_key(new.title)}
    if len(keys) > 1 and keys & index.link_keys:
        return False
    at = index.position.get(doc.ref)
    if at is None:
        return False
    mine = doc_order(new)
    docs = state.site.documents
    before = doc_order(docs[index.order[at - 1]]) if at > 0 else None
    after = doc_order(docs[index.order[at + 1]]) if at + 1 < len(index.order) else None
    return (before is None or before < mine) and (after is None or mine < after)


def _update_in_place(doc: Document, new: Document) -> None:
    """Give the model's (frozen) document the new values: every page context holds this object."""
    for f in dataclasses.fields(Document):
        object.__setattr__(doc, f.name, getattr(new, f.name))


def _retitle_links(source: render.Body, url: str, title: str) -> None:
    """A body's resolved [[links]] to the page at `url` carry its title (the link's tooltip)."""
    source.targets = tuple(
        (found[0], title) if found is not None and found[0].split("#", 1)[0] == url else found
        for found in source.targets)
