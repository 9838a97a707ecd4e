"""Documents and profiles -> the cross-linked Site.

Two steps, with Markdown rendering in between (it is independent of the graph):
1. :func:`catalog` resolves every tag to an entity (by title, alias or slug,
   case/accent-insensitively), creates entities for tags with no profile,
   decides what is published, and reports slug and alias collisions.
2. :func:`link` resolves `[[links]]`, then derives every relation the pages
   show from published documents only, so nothing held back leaks into counts,
   backlinks or related lists.
Every pass is linear in the number of documents and tags.
"""

from __future__ import annotations

import bisect
import difflib
import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from generator.diagnostics import Diagnostics
from generator.content.markdown import HEADING_ID_PREFIX, WikiLink
from generator.content.model import TLP_ORDER, Document, Entity, Ref, Site
from generator.content.text import name_key, slugify

RELATED_LIMIT = 5
RELATED_WINDOW = 12  # neighbours by date taken from each shared tag


@dataclass
class Catalog:
    documents: dict[Ref, Document]  # every valid document, newest first
    entities: dict[Ref, Entity]  # profiles and tags, published or not
    doc_tags: dict[Ref, tuple[Ref, ...]]  # document -> entities, actors then places
    published_docs: set[Ref]
    published_entities: set[Ref]
    names: dict[str, Ref]  # key -> target of a [[link]]
    held_back: dict[str, int] = field(default_factory=dict)

    def is_published(self, ref: Ref) -> bool:
        return ref in self.published_docs or ref in self.published_entities

    def path_of(self, ref: Ref) -> str:
        item = self.documents.get(ref) or self.entities.get(ref)
        return item.path if item else ""


def doc_order(doc: Document) -> tuple:
    return (-doc.date.toordinal(), doc.title.casefold(), doc.slug)


def entity_order(entity: Entity) -> tuple:
    return (entity.kind, entity.title.casefold(), entity.slug)


def held_back_reason(doc: Document, drafts: bool, max_tlp: str) -> str:
    """'' when the document is published, else why it is left out."""
    if doc.draft and not drafts:
        return "draft"
    if TLP_ORDER[doc.tlp] > TLP_ORDER[max_tlp]:
        return f"tlp:{doc.tlp}"
    return ""


def catalog(
    docs: Iterable[Document], profiles: Iterable[Entity], drafts: bool, max_tlp: str, diags: Diagnostics
) -> Catalog:
    documents = _unique_documents(docs, diags)
    published_docs: set[Ref] = set()
    held_back: Counter[str] = Counter()
    for ref, doc in documents.items():
        reason = held_back_reason(doc, drafts, max_tlp)
        if reason:
            held_back[reason] += 1
        else:
            published_docs.add(ref)

    entities, profile_names = _profiles(profiles, diags)
    by_kind: dict[str, dict[str, Ref]] = {"actor": {}, "place": {}}
    for key, ref in profile_names.items():
        by_kind[ref[0]].setdefault(key, ref)

    def resolve_tag(kind: str, name: str) -> Ref:
        key = name_key(name)
        ref = by_kind[kind].get(key)
        if ref is None:
            ref = (kind, slugify(name))
            by_kind[kind][key] = ref
            entities.setdefault(ref, Entity(kind=kind, slug=ref[1], title=name.strip()))
        return ref

    # Published documents first, so that a tag's spelling comes from what is shown.
    doc_tags: dict[Ref, tuple[Ref, ...]] = {}
    published_entities = {ref for ref, e in entities.items() if e.has_profile}
    for ref in sorted(documents, key=lambda r: (r not in published_docs, documents[r].path)):
        doc = documents[ref]
        tags = [resolve_tag("actor", n) for n, _ in doc.actor_names]
        tags += [resolve_tag("place", n) for n, _ in doc.place_names]
        doc_tags[ref] = tuple(dict.fromkeys(tags))
        if ref in published_docs:
            published_entities.update(tags)
    for entity in [e for e in entities.values() if e.has_profile]:
        for name, _ in entity.affiliation_names:
            published_entities.add(resolve_tag("actor", name))
        if entity.within_name:
            published_entities.add(resolve_tag("place", entity.within_name[0]))

    names: dict[str, Ref] = {}
    for ref, doc in documents.items():
        names.setdefault(name_key(doc.title), ref)
    for ref, doc in documents.items():
        names[name_key(doc.slug)] = ref
    for kind in ("place", "actor"):  # actors win over places for a tag-only name
        for key, ref in by_kind[kind].items():
            if not entities[ref].has_profile:
                names[key] = ref
    names.update(profile_names)  # profiles win over everything
    ordered_docs = dict(sorted(documents.items(), key=lambda item: doc_order(item[1])))
    ordered_entities = dict(sorted(entities.items(), key=lambda item: entity_order(item[1])))
    return Catalog(ordered_docs, ordered_entities, doc_tags, published_docs, published_entities, names, dict(held_back))


