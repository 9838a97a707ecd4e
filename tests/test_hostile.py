"""Hostile and broken input: the build succeeds or exits 1 with `path:line` — never a
traceback, never a hang, never a write outside the output folder — and nothing pasted
into a document can run script in a reader's browser; nothing held back leaks.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from conftest import BASIC, REPO, read_tree, write_site
from corpus import write_corpus
from generator.engine import warm
from generator.commands.cli import main
from generator.output.write import MANIFESTS, is_ours
from support import static_server

DIAGNOSTIC = re.compile(r"^(?P<path>(?:content|layouts)/.+?|site\.yml)(?::(?P<line>\d+))?: (?P<level>error|warning): \S")
ARTICLE = "content/articles/x.md"
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "briefing-hypothesis")  # not .hypothesis/ in the repository
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True, database=None)


# --------------------------------------------------------------------------- harness


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Turn an in-process hang into a failure (SIGALRM; the tests run in the main thread)."""

    def alarm(signum, frame):  # type: ignore[no-untyped-def]
        raise Hang(f"the build took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def allowed(site: Path, out: Path) -> tuple[Path, ...]:
    """Where a build may write: its output folder and briefing's own cache folders (the site's build
    cache, and beside the output the spare copy of the previous site that the atomic swap reuses)."""
    return (out, site / ".briefing-cache", out.parent / ".briefing-cache")


def assert_tool_folders_hold_only_their_own(site: Path, out: Path) -> None:
    for folder in allowed(site, out)[1:]:
        if folder.is_dir():
            names = {p.name for p in folder.iterdir()}
            expected = {".gitignore", f"{out.name}.spare", warm.STATE_FILE, warm.HEAD_FILE, "templates", MANIFESTS}
            assert all(n in expected or n.startswith("cache.sqlite") for n in names), (folder, names)
            if (folder / "templates").is_dir():  # Jinja's compiled templates, and nothing else
                compiled = {p.name for p in (folder / "templates").iterdir()}
                assert all(n.startswith("__jinja2_") and n.endswith(".cache") for n in compiled), compiled
            if (folder / MANIFESTS).is_dir():  # the output folders' manifests, by inode
                manifests = {p.name for p in (folder / MANIFESTS).iterdir()}
                assert all(re.fullmatch(r"\d+-\d+\.json", n) for n in manifests), manifests


def snapshot(root: Path, skip: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    """Every path under root (size, mtime), except inside `skip`: to prove nothing else was written."""
    found: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d not in skip]
        for name in dirnames + filenames:
            st_ = (here / name).lstat()
            found[(here / name).relative_to(root).as_posix()] = (st_.st_size, st_.st_mtime_ns if name in filenames else 0)
    return found


def build_in_process(site: Path, out: Path, *extra: str) -> tuple[int, str]:
    stderr, stdout = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout), time_limit(30):
        code = main(["build", "--site", str(site), "--output", str(out), *extra])
    return code, stderr.getvalue()


def assert_clean_outcome(code: int, err: str, site: Path) -> None:
    """Exit 0, or exit 1 with every problem as `path[:line]: level: message` naming a real file."""
    assert code in (0, 1), (code, err)
    assert "Traceback" not in err, err
    lines = [l for l in err.splitlines() if l.strip()]
    problems = [l for l in lines if not l.startswith(("build failed", "the site in "))]  # (the summaries)
    for line in problems:
        match = DIAGNOSTIC.match(line)
        assert match, f"not `path:line: level: message`: {line!r}\n{err}"
        assert (site / match["path"]).exists() or match["path"].startswith("layouts/"), line
    if code == 1:
        errors = [l for l in problems if ": error: " in l]
        assert errors and lines[-1].startswith("build failed"), err


