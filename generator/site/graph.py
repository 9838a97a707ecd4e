"""Documents and profiles -> the cross-linked Site.

Two steps, with Markdown rendering in between (it is independent of the graph):
1. :func:`catalog` resolves every tag to an entity (by title, alias or slug,
   case/accent-insensitively), creates entities for tags with no profile,
   decides what is published, and reports taken titles and slugs (errors), names
   that several profiles share (warnings: a tag by one means the profile holding
   it as its title or slug, else none, and the document is "possibly" about each)
   and tags that narrowly miss a profile's name (warnings, see names.py).
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
from generator.content.model import TLP_ORDER, Document, Entity, Ref, Relation, SharedName, Site, relation_type
from generator.content.text import name_key, slugify
from generator.site.names import NearNames

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
    shared: dict[tuple[str, str], SharedName] = field(default_factory=dict)  # (kind or "", key) -> see SharedName
    possible: dict[Ref, tuple[Ref, ...]] = field(default_factory=dict)  # document -> profiles an ambiguous tag may mean
    by_kind: dict[str, dict[str, Ref]] = field(default_factory=dict)  # kind -> name key -> what a tag by it means

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

    entities, claims = _profiles(profiles, diags)
    by_kind, shared = _name_table(entities, claims)
    unprofiled: dict[tuple[str, str], list[tuple[str, str, int]]] = defaultdict(list)  # (kind, key) -> uses

    def resolve_tag(kind: str, name: str, path: str, line: int, verb: str = "tag") -> Ref | SharedName:
        """The entity a tag means (made for a tag with no profile), or the SharedName it may mean."""
        key = name_key(name)
        ref = by_kind[kind].get(key)
        both = shared.get((kind, key))
        if both is not None:
            diags.warning(path, line, _shared_message(both, name, entities, verb))
            return both if both.chosen is None else both.chosen
        if ref is None:
            ref = (kind, slugify(name))
            by_kind[kind][key] = ref
            entities.setdefault(ref, Entity(kind=kind, slug=ref[1], title=name.strip()))
        if not entities[ref].has_profile:
            unprofiled[(kind, key)].append((name, path, line))
        return ref

    # Published documents first, so that a tag's spelling comes from what is shown.
    doc_tags: dict[Ref, tuple[Ref, ...]] = {}
    possible: dict[Ref, tuple[Ref, ...]] = {}
    published_entities = {ref for ref, e in entities.items() if e.has_profile}
    for ref in sorted(documents, key=lambda r: (r not in published_docs, documents[r].path)):
        doc = documents[ref]
        found = [resolve_tag("actor", n, doc.path, line) for n, line in doc.actor_names]
        found += [resolve_tag("place", n, doc.path, line) for n, line in doc.place_names]
        tags = [t for t in found if type(t) is tuple]
        doc_tags[ref] = tuple(dict.fromkeys(tags))
        maybe = [c for t in found if type(t) is SharedName for c in t.candidates if c not in doc_tags[ref]]
        if maybe:
            possible[ref] = tuple(dict.fromkeys(maybe))
        if ref in published_docs:
            published_entities.update(tags)
    for entity in [e for e in entities.values() if e.has_profile]:
        for name, line in entity.affiliation_names:
            found_ref = resolve_tag("actor", name, entity.path, line, "name")
            if type(found_ref) is tuple:
                published_entities.add(found_ref)
        if entity.within_name:
            found_ref = resolve_tag("place", entity.within_name[0], entity.path, entity.within_name[1], "name")
            if type(found_ref) is tuple:
                published_entities.add(found_ref)
    _warn_near_misses(unprofiled, claims, entities, diags)

    names: dict[str, Ref] = {}
    for ref, doc in documents.items():
        names.setdefault(name_key(doc.title), ref)
    for ref, doc in documents.items():
        names[name_key(doc.slug)] = ref
    for kind in ("place", "actor"):  # actors win over places for a tag-only name
        for key, ref in by_kind[kind].items():
            if not entities[ref].has_profile:
                names[key] = ref
    names.update(by_kind[""])  # profiles win over everything
    for (kind, key), both in shared.items():
        if kind == "" and both.chosen is None:
            names.pop(key, None)  # a [[link]] by it links to nothing: see _resolve_link
    ordered_docs = dict(sorted(documents.items(), key=lambda item: doc_order(item[1])))
    ordered_entities = dict(sorted(entities.items(), key=lambda item: entity_order(item[1])))
    return Catalog(ordered_docs, ordered_entities, doc_tags, published_docs, published_entities, names,
                   dict(held_back), shared, possible, {k: v for k, v in by_kind.items() if k})


def _unique_documents(docs: Iterable[Document], diags: Diagnostics) -> dict[Ref, Document]:
    by_slug: dict[str, Document] = {}
    for doc in sorted(docs, key=lambda d: d.path):
        first = by_slug.get(doc.slug)
        if first is not None:
            diags.error(doc.path, doc.lines.get("slug", 1), f"slug `{doc.slug}` is already used by {first.path}; set a different `slug:`")
            continue
        by_slug[doc.slug] = doc
    return {doc.ref: doc for doc in by_slug.values()}


Claims = dict[str, list[tuple[Ref, str, str]]]  # name key -> (profile, "title" | "slug" | "alias", name as written)


def _profiles(profiles: Iterable[Entity], diags: Diagnostics) -> tuple[dict[Ref, Entity], Claims]:
    """The profiles by ref, and who claims which name. A second profile with a slug or a
    title already taken is one error, at its `slug:` or `title:` line, and is left out; a
    name that two profiles claim otherwise is shared (see _name_table), not an error."""
    entities: dict[Ref, Entity] = {}
    titles: dict[str, Entity] = {}
    claims: Claims = defaultdict(list)
    for entity in sorted(profiles, key=lambda e: e.path):
        first = entities.get(entity.ref)
        if first is not None:
            diags.error(entity.path, entity.lines.get("slug", 1),
                        f"{entity.kind} slug `{entity.slug}` is already used by {first.path}; set a different `slug:`")
            continue
        title_key = name_key(entity.title)
        first = titles.get(title_key)
        if first is not None and title_key:
            diags.error(entity.path, entity.lines.get("title", 1),
                        f"title `{entity.title}` is already the title of {first.path}; two profiles cannot share a "
                        "title (make it an alias of one, or retitle one)")
            continue
        entities[entity.ref] = entity
        titles[title_key] = entity
        mine: dict[str, tuple[Ref, str, str]] = {}  # one profile naming itself twice claims a name once
        for role, name in (("title", entity.title), ("slug", entity.slug), *(("alias", a) for a in entity.aliases)):
            key = name_key(name)
            if key and key not in mine:
                mine[key] = (entity.ref, role, name)
        for key, claim in mine.items():
            claims[key].append(claim)
    return entities, claims


def _name_table(entities: Mapping[Ref, Entity], claims: Claims
                ) -> tuple[dict[str, dict[str, Ref]], dict[tuple[str, str], SharedName]]:
    """What each name means, by kind ("" for all kinds: [[links]]), and the names that two or
    more profiles claim. A shared name means the profile holding it as its title (else as its
    slug) if exactly one does, else none of them."""
    by_kind: dict[str, dict[str, Ref]] = {"actor": {}, "place": {}, "": {}}
    shared: dict[tuple[str, str], SharedName] = {}
    for key, found in claims.items():
        for kind in ("actor", "place", ""):
            mine = [c for c in found if c[0][0] == kind or not kind]
            if len(mine) == 1:
                by_kind[kind][key] = mine[0][0]
            elif mine:
                both = _shared_name(kind, mine, entities)
                shared[(kind, key)] = both
                if both.chosen is not None:
                    by_kind[kind][key] = both.chosen
    return by_kind, shared


def _shared_name(kind: str, claims: list[tuple[Ref, str, str]], entities: Mapping[Ref, Entity]) -> SharedName:
    ordered = sorted(claims, key=lambda c: entity_order(entities[c[0]]))
    chosen = None
    for role in ("title", "slug"):
        holders = [ref for ref, r, _ in ordered if r == role]
        if holders:
            chosen = holders[0] if len(holders) == 1 else None
            break
    first = min(claims, key=lambda c: entities[c[0]].path)
    return SharedName(kind, first[2], tuple((ref, role) for ref, role, _ in ordered), chosen)


def _shared_message(both: SharedName, name: str, entities: Mapping[Ref, Entity], verb: str) -> str:
    """The warning for a tag (verb "tag"), a profile's name of another ("name") or a [[link]] ("link")
    by a name that several profiles claim."""
    titles = {ref: entities[ref].title for ref in both.candidates}
    if both.chosen is None:
        todo = {"tag": "tag one", "name": "name one", "link": "link to one"}[verb]
        return f"`{name}` may mean {_either(list(titles.values()))}: {todo} by its title or slug"
    roles: dict[str, list[str]] = defaultdict(list)
    for ref, role in both.claims:
        if ref != both.chosen:
            roles[role].append(titles[ref])
    mine = dict(both.claims)[both.chosen]
    others = " and ".join(f"{_ROLE_WORDS[role]} of {', '.join(roles[role])}" for role in ("title", "slug", "alias")
                          if roles[role])
    done = {"tag": "tagged as", "name": "taken as", "link": "links to"}[verb]
    return f"`{name}` is {_ROLE_WORDS[mine]} of {titles[both.chosen]} and {others}: {done} {titles[both.chosen]}"


_ROLE_WORDS = {"title": "the title", "slug": "the slug", "alias": "an alias"}


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _warn_near_misses(unprofiled: Mapping[tuple[str, str], list[tuple[str, str, int]]], claims: Claims,
                      entities: Mapping[Ref, Entity], diags: Diagnostics) -> None:
    """A tag with no profile that is close to a profile's name (see names.py): a warning at each
    use. Worked out once per distinct name, against one index of each kind's profile names."""
    if not unprofiled:
        return
    indexes = {kind: NearNames((name, ref) for found in claims.values() for ref, _, name in found if ref[0] == kind)
               for kind in ("actor", "place")}
    for (kind, _), uses in sorted(unprofiled.items()):
        near = indexes[kind].near(uses[0][0])
        if not near:
            continue
        meant = _either([f"`{n.name}`" + ("" if n.name == entities[n.target].title else f" ({entities[n.target].title})")
                         for n in near])
        for name, path, line in uses:
            diags.warning(path, line, f"{kind} `{name}` matches no profile; did you mean {meant}?")


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

    possibly: dict[Ref, list[Ref]] = defaultdict(list)
    for ref in docs:
        for candidate in cat.possible.get(ref, ()):
            possibly[candidate].append(ref)

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
        related=_related(docs, tags, tagged, ordered_mentions),
        children={k: tuple(sorted(v, key=lambda r: entity_order(ents[r]))) for k, v in children.items()},
        parent=parent,
        affiliations=affiliations,
        held_back=dict(sorted(cat.held_back.items())),
        ambiguous={k: v for k, v in sorted(cat.shared.items()) if k[0] and v.chosen is None},
        possibly={k: tuple(v) for k, v in possibly.items()},
        cited=_cited(cat, docs, diags),
        relations=_relations(cat, ents, diags),
    )
    return Linked(site, targets)


