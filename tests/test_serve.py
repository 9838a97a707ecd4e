"""`briefing serve` as a real process, over real HTTP, and in a real browser."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import pytest

from conftest import BASIC, REPO, read_tree, write_site
from generator.engine.build import build

ARTICLE = "content/articles/drone-attack.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, site: Path, *args: str):
        self.site = site
        self.output = site.parent / "preview-out"
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "generator", "serve", "--site", str(site), "--port", str(self.port),
             "--output", str(self.output), *args],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, k=sink: [k.append(line) for line in s], daemon=True).start()
        self.base = f"http://127.0.0.1:{self.port}/repo/"
        wait_for(lambda: any("serving" in line for line in self.out), f"server start: {self.err}")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def rebuilds(self) -> int:
        return sum(1 for line in self.err if "rebuilt in" in line or "build failed in" in line)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        return self.proc.returncode


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    site = write_site(tmp_path / "site", BASIC)
    server = Served(site)
    yield server
    server.stop()


def test_serves_under_the_base_path_and_redirects_root(served: Served) -> None:
    status, body = served.get("")
    assert status == 200 and "Drone attack on Ain al-Asad" in body
    assert "/livereload.js?port=" in body
    with urllib.request.urlopen(f"http://127.0.0.1:{served.port}/", timeout=10) as response:
        assert response.url == served.base  # followed the redirect
    assert served.get("actors/kataib-hezbollah/")[0] == 200
    status, body = served.get("no/such/page/")
    assert status == 404 and "Page not found" in body
    status, _ = served.get("../../etc/passwd")
    assert status == 404


def test_edit_is_served_and_only_dependent_files_change(served: Served) -> None:
    before = snapshot(served.output)
    content_before = snapshot(served.site / "content")
    article = served.site / ARTICLE
    article.write_text(article.read_text().replace("was blamed", "was named as the attacker"))
    wait_for(lambda: "was named as the attacker" in served.get("articles/drone-attack/")[1], "the edit to be served")
    # the edited page is served first; the rest of the rebuild ends with its log line
    wait_for(lambda: any("rebuilt in" in line and "(articles/drone-attack.md)" in line for line in served.err),
             "the rebuild to end")
    after = snapshot(served.output)
    changed = sorted(k for k in after if before.get(k) != after[k])
    # the body changed, not the title: its page, the feed that carries bodies and the
    # search index's files of its words and its snippet (when the site has one), nothing else
    assert {"articles/drone-attack/index.html", "feed.xml"} <= set(changed), changed
    searched = {k for k in changed if k.startswith("search/")}
    assert all(re.fullmatch(r"search/(terms|docs)-\d+\.json", k) for k in searched) and len(searched) <= 4, changed
    assert set(changed) - searched <= {"articles/drone-attack/index.html", "feed.xml"}, changed
    # what the preview's fast path wrote is exactly what a cold build makes
    cold = served.site.parent / "cold"
    assert build(served.site, output=cold, base_url=served.base.replace("/repo/", "/repo/"), use_cache=False).ok
    assert read_tree(cold) == \
        read_tree(served.output)
    content_after = snapshot(served.site / "content")  # nothing written into content/ but the edit
    assert sorted(k for k in content_after if content_before.get(k) != content_after[k]) == ["articles/drone-attack.md"]
    assert any("rebuilt in" in line and "(articles/drone-attack.md)" in line for line in served.err), served.err


def test_title_edit_reaches_every_page_that_shows_it(served: Served) -> None:
    before = snapshot(served.output)
    note = served.site / "content/notes/assessment.md"
    note.write_text(note.read_text().replace("title: Escalation assessment", "title: Escalation, reassessed"))
    wait_for(lambda: "Escalation, reassessed" in served.get("notes/assessment/")[1], "the new title")
    # one request each, no polling: pages still being rendered are held until they are fresh
    for path in ("", "actors/kataib-hezbollah/", "places/green-zone/", "timeline/", "notes/", "feed.xml"):
        status, body = served.get(path)
        assert status == 200 and "Escalation, reassessed" in body and "Escalation assessment" not in body, path
    after = snapshot(served.output)
    changed = {k for k in after if before.get(k) != after[k]}
    assert "articles/drone-attack/index.html" in changed  # it lists the note as related
    assert "places/baghdad/index.html" not in changed  # it does not show the note
    cold = served.site.parent / "cold"
    assert build(served.site, output=cold, base_url=served.base, use_cache=False).ok
    assert read_tree(cold) == \
        read_tree(served.output)


def test_broken_document_shows_error_page_then_recovers(served: Served) -> None:
    article = served.site / ARTICLE
    good = article.read_text()
    article.write_text(good.replace("actors: [KH, Islamic Resistance in Iraq]", "actors: [KH, Islamic"))
    wait_for(lambda: served.get("")[0] == 500, "the error page")
    status, body = served.get("articles/drone-attack/")
    assert status == 500 and f"{ARTICLE}:6" in body and "invalid YAML" in body
    assert "/livereload.js" in body  # the error page reloads too, when the file is fixed
    assert served.proc.poll() is None
    article.write_text(good.replace("was blamed", "was blamed again"))
    wait_for(lambda: "was blamed again" in served.get("articles/drone-attack/")[1], "the site to come back")
    (served.site / "content/notes/assessment.md").write_text("---\ntitle: x\ndate: 2023-10-20\n---\n[[Nowhere]]\n")
    wait_for(lambda: "[[Nowhere]]" in served.get("")[1], "the broken-link error")
    (served.site / "layouts").mkdir()
    (served.site / "layouts/footer.html").write_text("{% if %}\n")
    (served.site / "content/notes/assessment.md").write_text("---\ntitle: x\ndate: 2023-10-20\n---\nfine\n")
    wait_for(lambda: "layouts/footer.html:1" in served.get("")[1], "the template error")
    (served.site / "layouts/footer.html").write_text("<p>fixed footer</p>\n")
    wait_for(lambda: "fixed footer" in served.get("")[1], "the fixed template")
    assert served.proc.poll() is None


REBUILT_LINE = re.compile(r"\d\d:\d\d:\d\d rebuilt in \d+ ms: \d+ pages rendered, \d+ written \(articles/drone-attack\.md\)\n")


class Reloads:
    """A LiveReload client over a real WebSocket, as the browser's script is: the reloads it is sent."""

    def __init__(self, port: int):
        from tornado.websocket import websocket_connect

        self.messages: list[dict] = []
        self.loop = asyncio.new_event_loop()
        self.conn = None
        self.connected = threading.Event()

        async def listen() -> None:
            self.conn = await websocket_connect(f"ws://127.0.0.1:{port}/livereload")
            for message in ({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]},
                            {"command": "info", "url": f"http://127.0.0.1:{port}/repo/"},
                            {"command": "hello", "protocols": []}):
                await self.conn.write_message(json.dumps(message))
            hellos = 0
            while (raw := await self.conn.read_message()) is not None:
                message = json.loads(raw)
                if message.get("command") == "hello":
                    hellos += 1  # the second answers the hello sent after `info`: we are a waiter
                    if hellos == 2:
                        self.connected.set()
                else:
                    self.messages.append(message)

        self.thread = threading.Thread(target=lambda: self.loop.run_until_complete(listen()), daemon=True)
        self.thread.start()
        if not self.connected.wait(10):
            raise AssertionError("the LiveReload handshake did not finish")

    def reloads(self) -> int:
        return sum(1 for m in self.messages if m.get("command") == "reload")

    def close(self) -> None:
        if self.conn is not None:
            self.loop.call_soon_threadsafe(self.conn.close)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()


