"""One readable build: load everything, link, render, then write once.

    config -> load -> schema -> graph.catalog -> markdown -> graph.link -> render -> write

Each stage returns values and appends problems to one Diagnostics; the build
stops before writing if there is any error, so a broken document never touches
the previous site.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator import graph, markdown, render, schema
from generator.config import SiteConfig, load_config
from generator.diagnostics import Diagnostics
from generator.load import Asset, load_content
from generator.model import Document, Entity, Ref, Site
from generator.text import name_key
from generator.urls import Urls
from generator.write import OutputError, WriteResult, check_output_dir, write_site


@dataclass
class BuildResult:
    config: SiteConfig
    diagnostics: Diagnostics
    site: Site | None = None
    pages: dict[str, bytes] = field(default_factory=dict)
    written: WriteResult | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.diagnostics.errors


def build(
    site_dir: Path,
    output: Path | None = None,
    base_url: str | None = None,
    drafts: bool = False,
    write: bool = True,
) -> BuildResult:
    """Build the site in `site_dir`; write it to `output` unless `write` is False."""
    diags = Diagnostics()
    clock = _Clock()
    config = load_config(site_dir, diags, base_url=base_url, output=str(output) if output else None)
    result = BuildResult(config, diags, timings=clock.laps)
    out_dir = config.output_dir
    if write:
        try:
            check_output_dir(out_dir, config.root)
        except OutputError as exc:
            diags.error(str(out_dir), 0, str(exc))
            return result
    loaded = load_content(config.root, diags)
    clock.lap("load")

    docs: list[Document] = []
    profiles: list[Entity] = []
    failed_names = {name_key(Path(rel).stem) for rel in loaded.failed}
    for src in loaded.docs:
        item = (schema.to_document if src.section in ("articles", "notes") else schema.to_entity)(src, diags)
        if isinstance(item, Document):
            docs.append(item)
        elif isinstance(item, Entity):
            profiles.append(item)
        else:
            failed_names.update(name_key(str(src.meta.get(k, ""))) for k in ("title", "slug", "aliases"))
            failed_names.add(name_key(src.stem))
    cat = graph.catalog(docs, profiles, drafts, config.max_tlp, diags)
    clock.lap("model")

    sources: dict[Ref, Document | Entity] = {r: cat.documents[r] for r in cat.documents if r in cat.published_docs}
    sources.update((r, e) for r, e in cat.entities.items() if e.has_profile)
    rendered = {ref: markdown.render(item.body, config.allow_html) for ref, item in sources.items()}
    clock.lap("markdown")

    linked = graph.link(cat, rendered, diags, frozenset(failed_names))
    result.site = linked.site
    clock.lap("link")
    if diags.errors:
        return result

    urls = Urls(config.base_url)
    bodies = render.resolve_bodies(rendered, linked.targets, linked.site, urls)
    env = render.environment(config, urls)
    pages = render.render_pages(env, render.plan(linked.site, bodies, config), diags)
    pages[".nojekyll"] = b""
    result.pages = pages
    clock.lap("render")
    if diags.errors or not write:
        return result

    try:
        result.written = write_site(out_dir, pages, _copies(config, loaded.assets))
    except OutputError as exc:
        diags.error(str(out_dir), 0, str(exc))
    clock.lap("write")
    return result


def _copies(config: SiteConfig, assets: tuple[Asset, ...]) -> list[tuple[Path, str]]:
    """Theme static files, overridden by layouts/static, then content assets."""
    static: dict[str, Path] = {}
    for folder in (render.THEME / "static", config.layouts_dir / "static"):
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                static["assets/" + path.relative_to(folder).as_posix()] = path
    copies = [(path, dest) for dest, path in sorted(static.items())]
    copies += [(a.source, a.dest) for a in assets]
    return copies


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
    }
