"""Every single edit a desk makes, timed as `briefing build` and in the preview server.

An `Edit` is one save: a file's text before and after (None: the file is missing), the page
that shows it and a test of that page's bytes (None: the page answers 404). The same edit is
timed twice: as a `briefing build` of a built, warmed site (`build_figures`), and in a real
`briefing serve` process over HTTP (`preview_figures`). Each edit is reverted once measured,
and its new text carries a stamp never used before, so runs of the benchmark edit the same
files the same way, on the corpus as `make_corpus.py` wrote it.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

Page = bytes | None  # a page's bytes; None when it is missing (404)
Run = Callable[[list[str]], tuple[float, int]]  # a command -> wall time (s), peak RSS (MB)

RACY_SECONDS = 2.1  # the cache does not trust a file changed in the last 2 s (RACY_SECONDS in the load module)
QUIET_SECONDS = 0.3  # between saves, so that the server's watcher sees one change at a time
TIMEOUT_SECONDS = 600.0  # a full preview rebuild of 100,000 documents takes minutes
REBUILT = re.compile(r"rebuilt in (\d+) ms: (\d+) pages rendered")  # the line `briefing serve` logs after each rebuild

# Row order and labels of the tables; "noop" and "cold" are builds without an edit.
LABELS = {
    "cold": "cold build (reference)",
    "noop": "no-op build",
    "body": "body of one document",
    "title": "title of one document",
    "summary": "summary of one document",
    "new": "new article (2 actors, 1 place)",
    "tag": "actor added to an article's tags",
    "delete": "article deleted",
    "profile": "actor profile's body",
}


@dataclass(frozen=True)
class Edit:
    kind: str  # a key of LABELS
    path: Path  # the file saved
    before: str | None
    after: str | None
    page: str  # site path of the page that shows the edit: "articles/slug/"
    shows: Callable[[Page], bool]  # whether that page shows the edit

    def apply(self) -> None:
        put(self.path, self.after)

    def revert(self) -> None:
        put(self.path, self.before)


def put(path: Path, text: str | None) -> None:
    if text is None:
        path.unlink()
    else:
        path.write_text(text, encoding="utf-8")


def containing(text: str) -> Callable[[Page], bool]:
    needle = text.encode()
    return lambda page: page is not None and needle in page


def missing(page: Page) -> bool:
    return page is None


def front_matter(text: str) -> dict:
    return yaml.safe_load(text.split("---\n", 2)[1])


def title_of(path: Path) -> str:
    return front_matter(path.read_text(encoding="utf-8"))["title"]


def yq(text: str) -> str:
    """A YAML double-quoted scalar, as the corpus writes them (JSON strings are YAML)."""
    return json.dumps(text, ensure_ascii=False)


def set_field(text: str, key: str, change: Callable[[str], str]) -> str:
    """The text with the double-quoted front-matter field `key` changed (the corpus writes JSON strings)."""
    pattern = re.compile(rf"^{key}: (\".*\")$", re.M)
    if not pattern.search(text):
        raise SystemExit(f"no {key}: line to edit")
    return pattern.sub(lambda m: f"{key}: {yq(change(json.loads(m.group(1))))}", text, count=1)


@dataclass(frozen=True)
class Corpus:
    """The files the edits change, picked once per corpus (the same ones at every run)."""

    site: Path
    articles: list[Path] = field(init=False)
    actors: list[Path] = field(init=False)  # profiles
    places: list[Path] = field(init=False)

    def __post_init__(self) -> None:
        content = self.site / "content"
        for name in ("articles", "actors", "places"):
            files = sorted(p for p in (content / name).glob("*.md") if not p.name.startswith("bench-"))
            object.__setattr__(self, name, files)

    def article(self, offset: int) -> Path:
        """An article from the middle of the date range (file names begin with the date)."""
        return self.articles[len(self.articles) // 2 + offset]

    def edits(self, stamp: str) -> list[Edit]:
        """One edit of each kind, each with text marked by `stamp` (unique to this run)."""
        doc, tagged, deleted = self.article(0), self.article(1), self.article(2)
        text = doc.read_text(encoding="utf-8")
        page = f"articles/{doc.stem}/"
        marker = f"Edit marker {stamp}."
        return [
            Edit("body", doc, text, text.rstrip("\n") + f"\n\n{marker}\n", page, containing(marker)),
            Edit("title", doc, text, set_field(text, "title", lambda t: f"{t} [edit {stamp}]"), page,
                 containing(f"[edit {stamp}]")),  # keeps the document's place in every list
            Edit("summary", doc, text, set_field(text, "summary", lambda s: f"{s} Revised {stamp}."), page,
                 containing(f"Revised {stamp}.")),
            self.new_article(stamp),
            self.tag(tagged),
            Edit("delete", deleted, deleted.read_text(encoding="utf-8"), None, f"articles/{deleted.stem}/", missing),
            self.profile(self.actors[0], marker),
        ]

    def new_article(self, stamp: str) -> Edit:
        """A new article in the corpus's style: the newest date, two known actors and one place
        (with profiles), the body of an existing article and a summary built like the corpus's."""
        newest = self.articles[-1]
        date = newest.name[:10]
        actors = [title_of(p) for p in self.actors[:2]]
        place = title_of(self.places[0])
        body = self.article(3).read_text(encoding="utf-8").split("---\n", 2)[2]
        summary = f"{actors[0]} reinforced supply routes near {place}, according to two sources."
        lines = ["---", f"title: {yq(f'Renewed supply lines around {place}: {stamp}')}", f"date: {date}",
                 f"summary: {yq(summary)}", "actors:", *(f"  - {yq(a)}" for a in actors),
                 "places:", f"  - {yq(place)}", "---"]
        path = newest.with_name(f"bench-{date}-new-article.md")  # the same file at every run, removed after
        return Edit("new", path, None, "\n".join(lines) + "\n" + body, f"articles/{path.stem}/", containing(stamp))

    def tag(self, article: Path) -> Edit:
        """The first actor with a profile that the article does not tag, added at the end of its actors."""
        text = article.read_text(encoding="utf-8")
        tagged = set(front_matter(text)["actors"])
        actor = next(p for p in self.actors if title_of(p) not in tagged)
        after = text.replace("\nplaces:\n", f"\n  - {yq(title_of(actor))}\nplaces:\n", 1)
        return Edit("tag", article, text, after, f"articles/{article.stem}/", containing(f"/actors/{actor.stem}/\""))

    def profile(self, actor: Path, marker: str) -> Edit:
        text = actor.read_text(encoding="utf-8")
        return Edit("profile", actor, text, text.rstrip("\n") + f"\n\n{marker}\n", f"actors/{actor.stem}/",
                    containing(marker))


