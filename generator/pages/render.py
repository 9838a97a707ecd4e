"""Site -> pages: plan every page as (path, template, context), then render.

`plan` is a pure function of the model; `render_pages` turns the plan into bytes
with a strict Jinja environment (autoescape, StrictUndefined), reporting template
problems as `template:line`. Site templates in `layouts/` override the defaults
shipped in `generator/theme/templates/`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from collections import ChainMap
from typing import Any, Callable, Collection, Iterable, Mapping, MutableMapping, Protocol

import jinja2
import markupsafe
from jinja2.bccache import Bucket
from markupsafe import Markup

from generator import __version__, parallel
from generator.pages import features, search
from generator.content.config import SiteConfig
from generator.diagnostics import Diagnostics
from generator.content.markdown import LinkTarget, WikiLink, resolve
from generator.content.model import RELATION_TYPES, TLP_ORDER, Document, Entity, Ref, Site
from generator.content.text import name_key
from generator.site.urls import (INDEX_LETTERS, SITEMAP_PATH, Urls, feed_path, index_letter, letter_path, page_path,
                                 section_path, sitemap_part_path)

THEME = Path(__file__).parent.parent / "theme"
_TLP_WORDING = {
    "clear": "Disclosure is not limited.",
    "green": "Limited disclosure: recipients may share within their community.",
    "amber": "Limited disclosure: recipients may share on a need-to-know basis within their organisation and its clients.",
    "amber+strict": "Limited disclosure: recipients may share within their own organisation only.",
    "red": "For the eyes and ears of individual recipients only; no further disclosure.",
}
_CONFIDENCE_MEANING = {
    "low": "Low confidence: the information is scant, questionable or fragmented.",
    "moderate": "Moderate confidence: credibly sourced and plausible, but not corroborated enough for more.",
    "high": "High confidence: based on high-quality information from several sources.",
}


@dataclass(frozen=True)
class Page:
    path: str  # site path, see generator.site.urls
    template: str
    context: Mapping[str, Any]


def plan(site: Site, bodies: Mapping[Ref, Body], config: SiteConfig, urls: Urls,
         drawings: features.Drawings | None = None) -> list[Page]:
    """Every page of the site, in a deterministic order (`drawings`: see features.Drawings)."""
    docs = list(site.documents.values())
    extra = features.Features.of(site, config, urls, drawings)  # search, timelines, graphs, maps, brief, exports
    pages = [
        Page("", "home.html", {"title": config.title, "latest": docs[: config.home_latest],
                                "top_actors": _top(site, "actor"), "top_places": _top(site, "place")}),
    ]
    # Listings are cut to the page budget, the rest archived by month (features.archive).
    # The timeline's filter needs each item's number in the search index (oldest first); not the
    # total, which every new document would change on every month's page.
    # Its actor and place choices are those of the documents on the page (all of them, unarchived).
    number = {d.ref: str(len(docs) - 1 - i) for i, d in enumerate(docs)}
    choices = extra.filters()

    def filters(shown: list[Document]) -> dict[str, Any]:
        tagged = {t for d in shown for t in site.tags.get(d.ref, ())}
        return {"numbers": " ".join(number[d.ref] for d in shown),
                **{k: [e for e in v if e.ref in tagged] for k, v in choices.items()}}

    timeline = features.archive("timeline/", features.by_month(docs))
    pages.append(Page("timeline/", "timeline.html", {
        "title": "Timeline", "months": timeline.first, "more": timeline.more, "archive": timeline.months,
        **filters(timeline.shown)}))
    pages += _archive_pages(timeline, "Timeline", "timeline", filters)
    pages.append(Page("404.html", "404.html", {"title": "Page not found"}))
    for kind, label in (("article", "Articles"), ("note", "Analyst notes")):
        of_kind = site.docs_of_kind(kind)
        listing = features.archive(section_path(kind), features.by_month(of_kind, reported=True),
                                   taken={d.slug for d in of_kind})  # a document named like a month keeps its URL
        pages.append(Page(section_path(kind), "section.html", {"title": label, "kind": kind, "docs": listing.shown,
                                                               "more": listing.more, "archive": listing.months}))
        pages += _archive_pages(listing, label, "", None)
    for kind, label in (("actor", "Actors"), ("place", "Places")):
        pages += _entity_index(site, kind, label, extra.places_index() if kind == "place" else {})
    for doc in docs:
        pages.append(_document_page(site, bodies, doc))
    shares = _shares(site)
    for entity in site.entities.values():
        page, listing, tagged = _entity_page(site, bodies, entity, shares, extra)
        pages.append(page)
        pages += _archive_pages(listing, entity.title, "plain", None)
        pages.append(Page(feed_path(entity.ref), "feed.xml", {
            "title": f"{entity.title} — {config.title}", "self_path": feed_path(entity.ref),
            "alt_path": page_path(entity.ref), "entries": tagged[: config.feed_limit], "bodies": {},
            "updated": _newest(tagged),
        }))
    entries = docs[: config.feed_limit]
    pages.append(Page("feed.xml", "feed.xml", {"title": config.title, "self_path": "feed.xml", "alt_path": "",
                                               "entries": entries,
                                               "bodies": {d.ref: bodies[d.ref] for d in entries if d.ref in bodies},
                                               "updated": _newest(docs)}))
    changes = sorted(docs, key=lambda d: d.updated or d.date, reverse=True)  # (stable: newest first among ties)
    pages.append(Page("changes/", "changes.html", {"title": "What changed", "changes": changes[:CHANGES_LIMIT],
                                                   "more": len(changes) > CHANGES_LIMIT}))
    pages.append(Page("changes/feed.xml", "changes.xml", {
        "title": f"What changed — {config.title}", "changes": changes[: config.feed_limit],
        "updated": _newest(docs)}))
    # First: the search index is the longest page to render, so it should not start last.
    pages[:0] = [Page(*triple) for triple in extra.pages(bodies)]
    # Pages that sum up the whole site (counts, names, the search index) show something of every
    # published document: their TLP marking is the highest of the build (see page_tlp).
    top = max((d.tlp for d in docs), key=TLP_ORDER.__getitem__, default="clear")
    pages = [Page(p.path, p.template, {**p.context, "tlp_floor": top}) if p.template in _SITE_WIDE else p
             for p in pages]
    pages += _sitemaps([p for p in pages if p.template.endswith(".html") and p.path != "404.html"])
    return pages


def _archive_pages(listing: features.Archive, title: str, filter: str,
                   extra: Callable[[list[Document]], dict[str, Any]] | None) -> list[Page]:
    """The month archive pages of a listing called `title`; `filter`: "timeline" (by kind,
    actor, place and date), "plain" (kind and date) or "" (none); `extra`: more context by page."""
    return [Page(path, "archive.html", {
        "title": f"{title}: {context['month']}" + (f" ({context['part']} of {context['parts']})"
                                                   if context["parts"] > 1 else ""),
        "listing_title": title, "filter": filter, **context, **(extra(context["docs"]) if extra else {})})
        for path, context in listing.pages]


# An /actors/ or /places/ index row is about 120 bytes (3,400 of them passed the 400 KB page budget).
# A kind with more than INDEX_BUDGET entities (~120 KB of rows) gets a split index: its page shows
# the INDEX_TOP most documented and links a page per first letter (urls.index_letter), each cut
# into parts of INDEX_BUDGET rows, so no page grows with the desk.
INDEX_BUDGET = 1000
INDEX_TOP = 200


def _entity_index(site: Site, kind: str, label: str, map_context: Mapping[str, Any]) -> list[Page]:
    """The index page of actors or places (with `map_context`, the places map), and the letter
    pages past INDEX_BUDGET. Entities within a letter are in the order of their matching keys."""
    rows = [(e, len(site.tagged.get(e.ref, ()))) for e in site.entities_of_kind(kind)]
    context = {"title": label, "kind": kind, "rows": rows, "ambiguous": _ambiguous(site, kind), **map_context}
    if len(rows) <= INDEX_BUDGET:
        return [Page(section_path(kind), "entity_index.html", context)]
    filed: dict[str, list[tuple[Entity, int]]] = {}
    for row in sorted(rows, key=lambda r: (name_key(r[0].title), r[0].title.casefold(), r[0].slug)):
        filed.setdefault(index_letter(row[0].title), []).append(row)
    letters = [(name, letter_path(kind, key), len(filed[key])) for key, name in INDEX_LETTERS if key in filed]
    top = sorted(rows, key=lambda r: (-r[1], r[0].title.casefold(), r[0].slug))[:INDEX_TOP]
    split = {"total": len(rows), "letters": letters, "letter": "", "parts": [], "index": section_path(kind)}
    pages = [Page(section_path(kind), "entity_index.html", {**context, "rows": top, **split})]
    for key, name in INDEX_LETTERS:
        chunks = [filed[key][k : k + INDEX_BUDGET] for k in range(0, len(filed.get(key, ())), INDEX_BUDGET)]
        parts = [letter_path(kind, key, n) for n in range(1, len(chunks) + 1)]
        for n, chunk in enumerate(chunks, 1):
            title = f"{label}: {name}" + (f" ({n} of {len(chunks)})" if len(chunks) > 1 else "")
            pages.append(Page(parts[n - 1], "entity_index.html", {
                "title": title, "kind": kind, "rows": chunk, "ambiguous": [], **split,
                "letter": name, "part": n, "parts": parts if len(parts) > 1 else []}))
    return pages


SITEMAP_LIMIT = 50_000  # URLs in one sitemap file, the protocol's limit (its 50 MB: ours are ~100 bytes a URL)


def _sitemaps(shown: list[Page]) -> list[Page]:
    """sitemap.xml, listing these pages; past SITEMAP_LIMIT, a sitemap index of files of that many.
    Split, the documents come first, oldest first, then the other pages as planned: a new
    document (mostly the newest) is then added at the end of the documents, and changes only
    the file it lands in and those after it, which hold the few pages that are not documents."""
    if len(shown) <= SITEMAP_LIMIT:
        return [Page(SITEMAP_PATH, "sitemap.xml", {"pages": [(p.path, _lastmod(p)) for p in shown]})]
    docs = [p for p in shown if p.template == "document.html"][::-1]  # planned newest first
    ordered = [(p.path, _lastmod(p)) for p in docs + [p for p in shown if p.template != "document.html"]]
    chunks = [ordered[k : k + SITEMAP_LIMIT] for k in range(0, len(ordered), SITEMAP_LIMIT)]
    parts = [Page(sitemap_part_path(n), "sitemap.xml", {"pages": chunk}) for n, chunk in enumerate(chunks, 1)]
    index = [(part.path, max((m for _, m in part.context["pages"]), default="")) for part in parts]
    return [Page(SITEMAP_PATH, "sitemap_index.xml", {"sitemaps": index}), *parts]


LIST_LIMIT = 200  # links in a list that grows with the site ("Mentioned in"); the rest are counted
SIDE_LIMIT = 100  # entities in a side list ("Appears with"), strongest first; the rest are counted
CHANGES_LIMIT = 500  # entries on /changes/ (about 300 bytes each): the page stays under the size budget


def confidence_move(doc: Document) -> str:
    """How a note's confidence moved since its last earlier judgment (`history`) that gave one:
    `low → moderate`, `moderate, unchanged`; "" without such a judgment."""
    before = next((j.confidence for j in reversed(doc.history) if j.confidence), "")
    if not before or not doc.confidence:
        return ""
    return f"{before} → {doc.confidence}" if before != doc.confidence else f"{doc.confidence}, unchanged"


_SITE_WIDE = frozenset({"home.html", "entity_index.html", "search.html", "graph.html", "brief.html"})


def page_tlp(context: Mapping[str, Any]) -> str:
    """The TLP marking of a page (TLP 2.0: every page carries one): the highest level of the
    documents it shows, and at least its `tlp_floor`; CLEAR when it shows none."""
    best = TLP_ORDER.get(context.get("tlp_floor", "clear"), 0)

    def walk(value: Any) -> None:
        nonlocal best
        kind = type(value)
        if kind is Document:
            best = max(best, TLP_ORDER[value.tlp])
        elif kind is list or kind is tuple:
            for item in value:
                if type(item) is Document:
                    best = max(best, TLP_ORDER[item.tlp])
                elif type(item) not in _LEAVES:
                    walk(item)
        elif kind is dict or (kind not in _LEAVES and isinstance(value, Mapping)):
            for item in value.values():
                walk(item)

    walk(context)
    return _TLP_BY_ORDER[best]


_TLP_BY_ORDER = {order: level for level, order in TLP_ORDER.items()}


def _newest(docs: list[Document]) -> dt.date:
    """The feed's <updated>: from content, never the clock, so builds are reproducible."""
    return max((d.updated or d.date for d in docs), default=dt.date(1970, 1, 1))


