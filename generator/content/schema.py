"""Typed front-matter: SourceDoc -> Document or Entity, reporting every bad key.

An unknown key is an error with a suggestion (`actor:` -> did you mean
`actors`?), because a typo must never silently drop tags. Free-form data goes
under `extra:`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Mapping

from generator.content.config import TLP_LEVELS, suggest
from generator.diagnostics import Diagnostics
from generator.content.load import SourceDoc
from generator.content.model import (BUILT_IN_RELATIONS, CONFIDENCE, Document, Entity, Judgment, Relation, RelationType,
                                     Source)
from generator.content.text import slugify

DOC_KEYS = (
    "title", "date", "updated", "summary", "actors", "places", "slug", "draft", "tlp",
    "source", "author", "confidence", "reliability", "credibility", "event_date", "history", "sources", "extra",
)
ACTOR_KEYS = ("title", "aliases", "kind", "affiliations", "relations", "summary", "slug", "extra")
RELATION_KEYS = ("type", "target", "since", "until", "confidence", "source")
PLACE_KEYS = ("title", "aliases", "kind", "within", "coordinates", "summary", "slug", "extra")
SOURCE_KEYS = ("name", "title", "url", "date")
RELIABILITY = tuple("ABCDEF")
CREDIBILITY = tuple("123456")
_KIND_OF_SECTION = {"articles": "article", "notes": "note", "actors": "actor", "places": "place"}


class _Fields:
    """Typed access to one document's front-matter, recording problems."""

    def __init__(self, src: SourceDoc, diags: Diagnostics):
        self.src, self.diags, self.ok = src, diags, True

    def error(self, key: str, message: str) -> None:
        self.ok = False
        self.diags.error(self.src.rel, self.src.line(key), message)

    def text(self, key: str, required: bool = False) -> str:
        value = self.src.meta.get(key)
        if value is None:
            if required:
                self.error(key, f"missing required `{key}`")
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or (required and not value.strip()):
            self.error(key, f"`{key}` must be text")
            return ""
        return value.strip()

    def names(self, key: str) -> tuple[tuple[str, int], ...]:
        value = self.src.meta.get(key)
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            self.error(key, f"`{key}` must be a list of names")
            return ()
        line = self.src.line(key)
        seen: dict[str, None] = {}
        for item in items:
            seen.setdefault(item.strip(), None)
        return tuple((name, line) for name in seen)

    def date(self, key: str, required: bool = False) -> dt.date | None:
        value = self.src.meta.get(key)
        if value is None:
            if required:
                self.error(key, f"missing required `{key}` (YYYY-MM-DD)")
            return None
        return self.as_date(key, value)

    def as_date(self, key: str, value: Any) -> dt.date | None:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()[:10])
            except ValueError:
                pass
        self.error(key, f"`{key}` is not a date: `{value}` (write YYYY-MM-DD)")
        return None

    def choice(self, key: str, choices: tuple[str, ...], default: str = "") -> str:
        value = self.src.meta.get(key)
        if value is None:
            return default
        value = str(value).strip()
        if value.lower() in choices:
            return value.lower()
        if value.upper() in choices:
            return value.upper()
        self.error(key, f"`{key}` must be one of {', '.join(choices)}, not `{value}`")
        return default

    def flag(self, key: str) -> bool:
        value = self.src.meta.get(key, False)
        if not isinstance(value, bool):
            self.error(key, f"`{key}` must be true or false")
            return False
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.src.meta.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(key, f"`{key}` must be a mapping of keys to values")
            return {}
        return value

    def slug(self) -> str:
        explicit = self.text("slug")
        return slugify(explicit or self.src.stem)

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.src.meta:
            if key not in allowed:
                self.error(key, f"unknown key `{key}`{suggest(key, allowed)}; put free-form fields under `extra:`")


def to_document(src: SourceDoc, diags: Diagnostics) -> Document | None:
    f = _Fields(src, diags)
    f.check_keys(DOC_KEYS)
    kind = _KIND_OF_SECTION[src.section]
    title = f.text("title", required=True)
    date = f.date("date", required=True)
    doc = Document(
        kind=kind,
        slug=f.slug(),
        title=title,
        date=date or dt.date.min,
        path=src.rel,
        body_line=src.body_line,
        digest=src.digest,
        meta_digest=src.meta_digest,
        summary=_summary(f),
        updated=f.date("updated"),
        actor_names=f.names("actors"),
        place_names=f.names("places"),
        source=_source(f),
        author=f.text("author"),
        confidence=f.choice("confidence", CONFIDENCE),
        reliability=f.choice("reliability", RELIABILITY),
        credibility=f.choice("credibility", CREDIBILITY),
        tlp=f.choice("tlp", TLP_LEVELS, "clear"),
        draft=f.flag("draft"),
        extra=f.mapping("extra"),
        lines=dict(src.key_lines),
        refs=src.refs,
        history=_history(f) if kind == "note" else _not_on_articles(f, "history"),
        source_names=f.names("sources") if kind == "note" else _not_on_articles(f, "sources"),
        **_event_date(f),
    )
    return doc if f.ok else None


