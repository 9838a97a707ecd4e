"""`briefing new` and `briefing init`: write starter files, never overwrite."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
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
            lines += ["source:", '  name: ""', '  url: ""',
                      "# Admiralty grading of the source (NATO AJP-2.1):",
                      "# reliability A completely reliable, B usually reliable, C fairly reliable,",
                      "#   D not usually reliable, E unreliable, F cannot be judged",
                      "# credibility 1 confirmed, 2 probably true, 3 possibly true, 4 doubtful,",
                      "#   5 improbable, 6 cannot be judged",
                      "reliability: F", "credibility: 6"]
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


_REMOTE = re.compile(r"^(?:https?://|ssh://)?(?:[^@/]+@)?github\.com[:/]([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)(?:\.git)?/?$")


def pages_address(remote_url: str) -> str | None:
    """The GitHub Pages address of a repository, from its remote's URL (https or ssh):
    `git@github.com:desk/briefing.git` -> `https://desk.github.io/briefing/`; a `<user>.github.io`
    repository is served at the root. None for a remote that is not on GitHub."""
    match = _REMOTE.match(remote_url.strip())
    if not match:
        return None
    user, repo = match.group(1), match.group(2)
    if repo.lower() == f"{user.lower()}.github.io":
        return f"https://{user.lower()}.github.io/"
    return f"https://{user.lower()}.github.io/{repo}/"


def _remote_of(folder: Path) -> str | None:
    """The URL of `origin` of the git repository that `folder` is (or will be) in, if any."""
    here = folder if folder.exists() else folder.parent
    while not here.exists():
        here = here.parent
    try:
        proc = subprocess.run(["git", "-C", str(here), "remote", "get-url", "origin"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None


def base_url_for(folder: Path, given: str | None) -> tuple[str, str]:
    """(base_url, where it came from) for a new site: given, else from the git remote, else a
    placeholder under the folder's name that the user is told to change."""
    if given:
        url = given.strip()
        if not re.match(r"^https?://[^/\s]+", url):
            raise ScaffoldError(f"--base-url must be a full address such as https://user.github.io/repo/, not {url!r}")
        return (url if url.endswith("/") else url + "/"), "--base-url"
    remote = _remote_of(folder)
    found = pages_address(remote) if remote else None
    if found:
        return found, f"the git remote {remote}"
    return f"https://example.github.io/{slugify(folder.resolve().name)}/", "a placeholder"


def init_site(folder: Path, base_url: str | None = None) -> list[Path]:
    """Write a new site into `folder` (which must be empty). Its `base_url` is `base_url`, else
    derived from the git remote, else a placeholder (see base_url_for)."""
    if folder.exists() and any(folder.iterdir()):
        raise ScaffoldError(f"{folder} exists and is not empty")
    address, _ = base_url_for(folder, base_url)
    written: list[Path] = []
    for source in sorted(p for p in SKELETON.rglob("*") if p.is_file()):
        rel = source.relative_to(SKELETON)
        # dot-files and dot-folders (dot-github/) are stored as dot-name so that packaging keeps them
        target = folder.joinpath(*("." + part[4:] if part.startswith("dot-") else part for part in rel.parts))
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel.as_posix() == "site.yml":
            text = source.read_text(encoding="utf-8")
            target.write_text(re.sub(r"(?m)^base_url: .*$", f"base_url: {address}", text, count=1), encoding="utf-8")
        else:
            shutil.copyfile(source, target)
        written.append(target)
    for name in ("articles", "notes", "actors", "places"):
        os.makedirs(folder / "content" / name, exist_ok=True)
    return written
