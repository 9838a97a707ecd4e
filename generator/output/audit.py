"""Checks on a finished build, for `briefing check` and `briefing build --strict`.

Two kinds of problems, both as Diagnostics:
- output errors: links, `#anchors`, images and other files that the rendered
  pages point at but the site does not have. They are found in the pages
  themselves, so they cover Markdown links, raw HTML, `[[links]]` and template
  links alike. Each is reported at the line of the source document that writes
  the link when there is one, else at the line of the output file.
- warnings: profiles that nothing uses, documents tagged with no actor and no
  place, dates later than today, and a `base_url` too partial for feeds.

The pages are scanned with a regular expression, not an HTML parser: they are
our own escaped output (text never holds a raw `<` or `"`), and a full parse of
10,000 pages would cost more than the build.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection, Iterator, Mapping
from urllib.parse import quote, unquote, urljoin, urlsplit

from generator.content.config import SiteConfig
from generator.diagnostics import Diagnostic
from generator.content.markdown import HEADING_ID_PREFIX
from generator.content.model import Document, Entity, Site
from generator.content.text import slugify
from generator.site.urls import Urls, output_file, page_path

_PLACEHOLDER_ORIGIN = "https://site.invalid"  # resolves links when base_url is a bare path

# A comment, a script or style element (skipped whole), or a start tag with its attributes.
_MARKUP = re.compile(
    r"<!--.*?-->|<(script|style)\b([^>]*)>.*?</\1\s*>|<([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^>]*)?)>",
    re.S | re.I,
)
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_URL_ATTRIBUTES = {"href", "src", "poster", "srcset", "action", "formaction", "xlink:href"}
_FILE_TAGS = {"img", "source", "video", "audio", "track", "script", "link", "iframe", "embed"}
_XML_URL = re.compile(r"<loc>([^<]*)</loc>|<link\b[^>]*?\bhref=\"([^\"]*)\"")
_WIKI_ANCHOR = re.compile(r"\[\[([^\[\]|#\n]*)#([^\[\]|\n]+)(?:\|[^\[\]\n]*)?\]\]")


@dataclass(frozen=True)
class Found:
    """A URL in an output page, where it is written."""

    page: str  # site path of the page
    offset: int  # character offset in the page text
    tag: str
    attribute: str
    url: str  # as the browser reads it: entities decoded


def audit(site: Site, pages: Mapping[str, bytes], files: Collection[str], config: SiteConfig,
          today: dt.date) -> list[Diagnostic]:
    """Every output error and content warning of one build, sorted.

    `pages` maps site paths to rendered bytes; `files` are the output paths of
    copied files (theme and content assets).
    """
    problems = output_problems(site, pages, files, Urls(config.base_url), config.root, config.output_dir)
    return sorted(set(problems + content_warnings(site, today) + config_warnings(config)))


def audit_written(site: Site, pages: Mapping[str, bytes], config: SiteConfig, output_dir: Path,
                  today: dt.date) -> list[Diagnostic]:
    """`audit` of a build written to `output_dir`: the files it links to are those the folder holds."""
    pages_at = {output_file(p) for p in pages}
    files = [p.relative_to(output_dir).as_posix() for p in output_dir.rglob("*")
             if p.is_file() and p.relative_to(output_dir).as_posix() not in pages_at]
    return audit(site, pages, files, config, today)


def config_warnings(config: SiteConfig) -> list[Diagnostic]:
    """Feeds and sitemaps need absolute URLs, which a path-only `base_url` cannot give."""
    if Urls(config.base_url).origin:
        return []
    path = config.root / "site.yml"
    text = path.read_text("utf-8", errors="replace") if path.is_file() else ""
    line = next((i for i, l in enumerate(text.splitlines(), 1) if l.startswith("base_url:")), 0)
    return [Diagnostic("site.yml", line, "warning",
                       f"`base_url` {config.base_url} is a path, not a full address: the Atom feeds and sitemap.xml "
                       "need absolute URLs (https://user.github.io/repo/), or readers and search engines reject them")]


# --------------------------------------------------------------------------- content warnings


def content_warnings(site: Site, today: dt.date) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for doc in site.documents.values():
        if not doc.actor_names and not doc.place_names:
            line = doc.lines.get("actors") or doc.lines.get("places") or doc.lines.get("title", 1)
            out.append(Diagnostic(doc.path, line, "warning",
                                  "tagged with no actor and no place: the document appears on no actor or place page"))
        out.extend(_future_dates(doc, today))
    held_back = " (documents held back from this build do not count)" if site.held_back else ""
    for entity in site.entities.values():
        if entity.has_profile and not _is_used(site, entity):
            out.append(Diagnostic(
                entity.path, entity.lines.get("title", 1), "warning",
                f"orphan profile: no published document is tagged with `{entity.title}` or links to it, "
                f"and no other profile points at it{held_back}",
            ))
    return out


def unprofiled_tags(site: Site, limit: int = 10) -> str:
    """The publish audit's note on the tags that made pages with no profile ('' when none): the
    most used first. A note, not a warning: a tag needs no profile (one close to a profile's
    name is a warning of the build: generator/site/names.py)."""
    tags = sorted((e for e in site.entities.values() if not e.has_profile),
                  key=lambda e: (-len(site.tagged.get(e.ref, ())), e.title.casefold(), e.ref))
    if not tags:
        return ""
    shown = ", ".join(e.title for e in tags[:limit]) + (f" and {len(tags) - limit} more" if len(tags) > limit else "")
    return f"{len(tags)} tag{'s' if len(tags) != 1 else ''} made pages with no profile: {shown}"


def _future_dates(doc: Document, today: dt.date) -> Iterator[Diagnostic]:
    dates = [("date", doc.date, "date"), ("updated", doc.updated, "updated")]
    if doc.source is not None:
        dates.append(("source.date", doc.source.date, "source"))
    for name, value, key in dates:
        if value is not None and value > today:
            yield Diagnostic(doc.path, doc.lines.get(key, 1), "warning",
                             f"`{name}` {value.isoformat()} is in the future (today is {today.isoformat()})")


def _is_used(site: Site, entity: Entity) -> bool:
    ref = entity.ref
    return bool(
        site.tagged.get(ref)
        or site.mentions.get(ref)
        or site.children.get(ref)
        or any(ref in targets for targets in site.affiliations.values())
    )


def today_from(environ: Mapping[str, str]) -> dt.date:
    """Today's date, or the date of `SOURCE_DATE_EPOCH` (seconds) when it is set, in UTC."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()
    return dt.datetime.now(dt.timezone.utc).date()