def _top(site: Site, kind: str, limit: int = 12) -> list[tuple[Entity, int]]:
    rows = [(e, len(site.tagged.get(e.ref, ()))) for e in site.entities_of_kind(kind)]
    return sorted(rows, key=lambda r: (-r[1], r[0].title.casefold()))[:limit]


def _lastmod(page: Page) -> str:
    doc = page.context.get("doc")
    if isinstance(doc, Document):
        return (doc.updated or doc.date).isoformat()
    return ""


def _document_context(site: Site, bodies: Mapping[Ref, Body], doc: Document) -> dict[str, Any]:
    tags = [site.entities[t] for t in site.tags.get(doc.ref, ())]
    return {
        "title": doc.title,
        "doc": doc,
        "body": bodies.get(doc.ref),
        "actors": [e for e in tags if e.kind == "actor"],
        "places": [e for e in tags if e.kind == "place"],
        "backlinks": [_item(site, r) for r in site.mentions.get(doc.ref, ())],
        "related": [site.documents[r] for r in site.related.get(doc.ref, ())],
        "sources": [site.documents[r] if r is not None else None for r in site.cited.get(doc.ref, ())],
    }


def _ambiguous(site: Site, kind: str) -> list[tuple[str, list[Entity]]]:
    """The index's disambiguation entries: each name that several profiles of this kind share, and them."""
    rows = [(shared.name, [site.entities[r] for r in shared.candidates if r in site.entities])
            for (of_kind, _), shared in site.ambiguous.items() if of_kind == kind]
    return sorted(rows, key=lambda row: (row[0].casefold(), row[0]))


