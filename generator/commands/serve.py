"""`briefing serve`: a preview server with live reload that never falls over.

Built on the `livereload` package: its WebSocket handler and its browser
script speak the LiveReload protocol. Its gaps are covered here (see README,
"Preview server"):
- it runs build tasks on its Tornado loop, blocking every request: we build in
  a thread, and requests wait (without blocking the loop) until the build ends;
- it drops reloads that come within 3 s of the previous one: we call
  `reload_waiters` directly after each build, never through its throttled poll;
- a port in use is a raw OSError: we bind the socket ourselves, say so clearly
  and take the next free port (or exit 2 when --port was given);
- its static handler has served stale 304s: we serve files ourselves with
  `Cache-Control: no-store` and no conditional responses;
- it injects its script before `</head>` (a page without one never reloads):
  we inject before `</body>`, or at the end of any HTML without one;
- it and Tornado log every request and every reload: `quiet_libraries` turns
  their loggers down, so the terminal shows one line per rebuild (plus the
  errors of a failed one) and the browser shows the errors with their lines.
The site is served under its production base path, so links that work here
work on GitHub Pages; `/` redirects there. Builds go into a temporary folder,
incrementally and in place; the content folder is never written.
"""

from __future__ import annotations

import errno
import html
import itertools
import logging
import mimetypes
import shutil
import signal
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Container
from urllib.parse import unquote, urlsplit

from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from livereload.watcher import get_watcher_class
from tornado import httpserver, ioloop, locks, netutil, web

from generator.commands.policy import CollectorPolicy
from generator.engine.build import CACHE_FILE, BuildResult
from generator.content.cache import Cache
from generator.content.config import CONFIG_FILE, load_config, normalise_base_url
from generator.diagnostics import Diagnostic, Diagnostics, counted, one_line
from generator.engine.preview import LiveBuild
from generator.commands.watch import Watcher

PORT_TRIES = 20
CONTEXT_LINES = 2  # lines shown either side of an error's line on the error page
MAX_LINE_CHARS = 400  # longer source lines are cut on the error page

# Loggers that speak for every request or reload; the preview says what matters itself.
# Tornado's application and general loggers (uncaught errors in a handler) are left alone.
QUIET_LOGGERS = {"tornado.access": logging.CRITICAL + 1, "livereload": logging.CRITICAL + 1}


def quiet_libraries() -> None:
    """Silence Tornado's access log ("200 GET /x (127.0.0.1) 1.2ms") and livereload's
    own chatter ("Reload 1 waiters", "Browser Connected", "Error sending message")."""
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)


class PortInUse(Exception):
    pass


Excerpt = tuple[tuple[int, str], ...]  # (line number, text) around a diagnostic's line


@dataclass
class State:
    """What the handlers serve: the last build's outcome. Replaced, never mutated, by the build thread."""

    ok: bool = False
    diagnostics: tuple[Diagnostic, ...] = ()
    built_at: float = 0.0
    generation: int = 0
    excerpts: dict[Diagnostic, Excerpt] = field(default_factory=dict)  # errors' source lines, read at build time


def excerpt(site: Path, d: Diagnostic, context: int = CONTEXT_LINES) -> Excerpt:
    """The lines of the file around `d`'s line, as they were when the build saw them;
    empty for a problem of a whole file, a path outside the site or a file that cannot be read."""
    if d.line <= 0 or not d.path:
        return ()
    try:
        root = site.resolve()
        path = (root / d.path).resolve()
        if root not in path.parents or not path.is_file():
            return ()
        first = max(1, d.line - context)
        with path.open(encoding="utf-8", errors="replace", newline=None) as f:
            lines = list(itertools.islice(f, first - 1, d.line + context))
    except (OSError, ValueError):
        return ()
    shown = []
    for number, text in enumerate(lines, start=first):
        text = one_line(text.rstrip("\r\n").expandtabs(4))
        shown.append((number, text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS] + " …"))
    return tuple(shown) if any(n == d.line for n, _ in shown) else ()


