"""`briefing import misp-galaxy FILE.json` and `briefing import stix BUNDLE.json`.

Reads the dataset and the site's profile files, asks `content/importing.plan` what every
imported profile should say, and writes those that change, each atomically (a temporary
file renamed over it), into `content/actors/` only. Exit 2 when the input is no dataset.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from generator.content.importing import NotADataset, Plan, plan, read_dataset
from generator.diagnostics import counted


def add_parser(sub: argparse._SubParsersAction, described: Callable[[str], str]) -> None:
    text = "write actor profiles from a MISP galaxy or a STIX 2.1 bundle into content/actors/"
    p = sub.add_parser("import", help=text, description=described(text))
    p.add_argument("--site", type=Path, default=Path("."), help="site folder (default: current folder)")
    p.add_argument("format", choices=("misp-galaxy", "stix"), help="misp-galaxy (a galaxy cluster file) or stix (a bundle)")
    p.add_argument("file", type=Path, help="the JSON file to import")
    p.set_defaults(run=cmd_import)


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    written: list[str]
    unchanged: int
    entries: int


def import_file(site: Path, fmt: str, file: Path) -> Outcome:
    """Import one dataset into the site; NotADataset or OSError when the file cannot be read."""
    raw = file.read_bytes()
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise NotADataset(f"is not JSON{where}") from None
    entries, skipped = read_dataset(fmt, data)
    actors_dir = site / "content" / "actors"
    actors = _texts(actors_dir, "content/actors")
    places = _texts(site / "content" / "places", "content/places")
    result = plan(entries, actors, places, skipped)
    written: list[str] = []
    unchanged = 0
    for rel, text in sorted(result.files.items()):
        if actors.get(rel) == text:
            unchanged += 1
            continue
        path = site / rel
        if path.parent.resolve() != actors_dir.resolve():  # a slug is one path segment; make sure of it
            raise NotADataset(f"would write {rel}, outside content/actors/")
        _write_atomically(path, text)
        written.append(rel)
    return Outcome(result, written, unchanged, len(entries))


def _texts(folder: Path, rel: str) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.glob("*.md")):
        try:
            out[f"{rel}/{path.name}"] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            out[f"{rel}/{path.name}"] = ""  # not ours, and no profile the build reads either
    return out


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def cmd_import(args: argparse.Namespace) -> int:
    site: Path = args.site
    if not (site / "content").is_dir():
        print(f"briefing: error: {site} has no content/ folder; run it in a site's folder or pass --site",
              file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        outcome = import_file(site, args.format, args.file)
    except NotADataset as exc:
        print(f"briefing: error: {args.file}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"briefing: error: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    result = outcome.plan
    for name, path in result.merged:
        print(f"merged {name} into {path}")
    for name, title in result.renamed:
        print(f"{name}: another profile has that name; titled it {title}")
    for path in result.kept:
        print(f"kept {path}: edited by hand since the import wrote it")
    seconds = time.perf_counter() - start
    skipped = f", {counted(result.skipped, 'revoked or deprecated entry', 'revoked or deprecated entries')} skipped" \
        if result.skipped else ""
    print(f"imported {counted(outcome.entries, 'entry', 'entries')} from {args.file}{skipped} in {seconds:.2f} s: "
          f"{len(outcome.written)} written, {outcome.unchanged} unchanged, {len(result.kept)} kept (edited by hand)")
    return 0
