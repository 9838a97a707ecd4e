"""Analyst features as pages and page parts: search, timelines, link graphs, maps,
the printable brief and the exports.

`render.plan` asks a :class:`Features`, made once per build, for the extra
context of entity pages, the places index and the timeline, and for the pages
this module adds. Pages are (site path, template, context) triples.

Contexts hold model values (documents, entities, bodies, numbers, strings) and
no Site, so the build's page fingerprints see everything a page depends on.
The big files (search index, graph.json, stix.json) are serialised by template
globals at render time, so an unchanged site does not rebuild them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Collection, Mapping

from markupsafe import Markup

from generator.pages import exports, search, svg
from generator.content.config import SiteConfig
from generator.content.model import TLP_ORDER, Document, Entity, Ref, Relation, Site, relation_type
from generator.site.urls import Urls, archive_path

SEARCH_PATH = "search/"
SEARCH_INDEX_PATH = "search/index.json"


def search_file_path(name: str) -> str:
    """A file of the search index beside index.json (search.js derives the same names: search.file_names)."""
    return f"search/{name}"
GRAPH_PATH = "graph/"
BRIEF_PATH = "brief/"
GRAPH_DATA_PATH = "data/graph.json"
STIX_PATH = "data/stix.json"
BASE_MAP_PATH = "maps/region.svg"
BRIEF_NOTES = 10  # latest analyst notes on the brief
BRIEF_ARTICLES = 10  # latest articles listed under them
ACTOR_MAP_LIMIT = 30  # places on an actor's "where it is active" map
SIDE_MAP_WIDTH = 340.0  # maps in the side column: fewer pixels, so the lettering stays readable
PLACES_MAP_WIDTH = 440.0  # the map of /places/, at most PLACES_MAP_MAX wide on a page
PLACES_MAP_MAX = "34rem"
NEARBY_DEGREES = 1.5  # a place page's map shows the places this close to it
NEAREST_DEGREES = 6.0  # or, with none that close, the nearest place if it is within this
PLACE_MAP_SPAN = (2.4, 3.0)  # and at least this much of the world (degrees of latitude, longitude)

RELIABILITY = {  # Admiralty scale: the source
    "A": "Completely reliable", "B": "Usually reliable", "C": "Fairly reliable",
    "D": "Not usually reliable", "E": "Unreliable", "F": "Reliability cannot be judged",
}
CREDIBILITY = {  # Admiralty scale: the information
    "1": "Confirmed by other sources", "2": "Probably true", "3": "Possibly true",
    "4": "Doubtful", "5": "Improbable", "6": "Truth cannot be judged",
}
Triple = tuple[str, str, Mapping[str, Any]]


Month = tuple[str, str, list[Document]]  # (`2023-10`, `October 2023`, documents)
LISTING_BUDGET = 200  # documents on one listing page (about 420 bytes each): every page stays far under 400 KB


def by_month(docs: list[Document], reported: bool = False) -> list[Month]:
    """Documents grouped by the month they happened in (`event_date`), else were reported in,
    newest first: (`2023-10`, `October 2023`, documents); `docs` come newest reported first.
    `reported`: by the month they were reported in, in their own order (the section pages)."""
    if not reported:
        docs = sorted(docs, key=lambda d: d.timeline_date, reverse=True)  # (stable: ties keep their order)
    when = (lambda d: (d.date.year, d.date.month)) if reported else \
        (lambda d: (d.timeline_date.year, d.timeline_date.month))
    groups = itertools.groupby(docs, key=when)
    return [(f"{y:04d}-{m:02d}", dt.date(y, m, 1).strftime("%B %Y"), list(g)) for (y, m), g in groups]


@dataclass(frozen=True)
class Archive:
    """A listing of documents cut to the size budget: what its own page shows, and one archive
    page per month (split by position into parts of `budget`) when it holds more than that.
    Every path depends only on which documents a listing has and their dates: structural edits."""

    first: list[Month]  # the listing's own page: the latest whole months within the budget,
    #                     else the first part of the latest month
    more: str  # the path of the latest month's second part when `first` shows only its first, else ""
    months: list[tuple[str, str, int, str]]  # every month (key, label, documents, path); [] without archive
    pages: list[tuple[str, dict[str, Any]]]  # (path, context) of every archive page, newest first

    @property
    def shown(self) -> list[Document]:
        return [d for _, _, docs in self.first for d in docs]


def archive(listing: str, months: list[Month], budget: int = LISTING_BUDGET, taken: Collection[str] = ()) -> Archive:
    """The archive by month of the listing at site path `listing`; `taken`: the slugs of the
    pages under it (see urls.archive_path)."""
    if sum(len(docs) for _, _, docs in months) <= budget:
        return Archive(months, "", [], [])
    first: list[Month] = []
    count = 0
    for month in months:
        if count + len(month[2]) > budget:
            break
        first.append(month)
        count += len(month[2])
    more = ""
    if not first:  # the latest month alone is over the budget: its first part
        key, label, docs = months[0]
        first, more = [(key, label, docs[:budget])], archive_path(listing, key, 2, taken)
    rows = [(key, label, len(docs), archive_path(listing, key, 1, taken)) for key, label, docs in months]
    pages: list[tuple[str, dict[str, Any]]] = []
    for i, (key, label, docs) in enumerate(months):
        parts = [docs[k : k + budget] for k in range(0, len(docs), budget)]
        for n, chunk in enumerate(parts, 1):
            pages.append((archive_path(listing, key, n, taken), {
                "month": label, "docs": chunk, "part": n, "parts": len(parts), "listing": listing,
                "earlier_part": archive_path(listing, key, n - 1, taken) if n > 1 else "",
                "later_part": archive_path(listing, key, n + 1, taken) if n < len(parts) else "",
                "newer": rows[i - 1][1::2] if i > 0 else None,  # (label, path)
                "older": rows[i + 1][1::2] if i + 1 < len(rows) else None,
            }))
    return Archive(first, more, rows, pages)


def template_globals(config: SiteConfig, urls: Urls, fragments: exports.Fragments | None = None) -> dict[str, Any]:
    """Functions and tables the feature templates call (`fragments`: see render.Fragments)."""
    return {
        "reliability_meaning": RELIABILITY,
        "credibility_meaning": CREDIBILITY,
        "ld_json": exports.ld_json,
        "ld_page": partial(exports.ld_page, site_title=config.title, description=config.description, urls=urls),
        "ld_document": partial(exports.ld_document, site_title=config.title, language=config.language, urls=urls),
        "ld_entity": partial(exports.ld_entity, urls=urls),
        "search_index": search.index_json,
        "search_terms": search.terms_json,
        "search_docs": search.docs_json,
        "search_tags": search.tags_json,
        "graph_json": partial(exports.graph_json, urls=urls, fragments=fragments),
        "stix_json": partial(exports.stix_json, site_title=config.title, language=config.language,
                             max_tlp=config.max_tlp, urls=urls, fragments=fragments),
    }


class Drawings:
    """The SVG drawings of entity pages (an actor's graph and map, a place's map), by a digest
    of everything they are drawn from (the drawing function and its arguments, all plain values
    whose repr is exact), so that a build draws only what a change touched: 0.5 s of a build at
    10,000 documents. `stored(key)` finds a previous build's (the cache's drawings table; the
    cache is keyed by the code version); `new` and `used` are for the caller to store."""

    def __init__(self, stored: Callable[[str], str | None] | None = None):
        self._stored = stored
        self.used: set[str] = set()
        self.new: dict[str, str] = {}

    def draw(self, make: Callable[..., str], *args: Any, **kwargs: Any) -> str:
        key = hashlib.blake2b(repr((make.__name__, args, sorted(kwargs.items()))).encode(), digest_size=16).hexdigest()
        found = self.new.get(key)
        if found is None and self._stored is not None:
            found = self._stored(key)
        if found is None:
            found = self.new[key] = make(*args, **kwargs)
        self.used.add(key)
        return found


def country_outline(place: Entity) -> str:
    """The country of the map outline a place is drawn as (see svg.outline_name), or "": a place
    whose profile's kind is `country`, or which has no kind, named (or aliased) as a country there."""
    if place.type and place.type.casefold() != "country":
        return ""
    return svg.outline_name((place.title, *place.aliases))