def hostile_build(site: Path, *extra: str) -> tuple[int, str, Path]:
    """Build `site` into a sibling output folder twice around a check that nothing else changed."""
    out = site.parent / "out"
    skip = allowed(site, out)
    before = snapshot(site.parent, skip)
    code, err = build_in_process(site, out, *extra)
    assert_clean_outcome(code, err, site)
    assert snapshot(site.parent, skip) == before, "the build wrote outside its output folder"
    assert_tool_folders_hold_only_their_own(site, out)
    if code == 0:
        assert (out / "index.html").is_file() and is_ours(out) and not (out / ".briefing").exists()
    return code, err, out


# --------------------------------------------------------------------------- fixed hostile files, as real processes


BOMB = "---\ntitle: x\ndate: 2023-10-18\nextra:\n  a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
    f"  {n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi")) + "---\n"
HOSTILE_FILES: dict[str, bytes] = {
    "alias bomb": BOMB.encode(),
    "too big": b"---\ntitle: x\ndate: 2023-10-18\n---\n" + b"word " * (1_100_000),
    "binary with .md name": bytes(range(256)) * 64,
    "not UTF-8": b"---\ntitle: caf\xe9\ndate: 2023-10-18\n---\n",
    "UTF-16": "---\ntitle: x\ndate: 2023-10-18\n---\n".encode("utf-16"),
    "BOM and CRLF": b"\xef\xbb\xbf---\r\ntitle: x\r\ndate: 2023-10-18\r\n---\r\n## H\r\nbody\r\n",
    "old Mac CR": b"---\rtitle: x\rdate: 2023-10-18\r---\rbody\r",
    "empty": b"",
    "only a BOM": b"\xef\xbb\xbf",
    "front-matter never closed": b"---\ntitle: x\ndate: 2023-10-18\nbody without end\n",
    "only dashes": b"---\n---\n",
    "a YAML list": b"---\n- a\n- b\n---\n",
    "python tag": b"---\ntitle: !!python/object/apply:os.system [echo pwned]\ndate: 2023-10-18\n---\n",
    "deep YAML nesting": b"---\ntitle: x\ndate: 2023-10-18\nextra: " + b"[" * 50_000 + b"\n---\n",
    "deep flow mapping": b"---\ntitle: x\ndate: 2023-10-18\nextra: " + b"{a: " * 5_000 + b"1" + b"}" * 5_000 + b"\n---\n",
    "NUL in YAML escape": b'---\ntitle: "a\\0b"\ndate: 2023-10-18\n---\n',
    "lone surrogate escape": b'---\ntitle: "\\ud800"\ndate: 2023-10-18\n---\n',
    "huge number": b"---\ntitle: 1" + b"0" * 5000 + b"\ndate: 2023-10-18\n---\n",
    "year 9999 and year 1": b"---\ntitle: x\ndate: 9999-12-31\nupdated: 0001-01-01\n---\n",
    "unclosed wiki links": b"---\ntitle: x\ndate: 2023-10-18\n---\n" + b"[[" * 200_000,
    "open brackets": b"---\ntitle: x\ndate: 2023-10-18\n---\n" + b"[" * 200_000,
    "emphasis runs": b"---\ntitle: x\ndate: 2023-10-18\n---\n" + b"*a_" * 100_000,
    "deep quotes and lists": b"---\ntitle: x\ndate: 2023-10-18\n---\n" + b"> - " * 20_000 + b"x\n",
    "backtick runs": b"---\ntitle: x\ndate: 2023-10-18\n---\n" + b"`" * 100_000 + b" x " + b"``" * 50_000,
    "many links": b"---\ntitle: x\ndate: 2023-10-18\n---\n" + b"[a](/b) " * 40_000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_hostile_file_in_a_real_process(tmp_path: Path, name: str) -> None:
    site = write_site(tmp_path / "site", BASIC)
    out = tmp_path / "out"
    python = [sys.executable, "-m", "generator", "build", "--site", str(site), "--output", str(out)]
    assert subprocess.run(python, capture_output=True, cwd=REPO, timeout=60).returncode == 0
    good = read_tree(out)
    (site / ARTICLE).write_bytes(HOSTILE_FILES[name])
    skip = allowed(site, out)
    before = snapshot(tmp_path, skip)
    try:
        proc = subprocess.run(python, capture_output=True, text=True, errors="replace", cwd=REPO, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name}: the build hung (no result in 20 s)")
    assert proc.returncode >= 0, f"{name}: the build was killed by signal {-proc.returncode}\n{proc.stderr[-2000:]}"
    assert_clean_outcome(proc.returncode, proc.stderr, site)
    assert snapshot(tmp_path, skip) == before, "the build wrote outside its output folder"
    assert_tool_folders_hold_only_their_own(site, out)
    if proc.returncode == 1:
        assert f"{ARTICLE}:" in proc.stderr or f"{ARTICLE}: error" in proc.stderr, proc.stderr
        assert read_tree(out) == good  # the previous site is untouched
    else:
        assert (out / "articles/x/index.html").is_file(), proc.stdout


def test_hostile_file_names(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", BASIC)
    articles = os.fsencode(site / "content/articles")
    good = b"---\ntitle: T %d\ndate: 2023-10-18\n---\nbody\n"
    for i, name in enumerate([b"bad\xffbyte.md", b"new\nline.md", "ünï cødé.md".encode(), b"..md", b"-.md", b"a b.md"]):
        with open(os.path.join(articles, name), "wb") as f:
            f.write(good % i)
    with open(os.path.join(articles, b"broken\xfe.md"), "wb") as f:
        f.write(b"---\ntitle: broken\n")
    code, err, _ = hostile_build(site)
    assert code == 1 and "front-matter is never closed" in err
    os.remove(os.path.join(articles, b"broken\xfe.md"))
    code, err, out = hostile_build(site)
    assert code == 0, err
    slugs = sorted(p.name for p in (out / "articles").iterdir() if p.is_dir())
    # "..md" is a hidden file, skipped like every dotfile; "-.md" has no letters, so its slug is a digest
    assert [s for s in slugs if not s.startswith("x-")] == ["a-b", "bad-byte", "drone-attack", "new-line", "uni-cøde"]
    assert len(slugs) == 6


# --------------------------------------------------------------------------- property-based: front-matter and Markdown


# Text that looks like structure: YAML, Markdown, HTML and path tricks, and any unicode besides.
TRICKS = ["---", "...", "[[", "]]", "|", "#", ":", "- ", "&a", "*a", "!!", "'", '"', "\\", "<", ">", "/", "../",
          "\n", "\r\n", "\t", "\x00", "\u2028", "\u202e", "\ufeff", "\u0301", "{", "}", "%", "`", "javascript:"]
printable = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=6)
names = st.lists(st.one_of(st.sampled_from(TRICKS), printable, printable, st.text(max_size=3)), max_size=6).map("".join)
word = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8)


