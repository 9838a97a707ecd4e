"""The floor: the least any Markdown+YAML+Jinja generator must do for N documents.

Reads each file, parses its YAML (libyaml), renders its Markdown with
markdown-it-py and writes it through a one-line Jinja template. No listings,
no entity pages, no links. `python -m benchmarks.floor CONTENT OUT [PROCS]`.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

import jinja2
import yaml
from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    "<!DOCTYPE html><title>{{ meta.title }}</title><main>{{ body }}</main>")
_OUT = Path(".")


def one(path: str) -> None:
    text = Path(path).read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    meta = yaml.load(front, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    html = _TEMPLATE.render(meta=meta, body=jinja2.utils.markupsafe.Markup(_MD.render(body)))
    target = _OUT / Path(path).stem / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")


def main() -> None:
    global _OUT
    content, out = Path(sys.argv[1]), Path(sys.argv[2])
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    _OUT = out
    files = sorted(str(p) for p in content.rglob("*.md") if p.parent.name in ("articles", "notes"))
    if procs == 1:
        for f in files:
            one(f)
    else:
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            pool.map(one, files, chunksize=64)
    print(len(files), file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