# --------------------------------------------------------------------------- output problems


def output_problems(
    site: Site, pages: Mapping[str, bytes], files: Collection[str], urls: Urls, root: Path, output_dir: Path
) -> list[Diagnostic]:
    """Broken links, anchors and files in the rendered pages."""
    texts = {path: data.decode("utf-8", "replace") for path, data in pages.items()
             if output_file(path).endswith((".html", ".xml"))}
    existing = {output_file(p) for p in pages} | set(files)
    found_in: dict[str, list[Found]] = {}
    ids: dict[str, set[str]] = {}
    for page, text in texts.items():
        if output_file(page).endswith(".xml"):
            found_in[page], ids[page] = list(_xml_urls(page, text)), set()
        else:
            found_in[page], ids[page] = _scan_html(page, text)

    origin = urls.origin or _PLACEHOLDER_ORIGIN
    locate = _Locator(site, root, urls.base_path)
    template_problems: dict[str, list[tuple[str, int]]] = defaultdict(list)
    checked: dict[tuple[str, str, str, str], str | None] = {}
    out: list[Diagnostic] = []
    for page in sorted(texts):
        for found in found_in[page]:
            # Most URLs (navigation, tags) repeat on every page: check each once unless it is relative.
            independent = found.url.startswith(("/", "http:", "https:")) and not found.url.startswith("//")
            key = ("" if independent else page, found.tag, found.attribute, found.url)
            if key not in checked:
                checked[key] = _check(found, origin, urls.base_path, existing, lambda p: ids.get(p, set()))
            message = checked[key]
            if message is None:
                continue
            where = locate(page, found)
            if where is not None:
                out.append(Diagnostic(where[0], where[1], "error", message))
            else:  # written by a template: report once, at the first page that shows it
                template_problems[message].append((page, texts[page].count("\n", 0, found.offset) + 1))
    for message, places in template_problems.items():
        page, line = min(places)
        more = f" (and on {len(places) - 1} more page{'s' if len(places) > 2 else ''})" if len(places) > 1 else ""
        out.append(Diagnostic(_output_rel(output_dir, root, page), line, "error", message + more))
    out.extend(_xml_errors(texts, output_dir, root))
    return out


def _scan_html(page: str, text: str) -> tuple[list[Found], set[str]]:
    """The URLs a page points at, and the ids it defines."""
    urls: list[Found] = []
    ids: set[str] = set()
    for match in _MARKUP.finditer(text):
        group = 1 if match.group(1) else 3  # a script or style element, or any other start tag
        tag, attributes = match.group(group), match.group(group + 1)
        if not tag or not attributes or "=" not in attributes:
            continue
        for attr in _ATTRIBUTE.finditer(attributes):
            name = attr.group(1).lower()
            is_url = name in _URL_ATTRIBUTES
            if not is_url and name != "id" and name != "name":
                continue
            value = next(v for v in attr.group(2, 3, 4) if v is not None)
            value = html.unescape(value) if "&" in value else value
            if not is_url:
                if name == "id" or tag.lower() == "a":
                    ids.add(value)
                continue
            offset = match.start(group + 1) + attr.start()
            candidates = [c.split()[0] for c in value.split(",") if c.strip()] if name == "srcset" else [value]
            urls.extend(Found(page, offset, tag.lower(), name, url.strip()) for url in candidates)
    return urls, ids


def _xml_urls(page: str, text: str) -> Iterator[Found]:
    for match in _XML_URL.finditer(text):
        loc, href = match.group(1), match.group(2)
        yield Found(page, match.start(), "loc" if loc is not None else "link", "href", html.unescape(loc or href or "").strip())