def _unique_documents(docs: Iterable[Document], diags: Diagnostics) -> dict[Ref, Document]:
    by_slug: dict[str, Document] = {}
    for doc in sorted(docs, key=lambda d: d.path):
        first = by_slug.get(doc.slug)
        if first is not None:
            diags.error(doc.path, doc.lines.get("slug", 1), f"slug `{doc.slug}` is already used by {first.path}; set a different `slug:`")
            continue
        by_slug[doc.slug] = doc
    return {doc.ref: doc for doc in by_slug.values()}


def _profiles(profiles: Iterable[Entity], diags: Diagnostics) -> tuple[dict[Ref, Entity], dict[str, Ref]]:
    entities: dict[Ref, Entity] = {}
    names: dict[str, Ref] = {}
    claimed_by: dict[str, str] = {}
    for entity in sorted(profiles, key=lambda e: e.path):
        if entity.ref in entities:
            diags.error(entity.path, 1, f"{entity.kind} slug `{entity.slug}` is already used by {entities[entity.ref].path}")
            continue
        entities[entity.ref] = entity
        for name in (entity.title, entity.slug, *entity.aliases):
            key = name_key(name)
            if not key:
                continue
            owner = names.get(key)
            if owner is not None and owner != entity.ref:
                diags.error(
                    entity.path,
                    entity.lines.get("aliases" if name in entity.aliases else "title", 1),
                    f"name `{name}` is already claimed by {claimed_by[key]}; an alias belongs to one actor or place",
                )
                continue
            names[key] = entity.ref
            claimed_by[key] = entity.path
    return entities, names



@dataclass(frozen=True)
class Linked:
    site: Site
    targets: Mapping[Ref, tuple[tuple[Ref, str] | None, ...]]  # source -> per [[link]]: (target, anchor)


def link(
    cat: Catalog,
    links: Mapping[Ref, tuple[WikiLink, ...]],
    diags: Diagnostics,
    failed_names: frozenset[str] = frozenset(),
) -> Linked:
    """Resolve [[links]] of every rendered page and derive the published Site.

    `failed_names` are name keys of files that failed to load: a link to one of
    them is a warning, so that one broken file does not cascade into many errors.
    """
    mentions: dict[Ref, list[Ref]] = defaultdict(list)
    targets: dict[Ref, tuple[tuple[Ref, str] | None, ...]] = {}
    for source, body_links in links.items():
        resolved = []
        for wl in body_links:
            target = _resolve_link(cat, source, wl, diags, failed_names)
            resolved.append(target)
            if target and target[0] != source and source not in mentions[target[0]]:
                mentions[target[0]].append(source)
        targets[source] = tuple(resolved)

    docs = {ref: d for ref, d in cat.documents.items() if ref in cat.published_docs}
    ents = {ref: e for ref, e in cat.entities.items() if ref in cat.published_entities}
    tagged: dict[Ref, list[Ref]] = defaultdict(list)
    tags: dict[Ref, tuple[Ref, ...]] = {}
    co_actors: dict[Ref, Counter[Ref]] = defaultdict(Counter)
    co_places: dict[Ref, Counter[Ref]] = defaultdict(Counter)
    for ref in docs:  # newest first, so every list below is too
        doc_tags = cat.doc_tags[ref]
        tags[ref] = doc_tags
        actors = [t for t in doc_tags if t[0] == "actor"]
        places = [t for t in doc_tags if t[0] == "place"]
        for tag in doc_tags:
            tagged[tag].append(ref)
            co_actors[tag].update(a for a in actors if a != tag)
            co_places[tag].update(p for p in places if p != tag)

    parent: dict[Ref, Ref] = {}
    children: dict[Ref, list[Ref]] = defaultdict(list)
    affiliations: dict[Ref, tuple[Ref, ...]] = {}
    for ref, entity in ents.items():
        if entity.within_name:
            up = _entity_by_name(cat, "place", entity.within_name[0])
            if up and up != ref and not _creates_cycle(parent, ref, up):
                parent[ref] = up
                children[up].append(ref)
            elif up:
                diags.error(entity.path, entity.within_name[1], f"`within: {entity.within_name[0]}` makes a loop of places")
        if entity.affiliation_names:
            found = (_entity_by_name(cat, "actor", n) for n, _ in entity.affiliation_names)
            affiliations[ref] = tuple(dict.fromkeys(a for a in found if a and a != ref))

    ordered_mentions = {
        target: tuple(sorted(sources, key=lambda s: _page_order(cat, s)))
        for target, sources in mentions.items()
        if cat.is_published(target)
    }
    site = Site(
        documents=docs,
        entities=ents,
        tagged={k: tuple(v) for k, v in tagged.items()},
        tags=tags,
        mentions=ordered_mentions,
        co_actors={k: _ranked(v) for k, v in co_actors.items()},
        co_places={k: _ranked(v) for k, v in co_places.items()},
        related=_related(docs, tags, tagged),
        children={k: tuple(sorted(v, key=lambda r: entity_order(ents[r]))) for k, v in children.items()},
        parent=parent,
        affiliations=affiliations,
        held_back=dict(sorted(cat.held_back.items())),
    )
    return Linked(site, targets)