def test_terminal_shows_one_line_per_rebuild_and_no_request_log(served: Served) -> None:
    reloads = Reloads(served.port)
    try:
        assert served.get("")[0] == 200 and served.get("no/such/page/")[0] == 404
        out_before, err_before, builds = len(served.out), len(served.err), served.rebuilds()
        article = served.site / ARTICLE
        good = article.read_text()
        article.write_text(good.replace("was blamed", "was blamed, first"))
        wait_for(lambda: served.rebuilds() >= builds + 1, "the first rebuild")
        # requests of every kind (a page, a 404, a redirect, the script) and a reload sent to a waiter
        wait_for(lambda: reloads.reloads() >= 1, "the reload message")
        for path in ("articles/drone-attack/", "no/such/page/", "../../etc/passwd", "feed.xml"):
            served.get(path)
        urllib.request.urlopen(f"http://127.0.0.1:{served.port}/livereload.js", timeout=10).read()
        urllib.request.urlopen(f"http://127.0.0.1:{served.port}/", timeout=10).read()
        article.write_text(good.replace("was blamed", "was blamed, second"))
        wait_for(lambda: served.rebuilds() >= builds + 2, "the second rebuild")
        # stderr is written in order: whatever the requests logged came before the second rebuild's line
        new = served.err[err_before:]
        assert len(new) == served.rebuilds() - builds and all(REBUILT_LINE.fullmatch(line) for line in new), new
        assert served.out[out_before:] == [] and sum("serving http" in line for line in served.out) == 1
    finally:
        reloads.close()