@dataclass
class Preview:
    site: Path
    output: Path
    base_path: str
    base_url: str
    drafts: bool
    log: Callable[[str], None]
    state: State = field(default_factory=State)
    builds: int = 0
    live: LiveBuild | None = None
    _warned: frozenset[Diagnostic] = frozenset()  # the last build's warnings, printed already

    def rebuild(self, changed: set[Path] | None = None,
                early: Callable[[Container[str]], None] | None = None) -> BuildResult:
        started = time.perf_counter()
        if self.live is None:
            config = load_config(self.site, Diagnostics())
            self.live = LiveBuild(self.site, self.output, self.base_url, self.drafts,
                                  Cache(config.cache_dir / CACHE_FILE), CollectorPolicy())
        try:
            result = self.live.run(changed, early)
        except Exception as exc:  # a bug must not kill the server: show it like a content error
            diags = Diagnostics()
            diags.error("briefing", 0, f"internal error while building: {type(exc).__name__}: {exc}")
            result = BuildResult(load_config(self.site, Diagnostics()), diags)
            self.live.state = None  # start afresh next time
        elapsed = (time.perf_counter() - started) * 1000
        self.builds += 1
        diagnostics = tuple(result.diagnostics)
        excerpts = {d: excerpt(self.site, d) for d in diagnostics if d.level == "error"} if not result.ok else {}
        self.state = State(result.ok, diagnostics, time.time(), self.state.generation + 1, excerpts)
        self._report(result, diagnostics, changed, elapsed)
        return result

    def _report(self, result: BuildResult, diagnostics: tuple[Diagnostic, ...], changed: set[Path] | None,
                elapsed: float) -> None:
        """One line per build: when, how long, what it did and for which save; then, when it failed,
        its errors, one a line, and warnings the previous build did not have."""
        stamp = time.strftime("%H:%M:%S")
        verb = "rebuilt" if self.builds > 1 else "built"
        what = _describe(changed, self.site)
        why = f" ({what})" if what else ""
        warnings = [d for d in diagnostics if d.level == "warning"]
        new_warnings = [d for d in warnings if d not in self._warned]
        self._warned = frozenset(warnings)
        if result.ok:
            tail = f", {counted(len(warnings), 'warning')}" if warnings else ""
            # a full build's changed_paths is taken after it commits: its write result counts what changed
            written = result.written.changed if result.written is not None else len(result.changed_paths)
            removed = result.written.removed if result.written is not None else 0
            gone = f", {removed} removed" if removed else ""
            self._say(f"{stamp} {verb} in {elapsed:.0f} ms: {result.rendered_pages} pages rendered, "
                      f"{written} written{gone}{why}{tail}")
            shown: list[Diagnostic] = new_warnings
        else:
            errors = [d for d in diagnostics if d.level == "error"]
            self._say(f"{stamp} build failed in {elapsed:.0f} ms{why}: {counted(len(errors), 'error')}; "
                      "the browser shows them")
            shown = errors + new_warnings
        for d in shown:
            self._say(f"  {d}")

    def _say(self, line: str) -> None:
        try:
            self.log(line)
        except (OSError, ValueError):  # the terminal went away: keep serving
            pass


def _describe(changed: set[Path] | None, site: Path) -> str:
    """The saved files, as in `articles/x.md` (content/ left out), at most three named."""
    if not changed:
        return ""
    names = sorted(_shown_path(p, site) for p in changed)
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _shown_path(path: Path, site: Path) -> str:
    if site not in path.parents:
        return one_line(str(path))
    rel = path.relative_to(site).as_posix()
    return one_line(rel.removeprefix("content/"))


def bind(host: str, port: int, explicit: bool) -> tuple[list[socket.socket], int]:
    """Sockets on the port, or the next free one when the port was not given."""
    last_error: OSError | None = None
    for candidate in [port] if explicit else range(port, port + PORT_TRIES):
        try:
            return netutil.bind_sockets(candidate, address=host), candidate
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            last_error = exc
    if explicit:
        raise PortInUse(f"port {port} on {host} is in use; choose another with --port, or leave --port out "
                        "to take the next free one")
    raise PortInUse(f"ports {port}-{port + PORT_TRIES - 1} on {host} are all in use ({last_error})")


class _Handler(web.RequestHandler):
    def initialize(self, server: "PreviewServer") -> None:
        self.server = server

    def compute_etag(self) -> None:  # never answer 304: stale pages are worse than bytes
        return None

    async def get(self, path: str) -> None:
        await self.server.ready(path)
        self._serve(path, head=False)

    async def head(self, path: str) -> None:
        await self.server.ready(path)
        self._serve(path, head=True)

    def _serve(self, raw_path: str, head: bool) -> None:
        preview = self.server.preview
        self.set_header("Cache-Control", "no-store")
        path = "/" + unquote(raw_path)
        if not path.startswith(preview.base_path):
            if path == "/" or path == preview.base_path.rstrip("/"):
                self.redirect(preview.base_path)
            else:
                self._missing(head)
            return
        if not preview.state.ok:
            self._error_page(head)
            return
        rel = path[len(preview.base_path):]
        target = (preview.output / rel).resolve()
        root = preview.output.resolve()
        if target != root and root not in target.parents:
            self._missing(head)
            return
        if target.is_dir():
            if not path.endswith("/"):
                self.redirect(path + "/", permanent=True)
                return
            target = target / "index.html"
        if not target.is_file():
            self._missing(head)
            return
        self._file(target, 200, head)

    def _file(self, target: Path, status: int, head: bool) -> None:
        try:
            data = target.read_bytes()
        except OSError:  # gone between the check and the read
            self.set_status(404)
            self.write(self.server.inject(b"<!DOCTYPE html><title>Not found</title><h1>Not found</h1>"))
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/xml", "application/json", "application/javascript"):
            kind += "; charset=utf-8"
        if kind.startswith("text/html"):
            data = self.server.inject(data)
        self.set_status(status)
        self.set_header("Content-Type", kind)
        if not head:
            self.write(data)

    def _missing(self, head: bool) -> None:
        page = self.server.preview.output / "404.html"
        if page.is_file() and self.server.preview.state.ok:
            self._file(page, 404, head)
        else:
            self.set_status(404)
            self.write(self.server.inject(b"<!DOCTYPE html><title>Not found</title><h1>Not found</h1>"))

    def _error_page(self, head: bool) -> None:
        self.set_status(500)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        if head:
            return
        state = self.server.preview.state
        try:
            page = error_page(state)
        except Exception:  # never a traceback instead of the errors: the plain list will do
            page = error_page(State(state.ok, state.diagnostics, state.built_at, state.generation))
        self.write(self.server.inject(page.encode("utf-8")))