def yaml_text(fields: dict[str, object], style: str) -> str:
    """Front-matter lines: as PyYAML writes them (escaped, or with raw unicode), or pasted raw."""
    if style == "raw":
        return "\n".join(f"{k}: " + (str(v).replace("\n", " ") if not isinstance(v, list) else "[" + ", ".join(map(str, v)) + "]")
                         for k, v in fields.items())
    return yaml.safe_dump(fields, allow_unicode=(style == "unicode"), sort_keys=False, width=10**9).rstrip("\n")


@st.composite
def documents(draw: st.DrawFn) -> dict[str, str]:
    """An article and a place profile with hostile names; valid YAML most of the time, so that most builds succeed."""
    style = draw(st.sampled_from(["ascii", "ascii", "unicode", "raw"]))
    name = st.one_of(word, names.filter(str.strip))
    text = names.filter(lambda n: "\x00" not in n)  # (NUL in a body makes it a binary file: tested elsewhere)
    actors = draw(st.lists(name, max_size=3))
    places = draw(st.lists(name, max_size=3))
    aliases = draw(st.lists(name, max_size=3))
    title = draw(name)
    fields: dict[str, object] = {
        "title": title, "date": draw(st.sampled_from(["2023-10-18"] * 6 + ["2023-02-30", "18 Oct", "", "9999-01-01"])),
        "summary": draw(st.one_of(names, text)), "actors": actors, "places": places,
    }
    if draw(st.booleans()):
        fields["slug"] = draw(name)
    if draw(st.booleans()):
        fields["tlp"] = draw(st.sampled_from(["clear", "green", "amber", "red", "purple", "CLEAR"]))
    if draw(st.booleans()):
        fields["source"] = {"name": draw(name), "url": draw(st.sampled_from(["https://e.org/a?b=<c>&d=\"e\"", "javascript:x", ""]))}
    front = yaml_text(fields, style)
    linkable = [n for n in actors + places + aliases + [title] if not re.search(r"[\[\]|#\n\r\x00]", n)]
    linked = draw(st.sampled_from(linkable + ["KH"]))
    body = f"## {draw(text)}\n\nSee [[{linked}]] and [[KH|{draw(text)}]] and [[Baghdad#{draw(text)}]].\n\n{draw(text)}\n"
    profile = {"title": draw(name), "aliases": aliases}
    if draw(st.booleans()):
        profile["within"] = draw(name)
    return {
        ARTICLE: f"---\n{front}\n---\n{body}",
        "content/places/p.md": f"---\n{yaml_text(profile, style)}\n---\n[[{linked}]]\n",
    }