def test_error_page_shows_the_offending_lines_escaped_and_reloads_when_fixed(served: Served) -> None:
    reloads = Reloads(served.port)
    try:
        article = served.site / ARTICLE
        good = article.read_text()
        article.write_text(good.replace("summary: Two drones targeted the base.",
                                        'summary: <b>Two</b> drones & "more": targeted'))
        wait_for(lambda: served.get("")[0] == 500, "the error page")
        status, body = served.get("articles/drone-attack/")
        assert status == 500 and "/livereload.js" in body
        assert f"{ARTICLE}:4" in body and "invalid YAML: mapping values are not allowed" in body
        escaped = "summary: &lt;b&gt;Two&lt;/b&gt; drones &amp; &quot;more&quot;: targeted"
        assert "<b>Two</b>" not in body
        # the error line, marked, with its number, and two lines either side
        problem = body[body.index(f"{ARTICLE}:4"):]
        problem = problem[:problem.index("</li>")]
        lines = re.findall(r'<span class="line( hit)?"[^>]*><span class="ln">(?:&gt;| ) +(\d+)</span> (.*?)</span>', problem)
        assert [(bool(hit), int(n)) for hit, n, _ in lines] == [(False, 2), (False, 3), (True, 4), (False, 5), (False, 6)]
        assert lines[2][2] == escaped and lines[0][2] == "title: Drone attack on Ain al-Asad"
        assert not re.search(r'(src|href)="(https?:)?//|@import|url\(', body)  # nothing from elsewhere
        # the terminal: one line for the failed build, then one per error, each naming file:line
        wait_for(lambda: any("build failed in" in line for line in served.err), "the failure line")
        failed_at = next(i for i, line in enumerate(served.err) if "build failed in" in line)
        assert re.fullmatch(r"\d\d:\d\d:\d\d build failed in \d+ ms \(articles/drone-attack\.md\): 2 errors; "
                            r"the browser shows them\n", served.err[failed_at])
        reloaded = reloads.reloads()
        article.write_text(good)
        wait_for(lambda: reloads.reloads() > reloaded, "the error page to be told to reload")
        status, body = served.get("articles/drone-attack/")
        assert status == 200 and "Two drones targeted the base." in body and "Build failed" not in body
        wait_for(lambda: any("rebuilt in" in line for line in served.err[failed_at:]), "the rebuild line")
        after = served.err[failed_at + 1:]
        errors = after[:next(i for i, line in enumerate(after) if not line.startswith("  "))]
        assert [re.match(r"  (\S+:\d+): error: ", line)[1] for line in errors] == \
            [f"{ARTICLE}:4", "content/notes/assessment.md:9"], errors
        assert served.proc.poll() is None
    finally:
        reloads.close()


def test_a_burst_of_saves_is_one_rebuild(served: Served) -> None:
    start = served.rebuilds()
    for i in range(60):
        (served.site / f"content/articles/burst-{i}.md").write_text(f"---\ntitle: Burst {i}\ndate: 2023-11-01\n---\nx\n")
    (served.site / "content/articles/.burst.md.swp").write_bytes(b"\x00swap")
    wait_for(lambda: "Burst 59" in served.get("articles/")[1], "the burst to be served")
    time.sleep(0.5)
    assert served.rebuilds() - start <= 2, served.err  # one, or two if the burst straddled a build


def test_drafts_only_with_the_flag(tmp_path: Path) -> None:
    files = {**BASIC, "content/notes/wip.md": "---\ntitle: Work in progress\ndate: 2023-11-01\ndraft: true\n---\nSoon.\n"}
    site = write_site(tmp_path / "site", files)
    plain = Served(site)
    try:
        assert plain.get("notes/wip/")[0] == 404 and "Work in progress" not in plain.get("")[1]
    finally:
        plain.stop()
    shown = Served(site, "--drafts")
    try:
        status, body = shown.get("notes/wip/")
        assert status == 200 and "draft-badge" in body
    finally:
        shown.stop()


def test_port_in_use(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", BASIC)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "generator", "serve", "--site", str(site), "--port", str(port)],
                              cwd=REPO, capture_output=True, text=True, timeout=30)
        assert proc.returncode == 2 and f"port {port} on 127.0.0.1 is in use" in proc.stderr
        assert "Traceback" not in proc.stderr
        (site / "site.yml").write_text(f"title: T\nbase_url: /repo/\nserve:\n  port: {port}\n")
        auto = subprocess.Popen([sys.executable, "-m", "generator", "serve", "--site", str(site)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = auto.stdout.readline()  # type: ignore[union-attr]
            assert line.startswith("serving http://127.0.0.1:") and f":{port}/" not in line
        finally:
            auto.send_signal(signal.SIGINT)
            _, err = auto.communicate(timeout=10)
    assert auto.returncode == 0 and "Traceback" not in err and f"port {port} is in use; using" in err


def test_ctrl_c_exits_cleanly(served: Served) -> None:
    assert served.stop() == 0
    assert not any("Traceback" in line for line in served.err), served.err


def test_browser_reloads_by_itself(served: Served, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(served.base + "articles/drone-attack/")
    page.wait_for_function("() => window.LiveReload !== undefined", timeout=10000)
    time.sleep(0.3)  # let the WebSocket handshake finish
    article = served.site / ARTICLE
    article.write_text(article.read_text().replace("was blamed", "was blamed, a browser reload shows"))
    page.wait_for_function("() => document.body.innerText.includes('a browser reload shows')", timeout=15000)
    page.close()