def _relations(cat: Catalog, ents: Mapping[Ref, Entity], diags: Diagnostics
               ) -> dict[Ref, tuple[tuple[Relation, Ref, bool], ...]]:
    """Each published actor's `relations:` with their targets: an actor (or, for a type whose
    target may be a place, such as `located-at` and `targets`, a place), resolved like a tag;
    a target that is nothing is an error.
    Both ends get the relation: (relation, the other end, True where it is the source)."""
    out: dict[Ref, list[tuple[Relation, Ref, bool]]] = defaultdict(list)
    for ref, entity in ents.items():
        for relation in entity.relations:
            kinds = ("actor", "place") if relation_type(relation.type).places else ("actor",)
            target = next((t for t in (_entity_by_name(cat, kind, relation.target) for kind in kinds) if t), None)
            if target is None:
                names = [k for k, r in cat.names.items() if r in cat.entities and r[0] in kinds]
                hint = difflib.get_close_matches(name_key(relation.target), names, n=1, cutoff=0.75)
                did_you_mean = f" (did you mean `{_title_of(cat, cat.names[hint[0]])}`?)" if hint else ""
                what = "an actor or a place" if len(kinds) == 2 else "an actor"
                diags.error(entity.path, relation.line,
                            f"`relations`: `{relation.type}` target `{relation.target}` is not {what}{did_you_mean}")
            elif target == ref:
                diags.error(entity.path, relation.line, f"`relations`: `{relation.target}` is this profile itself")
            elif target in ents:
                out[ref].append((relation, target, True))
                out[target].append((relation, ref, False))
    return {ref: tuple(pairs) for ref, pairs in out.items()}


