"""The stages of a build: load everything, link, render, then write once.

    config -> load (+ markdown of changed files) -> schema -> graph.catalog -> markdown -> graph.link
           -> render -> write
    (the search words of the changed bodies are made on the other cores from load to render)

Each stage returns values and appends problems to one Diagnostics; the build
stops before writing if there is any error, so a broken document never touches
the previous site. Work that did not change since the previous build is taken
from the cache (see generator/content/cache.py): unchanged files are not parsed,
unchanged bodies not rendered, pages whose inputs are unchanged not rendered
and their files hard-linked rather than written. Changed files are parsed and
their bodies rendered in one pass on every core, and so are pages
(generator/parallel.py), in a deterministic order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Container, Iterator, Mapping

import jinja2

from generator import code_version, parallel
from generator.content import estimative, markdown, schema
from generator.pages import features, render, search
from generator.site import graph
from generator.site.assets import split_assets
from generator.content.cache import Cache
from generator.content.config import SiteConfig
from generator.diagnostics import Diagnostic, Diagnostics
from generator.content.load import Asset, Loaded, RenderBody, SourceDoc, load_content, read_body
from generator.content.model import Document, Entity, Ref, Site
from generator.policy import BuildPolicy
from generator.progress import Progress
from generator.content.text import name_key
from generator.site.urls import Urls, output_file
from generator.output.write import OutputError, OutputTree, WriteResult, file_digest

CACHE_FILE = "cache.sqlite"


@dataclass
class BuildResult:
    config: SiteConfig
    diagnostics: Diagnostics
    site: Site | None = None
    pages: Mapping[str, bytes] = field(default_factory=dict)  # site path -> bytes (read lazily when written)
    written: WriteResult | None = None
    rendered_pages: int = 0  # pages rendered this time (the rest came from the previous build)
    changed_paths: tuple[str, ...] = ()  # output files that differ from the previous build
    copied: tuple[str, ...] = ()  # output files copied rather than rendered (write=False only; for the audit)
    timings: dict[str, float] = field(default_factory=dict)
    state: "BuildState | None" = None  # what a live (preview) build keeps for the next one
    shown: dict[str, render.Seen] = field(default_factory=dict)  # site path -> what it shows, if the workers said
    stamps: dict[str, str] | None = None  # the content files' stamps as the load found them (see load.Loaded)
    saving: "parallel.Behind | None" = None  # the state being saved for the next build (build(save_behind=True))

    @property
    def ok(self) -> bool:
        return not self.diagnostics.errors

    def settle(self) -> str | None:
        """Wait for the state being saved behind the build, if it is: None, or what went wrong
        (the next build is then a full one)."""
        saving, self.saving = self.saving, None
        return saving.wait() if saving is not None else None


@dataclass(frozen=True)
class First:
    """An in-place build's pages to write before the others: those made from these content files
    (site-relative paths). Once they are out, `early` hears which output files are still to
    come: the preview server serves everything else meanwhile (an unchanged page is current)."""

    sources: frozenset[str]
    early: Callable[[Container[str]], None]  # the files still to come: a set, or AllBut
    served: set[str] = field(default_factory=set)  # the files told done so far (see AllBut)


@dataclass(frozen=True)
class AllBut:
    """What an in-place build has still to write before its pages are planned: every output
    file but these (the saved files' own pages, written ahead, and the unchanged static files)."""

    served: frozenset[str]

    def __contains__(self, rel: object) -> bool:
        return rel not in self.served

    def __bool__(self) -> bool:
        return True


@dataclass(frozen=True)
class Plan:
    """Every page of a build and what they are made with, before anything is rendered."""

    env: jinja2.Environment
    salt: str  # what every page depends on besides its context (see salt_of)
    urls: Urls
    linked: graph.Linked
    bodies: dict[Ref, render.Body]
    pages: list[render.Page]
    assets: tuple[Asset, ...]  # the content assets to publish (see generator/site/assets.py)


@dataclass
class BuildState:
    """The pipeline's intermediate values, kept by the preview server between builds."""

    config: SiteConfig
    env: jinja2.Environment
    salt: str
    urls: Urls  # the build's one Urls (the environment's and the plan's)
    site: Site
    sources: dict[str, Document | Entity]  # rel -> published document or profile
    bodies: dict[Ref, render.Body]
    pages: list[render.Page]
    prints: dict[str, str]  # site path -> fingerprint

    def __getstate__(self) -> dict[str, Any]:  # kept on disk by warm.py; the environment is made afresh
        return {**self.__dict__, "env": None}


def _run(config: SiteConfig, cache: Cache, drafts: bool, write: bool, in_place: bool, result: BuildResult,
         clock: "_Clock", policy: BuildPolicy, progress: Progress | None = None, first: First | None = None) -> None:
    """The pipeline."""
    diags = result.diagnostics
    loaded = load_content(config.root, diags, cache, render_body=_body_renderer(config, cache), progress=progress)
    result.stamps = loaded.stamps
    clock.lap("load+markdown")
    policy.settled()
    with contextlib.closing(_Words(cache)) as words:  # made meanwhile on the other cores
        ahead = _ahead(config, first) if in_place and write and first is not None else None
        planned = _plan(config, cache, drafts, loaded, result, clock, policy, ahead)
        if planned is None:
            return
        if write:  # the page workers' templates, loaded while the words are still being made
            render.warm_up(planned.env, planned.pages)
        words.finish()
        clock.lap("search words")
    env, salt, linked, bodies, pages = planned.env, planned.salt, planned.linked, planned.bodies, planned.pages
    if not write:
        result.pages = _render_in_memory(env, pages, cache, diags)
        result.copied = tuple(output_file(dest) for _, dest in copies_of(config, planned.assets))
        result.rendered_pages = len(pages)
        clock.lap("render")
        return
    # for the next build (generator/engine/warm.py) or the preview server's next save (live.py)
    published = {**{d.path: d for d in linked.site.documents.values()},
                 **{e.path: e for e in linked.site.entities.values() if e.has_profile}}
    state = BuildState(config, env, salt, planned.urls, linked.site, published, bodies, pages, {})
    try:
        state.prints = _write(config, env, salt, pages, copies_of(config, planned.assets), cache, in_place, result,
                              progress, first)
    except OutputError as exc:
        diags.error(str(config.output_dir), 0, str(exc))
        return
    clock.lap("render+write")
    if result.ok:
        result.state = state


def _unchanged_static(tree: OutputTree, copies: list[tuple[Path, str]]) -> set[str]:
    return {rel for src, dest in copies if tree.old.get(rel := output_file(dest)) == file_digest(src)}


def _gone_first(tree: OutputTree, pages: list[render.Page], copies: list[tuple[Path, str]], first: First) -> None:
    """An in-place build's files that no page or copy of it makes (a deleted document's page),
    removed as soon as the pages are planned, before they are fingerprinted; `first.early` hears
    that they are done, with what it heard of before (the saved files' own pages and the unchanged
    static files, see _ahead): the preview answers 404 for a deleted page at once."""
    made = {output_file(page.path) for page in pages} | {output_file(dest) for _, dest in copies}
    gone = sorted(rel for rel in tree.old if rel not in made)
    if not gone:
        return
    tree.start_in_place()
    tree.drop_in_place(gone)
    if not first.served:
        first.served.update(_unchanged_static(tree, copies))
    first.served.update(gone)
    first.early(AllBut(frozenset(first.served)))


Ahead = Callable[[jinja2.Environment, Site, dict[Ref, render.Body], Urls, tuple[Asset, ...], Cache], None]


def _ahead(config: SiteConfig, first: First) -> Ahead:
    """For an in-place build after a save: once the site is linked, before the rest is planned,
    render the saved files' own pages (as `plan` makes them), write them and tell `first.early`
    that every other file but the unchanged static ones is still to come (pipeline.AllBut)."""

    def ahead(env: jinja2.Environment, site: Site, bodies: dict[Ref, render.Body], urls: Urls,
              assets: tuple[Asset, ...], cache: Cache) -> None:
        tree = OutputTree(config.output_dir)
        if not tree.old:
            return
        pages = render.own_pages(site, bodies, config, urls, first.sources, features.Drawings(cache.drawing))
        datas = [render_page(env, page) for page in pages]
        if not pages or any(isinstance(data, tuple) for data in datas):
            return  # (a template error: the build reports it)
        tree.start_in_place()
        served = set()
        for page, data in zip(pages, datas):
            assert isinstance(data, bytes)
            tree.place(output_file(page.path), data)
            served.add(output_file(page.path))
        served.update(_unchanged_static(tree, copies_of(config, assets)))
        first.served.update(served)
        first.early(AllBut(frozenset(first.served)))

    return ahead


def _plan(config: SiteConfig, cache: Cache, drafts: bool, loaded: Loaded, result: BuildResult, clock: "_Clock",
          policy: BuildPolicy, ahead: Ahead | None = None) -> Plan | None:
    """Model, Markdown the cache lacked, links, the environment and the plan of every page
    (with the documents' listing entries made); None when there are errors. `ahead`, if given,
    is called once the site is linked, before the pages are planned (see _ahead)."""
    diags = result.diagnostics
    docs: list[Document] = []
    profiles: list[Entity] = []
    failed_names = {name_key(Path(rel).stem) for rel in loaded.failed}
    vocabulary = config.relation_vocabulary
    types = tuple((t.name, t.forward, t.inverse, t.stix, t.places) for t in config.relation_types)
    made: dict[tuple, tuple[Document | Entity | None, tuple[Diagnostic, ...]]] = {}
    for src in loaded.docs:
        key = (src.rel, src.digest, types)
        found = _MADE.get(key)
        if found is None:
            one = Diagnostics()
            found = ((schema.to_document(src, one) if src.section in ("articles", "notes")
                      else schema.to_entity(src, one, vocabulary)), tuple(one))
        made[key] = found
        item = found[0]
        diags.extend(found[1])
        estimative.report(src.rel, src.estimative, config.estimative, diags)
        if isinstance(item, Document):
            docs.append(item)
        elif isinstance(item, Entity):
            profiles.append(item)
        else:
            failed_names.update(name_key(str(src.meta.get(k, ""))) for k in ("title", "slug"))
            failed_names.add(name_key(src.stem))
    _MADE.clear()
    _MADE.update(made)  # (the next build of this process: the preview server's)
    cat = graph.catalog(docs, profiles, drafts, config.max_tlp, diags)
    clock.lap("model")

    keys, links = _render_markdown(config, cat, cache)
    clock.lap("markdown")

    urls = Urls(config.base_url)
    env = render.environment(config, urls, compiled_templates(cache))
    # The documents' entries in listings need nothing but the documents: the workers render
    # them while this process links and plans (the site's documents are the published ones).
    to_publish = [doc for ref, doc in cat.documents.items() if ref in cat.published_docs]
    with contextlib.closing(render.doc_items(env).start_fill(to_publish)) as entries:
        linked = graph.link(cat, links, diags, frozenset(failed_names))
        shown, held = split_assets(loaded.assets, _refs(cat, published=True), _refs(cat, published=False))
        if held:
            linked = dataclasses.replace(linked, site=dataclasses.replace(
                linked.site, held_assets=tuple(a.rel for a in held)))
        result.site = linked.site
        clock.lap("link")
        policy.settled()
        if diags.errors:
            return None

        salt = salt_of(config, env)
        if salt is None:
            _report_template_errors(env, diags)
            return None
        bodies = render.make_bodies(keys, links, linked.targets, linked.site, urls, cache)
        if ahead is not None:
            ahead(env, linked.site, bodies, urls, shown, cache)
            clock.lap("own pages ahead")
        drawings = features.Drawings(cache.drawing)
        pages = render.plan(linked.site, bodies, config, urls, drawings)
        cache.replace_drawings(drawings.new, drawings.used)
        pages.append(render.Page(".nojekyll", "", {}))
        clock.lap("plan")
        policy.settled()
        entries.finish()
        clock.lap("listing entries")
    return Plan(env, salt, urls, linked, bodies, pages, shown)


# The documents and profiles the last build of this process made, by what they are made from:
# the file's path and bytes (src.digest) and the site's relation types. schema.to_document and
# to_entity are functions of these alone and their values are never changed, so the preview
# server's next build takes the unchanged ones as they are, with the problems they had, instead
# of making them again (0.3 s at 10,000 documents). A CLI build starts with none.
_MADE: dict[tuple, tuple[Document | Entity | None, tuple[Diagnostic, ...]]] = {}


def _refs(cat: graph.Catalog, published: bool) -> Iterator[tuple[str, ...]]:
    """The local files that published (or held-back) documents and profiles point at."""
    for ref, doc in cat.documents.items():
        if (ref in cat.published_docs) == published:
            yield doc.refs
    if published:
        yield from (e.refs for e in cat.entities.values() if e.has_profile)


# ---------------------------------------------------------------------------- markdown


def body_key(digest: str, config: SiteConfig) -> str:
    """A rendered body's cache key: the file's bytes, the generator, the HTML option."""
    return f"{digest}:{code_version()}:{config.allow_html}"


def _render_body(key: str, body: str, allow_html: bool) -> tuple[str, markdown.Rendered, str]:
    """A body's row for the rendered cache: (key, rendered body, search words)."""
    rendered = markdown.render(body, allow_html)
    return key, rendered, search_words(rendered)


def _body_renderer(config: SiteConfig, cache: Cache) -> RenderBody:
    """For load_content: renders, where a changed file is parsed, the body the cache lacks.

    Drafts and held-back documents are rendered too (they are only known as such
    later); _render_markdown prunes their rows, and nothing else ever reads them.
    """
    cached = cache.rendered_keys()

    def render_body(src: SourceDoc) -> tuple[str, markdown.Rendered, str | None] | None:
        key = body_key(src.digest, config)
        if key in cached or src.body is None:
            return None
        return key, markdown.render(src.body, config.allow_html), None  # words: see _Words

    return render_body


class _Words:
    """Search words of the bodies stored without them (load_content's, see _body_renderer),
    worked out from the cached HTML in forked workers, which store them. A body's words need
    nothing but its HTML: the workers start when the bodies are loaded and work while this
    process builds the model, links and plans, when it would leave a core idle, instead of in
    the load pass, which keeps both busy (0.5 s less at 10,000 documents)."""

    def __init__(self, cache: Cache):
        self._cache = cache
        keys = cache.keys_without_words()
        chunks = [keys[i : i + _WORDS_CHUNK] for i in range(0, len(keys), _WORDS_CHUNK)]
        shared = cache.path is not None  # an in-memory cache cannot be reopened in a worker

        def job(chunk: list[str]) -> list[tuple[str, str]]:
            bodies = list(cache.bodies(chunk))  # each step for all (see load._parse_chunk)
            texts = [_word_text(html, links) for _, html, links in bodies]
            rows = [(key, search.body_words(text)) for (key, _, _), text in zip(bodies, texts)]
            if not shared:
                return rows
            cache.put_words(rows)
            return []

        def start() -> None:
            os.nice(10)  # this process's work (model, links, plan) comes first
            cache.reopen()

        self._started = parallel.start(job, chunks, processes=None if shared else 1, initializer=start,
                                       chunksize=1, inline_below=2)

    def finish(self) -> None:
        """Wait for every body's words (and store those that came back)."""
        for rows in self._started:
            if rows:
                self._cache.put_words(rows)
        self.close()
        self._cache.prune_words()  # of the bodies _render_markdown pruned meanwhile (drafts, held back)

    def close(self) -> None:
        self._started.close()


_WORDS_CHUNK = 64  # bodies a worker reads, and whose words it stores, at a time


def _render_markdown(
    config: SiteConfig, cat: graph.Catalog, cache: Cache
) -> tuple[dict[Ref, str], dict[Ref, tuple[markdown.WikiLink, ...]]]:
    """Cache key and [[links]] of every published body; renders what the cache still lacks
    (bodies of unchanged files whose rendering was pruned or never stored), and prunes the rest."""
    items: dict[Ref, Document | Entity] = {r: cat.documents[r] for r in cat.documents if r in cat.published_docs}
    items.update((r, e) for r, e in cat.entities.items() if e.has_profile)
    keys = {ref: body_key(item.digest, config) for ref, item in items.items()}
    known = cache.rendered_links(set(keys.values()))
    missing = sorted({key: item.path for ref, item in items.items() if (key := keys[ref]) not in known}.items())
    root, allow_html = config.root, config.allow_html

    def render_one(job: tuple[str, str]) -> tuple[str, markdown.Rendered, str]:
        key, rel = job
        return _render_body(key, read_body(root, rel), allow_html)

    batch: list[tuple[str, markdown.Rendered, str]] = []
    for key, rendered, words in parallel.ordered_map(render_one, missing, chunksize=32):
        known[key] = rendered.links
        batch.append((key, rendered, words))
        if len(batch) >= 500:
            cache.put_rendered(batch)
            batch = []
    cache.put_rendered(batch)
    cache.prune_rendered(keys.values())
    return keys, {ref: known[key] for ref, key in keys.items()}


def search_words(rendered: markdown.Rendered) -> str:
    """A body's words for the search index, computed once when it is rendered (links show their labels)."""
    return _words_of(rendered.html, rendered.links)


def _words_of(html: str, links: tuple[markdown.WikiLink, ...]) -> str:
    return search.body_words(_word_text(html, links))


def _word_text(html: str, links: tuple[markdown.WikiLink, ...]) -> str:
    return markdown.resolve(html, links, "/", ())  # [[links]] as their labels


# ------------------------------------------------------------------------------- pages


def salt_of(config: SiteConfig, env: jinja2.Environment) -> str | None:
    """What every page depends on besides its context: generator, config, templates."""
    parts = [code_version(), repr(sorted((k, repr(v)) for k, v in vars(config).items()))]
    try:
        for name in sorted(env.list_templates()):
            source, filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
            parts.append(f"{name}:{filename}:{hashlib.blake2b(source.encode(), digest_size=16).hexdigest()}")
    except jinja2.TemplateError:
        return None
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def _report_template_errors(env: jinja2.Environment, diags: Diagnostics) -> None:
    render.render_pages(env, [], diags)


def render_page(env: jinja2.Environment, page: render.Page) -> bytes | tuple[str, int, str]:
    """Bytes, or (template, line, message) for a template error."""
    if not page.template:
        return b""
    one = Diagnostics()
    out = render.render_pages(env, [page], one)
    if one.errors:
        d = one.errors[0]
        return (d.path, d.line, d.message)
    return out[page.path]


def _render_in_memory(env: jinja2.Environment, pages: list[render.Page], cache: Cache, diags: Diagnostics) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for page, data in zip(pages, parallel.ordered_map(lambda p: render_page(env, p), pages, initializer=cache.reopen)):
        if isinstance(data, tuple):
            diags.error(*data)
        else:
            out[page.path] = data
    return out


def _write(config: SiteConfig, env: jinja2.Environment, salt: str, pages: list[render.Page],
           copies: list[tuple[Path, str]], cache: Cache, in_place: bool, result: BuildResult,
           progress: Progress | None = None, first: First | None = None) -> dict[str, str]:
    """Render what changed and write it; returns every page's fingerprint."""
    diags = result.diagnostics
    tree = OutputTree(config.output_dir)
    before = cache.pages(os.fspath(config.output_dir))
    # With nothing to compare with (a first build), every page is rendered and the
    # workers fingerprint them as they go; otherwise the fingerprints pick the pages.
    # (what each page shows comes out of the same walk, for the warm state's index: see live.Index)
    if in_place and first is not None and before:
        _gone_first(tree, pages, copies, first)
    if before:
        search.prepare(pages)  # (the term shards' fingerprints are digests of their postings)
    prints = _fingerprints(pages, salt, result.shown, _refs_of(result.site)) if before else {}
    planned: dict[str, str] = {}
    dirty: list[render.Page] = []
    for page in pages:
        rel = output_file(page.path)
        if rel in planned:
            raise OutputError(f"two pages would write the same file {rel}")
        known = before.get(page.path)
        if known and known[0] == prints[page.path] and tree.old.get(rel) == known[1]:
            planned[rel] = known[1]
        else:
            planned[rel] = ""
            dirty.append(page)
    copy_hashes = {output_file(dest): file_digest(src) for src, dest in copies}
    for rel, h in copy_hashes.items():
        if rel in planned:
            raise OutputError(f"two pages would write the same file {rel} (content/{rel} and a generated page)")
        planned[rel] = h
    if not dirty and tree.unchanged(planned):
        result.written = WriteResult(len(tree.old), 0, 0, swapped=False)
        result.pages = LazyPages(config.output_dir, [p.path for p in pages])
        return prints

    batch = _PAGE_BATCH
    if before and len(dirty) <= _FEW_PAGES:
        # a few pages, of which the exports and listings are big: one at a time, the biggest first
        # (as they were last time), so that no core is left with one at the end
        dirty.sort(key=lambda page: -file_size(config.output_dir / output_file(page.path)))
        batch = 1
    written = None
    if in_place and first is not None and before:
        dirty, written = _first_out(dirty, first, planned, copy_hashes, tree.old)
    if in_place:
        tree.start_in_place()
    else:
        tree.start()
    try:
        rendered = _render_to(tree, env, dirty, cache, None if before else salt, prints, progress, result.shown,
                              _refs_of(result.site), written, batch)
        new_prints: dict[str, tuple[str, str]] = {}
        for page, outcome in zip(dirty, rendered):
            if isinstance(outcome, tuple):
                diags.error(*outcome)
                continue
            tree.claim(output_file(page.path))
            tree.record(output_file(page.path), outcome)
            new_prints[page.path] = (prints[page.path], outcome)
        if diags.errors:
            tree.abort()
            return prints
        if in_place:
            result.written = _update_in_place(tree, planned, copies, copy_hashes, new_prints)
        else:
            for page in pages:
                rel = output_file(page.path)
                if page.path in new_prints:
                    continue
                if not tree.reuse(rel, planned[rel]):
                    # the previous file vanished: render it after all
                    data = render_page(env, page)
                    if isinstance(data, tuple):
                        diags.error(*data)
                        tree.abort()
                        return prints
                    tree.files.pop(rel, None)
                    tree.write(rel, data)
                    new_prints[page.path] = (prints[page.path], tree.files[rel])
            for src, dest in copies:
                tree.copy(src, output_file(dest), copy_hashes[output_file(dest)])
            result.written = tree.commit()
    except BaseException:
        tree.abort()
        raise
    cache.replace_pages(os.fspath(config.output_dir),
                        {p.path: new_prints.get(p.path) or before[p.path] for p in pages})
    result.rendered_pages = len(dirty)
    result.changed_paths = tuple(sorted(rel for rel, h in tree.files.items() if tree.old.get(rel) != h))
    result.pages = LazyPages(config.output_dir, [p.path for p in pages])
    return prints


def _fingerprints(pages: list[render.Page], salt: str, shown: dict[str, render.Seen], refs: list[Ref]
                  ) -> dict[str, str]:
    """Every page's fingerprint, worked out on every core (0.8 s of one at 10,000 documents), and
    what each page shows, into `shown` (refs travel back as positions in `refs`: see _RefCodes)."""
    codes = _RefCodes(refs)
    batches = [pages[i : i + _PRINT_BATCH] for i in range(0, len(pages), _PRINT_BATCH)]

    def job(batch: list[render.Page]) -> tuple[list[str], list[tuple[Any, Any]]]:
        marks, founds = [], []
        for page in batch:
            found: render.Shown = (set(), set())
            marks.append(render.fingerprint(page, salt, found))
            founds.append((codes.pack(found[0]), codes.pack(found[1])))
        return marks, founds

    prints: dict[str, str] = {}
    for batch, (marks, founds) in zip(batches, parallel.ordered_map(job, batches, chunksize=1, inline_below=8)):
        for page, mark, found in zip(batch, marks, founds):
            prints[page.path] = mark
            shown[page.path] = (codes.unpack(found[0]), codes.unpack(found[1]))
    return prints


_PRINT_BATCH = 256  # pages a worker fingerprints at a time


def _first_out(dirty: list[render.Page], first: First, planned: dict[str, str], copy_hashes: dict[str, str],
               old: dict[str, str]) -> tuple[list[render.Page], Callable[[int], None]]:
    """The dirty pages with those of `first.sources` ahead, and what to call as pages are written
    (with how many are): once the first ones are, `first.early` hears what is still to come."""

    def source(page: render.Page) -> str:
        item = page.context.get("doc") or page.context.get("entity")
        return getattr(item, "path", "") if type(item) in (Document, Entity) else ""

    head = [page for page in dirty if source(page) in first.sources]
    tail = [page for page in dirty if source(page) not in first.sources]
    pending = frozenset({output_file(page.path) for page in tail}
                        | {rel for rel in old if rel not in planned and rel not in first.served}  # removed at the end
                        | {rel for rel, h in copy_hashes.items() if old.get(rel) != h})
    told = False

    def written(count: int) -> None:
        nonlocal told
        if not told and count >= len(head):
            told = True
            first.early(pending)

    if not head:  # (nothing to write first: the rest is served at once)
        written(0)
    return head + tail, written


def _render_to(tree: OutputTree, env: jinja2.Environment, pages: list[render.Page], cache: Cache,
               salt: str | None = None, prints: dict[str, str] | None = None,
               progress: Progress | None = None, shown: dict[str, render.Seen] | None = None,
               refs: list[Ref] | None = None, written: Callable[[int], None] | None = None,
               batch: int | None = None) -> list[str | tuple[str, int, str]]:
    """Render pages into the folder being filled (in the workers): digests, or errors.
    The per-document fragments the workers make come back into the parent's (see render.Fragments).
    Given a salt, the workers also fingerprint each page, into `prints`, and say what it shows, into
    `shown` (refs travel back as their positions in `refs`, see _RefCodes). `batch`: pages a
    worker takes at a time (_PAGE_BATCH)."""
    batch = batch or _PAGE_BATCH
    fragments = render.fragments_of(env)
    render.warm_up(env, pages)  # compiled once here (or loaded from the cache), not in each worker
    codes = _RefCodes(refs or [])

    def job(batch: list[render.Page]) -> tuple[list[Any], dict[tuple, Any], list[str], list[Any]]:
        """Outcomes, new pieces, fingerprints and what the pages show, for a few pages. Each step
        is taken for all of them before the next (render, write, fingerprint): it keeps its code
        and data in the processor's caches, 8% faster than page by page."""
        datas = [render_page(env, page) for page in batch]
        outcomes = [data if isinstance(data, tuple) else tree.place(output_file(page.path), data)
                    for page, data in zip(batch, datas)]
        if salt is None:
            return outcomes, fragments.take_new(), [], []
        marks, founds = [], []
        for page in batch:
            found: render.Shown = (set(), set())  # for live.Index, in the fingerprint's walk
            marks.append(render.fingerprint(page, salt, found))
            founds.append((codes.pack(found[0]), codes.pack(found[1])))
        return outcomes, fragments.take_new(), marks, founds

    outcomes: list[str | tuple[str, int, str]] = []
    batches = [pages[i : i + batch] for i in range(0, len(pages), batch)]
    results = parallel.ordered_map(job, batches, initializer=cache.reopen, chunksize=1,
                                   inline_below=-(-parallel.INLINE_BELOW // batch))  # (as many pages)
    for batch, (done, made, marks, founds) in zip(batches, results):
        fragments.memo.update(made)
        outcomes += done
        if salt is not None and prints is not None:
            prints.update(zip((page.path for page in batch), marks))
        if shown is not None:
            for page, found in zip(batch, founds):
                shown[page.path] = (codes.unpack(found[0]), codes.unpack(found[1]))
        if progress is not None:
            progress("writing pages", len(outcomes), len(pages))
        if written is not None:
            written(len(outcomes))
    return outcomes


_PAGE_BATCH = 8  # pages a worker takes at a time
_FEW_PAGES = 256  # an incremental build that renders no more takes them one at a time, the biggest first


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _refs_of(site: Site | None) -> list[Ref]:
    return [*site.documents, *site.entities] if site is not None else []


class _RefCodes:
    """Refs as they travel from the page workers to the parent: the bytes of their positions in
    a list both sides have, which the parent reads back into its own ref objects. A page's refs
    as tuples would cost the workers 0.06 s and the parent 0.25 s of pickling and interning at
    10,000 documents (200,000 of them), and give the parent a copy of each per page."""

    def __init__(self, refs: list[Ref]):
        self.refs = refs
        self.number = {ref: i for i, ref in enumerate(refs)}
        self.known: dict[Ref, Ref] = {}  # for refs not in the list (never, so far), one object each

    def pack(self, found: set[Ref]) -> bytes | tuple[Ref, ...]:
        try:
            return array("I", map(self.number.__getitem__, found)).tobytes()
        except KeyError:
            return tuple(found)

    def unpack(self, packed: bytes | tuple[Ref, ...]) -> tuple[Ref, ...]:
        if type(packed) is not bytes:
            return tuple(map(self.known.setdefault, packed, packed))
        numbers = array("I")
        numbers.frombytes(packed)
        return tuple(map(self.refs.__getitem__, numbers))


def _update_in_place(tree: OutputTree, planned: dict[str, str], copies: list[tuple[Path, str]],
                     copy_hashes: dict[str, str], new_prints: dict[str, tuple[str, str]]) -> WriteResult:
    for src, dest in copies:
        rel = output_file(dest)
        if tree.old.get(rel) != copy_hashes[rel]:
            tree.place(rel, src.read_bytes())
    files = dict(planned)
    for path, (_, h) in new_prints.items():
        files[output_file(path)] = h
    return tree.commit_in_place(files)


class LazyPages(Mapping[str, bytes]):
    """Pages of a written build, read from the output folder on demand (memory stays flat)."""

    def __init__(self, output: Path, paths: list[str]):
        self._output, self._paths, self._known = output, paths, frozenset(paths)

    def __getitem__(self, path: str) -> bytes:
        if path not in self._known:
            raise KeyError(path)
        return (self._output / output_file(path)).read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def copies_of(config: SiteConfig, assets: tuple[Asset, ...]) -> list[tuple[Path, str]]:
    """Theme static files, overridden by layouts/static, then content assets."""
    static: dict[str, Path] = {}
    for folder in (render.THEME / "static", config.layouts_dir / "static"):
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                static["assets/" + path.relative_to(folder).as_posix()] = path
    copies = [(path, dest) for dest, path in sorted(static.items())]
    copies += [(a.source, a.dest) for a in assets]
    return copies


def compiled_templates(cache: Cache) -> Path | None:
    """Where this build keeps compiled templates: beside its cache file."""
    return cache.path.parent / "templates" if cache.path is not None else None


class _open_cache:
    """The site's cache file, or a throwaway one (forked workers need a file to reopen)."""

    def __init__(self, config: SiteConfig, use_cache: bool):
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if use_cache:
            path = config.cache_dir / CACHE_FILE
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="briefing-cache-")
            path = Path(self._tmp.name) / CACHE_FILE
        self.cache = Cache(path)

    def __enter__(self) -> Cache:
        return self.cache

    def __exit__(self, *exc: object) -> None:
        self.cache.close()
        if self._tmp is not None:
            self._tmp.cleanup()


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now


def summary(result: BuildResult) -> dict[str, Any]:
    """Numbers for the end-of-build report (and the publish audit)."""
    site = result.site
    return {
        "documents": len(site.documents) if site else 0,
        "entities": len(site.entities) if site else 0,
        "pages": len(result.pages),
        "held_back": dict(site.held_back) if site else {},
        "held_assets": len(site.held_assets) if site else 0,
    }
