"""`build()`: the one entry point of every build (CLI build, check, deploy, the preview server).

It tries the warm build from the previous build's saved state (warm.py), and otherwise runs
the pipeline (pipeline.py), which takes what did not change from the cache; then it saves the
state for the next build. See docs/architecture.md.
"""

from __future__ import annotations

import time
from pathlib import Path

from generator import parallel
from generator.content.cache import Cache
from generator.content.config import load_config
from generator.diagnostics import Diagnostics
from generator.engine import warm
from generator.engine.pipeline import CACHE_FILE, BuildResult, First, _Clock, _open_cache, _run, summary
from generator.output.write import OutputError, check_output_dir
from generator.policy import BuildPolicy
from generator.progress import Progress

__all__ = ["CACHE_FILE", "BuildResult", "build", "summary"]  # what callers of build() need


def build(
    site_dir: Path,
    output: Path | None = None,
    base_url: str | None = None,
    drafts: bool = False,
    write: bool = True,
    use_cache: bool = True,
    in_place: bool = False,
    cache: Cache | None = None,
    progress: Progress | None = None,
    policy: BuildPolicy | None = None,
    first: First | None = None,
    save_behind: bool = False,
) -> BuildResult:
    """Build the site in `site_dir` into `output` (or only check it when `write` is False).

    `in_place` updates the output folder file by file instead of swapping a
    fresh one in: the preview server's choice, where requests wait for a build.
    `progress` hears how far the long steps are (generator/progress.py); `policy` is told
    about the build's memory (generator/policy.py: the commands set the collector's policy);
    `first` (in place only): pages to write before the others, and whom to tell (pipeline.First).
    `save_behind`: the state for the next build is written by a forked child while the caller
    goes on (its output check, say); the caller must `result.settle()` before it ends.
    """
    policy = policy or BuildPolicy()
    policy.started()
    try:
        return _build(site_dir, output, base_url, drafts, write, use_cache, in_place, cache, progress, policy, first,
                      save_behind)
    finally:
        policy.ended()


def _build(site_dir: Path, output: Path | None, base_url: str | None, drafts: bool, write: bool,
           use_cache: bool, in_place: bool, cache: Cache | None, progress: Progress | None,
           policy: BuildPolicy, first: First | None, save_behind: bool) -> BuildResult:
    diags = Diagnostics()
    clock = _Clock()
    config = load_config(site_dir, diags, base_url=base_url, output=str(output) if output else None)
    result = BuildResult(config, diags, timings=clock.laps)
    if write:
        try:
            check_output_dir(config.output_dir, config.root)
        except OutputError as exc:
            diags.error(str(config.output_dir), 0, str(exc))
            return result
    if cache is not None:  # the caller's (the preview server keeps one open)
        _run(config, cache, drafts, write, in_place, result, clock, policy, progress, first=first)
        return result
    keep_state = write and use_cache and not in_place and not diags.errors
    with _open_cache(config, use_cache) as own:
        if keep_state and warm.build(config, own, drafts, result, policy):
            return result
        started = time.time()
        _run(config, own, drafts, write, in_place, result, clock, policy, progress, first=first)
        if keep_state and result.ok and result.state is not None:
            state, warnings, shown, stamps = result.state, tuple(diags.warnings), result.shown, result.stamps

            def save() -> None:  # in the child: what went wrong is the caller's to hear (BuildResult.settle)
                failed = warm.save(config, drafts, state, warnings, started, shown=shown, stamps=stamps)
                if failed:
                    raise OSError(failed)

            if save_behind:
                result.saving = parallel.behind(save)
            else:  # (a state that could not be saved is not kept: the next build is a full one)
                warm.save(config, drafts, state, warnings, started, shown=shown, stamps=stamps)
            clock.lap("save state")
        elif keep_state:
            warm.forget(config)
    return result