def own_pages(site: Site, bodies: Mapping[Ref, Body], config: SiteConfig, urls: Urls, paths: Collection[str],
              drawings: features.Drawings | None = None) -> list[Page]:
    """The pages of the documents and profiles made from these content files (site-relative
    paths), as `plan` makes them (by the same functions): what the preview server renders and
    serves first, before the rest of the site is planned."""
    pages = [_document_page(site, bodies, doc) for doc in site.documents.values() if doc.path in paths]
    entities = [e for e in site.entities.values() if e.has_profile and e.path in paths]
    if entities:
        extra, shares = features.Features.of(site, config, urls, drawings), _shares(site)
        pages += [_entity_page(site, bodies, entity, shares, extra)[0] for entity in entities]
    return pages


def _document_page(site: Site, bodies: Mapping[Ref, Body], doc: Document) -> Page:
    return Page(page_path(doc.ref), "document.html", _document_context(site, bodies, doc))


def _entity_page(site: Site, bodies: Mapping[Ref, Body], entity: Entity,
                 shares: Mapping[Ref, list[tuple[str, list[Entity]]]], extra: features.Features
                 ) -> tuple[Page, features.Archive, list[Document]]:
    """An entity's page, its archive by month and the documents tagged with it (for its feed)."""
    context = {**_entity_context(site, bodies, entity, shares.get(entity.ref, [])), **extra.entity(entity)}
    tagged = context["docs"]
    listing = features.archive(page_path(entity.ref), context["months"])
    context.update(docs=listing.shown, months=listing.first, more=listing.more, archive=listing.months)
    return Page(page_path(entity.ref), "entity.html", context), listing, tagged


