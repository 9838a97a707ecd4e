"""The fast path of warm builds and the preview server: edits that leave the graph as it was.

Most saves change one document's body or the front-matter fields that only its listings
show (title, summary, source, grading...): the same documents in the same order with the
same tags and [[links]]. `find_edits` says whether that provably holds for the saved files;
`apply` then makes a new state (new documents, bodies and page contexts where they are
shown; nothing old is changed) and names the pages whose fingerprints changed, the edited
documents' own pages first. Anything else (a new or deleted file, changed tags, date, draft
or TLP status, a title that [[links]] resolve by, a profile, a template) takes the full
build, which is itself incremental through the cache.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Container, Iterable, Mapping

from generator.content import estimative, markdown, schema
from generator.pages import render, search
from generator.engine.pipeline import BuildState, body_key
from generator.diagnostics import Diagnostics
from generator.site.graph import doc_order
from generator.content.load import parse_source
from generator.content.model import Document, Entity, Ref
from generator.content.text import name_key
from generator.site.urls import page_path

# Front-matter fields the graph and the page plan depend on: a change to any of
# them takes the full build. (Title is checked separately: order and [[links]].)
STRUCTURAL = ("kind", "slug", "path", "date", "updated", "draft", "tlp", "refs", "event_date", "event_precision",
              "source_names")  # a note's sources: resolved by name, like links  # refs: which assets are held back

Early = Callable[[Container[str]], None]  # called with the output files still to come (a set, or pipeline.AllBut)


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
        # pages made from every document's words (the search index's term shards): a body or
        # listing edit gives them new contexts (search.TermShard.replaced); their fingerprints say which changed
        self.derived = [i for i, page in enumerate(state.pages)
                        if any(type(v) is search.TermShard for v in page.context.values())]
        self.order = list(state.site.documents)  # newest first
        self.position = {ref: i for i, ref in enumerate(self.order)}
        self.link_keys = {name_key(link.target) for body in state.bodies.values() for link in body.links}
        self.link_keys.update(name_key(name) for doc in state.sources.values() if isinstance(doc, Document)
                              for name, _ in doc.source_names)  # notes' `sources:` name documents too

    def prepare(self, state: BuildState) -> None:
        """Make the derived pages' values now rather than on the first save (the search index's
        terms, 0.4 s at 10,000 documents, are made where the shards are rendered: in the page workers)."""
        for i in self.derived[:1]:  # (the shards share one search.Terms)
            for value in state.pages[i].context.values():
                if type(value) is search.TermShard:
                    value.prepare()


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


def apply(state: BuildState, index: Index, edits: list[Edit]) -> tuple[BuildState, list[int], list[int]]:
    """The state with the edits in, and the pages to render: the edited documents' own pages
    first, then every other page whose inputs changed (see Applied)."""
    applied = Applied(state, index, edits)
    rest = applied.finish()
    return applied.state, applied.first, rest


class Applied:
    """Edits put into a new state: a new model, new bodies, and new contexts for the pages that
    show what changed. Nothing of the old state is changed (its objects stay as they were, so
    nothing derived from them can go stale); a page is to render when its fingerprint changed.

    The edited documents' own pages come first (`first`, ready to render at once); `finish()`
    makes the other pages' new contexts and returns those to render. A page that lists a
    document whose front-matter is unchanged (a body edit) keeps its context: it shows only
    that front-matter (Document.listed_as), so it is the same page."""

    def __init__(self, state: BuildState, index: Index, edits: list[Edit]):
        docs: dict[Ref, Document] = {}
        bodies: dict[Ref, render.Body] = {}
        touched: set[int] = set()  # pages that show something replaced: they get new contexts
        own: set[int] = set()
        for edit in edits:
            ref = edit.new.ref
            old = docs.get(ref, state.site.documents[ref])
            docs[ref] = edit.new
            showing = index.docs.get(ref, ())
            if edit.new.meta_digest != old.meta_digest:
                touched.update(showing)
            body = bodies.get(ref, state.bodies[ref])
            if edit.rendered is not None and (edit.key, edit.rendered.links) != (body.key, body.links):
                bodies[ref] = _body(body, key=edit.key, links=edit.rendered.links)
            touched.update(index.bodies.get(ref, ()))
            if edit.new.title != old.title:  # the [[links]] to it show its title (the link's tooltip)
                url = state.urls.of(ref)
                for source in state.site.mentions.get(ref, ()):
                    before = bodies.get(source, state.bodies[source])
                    bodies[source] = _body(before, targets=_retitled(before.targets, url, edit.new.title))
                    touched.update(index.bodies.get(source, ()))
            own.update(i for i in showing if state.pages[i].path == page_path(ref))
        if edits:
            touched.update(index.derived)
        self._docs, self._bodies = docs, bodies
        site = dataclasses.replace(state.site, documents={r: docs.get(r, d) for r, d in state.site.documents.items()})
        sources = {rel: docs.get(item.ref, item) if isinstance(item, Document) else item
                   for rel, item in state.sources.items()}
        self.state = dataclasses.replace(state, site=site, sources=sources, bodies={**state.bodies, **bodies},
                                         pages=list(state.pages), prints=dict(state.prints))
        self.first = self._replan(sorted(own & touched))
        self.pending = sorted(touched - own)  # pages whose contexts `finish` makes

    def _replan(self, indices: list[int]) -> list[int]:
        """New contexts for these pages (into the new state, which nothing else holds yet);
        returns those whose fingerprint changed, which is then the state's."""
        pages, prints, salt = self.state.pages, self.state.prints, self.state.salt
        dirty = []
        for i in indices:
            page = pages[i] = _replanned(pages[i], self._docs, self._bodies)
            mark = render.fingerprint(page, salt)
            if prints.get(page.path) != mark:
                prints[page.path] = mark
                dirty.append(i)
        return dirty

    def finish(self) -> list[int]:
        pending, self.pending = self.pending, []
        return self._replan(pending)


