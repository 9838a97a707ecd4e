"""The `briefing` command: the only place that prints or exits.

Exit codes: 0 success, 1 the content (or the output folder) is wrong, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from generator import __version__
from generator.commands.policy import CollectorPolicy
from generator.engine.build import BuildResult, build, summary
from generator.diagnostics import Diagnostic, counted
from generator.content.markdown import parser_kind
from generator.progress import Meter


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    global _finished
    try:
        code = int(args.run(args))
        _finished = args.command
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """The `briefing` program: `main`, then exit. After a build, without tearing down the
    model object by object (about 0.1 s at 10,000 documents) — there is nothing left to
    clean up: the cache is closed, the output committed, the worker pools joined."""
    code = main()
    if _finished in ("build", "check"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


_finished = ""  # the command main ran to its end


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefing", description="Build a cross-linked briefing site from Markdown.")
    parser.add_argument("--version", action="version", version=f"briefing {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("build", help="build the site into the output folder", description=_described("build the site into the output folder"))
    _site_options(p)
    p.add_argument("--output", "-o", type=Path, help="output folder (default: site.yml `output` or _site)")
    p.add_argument("--strict", action="store_true",
                   help="run the checks of `briefing check` first; any error or warning fails the build, nothing is written")
    p.add_argument("--timings", action="store_true", help="also print how long each step of the build took")
    checking = p.add_mutually_exclusive_group()
    checking.add_argument("--check", action="store_true", dest="check", default=None,
                          help="after writing, check the output as `briefing check` does and exit 1 on any error "
                               "(without the flag the errors are printed too, and the exit code is 0)")
    checking.add_argument("--no-check", action="store_false", dest="check",
                          help="do not check the output after writing")
    p.set_defaults(run=cmd_build)

    p = sub.add_parser("check", help="report every problem without writing anything", description=_described("report every problem without writing anything"))
    _site_options(p)
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("serve", help="preview the site with live reload", description=_described("preview the site with live reload"))
    p.add_argument("--site", type=Path, default=Path("."), help="site folder (default: current folder)")
    p.add_argument("--host", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: 8000, or the next free one)")
    p.add_argument("--drafts", action="store_true", help="show documents marked `draft: true` (marked as drafts)")
    p.add_argument("--open", action="store_true", help="open the site in a web browser")
    p.add_argument("--output", type=Path, help="build into this folder instead of a temporary one")
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("new", help="write a new document or profile with filled-in front-matter", description=_described("write a new document or profile with filled-in front-matter"))
    p.add_argument("--site", type=Path, default=Path("."), help="site folder (default: current folder)")
    p.add_argument("kind", choices=("article", "note", "actor", "place"), help="what to write: article, note, actor or place")
    p.add_argument("title", help="its title (the file is named after it: content/<kind>s/<slug>.md)")
    p.set_defaults(run=cmd_new)

    p = sub.add_parser("init", help="create a new briefing site in a folder", description=_described("create a new briefing site in a folder"))
    p.add_argument("folder", type=Path, help="the new site's folder (must not exist, or be empty)")
    p.add_argument("--base-url", help="the site's address, e.g. https://user.github.io/repo/ "
                                      "(default: from the git remote `origin`, if it is on GitHub)")
    p.set_defaults(run=cmd_init)

    p = sub.add_parser("deploy", help="build for production and push it to the gh-pages branch", description=_described("build for production and push it to the gh-pages branch"))
    p.add_argument("--site", type=Path, default=Path("."), help="site folder (default: current folder)")
    p.add_argument("--remote", help="git remote to push to (default: site.yml `deploy.remote` or origin)")
    p.add_argument("--branch", help="branch to commit to (default: site.yml `deploy.branch` or gh-pages)")
    p.add_argument("--message", "-m", help="text added to the deploy commit message")
    p.add_argument("--cname", help="custom domain: writes CNAME and builds for https://DOMAIN/")
    p.add_argument("--no-push", dest="push", action="store_false", help="commit to the local branch only")
    p.add_argument("--force", action="store_true", help="deploy even if the branch has commits not made by a deploy")
    p.set_defaults(run=cmd_deploy)

    from generator.commands.importing import add_parser

    add_parser(sub, _described)
    return parser


def _described(text: str) -> str:
    """A subcommand's --help description: its one-line help as a sentence."""
    return text[0].upper() + text[1:] + "."


def _site_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--site", type=Path, default=Path("."), help="site folder (default: current folder)")
    p.add_argument("--base-url", help="override site.yml `base_url`, e.g. https://user.github.io/repo/")
    p.add_argument("--drafts", action="store_true", help="include documents marked `draft: true`")


