"""Rebuilds for the preview server: the full incremental build, plus a fast path.

While an analyst writes, most saves change a body and nothing else: not the
front-matter, not the [[links]]. Then the graph, every listing and every other
page are exactly as before, and only the pages that show that body need
rendering. `LiveBuild` keeps the previous build's state in memory and takes
this path when it provably applies (same front-matter digest, same link
targets); anything else goes through the normal build, which is itself
incremental through the cache.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from generator import __version__, code_version, markdown, render
from generator.build import BuildResult, BuildState, build, search_words
from generator.cache import Cache
from generator.config import load_config
from generator.diagnostics import Diagnostics
from generator.load import SECTIONS, parse_source
from generator.model import Ref
from generator.urls import output_file
from generator.write import MARKER, OutputTree


class LiveBuild:
    def __init__(self, site: Path, output: Path, base_url: str, drafts: bool, cache: Cache):
        self.site, self.output, self.base_url, self.drafts, self.cache = site, output, base_url, drafts, cache
        self.state: BuildState | None = None
        self._shown_by: dict[Ref, list[int]] | None = None

    def run(self, changed: set[Path] | None = None) -> BuildResult:
        if self.state is not None and changed:
            quick = self._body_only(changed)
            if quick is not None:
                return quick
        result = build(self.site, output=self.output, base_url=self.base_url, drafts=self.drafts,
                       in_place=True, cache=self.cache)
        self.state = result.state
        self._shown_by = None
        return result

    def _body_only(self, changed: set[Path]) -> BuildResult | None:
        state = self.state
        assert state is not None
        started = time.perf_counter()
        updates: list[tuple[render.Body, str, tuple[markdown.WikiLink, ...], markdown.Rendered]] = []
        for path in changed:
            try:
                rel = path.relative_to(self.site).as_posix()
            except ValueError:
                return None
            item = state.sources.get(rel)
            parts = rel.split("/")
            if item is None or len(parts) < 3 or parts[0] != "content" or parts[1] not in SECTIONS:
                return None
            try:
                data = path.read_bytes()
            except OSError:
                return None
            source = parse_source(rel, parts[1], path.stem, data, Diagnostics())
            if source is None or source.meta_digest != item.meta_digest or source.body is None:
                return None
            body = state.bodies.get(item.ref)
            if body is None:
                return None
            rendered = markdown.render(source.body, state.config.allow_html)
            if [(w.target, w.anchor) for w in rendered.links] != [(w.target, w.anchor) for w in body.links]:
                return None  # links changed: backlinks may change, take the full path
            updates.append((body, f"{source.digest}:{code_version()}:{state.config.allow_html}", rendered.links, rendered))
        self.cache.put_rendered((key, rendered, search_words(rendered)) for _, key, _, rendered in updates)
        for body, key, links, _ in updates:
            body.key, body.links = key, links
        return self._rerender({body.ref for body, *_ in updates}, started)

    def _rerender(self, refs: set[Ref], started: float) -> BuildResult:
        state = self.state
        assert state is not None
        if self._shown_by is None:
            self._shown_by = {}
            for index, page in enumerate(state.pages):
                for ref in render.bodies_shown(page):
                    self._shown_by.setdefault(ref, []).append(index)
        indices = sorted({i for ref in refs for i in self._shown_by.get(ref, [])})
        tree = OutputTree(self.output)
        tree.start_in_place()
        diags = Diagnostics()
        changed_paths: list[str] = []
        new_pages: dict[str, tuple[str, str]] = {}
        for index in indices:
            page = state.pages[index]
            out = render.render_pages(state.env, [page], diags)
            if page.path not in out:
                return BuildResult(load_config(self.site, Diagnostics()), diags)
            rel = output_file(page.path)
            file_hash = tree.place(rel, out[page.path])
            if tree.old.get(rel) != file_hash:
                changed_paths.append(rel)
            tree.old[rel] = file_hash
            fingerprint = render.fingerprint(page, state.salt)
            state.prints[page.path] = fingerprint
            new_pages[page.path] = (fingerprint, file_hash)
        if changed_paths:
            (self.output / MARKER).write_text(
                json.dumps({"generator": f"briefing {__version__}", "files": dict(sorted(tree.old.items()))},
                           indent=0, sort_keys=True) + "\n", encoding="utf-8")
        self.cache.update_pages(new_pages)
        result = BuildResult(state.config, diags, site=state.site, rendered_pages=len(indices),
                             changed_paths=tuple(sorted(changed_paths)), state=state)
        result.timings["render+write"] = time.perf_counter() - started
        return result