# A source graded at least this well (reliability A-C, credibility 1-3) can bear a high-confidence judgment.
SOUND_RELIABILITY, SOUND_CREDIBILITY = "ABC", "123"


def _cited(cat: Catalog, published: Mapping[Ref, Document], diags: Diagnostics) -> dict[Ref, tuple[Ref | None, ...]]:
    """Resolve every note's `sources:` (by title, alias or slug, like a [[link]], but only to
    documents), and warn at `confidence: high` resting on no source graded C3 or better.
    Published notes get their sources, None for each one held back from this build."""
    cited: dict[Ref, tuple[Ref | None, ...]] = {}
    notes = [(ref, doc) for ref, doc in cat.documents.items() if doc.kind == "note" and (doc.source_names or
                                                                                           doc.confidence == "high")]
    by_name: dict[str, Ref] = {}  # documents by title and slug, where a profile holds the same name
    if notes:
        for ref, doc in cat.documents.items():
            by_name.setdefault(name_key(doc.title), ref)
        by_name.update((name_key(doc.slug), ref) for ref, doc in cat.documents.items())
    for ref, doc in notes:
        found: list[Ref] = []
        for name, line in doc.source_names:
            target = cat.names.get(name_key(name))
            if target not in cat.documents:
                target = by_name.get(name_key(name), target)
            if target is None or target not in cat.documents:
                what = "an actor or a place, not a document" if target is not None else "no document has that name"
                hint = difflib.get_close_matches(name_key(name), [k for k, r in cat.names.items() if r in cat.documents],
                                                 n=1, cutoff=0.75)
                did_you_mean = f" (did you mean `{_title_of(cat, cat.names[hint[0]])}`?)" if hint and target is None else ""
                diags.error(doc.path, line, f"`sources: {name}` names {what}{did_you_mean}")
            elif target == ref:
                diags.error(doc.path, line, f"`sources: {name}` is this note itself")
            elif target not in found:
                found.append(target)
        if doc.confidence == "high":
            sound = [t for t in found if cat.documents[t].reliability in tuple(SOUND_RELIABILITY)
                     and cat.documents[t].credibility in tuple(SOUND_CREDIBILITY)]
            if not sound:
                why = ("names no `sources`" if not found else
                       f"rests only on sources graded worse than C3 ({', '.join(_grade(cat.documents[t]) for t in found)})")
                diags.warning(doc.path, doc.lines.get("confidence", 1),
                              f"`confidence: high` {why}: name a source graded C3 or better, or lower the confidence")
        if ref in published and found:
            cited[ref] = tuple(t if t in published else None for t in found)
    return cited