@dataclass(frozen=True)
class Features:
    site: Site
    urls: Urls
    counts: Mapping[Ref, int]
    affiliated_from: Mapping[Ref, tuple[Ref, ...]]  # actor -> actors whose profiles name it
    frame: svg.Frame | None  # the map of /places/: around every place with coordinates
    small: svg.Frame | None  # the same area, drawn for the side column of entity pages
    points: tuple[tuple[float, float], ...]  # every place with coordinates drawn as a dot (not as a country's shape)
    drawings: Drawings

    @classmethod
    def of(cls, site: Site, config: SiteConfig, urls: Urls, drawings: Drawings | None = None) -> "Features":
        counts = {ref: len(site.tagged.get(ref, ())) for ref in site.entities}
        back: dict[Ref, list[Ref]] = defaultdict(list)
        for source, targets in site.affiliations.items():
            for target in targets:
                back[target].append(source)
        located = [e for e in site.entities.values() if e.kind == "place" and e.coordinates]
        points = [e.coordinates for e in located]
        frame, small = svg.Frame.around(points, width=PLACES_MAP_WIDTH), svg.Frame.around(points, width=SIDE_MAP_WIDTH)
        dotted = tuple(e.coordinates for e in located if not country_outline(e))
        return cls(site, urls, counts, {k: tuple(v) for k, v in back.items()},
                   frame, small, dotted, drawings or Drawings())

    def _node(self, entity: Entity, weight: int) -> svg.Node:
        return svg.Node(f"{entity.kind}/{entity.slug}", entity.title, weight, entity.kind, self.urls.of(entity.ref))

    def _place_node(self, entity: Entity, weight: int) -> svg.Node:
        """A place on a map: a country's shape where the outline data has it (see country_outline), else a dot."""
        return svg.Node(f"{entity.kind}/{entity.slug}", entity.title, weight, entity.kind, self.urls.of(entity.ref),
                        area=country_outline(entity))

    # ------------------------------------------------------------------ page parts

    def entity(self, entity: Entity) -> dict[str, Any]:
        """Extra context of an entity page: its timeline by month, its graph, its map."""
        docs = [self.site.documents[r] for r in self.site.tagged.get(entity.ref, ())]
        extra: dict[str, Any] = {"months": by_month(docs), "graph_svg": "", "graph_legend": "", "map_svg": ""}
        if entity.kind == "actor":
            extra["graph_svg"], extra["graph_legend"] = self._ego_graph(entity)
            extra["map_svg"] = self._active_map(entity)
        elif entity.coordinates and self.small:
            extra["map_svg"] = self._place_map(entity)
        return extra

    def _place_map(self, entity: Entity) -> Markup:
        """A place and the places near it, zoomed in (at least PLACE_MAP_SPAN across), every one named;
        a country drawn as its shape is shown whole."""
        lat, lon = entity.coordinates  # type: ignore[misc]
        places = sorted((e for e in self.site.entities_of_kind("place") if e.coordinates and e.ref != entity.ref),
                        key=lambda e: (e.title.casefold(), e.slug))
        k = math.cos(math.radians(lat))

        def away(e: Entity) -> float:
            plat, plon = e.coordinates  # type: ignore[misc]
            return math.hypot(plat - lat, (plon - lon) * k)

        near = [e for e in places if away(e) <= NEARBY_DEGREES]
        if not near:  # a place on its own (a country, a far town): show the way to its nearest neighbour
            nearest = min(places, key=lambda e: (away(e), e.title.casefold(), e.slug), default=None)
            near = [nearest] if nearest and away(nearest) <= NEAREST_DEGREES else []
        outline = country_outline(entity)
        whole = svg.outline_corners(outline) if outline else ()
        frame = svg.Frame.around([(lat, lon), *whole, *(e.coordinates for e in near)],  # type: ignore[misc]
                                 width=SIDE_MAP_WIDTH, min_span=PLACE_MAP_SPAN)
        assert frame is not None
        others = [e for e in places if frame.contains(*e.coordinates)]  # type: ignore[misc]
        dots = [(self._place_node(entity, self.counts[entity.ref]), lat, lon)]
        dots += [(self._place_node(e, self.counts[e.ref]), *e.coordinates) for e in others]  # type: ignore[misc]
        around = f", with {', '.join(e.title for e in others)} nearby" if others else ""
        return Markup(self.drawings.draw(
            svg.map_svg, frame, dots, f"Where {entity.title} is", f"{entity.title} at {lat:.4f}, {lon:.4f}{around}.",
            here=f"place/{entity.slug}"))

    def _relation_edge(self, relation: Relation, source: Ref, target: Ref) -> svg.RelationEdge:
        kind = relation_type(relation.type)
        return svg.RelationEdge(exports.ref_key(source), exports.ref_key(target), svg.relation_family(kind.name),
                                kind.directed, kind.forward)

    def _ego_graph(self, entity: Entity) -> tuple[Markup | str, Markup | str]:
        """The actor's link graph and the key to its relation lines (or "")."""
        ref = entity.ref
        linked = set(self.site.affiliations.get(ref, ())) | set(self.affiliated_from.get(ref, ()))
        stated = self.site.relations.get(ref, ())
        related = {other for _, other, _ in stated}
        together = dict(self.site.co_actors.get(ref, ()))  # strongest first
        ring = list(together.items())[: svg.EGO_LIMIT]
        shown = {r for r, _ in ring}
        extra = sorted((r for r in linked | related if r not in shown and r in self.site.entities),
                       key=lambda r: (r not in related, -together.get(r, 0), self.site.entities[r].title.casefold(), r))
        ring += [(r, together.get(r, 0)) for r in extra[: svg.EGO_AFFILIATION_LIMIT]]
        if not ring:
            return "", ""
        nodes = [(self._node(self.site.entities[r], n), n, r in linked) for r, n in ring]
        edges = [self._relation_edge(rel, ref, other) if outgoing else self._relation_edge(rel, other, ref)
                 for rel, other, outgoing in stated if other in {r for r, _ in ring}]
        picture = Markup(self.drawings.draw(svg.ego_graph, self._node(entity, self.counts[ref]), nodes,
                                            relations=tuple(edges)))
        return picture, Markup(svg.relation_legend(edges))

    def _active_map(self, entity: Entity) -> Markup | str:
        places = [(self.site.entities[r], n) for r, n in self.site.co_places.get(entity.ref, ())]
        dots = [(self._place_node(p, n), *p.coordinates) for p, n in places if p.coordinates][:ACTOR_MAP_LIMIT]
        if not dots or self.small is None:
            return ""
        names = ", ".join(f"{node.label} ({node.weight})" for node, _, _ in dots[:10])
        return Markup(self.drawings.draw(
            svg.map_svg, self.small, dots, f"Where {entity.title} is reported",
            f"Places in documents about {entity.title}, sized by the documents in common: {names}.",
            base_href=self.urls.href(BASE_MAP_PATH), backdrop=self.points))

    def places_index(self) -> dict[str, Any]:
        """The map of /places/: every place with coordinates, sized by its documents."""
        places = [e for e in self.site.entities_of_kind("place") if e.coordinates]
        if not places or self.frame is None:
            return {"map_svg": ""}
        dots = [(self._place_node(p, self.counts[p.ref]), *p.coordinates) for p in places]  # type: ignore[misc]
        shaded = " (a country: its shape, darker with more)" if any(node.area for node, _, _ in dots) else ""
        return {"map_svg": Markup(svg.map_svg(
            self.frame, dots, "Places on the map",
            f"{len(dots)} places with coordinates, each sized{shaded} by its number of documents; "
            "the table below lists them all.",
            ident="places-map", max_width=PLACES_MAP_MAX))}

    def filters(self) -> dict[str, Any]:
        """Choices for the actor and place filters of /timeline/ and /search/."""
        used = [e for e in self.site.entities.values() if self.counts[e.ref]]
        return {"filter_actors": [e for e in used if e.kind == "actor"],
                "filter_places": [e for e in used if e.kind == "place"]}

    # ------------------------------------------------------------------ pages

    def pages(self, bodies: Mapping[Ref, Any]) -> list[Triple]:
        """The pages this module adds.

        The export pages get relations as space-separated keys ("actor/kh place/baghdad"),
        one string per document or pair: their fingerprints then cost one hash per relation.
        """
        site, key = self.site, exports.ref_key
        docs = list(site.documents.values())
        tags = [" ".join(key(t) for t in site.tags.get(d.ref, ())) for d in docs]
        entity_rows = [(e, self.counts[e.ref]) for e in site.entities.values()]
        relations = self._relations()
        dates = [d.date for d in docs]
        pages: list[Triple] = [
            (SEARCH_PATH, "search.html", {"title": "Search", **self.filters(),
                                          "first_day": min(dates).isoformat() if dates else "",
                                          "last_day": max(dates).isoformat() if dates else ""}),
            *self._search_files(docs, entity_rows, bodies),
            (GRAPH_PATH, "graph.html", self._network()),
            (BRIEF_PATH, "brief.html", self._brief()),
            (GRAPH_DATA_PATH, "graph.json", {"docs": docs, "tags": tags, "entities": entity_rows, **relations,
                                             "affiliations": relations["affiliations"] + [  # and typed relations
                                                 f"{key(a)} {key(b)} {relation_type(r.type).name} {r.since or '-'} "
                                                 f"{r.until or '-'} {r.confidence or '-'}"
                                                 for a, pairs in site.relations.items() for r, b, outgoing in pairs
                                                 if outgoing]}),
            (STIX_PATH, "stix.json", {"docs": docs, "tags": tags, "entities": entity_rows,
                                      "affiliations": relations["affiliations"], "within": relations["within"],
                                      "typed": [f"{relation_type(r.type).stix} {key(a)} {key(b)} {r.since or '-'} "
                                                f"{r.until or '-'} "
                                                f"{r.confidence or '-'}" for a, pairs in site.relations.items()
                                                for r, b, outgoing in pairs if outgoing]}),
        ]
        if self.small:
            pages.append((BASE_MAP_PATH, "map.svg", {"svg": Markup(svg.base_map(self.small, self.points))}))
        return pages

    def _search_files(self, docs: list[Document], entity_rows: list[tuple[Entity, int]],
                      bodies: Mapping[Ref, Any]) -> list[Triple]:
        """The search index's files (see search.py). The term shards share one search.Terms,
        made when first needed; the tag files' postings are strings made here (tags change
        only in a full build)."""
        site = self.site
        docs = docs[::-1]  # numbered oldest first: a new document (the newest, mostly) leaves the others' numbers
        shown = [bodies.get(d.ref) for d in docs]
        names = {ref: search.entity_words(e) for ref, e in site.entities.items()}
        terms = search.Terms(docs, [" ".join(names[t] for t in site.tags.get(d.ref, ()) if t in names) for d in docs],
                             shown)
        entities = [e for e, _ in entity_rows]
        tags = search.tag_rows(docs, entities, site.tagged)
        chunk, bucket = search.CHUNK, search.TAG_BUCKET
        return [
            (SEARCH_INDEX_PATH, "search_index.json", {"docs": docs, "entities": entity_rows, "shards": terms.shards}),
            *[(search_file_path(f"terms-{b}.json"), "search_terms.json", {"terms": search.TermShard(terms, b)})
              for b in range(terms.shards)],
            *[(search_file_path(f"docs-{k // chunk}.json"), "search_docs.json",
               {"docs": docs[k : k + chunk], "bodies": shown[k : k + chunk]}) for k in range(0, len(docs), chunk)],
            *[(search_file_path(f"tags-{k // bucket}.json"), "search_tags.json", {"rows": tags[k : k + bucket]})
              for k in range(0, len(tags), bucket)],
        ]

    def _relations(self) -> dict[str, list[str]]:
        site, key = self.site, exports.ref_key
        together = []
        for ref in site.entities:  # each pair once: from the entity that sorts first
            for other, n in itertools.chain(site.co_actors.get(ref, ()), site.co_places.get(ref, ())):
                if ref < other:
                    together.append(f"{key(ref)} {key(other)} {n}")
        return {
            "together": together,
            "affiliations": [f"{key(a)} {key(b)}" for a, bs in sorted(site.affiliations.items()) for b in bs],
            "within": [f"{key(c)} {key(p)}" for c, p in sorted(site.parent.items())],
            "mentions": [f"{key(s)} {key(t)}" for t, sources in sorted(site.mentions.items()) for s in sources],
        }

    def _network(self) -> dict[str, Any]:
        site = self.site

        def top(kind: str) -> list[Entity]:
            ranked = sorted((e for e in site.entities_of_kind(kind) if self.counts[e.ref]),
                            key=lambda e: (-self.counts[e.ref], e.title.casefold(), e.slug))
            return ranked[: svg.NETWORK_SIDE_LIMIT]

        actors, places = top("actor"), top("place")
        drawn = {e.ref for e in (*actors, *places)}
        key = exports.ref_key
        edges = []
        for actor in actors:
            for other, n in itertools.chain(site.co_actors.get(actor.ref, ()), site.co_places.get(actor.ref, ())):
                if other in drawn and (other[0] == "place" or actor.ref < other):
                    edges.append((key(actor.ref), key(other), n))
        edges = sorted(edges, key=lambda e: (-e[2], e[0], e[1]))[: svg.NETWORK_EDGE_LIMIT]
        affiliations = [(key(a), key(b)) for a, bs in sorted(site.affiliations.items()) if a in drawn
                        for b in bs if b in drawn]
        stated = [(rel, a, b) for a, pairs in sorted(site.relations.items()) if a in drawn
                  for rel, b, outgoing in pairs if outgoing and b in drawn]
        relations = [self._relation_edge(rel, a, b) for rel, a, b in stated]
        picture, legend = "", ""
        if drawn:
            picture = Markup(svg.responsive_network([self._node(e, self.counts[e.ref]) for e in actors],
                                                    [self._node(e, self.counts[e.ref]) for e in places], edges,
                                                    affiliations, relations=relations))
            legend = Markup(svg.relation_legend(relations))
        rows = []
        for entity in (*actors, *places):
            links = [(site.entities[r], n) for r, n in
                     itertools.chain(site.co_actors.get(entity.ref, ()), site.co_places.get(entity.ref, ()))
                     if r in drawn]
            links.sort(key=lambda item: (-item[1], item[0].title.casefold()))
            rows.append((entity, self.counts[entity.ref], links[:5],
                         [site.entities[r] for r in site.affiliations.get(entity.ref, ()) if r in site.entities],
                         [(relation_type(rel.type).forward if outgoing else relation_type(rel.type).inverse,
                           site.entities[other]) for rel, other, outgoing in site.relations.get(entity.ref, ())]))
        return {"title": "Network", "svg": picture, "legend": legend, "rows": rows, "limit": svg.NETWORK_SIDE_LIMIT,
                "related_any": any(row[4] for row in rows),
                "actors": len(site.entities_of_kind("actor")), "places": len(site.entities_of_kind("place"))}

    def _brief(self) -> dict[str, Any]:
        """The latest notes with their tags and confidence, then the latest reporting: one printable page."""
        site = self.site
        notes = site.docs_of_kind("note")[:BRIEF_NOTES]
        articles = site.docs_of_kind("article")[:BRIEF_ARTICLES]
        items = []
        for doc in notes:
            tags = [site.entities[t] for t in site.tags.get(doc.ref, ())]
            items.append((doc, [e for e in tags if e.kind == "actor"], [e for e in tags if e.kind == "place"]))
        shown = notes + articles
        marking = max((d.tlp for d in shown), key=TLP_ORDER.__getitem__, default="clear")
        newest = max((d.date for d in shown), default=None)
        return {"title": "Morning brief", "notes": items, "articles": articles, "marking": marking, "as_of": newest}