ERROR_STYLE = """body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1b1f24;background:#fff}
h1{color:#b3261e;margin-bottom:.3rem}.problems{list-style:none;padding:0}.problem{margin:1.4rem 0}
.where{font-weight:700}code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.level-error{color:#b3261e;font-weight:700}.message{margin:.2rem 0 .5rem;white-space:pre-wrap}
pre.source{margin:0;padding:.5rem 0;background:#f4f6f8;border:1px solid #d0d7de;border-radius:4px;overflow-x:auto;font-size:14px;line-height:1.45}
pre.source span.line{display:block;padding:0 .8rem;white-space:pre}
pre.source span.hit{background:#fde7e4;box-shadow:inset 4px 0 #b3261e}
pre.source span.ln{display:inline-block;min-width:3.5em;color:#57606a;user-select:none}
pre.source span.hit span.ln{color:#b3261e;font-weight:700}"""


def error_page(state: State) -> str:
    """The page every URL shows while the build is broken: each error's file, line and message,
    and its file's lines around it (the error's marked), all escaped; nothing from elsewhere."""
    errors = [d for d in state.diagnostics if d.level == "error"]
    items = "\n".join(_problem(d, state.excerpts.get(d, ())) for d in errors)
    if not errors:  # (a failed build always has one; say so rather than show an empty list)
        items = '<li class="problem"><p class="message">the build failed without saying why</p></li>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Build failed · briefing</title>