def _shares(site: Site) -> dict[Ref, list[tuple[str, list[Entity]]]]:
    """Profile -> the ambiguous names it claims, each with the other profiles that claim it."""
    out: dict[Ref, list[tuple[str, list[Entity]]]] = {}
    for shared in site.ambiguous.values():
        for ref in shared.candidates:
            others = [site.entities[r] for r in shared.candidates if r != ref and r in site.entities]
            out.setdefault(ref, []).append((shared.name, others))
    return out


def _entity_context(site: Site, bodies: Mapping[Ref, Body], entity: Entity,
                    shares: list[tuple[str, list[Entity]]]) -> dict[str, Any]:
    ref = entity.ref
    parent = site.parent.get(ref)
    listed = {*site.tagged.get(ref, ()), *site.possibly.get(ref, ())}  # "Mentioned in" adds only the others
    mentions = [_item(site, r) for r in site.mentions.get(ref, ()) if r not in listed]
    possibly = [site.documents[r] for r in site.possibly.get(ref, ())]  # tagged by a name it shares
    return {
        "title": entity.title,
        "entity": entity,
        "body": bodies.get(ref),
        "docs": [site.documents[r] for r in site.tagged.get(ref, ())],
        "doc_count": len(site.tagged.get(ref, ())),
        "mentions": mentions[:LIST_LIMIT], "mentions_more": max(0, len(mentions) - LIST_LIMIT),
        "co_actors": [(site.entities[r], n) for r, n in site.co_actors.get(ref, ())[:SIDE_LIMIT]],
        "co_actors_more": max(0, len(site.co_actors.get(ref, ())) - SIDE_LIMIT),
        "co_places": [(site.entities[r], n) for r, n in site.co_places.get(ref, ())[:SIDE_LIMIT]],
        "co_places_more": max(0, len(site.co_places.get(ref, ())) - SIDE_LIMIT),
        "affiliations": [site.entities[r] for r in site.affiliations.get(ref, ())],
        "relations": [(RELATION_TYPES[rel.type][0 if outgoing else 1], site.entities[other],
                       rel.since.isoformat() if rel.since else "", rel.until.isoformat() if rel.until else "",
                       rel.confidence, rel.source) for rel, other, outgoing in site.relations.get(ref, ())],
        "parent": site.entities[parent] if parent else None,
        "children": [site.entities[r] for r in site.children.get(ref, ())],
        "feed": feed_path(ref),
        "possibly": possibly[:LIST_LIMIT], "possibly_more": max(0, len(possibly) - LIST_LIMIT),
        "shares": shares,  # (name, other profiles claiming it)
    }


def _item(site: Site, ref: Ref) -> Document | Entity:
    return site.documents.get(ref) or site.entities[ref]


# --------------------------------------------------------------------------- rendering


class _Globals(ChainMap):  # type: ignore[type-arg]
    """A template's globals whose key set is a plain dict's: Jinja subtracts it from the
    page's on every `{% from ... import %}`, and ChainMap's own keys view does that in
    Python, one key at a time (a sixth of a document page's rendering time)."""

    def keys(self):  # type: ignore[no-untyped-def, override]
        merged: dict[str, Any] = {}
        for mapping in reversed(self.maps):
            merged.update(mapping)
        return merged.keys()


