"""Incremental == from scratch: random sequences of a desk's edits, compared after every step.

Each walk starts from a small site and takes steps of one to three edits (bodies, titles,
summaries, tags, new, deleted and renamed documents, drafts, TLP, dates, [[links]], profile
aliases and bodies, templates, assets, site.yml, broken files, and reverts of earlier edits).
After every step the site is built incrementally, through the CLI (`briefing build`, a new
process each time, with the state it left on disk) and through the preview server's build
(in-process, told which files changed, as the watcher tells it), and each output folder is
compared byte for byte with a build from scratch; so is every file the preview would serve
before its build ends (all but those it announced as still to come). A step that breaks the site must fail both
ways and leave the previous output as it was.

CI runs a few walks; `pytest tests/test_differential.py --walks 200` runs many more (each walk
has its own seed; `--walks-from N` starts at seed N, to replay one).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Container

import pytest

from conftest import REPO, read_tree
from generator.engine.build import build
from generator.content.cache import Cache
from generator.engine.preview import LiveBuild
from generator.output.audit import output_problems
from generator.output.write import TEMP_SUFFIX
from generator.site.urls import Urls

BASE = "http://127.0.0.1:8000/desk/"
ACTORS = ["Kataib Hezbollah", "Islamic Resistance in Iraq", "Harakat al-Nujaba", "Quds Force", "CENTCOM"]
PLACES = ["Baghdad", "Iraq", "Ain al-Asad", "Erbil", "Al-Tanf", "Green Zone"]
WORDS = "drone rocket base convoy claim strike statement militia attack escalation border warning".split()


@dataclass
class Doc:
    kind: str  # articles | notes
    title: str
    date: dt.date
    summary: str = ""
    actors: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    draft: bool = False
    tlp: str = "clear"
    body: str = "A paragraph."
    broken: bool = False

    def text(self) -> str:
        lines = ["---", f'title: "{self.title}"', f"date: {self.date.isoformat()}"]
        if self.summary:
            lines.append(f'summary: "{self.summary}"')
        if self.actors:
            lines.append("actors: [" + ", ".join(f'"{a}"' for a in self.actors) + "]")
        if self.places:
            lines.append("places: [" + ", ".join(f'"{p}"' for p in self.places) + "]")
        if self.kind == "notes":
            lines += ["author: J. Analyst", "confidence: moderate"]
        if self.draft:
            lines.append("draft: true")
        if self.tlp != "clear":
            lines.append(f"tlp: {self.tlp}")
        if self.broken:
            lines.append("date: 2023-02-30")  # an impossible date (and a duplicate key): an error
        return "\n".join(lines) + "\n---\n" + self.body + "\n"


@dataclass
class Profile:
    title: str
    aliases: list[str] = field(default_factory=list)
    body: str = "A profile."
    within: str = ""

    def text(self) -> str:
        lines = ["---", f'title: "{self.title}"']
        if self.aliases:
            lines.append("aliases: [" + ", ".join(f'"{a}"' for a in self.aliases) + "]")
        if self.within:
            lines.append(f'within: "{self.within}"')
        return "\n".join(lines) + "\n---\n" + self.body + "\n"


@dataclass
class Site:
    """The site as data: every file is made from it."""

    docs: dict[str, Doc]
    profiles: dict[str, Profile]
    templates: dict[str, str] = field(default_factory=dict)  # layouts/<name> -> text
    assets: dict[str, str] = field(default_factory=dict)  # content/<rel> -> text
    title: str = "Differential desk"

    def files(self) -> dict[str, str]:
        out = {"site.yml": f"title: {self.title}\nbase_url: https://desk.example.org/desk/\n"}
        out.update({rel: doc.text() for rel, doc in self.docs.items()})
        out.update({rel: profile.text() for rel, profile in self.profiles.items()})
        out.update({f"layouts/{name}": text for name, text in self.templates.items()})
        out.update(self.assets)
        return out


def _start(rng: random.Random) -> Site:
    docs = {}
    for i in range(8):
        kind = "articles" if i % 3 else "notes"
        docs[f"content/{kind}/doc-{i}.md"] = Doc(
            kind, f"Report {i} on {rng.choice(WORDS)}", dt.date(2023, 10, 1) + dt.timedelta(days=rng.randrange(40)),
            summary=f"Summary {i}.", actors=rng.sample(ACTORS, rng.randint(i % 7 > 0, 3)), places=rng.sample(PLACES, rng.randint(0, 2)),
            body=f"Paragraph {i} about {rng.choice(WORDS)}." + (" See [[doc-1]]." if i == 3 else ""))
    docs["content/articles/doc-1.md"].title = "Report 1 on drone"
    profiles = {
        "content/actors/kataib-hezbollah.md": Profile("Kataib Hezbollah", ["KH"], "An Iraqi militia near [[Baghdad]]."),
        "content/actors/islamic-resistance-in-iraq.md": Profile("Islamic Resistance in Iraq", ["IRI"]),
        "content/places/baghdad.md": Profile("Baghdad", [], "The capital.", within="Iraq"),
        "content/places/green-zone.md": Profile("Green Zone", ["International Zone"], within="Baghdad"),
    }
    return Site(docs, profiles, assets={"content/images/note.txt": "an asset\n"})


# ---------------------------------------------------------------------------- edits
# Each takes the site and a random source and changes the site; None when it does not apply.

Edit = Callable[[Site, random.Random], str | None]


def _published(site: Site) -> list[str]:
    return sorted(site.docs)


def _removable(site: Site) -> list[str]:
    return [rel for rel in sorted(site.docs) if not rel.endswith("/doc-1.md")]  # [[doc-1]] links to it


def body(site: Site, rng: random.Random) -> str | None:
    rel = rng.choice(_published(site))
    if rng.random() < 0.2 and "## Findings" not in site.docs[rel].body:
        site.docs[rel].body += "\n\n## Findings\n\nWhat was found."  # an #anchor for raw_link
        return f"heading in {rel}"
    site.docs[rel].body += f" More on {rng.choice(WORDS)}."
    return f"body of {rel}"


def raw_link(site: Site, rng: random.Random) -> str | None:
    """A Markdown link to a page or file of the site, which a later edit may leave pointing at
    nothing (a deletion, a draft, a heading that goes): `check`'s errors, not the build's."""
    rel = rng.choice(_published(site))
    target = rng.choice(sorted(site.docs))
    page = f"/{target.split('/')[1]}/{Path(target).stem}/"
    url = rng.choice([page, page + "#sec-findings", "/images/note.txt", "/images/other.txt"])
    site.docs[rel].body += f" See [there]({url})."
    return f"link to {url} in {rel}"


def title(site: Site, rng: random.Random) -> str | None:
    rel = rng.choice(_published(site))
    site.docs[rel].title = rng.choice([f"Retitled {rng.randrange(100)}", "Report 1 on drone", f"Zzz {rng.choice(WORDS)}",
                                       f"Report {rel[-4]} on drone"])
    return f"title of {rel}"


def summary(site: Site, rng: random.Random) -> str | None:
    rel = rng.choice(_published(site))
    site.docs[rel].summary = rng.choice(["", "OLD SUMMARY", "NEW SUMMARY", "NEW SUMMARY", f"About {rng.choice(WORDS)}."])
    return f"summary of {rel}"


def tags(site: Site, rng: random.Random) -> str | None:
    rel = rng.choice(_published(site))
    doc = site.docs[rel]
    which, pool = (doc.actors, ACTORS + ["KH", "kataib hezbollah", "New Group"]) if rng.random() < 0.6 else (doc.places, PLACES + ["International Zone"])
    if which and rng.random() < 0.5:
        which.remove(rng.choice(which))
    else:
        name = rng.choice(pool)
        if name not in which:
            which.append(name)
    return f"tags of {rel}"


def date(site: Site, rng: random.Random) -> str | None:
    rel = rng.choice(_published(site))
    site.docs[rel].date = dt.date(2023, 10, 1) + dt.timedelta(days=rng.randrange(40))
    return f"date of {rel}"


def new_doc(site: Site, rng: random.Random) -> str | None:
    kind = rng.choice(["articles", "notes"])
    rel = f"content/{kind}/new-{rng.randrange(1000)}.md"
    if rel in site.docs:
        return None
    site.docs[rel] = Doc(kind, f"New {rng.choice(WORDS)} report", dt.date(2023, 10, 1) + dt.timedelta(days=rng.randrange(40)),
                         actors=rng.sample(ACTORS, 2), places=rng.sample(PLACES, 1), body="Fresh reporting.")
    return f"new {rel}"


def delete(site: Site, rng: random.Random) -> str | None:
    if len(site.docs) < 4:
        return None
    rel = rng.choice(_removable(site))
    del site.docs[rel]
    return f"deleted {rel}"


def rename(site: Site, rng: random.Random) -> str | None:
    rel = rng.choice(_removable(site))
    new = f"{rel.rsplit('/', 1)[0]}/renamed-{rng.randrange(1000)}.md"
    if new in site.docs:
        return None
    site.docs[new] = site.docs.pop(rel)
    return f"renamed {rel} -> {new}"


def draft(site: Site, rng: random.Random) -> str | None:
    rel = rng.choice(_published(site))
    site.docs[rel].draft = not site.docs[rel].draft
    return f"draft flip of {rel}"


def tlp(site: Site, rng: random.Random) -> str | None:
    rel = rng.choice(_published(site))
    site.docs[rel].tlp = rng.choice(["clear", "green", "amber"])
    return f"tlp of {rel}"


def link(site: Site, rng: random.Random) -> str | None:
    rel = rng.choice(_published(site))
    target = rng.choice(["Baghdad", "KH", "International Zone", "doc-1", "Green Zone#No such heading"])
    site.docs[rel].body += f" Compare [[{target}]]."
    return f"[[{target}]] in {rel}"


def alias(site: Site, rng: random.Random) -> str | None:
    rel = rng.choice(sorted(site.profiles))
    aliases = site.profiles[rel].aliases
    name = rng.choice(["KH", "Kata'ib Hizballah", "New Group", "Bagdad", "IRI", "Nujaba"])
    if name in aliases:
        aliases.remove(name)
    elif not any(name in p.aliases or name == p.title for p in site.profiles.values()):
        aliases.append(name)
    else:
        return None
    return f"aliases of {rel}"


def profile_body(site: Site, rng: random.Random) -> str | None:
    rel = rng.choice(sorted(site.profiles))
    site.profiles[rel].body = rng.choice(["A profile.", "Rewritten profile.", "Seen near [[Green Zone]]."])
    return f"profile body of {rel}"


def template(site: Site, rng: random.Random) -> str | None:
    if "footer.html" in site.templates and rng.random() < 0.5:
        del site.templates["footer.html"]
        return "footer template removed"
    theme = REPO / "generator" / "theme" / "templates" / "footer.html"
    site.templates["footer.html"] = theme.read_text() + f"<!-- desk {rng.randrange(100)} -->\n"
    return "footer template overridden"


def asset(site: Site, rng: random.Random) -> str | None:
    rel = rng.choice(["content/images/note.txt", "content/images/other.txt"])
    if rel in site.assets and rng.random() < 0.4:
        del site.assets[rel]
        return f"deleted {rel}"
    site.assets[rel] = f"asset {rng.randrange(1000)}\n"
    return f"asset {rel}"


def config(site: Site, rng: random.Random) -> str | None:
    site.title = rng.choice(["Differential desk", "Another desk"])
    return "site.yml title"


def breaks(site: Site, rng: random.Random) -> str | None:
    rel = rng.choice(_published(site))
    site.docs[rel].broken = True
    return f"broke {rel}"


def repair(site: Site) -> list[str]:
    """What a desk does after a failed build: fix what it broke (bad dates, links to nothing)."""
    done = []
    for rel, doc in sorted(site.docs.items()):
        if doc.broken:
            doc.broken = False
            done.append(f"fixed {rel}")
        if "#No such heading" in doc.body:
            doc.body = doc.body.replace(" Compare [[Green Zone#No such heading]].", "")
            done.append(f"fixed the link in {rel}")
    return done


EDITS: list[tuple[Edit, int]] = [
    (body, 6), (title, 5), (summary, 5), (tags, 4), (date, 2), (new_doc, 3), (delete, 2), (rename, 1),
    (draft, 2), (tlp, 2), (link, 2), (alias, 2), (profile_body, 2), (template, 1), (asset, 1), (config, 1),
    (breaks, 1), (raw_link, 2),
]


class Walk:
    """One seeded walk: the site as data, its history (for reverts) and the files on disk."""

    def __init__(self, root: Path, seed: int):
        self.rng = random.Random(seed)
        self.root = root
        self.site = _start(self.rng)
        self.history: list[Site] = []
        self.broken = False  # the last step's build failed: the next one repairs first
        self.changes: list[tuple[int, str]] = []  # (step, file) of every change, for reverts
        self.clock = time.time() - 10_000  # files get distinct past times: stamps are trusted
        self.write()

    def step(self) -> tuple[list[str], set[Path]]:
        """One to three edits (at times a revert to an earlier state of one file); returns what was
        done and the files that changed on disk."""
        self.history.append(copy.deepcopy(self.site))
        done: list[str] = repair(self.site) if self.broken else []
        self.broken = False
        for _ in range(self.rng.choice([1, 1, 1, 2, 3])):
            if self.rng.random() < 0.3 and self.changes:
                done.append(self.revert())
                continue
            edit = self.rng.choices([e for e, _ in EDITS], [w for _, w in EDITS])[0]
            said = edit(self.site, self.rng)
            if said:
                done.append(said)
        return done, self.write()

    def revert(self) -> str:
        """Undo one of the last edits: put a recently changed file back as it was before that step
        (or remove it, if it was not there)."""
        step, rel = self.rng.choice(self.changes[-6:])
        past = self.history[step]
        for mine, theirs in ((self.site.docs, past.docs), (self.site.profiles, past.profiles), (self.site.assets, past.assets)):
            if rel in mine or rel in theirs:
                if rel in theirs:
                    mine[rel] = copy.deepcopy(theirs[rel])
                else:
                    del mine[rel]
        if rel.startswith("layouts/"):
            name = rel[len("layouts/"):]
            if name in past.templates:
                self.site.templates[name] = past.templates[name]
            else:
                self.site.templates.pop(name, None)
        if rel == "site.yml":
            self.site.title = past.title
        return f"reverted {rel} to before step {step}"

    def write(self) -> set[Path]:
        wanted = self.site.files()
        changed: set[Path] = set()
        for folder in ("content", "layouts"):
            for path in sorted((self.root / folder).rglob("*")) if (self.root / folder).is_dir() else []:
                if path.is_file() and path.relative_to(self.root).as_posix() not in wanted:
                    path.unlink()
                    changed.add(path)
                    self.changes.append((len(self.history) - 1, path.relative_to(self.root).as_posix()))
        self.clock += 5
        racy = self.rng.random() < 0.2  # now and then a file as fresh as the build (not trusted by its stamp)
        for rel, text in wanted.items():
            path = self.root / rel
            if path.is_file() and path.read_text(encoding="utf-8") == text:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            if not racy:
                os.utime(path, (self.clock, self.clock))
            changed.add(path)
            if self.history:
                self.changes.append((len(self.history) - 1, rel))
        return changed


def _scratch(site: Path, out: Path, base_url: str | None = None) -> tuple[bool, dict[str, bytes], list[str]]:
    result = build(site, output=out, base_url=base_url, use_cache=False)
    messages = sorted(str(d) for d in result.diagnostics)
    return result.ok, read_tree(out) if result.ok else {}, messages


def _check_errors(site: Path) -> list[str]:
    """What `briefing check` calls an error: the output audit of a build from scratch."""
    result = build(site, write=False, use_cache=False)
    assert result.ok and result.site is not None
    config = result.config
    problems = output_problems(result.site, result.pages, result.copied, Urls(config.base_url), config.root,
                               config.output_dir)
    return sorted({str(d) for d in problems if d.level == "error"})  # (one line, as check says it)


def _cli_build(site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", "build", "--site", str(site)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def _differs(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def run_walk(tmp: Path, seed: int, steps: int) -> None:
    site = tmp / f"walk-{seed}"
    walk = Walk(site, seed)
    live = LiveBuild(site, tmp / f"preview-{seed}", BASE, False, Cache(tmp / f"preview-cache-{seed}.sqlite"))
    assert _cli_build(site).returncode == 0
    assert live.run().ok
    log: list[str] = []
    cli_before = read_tree(site / "_site")
    live_before = read_tree(live.output)
    for n in range(steps):
        done, changed = walk.step()
        log.append(f"step {n}: " + "; ".join(done))
        where = f"seed {seed}, after:\n  " + "\n  ".join(log)
        ok, expected, messages = _scratch(site, tmp / "scratch")
        walk.broken = not ok
        cli = _cli_build(site)
        assert (cli.returncode == 0) == ok, f"{where}\nCLI said: {cli.stdout}{cli.stderr}\nscratch: {messages}"
        got = read_tree(site / "_site")
        if ok:
            assert not _differs(got, expected), f"{where}\nCLI output differs from scratch: {_differs(got, expected)}"
            # the build's own check (of the pages that may have changed only) says what a full check says
            printed = sorted(line for line in cli.stderr.splitlines() if ": error: " in line)
            assert printed == _check_errors(site), f"{where}\nthe build's check differs from a full one"
        else:  # a broken site: the previous output stays as it was
            assert not _differs(got, cli_before), f"{where}\nthe failed CLI build changed {_differs(got, cli_before)}"
        cli_before = got
        live_ok, live_expected, _ = _scratch(site, tmp / "scratch-live", BASE)
        announced: list[tuple[dict[str, bytes], Container[str]]] = []

        def early(pending: Container[str]) -> None:  # what the server serves from now on, but these
            announced.append((read_tree(live.output), pending))  # (a build may announce more than once)

        result = live.run(changed, early=early)
        assert result.ok == live_ok, f"{where}\npreview: {[str(d) for d in result.diagnostics]}"
        got = read_tree(live.output)
        if live_ok:
            assert not _differs(got, live_expected), \
                f"{where}\npreview output differs from scratch: {_differs(got, live_expected)}"
            for then, pending in announced:  # every file served before the build ended was already as it ends
                stale = [rel for rel in _differs(then, live_expected) if rel not in pending
                         and not rel.endswith(TEMP_SUFFIX)]  # (a page of those to come, being written)
                assert not stale, f"{where}\nserved before the build ended, stale: {stale}"
        else:
            assert not _differs(got, live_before), f"{where}\nthe failed preview build changed {_differs(got, live_before)}"
        live_before = got


def test_random_edit_sequences_match_a_build_from_scratch(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    walks = request.config.getoption("--walks")
    first = request.config.getoption("--walks-from")
    for seed in range(first, first + walks):
        run_walk(tmp_path, seed, request.config.getoption("--walk-steps"))


# ------------------------------------------------------------------ the two reproductions (issue 16)

THREE = {
    "site.yml": "title: Three\nbase_url: https://desk.example.org/three/\n",
    "content/actors/kh.md": "---\ntitle: KH\n---\nA profile.\n",
    "content/articles/a.md": "---\ntitle: Article A\ndate: 2023-10-01\nsummary: OLD SUMMARY\nactors: [KH]\n---\nBody a.\n",
    "content/articles/b.md": "---\ntitle: Article B\ndate: 2023-10-02\nactors: [KH]\n---\nBody b.\n",
}


def _write_old(root: Path, files: dict[str, str], when: float) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        os.utime(path, (when, when))


@pytest.mark.parametrize("old, new", [("summary: OLD SUMMARY", "summary: NEW SUMMARY"),
                                      ("title: Article A", "title: Retitled A")])
def test_an_edit_and_its_revert_through_the_cli_leave_nothing_stale(tmp_path: Path, old: str, new: str) -> None:
    site = tmp_path / "site"
    when = time.time() - 1000  # files older than a few seconds: their stamps are trusted
    _write_old(site, THREE, when)
    assert _cli_build(site).returncode == 0
    _write_old(site, {"content/first.txt": "an asset\n"}, when + 1)  # a full build that fingerprints in this process
    assert _cli_build(site).returncode == 0
    edited = {"content/articles/a.md": THREE["content/articles/a.md"].replace(old, new)}
    _write_old(site, edited, when + 2)
    assert _cli_build(site).returncode == 0  # the warm path
    _write_old(site, {"content/articles/a.md": THREE["content/articles/a.md"], "content/note.txt": "x\n"}, when + 3)
    assert _cli_build(site).returncode == 0  # the full build (an asset was added)
    ok, expected, _ = _scratch(site, tmp_path / "scratch")
    got = read_tree(site / "_site")
    assert ok and not _differs(got, expected), _differs(got, expected)
    assert not [rel for rel, data in got.items() if new.split(": ")[1].encode() in data]


@pytest.mark.parametrize("old, new", [("summary: OLD SUMMARY", "summary: NEW SUMMARY"),
                                      ("title: Article A", "title: Retitled A")])
def test_an_edit_and_its_revert_in_the_preview_leave_nothing_stale(tmp_path: Path, old: str, new: str) -> None:
    site = tmp_path / "site"
    when = time.time() - 1000
    _write_old(site, THREE, when)
    live = LiveBuild(site, tmp_path / "preview", BASE, False, Cache(tmp_path / "cache.sqlite"))
    assert live.run().ok
    _write_old(site, {"content/first.txt": "an asset\n"}, when + 1)
    assert live.run({site / "content/first.txt"}).ok  # a full build
    article = site / "content/articles/a.md"
    _write_old(site, {"content/articles/a.md": THREE["content/articles/a.md"].replace(old, new)}, when + 2)
    assert live.run({article}).ok  # the fast path
    _write_old(site, {"content/articles/a.md": THREE["content/articles/a.md"], "content/note.txt": "x\n"}, when + 3)
    assert live.run({article, site / "content/note.txt"}).ok  # the full build
    ok, expected, _ = _scratch(site, tmp_path / "scratch", BASE)
    got = read_tree(live.output)
    assert ok and not _differs(got, expected), _differs(got, expected)