def stamp(n: int, run: int) -> str:
    return f"bench-{n}-{run}-{time.time_ns() % 10**12}"


@dataclass
class Figures:
    """One edit's medians: as a build (s, and max peak RSS in MB) and in the preview (ms)."""

    build: float | None = None
    build_mb: int | None = None
    served_ms: float | None = None  # save -> the edited page served
    all_ms: float | None = None  # save -> the server logs "rebuilt in" (every affected page written)
    rebuild_ms: float | None = None  # the server's own "rebuilt in" figure
    pages: float | None = None  # pages the server rendered for the edit


def build_figures(site: Path, out: Path, n: int, runs: int, run: Run, build_cmd: list[str],
                  into: dict[str, Figures]) -> None:
    """`briefing build` after each single edit of a built, warmed site, and a no-op build:
    median wall time and max peak RSS, into `into`. Each edit is reverted after its build,
    and the site built again (untimed) once the reverted file is old enough for the cache
    to trust it (RACY_SECONDS); every build is checked to show its edit."""
    corpus = Corpus(site)
    walls: dict[str, list[float]] = {}
    mems: dict[str, list[int]] = {}

    def settle() -> None:
        time.sleep(RACY_SECONDS)
        run(build_cmd)

    def timed(kind: str) -> None:
        wall, mb = run(build_cmd)
        walls.setdefault(kind, []).append(wall)
        mems.setdefault(kind, []).append(mb)

    settle()
    for i in range(runs):
        timed("noop")
        for edit in corpus.edits(stamp(n, i)):
            edit.apply()
            try:
                timed(edit.kind)
                if not edit.shows(built_page(out, edit.page)):
                    raise SystemExit(f"the build did not show the {edit.kind} edit on {edit.page}")
            finally:
                edit.revert()
            settle()
    for kind, values in walls.items():
        figures = into.setdefault(kind, Figures())
        figures.build, figures.build_mb = statistics.median(values), max(mems[kind])


