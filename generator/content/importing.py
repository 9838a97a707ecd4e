"""Threat-actor datasets -> actor profile files: MISP galaxy clusters and STIX 2.x bundles.

Pure: :func:`read_dataset` turns a file's parsed JSON into entries, :func:`plan` turns
entries and the site's current profile files (path -> text) into the text each imported
file should have. `commands/importing.py` reads and writes the files.

An imported profile carries its provenance in `extra.imported`: one record per dataset
entry it was made from (dataset, id, name, aliases and the relation data), and `digest`,
the SHA-256 of the file as the import wrote it (with the digest's own value left out). A
file whose digest still matches is the import's: every run rewrites it from its records
(the body keeps one `## <dataset>: <name>` section per record), so running twice changes
nothing. A file whose digest no longer matches was edited by hand: it is kept as it is.

One group from two datasets becomes one profile when the data says so: the same title
once an ATT&CK id (` - G0007`) is set aside, the same id, or a MISP `related` entry of
type `same-as` (or `similar`, when it pairs exactly one entry with exactly one profile).
Never because of a shared synonym, and never two entries of one dataset.

A state the data names (a suspected sponsor, a victim) is one profile however it is spelt:
STATE_NAMES holds the spellings of the real datasets (`US`, `United States`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping

from generator.content.load import parse_source
from generator.content.text import name_key, slugify
from generator.diagnostics import Diagnostics


class NotADataset(ValueError):
    """The file is not what the import reads (the message says what it is not)."""


@dataclass(frozen=True)
class Entry:
    """One group from a dataset, as the import records it."""

    dataset: str  # e.g. "misp-galaxy threat-actor", "stix Enterprise ATT&CK"
    label: str  # shown in the profile: "MISP galaxy Threat Actor"
    id: str  # the entry's uuid (STIX: the object id)
    name: str  # as the dataset spells it: "APT28 - G0007"
    kind: str  # "threat actor" | "intrusion set" | "state"
    external_id: str = ""  # ATT&CK's G0007
    aliases: tuple[str, ...] = ()
    description: str = ""
    refs: tuple[str, ...] = ()
    country: str = ""
    sponsor: str = ""
    victims: tuple[str, ...] = ()
    confidence: str = ""  # 0-100, as the data gives it
    same_as: tuple[str, ...] = ()  # ids the data says are this group
    similar: tuple[str, ...] = ()
    relationships: tuple[tuple[str, str], ...] = ()  # (relation type, target name)

    @property
    def title(self) -> str:
        return strip_attack_id(self.name)


_ATTACK_SUFFIX = re.compile(r"\s+-\s+[GS]\d{4}$")


def strip_attack_id(name: str) -> str:
    """`APT28 - G0007` -> `APT28`: the MISP ATT&CK galaxy appends the group's id to its name."""
    return _ATTACK_SUFFIX.sub("", name.strip())


def _uuid_of(ident: str) -> str:
    """`intrusion-set--bef4c620-...` -> `bef4c620-...`: MISP's ATT&CK galaxy reuses ATT&CK's uuids."""
    return ident.rsplit("--", 1)[-1].lower()