def _site_dir(args: argparse.Namespace) -> Path | None:
    site: Path = args.site
    if not site.is_dir():
        print(f"briefing: error: site folder {site} does not exist", file=sys.stderr)
        return None
    return site


def _report(diagnostics: Sequence[Diagnostic]) -> None:
    for d in diagnostics:
        print(d, file=sys.stderr)


def _audit(result: BuildResult) -> str:
    from generator.output.audit import unprofiled_tags

    numbers = summary(result)
    held = numbers["held_back"]
    held_text = ", ".join(
        [f"{n} {reason.replace('tlp:', 'TLP:').upper()}" if reason.startswith("tlp") else counted(n, reason)
         for reason, n in held.items()]
        + ([counted(numbers["held_assets"], "asset")] if numbers["held_assets"] else [])) or "none"
    note = unprofiled_tags(result.site) if result.site is not None else ""
    return (f"{note + chr(10) if note else ''}published {counted(numbers['documents'], 'document')}, "
            f"{counted(numbers['entities'], 'actor or place', 'actors and places')}; held back: {held_text}")


def _checked(result: BuildResult) -> BuildResult:
    """Add the output audit (broken links, anchors, files; content warnings) to a build's diagnostics."""
    from generator.output.audit import audit, today_from

    if result.ok and result.site is not None:
        today = today_from(os.environ)
        result.diagnostics.extend(audit(result.site, result.pages, result.copied, result.config, today))
    return result


def _today_is_valid() -> bool:
    from generator.output.audit import today_from

    try:
        today_from(os.environ)
    except (ValueError, OverflowError, OSError):
        print("briefing: error: SOURCE_DATE_EPOCH must be a whole number of seconds since 1970", file=sys.stderr)
        return False
    return True


def cmd_build(args: argparse.Namespace) -> int:
    site = _site_dir(args)
    if site is None or (args.strict and not _today_is_valid()):
        return 2
    output = args.output.resolve() if args.output else None
    if args.strict:
        trial = _checked(build(site, output=output, base_url=args.base_url, drafts=args.drafts, write=False,
                               policy=CollectorPolicy()))
        if len(trial.diagnostics):
            _report(list(trial.diagnostics))
            print(f"build failed (--strict): {trial.diagnostics.tally()}; "
                  f"the previous site in {trial.config.output_dir} is untouched", file=sys.stderr)
            return 1
    meter = Meter(sys.stderr) if sys.stderr.isatty() else None  # progress on a terminal only
    policy = CollectorPolicy()
    try:
        result = build(site, output=output, base_url=args.base_url, drafts=args.drafts, progress=meter,
                       policy=policy, save_behind=True)
    finally:
        if meter is not None:
            meter.clear()
    try:
        with policy.reporting():
            return _built(args, result)
    finally:
        failed = result.settle()  # (the state for the next build, saved meanwhile)
        if failed:
            print(f"note: the build state for the next build could not be saved ({failed}): "
                  "the next build is a full one", file=sys.stderr)


def _built(args: argparse.Namespace, result: BuildResult) -> int:
    """What `build` says once the site is written: the report, the output check, the audit."""
    _report(list(result.diagnostics))
    if not result.ok:
        print(f"build failed: {counted(len(result.diagnostics.errors), 'error')}; the previous site in {result.config.output_dir} is untouched",
              file=sys.stderr)
        return 1
    written = result.written
    total = sum(result.timings.values())
    change = (f"{written.changed} changed, {written.removed} removed" if written and written.swapped
              else "no file changed")
    print(f"built {len(result.pages)} pages into {result.config.output_dir} in {total:.2f} s ({change})")
    if args.timings:
        print("timings: " + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in result.timings.items()))
        print(f"markdown: {parser_kind()}")
    problems: list[Diagnostic] = []
    if args.check or (args.check is None and not args.strict):
        # what check calls an error; of its warnings, the site-wide ones (the content warnings are check's)
        report: dict[str, int] = {}
        problems = [d for d in _audit_written(result, report) if d.level == "error"]
        if args.timings:
            print(f"output check: {result.timings.get('check', 0):.2f} s "
                  f"({counted(report.get('checked', 0), 'page')} checked, the others' verdicts kept)")
    from generator.output.audit import config_warnings

    problems += config_warnings(result.config)  # (they cost nothing: every build says them)
    problems = [d for d in problems if d not in set(result.diagnostics)]
    _report(problems)
    print(_audit(result))
    errors = [d for d in problems if d.level == "error"]
    if errors:
        print(f"the site in {result.config.output_dir} has {counted(len(errors), 'error')} that "
              "`briefing check` reports (above); `briefing deploy` will not publish it", file=sys.stderr)
        return 1 if args.check else 0
    return 0