def built_page(out: Path, site_path: str) -> Page:
    path = out / site_path / "index.html"
    return path.read_bytes() if path.is_file() else None


class Preview:
    """A `briefing serve` process: its base URL, its log lines (with the time each was read) and pages over HTTP."""

    def __init__(self, site: Path, out: Path, cwd: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.out = out
        shutil.rmtree(out, ignore_errors=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "generator", "serve", "--site", str(site), "--port",
                                      str(port), "--output", str(out)], cwd=cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.log: list[tuple[float, str]] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read_log, daemon=True).start()
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if "serving" not in line:
            self.close()
            raise SystemExit(f"serve did not start: {line}{self.tail()}")
        self.base = line.split()[1]

    def _read_log(self) -> None:
        for line in self.proc.stderr or ():
            with self.changed:
                self.log.append((time.perf_counter(), line))
                self.changed.notify_all()

    def tail(self) -> str:
        return "".join(line for _, line in self.log[-20:])

    def builds(self) -> list[tuple[float, str]]:
        """The log lines that end a rebuild, with the time each was read."""
        return [(t, line) for t, line in self.log if "rebuilt in" in line or "build failed" in line]

    def next_build(self, done: int) -> tuple[float, str]:
        """Wait for the rebuild after the first `done`: when its log line came, and the line."""
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.builds()) > done, timeout=TIMEOUT_SECONDS):
                raise SystemExit(f"the preview never logged a rebuild{self.tail()}")
        at, line = self.builds()[done]
        if "rebuilt in" not in line:
            raise SystemExit(f"the preview build failed:\n{self.tail()}")
        return at, line

    def page(self, site_path: str) -> Page:
        try:
            with urllib.request.urlopen(self.base + site_path, timeout=TIMEOUT_SECONDS) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise SystemExit(f"the preview answered {exc.code} for {site_path}\n{self.tail()}")

    def wait_page(self, edit: Edit, start: float) -> float:
        """Poll the edited page until it shows the edit: ms since `start`."""
        while not edit.shows(self.page(edit.page)):
            if time.perf_counter() - start > TIMEOUT_SECONDS:
                raise SystemExit(f"the preview never showed the {edit.kind} edit on {edit.page}")
            time.sleep(0.002)
        return (time.perf_counter() - start) * 1000

    def save(self, change: Callable[[], None], edit: Edit | None = None) -> tuple[float, float, float, float]:
        """Make one change once the server is quiet, wait until `edit` (if given) shows on its
        page and the rebuild is logged: save -> page served, save -> rebuild logged, the
        server's own "rebuilt in" figure (ms) and the pages it rendered."""
        time.sleep(QUIET_SECONDS)
        done = len(self.builds())
        start = time.perf_counter()
        change()
        served = self.wait_page(edit, start) if edit else 0.0
        at, line = self.next_build(done)
        found = REBUILT.search(line)
        if found is None:
            raise SystemExit(f"unexpected rebuild line: {line}")
        return served, (at - start) * 1000, float(found[1]), float(found[2])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=60)
        shutil.rmtree(self.out, ignore_errors=True)


