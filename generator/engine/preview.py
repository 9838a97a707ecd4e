"""The preview server's builds: the fast path for the commonest saves (live.py), else the full build.

`LiveBuild` keeps the last build's state in memory; a save that the fast path takes renders
the edited document's page first and hands it to the server (`early`), then the rest.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from generator.content import markdown
from generator.content.cache import Cache
from generator.content.config import load_config
from generator.diagnostics import Diagnostics
from generator.engine.build import build
from generator.engine.live import Applied, Early, Index, find_edits
from generator.engine.pipeline import BuildResult, BuildState, First, search_words
from generator.output.write import OutputTree
from generator.policy import BuildPolicy
from generator.pages import render
from generator.site.urls import output_file


class LiveBuild:
    def __init__(self, site: Path, output: Path, base_url: str, drafts: bool, cache: Cache,
                 policy: BuildPolicy | None = None):
        self.site, self.output, self.base_url, self.drafts, self.cache = site, output, base_url, drafts, cache
        self.policy = policy or BuildPolicy()
        self.state: BuildState | None = None
        self._index: Index | None = None

    def run(self, changed: set[Path] | None = None, early: Early | None = None) -> BuildResult:
        if self.state is not None and changed:
            quick = self._quick(changed, early)
            if quick is not None:
                return quick
        first = None
        if changed and early is not None and self.state is not None:  # after a good build: the saved
            # files' own pages first, served at once (after a failed one, every page is its error page)
            first = First(frozenset(_relative(path, self.site) for path in changed), early)
        self.state, self._index = None, None
        result = build(self.site, output=self.output, base_url=self.base_url, drafts=self.drafts,
                       in_place=True, cache=self.cache, policy=self.policy, first=first)
        self.state = result.state
        if self.state is not None:  # now, not on the first save: saves stay fast
            self._index = Index(self.state, result.shown)
            self._index.prepare(self.state)
            render.warm_up(self.state.env, self.state.pages)
            markdown.render("", self.state.config.allow_html)  # builds the parser
        return result

    def _quick(self, changed: set[Path], early: Early | None) -> BuildResult | None:
        started = time.perf_counter()
        state, index = self.state, self._index
        assert state is not None and index is not None
        edits = find_edits(state, index, self.site, changed)
        if edits is None:
            return None
        self.cache.put_rendered((e.key, e.rendered, search_words(e.rendered)) for e in edits if e.rendered)
        applied = Applied(state, index, edits)
        self.state = applied.state
        return self._rerender(applied, early, started)

    def _rerender(self, applied: Applied, early: Early | None, started: float) -> BuildResult:
        """Render the edited documents' own pages, then tell `early` which files may still
        change (those of every other page that shows the edits), then the rest, in place."""
        state = applied.state
        tree = OutputTree(self.output)
        tree.start_in_place()
        diags = Diagnostics()
        changed_paths: list[str] = []
        new_pages: dict[str, tuple[str, str]] = {}
        files = dict(tree.old)  # what the folder holds, as the pages are written
        rendered = 0
        for step in ("first", "rest"):
            if step == "first":
                indices = applied.first
            else:
                if early is not None and applied.first:
                    early(frozenset(output_file(state.pages[j].path) for j in applied.pending))
                indices = applied.finish()
            for i in indices:
                page = state.pages[i]
                out = render.render_pages(state.env, [page], diags)
                if page.path not in out:
                    tree.commit_in_place(files)  # the manifest says what was written before the error
                    self.state, self._index = None, None  # a template broke at run time: start afresh
                    return BuildResult(load_config(self.site, Diagnostics()), diags)
                rel = output_file(page.path)
                file_hash = tree.place(rel, out[page.path])
                if files.get(rel) != file_hash:
                    changed_paths.append(rel)
                files[rel] = file_hash
                new_pages[page.path] = (state.prints[page.path], file_hash)  # (Applied fingerprinted it)
            rendered += len(indices)
        tree.commit_in_place(files)
        self.cache.update_pages(os.fspath(state.config.output_dir), new_pages)
        render.fragments_of(state.env).take_new()  # made here, in this process: nothing to hand back
        result = BuildResult(state.config, diags, site=state.site, rendered_pages=rendered,
                             changed_paths=tuple(sorted(changed_paths)), state=state)
        result.timings["render+write"] = time.perf_counter() - started
        return result


def _relative(path: Path, site: Path) -> str:
    try:
        return path.absolute().relative_to(site.absolute()).as_posix()
    except ValueError:
        return ""
