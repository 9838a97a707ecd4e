"""Site -> pages: plan every page as (path, template, context), then render.

`plan` is a pure function of the model; `render_pages` turns the plan into bytes
with a strict Jinja environment (autoescape, StrictUndefined), reporting template
problems as `template:line`. Site templates in `layouts/` override the defaults
shipped in `generator/theme/templates/`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import jinja2
from markupsafe import Markup

from generator import __version__
from generator.config import SiteConfig
from generator.diagnostics import Diagnostics
from generator.markdown import Rendered, resolve
from generator.model import Document, Entity, Ref, Site
from generator.urls import Urls, feed_path, page_path, section_path

THEME = Path(__file__).parent / "theme"
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
    path: str  # site path, see generator.urls
    template: str
    context: Mapping[str, Any]


def plan(site: Site, bodies: Mapping[Ref, str], config: SiteConfig) -> list[Page]:
    """Every page of the site, in a deterministic order."""
    docs = list(site.documents.values())
    pages = [
        Page("", "home.html", {"title": config.title, "latest": docs[: config.home_latest],
                                "top_actors": _top(site, "actor"), "top_places": _top(site, "place")}),
        Page("timeline/", "timeline.html", {"title": "Timeline", "months": _by_month(docs)}),
        Page("404.html", "404.html", {"title": "Page not found"}),
    ]
    for kind, label in (("article", "Articles"), ("note", "Analyst notes")):
        pages.append(Page(section_path(kind), "section.html", {"title": label, "kind": kind, "docs": site.docs_of_kind(kind)}))
    for kind, label in (("actor", "Actors"), ("place", "Places")):
        rows = [(e, len(site.tagged.get(e.ref, ()))) for e in site.entities_of_kind(kind)]
        pages.append(Page(section_path(kind), "entity_index.html", {"title": label, "kind": kind, "rows": rows}))
    for doc in docs:
        pages.append(Page(page_path(doc.ref), "document.html", _document_context(site, bodies, doc)))
    for entity in site.entities.values():
        context = _entity_context(site, bodies, entity)
        pages.append(Page(page_path(entity.ref), "entity.html", context))
        pages.append(Page(feed_path(entity.ref), "feed.xml", {
            "title": f"{entity.title} — {config.title}", "self_path": feed_path(entity.ref),
            "alt_path": page_path(entity.ref), "entries": context["docs"][: config.feed_limit], "bodies": {},
            "updated": _newest(context["docs"]),
        }))
    pages.append(Page("feed.xml", "feed.xml", {"title": config.title, "self_path": "feed.xml", "alt_path": "",
                                               "entries": docs[: config.feed_limit], "bodies": bodies,
                                               "updated": _newest(docs)}))
    sitemap = [p for p in pages if p.template.endswith(".html") and p.path != "404.html"]
    pages.append(Page("sitemap.xml", "sitemap.xml", {"pages": [(p.path, _lastmod(p)) for p in sitemap]}))
    return pages


def _newest(docs: list[Document]) -> dt.date:
    """The feed's <updated>: from content, never the clock, so builds are reproducible."""
    return max((d.updated or d.date for d in docs), default=dt.date(1970, 1, 1))


def _top(site: Site, kind: str, limit: int = 12) -> list[tuple[Entity, int]]:
    rows = [(e, len(site.tagged.get(e.ref, ()))) for e in site.entities_of_kind(kind)]
    return sorted(rows, key=lambda r: (-r[1], r[0].title.casefold()))[:limit]


def _by_month(docs: list[Document]) -> list[tuple[str, str, list[Document]]]:
    groups = itertools.groupby(docs, key=lambda d: (d.date.year, d.date.month))
    return [(f"{y:04d}-{m:02d}", dt.date(y, m, 1).strftime("%B %Y"), list(g)) for (y, m), g in groups]


def _lastmod(page: Page) -> str:
    doc = page.context.get("doc")
    if isinstance(doc, Document):
        return (doc.updated or doc.date).isoformat()
    return ""


def _document_context(site: Site, bodies: Mapping[Ref, str], doc: Document) -> dict[str, Any]:
    tags = [site.entities[t] for t in site.tags.get(doc.ref, ())]
    return {
        "title": doc.title,
        "doc": doc,
        "body": Markup(bodies.get(doc.ref, "")),
        "actors": [e for e in tags if e.kind == "actor"],
        "places": [e for e in tags if e.kind == "place"],
        "backlinks": [_item(site, r) for r in site.mentions.get(doc.ref, ())],
        "related": [site.documents[r] for r in site.related.get(doc.ref, ())],
    }


def _entity_context(site: Site, bodies: Mapping[Ref, str], entity: Entity) -> dict[str, Any]:
    ref = entity.ref
    parent = site.parent.get(ref)
    return {
        "title": entity.title,
        "entity": entity,
        "body": Markup(bodies.get(ref, "")),
        "docs": [site.documents[r] for r in site.tagged.get(ref, ())],
        "mentions": [_item(site, r) for r in site.mentions.get(ref, ())],
        "co_actors": [(site.entities[r], n) for r, n in site.co_actors.get(ref, ())],
        "co_places": [(site.entities[r], n) for r, n in site.co_places.get(ref, ())],
        "affiliations": [site.entities[r] for r in site.affiliations.get(ref, ())],
        "parent": site.entities[parent] if parent else None,
        "children": [site.entities[r] for r in site.children.get(ref, ())],
        "feed": feed_path(ref),
    }


def _item(site: Site, ref: Ref) -> Document | Entity:
    return site.documents.get(ref) or site.entities[ref]


# --------------------------------------------------------------------------- rendering


def environment(config: SiteConfig, urls: Urls) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if config.layouts_dir.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(config.layouts_dir)))
    loaders.append(jinja2.FileSystemLoader(str(THEME / "templates")))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
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
    )
    env.filters["date"] = lambda d, fmt="%-d %b %Y": d.strftime(fmt) if d else ""
    env.filters["rfc3339"] = lambda d: f"{d.isoformat()}T00:00:00Z"
    return env


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
            out[page.path] = template.render(page.context, page_path=page.path).encode("utf-8")
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


def resolve_bodies(
    rendered: Mapping[Ref, Rendered],
    targets: Mapping[Ref, tuple[tuple[Ref, str] | None, ...]],
    site: Site,
    urls: Urls,
) -> dict[Ref, str]:
    """Final HTML of every published body, with [[links]] filled in."""
    bodies: dict[Ref, str] = {}
    for ref, body in rendered.items():
        if ref not in site.documents and ref not in site.entities:
            continue
        resolved = targets.get(ref, ())

        def target_of(index: int, _resolved=resolved) -> tuple[str, str] | None:  # type: ignore[no-untyped-def]
            found = _resolved[index] if index < len(_resolved) else None
            if found is None:
                return None
            target, anchor = found
            item = site.documents.get(target) or site.entities[target]
            return urls.of(target) + (f"#{anchor}" if anchor else ""), item.title

        bodies[ref] = resolve(body, urls.base_path, target_of)
    return bodies