def preview_figures(site: Path, out: Path, n: int, runs: int, cwd: Path, into: dict[str, Figures]) -> None:
    """In a real `briefing serve` (started from `cwd`), each single edit: save -> the edited
    page served, save -> the rebuild logged, and the server's own rebuild figure (medians,
    ms), into `into`. Each edit is reverted, and its rebuild awaited, before the next."""
    corpus = Corpus(site)
    samples: dict[str, list[tuple[float, float, float, float]]] = {}
    preview = Preview(site, out, cwd)
    try:
        for i in range(runs):
            for edit in corpus.edits(stamp(n, i)):
                if edit.shows(preview.page(edit.page)):
                    raise SystemExit(f"the {edit.kind} edit is on {edit.page} before it is saved")
                try:
                    samples.setdefault(edit.kind, []).append(preview.save(edit.apply, edit))
                except BaseException:
                    edit.revert()
                    raise
                preview.save(edit.revert)
    finally:
        preview.close()
    for kind, values in samples.items():
        figures = into.setdefault(kind, Figures())
        figures.served_ms, figures.all_ms, figures.rebuild_ms, figures.pages = (statistics.median(v)
                                                                                for v in zip(*values))


def cell(value: float | None, spec: str, unit: str = "") -> str:
    return "–" if value is None else f"{value:{spec}}{unit}"


def table(figures: dict[str, Figures], hugo: float | None) -> str:
    """One row per edit (LABELS order): the build and, for edits, the preview."""
    head = ("| edit | `briefing build` | peak MB | build / Hugo cold | preview: save → page served "
            "| preview: save → all rewritten | preview: server's rebuild (pages rendered) |")
    lines = [head, "|---" * head.count(" |") + "|"]
    for kind, label in LABELS.items():
        f = figures.get(kind)
        if f is None:
            continue
        ratio = f.build / hugo if hugo and f.build is not None else None
        lines.append(f"| {label} | {cell(f.build, '.2f', ' s')} | {cell(f.build_mb, 'd')} | {cell(ratio, '.2f', '×')} "
                     f"| {cell(f.served_ms, '.0f', ' ms')} | {cell(f.all_ms, '.0f', ' ms')} "
                     f"| {cell(f.rebuild_ms, '.0f', ' ms')}{'' if f.pages is None else f' ({f.pages:.0f})'} |")
    return "\n".join(lines)


READING = """\
- Each row is one save, made to the corpus as `make_corpus.py` wrote it and reverted after:
  an article from the middle of the date range (body: a paragraph added; title: a suffix that
  keeps its place in every list; summary: a sentence added), the next article given the first
  profiled actor it does not tag, the one after that deleted, the first actor profile's body
  extended, and a new article dated like the newest one, tagging two profiled actors and one
  profiled place, with the body of an existing article. Every edit's text carries a stamp
  never used before, so no body is ever in the cache.
- **`briefing build`**: a whole process, on a site built and warmed by the build before (the
  revert's, untimed, run once the reverted file is older than the cache's 2 s "racy" window);
  the median of the runs, and the largest peak RSS (the process or one of its workers). Each
  build's output is checked to show the edit. The no-op build follows a build that changed
  nothing since. "build / Hugo cold": this build's time over Hugo's cold build of the same
  documents (`--plain`), when `--peers` includes hugo.
- **Preview**: one `briefing serve` process over HTTP, as a browser sees it. "save → page
  served": from the file's save until the edited page, polled every 2 ms (requests wait
  while the server builds), shows the edit; for the new article its own page, for the tag
  edit the article's page linking the new actor, for the deletion its page answering 404,
  for the profile its page. "save → all rewritten": until the server logs "rebuilt in"
  (every affected page written), its 30 ms watcher debounce included; "server's rebuild":
  the figure in that line, from the watcher's report to the last page, and the number of
  pages it says it rendered.
"""
