"""Real parts for end-to-end tests: a static HTTP server under a base path, and Chromium.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright's Python package with
`executable_path`; Playwright never downloads a browser here.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from typing import Iterator

CHROMIUM = os.environ.get("BRIEFING_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves `directory` at `prefix` (e.g. /repo/), 404.html for misses, like GitHub Pages."""

    prefix = "/"

    def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        if not self.path.startswith(self.prefix):
            self.send_error(404)
            return None
        self.path = "/" + self.path[len(self.prefix):]
        path = self.translate_path(self.path)
        if os.path.isdir(path) and not self.path.split("?")[0].endswith("/"):
            return super().send_head()  # the standard redirect to the slash URL
        if not os.path.exists(path if not os.path.isdir(path) else os.path.join(path, "index.html")):
            return self._not_found()
        return super().send_head()

    def _not_found(self):  # type: ignore[no-untyped-def]
        page = Path(self.directory) / "404.html"
        body = page.read_bytes() if page.is_file() else b"not found"
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        import io

        return io.BytesIO(body)


@contextlib.contextmanager
def static_server(directory: Path, prefix: str = "/") -> Iterator[str]:
    """Serve `directory` under `prefix` on a free loopback port; yields the base URL."""
    handler = type("Handler", (_Handler,), {"prefix": prefix})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium browser (Playwright `Browser`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