<style>{ERROR_STYLE}</style>
</head><body><main><h1>Build failed</h1>
<p>{counted(len(errors), "error")}. This page reloads by itself when the problem is fixed; the server keeps running.</p>
<ol class="problems">
{items}
</ol></main></body></html>"""


def _problem(d: Diagnostic, lines: Excerpt) -> str:
    where = f"{d.path}:{d.line}" if d.line else d.path
    source = ""
    if lines:
        width = len(str(lines[-1][0]))
        rows = []
        for n, text in lines:
            hit = n == d.line
            attrs = ' class="line hit" aria-current="true"' if hit else ' class="line"'
            rows.append(f'<span{attrs}><span class="ln">{"&gt;" if hit else " "} {n:>{width}}</span> '
                        f'{html.escape(text)}</span>')
        source = f'\n<pre class="source" aria-label="{html.escape(where)}"><code>{"".join(rows)}</code></pre>'
    return (f'<li class="problem"><code class="where">{html.escape(one_line(where))}</code> '
            f'<span class="level-{d.level}">{d.level}</span>'
            f'<p class="message">{html.escape(d.message)}</p>{source}</li>')


class _ReloadHandler(LiveReloadHandler):
    """livereload's WebSocket handler, shrugging off a message that is not its protocol's JSON."""

    def on_message(self, message: str | bytes) -> None:
        try:
            super().on_message(message)
        except (ValueError, TypeError, AttributeError):
            pass


class PreviewServer:
    def __init__(self, preview: Preview, sockets: list[socket.socket], port: int, host: str, watcher: Watcher):
        self.preview, self.sockets, self.port, self.host = preview, sockets, port, host
        self.loop: ioloop.IOLoop | None = None
        self.idle = locks.Event()  # no build is running, or its first pages are out (see `pending`)
        self.settled = locks.Event()  # the running build, if any, has written everything
        self.pending: Container[str] = frozenset()  # output files the running build has still to write
        self.script = f'<script src="/livereload.js?port={port}"></script>'.encode()
        self._stop = threading.Event()
        self._reloaded = False
        self._watcher = watcher  # made before the first build, so no save is ever missed

    def inject(self, page: bytes) -> bytes:
        at = page.rfind(b"</body>")
        return page[:at] + self.script + page[at:] if at >= 0 else page + self.script

    def application(self) -> web.Application:
        LiveReloadHandler.watcher = get_watcher_class()()  # it logs watcher.filepath when reloading
        LiveReloadHandler.live_css = False
        return web.Application([
            (r"/livereload", _ReloadHandler),
            (r"/livereload.js", LiveReloadJSHandler),
            (r"/(.*)", _Handler, {"server": self}),
        ])

    async def ready(self, raw_path: str) -> None:
        """Wait until the file this request asks for is up to date."""
        while True:
            await self.idle.wait()  # requests wait while a build runs...
            if not (self.pending and self._file_of(raw_path) in self.pending):
                return
            await self.settled.wait()  # ...or, once its first pages are out, for the rest

    def _file_of(self, raw_path: str) -> str:
        rel = ("/" + unquote(raw_path))[len(self.preview.base_path):]
        return rel + "index.html" if rel == "" or rel.endswith("/") else rel

    def _set_idle(self, idle: bool) -> None:
        assert self.loop is not None

        def apply() -> None:
            if idle:
                self.pending = frozenset()
                self.settled.set()
                self.idle.set()
            else:
                self.settled.clear()
                self.idle.clear()

        self.loop.add_callback(apply)

    def _first_pages_out(self, pending: Container[str]) -> None:
        """The edited page is written: serve it (and reload the browser) while the rest renders."""
        assert self.loop is not None

        def apply() -> None:
            self.pending = pending
            self.idle.set()

        self.loop.add_callback(apply)
        if not self._reloaded:  # (a build may narrow what is still to come: it reloads once)
            self._reload()
            self._reloaded = True

    def _reload(self) -> None:
        assert self.loop is not None
        self.loop.add_callback(LiveReloadHandler.reload_waiters, "*")

    def _watch_loop(self) -> None:
        try:
            while not self._stop.is_set():
                changed = self._watcher.wait(timeout=0.5)
                if not changed or self._stop.is_set():
                    continue
                self._set_idle(False)
                self._reloaded = False
                try:
                    self.preview.rebuild(changed, early=self._first_pages_out)
                except Exception as exc:  # never let the watch thread die: the next save tries again
                    self.preview._say(f"internal error while rebuilding: {type(exc).__name__}: {one_line(str(exc))}")
                finally:
                    self._set_idle(True)
                if not self._reloaded:
                    self._reload()
        finally:
            self._watcher.close()

    def run(self, on_ready: Callable[[], None] | None = None) -> None:
        quiet_libraries()
        self.loop = ioloop.IOLoop.current()
        http = httpserver.HTTPServer(self.application())
        http.add_sockets(self.sockets)
        self.idle.set()
        self.settled.set()
        thread = threading.Thread(target=self._watch_loop, name="briefing-watch", daemon=True)
        thread.start()
        if on_ready:
            self.loop.add_callback(on_ready)
        # Our own handlers, through asyncio so that the loop wakes whichever thread the
        # signal lands on; and a process started in the background inherits SIGINT as
        # *ignored*, where Ctrl-C (or a supervisor's SIGINT/SIGTERM) would do nothing.
        asyncio_loop = getattr(self.loop, "asyncio_loop", None)
        for sig in (signal.SIGINT, signal.SIGTERM):
            if asyncio_loop is not None:
                asyncio_loop.add_signal_handler(sig, self.loop.stop)
            else:  # pragma: no cover - tornado always runs on asyncio today
                signal.signal(sig, lambda *_: self.stop())
        try:
            self.loop.start()
        finally:
            self._stop.set()
            http.stop()
            thread.join(timeout=2)

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.add_callback(self.loop.stop)


def prepare(site: Path, host: str, port: int, port_given: bool, drafts: bool, output: Path | None,
            log: Callable[[str], None]) -> PreviewServer:
    """Bind the port, make the output folder and run the first build (errors are shown, not fatal)."""
    site = site.resolve()  # the watcher reports paths below it, and the fast path compares them
    sockets, actual = bind(host, port, port_given)
    config = load_config(site, Diagnostics())
    base_path = urlsplit(normalise_base_url(config.base_url)).path or "/"
    shown_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown_host}:{actual}{base_path}"
    out = output or Path(tempfile.mkdtemp(prefix="briefing-serve-")) / "site"
    preview = Preview(site, out, base_path, base_url, drafts, log)
    folders = [site / "content", site / "layouts"] + [site / w for w in config.watch]
    watcher = Watcher(folders, [site / CONFIG_FILE])  # before the first build: no save is missed
    preview.rebuild()
    return PreviewServer(preview, sockets, actual, host, watcher)


def cleanup(server: PreviewServer, owned_output: bool) -> None:
    if owned_output:
        shutil.rmtree(server.preview.output.parent, ignore_errors=True)
