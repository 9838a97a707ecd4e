"""The `briefing` command: the only place that prints or exits.

Exit codes: 0 success, 1 the content (or the output folder) is wrong, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from generator import __version__
from generator.build import BuildResult, build, summary
from generator.diagnostics import Diagnostic


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefing", description="Build a cross-linked briefing site from Markdown.")
    parser.add_argument("--version", action="version", version=f"briefing {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("build", help="build the site into the output folder")
    _site_options(p)
    p.add_argument("--output", "-o", type=Path, help="output folder (default: site.yml `output` or _site)")
    p.set_defaults(run=cmd_build)

    p = sub.add_parser("check", help="report every problem without writing anything")
    _site_options(p)
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("new", help="write a new document or profile with filled-in front-matter")
    p.add_argument("--site", type=Path, default=Path("."), help="site folder (default: current folder)")
    p.add_argument("kind", choices=("article", "note", "actor", "place"))
    p.add_argument("title")
    p.set_defaults(run=cmd_new)

    p = sub.add_parser("init", help="create a new briefing site in a folder")
    p.add_argument("folder", type=Path)
    p.set_defaults(run=cmd_init)
    return parser


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
    numbers = summary(result)
    held = numbers["held_back"]
    held_text = ", ".join(f"{n} {reason.replace('tlp:', 'TLP:').upper() if reason.startswith('tlp') else reason}"
                          for reason, n in held.items()) or "none"
    return (f"published {numbers['documents']} documents, {numbers['entities']} actors and places; "
            f"held back: {held_text}")


def cmd_build(args: argparse.Namespace) -> int:
    site = _site_dir(args)
    if site is None:
        return 2
    output = args.output.resolve() if args.output else None
    result = build(site, output=output, base_url=args.base_url, drafts=args.drafts)
    _report(list(result.diagnostics))
    if not result.ok:
        n = len(result.diagnostics.errors)
        print(f"build failed: {n} error{'s' if n != 1 else ''}; the previous site in {result.config.output_dir} is untouched",
              file=sys.stderr)
        return 1
    written = result.written
    total = sum(result.timings.values())
    change = (f"{written.changed} changed, {written.removed} removed" if written and written.swapped
              else "no file changed")
    print(f"built {len(result.pages)} pages into {result.config.output_dir} in {total:.2f} s ({change})")
    print(_audit(result))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    site = _site_dir(args)
    if site is None:
        return 2
    result = build(site, base_url=args.base_url, drafts=args.drafts, write=False)
    items = list(result.diagnostics)
    if args.format == "json":
        print(json.dumps([d.as_dict() for d in items], indent=2))
    else:
        _report(items)
        errors, warnings = len(result.diagnostics.errors), len(result.diagnostics.warnings)
        print(f"{errors} errors, {warnings} warnings", file=sys.stderr)
    return 0 if result.ok else 1


def cmd_new(args: argparse.Namespace) -> int:
    from generator.scaffold import ScaffoldError, new_document

    try:
        path = new_document(args.site, args.kind, args.title)
    except ScaffoldError as exc:
        print(f"briefing: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from generator.scaffold import ScaffoldError, init_site

    try:
        written = init_site(args.folder)
    except ScaffoldError as exc:
        print(f"briefing: error: {exc}", file=sys.stderr)
        return 1
    print(f"created a briefing site in {args.folder} ({len(written)} files); next: cd {args.folder} && briefing build")
    return 0