def fresh_site(files: dict[str, str]) -> tuple[tempfile.TemporaryDirectory, Path]:  # type: ignore[type-arg]
    tmp = tempfile.TemporaryDirectory(prefix="hostile-")
    site = write_site(Path(tmp.name) / "site", BASIC)
    for rel, text in files.items():
        (site / rel).write_text(text, encoding="utf-8", errors="surrogatepass")
    return tmp, site


@SETTINGS
@given(documents())
def test_any_front_matter_builds_or_fails_cleanly(files: dict[str, str]) -> None:
    tmp, site = fresh_site(files)
    with tmp:
        code, err, out = hostile_build(site)
        event(f"exit {code}")
        if code == 0:
            # what the generator links by itself is never broken, whatever the names
            check = io.StringIO()
            with contextlib.redirect_stderr(check), contextlib.redirect_stdout(io.StringIO()), time_limit(30):
                main(["check", "--site", str(site), "--format", "json"])
            assert not [l for l in check.getvalue().splitlines() if ": error: " in l]
            for path in out.rglob("*"):
                assert out in path.resolve().parents or path.resolve() == out, path


markdown_text = st.lists(st.one_of(
    st.sampled_from(["\n", "\n\n", "# ", "## ", "> ", "- ", "1. ", "```", "`", "*", "_", "**", "~~", "|", "---", "[", "]",
                     "(", ")", "![", "[[", "]]", "#", "<", ">", "&", "&amp;", "&#x6a;", "<script>", "<!--", "-->",
                     "javascript:", "data:", "[^1]", "[^1]: ", "\\", "<http://x>", "    ", "\t", "\x00", "\ufffd"]),
    st.text(max_size=5)), max_size=60).map("".join)


@SETTINGS
@given(markdown_text, st.booleans())
def test_any_markdown_builds_or_fails_cleanly(body: str, allow_html: bool) -> None:
    tmp, site = fresh_site({ARTICLE: f"---\ntitle: X\ndate: 2023-10-18\nactors: [KH]\n---\n{body}\n"})
    with tmp:
        if allow_html:
            (site / "site.yml").write_text("title: T\nbase_url: https://u.github.io/repo/\nmarkdown: {allow_html: true}\n")
        code, err, out = hostile_build(site)
        event(f"exit {code}")
        if code == 0 and not allow_html:
            page = (out / "articles/x/index.html").read_text(encoding="utf-8")
            scripts = re.findall(r"<script\b([^>]*)>", page, re.I)
            assert all('type="application/ld+json"' in attrs or '/repo/assets/' in attrs for attrs in scripts), scripts
            assert not re.search(r"<[a-zA-Z][^>]*\son\w+\s*=", page)  # (text holds no raw `<`: only real tags match)
            assert not re.search(r"(href|src)\s*=\s*[\"']?\s*(javascript|vbscript|data):", page, re.I)