_LEAVES = frozenset({str, int, float, bool, type(None), Entity})
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
    if source is not None:
        estimative.report(rel, source.estimative, state.config.estimative, diags)
    if new is None or diags or source is None or source.body is None:
        return None  # the full build reports it
    if any(getattr(new, f) != getattr(doc, f) for f in STRUCTURAL):
        return None
    if [n for n, _ in new.actor_names] != [n for n, _ in doc.actor_names] or \
            [n for n, _ in new.place_names] != [n for n, _ in doc.place_names]:
        return None
    if new.title != doc.title and not _title_is_free(state, index, doc, new):
        return None
    if (new.reliability, new.credibility) != (doc.reliability, doc.credibility) and \
            any(doc.ref in cited for cited in state.site.cited.values()):
        return None  # the grading of a note's source: check's warning about the note may change
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


def _body(body: render.Body, **changes: object) -> render.Body:
    """A copy of a body with some of its fields changed (Body is never changed in place)."""
    fields = {name: getattr(body, name) for name in render.Body.__slots__}
    fields.update(changes)
    return render.Body(**fields)  # type: ignore[arg-type]


def _retitled(targets: tuple, url: str, title: str) -> tuple:
    """Resolved [[link]] targets, those to the page at `url` carrying its new title (the link's tooltip)."""
    return tuple((found[0], title) if found is not None and found[0].split("#", 1)[0] == url else found
                 for found in targets)


def _replanned(page: render.Page, docs: Mapping[Ref, Document], bodies: Mapping[Ref, render.Body]) -> render.Page:
    """The page with a new context in which the documents and bodies of these refs are the new
    ones (a document's own page also takes its new title). The old context is left as it was."""

    def swap(value: Any) -> Any:
        kind = type(value)
        if kind is Document:
            return docs.get(value.ref, value)
        if kind is render.Body:
            return bodies.get(value.ref, value)
        if kind is search.TermShard:
            return value.replaced(docs, bodies)
        if kind is list:
            return [swap(item) for item in value]
        if kind is tuple:
            return tuple(swap(item) for item in value)
        if kind is dict or (kind not in _LEAVES and isinstance(value, Mapping)):
            return {key: swap(item) for key, item in value.items()}
        return value  # leaves, entities, markup: nothing of a document in them

    context = swap(page.context)
    doc = context.get("doc")
    if type(doc) is Document and doc.ref in docs:
        context["title"] = doc.title
    return render.Page(page.path, page.template, context)
