"""`briefing new` and `briefing init`: write starter files, never overwrite."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from generator.content.text import slugify

SKELETON = Path(__file__).parent.parent / "skeleton"
_FOLDER = {"article": "articles", "note": "notes", "actor": "actors", "place": "places"}


class ScaffoldError(Exception):
    pass


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def front_matter(kind: str, title: str, today: dt.date) -> str:
    lines = ["---", f"title: {_quote(title)}"]
    if kind in ("article", "note"):
        lines += [f"date: {today.isoformat()}", 'summary: ""', "actors: []", "places: []"]
        if kind == "article":
            lines += ["source:", '  name: ""', '  url: ""']
        else:
            lines += ['author: ""', "confidence: moderate"]
        lines += ["tlp: clear", "draft: true"]
    elif kind == "actor":
        lines += ["aliases: []", "kind: militia", "affiliations: []"]
    else:
        lines += ["aliases: []", "kind: city", "# within: Parent place", "# coordinates: [lat, lon]"]
    return "\n".join(lines + ["---", "", ""])


def new_document(site: Path, kind: str, title: str, today: dt.date | None = None) -> Path:
    if not title.strip():
        raise ScaffoldError("the title is empty")
    if not (site / "content").is_dir():
        raise ScaffoldError(f"{site} has no content/ folder; run `briefing init` first or pass --site")
    folder = site / "content" / _FOLDER[kind]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slugify(title)}.md"
    text = front_matter(kind, title.strip(), today or dt.date.today())
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise ScaffoldError(f"{path} already exists") from None
    return path


def init_site(folder: Path) -> list[Path]:
    if folder.exists() and any(folder.iterdir()):
        raise ScaffoldError(f"{folder} exists and is not empty")
    written: list[Path] = []
    for source in sorted(p for p in SKELETON.rglob("*") if p.is_file()):
        rel = source.relative_to(SKELETON)
        # dot-files and dot-folders (dot-github/) are stored as dot-name so that packaging keeps them
        target = folder.joinpath(*("." + part[4:] if part.startswith("dot-") else part for part in rel.parts))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    for name in ("articles", "notes", "actors", "places"):
        os.makedirs(folder / "content" / name, exist_ok=True)
    return written
