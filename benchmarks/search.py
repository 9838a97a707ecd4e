"""The search page at scale: what a first query downloads, and how long it takes to show results.

    python -m benchmarks.search [--sizes 2000 10000] [--work DIR] [--pagefind BIN]
    python -m benchmarks ... --search     (the same section in RESULTS.md, on the benchmark's outputs)

For each size: the corpus (../shared/bench/make_corpus.py, as `python -m benchmarks` makes it)
built once, then served under its base path to a headless Chromium (Playwright's Python
package with Debian's chromium, as the tests drive it). Each query runs in a fresh browser
context (nothing cached): the search page is opened, the query typed into the box (or the
filters given in the address), and the figures are the bytes of every search file the page
fetched (search/*.json, response bodies) and the time from the first keystroke (or the
page's load) until the results are drawn. With --pagefind, Pagefind's binary indexes the same
output (`pagefind --site OUT --output-path DIR`), timed, for the comparison in docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

# (label, typed query, address parameters): typos, a short name, common words, filters
QUERIES: tuple[tuple[str, str, str], ...] = (
    ("typo of a name", "hezbolah", ""),
    ("typo of a name with an accent", "hizbalah", ""),
    ("two letters", "ka", ""),
    ("one common word", "militia", ""),
    ("three common words", "drone supply routes", ""),
    ("word + actor + dates", "", "q=militia&actor=hezbollah&from=2024-01-01&to=2024-12-31"),
    ("actor filter only", "", "actor=hezbollah"),
)
LIMITS = {2000: 500_000, 10_000: 500_000, 100_000: 1_000_000}  # the targets: bytes of a first query


@dataclass
class Query:
    label: str
    query: str
    bytes: int
    files: int
    ms: float
    results: str  # the status line the page shows


def chromium_path() -> str:
    return os.environ.get("BRIEFING_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


class _Handler(http.server.SimpleHTTPRequestHandler):
    prefix = "/"

    def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
        pass

    def translate_path(self, path: str) -> str:
        return super().translate_path("/" + path[len(self.prefix):] if path.startswith(self.prefix) else "/__outside__")


@contextlib.contextmanager
def served(folder: Path, prefix: str) -> Iterator[str]:
    """The output folder over loopback HTTP under its base path; yields the base URL."""
    handler = type("Handler", (_Handler,), {"prefix": prefix})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


def base_path(site: Path) -> str:
    """The path of the site's base_url (make_corpus.py writes one under a path)."""
    for line in (site / "site.yml").read_text(encoding="utf-8").splitlines():
        if line.startswith("base_url:"):
            path = urlsplit(line.split(":", 1)[1].strip().strip("'\"")).path
            return path if path.endswith("/") else path + "/"
    return "/"


def first_queries(out: Path, prefix: str, queries: tuple[tuple[str, str, str], ...] = QUERIES) -> list[Query]:
    """Each query as a reader's first, in a fresh browser context: bytes fetched and time to results."""
    from playwright.sync_api import sync_playwright

    figures = []
    with served(out, prefix) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            for label, typed, address in queries:
                context = browser.new_context()
                page = context.new_page()
                fetched: list[int] = []

                def count(response) -> None:  # type: ignore[no-untyped-def]
                    if "/search/" in response.url and response.url.split("?")[0].endswith(".json"):
                        fetched.append(len(response.body()))

                page.on("response", count)
                done = ("(s => s && /match/.test(s.textContent) && (document.querySelector('#search-docs li') || "
                        "s.textContent.startsWith('Nothing')))(document.querySelector('#search-status'))")
                if typed:
                    page.goto(base + "search/", wait_until="load")
                    started = time.perf_counter()
                    page.fill("#search-q", typed)
                else:
                    started = time.perf_counter()
                    page.goto(base + "search/?" + address, wait_until="commit")
                page.wait_for_function(done, timeout=60_000, polling="raf")
                elapsed = (time.perf_counter() - started) * 1000
                page.wait_for_load_state("networkidle")  # every response counted
                figures.append(Query(label, typed or "?" + address, sum(fetched), len(fetched), elapsed,
                                     page.locator("#search-status").inner_text()))
                context.close()
        finally:
            browser.close()
    return figures


def file_sizes(out: Path) -> dict[str, tuple[int, int, int]]:
    """Search files by kind: (count, total bytes, largest)."""
    sizes: dict[str, list[int]] = {}
    for path in (out / "search").glob("*.json"):
        kind = path.stem.split("-")[0]
        sizes.setdefault(kind, []).append(path.stat().st_size)
    return {kind: (len(v), sum(v), max(v)) for kind, v in sorted(sizes.items())}


def pagefind(out: Path, binary: str, work: Path) -> tuple[float, int, int]:
    """Pagefind indexing the whole output, as it would on every build: seconds, files and bytes it wrote."""
    target = work / "pagefind"
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([binary, "--site", str(out), "--output-path", str(target)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    files = [p for p in target.rglob("*") if p.is_file()]
    return elapsed, len(files), sum(p.stat().st_size for p in files)


def section(targets: list[tuple[int, Path, Path]], pagefind_binary: str | None = None, work: Path | None = None) -> str:
    """RESULTS.md's search section, for (documents, site, built output) of each size."""
    parts = ["## Search: a reader's first query",
             "Bytes of search files fetched (response bodies) and time from the first keystroke (or the "
             "address's load) to results drawn, in a fresh headless Chromium context each "
             "(`benchmarks/search.py`)."]
    for n, site, out in targets:
        limit = LIMITS.get(n)
        rows = ["| query | fetched | files | to results | shown |", "|---|---|---|---|---|"]
        for q in first_queries(out, base_path(site)):
            flag = "" if limit is None or q.bytes <= limit else " (over the target)"
            rows.append(f"| {q.label}: `{q.query}` | {q.bytes / 1000:.0f} KB{flag} | {q.files} | {q.ms:.0f} ms | {q.results} |")
        files = ", ".join(f"{kind}: {count:,} files, {total / 1e6:.2f} MB, largest {largest / 1000:.1f} KB"
                          for kind, (count, total, largest) in file_sizes(out).items())
        parts.append(f"### {n:,} documents\n\nSearch files: {files}.\n\n" + "\n".join(rows))
        if pagefind_binary:
            seconds, count, total = pagefind(out, pagefind_binary, work or out.parent)
            parts.append(f"Pagefind ({Path(pagefind_binary).name}) indexing this output: {seconds:.2f} s, "
                         f"{count:,} files, {total / 1e6:.2f} MB.")
    return "\n\n".join(parts)


def main() -> None:
    from benchmarks import __main__ as bench  # (not at the top: `python -m benchmarks` imports this module)

    parser = argparse.ArgumentParser(prog="python -m benchmarks.search")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--work", type=Path, default=bench.WORK, metavar="DIR")
    parser.add_argument("--pagefind", metavar="BIN", help="also time Pagefind's binary indexing each output")
    args = parser.parse_args()
    bench.set_work(args.work.resolve())
    bench.WORK.mkdir(parents=True, exist_ok=True)
    targets = []
    for n in args.sizes:
        site, out = bench.corpus(n), bench.WORK / f"search-out-{n}"
        if not (out / "search/index.json").is_file():  # built from scratch once
            bench.clean(site, out)
            bench.run(bench.build_cmd(site, out))
        targets.append((n, site, out))
    print(section(targets, args.pagefind, bench.WORK))


if __name__ == "__main__":
    sys.exit(main())