def _audit_written(result: BuildResult, report: dict[str, int]) -> list[Diagnostic]:
    """The output check of a written build, with the site's cache: only the pages whose verdict
    may have changed since the last check of this folder are read (generator/output/audit.py)."""
    import time

    from generator.content.cache import Cache
    from generator.engine.build import CACHE_FILE
    from generator.output.audit import audit_written, today_from

    started = time.perf_counter()
    cache = Cache(result.config.cache_dir / CACHE_FILE)
    try:
        return audit_written(result.site, result.pages, result.config, result.config.output_dir,
                             today_from(os.environ), cache, report)
    finally:
        cache.close()
        result.timings["check"] = time.perf_counter() - started


def cmd_check(args: argparse.Namespace) -> int:
    site = _site_dir(args)
    if site is None or not _today_is_valid():
        return 2
    result = _checked(build(site, base_url=args.base_url, drafts=args.drafts, write=False,
                            policy=CollectorPolicy()))
    items = list(result.diagnostics)
    if args.format == "json":
        print(json.dumps([d.as_dict() for d in items], indent=2))
    else:
        _report(items)
        print(result.diagnostics.tally(), file=sys.stderr)
    return 0 if result.ok else 1


def cmd_serve(args: argparse.Namespace) -> int:
    import webbrowser

    from generator.content.config import load_config
    from generator.diagnostics import Diagnostics
    from generator.commands.serve import PortInUse, cleanup, prepare

    site = _site_dir(args)
    if site is None:
        return 2
    config = load_config(site, Diagnostics())
    host = args.host or config.serve_host
    port = args.port if args.port is not None else config.serve_port
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    try:
        server = prepare(site, host, port, args.port is not None, args.drafts, args.output, log)
    except PortInUse as exc:
        print(f"briefing: error: {exc}", file=sys.stderr)
        return 2
    url = server.preview.base_url
    if server.port != port:
        log(f"port {port} is in use; using {server.port}")
    log(f"output: {server.preview.output}")

    def ready() -> None:
        print(f"serving {url} (Ctrl-C to stop)", flush=True)
        if args.open:
            webbrowser.open(url)

    try:
        server.run(on_ready=ready)
    except KeyboardInterrupt:
        pass
    finally:
        cleanup(server, owned_output=args.output is None)
    print("stopped", file=sys.stderr)
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from generator.commands.scaffold import ScaffoldError, new_document

    try:
        path = new_document(args.site, args.kind, args.title)
    except ScaffoldError as exc:
        print(f"briefing: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from generator.commands.scaffold import ScaffoldError, base_url_for, init_site

    try:
        base_url, origin = base_url_for(args.folder, args.base_url)
        written = init_site(args.folder, base_url)
    except ScaffoldError as exc:
        print(f"briefing: error: {exc}", file=sys.stderr)
        return 1
    if origin == "a placeholder":
        print(f"briefing: warning: base_url is a placeholder ({base_url}): set your site's address in "
              f"{args.folder / 'site.yml'} (or run init with --base-url)", file=sys.stderr)
    else:
        print(f"base_url: {base_url} (from {origin})")
    print(f"created a briefing site in {args.folder} ({len(written)} files); next: cd {args.folder} && briefing build")
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    from generator.commands.deploy import DeployError, deploy

    site = _site_dir(args)
    if site is None:
        return 2
    try:
        result = deploy(site, remote=args.remote, branch=args.branch, message=args.message, cname=args.cname,
                        push=args.push, force=args.force)
    except DeployError as exc:
        _report(exc.diagnostics)
        print(f"briefing: error: {exc}", file=sys.stderr)
        return 1
    _report(list(result.build.diagnostics))
    for warning in result.warnings:
        print(f"briefing: warning: {warning}", file=sys.stderr)
    where = f"{result.remote}/{result.branch}" if result.pushed else result.branch
    if result.commit is None:
        tip = (result.previous or "")[:7]
        print(f"no change: {result.branch} ({tip}) already holds this build; no new commit"
              + (f"; pushed it to {result.remote}" if result.pushed else ""))
    elif result.pushed:
        print(f"deployed {result.files} files to {where} as {result.commit[:7]}: {result.subject}")
    else:
        print(f"committed {result.files} files to {where} as {result.commit[:7]}: {result.subject} "
              f"(not pushed; `git push {result.remote} {result.branch}` publishes it)")
    print(_audit(result.build))
    return 0