def _grade(doc: Document) -> str:
    return f"{doc.reliability or '?'}{doc.credibility or '?'}"


def _page_order(cat: Catalog, ref: Ref) -> tuple:
    if ref in cat.documents:
        return (0, *doc_order(cat.documents[ref]))
    return (1, *entity_order(cat.entities[ref]))


def _ranked(counter: Counter[Ref]) -> tuple[tuple[Ref, int], ...]:
    return tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def _entity_by_name(cat: Catalog, kind: str, name: str) -> Ref | None:
    """The entity a profile's `within:` or `affiliations:` name means (catalog made it, and
    warned about a name that several profiles share)."""
    key = name_key(name)
    both = cat.shared.get((kind, key))
    if both is not None:
        return both.chosen
    ref = cat.by_kind.get(kind, {}).get(key) or cat.names.get(key)
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
    both = cat.shared.get(("", name_key(wl.target)))
    if both is not None:
        message = _shared_message(both, f"[[{wl.target}]]", cat.entities, "link")
        diags.warning(path, line, message + ("; shown as plain text" if both.chosen is None else ""))
    target = cat.names.get(name_key(wl.target)) if both is None else both.chosen
    if target is None and both is not None:
        return None
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
    docs: Mapping[Ref, Document], tags: Mapping[Ref, tuple[Ref, ...]], tagged: Mapping[Ref, list[Ref]],
    mentions: Mapping[Ref, tuple[Ref, ...]],
) -> "Related":
    """Documents sharing the most tags, newest first; candidates come from a date window per tag.

    Looking at every document of a popular tag would be quadratic; neighbours in
    time within each shared tag are both cheaper and more relevant. A document
    that links to this one is left out: its page lists it under "Pages that link
    here" already, and the related list should add what that one does not.
    """
    return Related(list(docs), tags, tagged, mentions)  # `docs` in doc_order: newest first