HISTORY_KEYS = ("date", "confidence", "summary")


def _history(f: _Fields) -> tuple[Judgment, ...]:
    """`history`: a list of earlier judgments `{date, confidence, summary}`, put oldest first;
    each needs a date and a confidence or a summary."""
    value = f.src.meta.get("history")
    if value is None:
        return ()
    if not isinstance(value, list):
        f.error("history", "`history` must be a list of {date, confidence, summary}")
        return ()
    out: list[Judgment] = []
    for n, item in enumerate(value, 1):
        where = f"`history` entry {n}"
        if not isinstance(item, dict):
            f.error("history", f"{where} must be a mapping {{date, confidence, summary}}")
            continue
        unknown = [k for k in item if k not in HISTORY_KEYS]
        if unknown:
            f.error("history", f"{where}: unknown key `{unknown[0]}`{suggest(str(unknown[0]), HISTORY_KEYS)}")
            continue
        if "date" not in item:
            f.error("history", f"{where} needs a `date`")
            continue
        day = f.as_date("history", item["date"])
        confidence = str(item.get("confidence") or "").strip().lower()
        if confidence and confidence not in CONFIDENCE:
            f.error("history", f"{where}: `confidence` must be one of {', '.join(CONFIDENCE)}, not `{confidence}`")
            continue
        summary = item.get("summary")
        if summary is not None and not isinstance(summary, str):
            f.error("history", f"{where}: `summary` must be text")
            continue
        if not confidence and not (summary or "").strip():
            f.error("history", f"{where} needs a `confidence` or a `summary`: what was judged then")
            continue
        if day is not None:
            out.append(Judgment(day, confidence, (summary or "").strip()))
    out.sort(key=lambda j: j.date)
    return tuple(out)


def _not_on_articles(f: _Fields, key: str) -> tuple[()]:
    if key in f.src.meta:
        f.error(key, f"`{key}` belongs on notes (analyst judgments), not on articles")
    return ()


_EVENT_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def _event_date(f: _Fields) -> dict[str, Any]:
    """`event_date`: YYYY-MM-DD, or YYYY-MM for a known month, or YYYY for a known year."""
    value = f.src.meta.get("event_date")
    if value is None:
        return {}
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return {"event_date": value, "event_precision": "day"}
    match = _EVENT_DATE.match(str(value).strip()) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if match:
        year, month, day = (int(g) if g else 0 for g in match.groups())
        try:
            return {"event_date": dt.date(year, month or 1, day or 1),
                    "event_precision": "day" if day else "month" if month else "year"}
        except ValueError:
            f.error("event_date", f"`event_date` is an impossible date: `{value}`")
            return {}
    f.error("event_date", f"`event_date` is not a date: `{value}` (write YYYY-MM-DD, YYYY-MM or YYYY)")
    return {}


def _summary(f: _Fields) -> str:
    """The summary; an empty one (`summary: ""`, as `briefing new` writes it) is a warning:
    listings, feeds and link previews show the summary."""
    summary = f.text("summary")
    if not summary and "summary" in f.src.meta and f.ok:
        f.diags.warning(f.src.rel, f.src.line("summary"), "`summary` is empty: listings, feeds and previews show "
                                                          "the summary; write one sentence or remove the key")
    return summary


def _source(f: _Fields) -> Source | None:
    value = f.src.meta.get("source")
    if value is None:
        return None
    if isinstance(value, str) and value.strip():
        return Source(name=value.strip())
    if not isinstance(value, dict):
        f.error("source", "`source` must be a name or a mapping with name, title, url, date")
        return None
    for key in value:
        if key not in SOURCE_KEYS:
            f.error("source", f"unknown key `source.{key}`{suggest(str(key), SOURCE_KEYS)}")
    if not any(value.values()):  # the empty stub that `briefing new` writes
        return None
    name = value.get("name")
    if not isinstance(name, str) or not name.strip():
        f.error("source", "`source.name` is required")
        return None
    url = value.get("url") or ""
    if not isinstance(url, str) or (url and not url.startswith(("http://", "https://"))):
        f.error("source", f"`source.url` must be an http(s) URL, not `{url}`")
        url = ""
    title = value.get("title") or ""
    date = f.as_date("source", value["date"]) if value.get("date") is not None else None
    return Source(name=name.strip(), title=str(title).strip(), url=url.strip(), date=date)