@SETTINGS
@given(st.binary(max_size=300), st.integers(0, 200), st.sampled_from([ARTICLE, "content/actors/kataib-hezbollah.md", "site.yml"]))
def test_any_bytes_spliced_into_a_file_build_or_fail_cleanly(noise: bytes, at: int, rel: str) -> None:
    tmp, site = fresh_site({})
    with tmp:
        path = site / rel
        original = path.read_bytes() if path.exists() else b"---\ntitle: X\ndate: 2023-10-18\n---\nbody\n"
        at = min(at, len(original))
        path.write_bytes(original[:at] + noise + original[at:])
        hostile_build(site)


# --------------------------------------------------------------------------- XSS, in a real browser


PAYLOAD = "<script>window.__pwned='{0}';alert('{0}')</script>"
IMG = "<img src=x onerror=\"window.__pwned='{0}';alert('{0}')\">"


def document(front: dict[str, object], body: str) -> str:
    return "---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in front.items()) + "---\n" + body


XSS_SITE = {
    "content/actors/evil.md": document({
        "title": PAYLOAD.format("actor-title"),
        "aliases": [IMG.format("alias"), "\"><svg onload=alert('alias2')>"],
        "kind": "<b onmouseover=alert('kind')>militia</b>",
        "summary": IMG.format("actor-summary"),
    }, f"Profile {PAYLOAD.format('profile-body')} [x](javascript:alert('profile-link'))\n"),
    "content/notes/breakout.md": document({
        "title": "</script><script>window.__pwned='breakout';alert('breakout')</script><!--<script>",
        "date": "2023-10-19",
        "summary": "</SCRIPT><img src=x onerror=alert('breakout-summary')>\u2028\u2029",
        "actors": ["</script><script>alert('breakout-actor')</script>", "KH"],
        "places": ["<!--<script>", "Baghdad"],
        "author": "]]><script>alert('cdata')</script>",
    }, "</script><script>alert('breakout-body')</script>\n"),
    "content/articles/evil.md": document({
        "title": PAYLOAD.format("title"),
        "date": "2023-10-18",
        "summary": IMG.format("summary"),
        "slug": "\"><script>alert('slug')</script>",
        "actors": [PAYLOAD.format("actor"), IMG.format("tag"), "KH"],
        "places": ["javascript:alert('place')", "\" onmouseover=\"alert('place2')"],
        "author": "<iframe srcdoc='<script>parent.alert(1)</script>'>",
        "source": {"name": IMG.format("source"), "title": "</title><script>alert('st')</script>",
                   "url": "https://e.org/\"><script>alert('url')</script>"},
    }, f"""## {IMG.format('heading')}

{PAYLOAD.format('body')} {IMG.format('body-img')} <a href="javascript:alert('raw-a')">raw</a>
<svg><animate onbegin="alert('svg')" attributeName="x" dur="1s"/></svg> <iframe src="javascript:alert('if')"></iframe>

[a](javascript:alert('md-link')) [b](JAVASCRIPT:alert('upper')) [c](&#106;avascript:alert('entity'))
[d](java&#x09;script:alert('tab')) [e](vbscript:msgbox('vb')) [f](data:text/html;base64,PHNjcmlwdD5hbGVydCgnZGF0YScpPC9zY3JpcHQ+)
![g](javascript:alert('img')) ![h](x" onerror="alert('img-attr')) ![i](data:image/svg+xml,<svg/onload=alert('svgdata')>)
<javascript:alert('autolink')> [j][ref] [k](https://e.org "\" onmouseover=\"alert('title-attr')")
[[KH|{IMG.format('wikilabel')}]] [[Baghdad#"><script>alert('anchor')</script>]] [[{PAYLOAD.format('actor-title')}]]

| {IMG.format('cell')} |
|---|
| `<script>alert('code')</script>` |

Footnote[^x].

[^x]: {IMG.format('footnote')}

[ref]: javascript:alert('reference')
"""),
}
XSS_SITE_YML = document({"title": "</title><script>alert('site')</script>",
                         "description": "\"><img src=x onerror=alert('description')>",
                         "base_url": "https://u.github.io/repo/"}, "").removeprefix("---\n").removesuffix("---\n")