def _texts(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    return tuple(dict.fromkeys(i.strip() for i in items if isinstance(i, str) and i.strip()))


def _one_text(value: Any) -> str:
    found = _texts(value)
    return found[0] if found else ""


# States the datasets name in more than one way, under the name a desk tags them by, with the
# other spellings. It covers every state that MISP's threat-actor galaxy (pymispgalaxies'
# threat-actor.json) names twice in `cfr-suspected-state-sponsor` and `cfr-suspected-victims`,
# and the common short forms of the same states (`USA`, `DPRK`): a sponsor or a victim is one
# state profile whatever the spelling, and the spellings are its aliases. Any other name is
# taken as the data writes it. (pycountry was weighed and left: it does not know `Russia`,
# `Iran (Islamic Republic of)` or `Korea (Republic of)`, its fuzzy search makes `Republic of
# Korea` North Korea, and its names, `Korea, Democratic People's Republic of`, are no titles.)
STATE_NAMES: dict[str, tuple[str, ...]] = {
    "United States": ("US", "USA", "U.S.", "United States of America"),
    "China": ("People's Republic of China", "PRC"),
    "Russia": ("Russian Federation",),
    "Iran": ("Iran (Islamic Republic of)", "Islamic Republic of Iran"),
    "North Korea": ("Korea (Democratic People's Republic of)", "Democratic People's Republic of Korea", "DPRK"),
    "South Korea": ("Korea (Republic of)", "Republic of Korea"),
    "Philippines": ("The Philippines",),
    "Lebanon": ("Lebonon",),  # a misspelling in the data's victims: read, never written as an alias
}
_MISSPELLINGS = frozenset({"lebonon"})
_STATE_OF = {name_key(v): state for state, variants in STATE_NAMES.items() for v in (state, *variants)}


def state_name(name: str) -> str:
    """The one name of a state however the data spells it (`US` -> `United States`); any
    name the table does not hold, as it is."""
    return _STATE_OF.get(name_key(name), name.strip())


def _spellings(name: str) -> tuple[str, ...]:
    """Every spelling of the state `name` is, its own name first; a name the table does not hold alone."""
    state = state_name(name)
    return (state, *STATE_NAMES.get(state, ()))


# ---- reading datasets

def read_dataset(fmt: str, data: Any) -> tuple[list[Entry], int]:
    """The entries of a parsed `misp-galaxy` or `stix` file, and how many it skipped (revoked,
    deprecated). NotADataset when the file is not one."""
    return _read_misp(data) if fmt == "misp-galaxy" else _read_stix(data)


def _read_misp(data: Any) -> tuple[list[Entry], int]:
    if isinstance(data, dict) and data.get("type") == "bundle":
        raise NotADataset("is a STIX bundle, not a MISP galaxy cluster file (use `briefing import stix`)")
    values = data.get("values") if isinstance(data, dict) else None
    if (not isinstance(values, list) or not isinstance(data.get("type"), str)
            or not all(isinstance(v, dict) and isinstance(v.get("value"), str) and isinstance(v.get("uuid"), str)
                       for v in values)):
        raise NotADataset("is not a MISP galaxy cluster file (a `type` and a `values` list of entries "
                          "with `value` and `uuid`)")
    galaxy = data["type"]
    if data.get("category") not in (None, "actor") and "intrusion-set" not in galaxy:
        raise NotADataset(f"is a MISP galaxy of {data.get('category')} (`{galaxy}`), not of actors")
    kind = "intrusion set" if "intrusion-set" in galaxy else "threat actor"
    label = f"MISP galaxy {data.get('name') or galaxy}"
    entries, skipped = [], 0
    for value in values:
        meta = value.get("meta") if isinstance(value.get("meta"), dict) else {}
        if value.get("revoked") or meta.get("revoked") or not value["value"].strip():
            skipped += 1
            continue
        related = [r for r in value.get("related") or [] if isinstance(r, dict) and isinstance(r.get("dest-uuid"), str)]
        victims = _texts(meta.get("cfr-suspected-victims")) + _texts(meta.get("suspected-victims"))
        entries.append(Entry(
            dataset=f"misp-galaxy {galaxy}", label=label, id=value["uuid"].lower(), name=value["value"].strip(),
            kind=kind, external_id=_one_text(meta.get("external_id")), aliases=_texts(meta.get("synonyms")),
            description=value.get("description") if isinstance(value.get("description"), str) else "",
            refs=_texts(meta.get("refs")), country=_one_text(meta.get("country")),
            sponsor=_one_text(meta.get("cfr-suspected-state-sponsor")), victims=tuple(dict.fromkeys(victims)),
            confidence=_one_text(meta.get("attribution-confidence")),
            same_as=tuple(r["dest-uuid"].lower() for r in related if r.get("type") == "same-as"),
            similar=tuple(r["dest-uuid"].lower() for r in related if r.get("type") == "similar"),
        ))
    return entries, skipped


# STIX relationship types the desk's vocabulary can hold (model.RELATION_TYPES), and what they become.
_STIX_RELATIONS = {"targets": "targets", "located-at": "located-at", "attributed-to": "supported-by"}
_STIX_KINDS = {"intrusion-set": "intrusion set", "threat-actor": "threat actor"}


def _read_stix(data: Any) -> tuple[list[Entry], int]:
    if not isinstance(data, dict) or data.get("type") != "bundle" or not isinstance(data.get("objects"), list):
        hint = " (it looks like a MISP galaxy: use `briefing import misp-galaxy`)" if isinstance(data, dict) and "values" in data else ""
        raise NotADataset(f"is not a STIX bundle (an object with `type: bundle` and a list of `objects`){hint}")
    objects = [o for o in data["objects"] if isinstance(o, dict) and isinstance(o.get("id"), str)]
    by_id = {o["id"]: o for o in objects}
    # the dataset: ATT&CK's collection (STIX 2.1 bundles) or matrix (its STIX 2.0 bundles), `Enterprise ATT&CK`
    # either way, so that one bundle and the other are one dataset; else who made the groups
    collection = next((o.get("name") for kind in ("x-mitre-collection", "x-mitre-matrix") for o in objects
                       if o.get("type") == kind and isinstance(o.get("name"), str) and o.get("name")), "")
    creators = sorted({str(by_id[o["created_by_ref"]].get("name")) for o in objects
                       if o.get("type") in _STIX_KINDS and o.get("created_by_ref") in by_id})
    source = collection or (creators[0] if creators else "bundle")
    relationships: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for o in objects:
        kind = _STIX_RELATIONS.get(str(o.get("relationship_type")))
        target = by_id.get(o.get("target_ref"))  # type: ignore[arg-type]
        if o.get("type") == "relationship" and kind and target and not o.get("revoked"):
            name = _one_text(target.get("name")) or _one_text(target.get("country"))
            if name:
                relationships[str(o.get("source_ref"))].append((kind, name))
    entries, skipped = [], 0
    for o in objects:
        if o.get("type") not in _STIX_KINDS:
            continue
        name = _one_text(o.get("name"))
        if o.get("revoked") or o.get("x_mitre_deprecated") or not name:
            skipped += 1
            continue
        refs = [r for r in o.get("external_references") or [] if isinstance(r, dict)]
        attack = next((str(r.get("external_id")) for r in refs if r.get("source_name") == "mitre-attack"
                       and r.get("external_id")), "")
        entries.append(Entry(
            dataset=f"stix {source}", label=f"STIX {source}", id=o["id"].lower(), name=name,
            kind=_STIX_KINDS[o["type"]], external_id=attack,
            aliases=_texts(o.get("aliases")) + tuple(a for a in _texts(o.get("x_mitre_aliases")) if a not in _texts(o.get("aliases"))),
            description=_cited(o.get("description"), refs),
            refs=_texts([r.get("url") for r in refs]),
            # what MISP's own STIX export (misp-stix) keeps of a galaxy cluster's meta, as `x_misp_*`
            country=_one_text(o.get("country")) or _one_text(o.get("x_misp_country")),
            sponsor=_one_text(o.get("x_misp_cfr_suspected_state_sponsor")),
            victims=_texts(o.get("x_misp_cfr_suspected_victims")),
            confidence=(str(o["confidence"]) if isinstance(o.get("confidence"), int)
                        else _one_text(o.get("x_misp_attribution_confidence"))),
            relationships=tuple(dict.fromkeys(relationships.get(o["id"], []))),
        ))
    return entries, skipped


_CITATIONS = re.compile(r"(?:\(Citation: ([^()]+)\))+")
_CITATION = re.compile(r"\(Citation: ([^()]+)\)")


def _cited(description: Any, refs: list[dict[str, Any]]) -> str:
    """A STIX description with ATT&CK's citations, `(Citation: ESET Sednit Part 3)`, as links to
    the external reference of that `source_name` (`([ESET Sednit Part 3](https://…))`); one
    with no such reference or no URL stays as written."""
    if not isinstance(description, str):
        return ""
    urls = {str(r.get("source_name")): str(r["url"]) for r in refs if isinstance(r.get("url"), str)
            and _URL.match(r["url"])}

    def link(name: str) -> str:
        url = urls[name].replace("(", "%28").replace(")", "%29")
        text = re.sub(r"([\\\[\]*_`])", r"\\\1", name)  # shown as written, never Markdown
        return f"[{text}]({url})"

    def run(found: re.Match[str]) -> str:
        names = _CITATION.findall(found.group())
        if not all(n in urls for n in names):
            return found.group()
        return ("" if found.start() == 0 or description[found.start() - 1].isspace() else " ") + \
            "(" + "; ".join(link(n) for n in dict.fromkeys(names)) + ")"

    return _CITATIONS.sub(run, description)


# ---- the import record, in a profile's front-matter

_RECORD_KEYS = ("dataset", "label", "id", "name", "kind", "external_id", "aliases", "country", "sponsor", "victims",
                "confidence", "same_as", "similar", "relationships")


def _record(entry: Entry) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _RECORD_KEYS:
        value = getattr(entry, key)
        if key == "relationships":
            value = [list(pair) for pair in value]
        if value not in ("", ()) and value != []:
            out[key] = list(value) if isinstance(value, tuple) else value
    return out


def _entry_of(record: Mapping[str, Any], section: str) -> Entry | None:
    """An entry back from its record (and its body section, which holds its text)."""
    if not all(isinstance(record.get(k), str) for k in ("dataset", "id", "name")):
        return None
    text = lambda k: record.get(k) if isinstance(record.get(k), str) else ""  # noqa: E731
    names = lambda k: _texts(record.get(k))  # noqa: E731
    pairs = tuple((str(p[0]), str(p[1])) for p in record.get("relationships") or []
                  if isinstance(p, list) and len(p) == 2)
    return Entry(dataset=record["dataset"], label=text("label") or record["dataset"], id=record["id"],
                 name=record["name"], kind=text("kind"), external_id=text("external_id"), aliases=names("aliases"),
                 description=section, country=text("country"), sponsor=text("sponsor"), victims=names("victims"),
                 confidence=text("confidence"), same_as=names("same_as"), similar=names("similar"),
                 relationships=pairs)


# ---- the plan

@dataclass
class Profile:
    """An actor profile the import manages (or, with `edited`, one it manages no more)."""

    path: str  # "content/actors/<slug>.md"
    title: str
    entries: list[Entry]
    edited: bool = False  # hand-edited since the import wrote it: kept as it is
    sections: dict[tuple[str, str], str] = field(default_factory=dict)  # (dataset, id) -> body text kept
    fresh: set[tuple[str, str]] = field(default_factory=set)  # records this run's data replaced

    def datasets(self) -> set[str]:
        return {e.dataset for e in self.entries}

    def ids(self) -> set[str]:
        return {_uuid_of(e.id) for e in self.entries}


@dataclass
class Plan:
    files: dict[str, str]  # path -> text the import writes (created, updated or the same)
    kept: list[str]  # imported files edited by hand since: left as they are
    merged: list[tuple[str, str]]  # (entry name, profile path) joined to a profile of another dataset
    renamed: list[tuple[str, str]]  # (entry name, title it got): its name was another profile's
    skipped: int = 0  # revoked or deprecated entries


@dataclass(frozen=True)
class _Claim:
    path: str
    kind: str  # "actor" | "place"
    role: str  # "title" | "slug" | "alias"


DIGEST_LINE = re.compile(r'(?m)^(    digest: )"sha256:([0-9a-f]{64})"$')
_NO_DIGEST = '"sha256:' + "0" * 64 + '"'


def digest_of(text: str) -> str:
    """The digest a managed file records: of its text with the digest's value set to zeros."""
    blank = DIGEST_LINE.sub(lambda m: m.group(1) + _NO_DIGEST, text, count=1)
    return hashlib.sha256(blank.encode("utf-8")).hexdigest()


def plan(entries: list[Entry], actors: Mapping[str, str], places: Mapping[str, str], skipped: int = 0) -> Plan:
    """What every imported profile file should say after importing `entries` into a site whose
    profile files are `actors` and `places` (path -> text)."""
    managed, claims, taken_slugs = _read_site(actors, places)
    result = Plan({}, [p.path for p in managed if p.edited], [], [], skipped)
    new = _assign(entries, managed, result)
    titles = {name_key(p.title) for p in managed} | {k for k, cs in claims.items() for c in cs if c.role == "title"}
    for profile in new:
        profile.title = _free_title(profile, titles, result)
        slug = slugify(profile.title)
        if slug in taken_slugs:
            slug = f"{slug}-{slugify(profile.entries[0].external_id or _uuid_of(profile.entries[0].id)[:8])}"
        while slug in taken_slugs:  # (two titles that differ only past the 80th letter)
            slug = slug + "-x"
        taken_slugs.add(slug)
        profile.path = f"content/actors/{slug}.md"
        managed.append(profile)
    _add_states(managed, claims, titles, taken_slugs)
    for profile in managed:
        if not profile.edited:  # (an edited one's names were read from its file)
            for key, role in _names_of(profile):
                claims[key].append(_Claim(profile.path, "actor", role))
    for profile in managed:
        if not profile.edited:
            result.files[profile.path] = render(profile, claims)
    return result


def _read_site(actors: Mapping[str, str], places: Mapping[str, str]
               ) -> tuple[list[Profile], dict[str, list[_Claim]], set[str]]:
    """The managed profiles; the names every other profile claims; the actor slugs in use."""
    managed: list[Profile] = []
    claims: dict[str, list[_Claim]] = defaultdict(list)
    taken: set[str] = set()
    for kind, files in (("actor", actors), ("place", places)):
        for path, text in sorted(files.items()):
            stem = path.rsplit("/", 1)[-1].removesuffix(".md")
            src = parse_source(path, kind + "s", stem, text.encode("utf-8"), Diagnostics())
            meta = src.meta if src is not None else {}
            extra = meta.get("extra") if isinstance(meta.get("extra"), dict) else {}
            slug = slugify(str(meta.get("slug") or stem))
            if kind == "actor":
                taken.update({slug, stem})
            imported = extra.get("imported") if isinstance(extra.get("imported"), dict) else None
            if kind == "actor" and src is not None and imported is not None:
                profile = _managed(path, text, src.body or "", meta, imported)
                if profile is not None:
                    managed.append(profile)
                    if not profile.edited:
                        continue  # its names are claimed as it will be written
            if src is None:
                continue
            names = [("title", meta.get("title")), ("slug", slug)] + [("alias", a) for a in _texts(meta.get("aliases"))]
            mine: dict[str, str] = {}
            for role, name in names:
                if isinstance(name, str) and name_key(name) and name_key(name) not in mine:
                    mine[name_key(name)] = role
            for key, role in mine.items():
                claims[key].append(_Claim(path, kind, role))
    return managed, claims, taken


def _managed(path: str, text: str, body: str, meta: Mapping[str, Any], imported: Mapping[str, Any]) -> Profile | None:
    records = [r for r in imported.get("sources") or [] if isinstance(r, dict)]
    match = DIGEST_LINE.search(text)
    edited = match is None or match.group(2) != digest_of(text)
    sections = _split_sections(body, records) if not edited else {}
    entries = [e for r in records if (e := _entry_of(r, sections.get((str(r.get("dataset")), str(r.get("id"))), "")))]
    if not entries:
        return None
    title = meta.get("title") if isinstance(meta.get("title"), str) else entries[0].title
    return Profile(path, title.strip(), entries, edited, sections)


def _heading(label: str, name: str) -> str:
    return f"## {label}: {_inline(name)}"


def _split_sections(body: str, records: list[Mapping[str, Any]]) -> dict[tuple[str, str], str]:
    """Each record's section of a body the import wrote: the text under its heading."""
    spans: list[tuple[tuple[str, str], int, int]] = []
    at = 0
    for record in records:
        heading = "\n" + _heading(str(record.get("label") or record.get("dataset")), str(record.get("name"))) + "\n"
        found = ("\n" + body).find(heading, at)
        if found >= 0:
            spans.append(((str(record.get("dataset")), str(record.get("id"))), found, found + len(heading) - 1))
            at = found + len(heading) - 1
    out: dict[tuple[str, str], str] = {}
    for n, (key, _, end) in enumerate(spans):
        stop = spans[n + 1][1] if n + 1 < len(spans) else len(body)
        out[key] = body[end:stop].strip("\n")
    return out


def _assign(entries: list[Entry], managed: list[Profile], result: Plan) -> list[Profile]:
    """Put each entry on the profile it belongs to; the new profiles for the others."""
    by_id: dict[str, list[Profile]] = defaultdict(list)
    for profile in managed:
        for uid in profile.ids():
            by_id[uid].append(profile)
    pending: list[Entry] = []
    for entry in entries:
        same = next((p for p in by_id.get(_uuid_of(entry.id), ())
                     if any(e.dataset == entry.dataset and e.id == entry.id for e in p.entries)), None)
        if same is None:
            same = next((p for p in by_id.get(_uuid_of(entry.id), ()) if entry.dataset not in p.datasets()), None)
            if same is not None:
                result.merged.append((entry.name, same.path))
        if same is None:
            pending.append(entry)
        else:
            _put(same, entry)
    new: list[Profile] = []
    dataset = entries[0].dataset if entries else ""
    unmatched = _match(pending, [p for p in managed if dataset not in p.datasets()], result)
    for entry in unmatched:
        new.append(Profile("", entry.title, [entry], fresh={(entry.dataset, entry.id)}))
    return new


def _put(profile: Profile, entry: Entry) -> None:
    key = (entry.dataset, entry.id)
    profile.entries = [entry if (e.dataset, e.id) == key else e for e in profile.entries]
    if key not in {(e.dataset, e.id) for e in profile.entries}:
        profile.entries.append(entry)
    profile.fresh.add(key)


def _match(entries: list[Entry], profiles: list[Profile], result: Plan) -> list[Entry]:
    """Join entries to profiles of other datasets, one to one: first by title (ATT&CK id set
    aside) or `same-as`, then by `similar`. The entries left over."""
    def strong(entry: Entry, profile: Profile) -> bool:
        ids = profile.ids()
        return (name_key(entry.title) in {name_key(e.title) for e in profile.entries}
                or any(_uuid_of(i) in ids for i in entry.same_as)
                or any(_uuid_of(entry.id) == _uuid_of(i) for e in profile.entries for i in e.same_as))

    def weak(entry: Entry, profile: Profile) -> bool:
        ids = profile.ids()
        return (any(_uuid_of(i) in ids for i in entry.similar)
                or any(_uuid_of(entry.id) == _uuid_of(i) for e in profile.entries for i in e.similar))

    by_title: dict[str, list[Profile]] = defaultdict(list)
    by_uid: dict[str, list[Profile]] = defaultdict(list)
    for profile in profiles:
        for e in profile.entries:
            by_title[name_key(e.title)].append(profile)
            by_uid[_uuid_of(e.id)].append(profile)
            for i in e.same_as + e.similar:
                by_uid[_uuid_of(i)].append(profile)
    left = list(entries)
    for test in (strong, weak):
        pairs: dict[int, list[int]] = {}
        for n, entry in enumerate(left):
            near = by_title.get(name_key(entry.title), []) + [p for i in (entry.id, *entry.same_as, *entry.similar)
                                                                 for p in by_uid.get(_uuid_of(i), [])]
            pairs[n] = sorted({id(p) for p in near if test(entry, p)})
        wanted: dict[int, int] = defaultdict(int)
        for found in pairs.values():
            for pid in found:
                wanted[pid] += 1
        chosen = {id(p): p for p in profiles}
        rest = []
        for n, entry in enumerate(left):
            found = pairs[n]
            if len(found) == 1 and wanted[found[0]] == 1 and found[0] in chosen:
                profile = chosen.pop(found[0])
                _put(profile, entry)
                result.merged.append((entry.name, profile.path))
                profiles = [p for p in profiles if p is not profile]
            else:
                rest.append(entry)
        left = rest
    return left


def _free_title(profile: Profile, titles: set[str], result: Plan) -> str:
    """The entry's title, or, when another profile has it, one made distinct by its id."""
    entry = profile.entries[0]
    title = entry.title
    if name_key(title) in titles:
        title = f"{title} ({entry.external_id or _uuid_of(entry.id)[:8]})"
        result.renamed.append((entry.name, title))
    titles.add(name_key(title))
    return title


def _add_states(managed: list[Profile], claims: Mapping[str, list[_Claim]], titles: set[str], taken: set[str]) -> None:
    """A `kind: state` profile for each suspected state sponsor no profile has as its title
    (a `supported-by` relation needs an actor at its end); one a place has is left alone."""
    have = {name_key(p.title) for p in managed}
    for profile in list(managed):
        for entry in profile.entries:
            if not name_key(entry.sponsor) or name_key(entry.sponsor) == "unknown":
                continue
            name, *others = _spellings(entry.sponsor)  # `US`, `USA`, `United States`: one state
            keys = {name_key(n) for n in (name, *others)}
            if keys & have or keys & titles:
                continue
            have |= keys
            slug = slugify(name)
            while slug in taken:
                slug = slug + "-state"
            taken.add(slug)
            state = Entry(dataset=entry.dataset, label=entry.label, id=f"state:{name_key(name)}", name=name,
                          kind="state", aliases=tuple(n for n in others if name_key(n) not in _MISSPELLINGS),
                          description="Named as a suspected state sponsor (`cfr-suspected-state-sponsor`).")
            managed.append(Profile(f"content/actors/{slug}.md", name, [state], fresh={(state.dataset, state.id)}))


def _names_of(profile: Profile) -> list[tuple[str, str]]:
    out = {name_key(profile.title): "title"}
    out.setdefault(name_key(profile.path.rsplit("/", 1)[-1].removesuffix(".md")), "slug")
    for alias in _aliases(profile):
        out.setdefault(name_key(alias), "alias")
    return [(k, r) for k, r in out.items() if k]


def _aliases(profile: Profile) -> list[str]:
    seen = {name_key(profile.title)}
    out = []
    for entry in profile.entries:
        for name in (entry.title, entry.external_id, *entry.aliases):
            key = name_key(name)
            if key and key not in seen:
                seen.add(key)
                out.append(name.strip())
    return out


def _resolve(name: str, kinds: tuple[str, ...], claims: Mapping[str, list[_Claim]]) -> str | None:
    """The profile a relation's target means, as the build resolves it (graph._entity_by_name):
    of the first kind some profile of which claims the name, the only one, or the one that has
    it as its title (else its slug); None when that is no one."""
    found = claims.get(name_key(name), [])
    for kind in kinds:
        mine = {c.path: c for c in found if c.kind == kind}
        if len(mine) == 1:
            return next(iter(mine))
        for role in ("title", "slug"):
            holders = [p for p, c in mine.items() if c.role == role]
            if holders:
                if len(holders) == 1:
                    return holders[0]
                break
    return None


def _confidence(value: str) -> str:
    """0-100 (MISP `attribution-confidence`, STIX `confidence`) in words, on STIX's
    None/Low/Med/High scale: 1-29 low, 30-69 moderate, 70-100 high."""
    try:
        n = int(float(value))
    except ValueError:
        return ""
    return "" if n <= 0 else "low" if n < 30 else "moderate" if n < 70 else "high"


def _relations(profile: Profile, claims: Mapping[str, list[_Claim]]) -> list[dict[str, str]]:
    """Relations the data holds whose target the build finds (one profile, not this one)."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for entry in profile.entries:
        wanted = [("supported-by", entry.sponsor, "cfr-suspected-state-sponsor")] if entry.sponsor else []
        wanted += [("targets", v, "cfr-suspected-victims") for v in entry.victims]
        wanted += [(kind, target, "STIX relationship") for kind, target in entry.relationships]
        for kind, name, field_name in wanted:
            kinds = ("actor", "place") if kind in ("targets", "located-at") else ("actor",)
            # a state by the first of its spellings a profile holds (`Russia` for `Russian Federation`)
            target, where = next(((n, w) for n in dict.fromkeys((*_spellings(name), name))
                                  if (w := _resolve(n, kinds, claims)) is not None), (name, None))
            if where is None or where == profile.path or (kind, where) in out:
                continue
            relation = {"type": kind, "target": target}
            if kind == "supported-by" and _confidence(entry.confidence):
                relation["confidence"] = _confidence(entry.confidence)
            relation["source"] = f"{entry.label} ({field_name})"
            out[(kind, where)] = relation
    return list(out.values())


# ---- writing a profile

_NOT_YAML_PRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's; what YAML would not print, escaped)."""
    return _NOT_YAML_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _q(str(value))


def _inline(text: str) -> str:
    """Text for one Markdown line: line breaks folded, `[[` that would be a wiki link escaped."""
    return _body_text(" ".join(text.split()))


def _body_text(text: str) -> str:
    """Dataset prose as Markdown: `[[` (a link to a profile here) and raw `<` escaped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("[[", "\\[\\[").replace("<", "\\<")


_URL = re.compile(r"^https?://[^\s<>\"`]+$")


def _section(entry: Entry) -> str:
    parts = [_body_text(entry.description.strip().replace("\r\n", "\n"))] if entry.description.strip() else []
    facts = []
    if entry.sponsor:
        facts.append(f"Suspected state sponsor: {_inline(entry.sponsor)}.")
    if entry.country:
        facts.append(f"Country: {_inline(entry.country)}.")
    if entry.victims:
        facts.append(f"Suspected victims: {_inline(', '.join(entry.victims))}.")
    if entry.relationships:
        facts.append("STIX relationships: " + _inline("; ".join(f"{k} {t}" for k, t in entry.relationships)) + ".")
    if facts:
        parts.append(" ".join(facts))
    urls = [u for u in entry.refs if _URL.match(u)]
    if urls:
        parts.append("References:\n\n" + "\n".join(f"- <{u}>" for u in urls))
    return "\n\n".join(parts)


_NOTE = ("    # Written by `briefing import`. Edit freely: once this file differs from what the import\n"
         "    # wrote (the digest), a re-import leaves it as you left it. Delete the file to import it again.\n")


def render(profile: Profile, claims: Mapping[str, list[_Claim]]) -> str:
    """The file's text, digest included."""
    lines = ["---", f"title: {_q(profile.title)}"]
    aliases = _aliases(profile)
    if aliases:
        lines.append(f"aliases: {_flow(aliases)}")
    lines.append(f"kind: {profile.entries[0].kind or 'threat actor'}")
    relations = _relations(profile, claims)
    if relations:
        lines.append("relations:")
        lines += [f"  - {_flow(r)}" for r in relations]
    lines += ["extra:", "  imported:", _NOTE.rstrip("\n"), f"    digest: {_NO_DIGEST}", "    sources:"]
    lines += [f"      - {_flow(_record(e))}" for e in profile.entries]
    lines += ["---", ""]
    body = []
    for entry in profile.entries:
        key = (entry.dataset, entry.id)
        text = _section(entry) if key in profile.fresh else profile.sections.get(key, "")
        body.append(_heading(entry.label, entry.name) + ("\n\n" + text if text else ""))
    text = "\n".join(lines) + "\n\n".join(body) + "\n"
    return DIGEST_LINE.sub(lambda m: f'{m.group(1)}"sha256:{digest_of(text)}"', text, count=1)
