"""Exports for other tools: JSON-LD in every page, /data/graph.json, /data/stix.json.

Pure functions of published things only (the Site holds nothing else), with
dates from the content and never the clock, so two builds give the same bytes.

- JSON-LD uses schema.org: `NewsArticle` (articles), `Report` (analyst notes),
  `Person` or `Organization` (actors, by profile kind), `Place` with `geo`.
  It is serialised with `<`, `>` and `&` escaped, so no title can close the
  <script> element it sits in.
- graph.json lists documents, entities and typed edges: `tagged`, `together`
  (documents in common), `affiliated`, `relation` (a profile's `relations:`, with
  its `relation` type), `within` and `links-to`.
- The STIX 2.1 bundle holds a `report` per document (its tags in `object_refs`,
  its TLP 2.0 marking, analytic confidence or Admiralty credibility as STIX
  `confidence`), a `threat-actor` for militias and an `identity` for every other
  actor, a `location` per place with a known position, `relationship` objects for
  affiliations and `within`, and the official TLP 2.0 marking definitions. Ids are
  UUIDv5 from slugs, so they stay the same from build to build. A report is
  `published` at the start of its document's day and `modified` at the end of the
  day of its last change, so MISP (misp-stix) reads it as a published event with
  that `publish_timestamp` (see _stix_report).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from typing import Any, Callable, Iterable, Protocol, Sequence

from markupsafe import Markup

from generator.content.model import Document, Entity, Ref
from generator.site.urls import Urls, page_path



def ref_key(ref: Ref) -> str:
    """`actor/kataib-hezbollah`: how graph.json names a thing, and how relations reach this module.

    Relations arrive as strings of space-separated keys, one per document
    ("actor/kh place/baghdad") or per pair ("actor/kh actor/iri" and, for
    co-occurrence, a count): see features.Features.pages.
    """
    return f"{ref[0]}/{ref[1]}"


def script_json(data: Any) -> str:
    """JSON that is safe inside <script>: no `<`, `>` or `&` (so no `</script>`), no line separators."""
    text = _ENCODER.encode(data)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def ld_json(data: Any) -> Markup:
    """JSON-LD for a <script type="application/ld+json"> element of a page."""
    return Markup(script_json(data))


# --------------------------------------------------------------------------- JSON-LD


def _ld_entity_ref(entity: Entity, urls: Urls) -> dict[str, Any]:
    return {"@type": _ld_type(entity), "name": entity.title, "url": urls.absolute(page_path(entity.ref))}


def _ld_type(entity: Entity) -> str:
    if entity.kind == "place":
        return "Place"
    return "Person" if entity.type.casefold() in ("person", "individual") else "Organization"


def ld_document(doc: Document, actors: Sequence[Entity], places: Sequence[Entity], site_title: str,
                language: str, urls: Urls) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Report" if doc.kind == "note" else "NewsArticle",
        "url": urls.absolute(page_path(doc.ref)),
        "headline": doc.title,
        "datePublished": doc.date.isoformat(),
        "dateModified": (doc.updated or doc.date).isoformat(),
        "inLanguage": language,
        "publisher": {"@type": "Organization", "name": site_title, "url": urls.absolute("")},
    }
    if doc.summary:
        data["description"] = doc.summary
    if doc.author:
        data["author"] = {"@type": "Person", "name": doc.author}
    if actors:
        data["about"] = [_ld_entity_ref(e, urls) for e in actors]
    if places:
        data["contentLocation"] = [_ld_entity_ref(e, urls) for e in places]
    if doc.source is not None:
        cited: dict[str, Any] = {"@type": "CreativeWork", "publisher": {"@type": "Organization", "name": doc.source.name}}
        if doc.source.title:
            cited["name"] = doc.source.title
        if doc.source.url:
            cited["url"] = doc.source.url
        if doc.source.date:
            cited["datePublished"] = doc.source.date.isoformat()
        data["isBasedOn"] = cited
    data["conditionsOfAccess"] = f"TLP:{doc.tlp.upper()}"
    return data


def ld_entity(entity: Entity, parent: Entity | None, affiliations: Sequence[Entity], urls: Urls) -> dict[str, Any]:
    data: dict[str, Any] = {"@context": "https://schema.org", **_ld_entity_ref(entity, urls)}
    if entity.aliases:
        data["alternateName"] = list(entity.aliases)
    if entity.summary:
        data["description"] = entity.summary
    if entity.kind == "place":
        if entity.coordinates:
            lat, lon = entity.coordinates
            data["geo"] = {"@type": "GeoCoordinates", "latitude": lat, "longitude": lon}
        if parent is not None:
            data["containedInPlace"] = _ld_entity_ref(parent, urls)
    elif affiliations:
        data["memberOf"] = [_ld_entity_ref(e, urls) for e in affiliations]
    return data


def ld_page(page_path_: str, title: str, site_title: str, description: str, urls: Urls) -> dict[str, Any]:
    """Any other page: the home page is the WebSite (with its search), the rest are WebPages in it."""
    website: dict[str, Any] = {"@type": "WebSite", "name": site_title, "url": urls.absolute("")}
    if page_path_ == "":
        data = {"@context": "https://schema.org", **website}
        if description:
            data["description"] = description
        data["potentialAction"] = {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": urls.absolute("search/") + "?q={search_term_string}"},
            "query-input": "required name=search_term_string",
        }
        return data
    kind = "SearchResultsPage" if page_path_ == "search/" else "CollectionPage" if page_path_.endswith("/") else "WebPage"
    data = {"@context": "https://schema.org", "@type": kind, "name": title, "isPartOf": website}
    if page_path_ != "404.html":  # served at any address: it has no URL of its own
        data["url"] = urls.absolute(page_path_)
    return data


# --------------------------------------------------------------------------- graph.json


def graph_json(
    docs: Sequence[Document],
    tags: Sequence[str],
    entities: Iterable[tuple[Entity, int]],
    together: Iterable[str],
    stated: Iterable[str],
    within: Iterable[str],
    mentions: Iterable[str],
    urls: Urls,
    fragments: Fragments | None = None,
) -> str:
    """graph.json: compact JSON, serialised piece by piece so that each document's
    row and edges are made once (`fragments`) and reused while it does not change.
    `stated`: what profiles state, an affiliation as "a b" and a typed relation as
    "a b type since until confidence" ("-" for each one not given)."""
    rows, edges = [], []
    for doc, keys in zip(docs, tags):
        row, tagged = _fragment(fragments, (doc.ref, doc.meta_digest, "graph", keys), lambda: _graph_document(doc, keys, urls))
        rows.append(row)
        if tagged:
            edges.append(tagged)
    nodes = []
    for entity, count in entities:
        node = {"id": ref_key(entity.ref), "kind": entity.kind, "slug": entity.slug, "title": entity.title,
                "url": urls.absolute(page_path(entity.ref)), "documents": count}
        if entity.type:
            node["type"] = entity.type
        if entity.aliases:
            node["aliases"] = list(entity.aliases)
        if entity.summary:
            node["summary"] = entity.summary
        if entity.coordinates:
            node["coordinates"] = list(entity.coordinates)
        nodes.append(node)
    # tens of thousands of pairs over a few hundred keys: each key is quoted once, each pair
    # takes one split and one format (graph.json is rendered again by every title edit)
    together = list(together)
    q = _Quoted()
    edges += ['{"type":"together","source":%s,"target":%s,"documents":%d}' % (q[a], q[b], int(n))
              for a, b, n in map(str.split, together)]
    affiliations, relations = [], []
    for line in stated:
        a, b, *typed = line.split()
        if not typed:
            affiliations.append((a, b))
            continue
        kind, *when = typed
        extra = "".join(f',"{name}":{_dumps(value)}' for name, value in zip(("since", "until", "confidence"), when)
                        if value != "-")
        relations.append(f'{{"type":"relation","relation":{q[kind]},"source":{q[a]},"target":{q[b]}{extra}}}')
    edges += [f'{{"type":"affiliated","source":{q[a]},"target":{q[b]}}}' for a, b in affiliations]
    edges += relations
    for kind, pairs in (("within", within), ("links-to", mentions)):
        head = '{"type":%s,"source":' % q[kind]
        edges += [f'{head}{q[a]},"target":{q[b]}}}' for a, b in map(str.split, pairs)]
    return (f'{{"generator":"briefing","documents":[{",".join(rows)}],"entities":{_dumps(nodes)},'
            f'"edges":[{",".join(edges)}]}}\n')


class _Quoted(dict):  # type: ignore[type-arg]
    """key -> its JSON string, made on first use."""

    def __missing__(self, key: str) -> str:
        self[key] = found = _dumps(key)
        return found


def _graph_document(doc: Document, keys: str, urls: Urls) -> tuple[str, str]:
    """A document's row of graph.json and its `tagged` edges, serialised."""
    key = ref_key(doc.ref)
    row: dict[str, Any] = {"id": key, "kind": doc.kind, "slug": doc.slug, "title": doc.title,
                           "date": doc.date.isoformat(), "url": urls.absolute(page_path(doc.ref)), "tlp": doc.tlp}
    for name in ("summary", "author", "confidence", "reliability", "credibility"):
        if getattr(doc, name):
            row[name] = getattr(doc, name)
    if doc.updated:
        row["updated"] = doc.updated.isoformat()
    if doc.source is not None:
        row["source"] = {k: v for k, v in (("name", doc.source.name), ("title", doc.source.title), ("url", doc.source.url),
                                           ("date", doc.source.date.isoformat() if doc.source.date else "")) if v}
    source = _dumps(key)
    tagged = ",".join(f'{{"type":"tagged","source":{source},"target":{_dumps(target)}}}' for target in keys.split())
    return _dumps(row), tagged


