"""Lighthouse scores of the sample site's pages (issue 18: 100 in all four categories; keep it so).

    python -m benchmarks.lighthouse --site-out OUT --lighthouse /tmp/lh/node_modules/.bin/lighthouse
                                    [--port 8765] [--pages / actors/kataib-hezbollah/ ...] [--json DIR] [--gzip]

OUT is a site built with `--base-url http://127.0.0.1:PORT/` (so that its links resolve on the
loopback server); it is served with Python's http.server (--gzip: text files compressed, as
GitHub Pages serves them) and each page is run through
Lighthouse (npm's `lighthouse`, not part of the project) in Debian's headless chromium
(CHROME_PATH, default /usr/bin/chromium), for the mobile (Lighthouse's default: emulated phone,
simulated slow 4G) and the desktop preset, one page at a time. Prints a markdown table of
scores and, for every category below 100, the audits that cost it points.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import http.server
import json
import os
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Iterator

CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = ("", "actors/kataib-hezbollah/", "notes/escalation-risk-to-baghdad/", "graph/", "places/", "search/?q=kh")


@contextlib.contextmanager
def served(root: Path, port: int, compress: bool = False) -> Iterator[str]:
    handler = functools.partial(_Gzip if compress else _Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _Gzip(_Quiet):
    """Text files gzip-compressed when the browser asks for it, as GitHub Pages serves them."""

    TEXT = (".html", ".css", ".js", ".json", ".svg", ".xml")

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?", 1)[0].endswith("/"):
            path = path / "index.html"
        if "gzip" not in self.headers.get("Accept-Encoding", "") or not path.is_file() or path.suffix not in self.TEXT:
            super().do_GET()
            return
        body = gzip.compress(path.read_bytes())
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def lighthouse(binary: str, url: str, preset: str, report: Path) -> dict:
    cmd = [binary, url, f"--only-categories={','.join(CATEGORIES)}", "--output=json", f"--output-path={report}",
           "--chrome-flags=--headless --no-sandbox", "--quiet"]
    if preset == "desktop":
        cmd.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    subprocess.run(cmd, check=True, env=env)
    return json.loads(report.read_text(encoding="utf-8"))


def losses(result: dict, category: str) -> list[str]:
    """The audits of a category that scored below 1 (with weight), as 'id (score)'."""
    audits = result["audits"]
    out = []
    for ref in result["categories"][category]["auditRefs"]:
        audit = audits[ref["id"]]
        if audit.get("score") is not None and audit["score"] < 1 and (ref.get("weight") or category == "performance"):
            value = f", {audit['displayValue']}" if audit.get("displayValue") else ""
            out.append(f"{ref['id']} ({audit['score']:.2f}{value})")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lighthouse")
    parser.add_argument("--site-out", type=Path, required=True, help="a site built with --base-url http://127.0.0.1:PORT/")
    parser.add_argument("--lighthouse", default="lighthouse", help="the lighthouse binary (npm install lighthouse)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--pages", nargs="+", default=list(PAGES), help="site paths ('' or / for home)")
    parser.add_argument("--presets", nargs="+", default=["desktop", "mobile"], choices=["desktop", "mobile"])
    parser.add_argument("--json", type=Path, help="keep each Lighthouse JSON report in this folder")
    parser.add_argument("--gzip", action="store_true", help="serve text files gzip-compressed, as GitHub Pages does "
                        "(http.server alone sends them uncompressed)")
    args = parser.parse_args()
    keep = args.json or Path(tempfile.mkdtemp(prefix="lighthouse-"))
    keep.mkdir(parents=True, exist_ok=True)
    rows = ["| page | preset | performance | accessibility | best practices | SEO |", "|---|---|---|---|---|---|"]
    notes = []
    with served(args.site_out, args.port, args.gzip) as base:
        for page in args.pages:
            page = page.lstrip("/")
            for preset in args.presets:
                name = (page.strip("/").replace("/", "_").replace("?", "_").replace("=", "-") or "home") + f".{preset}.json"
                result = lighthouse(args.lighthouse, base + page, preset, keep / name)
                scores = {c: result["categories"][c]["score"] for c in CATEGORIES}
                rows.append(f"| `/{page}` | {preset} | " + " | ".join(
                    "–" if scores[c] is None else f"{round(scores[c] * 100)}" for c in CATEGORIES) + " |")
                for c in CATEGORIES:
                    if scores[c] is not None and scores[c] < 1:
                        notes.append(f"- `/{page}` {preset} {c} {round(scores[c] * 100)}: " + "; ".join(losses(result, c)))
                print(rows[-1], flush=True)
    print("\n".join(rows))
    if notes:
        print("\nBelow 100:\n" + "\n".join(notes))
    print(f"\n(reports in {keep})")


if __name__ == "__main__":
    main()