def to_entity(src: SourceDoc, diags: Diagnostics,
              relation_types: Mapping[str, RelationType] = BUILT_IN_RELATIONS) -> Entity | None:
    """A profile; `relation_types`: the types its `relations:` may use (SiteConfig.relation_vocabulary)."""
    f = _Fields(src, diags)
    kind = _KIND_OF_SECTION[src.section]
    f.check_keys(ACTOR_KEYS if kind == "actor" else PLACE_KEYS)
    within = f.names("within") if kind == "place" else ()
    if len(within) > 1:
        f.error("within", "`within` names one parent place")
    entity = Entity(
        kind=kind,
        slug=f.slug(),
        title=f.text("title", required=True),
        path=src.rel,
        body_line=src.body_line,
        digest=src.digest,
        meta_digest=src.meta_digest,
        aliases=tuple(name for name, _ in f.names("aliases")),
        type=f.text("kind"),
        summary=f.text("summary"),
        affiliation_names=f.names("affiliations") if kind == "actor" else (),
        relations=_relations(f, relation_types) if kind == "actor" else (),
        within_name=within[0] if within else None,
        coordinates=_coordinates(f) if kind == "place" else None,
        extra=f.mapping("extra"),
        lines=dict(src.key_lines),
        refs=src.refs,
    )
    return entity if f.ok else None


def _relations(f: _Fields, vocabulary: Mapping[str, RelationType]) -> tuple[Relation, ...]:
    """`relations`: a list of {type, target, since, until, confidence, source}; `type` from
    `vocabulary`, `target` a name resolved like a tag (by graph.link)."""
    value = f.src.meta.get("relations")
    if value is None:
        return ()
    if not isinstance(value, list):
        f.error("relations", "`relations` must be a list of {type, target, since, until, confidence, source}")
        return ()
    line = f.src.line("relations")
    out: list[Relation] = []
    for n, item in enumerate(value, 1):
        where = f"`relations` entry {n}"
        if not isinstance(item, dict):
            f.error("relations", f"{where} must be a mapping {{type, target, ...}}")
            continue
        unknown = [k for k in item if k not in RELATION_KEYS]
        if unknown:
            f.error("relations", f"{where}: unknown key `{unknown[0]}`{suggest(str(unknown[0]), RELATION_KEYS)}")
            continue
        kind = str(item.get("type") or "").strip().lower()
        if kind not in vocabulary:
            f.error("relations", f"{where}: `type` must be one of {', '.join(vocabulary)}, not `{kind}`"
                                 f"{suggest(kind, tuple(vocabulary))}")
            continue
        target = item.get("target")
        if not isinstance(target, str) or not target.strip():
            f.error("relations", f"{where} needs a `target`: the name of an actor or place")
            continue
        since = f.as_date("relations", item["since"]) if item.get("since") is not None else None
        until = f.as_date("relations", item["until"]) if item.get("until") is not None else None
        if since and until and until < since:
            f.error("relations", f"{where}: `until` ({until}) is before `since` ({since})")
            continue
        confidence = str(item.get("confidence") or "").strip().lower()
        if confidence and confidence not in CONFIDENCE:
            f.error("relations", f"{where}: `confidence` must be one of {', '.join(CONFIDENCE)}, not `{confidence}`")
            continue
        source = item.get("source")
        if source is not None and not isinstance(source, str):
            f.error("relations", f"{where}: `source` must be text")
            continue
        out.append(Relation(vocabulary[kind], target.strip(), line, since, until, confidence, (source or "").strip()))
    return tuple(out)


def _coordinates(f: _Fields) -> tuple[float, float] | None:
    value = f.src.meta.get("coordinates")
    if value is None:
        return None
    valid: Callable[[Any], bool] = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    if isinstance(value, list) and len(value) == 2 and all(map(valid, value)):
        lat, lon = float(value[0]), float(value[1])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return (lat, lon)
    f.error("coordinates", f"`coordinates` must be [latitude, longitude] in degrees, not `{value}`")
    return None
