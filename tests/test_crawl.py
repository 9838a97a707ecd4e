"""Base path correctness: serve the built sample site where GitHub Pages would and crawl it.

Every href/src in every page, every sitemap entry and every Atom link (including the
links inside entry content) is followed over real HTTP; absolute URLs on the site's own
host are translated to the local server. Zero broken links, every page reached.
"""

from __future__ import annotations
import json

import shutil
import subprocess
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from conftest import REPO, read_tree
from generator.engine.build import build
from generator.commands.deploy import deploy
from generator.pages import search
from support import static_server

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NOT_PAGES = {".briefing", ".nojekyll", "CNAME", "404.html"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("href", "src"):
                self.links.append(value)
            elif name == "srcset":
                self.links += [part.split()[0] for part in value.split(",") if part.strip()]
            elif name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)


def html_links(text: str) -> tuple[list[str], set[str]]:
    page = _Page()
    page.feed(text)
    return page.links, page.ids


def xml_links(data: bytes, url: str) -> list[str]:
    """Sitemap <loc>s, Atom link hrefs, and the links inside Atom entry content (against xml:base)."""
    root = ET.fromstring(data)
    links = [loc.text.strip() for loc in root.iter(f"{SITEMAP}loc") if loc.text]
    links += [link.attrib["href"] for link in root.iter(f"{ATOM}link")]
    for content in root.iter(f"{ATOM}content"):
        base = content.attrib.get("{http://www.w3.org/XML/1998/namespace}base", url)
        links += [urljoin(base, href) for href in html_links(content.text or "")[0]]
    return links


@dataclass
class Crawl:
    reached: set[str] = field(default_factory=set)  # paths on the local server
    broken: list[str] = field(default_factory=list)
    ids: dict[str, set[str]] = field(default_factory=dict)
    fragments: list[tuple[str, str, str]] = field(default_factory=list)  # (from page, target path, id)


def crawl(local: str, published: str, start: list[str]) -> Crawl:
    """Follow every internal link from `start` (local URLs); `published` is the site's base_url."""
    local_base, pub = urlsplit(local), urlsplit(published)
    result = Crawl()
    queue, seen = list(start), set(start)
    while queue:
        url = queue.pop()
        path = urlsplit(url).path
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                data, kind = response.read(), response.headers.get_content_type()
                final = response.geturl()
        except urllib.error.HTTPError as exc:
            if exc.code != 404 or not url.endswith("/__missing__/"):
                result.broken.append(f"{url}: HTTP {exc.code}")
                continue
            data, kind, final = exc.read(), "text/html", url  # the 404 page: its links must work too
        result.reached.add(path)
        if kind == "text/html":
            links, ids = html_links(data.decode("utf-8"))
            result.ids[urlsplit(final).path] = ids
        elif kind in ("application/xml", "text/xml", "application/atom+xml") or path.endswith(".xml"):
            links = xml_links(data, published.rstrip("/") + path[len(local_base.path.rstrip("/")):])
        elif path.endswith("/search/index.json"):  # search.js fetches the files it names
            links = search.file_names(json.loads(data))
        else:
            continue
        for link in links:
            target, fragment = urldefrag(urljoin(final, link))
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https"):
                continue  # mailto: and the like
            if parts.netloc == pub.netloc and parts.scheme == pub.scheme:  # the published host: translate
                if not parts.path.startswith(pub.path):
                    result.broken.append(f"{url}: {link} is outside the base path {pub.path}")
                    continue
                target = f"{local_base.scheme}://{local_base.netloc}{local_base.path}{parts.path[len(pub.path):]}"
            elif parts.netloc != local_base.netloc:
                continue  # another site
            elif not parts.path.startswith(local_base.path):
                result.broken.append(f"{url}: {link} is outside the base path {local_base.path}")
                continue
            if fragment:
                result.fragments.append((url, urlsplit(target).path, fragment))
            if target not in seen:
                seen.add(target)
                queue.append(target)
    for source, target, fragment in result.fragments:
        if fragment not in result.ids.get(target, set()):
            result.broken.append(f"{source}: #{fragment} does not exist on {target}")
    return result


def expected_paths(output: Path, prefix: str) -> set[str]:
    """Every page, feed and asset of the output as a URL path under `prefix`."""
    paths = set()
    for rel in read_tree(output):
        if rel in NOT_PAGES:
            continue
        paths.add(prefix + (rel[: -len("index.html")] if rel.endswith("index.html") else rel))
    return paths


def check_site(output: Path, prefix: str, published: str) -> Crawl:
    with static_server(output, prefix) as local:
        # the sitemap is found by convention (robots.txt, search consoles), not through a link
        result = crawl(local, published, [local, local + "sitemap.xml", local + "__missing__/"])
        # GitHub Pages serves 404.html for any miss, at any depth
        with pytest.raises(urllib.error.HTTPError) as miss:
            urllib.request.urlopen(local + "no/such/page/deep/", timeout=10)
        assert miss.value.code == 404 and miss.value.read() == (output / "404.html").read_bytes()
    assert result.broken == [], "\n".join(result.broken)
    unreached = expected_paths(output, prefix) - result.reached
    assert not unreached, f"never reached: {sorted(unreached)}"
    return result


def test_sample_site_under_a_project_path_has_no_broken_link(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = build(REPO, output=out, base_url="https://user.github.io/repo/")
    assert result.ok, "\n".join(map(str, result.diagnostics))
    crawl_result = check_site(out, "/repo/", "https://user.github.io/repo/")
    assert len(crawl_result.reached) > 60  # the sample site, not a stub
    assert "/repo/sitemap.xml" in crawl_result.reached and "/repo/feed.xml" in crawl_result.reached
    assert crawl_result.fragments  # in-page and heading links were checked too


def test_crawler_finds_a_broken_link(tmp_path: Path) -> None:
    """The crawler itself must be able to fail: a site built for `/` served under /repo/ breaks."""
    out = tmp_path / "site"
    assert build(REPO, output=out, base_url="https://user.github.io/").ok
    with static_server(out, "/repo/") as local:
        result = crawl(local, "https://user.github.io/", [local])
    assert result.broken and all("outside the base path" in b or "HTTP 404" in b for b in result.broken)


def test_custom_domain_deploy_serves_at_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`briefing deploy --cname` builds for https://<domain>/: the deployed tree works served at /."""
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Analyst")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "analyst@example.org")
    site = tmp_path / "desk"
    for name in ("content", "layouts"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, site / name)
    shutil.copyfile(REPO / "site.yml", site / "site.yml")
    for args in (["init", "--quiet", "-b", "main"], ["add", "-A"], ["commit", "--quiet", "-m", "sample"]):
        subprocess.run(["git", *args], cwd=site, check=True)

    result = deploy(site, cname="briefing.example.org", push=False)
    assert result.commit
    tree = tmp_path / "deployed"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", "--format=tar", "gh-pages"], cwd=site, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    assert (tree / "CNAME").read_text() == "briefing.example.org\n"
    crawl_result = check_site(tree, "/", "https://briefing.example.org/")
    assert "/places/" in crawl_result.reached