class ScriptWatch:
    """Every script that the browser compiles in a page's main world (Chrome DevTools Protocol):
    inline scripts and event handlers show up with the page's own URL, `javascript:` URLs with none."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.scripts: list[dict] = []
        self.context: int | None = None
        cdp = page.context.new_cdp_session(page)
        cdp.on("Runtime.executionContextCreated", self._created)
        cdp.on("Debugger.scriptParsed", lambda event: self.scripts.append(event))
        cdp.send("Runtime.enable")
        cdp.send("Debugger.enable")

    def _created(self, event: dict) -> None:
        if event["context"].get("auxData", {}).get("isDefault"):
            self.context = event["context"]["id"]  # the newest document's main world

    def foreign(self, own: str) -> list[str]:
        """Scripts of the current document that are not the site's own files (URLs under `own`)."""
        return [s["url"] or "(no url)" for s in self.scripts
                if s["executionContextId"] == self.context and not s["url"].startswith(own)]


def _visit(page, watch: ScriptWatch, url: str, own: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Load a page (before any evaluate call of ours); return scripts that ran and are not the site's own."""
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, url
    page.wait_for_timeout(50)
    return watch.foreign(own)


def test_no_payload_runs_in_a_browser(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    site = write_site(tmp_path / "site", {**BASIC, **XSS_SITE}, site_yml=XSS_SITE_YML)
    out = tmp_path / "out"
    code, err = build_in_process(site, out)
    assert code == 0, err
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert "articles/evil/index.html" not in pages and len(pages) > 15  # the slug was sanitised
    with static_server(out, "/repo/") as base:
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        watch = ScriptWatch(page)
        problems: list[str] = []
        for rel in pages:
            url = base + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
            foreign = _visit(page, watch, url, base + "assets/")
            if foreign:
                problems.append(f"{rel}: script ran that is not the site's own: {foreign}")
            # interact with what a reader can touch: hover links; on pages with the site's scripts (search,
            # filters), type queries that match the payloads, so that results are drawn from hostile titles
            for link in [a for a in page.query_selector_all("main a") if a.is_visible()][:15]:  # (as a reader can)
                link.hover()
            if page.query_selector("script[src]"):
                for box in page.query_selector_all("input[type=search], input[type=text]"):
                    for query in ("script", "alert", "img", "evil", "onerror", "pwned"):
                        box.fill(query)
                        page.wait_for_timeout(40)
            # (no second script count here: Playwright's own hover and fill compile scripts in the page;
            # what interaction could trigger is caught below by the DOM, window.__pwned and dialogs)
            state = page.evaluate("""() => ({
                pwned: window.__pwned === undefined ? null : String(window.__pwned),
                inline: [...document.scripts].filter(s => !s.src && !/json/i.test(s.type)).map(s => s.textContent.slice(0, 80)),
                data: [...document.scripts].filter(s => /json/i.test(s.type)).map(s => {
                    try { JSON.parse(s.textContent); return null } catch (e) { return s.textContent.slice(0, 80) } })
                    .filter(Boolean),
                handlers: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
                    .filter(a => /^on/i.test(a.name)).map(a => e.tagName + ' ' + a.name)),
                urls: [...document.querySelectorAll('[href], [src], [action], [formaction], [srcdoc], [data]')]
                    .flatMap(e => ['href', 'src', 'action', 'formaction', 'data'].map(n => e.getAttribute(n) || ''))
                    .filter(u => /^\\s*(javascript|vbscript|data):/i.test(u.replace(/[\\s\\x00-\\x1f]/g, ''))),
                frames: document.querySelectorAll('iframe, object, embed, frame, base').length,
            })""")
            if state["pwned"] or state["handlers"] or state["urls"] or state["frames"] or state["data"]:
                problems.append(f"{rel}: {state}")
            if state["inline"] and any("__pwned" in s or "alert" in s for s in state["inline"]):
                problems.append(f"{rel}: hostile inline script in the DOM: {state['inline']}")
        page.close()
    assert not dialogs, dialogs
    assert not problems, "\n".join(problems)
    # the payloads are on the pages, as text
    evil = next(out.glob("articles/*/index.html")).parent
    assert any("&lt;script&gt;window.__pwned" in p.read_text() for p in out.rglob("*.html"))
    assert evil.exists()


def test_the_browser_check_catches_a_real_injection(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    """The detector works: the same site with raw HTML allowed does run the body's script."""
    site = write_site(tmp_path / "site", {**BASIC, "content/articles/x.md": (
        "---\ntitle: X\ndate: 2023-10-18\n---\n<script>window.__pwned='body'</script>\n<img src=x onerror=\"alert('img')\">\n")},
        site_yml="title: T\nbase_url: https://u.github.io/repo/\nmarkdown: {allow_html: true}\n")
    out = tmp_path / "out"
    assert build_in_process(site, out)[0] == 0
    with static_server(out, "/repo/") as base:
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        watch = ScriptWatch(page)
        foreign = _visit(page, watch, base + "articles/x/", base + "assets/")
        page.wait_for_timeout(200)
        assert foreign and page.evaluate("() => window.__pwned") == "body" and dialogs == ["img"]
        page.close()


# --------------------------------------------------------------------------- leaks


LEVELS = ["clear", "green", "amber", "amber+strict", "red"]


@settings(max_examples=8, deadline=None, derandomize=True, database=None)
@given(st.integers(0, 10_000), st.integers(1, 8))
def test_held_back_words_appear_in_no_output_byte(seed: int, held: int) -> None:
    with tempfile.TemporaryDirectory(prefix="leaks-") as tmp:
        root = Path(tmp)
        corpus = write_corpus(root / "site", n=12, seed=seed, held=held)
        assume(corpus.held)

        def output(*args: str, max_tlp: str = "clear") -> str:
            yml = root / "site/site.yml"
            yml.write_text(re.sub(r"max_tlp: \S+", f"max_tlp: {max_tlp}", yml.read_text()))
            out = root / f"out-{max_tlp}-{len(args)}"
            code, err = build_in_process(root / "site", out, *args)
            assert code == 0, err
            return b"\0".join(k.encode() + b"\0" + v for k, v in read_tree(out).items()).decode("utf-8", "replace").lower()

        default = output()
        for doc in corpus.held:
            for where, canary in doc.canaries.items():
                assert canary not in default, f"{doc.path} leaks its {where} ({doc.draft=}, {doc.tlp=})"
        # only the explicit modes publish them: --drafts, and publish.max_tlp raised
        for args, max_tlp in ((("--drafts",), "clear"), ((), "red"), (("--drafts",), "amber"), (("--drafts",), "red")):
            blob = output(*args, max_tlp=max_tlp)
            for doc in corpus.held:
                shown = (not doc.draft or bool(args)) and LEVELS.index(doc.tlp) <= LEVELS.index(max_tlp)
                for where in ("title", "summary", "body", "actor", "place", "slug", "author", "source", "heading"):
                    canary = doc.canaries[where]
                    assert (canary in blob) == shown, (doc.path, where, args, max_tlp, doc.draft, doc.tlp)