def _dumps(value: Any) -> str:
    """Compact JSON, UTF-8 rather than escapes: joined with commas, pieces make the same bytes as the whole."""
    return _ENCODER.encode(value)


# json.dumps with these options would make (and throw away) an encoder per call
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class Fragments(Protocol):
    def get(self, key: tuple, make: Callable[[], Any]) -> Any: ...


def _fragment(fragments: Fragments | None, key: tuple, make: Callable[[], Any]) -> Any:
    return make() if fragments is None else fragments.get(key, make)


# --------------------------------------------------------------------------- STIX 2.1

# Fixed, so that ids are the same in every build: uuid5(STIX_NAMESPACE, "actor/kataib-hezbollah").
STIX_NAMESPACE = uuid.UUID("78f7125e-3b8a-4691-ac05-cc1e75b13bb3")
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKINGS = {  # the official TLP 2.0 marking definitions (OASIS cti-stix-common-objects)
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
# A profile's `kind:` -> its STIX 2.1 type (the README shows this table); any other kind of actor is an identity.
THREAT_ACTOR_TYPES = frozenset({"militia", "armed group", "militant group", "insurgent group", "terrorist group",
                                "threat actor", "threat-actor", "cyber threat actor", "hacktivist group"})
INTRUSION_SET_TYPES = frozenset({"intrusion set", "intrusion-set", "apt", "apt group", "cyber espionage group"})
_IDENTITY_CLASS = {"person": "individual", "individual": "individual", "coalition": "group", "alliance": "group",
                   "group": "group", "": "unknown"}
_SECTORS = {"state": ["government-national"], "government": ["government-national"], "military": ["defense"]}
CONFIDENCE_SCALE = {"low": 15, "moderate": 50, "high": 85}  # STIX 2.1 appendix A, Low/Med/High
CREDIBILITY_SCALE = {"1": 90, "2": 70, "3": 50, "4": 30, "5": 10}  # Admiralty credibility; 6 cannot be judged
INHERITED_PRECISION = 50_000  # metres, for a place placed at its enclosing place's position


def stix_id(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(STIX_NAMESPACE, key)}"


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00.000Z"


def _marking(level: str) -> dict[str, Any]:
    return {"type": "marking-definition", "spec_version": "2.1", "id": TLP_MARKINGS[level],
            "created": "2022-10-01T00:00:00.000Z", "name": f"TLP:{level.upper()}",
            "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}}}


def stix_json(
    docs: Sequence[Document],
    tags: Sequence[str],
    entities: Sequence[tuple[Entity, int]],
    affiliations: Iterable[str],
    within: Iterable[str],
    typed: Iterable[str],
    site_title: str,
    language: str,
    max_tlp: str,
    urls: Urls,
    fragments: Fragments | None = None,
) -> str:
    """The bundle, serialised object by object (each document's report is made once, see
    graph_json). Entities and relationships carry the site's `max_tlp` marking."""
    dates: dict[str, list[dt.date]] = defaultdict(list)
    for doc, keys in zip(docs, tags):
        for key in keys.split():
            dates[key].append(doc.date)
    first_day = min((d.date for d in docs), default=dt.date(1970, 1, 1))
    site_marking = [TLP_MARKINGS[max_tlp]]
    producer = stix_id("identity", "producer/" + site_title)
    # only the markings something carries: a consumer (MISP) tags every event with each one the bundle holds
    used = {max_tlp, *(doc.tlp for doc in docs)}
    objects: list[dict[str, Any]] = [_marking(level) for level in TLP_MARKINGS if level in used]
    objects.append({"type": "identity", "spec_version": "2.1", "id": producer, "created": _stamp(first_day),
                    "modified": _stamp(first_day), "name": site_title, "identity_class": "organization",
                    "object_marking_refs": site_marking})

    by_key = {ref_key(e.ref): e for e, _ in entities}
    within_pairs = [tuple(pair.split()) for pair in within]
    positions = _positions([e for e, _ in entities], dict(within_pairs), by_key)
    ids: dict[str, str] = {}
    when: dict[str, tuple[str, str]] = {}
    for entity, _ in entities:
        key = ref_key(entity.ref)
        if key not in dates:
            continue  # no report refers to it: a consumer (misp-stix) would put it into every event
        seen = dates.get(key) or [first_day]
        created, modified = _stamp(min(seen)), _stamp(max(seen))
        obj = _stix_entity(entity, key, positions.get(key))
        if obj is None:
            continue
        obj.update(created=created, modified=modified, created_by_ref=producer, object_marking_refs=site_marking)
        if urls.origin:
            obj["external_references"] = [_page_reference(entity.ref, site_title, urls)]
        ids[key], when[key] = obj["id"], (created, modified)
        objects.append(obj)

    out = [_dumps(obj) for obj in objects]
    for doc, keys in zip(docs, tags):  # object_refs may not be empty: an untagged document refers to its producer
        refs = [ids[k] for k in keys.split() if k in ids] or [producer]
        out.append(_fragment(fragments, (doc.ref, doc.meta_digest, "stix", producer, *refs),
                             lambda: _dumps(_stix_report(doc, refs, producer, site_title, language, urls))))
    objects = []  # then the relationships

    affiliation_pairs = [tuple(pair.split()) for pair in affiliations]
    for relation, pairs in (("affiliated with (from the actor profile)", affiliation_pairs), ("within", within_pairs)):
        for a, b in pairs:
            if a not in ids or b not in ids:
                continue
            stamp = max(when[a][0], when[b][0])
            objects.append({"type": "relationship", "spec_version": "2.1",
                            "id": stix_id("relationship", f"{relation.split()[0]}/{a}/{b}"),
                            "created": stamp, "modified": stamp, "created_by_ref": producer,
                            "relationship_type": "related-to", "description": relation,
                            "source_ref": ids[a], "target_ref": ids[b], "object_marking_refs": site_marking})
    for line in typed:  # a profile's `relations:`: "relationship_type source target since until confidence"
        kind, a, b, since, until, confidence = line.split()
        if a not in ids or b not in ids:
            continue
        stamp = max(when[a][0], when[b][0])
        rel: dict[str, Any] = {"type": "relationship", "spec_version": "2.1",
                               "id": stix_id("relationship", f"{kind}/{a}/{b}/{since}"),
                               "created": stamp, "modified": stamp, "created_by_ref": producer,
                               "relationship_type": kind, "source_ref": ids[a], "target_ref": ids[b],
                               "object_marking_refs": site_marking}
        if since != "-":
            rel["start_time"] = _stamp(dt.date.fromisoformat(since))
        if until != "-" and until != since:  # (STIX wants the stop after the start)
            rel["stop_time"] = _stamp(dt.date.fromisoformat(until))
        if confidence != "-":
            rel["confidence"] = CONFIDENCE_SCALE[confidence]
        objects.append(rel)
    out += [_dumps(obj) for obj in objects]
    return f'{{"type":"bundle","id":{_dumps(stix_id("bundle", "bundle/" + site_title))},"objects":[{",".join(out)}]}}\n'


def _positions(entities: Sequence[Entity], parent_of: dict[str, str], by_key: dict[str, Entity]
               ) -> dict[str, tuple[float, float, bool]]:
    """(lat, lon, inherited) of every place: its own coordinates, else those of the nearest enclosing place."""
    out: dict[str, tuple[float, float, bool]] = {}
    for entity in entities:
        if entity.kind != "place":
            continue
        key, inherited, seen = ref_key(entity.ref), False, set()
        current: Entity | None = entity
        while current is not None and current.coordinates is None and ref_key(current.ref) not in seen:
            seen.add(ref_key(current.ref))
            up = parent_of.get(ref_key(current.ref))
            current, inherited = (by_key.get(up) if up else None), True
        if current is not None and current.coordinates is not None:
            out[key] = (*current.coordinates, inherited)
    return out


def _stix_entity(entity: Entity, key: str, position: tuple[float, float, bool] | None) -> dict[str, Any] | None:
    kind = entity.type.casefold()
    base: dict[str, Any] = {"spec_version": "2.1", "name": entity.title}
    if entity.summary:
        base["description"] = entity.summary
    if entity.kind == "place":
        if position is None:  # STIX needs a region, a country or a position; we know none of them
            return None
        lat, lon, inherited = position
        obj = {"type": "location", "id": stix_id("location", key), **base, "latitude": lat, "longitude": lon}
        if inherited:
            obj["precision"] = INHERITED_PRECISION
        return obj
    if kind in THREAT_ACTOR_TYPES or kind in INTRUSION_SET_TYPES:
        stix_type = "threat-actor" if kind in THREAT_ACTOR_TYPES else "intrusion-set"
        obj = {"type": stix_type, "id": stix_id(stix_type, key), **base}
        if entity.aliases:
            obj["aliases"] = list(entity.aliases)
        return obj
    obj = {"type": "identity", "id": stix_id("identity", key), **base,
           "identity_class": _IDENTITY_CLASS.get(kind, "organization")}
    if kind in _SECTORS:
        obj["sectors"] = _SECTORS[kind]
    return obj


def _page_reference(ref: Ref, site_title: str, urls: Urls) -> dict[str, str]:
    """The page on this site, when the site has a full address (STIX wants absolute URLs)."""
    return {"source_name": site_title, "url": urls.absolute(page_path(ref))}


def _end_of_day(day: dt.date) -> str:
    return f"{day.isoformat()}T23:59:59.999Z"


def _stix_report(doc: Document, refs: list[str], producer: str, site_title: str, language: str, urls: Urls) -> dict[str, Any]:
    """`created` and `published` are the start of the day the document is dated, `modified`
    the end of the day it was last changed (its `updated`, else its date): we know days,
    not times. misp-stix makes an event `published` with `publish_timestamp` from a report's
    `published` only when that differs from `modified` (MISP's own STIX 2.0 export writes
    `published` equal to `modified` for an unpublished event); it reads no date of the event."""
    created = _stamp(doc.date)
    modified = _end_of_day(max(doc.updated or doc.date, doc.date))
    obj: dict[str, Any] = {
        "type": "report", "spec_version": "2.1", "id": stix_id("report", ref_key(doc.ref)),
        "created": created, "modified": modified, "created_by_ref": producer, "name": doc.title,
        "report_types": ["threat-report"], "published": created, "object_refs": refs, "lang": language,
        "labels": ["analyst-note" if doc.kind == "note" else "article"],
    }
    if doc.summary:
        obj["description"] = doc.summary
    if doc.confidence:
        obj["confidence"] = CONFIDENCE_SCALE[doc.confidence]
    elif doc.credibility in CREDIBILITY_SCALE:
        obj["confidence"] = CREDIBILITY_SCALE[doc.credibility]
    if doc.reliability or doc.credibility:
        obj["labels"].append(f"admiralty:{doc.reliability or '-'}{doc.credibility or '-'}")
    refs_out = [_page_reference(doc.ref, site_title, urls)] if urls.origin else []
    if doc.source is not None:
        cited: dict[str, Any] = {"source_name": doc.source.name,
                                 "description": doc.source.title or "the source this article reports"}
        if doc.source.url:
            cited["url"] = doc.source.url
        refs_out.append(cited)
    if refs_out:
        obj["external_references"] = refs_out
    obj["object_marking_refs"] = [TLP_MARKINGS[doc.tlp]]
    return obj
