"""The site model: frozen dataclasses, no I/O.

A `Ref` names any page-owning thing: ("article", slug), ("note", slug),
("actor", slug) or ("place", slug). Relations between things are held by
:class:`Site` as tuples of refs, computed once by :mod:`generator.site.graph`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

Ref = tuple[str, str]

DOC_KINDS = ("article", "note")
ENTITY_KINDS = ("actor", "place")
CONFIDENCE = ("low", "moderate", "high")
TLP_ORDER = {"clear": 0, "green": 1, "amber": 2, "amber+strict": 3, "red": 4}


@dataclass(frozen=True)
class Judgment:
    """An earlier judgment of a note (`history:`): when, how confident, what it said."""

    date: dt.date
    confidence: str = ""
    summary: str = ""


class RelationType(str):
    """A relation type: its name (what `type:` says; compared, hashed and serialised as that
    text), the wording on the source's page and on the target's, its STIX `relationship_type`,
    and whether its target may be a place as well as an actor. Built in (BUILT_IN_RELATIONS)
    or defined by the site (`site.yml` `relation_types:`, see config.py)."""

    forward: str
    inverse: str
    stix: str
    places: bool

    def __new__(cls, name: str, forward: str, inverse: str, stix: str = "", places: bool = False) -> "RelationType":
        self = super().__new__(cls, name)
        self.forward, self.inverse, self.stix, self.places = forward, inverse, stix or name, places
        return self

    @property
    def name(self) -> str:
        return str.__str__(self)

    @property
    def directed(self) -> bool:
        """Whether it reads differently from its two ends (`front for`/`fronts`), unlike `rival of`."""
        return self.forward != self.inverse

    def __reduce__(self) -> tuple:  # pickled with its wording (warm builds keep the model)
        return (RelationType, (self.name, self.forward, self.inverse, self.stix, self.places))

    def __repr__(self) -> str:  # exact: drawings are cached by the repr of what they are drawn from
        return f"RelationType({self.name!r}, {self.forward!r}, {self.inverse!r}, {self.stix!r}, {self.places!r})"


BUILT_IN_RELATIONS: dict[str, RelationType] = {t.name: t for t in (
    RelationType("member-of", "member of", "members"),
    RelationType("front-for", "front for", "fronts"),
    RelationType("affiliated-with", "affiliated with", "affiliated with"),
    RelationType("supported-by", "supported by", "supports"),
    RelationType("commands", "commands", "commanded by"),
    RelationType("rival-of", "rival of", "rival of"),
    RelationType("located-at", "located at", "located here", places=True),
    RelationType("targets", "targets", "targeted by", places=True),
)}


class _Wordings(dict):  # type: ignore[type-arg]
    """type -> (wording from the source, wording from the target): the built-in types, and any
    RelationType (a site's own) by the wording it carries."""

    def __missing__(self, key: str) -> tuple[str, str]:
        if isinstance(key, RelationType):
            return (key.forward, key.inverse)
        raise KeyError(key)


# Relation types between actors: type -> (wording from the source, wording from the target).
RELATION_TYPES: dict[str, tuple[str, str]] = _Wordings({n: (t.forward, t.inverse) for n, t in BUILT_IN_RELATIONS.items()})


def relation_type(name: str) -> RelationType:
    """The RelationType of a relation's `type` (a built-in one by its name)."""
    return name if isinstance(name, RelationType) else BUILT_IN_RELATIONS[name]


@dataclass(frozen=True)
class Relation:
    """A typed, dated relation of an actor profile (`relations:`) to an actor or place."""

    type: RelationType  # built in or the site's (as text: its name)
    target: str  # the name as written (resolved like a tag)
    line: int
    since: dt.date | None = None
    until: dt.date | None = None
    confidence: str = ""
    source: str = ""


@dataclass(frozen=True)
class Source:
    name: str
    title: str = ""
    url: str = ""
    date: dt.date | None = None


@dataclass(frozen=True)
class Document:
    kind: str  # "article" | "note"
    slug: str
    title: str
    date: dt.date
    path: str  # source file, relative to the site folder
    body_line: int
    digest: str  # of the whole file
    meta_digest: str  # of the front-matter: all that listings show
    summary: str = ""
    updated: dt.date | None = None
    actor_names: tuple[tuple[str, int], ...] = ()  # (name as written, line)
    place_names: tuple[tuple[str, int], ...] = ()
    source: Source | None = None
    author: str = ""
    confidence: str = ""
    reliability: str = ""
    credibility: str = ""
    tlp: str = "clear"
    draft: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    lines: Mapping[str, int] = field(default_factory=dict)  # front-matter key -> line
    refs: tuple[str, ...] = ()  # local files the body points at (content.load.local_refs)
    event_date: dt.date | None = None  # when what it is about happened (the first day of its month or year)
    event_precision: str = ""  # "day" | "month" | "year" (with event_date)
    history: tuple[Judgment, ...] = ()  # a note's earlier judgments, oldest first
    source_names: tuple[tuple[str, int], ...] = ()  # a note's `sources:` (documents it rests on), as written

    @property
    def timeline_date(self) -> dt.date:
        """Where timelines place the document: when it happened if known, else when reported."""
        return self.event_date or self.date

    def event_label(self) -> str:
        """The event date as precisely as it is known: `19 October 2023`, `October 2023`, `2023`."""
        if self.event_date is None:
            return ""
        fmt = {"day": "%-d %B %Y", "month": "%B %Y"}.get(self.event_precision, "%Y")
        return self.event_date.strftime(fmt)

    # Worked out once per object (they are frozen): pages ask for them by the million.
    @cached_property
    def ref(self) -> Ref:
        return (self.kind, self.slug)

    @cached_property
    def listed_as(self) -> str:
        """What a page that lists this document shows of it: its front-matter, its address."""
        return f"{self.meta_digest}/{self.kind}/{self.slug}"


@dataclass(frozen=True)
class Entity:
    kind: str  # "actor" | "place"
    slug: str
    title: str
    path: str = ""  # the profile file; "" for a tag with no profile
    body_line: int = 0
    digest: str = ""
    meta_digest: str = ""
    aliases: tuple[str, ...] = ()
    type: str = ""  # the profile's `kind:` (militia, state, city, base, ...)
    summary: str = ""
    affiliation_names: tuple[tuple[str, int], ...] = ()
    relations: tuple[Relation, ...] = ()  # an actor's typed relations, as written
    within_name: tuple[str, int] | None = None
    coordinates: tuple[float, float] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    lines: Mapping[str, int] = field(default_factory=dict)  # front-matter key -> line
    refs: tuple[str, ...] = ()  # local files the body points at (content.load.local_refs)

    @cached_property
    def ref(self) -> Ref:
        return (self.kind, self.slug)

    @cached_property
    def listed_as(self) -> str:
        """What a page that shows this entity in a list depends on: its address, its profile or name."""
        return f"{self.kind}/{self.slug}/{self.meta_digest or self.title}"

    @property
    def has_profile(self) -> bool:
        return bool(self.path)


@dataclass(frozen=True)
class SharedName:
    """A name (title, slug or alias, by its key) that two or more profiles claim."""

    kind: str  # "actor" | "place": the profiles of that kind that claim it; "" for all (what a [[link]] sees)
    name: str  # as the first of these profiles (by path) writes it
    claims: tuple[tuple[Ref, str], ...]  # (profile, "title" | "slug" | "alias"), by the profiles' titles
    chosen: Ref | None  # the one profile holding it as its title (else as its slug), if exactly one does

    @property
    def candidates(self) -> tuple[Ref, ...]:
        return tuple(ref for ref, _ in self.claims)


@dataclass(frozen=True)
class Site:
    """Everything the pages show. Only published things are in here."""

    documents: Mapping[Ref, Document]  # newest first
    entities: Mapping[Ref, Entity]  # sorted by kind then title
    tagged: Mapping[Ref, tuple[Ref, ...]]  # entity -> documents tagged with it, newest first
    tags: Mapping[Ref, tuple[Ref, ...]]  # document -> its entities (actors then places)
    mentions: Mapping[Ref, tuple[Ref, ...]]  # target -> sources that [[link]] to it
    co_actors: Mapping[Ref, tuple[tuple[Ref, int], ...]]  # entity -> actors seen with it, count
    co_places: Mapping[Ref, tuple[tuple[Ref, int], ...]]  # entity -> places seen with it, count
    related: Mapping[Ref, tuple[Ref, ...]]  # document -> related documents
    children: Mapping[Ref, tuple[Ref, ...]]  # place -> places within it
    parent: Mapping[Ref, Ref]  # place -> the place it is within
    affiliations: Mapping[Ref, tuple[Ref, ...]]  # actor -> actors it is affiliated with
    held_back: Mapping[str, int]  # "draft" / "tlp:amber" ... -> count of documents left out
    held_assets: tuple[str, ...] = ()  # content assets left out: only held-back documents use them
    # (kind, name key) -> a name that two or more profiles of that kind claim and none holds as its
    # title or slug alone: a tag by it means none of them (see possibly)
    ambiguous: Mapping[tuple[str, str], SharedName] = field(default_factory=dict)
    possibly: Mapping[Ref, tuple[Ref, ...]] = field(default_factory=dict)  # profile -> documents tagged with an ambiguous name it claims
    # entity -> the relations that resolved at either end: (relation, the other end, True at the source)
    relations: Mapping[Ref, tuple[tuple[Relation, Ref, bool], ...]] = field(default_factory=dict)
    # note -> the documents its `sources:` name, in order; None for one held back from this build
    cited: Mapping[Ref, tuple[Ref | None, ...]] = field(default_factory=dict)

    def docs_of_kind(self, kind: str) -> list[Document]:
        return [d for d in self.documents.values() if d.kind == kind]

    def entities_of_kind(self, kind: str) -> list[Entity]:
        return [e for e in self.entities.values() if e.kind == kind]