class Related(Mapping[Ref, tuple[Ref, ...]]):
    """Each document's related list (see _related), worked out when it is first asked for: a
    preview build renders a saved document's own page, which asks for one, before the plan asks
    for all of them (0.4 s at 10,000 documents). Each list depends on the site alone, so it is
    the same whenever it is worked out. Pickled as the plain dict of all of them."""

    def __init__(self, order: list[Ref], tags: Mapping[Ref, tuple[Ref, ...]], tagged: Mapping[Ref, list[Ref]],
                 mentions: Mapping[Ref, tuple[Ref, ...]]):
        self._order, self._tags, self._mentions = order, tags, mentions
        self._position = position = {ref: i for i, ref in enumerate(order)}
        self._members_at = {tag: [position[m] for m in members] for tag, members in tagged.items()}
        self._found: dict[Ref, tuple[Ref, ...]] = {}
        self._complete = False

    def __getitem__(self, ref: Ref) -> tuple[Ref, ...]:
        found = self._found.get(ref)
        if found is None:
            if ref not in self._position:
                raise KeyError(ref)
            found = self._found[ref] = self._of(ref)
        return found

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._order)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return dict, (self._all(),)

    def _all(self) -> dict[Ref, tuple[Ref, ...]]:
        if not self._complete:
            found = self._found
            self._found = {ref: found[ref] if ref in found else self._of(ref) for ref in self._order}
            self._complete = True
        return self._found

    def _of(self, ref: Ref) -> tuple[Ref, ...]:
        order, position, members_at = self._order, self._position, self._members_at
        mine = position[ref]
        scores: Counter[int] = Counter()
        for tag in self._tags[ref]:
            at_list = members_at[tag]
            at = bisect.bisect_left(at_list, mine)
            window = at_list[max(0, at - RELATED_WINDOW) : at + RELATED_WINDOW + 1]
            scores.update(window)
        del scores[mine]
        for source in self._mentions.get(ref, ()):  # documents and profiles; only documents score
            if source in position:
                del scores[position[source]]
        best = heapq.nsmallest(RELATED_LIMIT, [(-n, abs(i - mine), i) for i, n in scores.items()])
        return tuple(order[i] for i in sorted(i for _, _, i in best))  # `order` is doc_order: newest first