def _check(
    found: Found, origin: str, base_path: str, existing: set[str], ids_of: Callable[[str], set[str]]
) -> str | None:
    """A message when `found` points at something the site does not have; None when fine or external."""
    raw = found.url
    if not raw:
        return f"empty `{found.attribute}` on <{found.tag}>" if found.tag in ("a", "img", "loc") else None
    if found.page == "404.html" and not raw.startswith(("/", "#")) and ":" not in raw.split("/", 1)[0]:
        return f"relative link `{raw}` on 404.html: the page is served at any depth, so it must be root-relative"
    try:
        page_url = origin + quote(base_path + found.page, safe="/%:@!$&'()*+,;=~-._")
        absolute = urlsplit(urljoin(page_url, raw))
        site = urlsplit(origin)
    except ValueError:
        return f"malformed URL `{raw}`"
    if absolute.scheme not in ("http", "https") or absolute.netloc.lower() != site.netloc.lower():
        return None  # another site, mailto:, data: ...: not ours to check
    path = unquote(absolute.path)
    if not (path + "/").startswith(base_path):
        return f"link `{raw}` leaves the site's base path {base_path}"
    rest = path[len(base_path):]
    target = _target_page(rest, existing)
    if target is None:
        if found.tag in ("img", "source") or found.attribute == "poster":
            return f"missing image `{raw}`: no file at /{rest} (content/{rest} would be copied there)"
        if found.tag in _FILE_TAGS:
            return f"missing file `{raw}`: no file at /{rest}"
        return f"broken link `{raw}`: no page at /{rest}"
    fragment = unquote(absolute.fragment)
    if fragment and fragment != "top" and target.endswith(".html") and fragment not in ids_of(_site_path_of(target)):
        return f"broken anchor `{raw}`: /{_site_path_of(target)} has no element with id `{fragment}`"
    return None


def _target_page(rest: str, existing: set[str]) -> str | None:
    """The output file a site path is served from, like a static host would choose it."""
    if rest == "" or rest.endswith("/"):
        candidates = [rest + "index.html"]
    else:
        candidates = [rest, rest + "/index.html"]  # a folder without its slash redirects
    return next((c for c in candidates if c in existing), None)


def _site_path_of(output: str) -> str:
    if output == "index.html":
        return ""
    return output[: -len("index.html")] if output.endswith("/index.html") else output


def _xml_errors(texts: Mapping[str, str], output_dir: Path, root: Path) -> Iterator[Diagnostic]:
    for page, text in texts.items():
        if not output_file(page).endswith(".xml"):
            continue
        try:
            ET.fromstring(text.encode("utf-8"))
        except ET.ParseError as exc:
            line = exc.position[0] if exc.position else 0
            yield Diagnostic(_output_rel(output_dir, root, page), line, "error", f"not well-formed XML: {exc}")


def _output_rel(output_dir: Path, root: Path, page: str) -> str:
    """The output file of a page, relative to the site folder when it is inside it."""
    path = output_dir / output_file(page)
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


class _Locator:
    """Finds the source line that writes a URL found on a document's or profile's page."""

    def __init__(self, site: Site, root: Path, base_path: str):
        self.root, self.base_path = root, base_path
        self.sources: dict[str, Document | Entity] = {}
        for item in [*site.documents.values(), *site.entities.values()]:
            if item.path:
                self.sources[page_path(item.ref)] = item
        self.bodies: dict[str, list[str]] = {}
        self._found: dict[tuple[str, str], tuple[str, int] | None] = {}

    def __call__(self, page: str, found: Found) -> tuple[str, int] | None:
        key = (page, found.url)  # a URL a page repeats is looked for once
        if key not in self._found:
            self._found[key] = self._locate(page, found.url)
        return self._found[key]

    def _locate(self, page: str, url: str) -> tuple[str, int] | None:
        item = self.sources.get(page)
        if item is None:
            return None
        for i, line in enumerate(self._body(item)):
            if _writes(line, url, self.base_path):
                return item.path, item.body_line + i
        return None

    def _body(self, item: Document | Entity) -> list[str]:
        if item.path not in self.bodies:
            try:
                text = (self.root / item.path).read_text("utf-8-sig", errors="replace")
            except OSError:
                text = ""
            lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            self.bodies[item.path] = lines[max(item.body_line - 1, 0):]
        return self.bodies[item.path]


def _writes(line: str, url: str, base_path: str) -> bool:
    """Does this source line write `url`, as a Markdown or HTML link or as a `[[name#anchor]]`?"""
    candidates = {url}
    if url.startswith(base_path) and base_path != "/":
        candidates.add("/" + url[len(base_path):])  # Markdown's `/x` is written out as `/base/x`
    candidates |= {unquote(c) for c in candidates}
    decoded = unquote(line)
    for c in candidates:
        if any(f"{before}{c}" in text for before in ("(", '"', "'", "<", "]: ") for text in (line, decoded)):
            return True
    fragment = url.partition("#")[2]
    if fragment:
        for match in _WIKI_ANCHOR.finditer(line):
            anchor = match.group(2).strip()
            if fragment in (anchor, HEADING_ID_PREFIX + slugify(anchor)):
                return True
    return False