def _bytecode_cache(folder: Path | None) -> jinja2.BytecodeCache | None:
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # only an accelerator
    return _CompiledTemplates(str(folder))


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's cache of compiled templates; a damaged or vanished entry means compiling again."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - any damage: compile from the source instead
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


_new_markup = str.__new__
_escape_inner: Callable[[str], str] | None = getattr(markupsafe, "_escape_inner", None)  # its C speedup


def quick_escape(value: Any) -> Markup:
    """markupsafe.escape, which templates call for every value they print, without the Python-level
    Markup constructor for the values they print most: the same text (a Markup is returned itself:
    strings are immutable). Entity pages print some 500 values, document pages some 60."""
    kind = type(value)
    if kind is str and _escape_inner is not None:
        return _new_markup(Markup, _escape_inner(value))
    if kind is Markup:
        return value
    if kind is int:
        return _new_markup(Markup, int.__repr__(value))  # digits: nothing to escape
    return markupsafe.escape(value)


class _Template(jinja2.Template):
    @classmethod
    def from_code(cls, environment: jinja2.Environment, code: Any, globals: MutableMapping[str, Any],
                  uptodate: Callable[[], bool] | None = None) -> jinja2.Template:
        """A compiled template whose module calls quick_escape where it would call markupsafe.escape."""
        template = super().from_code(environment, code, globals, uptodate)
        namespace = template.root_render_func.__globals__  # type: ignore[attr-defined]
        if namespace.get("escape") is markupsafe.escape:
            namespace["escape"] = quick_escape
        return template


class _Environment(jinja2.Environment):
    template_class = _Template

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return _Globals({} if d is None else d, self.globals)


def environment(config: SiteConfig, urls: Urls, compiled: Path | None = None) -> jinja2.Environment:
    """The site's Jinja environment. With `compiled` (a folder of the build cache), templates
    compiled by an earlier build are loaded from there instead of compiled again: every
    build, and every forked page worker, would otherwise spend ~70 ms compiling them all.
    Jinja checks each entry against the template's source and its own version."""
    loaders: list[jinja2.BaseLoader] = []
    if config.layouts_dir.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(config.layouts_dir)))
    loaders.append(jinja2.FileSystemLoader(str(THEME / "templates")))
    env = _Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # a new environment every build: templates never change under one
        bytecode_cache=_bytecode_cache(compiled),
    )
    env.globals.update(
        site=config,
        version=__version__,
        href=urls.href,
        absolute=urls.absolute,
        url=lambda item: urls.of(item.ref),
        permalink=lambda item: urls.absolute(page_path(item.ref)),
        tlp_wording=_TLP_WORDING,
        confidence_meaning=_CONFIDENCE_MEANING,
        confidence_move=confidence_move,
    )
    env.globals["nav"] = NAV
    env.globals["chrome"] = Chrome(env, frozenset(path for path, _ in NAV))
    env.globals["link_preview"] = link_preview
    fragments = Fragments()
    env.globals.update(features.template_globals(config, urls, fragments))
    env.globals["doc_item"] = items = DocItems(env, fragments)
    env.globals["page_item"] = items.page_item
    env.globals["doc_items"] = items.many
    env.filters["date"] = lambda d, fmt="%-d %b %Y": d.strftime(fmt) if d else ""
    env.filters["rfc3339"] = lambda d: f"{d.isoformat()}T00:00:00Z"
    return env


# The sections in every page's masthead: (site path, label).
NAV = (("", "Latest"), ("timeline/", "Timeline"), ("actors/", "Actors"), ("places/", "Places"),
       ("articles/", "Articles"), ("notes/", "Notes"), ("graph/", "Network"), ("brief/", "Brief"))


class Chrome:
    """The parts of every page that depend only on the site and on which section is the
    current one (masthead.html, footer.html): rendered once per build and variant instead of
    once per page (a tenth of a millisecond each, 11,000 times at 10,000 documents). They are
    templates like the others (a layout may replace them) and see the site's values, `nav`,
    `current`: the section the page is in ("articles/" for "articles/x/"), else None, and
    `current_is_page`: whether the page is that section's own index."""

    def __init__(self, env: jinja2.Environment, sections: frozenset[str]):
        self._env, self._sections = env, sections
        self._memo: dict[tuple[str, str | None, bool], Markup] = {}

    def section_of(self, page_path: str | None) -> tuple[str | None, bool]:
        """(the nav section a page is in, whether it is the section's index page)."""
        if page_path in self._sections:
            return page_path, True
        if type(page_path) is str and "/" in page_path:
            head = page_path[: page_path.index("/") + 1]
            if head in self._sections:
                return head, False
        return None, False

    def __call__(self, name: str, page_path: str | None = None) -> Markup:
        key = (name, *self.section_of(page_path))
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = Markup(self._env.get_template(name).render(current=key[1],
                                                                                  current_is_page=key[2]))
        return found