def _page_order(cat: Catalog, ref: Ref) -> tuple:
    if ref in cat.documents:
        return (0, *doc_order(cat.documents[ref]))
    return (1, *entity_order(cat.entities[ref]))


def _ranked(counter: Counter[Ref]) -> tuple[tuple[Ref, int], ...]:
    return tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def _entity_by_name(cat: Catalog, kind: str, name: str) -> Ref | None:
    ref = cat.names.get(name_key(name))
    if ref and ref[0] == kind:
        return ref
    guess = (kind, slugify(name))
    return guess if guess in cat.entities else None


def _creates_cycle(parent: dict[Ref, Ref], child: Ref, up: Ref) -> bool:
    seen = {child}
    while up is not None:
        if up in seen:
            return True
        seen.add(up)
        up = parent.get(up)  # type: ignore[assignment]
    return False


def _resolve_link(
    cat: Catalog, source: Ref, wl: WikiLink, diags: Diagnostics, failed_names: frozenset[str]
) -> tuple[Ref, str] | None:
    path = cat.path_of(source)
    item = cat.documents.get(source) or cat.entities[source]
    line = item.body_line + wl.line - 1
    target = cat.names.get(name_key(wl.target))
    if target is None:
        hint = difflib.get_close_matches(name_key(wl.target), list(cat.names), n=1, cutoff=0.75)
        did_you_mean = f" (did you mean `{_title_of(cat, cat.names[hint[0]])}`?)" if hint else ""
        message = f"`[[{wl.target}]]` links to nothing: no actor, place or document has that name{did_you_mean}"
        if name_key(wl.target) in failed_names:
            diags.warning(path, line, message + " that loaded (its file has errors)")
        else:
            diags.error(path, line, message)
        return None
    if not cat.is_published(target):
        diags.warning(path, line, f"`[[{wl.target}]]` links to a page left out of this build; shown as plain text")
        return None
    anchor = wl.anchor
    if anchor and not anchor.startswith(HEADING_ID_PREFIX):
        anchor = HEADING_ID_PREFIX + slugify(anchor)
    return (target, anchor)


def _title_of(cat: Catalog, ref: Ref) -> str:
    item = cat.documents.get(ref) or cat.entities.get(ref)
    return item.title if item else ref[1]


def _related(
    docs: Mapping[Ref, Document], tags: Mapping[Ref, tuple[Ref, ...]], tagged: Mapping[Ref, list[Ref]]
) -> dict[Ref, tuple[Ref, ...]]:
    """Documents sharing the most tags; candidates come from a date window per tag.

    Looking at every document of a popular tag would be quadratic; neighbours in
    time within each shared tag are both cheaper and more relevant.
    """
    order = list(docs)  # newest first
    position = {ref: i for i, ref in enumerate(order)}
    members_at = {tag: [position[m] for m in members] for tag, members in tagged.items()}
    result: dict[Ref, tuple[Ref, ...]] = {}
    for ref in order:
        mine = position[ref]
        scores: Counter[int] = Counter()
        for tag in tags[ref]:
            at_list = members_at[tag]
            at = bisect.bisect_left(at_list, mine)
            window = at_list[max(0, at - RELATED_WINDOW) : at + RELATED_WINDOW + 1]
            scores.update(window)
        del scores[mine]
        best = heapq.nsmallest(RELATED_LIMIT, [(-n, abs(i - mine), i) for i, n in scores.items()])
        result[ref] = tuple(order[i] for _, _, i in best)
    return result