_PREVIEW_LIMIT = 200  # characters of a page's description: what search results and link cards show


@jinja2.pass_context
def link_preview(context: Mapping[str, Any]) -> dict[str, str]:
    """`link_preview()` in base.html: the page's description (a document's summary, a profile's,
    else the site's), cut to a short snippet, and its OpenGraph type."""
    doc, entity = context.get("doc"), context.get("entity")
    if type(doc) is Document:
        text, kind = doc.summary or context["site"].description, "article"
    elif type(entity) is Entity and entity.summary:
        text, kind = entity.summary, "website"
    else:
        text, kind = context["site"].description, "website"
    return {"description": shorten(text), "type": kind}


def shorten(text: str, limit: int = _PREVIEW_LIMIT) -> str:
    """`text` on one line, cut at the last word boundary within `limit` characters (with an ellipsis)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:.-") + "…"


class Fragments:
    """Pieces of pages that show one document (its entry in listings, its rows in the
    exports), made once however many pages show them. Keys start with (ref, meta_digest)
    and name what else the piece depends on, so a changed front-matter is a new piece:
    the preview server and warm builds (warm.py) keep them from build to build. Pieces
    made in forked page workers come back to the parent with `take_new`."""

    def __init__(self) -> None:
        self.memo: dict[tuple, Any] = {}
        self._new: list[tuple] = []

    def get(self, key: tuple, make: Callable[[], Any]) -> Any:
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = make()
            self._new.append(key)
        return found

    def take_new(self) -> dict[tuple, Any]:
        new = {key: self.memo[key] for key in self._new}
        self._new.clear()
        return new

    def keep(self, docs: Iterable[Document]) -> dict[tuple, Any]:
        """The pieces of these documents as they are (what a saved state keeps)."""
        return self.keep_of(self.memo, docs)

    @staticmethod
    def keep_of(pieces: dict[tuple, Any], docs: Iterable[Document]) -> dict[tuple, Any]:
        current = {(d.ref, d.meta_digest) for d in docs}
        return {key: value for key, value in pieces.items() if key[:2] in current}


class DocItems:
    """`doc_item(doc)` in templates: a document's entry in a listing (doc_item.html);
    `page_item(item)`: a document or entity in a short list (page_item.html). A document's
    entries are made once per build however many pages show them (see Fragments)."""

    def __init__(self, env: jinja2.Environment, fragments: Fragments):
        self.env, self.fragments = env, fragments

    def __call__(self, doc: Document) -> Markup:
        return self.fragments.get((doc.ref, doc.meta_digest, "item"), lambda: self._render("doc_item.html", doc=doc))

    def many(self, docs: Iterable[Document]) -> Markup:
        """`doc_items(docs)` in templates: the entries of these documents, one a line, as a loop
        of `doc_item(doc)` would write them without the line after the last (7 us less an
        entry than that loop, whose every turn is a call through Jinja's context)."""
        return Markup("\n".join([self(doc) for doc in docs]))

    def page_item(self, item: Document | Entity) -> Markup:
        if type(item) is not Document:
            return self._render("page_item.html", item=item)
        return self.fragments.get((item.ref, item.meta_digest, "page-item"),
                                  lambda: self._render("page_item.html", item=item))

    def _render(self, name: str, **context: Any) -> Markup:
        return Markup(self.env.get_template(name).render(**context))

    def start_fill(self, docs: Iterable[Document]) -> Filling:
        """Render every missing entry of these documents on every core, before the pages that
        list them (forked page workers then share them instead of each rendering its own).
        The workers start now; `finish()` waits for them and keeps the entries."""
        memo = self.fragments.memo
        missing = [d for d in docs if (d.ref, d.meta_digest, "item") not in memo
                   or (d.ref, d.meta_digest, "page-item") not in memo]
        try:
            item, page_item = self.env.get_template("doc_item.html"), self.env.get_template("page_item.html")
        except jinja2.TemplateError:  # reported with the page that uses it
            return Filling(memo, [], parallel.start(lambda docs: ([], []), []))
        batches = [missing[i : i + _ENTRY_BATCH] for i in range(0, len(missing), _ENTRY_BATCH)]

        def entries(docs: list[Document]) -> tuple[list[str], list[str]]:  # one template, then the other
            return [item.render(doc=doc) for doc in docs], [page_item.render(item=doc) for doc in docs]

        few = len(missing) < parallel.INLINE_BELOW  # made here: a fork costs more
        return Filling(memo, batches, parallel.start(entries, batches, processes=1 if few else None, chunksize=1))


_ENTRY_BATCH = 128  # documents whose entries a worker makes at a time


class Filling:
    """Listing entries being rendered (DocItems.start_fill)."""

    def __init__(self, memo: dict[tuple, Any], batches: list[list[Document]],
                 rendered: parallel.Started[tuple[list[str], list[str]]]):
        self._memo, self._batches, self._rendered = memo, batches, rendered

    def finish(self) -> None:
        for docs, (entries, shorts) in zip(self._batches, self._rendered):
            for doc, entry, short in zip(docs, entries, shorts):
                self._memo[(doc.ref, doc.meta_digest, "item")] = Markup(entry)
                self._memo[(doc.ref, doc.meta_digest, "page-item")] = Markup(short)
        self.close()

    def close(self) -> None:
        self._rendered.close()


def doc_items(env: jinja2.Environment) -> DocItems:
    return env.globals["doc_item"]  # type: ignore[return-value]


def fragments_of(env: jinja2.Environment) -> Fragments:
    return doc_items(env).fragments


def warm_up(env: jinja2.Environment, pages: Iterable[Page]) -> None:
    """Compile the templates these pages use ahead of need: the preview server does this
    after a full build, so the first save is as fast as the next."""
    for name in sorted({page.template for page in pages if page.template} | set(env.list_templates())):
        try:
            env.get_template(name)
        except jinja2.TemplateError:
            return  # the build reported it


# Characters that XML 1.0 forbids and HTML reports as parse errors (a NUL written as `\0` in
# YAML, a stray control character): shown as U+FFFD, so feeds stay well-formed XML.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_pages(env: jinja2.Environment, pages: Iterable[Page], diags: Diagnostics) -> dict[str, bytes]:
    """Render pages to bytes; template problems become diagnostics (first one per template)."""
    out: dict[str, bytes] = {}
    cache: dict[str, jinja2.Template | None] = {}
    for page in pages:
        if page.template not in cache:
            cache[page.template] = _load_template(env, page.template, diags)
        template = cache[page.template]
        if template is None:
            continue
        try:
            marking = page_tlp(page.context) if page.template.endswith(".html") else "clear"
            text = template.render(page.context, page_path=page.path, page_tlp=marking)
            out[page.path] = _NOT_IN_XML.sub("\ufffd", text).encode("utf-8")
        except Exception as exc:  # any template runtime error: report where, stop using it
            _report_runtime(exc, page.template, diags)
            cache[page.template] = None
    return out


def _load_template(env: jinja2.Environment, name: str, diags: Diagnostics) -> jinja2.Template | None:
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        diags.error(_template_rel(exc.filename, exc.name or name), exc.lineno, f"template error: {exc.message}")
    except jinja2.TemplateNotFound as exc:
        diags.error(f"layouts/{name}", 0, f"template not found: {exc.name}")
    return None


def _report_runtime(exc: Exception, name: str, diags: Diagnostics) -> None:
    where, line = f"layouts/{name}", 0
    for frame, lineno in traceback.walk_tb(sys.exc_info()[2]):
        filename = frame.f_code.co_filename
        if filename.endswith((".html", ".xml")):
            where, line = _template_rel(filename, name), lineno
    diags.error(where, line, f"template error: {type(exc).__name__}: {exc}")


def _template_rel(filename: str | None, name: str) -> str:
    if not filename:
        return f"layouts/{name}"
    path = Path(filename)
    try:
        return "generator/theme/templates/" + path.relative_to(THEME / "templates").as_posix()
    except ValueError:
        return f"layouts/{path.name}" if path.parent.name == "layouts" else str(path)


class BodySource(Protocol):
    """Where rendered bodies live (generator.content.cache.Cache)."""

    def html(self, key: str) -> str: ...

    def words(self, key: str) -> str: ...


class Body:
    """A rendered Markdown body, filled in only when a template shows it.

    Holding the cache key instead of the HTML keeps memory flat at 10,000
    documents, and gives pages a cheap fingerprint: (key, link targets).
    """

    __slots__ = ("ref", "key", "links", "targets", "base_path", "source")

    def __init__(self, ref: Ref, key: str, links: tuple[WikiLink, ...], targets: tuple[LinkTarget, ...],
                 base_path: str, source: "BodySource"):
        self.ref, self.key, self.links, self.targets = ref, key, links, targets
        self.base_path, self.source = base_path, source

    def html(self) -> str:
        return resolve(self.source.html(self.key), self.links, self.base_path, self.targets)

    def words(self) -> str:
        """Its distinct words for the search index (computed when it was rendered)."""
        return self.source.words(self.key)

    def __html__(self) -> str:
        return self.html()

    def __bool__(self) -> bool:
        return bool(self.source.html(self.key).strip())

    def token(self) -> tuple:
        return (self.key, self.targets)

    def __getstate__(self) -> tuple:  # kept with the build's state (warm.py), without its cache connection
        return (self.ref, self.key, self.links, self.targets, self.base_path)

    def __setstate__(self, state: tuple) -> None:
        self.ref, self.key, self.links, self.targets, self.base_path = state
        self.source = None  # type: ignore[assignment]  # the loader attaches the open cache


def make_bodies(
    keys: Mapping[Ref, str],
    links: Mapping[Ref, tuple[WikiLink, ...]],
    targets: Mapping[Ref, tuple[tuple[Ref, str] | None, ...]],
    site: Site,
    urls: Urls,
    source: BodySource,
) -> dict[Ref, Body]:
    """A Body for every published document and profile, with [[link]] targets resolved to URLs."""
    bodies: dict[Ref, Body] = {}
    for ref, key in keys.items():
        if ref not in site.documents and ref not in site.entities:
            continue
        resolved: list[LinkTarget] = []
        for found in targets.get(ref, ()):
            if found is None:
                resolved.append(None)
                continue
            target, anchor = found
            item = site.documents.get(target) or site.entities[target]
            resolved.append((urls.of(target) + (f"#{anchor}" if anchor else ""), item.title))
        bodies[ref] = Body(ref, key, links.get(ref, ()), tuple(resolved), urls.base_path, source)
    return bodies


# --------------------------------------------------------------------------- fingerprints


def fingerprint(page: Page, salt: str, found: Shown | None = None) -> str:
    """A digest of everything the page shows, without rendering it.

    Documents stand for themselves by the digest of their front-matter (every
    field a listing can show), entities by their profile's or by their name,
    bodies by (cache key, link targets). Two pages with equal fingerprints render to the
    same bytes with the same templates, configuration and generator (`salt`).
    Given `found`, also collects what `shown` would say, in the same walk.
    """
    parts: list[str] = [salt, page.path, page.template]
    _tokens(page.context, parts.append, found)
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


Shown = tuple[set[Ref], set[Ref]]  # (documents, bodies) a page shows
Seen = tuple[Iterable[Ref], Iterable[Ref]]  # the same, kept as the build likes (see build._render_to)


def shown(page: Page) -> tuple[set[Ref], set[Ref]]:
    """The documents and the bodies a page shows: the preview server re-renders exactly
    the pages that show a document whose front-matter changed, or a body that changed."""
    docs: set[Ref] = set()
    bodies: set[Ref] = set()

    def walk(value: Any) -> None:
        kind = type(value)
        if kind is Document:
            docs.add((value.kind, value.slug))
        elif kind is Body:
            bodies.add(value.ref)
        elif kind is list or kind is tuple:
            for item in value:
                if type(item) is Document:  # long lists of documents: no call per item
                    docs.add((item.kind, item.slug))
                elif type(item) not in _LEAVES:
                    walk(item)
        elif kind is dict:
            for item in value.values():
                walk(item)
        elif kind not in _LEAVES and isinstance(value, Mapping):
            for item in value.values():
                walk(item)

    walk(page.context)
    return docs, bodies


# Types that hold no document, entity or body; exact types, so a subclass takes the general path.
_LEAVES = frozenset({str, int, float, bool, type(None), dt.date})


def _tokens(value: Any, emit: Callable[[str], None], found: Shown | None) -> None:
    kind = type(value)  # exact types are tested before the isinstance checks: those against ABCs are slow
    if kind in _LEAVES:
        emit(repr(value))
    elif (kind is list or kind is tuple) and all(type(s) is str for s in value):  # tags, pairs: one repr in C
        emit("S" + repr(value))
    elif isinstance(value, list) and value and all(isinstance(d, Document) for d in value):
        emit("L" + ",".join([d.listed_as for d in value]))  # fast path for long lists
        if found is not None:
            found[0].update([d.ref for d in value])
    elif isinstance(value, Document):
        emit("D" + value.listed_as)
        if found is not None:
            found[0].add(value.ref)
    elif isinstance(value, Entity):
        emit("E" + value.listed_as)
    elif isinstance(value, Body):
        emit("B" + repr(value.token()))
        if found is not None:
            found[1].add(value.ref)
    elif kind is search.TermShard:  # a digest of its postings: the words of every document, by shard
        emit("T" + value.token())
    elif isinstance(value, (str, int, float, bool, dt.date)) or value is None:
        emit(repr(value))
    elif kind is not list and kind is not tuple and (kind is dict or isinstance(value, Mapping)):
        for key in sorted(value, key=repr):
            emit(repr(key))
            _tokens(value[key], emit, found)
    elif isinstance(value, (list, tuple)):
        emit("[")
        for item in value:
            if type(item) is tuple and len(item) == 2 and type(item[0]) is Entity and type(item[1]) is int:
                emit("[")  # (an entity and its count, as in co_actors: what the recursion would emit)
                emit("E" + item[0].listed_as)
                emit(repr(item[1]))
                emit("]")
            else:
                _tokens(item, emit, found)
        emit("]")
    else:
        raise TypeError(f"cannot fingerprint {type(value).__name__} in a page context")
